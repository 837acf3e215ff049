//! Tags of a site: register, hand over, change, revoke; and the master-key rules of manual
//! 000: "The Tag will become Master Key if the user is a Site Owner … and no user in the KS
//! site can change that directly", it transfers only with the ownership, and a lock stores at
//! most [`MAX_MASTER_KEYS_PER_LOCK`] master-key users.

use keyway_api::lock_rules::{RegisterTagRequest, TagUid, TagView, UpdateTagRequest};
use keyway_api::Role;
use keyway_protocol::PublicKey;
use rusqlite::{Connection, OptionalExtension};

use crate::api::access::role_on_site;
use crate::error::{ApiError, ApiResult};
use crate::roles::{may_manage, may_manage_site, may_view_people};
use crate::store::rows;

/// Master-key users one lock stores (manual 000: "a maximum of 39 Users / Tags").
pub const MAX_MASTER_KEYS_PER_LOCK: i64 = 39;

const TAG_COLUMNS: &str = "SELECT t.tag_uid, t.user_id, t.offline_access OR m.role = 'owner',
    t.master_key OR m.role = 'owner', COALESCE(m.role = 'owner', 0), t.created_at
    FROM tags t LEFT JOIN memberships m ON m.site_id = t.site_id AND m.user_id = t.user_id";

fn tag_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TagView> {
    let uid: i64 = row.get(0)?;
    Ok(TagView {
        tag_id: TagUid(u64::try_from(uid).unwrap_or_default()).to_hex(),
        user_id: row.get(1)?,
        offline_access: row.get::<_, Option<bool>>(2)?.unwrap_or(false),
        master_key: row.get::<_, Option<bool>>(3)?.unwrap_or(false),
        master_key_fixed: row.get(4)?,
        created_at: row.get(5)?,
    })
}

fn stored_uid(uid: TagUid) -> ApiResult<i64> {
    i64::try_from(uid.0).map_err(|_| ApiError::InvalidInput("tag_id is out of range".into()))
}

/// A tag of the site, or 404.
pub fn tag(db: &Connection, site_id: u32, uid: TagUid) -> ApiResult<TagView> {
    db.query_row(
        &format!("{TAG_COLUMNS} WHERE t.site_id = ?1 AND t.tag_uid = ?2"),
        rusqlite::params![site_id, stored_uid(uid)?],
        tag_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no tag {uid} on this site")))
}

/// The site's tags, by id.
pub fn list(db: &Connection, site_id: u32) -> ApiResult<Vec<TagView>> {
    let sql = format!("{TAG_COLUMNS} WHERE t.site_id = ?1 ORDER BY t.tag_uid");
    Ok(rows(db, &sql, [site_id], tag_from_row)?)
}

/// Checks `actor` may hand a tag to `holder` (a member of the site they manage, or the owner
/// themselves).
fn check_holder(db: &Connection, site_id: u32, actor: (u32, Role), holder: u32) -> ApiResult<()> {
    let target = role_on_site(db, site_id, holder)
        .map_err(|_| ApiError::NotFound(format!("no person {holder} on this site")))?;
    let own = actor.0 == holder && actor.1 == Role::Owner;
    if own || may_manage(actor.1, target) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "your role on this site may not give this person a tag".into(),
        ))
    }
}

/// Registers a tag read at an enrolment reader (owner, admins, super users), optionally for a
/// person. A tag id registered anywhere already is a conflict: the site where a tag was
/// registered stays in control of it (manual 002).
pub fn register(
    db: &Connection,
    site_id: u32,
    actor: u32,
    request: &RegisterTagRequest,
    public_key: &PublicKey,
    now: i64,
) -> ApiResult<TagView> {
    let role = role_on_site(db, site_id, actor)?;
    if !may_view_people(role) {
        return Err(ApiError::Forbidden(
            "your role on this site does not allow registering tags".into(),
        ));
    }
    let uid = TagUid::parse(&request.tag_id).ok_or_else(|| {
        ApiError::InvalidInput("tag_id must be the card's UID: 14 hexadecimal digits".into())
    })?;
    if let Some(holder) = request.user_id {
        check_holder(db, site_id, (actor, role), holder)?;
    }
    let inserted = db.execute(
        "INSERT OR IGNORE INTO tags (tag_uid, site_id, public_key, user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            stored_uid(uid)?,
            site_id,
            public_key.as_bytes().as_slice(),
            request.user_id,
            now
        ],
    )?;
    if inserted == 0 {
        return Err(ApiError::Conflict(format!(
            "tag {uid} is already registered"
        )));
    }
    check_master_key_room(db, site_id)?;
    tag(db, site_id, uid)
}

