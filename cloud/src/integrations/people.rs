//! What a connected system does to a site's people: upsert a person by its own id (manual
//! 001: the system's id appended to the alias; manual 004: the full name as alias and the
//! e-mail), remove them, grant and revoke access-group membership. Existing Keyway people are
//! matched by e-mail, never duplicated; new ones get the invitation e-mail. Every change is
//! audited with the key that made it.

use std::collections::BTreeSet;

use keyway_api::integrations::{
    GrantAccessRequest, IntegrationPersonView, KeypadPinPolicyView, MembershipView,
    UpsertPersonRequest,
};
use rusqlite::{Connection, OptionalExtension};

use super::caller::IntegrationCaller;
use crate::api::groups::{group, replace_members};
use crate::auth::accounts::{normalize_email, normalize_name};
use crate::error::{ApiError, ApiResult};
use crate::membership::add_user_for_system;

/// How far from now a membership's dates may be: ten years.
const MAX_DATE_DISTANCE_SECONDS: u64 = 10 * 366 * 86_400;

/// The longest external id.
pub const MAX_EXTERNAL_ID_LEN: usize = 64;

/// Checks a system's id for a person: 1 to 64 of `A-Z a-z 0-9 . _ : -`.
pub fn check_external_id(external_id: &str) -> ApiResult<()> {
    let fine = !external_id.is_empty()
        && external_id.len() <= MAX_EXTERNAL_ID_LEN
        && external_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(ApiError::InvalidInput(format!(
            "an external id is 1 to {MAX_EXTERNAL_ID_LEN} letters, digits, '.', '_', ':' or '-'"
        )))
    }
}

/// Records what a key changed.
pub fn audit(
    db: &Connection,
    caller: &IntegrationCaller,
    route: &str,
    change: &str,
    now: i64,
) -> ApiResult<()> {
    db.execute(
        "INSERT INTO integration_audit (site_id, api_key_id, route, change, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![caller.site_id, caller.key_id, route, change, now],
    )?;
    Ok(())
}

fn mapped_person(db: &Connection, site_id: u32, external_id: &str) -> ApiResult<Option<u32>> {
    Ok(db
        .query_row(
            "SELECT i.user_id FROM integration_people i
             JOIN memberships m ON m.site_id = i.site_id AND m.user_id = i.user_id
             WHERE i.site_id = ?1 AND i.external_id = ?2",
            rusqlite::params![site_id, external_id],
            |row| row.get(0),
        )
        .optional()?)
}

/// Sets the alias (and, until the person claims their place, the name the site shows).
fn rename(db: &Connection, site_id: u32, user_id: u32, alias: &str, name: &str) -> ApiResult<()> {
    db.execute(
        "UPDATE memberships SET alias = ?1,
            invited_name = CASE WHEN claimed_at IS NULL THEN ?2 ELSE invited_name END,
            listed_name = CASE WHEN claimed_at IS NULL THEN ?2 ELSE listed_name END
         WHERE site_id = ?3 AND user_id = ?4",
        rusqlite::params![alias, name, site_id, user_id],
    )?;
    Ok(())
}

