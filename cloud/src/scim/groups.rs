//! The site's access groups as SCIM Groups (a locker's own group is not one: its people are
//! the locker's assignment). Creating one makes an access group with no locks yet; membership
//! changes go through the access groups' own rules ([`replace_members`]: keys granted through
//! the live channel, revoked at once). The owner and admins are never taken out of a group,
//! nor a group of theirs deleted, through SCIM.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension};

use super::error::{ScimError, ScimResult, ScimType};
use super::filter::{Equality, Paging};
use super::patch::GroupDraft;
use super::resources::GroupRecord;
use crate::api::codec;
use crate::api::groups::{
    check_people, delete_group_in, insert_group, rename, replace_members, NewGroup,
};
use crate::integrations::caller::IntegrationCaller;
use crate::integrations::people::audit;
use crate::store::rows;

/// The attributes `GET /Groups?filter=` compares.
pub const FILTERABLE: [&str; 1] = ["displayName"];

/// The site's groups SCIM sees (`g`).
const GROUP_ROWS: &str = "FROM access_groups g WHERE g.site_id = ?1 AND g.locker_lock_id IS NULL";

fn members(db: &Connection, site_id: u32, group_id: u32) -> ScimResult<Vec<(u32, String)>> {
    Ok(rows(
        db,
        "SELECT gm.user_id, COALESCE(m.listed_name, u.name) FROM access_group_members gm
         JOIN memberships m ON m.user_id = gm.user_id AND m.site_id = ?2
         JOIN users u ON u.id = gm.user_id
         WHERE gm.group_id = ?1 ORDER BY gm.user_id",
        [group_id, site_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?)
}

/// A group of the site, or `404` (another site's, and a locker's, included).
pub fn group(db: &Connection, site_id: u32, group_id: u32) -> ScimResult<GroupRecord> {
    let name: String = db
        .query_row(
            &format!("SELECT g.name {GROUP_ROWS} AND g.id = ?2"),
            [site_id, group_id],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| ScimError::not_found(format!("no group {group_id} on this site")))?;
    Ok(GroupRecord {
        group_id,
        name,
        members: members(db, site_id, group_id)?,
    })
}

/// One page of the site's groups, those matching `filter` only, in id order.
pub fn list(
    db: &Connection,
    site_id: u32,
    filter: Option<&Equality>,
    paging: Paging,
) -> ScimResult<(u32, Vec<GroupRecord>)> {
    let value = filter.map(|equality| equality.value.clone());
    // displayName is not case-exact (RFC 7643 §4.2).
    let condition = " AND (?2 IS NULL OR g.name = ?2 COLLATE NOCASE)";
    let total: u32 = db.query_row(
        &format!("SELECT COUNT(*) {GROUP_ROWS}{condition}"),
        rusqlite::params![site_id, value],
        |row| row.get(0),
    )?;
    let ids: Vec<u32> = rows(
        db,
        &format!("SELECT g.id {GROUP_ROWS}{condition} ORDER BY g.id LIMIT ?3 OFFSET ?4"),
        rusqlite::params![site_id, value, paging.count, paging.offset()],
        |row| row.get(0),
    )?;
    let groups = ids
        .into_iter()
        .map(|group_id| group(db, site_id, group_id))
        .collect::<ScimResult<_>>()?;
    Ok((total, groups))
}

/// The group's name, checked, and `409 uniqueness` when another group of the site has it.
fn free_name(
    db: &Connection,
    site_id: u32,
    group_id: Option<u32>,
    name: &str,
) -> ScimResult<String> {
    let name =
        codec::name("displayName", name).map_err(ScimError::typed_as(ScimType::InvalidValue))?;
    let taken = db
        .query_row(
            "SELECT 1 FROM access_groups
             WHERE site_id = ?1 AND name = ?2 COLLATE NOCASE AND id IS NOT ?3",
            rusqlite::params![site_id, name, group_id],
            |_| Ok(()),
        )
        .optional()?;
    match taken {
        Some(()) => Err(ScimError::uniqueness(
            "another group of this site has this displayName",
        )),
        None => Ok(name),
    }
}

/// The members must be people of the site (`400 invalidValue`).
fn check_members(db: &Connection, site_id: u32, members: &BTreeSet<u32>) -> ScimResult<()> {
    check_people(db, site_id, members).map_err(ScimError::typed_as(ScimType::InvalidValue))
}

/// The site's owner and admins.
fn protected_people(db: &Connection, site_id: u32) -> ScimResult<BTreeSet<u32>> {
    Ok(rows(
        db,
        "SELECT user_id FROM memberships WHERE site_id = ?1 AND role IN ('owner', 'admin')",
        [site_id],
        |row| row.get(0),
    )?
    .into_iter()
    .collect())
}

/// Creates an access group with no locks yet, named and peopled as `draft` says.
pub fn create(
    db: &Connection,
    caller: &IntegrationCaller,
    draft: &GroupDraft,
    now: i64,
) -> ScimResult<GroupRecord> {
    let site_id = caller.site_id;
    let name = free_name(db, site_id, None, &draft.name)?;
    check_members(db, site_id, &draft.members)?;
    let new = NewGroup {
        name: &name,
        lock_ids: &BTreeSet::new(),
        user_ids: &draft.members,
        schedule: &[],
    };
    let made = insert_group(db, site_id, new, now)?;
    audit(
        db,
        caller,
        "scim_create_group",
        &format!(
            "group {} made with {} people",
            made.group_id,
            draft.members.len()
        ),
        now,
    )?;
    group(db, site_id, made.group_id)
}

/// Makes the group what `draft` says (`PUT`, and `PATCH` after its operations): its name, and
/// its people (those taken out lose its keys at once; the owner and admins are never taken
/// out: `403 mutability`).
pub fn replace(
    db: &Connection,
    caller: &IntegrationCaller,
    group_id: u32,
    draft: &GroupDraft,
    now: i64,
) -> ScimResult<GroupRecord> {
    let site_id = caller.site_id;
    let current = group(db, site_id, group_id)?;
    let before: BTreeSet<u32> = current
        .members
        .iter()
        .map(|(user_id, _)| *user_id)
        .collect();
    let protected = protected_people(db, site_id)?;
    if before
        .difference(&draft.members)
        .any(|user_id| protected.contains(user_id))
    {
        return Err(ScimError::protected(
            "the site's owner and admins are never taken out of a group through SCIM",
        ));
    }
    // Groups an admin named alike stay as they are until SCIM renames one.
    if draft.name != current.name {
        let name = free_name(db, site_id, Some(group_id), &draft.name)?;
        rename(db, group_id, &name)?;
    }
    check_members(db, site_id, &draft.members)?;
    if before != draft.members {
        replace_members(db, site_id, group_id, &draft.members, now)?;
    }
    let joined = draft.members.difference(&before).count();
    let left = before.difference(&draft.members).count();
    audit(
        db,
        caller,
        "scim_replace_group",
        &format!("group {group_id}: {joined} joined, {left} left"),
        now,
    )?;
    group(db, site_id, group_id)
}

/// Deletes the access group: its people lose its keys at once. Refused (`403 mutability`)
/// while the owner or an admin is in it.
pub fn delete(
    db: &Connection,
    caller: &IntegrationCaller,
    group_id: u32,
    now: i64,
) -> ScimResult<()> {
    let site_id = caller.site_id;
    let current = group(db, site_id, group_id)?;
    let protected = protected_people(db, site_id)?;
    if current
        .members
        .iter()
        .any(|(user_id, _)| protected.contains(user_id))
    {
        return Err(ScimError::protected(
            "a group of the site's owner or an admin is never deleted through SCIM",
        ));
    }
    delete_group_in(db, site_id, group_id, now)?;
    audit(
        db,
        caller,
        "scim_delete_group",
        &format!("group {group_id} deleted"),
        now,
    )?;
    Ok(())
}