/// Hands a tag over, takes it back, or changes its offline access or master key. The owner's
/// tag stays theirs and a master key while they own the site; a tag that changes hands
/// loses its offline access and master key unless an admin sets them in the same change.
pub fn update(
    db: &Connection,
    site_id: u32,
    actor: u32,
    uid: TagUid,
    change: &UpdateTagRequest,
) -> ApiResult<TagView> {
    let role = role_on_site(db, site_id, actor)?;
    if !may_view_people(role) {
        return Err(ApiError::Forbidden(
            "your role on this site does not allow managing tags".into(),
        ));
    }
    let current = tag(db, site_id, uid)?;
    let moves = change.unassign || change.user_id.is_some_and(|to| Some(to) != current.user_id);
    // A tag that changes hands loses its offline access and master key: only the owner and
    // admins give them, so a handover by a super user cannot pass them on.
    let (offline_now, master_now) = if moves {
        (false, false)
    } else {
        (current.offline_access, current.master_key)
    };
    let rights_change = change
        .offline_access
        .is_some_and(|wanted| wanted != offline_now)
        || change.master_key.is_some_and(|wanted| wanted != master_now);
    if rights_change && !may_manage_site(role) {
        return Err(ApiError::Forbidden(
            "only the site owner and admins may change offline access and master keys".into(),
        ));
    }
    if current.master_key_fixed && (moves || change.master_key == Some(false)) {
        return Err(ApiError::MasterKeyFixed(
            "this tag is the site owner's master key: it moves only with the ownership".into(),
        ));
    }
    if let Some(holder) = current.user_id.filter(|_| moves) {
        check_holder(db, site_id, (actor, role), holder)?;
    }
    if change.unassign && change.user_id.is_some() {
        return Err(ApiError::InvalidInput(
            "give either user_id or unassign, not both".into(),
        ));
    }
    let holder = match (change.unassign, change.user_id) {
        (true, _) => None,
        (false, Some(to)) => {
            check_holder(db, site_id, (actor, role), to)?;
            Some(to)
        }
        (false, None) => current.user_id,
    };
    db.execute(
        "UPDATE tags SET user_id = ?1,
            offline_access = COALESCE(?2, CASE WHEN ?6 THEN 0 ELSE offline_access END),
            master_key = COALESCE(?3, CASE WHEN ?6 THEN 0 ELSE master_key END)
         WHERE site_id = ?4 AND tag_uid = ?5",
        rusqlite::params![
            holder,
            change.offline_access,
            change.master_key,
            site_id,
            stored_uid(uid)?,
            moves
        ],
    )?;
    check_master_key_room(db, site_id)?;
    tag(db, site_id, uid)
}

/// Revokes a tag (it is forgotten; its id may be registered again).
pub fn revoke(db: &Connection, site_id: u32, actor: u32, uid: TagUid) -> ApiResult<()> {
    let role = role_on_site(db, site_id, actor)?;
    let current = tag(db, site_id, uid)?;
    if current.master_key_fixed {
        return Err(ApiError::MasterKeyFixed(
            "this tag is the site owner's master key: it moves only with the ownership".into(),
        ));
    }
    let allowed = match current.user_id {
        Some(holder) => check_holder(db, site_id, (actor, role), holder).is_ok(),
        None => may_view_people(role),
    };
    if !allowed {
        return Err(ApiError::Forbidden(
            "your role on this site may not revoke this tag".into(),
        ));
    }
    db.execute(
        "DELETE FROM tags WHERE site_id = ?1 AND tag_uid = ?2",
        rusqlite::params![site_id, stored_uid(uid)?],
    )?;
    Ok(())
}

/// Takes back the tags of someone leaving the site: they stay registered to it, held by
/// nobody, their offline access and master key cleared (a person added back later does not
/// get them back by themselves).
pub fn release_tags(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<()> {
    db.execute(
        "UPDATE tags SET user_id = NULL, offline_access = 0, master_key = 0
         WHERE site_id = ?1 AND user_id = ?2",
        [site_id, user_id],
    )?;
    Ok(())
}

/// Refuses a change that leaves a lock of the site with more than
/// [`MAX_MASTER_KEYS_PER_LOCK`] master-key users (through their access groups), naming the
/// lock. Call it inside the writing transaction, after the write: the error rolls it back.
pub fn check_master_key_room(db: &Connection, site_id: u32) -> ApiResult<()> {
    let crowded: Option<(u32, String, i64)> = db
        .query_row(
            "SELECT l.id, l.name, COUNT(DISTINCT t.user_id) FROM tags t
             JOIN memberships m ON m.site_id = t.site_id AND m.user_id = t.user_id
             JOIN access_group_members gm ON gm.user_id = t.user_id
             JOIN access_groups g ON g.id = gm.group_id AND g.site_id = t.site_id
             JOIN access_group_locks gl ON gl.group_id = g.id
             JOIN locks l ON l.id = gl.lock_id
             WHERE t.site_id = ?1 AND (t.master_key OR m.role = 'owner')
             GROUP BY l.id HAVING COUNT(DISTINCT t.user_id) > ?2 ORDER BY l.id LIMIT 1",
            rusqlite::params![site_id, MAX_MASTER_KEYS_PER_LOCK],
            |row| row.try_into(),
        )
        .optional()?;
    match crowded {
        None => Ok(()),
        Some((lock_id, name, _)) => Err(ApiError::TooManyMasterKeys(format!(
            "lock {lock_id} \"{name}\" already stores {MAX_MASTER_KEYS_PER_LOCK} master-key \
             users, the most it holds"
        ))),
    }
}