/// Checks that the calling system may hand out `group_id`: a group of the site (404
/// otherwise), not a locker's assignment (an admin sets those: 409), and not another
/// system's (manual 004: groups are made for one app; `409 group_of_another_integration`).
/// With `claim`, a group no system owns yet becomes the caller's (a system is its keys'
/// name, which a rotated key keeps).
pub(super) fn check_system_group(
    db: &Connection,
    caller: &IntegrationCaller,
    group_id: u32,
    claim: bool,
) -> ApiResult<()> {
    let found: Option<(Option<u32>, Option<String>)> = db
        .query_row(
            "SELECT locker_lock_id, integration FROM access_groups WHERE id = ?1 AND site_id = ?2",
            [group_id, caller.site_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (locker, owner) = found
        .ok_or_else(|| ApiError::NotFound(format!("no access group {group_id} on this site")))?;
    if let Some(lock_id) = locker {
        return Err(ApiError::Conflict(format!(
            "group {group_id} is locker {lock_id}'s assignment: an admin sets it"
        )));
    }
    let system: String = db.query_row(
        "SELECT name FROM api_keys WHERE id = ?1",
        [caller.key_id],
        |row| row.get(0),
    )?;
    match owner {
        Some(owner) if owner != system => Err(ApiError::GroupOfAnotherIntegration(format!(
            "group {group_id} belongs to {owner:?}: make an access group for {system:?}"
        ))),
        Some(_) => Ok(()),
        None if claim => {
            db.execute(
                "UPDATE access_groups SET integration = ?1 WHERE id = ?2",
                rusqlite::params![system, group_id],
            )?;
            Ok(())
        }
        None => Ok(()),
    }
}

/// The person the system calls `external_id` (404 when there is none); the site's owner and
/// admins, even if the system named them before they became one, are not the system's to
/// manage (403).
pub(super) fn person_of(db: &Connection, site_id: u32, external_id: &str) -> ApiResult<u32> {
    let user_id = mapped_person(db, site_id, external_id)?
        .ok_or_else(|| ApiError::NotFound(format!("no person {external_id:?} on this site")))?;
    let role: String = db.query_row(
        "SELECT role FROM memberships WHERE site_id = ?1 AND user_id = ?2",
        [site_id, user_id],
        |row| row.get(0),
    )?;
    if role == "owner" || role == "admin" {
        return Err(ApiError::Forbidden(format!(
            "person {external_id} is the site's {role} now: an API key does not manage them"
        )));
    }
    Ok(user_id)
}

/// Adds or updates the person the system calls `external_id`.
pub fn upsert_person(
    db: &Connection,
    caller: &IntegrationCaller,
    external_id: &str,
    request: &UpsertPersonRequest,
    public_url: &str,
    now: i64,
) -> ApiResult<IntegrationPersonView> {
    check_external_id(external_id)?;
    let name = normalize_name(&request.name)?;
    let email = normalize_email(&request.email)?;
    let alias = format!("{name} {external_id}");
    let site_id = caller.site_id;
    let mapped = mapped_person(db, site_id, external_id)?;
    let on_site: Option<(u32, String)> = db
        .query_row(
            "SELECT m.user_id, m.role FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.site_id = ?1 AND u.email = ?2",
            rusqlite::params![site_id, email],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (user_id, created) = match (mapped, on_site) {
        (Some(user_id), Some((found, _))) if found != user_id => {
            return Err(ApiError::Conflict(format!(
                "{email} is another person of the site: person {external_id} keeps their e-mail"
            )))
        }
        (Some(user_id), _) => {
            let current: Option<String> =
                db.query_row("SELECT email FROM users WHERE id = ?1", [user_id], |row| {
                    row.get(0)
                })?;
            if current.as_deref() != Some(email.as_str()) {
                // The e-mail is the person's account: a connected system does not move it.
                return Err(ApiError::Conflict(format!(
                    "person {external_id} has another e-mail: remove them and add them again \
                     to change it"
                )));
            }
            rename(db, site_id, user_id, &alias, &name)?;
            (user_id, false)
        }
        (None, Some((_, role))) if role == "owner" || role == "admin" => {
            return Err(ApiError::Forbidden(format!(
                "{email} is the site's {role}: an API key does not manage them"
            )))
        }
        (None, Some((user_id, _))) => {
            let known_as: Option<String> = db
                .query_row(
                    "SELECT external_id FROM integration_people WHERE site_id = ?1 AND user_id = ?2",
                    [site_id, user_id],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(other) = known_as {
                return Err(ApiError::Conflict(format!(
                    "{email} is already person {other} of this system"
                )));
            }
            rename(db, site_id, user_id, &alias, &name)?;
            (user_id, false)
        }
        (None, None) => {
            let person = (email.as_str(), name.as_str(), Some(alias.as_str()));
            let user_id = add_user_for_system(db, site_id, person, public_url, now)?
                .ok_or_else(|| ApiError::Internal("a new person was already on the site".into()))?;
            (user_id, true)
        }
    };
    // `matched`: on the site before the system named them; set once, when first named.
    db.execute(
        "INSERT INTO integration_people (site_id, external_id, user_id, matched)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (site_id, external_id) DO UPDATE SET user_id = excluded.user_id,
             matched = excluded.matched
         WHERE integration_people.user_id IS NOT excluded.user_id",
        rusqlite::params![site_id, external_id, user_id, mapped.is_none() && !created],
    )?;
    let change = if created { "added" } else { "updated" };
    audit(
        db,
        caller,
        "upsert_person",
        &format!("person {external_id} (user {user_id}) {change}"),
        now,
    )?;
    Ok(IntegrationPersonView {
        external_id: external_id.to_string(),
        user_id,
        alias,
        created,
    })
}

/// Removes the person the system calls `external_id` from the site, as an admin would: their
/// keys are revoked at once. The owner and admins cannot be removed this way.
pub fn remove_person(
    db: &Connection,
    caller: &IntegrationCaller,
    external_id: &str,
    now: i64,
) -> ApiResult<()> {
    check_external_id(external_id)?;
    let user_id = person_of(db, caller.site_id, external_id)?;
    let matched: bool = db.query_row(
        "SELECT matched FROM integration_people WHERE site_id = ?1 AND external_id = ?2",
        rusqlite::params![caller.site_id, external_id],
        |row| row.get(0),
    )?;
    let change = if matched {
        take_back_grants(db, caller.site_id, user_id, now)?;
        "left by the system (on the site before it; what it granted taken back)"
    } else {
        crate::membership::remove(db, caller.site_id, user_id, now)?;
        "removed"
    };
    db.execute(
        "DELETE FROM integration_people WHERE site_id = ?1 AND external_id = ?2",
        rusqlite::params![caller.site_id, external_id],
    )?;
    audit(
        db,
        caller,
        "remove_person",
        &format!("person {external_id} (user {user_id}) {change}"),
        now,
    )
}

/// Takes back what connected systems gave a person who was on the site before them: the
/// memberships an API key granted and their bookings; the rest of their place stays.
fn take_back_grants(db: &Connection, site_id: u32, user_id: u32, now: i64) -> ApiResult<()> {
    let granted: Vec<u32> = crate::store::rows(
        db,
        "SELECT m.group_id FROM access_group_members m
         JOIN access_groups g ON g.id = m.group_id
         WHERE g.site_id = ?1 AND m.user_id = ?2 AND m.granted_by_key IS NOT NULL",
        [site_id, user_id],
        |row| row.get(0),
    )?;
    for group_id in granted {
        let mut members: BTreeSet<u32> =
            group(db, site_id, group_id)?.user_ids.into_iter().collect();
        members.remove(&user_id);
        replace_members(db, site_id, group_id, &members, now)?;
    }
    db.execute(
        "DELETE FROM booking_people WHERE user_id = ?1
         AND booking_id IN (SELECT id FROM bookings WHERE site_id = ?2)",
        [user_id, site_id],
    )?;
    crate::issuing::revoke::reconcile_person(db, site_id, user_id, now)
}

/// The dates of a membership for a time, checked: an end after the start, and not over.
fn checked_window(window: &GrantAccessRequest, now: i64) -> ApiResult<(Option<i64>, Option<i64>)> {
    let near = |time: i64| time.abs_diff(now) <= MAX_DATE_DISTANCE_SECONDS;
    if !window.from.is_none_or(near) || !window.until.is_none_or(near) {
        return Err(ApiError::InvalidInput(
            "`from` and `until` are Unix seconds within ten years of now".into(),
        ));
    }
    if let (Some(from), Some(until)) = (window.from, window.until) {
        if until <= from {
            return Err(ApiError::InvalidInput(
                "`until` must come after `from`".into(),
            ));
        }
    }
    if window.until.is_some_and(|until| until <= now) {
        return Err(ApiError::InvalidInput(
            "`until` is past: revoke the membership instead".into(),
        ));
    }
    Ok((window.from, window.until))
}

/// Puts the person in the access group (`Some(window)`: for good, or between its dates) or
/// takes them out (`None`); taken out, their keys for it are revoked at once, and dates moved
/// revoke the keys that carried the old ones.
pub fn set_membership(
    db: &Connection,
    caller: &IntegrationCaller,
    external_id: &str,
    group_id: u32,
    grant: Option<&GrantAccessRequest>,
    now: i64,
) -> ApiResult<MembershipView> {
    check_external_id(external_id)?;
    let user_id = person_of(db, caller.site_id, external_id)?;
    let window = grant
        .map(|window| checked_window(window, now))
        .transpose()?;
    check_system_group(db, caller, group_id, true)?;
    let members: BTreeSet<u32> = group(db, caller.site_id, group_id)?
        .user_ids
        .into_iter()
        .collect();
    let is_member = members.contains(&user_id);
    let changed = match window {
        None if is_member => {
            let mut members = members;
            members.remove(&user_id);
            replace_members(db, caller.site_id, group_id, &members, now)?;
            true
        }
        None => false,
        Some((from, until)) if !is_member => {
            // One write with the dates, so phones and webhooks hear of the grant once, as it is.
            db.execute(
                "INSERT INTO access_group_members
                     (group_id, user_id, valid_from, valid_until, granted_by_key)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![group_id, user_id, from, until, caller.key_id],
            )?;
            crate::lock_rules::tags::check_master_key_room(db, caller.site_id)?;
            true
        }
        Some((from, until)) => {
            // A system's own grant takes the new dates (keys carrying the old ones are revoked);
            // an admin's grant stays as the admin made it.
            let moved = db.execute(
                "UPDATE access_group_members SET valid_from = ?1, valid_until = ?2
                 WHERE group_id = ?3 AND user_id = ?4 AND granted_by_key IS NOT NULL
                   AND (valid_from IS NOT ?1 OR valid_until IS NOT ?2)",
                rusqlite::params![from, until, group_id, user_id],
            )?;
            if moved > 0 {
                crate::issuing::revoke::reconcile_person(db, caller.site_id, user_id, now)?;
            }
            moved > 0
        }
    };
    let (from, until): (Option<i64>, Option<i64>) = db
        .query_row(
            "SELECT valid_from, valid_until FROM access_group_members
             WHERE group_id = ?1 AND user_id = ?2",
            [group_id, user_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?
        .unwrap_or_default();
    if changed {
        let what = match (window.is_some(), from, until) {
            (false, ..) => "left".to_string(),
            (true, None, None) => "joined".to_string(),
            (true, from, until) => format!("joined (from {from:?} until {until:?})"),
        };
        audit(
            db,
            caller,
            "set_membership",
            &format!("person {external_id} (user {user_id}) {what} group {group_id}"),
            now,
        )?;
    }
    Ok(MembershipView {
        external_id: external_id.to_string(),
        group_id,
        member: window.is_some(),
        from,
        until,
    })
}

/// Gives the person a keypad PIN unless they have one: one PIN for every lock of the site,
/// sent to them (by e-mail or text message), never to the system.
pub fn ensure_pin(
    db: &Connection,
    caller: &IntegrationCaller,
    external_id: &str,
    now: i64,
) -> ApiResult<KeypadPinPolicyView> {
    check_external_id(external_id)?;
    let user_id = person_of(db, caller.site_id, external_id)?;
    let has: Option<i64> = db
        .query_row(
            "SELECT created_at FROM keypad_pins WHERE site_id = ?1 AND user_id = ?2",
            [caller.site_id, user_id],
            |row| row.get(0),
        )
        .optional()?;
    if has.is_some() {
        return Ok(KeypadPinPolicyView {
            external_id: external_id.to_string(),
            created: false,
            delivery: None,
        });
    }
    // Caller 0 is nobody: the PIN is never shown to the system.
    let (shown, delivery) = crate::remote::keypad::new_pin(db, caller.site_id, 0, user_id, now)?;
    if shown.is_some() {
        return Err(ApiError::Conflict(
            "this person has no e-mail or phone to send a PIN to: an admin hands it over".into(),
        ));
    }
    audit(
        db,
        caller,
        "ensure_pin",
        &format!("keypad PIN made for person {external_id} (user {user_id})"),
        now,
    )?;
    Ok(KeypadPinPolicyView {
        external_id: external_id.to_string(),
        created: true,
        delivery: Some(delivery),
    })
}
