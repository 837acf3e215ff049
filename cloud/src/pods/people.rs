//! Joining and leaving a pod. Joining puts the person on the site (a plain `user` membership
//! when they were not on it) and turns a member's remote opening on; leaving undoes exactly
//! what joining did, once the person has no pod left on the site, and revokes the keys they
//! no longer have a right to (published to locks as denylist mailbox updates).

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};

use super::mail::{guest_access_ended_email, site_info};
use super::store::{joined_rows, people_where, pod, Kind, PodPerson};
use crate::email;
use crate::error::{ApiError, ApiResult};
use crate::issuing::reconcile_person;

/// Joins `user_id` as `person` (a member or guest row not joined yet); returns the row after.
pub fn join(db: &Connection, person: &PodPerson, user_id: u32, now: i64) -> ApiResult<PodPerson> {
    let created = db.execute(
        "INSERT OR IGNORE INTO memberships (site_id, user_id, role, created_at, invited_name)
         VALUES (?1, ?2, 'user', ?3, ?4)",
        rusqlite::params![person.site_id, user_id, now, person.name],
    )? > 0;
    let granted_remote =
        person.kind == Kind::Member && grant_remote_opening(db, person.site_id, user_id)?;
    db.execute(
        "UPDATE pod_people SET user_id = ?1, joined_at = ?2, owns_membership = ?3,
         granted_remote = ?4 WHERE id = ?5",
        rusqlite::params![user_id, now, created, granted_remote, person.id],
    )?;
    people_where(db, "id = ?1", [person.id])?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal(format!("pod person {} vanished", person.id)))
}

/// Pod members open their pod's locks remotely (manual 000): turns the site's remote opening
/// right on for `user_id`. Returns whether it was off (so leaving the last pod turns it off
/// again). The remote-opening service reads the right from `memberships.remote_opening` and
/// refuses pod guests with [`super::remote_opening_right`].
pub fn grant_remote_opening(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<bool> {
    Ok(db.execute(
        "UPDATE memberships SET remote_opening = 1
         WHERE site_id = ?1 AND user_id = ?2 AND remote_opening = 0",
        [site_id, user_id],
    )? > 0)
}

/// Takes `people` out of their pods (their invitations and lock lists go with them). For each
/// person who joined: what joining did is handed to another of their pod rows on the site, or
/// undone when none is left (the site membership it created is removed unless an admin has
/// since given them a role or an access group; the remote opening it turned on is turned off
/// unless remote office mode needs it); then their keys are reconciled.
pub fn leave(db: &Connection, people: &[PodPerson], now: i64) -> ApiResult<()> {
    let mut by_user: BTreeMap<(u32, u32), (bool, bool)> = BTreeMap::new();
    for person in people {
        db.execute("DELETE FROM pod_people WHERE id = ?1", [person.id])?;
        if let Some(user_id) = person.user_id {
            let entry = by_user.entry((person.site_id, user_id)).or_default();
            entry.0 |= person.owns_membership;
            entry.1 |= person.granted_remote;
        }
    }
    for ((site_id, user_id), (owned, granted)) in by_user {
        let remaining = joined_rows(db, site_id, user_id)?;
        if owned {
            match remaining.first() {
                Some(heir) => set_flag(db, "owns_membership", heir.id)?,
                None => remove_pod_only_membership(db, site_id, user_id)?,
            }
        }
        if granted {
            match remaining.iter().find(|row| row.kind == Kind::Member) {
                Some(heir) => set_flag(db, "granted_remote", heir.id)?,
                None => {
                    db.execute(
                        "UPDATE memberships SET remote_opening = 0
                         WHERE site_id = ?1 AND user_id = ?2 AND office_mode = 0",
                        [site_id, user_id],
                    )?;
                }
            }
        }
        reconcile_person(db, site_id, user_id, now)?;
    }
    Ok(())
}

fn set_flag(db: &Connection, column: &str, id: u32) -> ApiResult<()> {
    db.execute(
        &format!("UPDATE pod_people SET {column} = 1 WHERE id = ?1"),
        [id],
    )?;
    Ok(())
}

fn remove_pod_only_membership(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<()> {
    db.execute(
        "DELETE FROM memberships WHERE site_id = ?1 AND user_id = ?2 AND role = 'user'
         AND NOT EXISTS (SELECT 1 FROM access_group_members m
                         JOIN access_groups g ON g.id = m.group_id
                         WHERE g.site_id = ?1 AND m.user_id = ?2)",
        [site_id, user_id],
    )?;
    Ok(())
}

/// Takes `user_id` out of the site's pods (or of the pod `pod_id` only) together with the
/// guests they invited there: everything joining gave them and their guests is undone and
/// revoked through [`leave`], and each guest whose stay was still on is told by e-mail.
pub fn remove_from_site_pods(
    db: &Connection,
    site_id: u32,
    user_id: u32,
    pod_id: Option<u32>,
    now: i64,
) -> ApiResult<()> {
    let (scope, scope_id) = match pod_id {
        Some(pod_id) => ("pod_id", pod_id),
        None => ("site_id", site_id),
    };
    let own = people_where(
        db,
        &format!("{scope} = ?1 AND user_id = ?2"),
        [scope_id, user_id],
    )?;
    let guests: Vec<PodPerson> = people_where(
        db,
        &format!("{scope} = ?1 AND kind = 'guest' AND invited_by = ?2"),
        [scope_id, user_id],
    )?
    .into_iter()
    .filter(|guest| !own.contains(guest))
    .collect();
    let site = site_info(db, site_id)?;
    for guest in &guests {
        let current = guest.blocked_at.is_none() && guest.stay.is_some_and(|s| s.until > now);
        if current {
            let pod_name = pod(db, guest.pod_id)?.name;
            email::queue(db, &guest_access_ended_email(guest, &pod_name, &site), now)?;
        }
    }
    let leaving: Vec<PodPerson> = own.into_iter().chain(guests).collect();
    leave(db, &leaving, now)
}

/// Blocks or unblocks a guest. Blocking revokes their keys at once (the phone loses them at its
/// next sync, locks refuse them once a phone carries the denylist update); unblocking lets the
/// next sync issue new ones.
pub fn set_blocked(db: &Connection, guest: &PodPerson, blocked: bool, now: i64) -> ApiResult<()> {
    db.execute(
        "UPDATE pod_people SET blocked_at = ?1 WHERE id = ?2",
        rusqlite::params![blocked.then_some(now), guest.id],
    )?;
    if let Some(user_id) = guest.user_id {
        reconcile_person(db, guest.site_id, user_id, now)?;
    }
    Ok(())
}

/// Refuses a second invitation of the same e-mail to a pod.
pub fn ensure_not_in_pod(db: &Connection, pod_id: u32, email: &str) -> ApiResult<()> {
    let kind: Option<String> = db
        .query_row(
            "SELECT kind FROM pod_people WHERE pod_id = ?1 AND email = ?2",
            rusqlite::params![pod_id, email],
            |row| row.get(0),
        )
        .optional()?;
    match kind {
        Some(kind) => Err(ApiError::Conflict(format!(
            "{email} was already invited to this pod (as a {kind}); delete that first to invite \
             again"
        ))),
        None => Ok(()),
    }
}

/// Whether `email` is new to the site: not a person on it, nor a member or guest of one of its
/// pods (invited or joined).
pub fn is_new_to_site(db: &Connection, site_id: u32, email: &str) -> ApiResult<bool> {
    let on_site = db
        .query_row(
            "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.site_id = ?1 AND u.email = ?2
             UNION ALL SELECT 1 FROM pod_people WHERE site_id = ?1 AND email = ?2",
            rusqlite::params![site_id, email],
            |_| Ok(()),
        )
        .optional()?;
    Ok(on_site.is_none())
}

/// Refuses to make a site's guest a member: guests and members are different people.
pub fn ensure_not_a_guest(db: &Connection, site_id: u32, email: &str) -> ApiResult<()> {
    let guest = db
        .query_row(
            "SELECT 1 FROM pod_people WHERE site_id = ?1 AND email = ?2 AND kind = 'guest'",
            rusqlite::params![site_id, email],
            |_| Ok(()),
        )
        .optional()?;
    match guest {
        Some(()) => Err(ApiError::Conflict(format!(
            "{email} is a guest on this site; delete the guest before making them a member"
        ))),
        None => Ok(()),
    }
}
