//! Inviting a guest (pod members, from the app): digital key only, on some of the pod's locks,
//! for a check-in/check-out timeframe; the invitation is an e-mail with a single-use code.

use std::collections::BTreeSet;

use keyway_api::pods::InviteGuestRequest;
use rusqlite::Connection;

use super::invitations;
use super::mail::{guest_already_on_site_email, site_info, GuestInvitation};
use super::people::{ensure_not_in_pod, is_new_to_site};
use super::store::{lock_ids, lock_refs, people_where, Kind, Pod, PodPerson};
use crate::auth::accounts::{normalize_email, normalize_name};
use crate::email;
use crate::error::{ApiError, ApiResult};
use crate::issuing::plan::Stay;

/// The longest stay a guest may be invited for, in seconds (one year): a guest is a visitor,
/// and a longer right belongs on the site, given by its admins.
pub const MAX_STAY_SECONDS: i64 = 366 * 86_400;

/// Checks a requested timeframe: check-out after check-in, not past, and at most
/// [`MAX_STAY_SECONDS`] long.
pub fn stay(from: i64, until: i64, now: i64) -> ApiResult<Stay> {
    if until <= from {
        return Err(ApiError::InvalidInput(
            "the check-out must be after the check-in".into(),
        ));
    }
    if until <= now {
        return Err(ApiError::InvalidInput(
            "the check-out is already past".into(),
        ));
    }
    if until.saturating_sub(from.max(now)) > MAX_STAY_SECONDS {
        return Err(ApiError::InvalidInput(
            "a guest's stay is at most one year: ask the site's admins to add a longer-term \
             person"
                .into(),
        ));
    }
    Ok(Stay { from, until })
}

/// Checks that a guest's locks are some of the pod's.
fn guest_locks(db: &Connection, pod: &Pod, requested: &[u32]) -> ApiResult<BTreeSet<u32>> {
    let wanted: BTreeSet<u32> = requested.iter().copied().collect();
    if wanted.is_empty() {
        return Err(ApiError::InvalidInput(
            "a guest needs at least one of the pod's locks".into(),
        ));
    }
    let pod_locks: BTreeSet<u32> = lock_ids(db, pod.pod_id)?.into_iter().collect();
    if let Some(outside) = wanted.difference(&pod_locks).next() {
        return Err(ApiError::InvalidInput(format!(
            "lock {outside} is not a lock of this pod; guests open only the pod's locks"
        )));
    }
    Ok(wanted)
}

/// Invites a guest to `pod` on behalf of the joined member `inviter`; the code works once and
/// expires after `invitation_ttl` seconds or at check-out, whichever is first.
pub fn invite_guest(
    db: &Connection,
    pod: &Pod,
    inviter: &PodPerson,
    request: &InviteGuestRequest,
    now: i64,
    invitation_ttl: i64,
) -> ApiResult<PodPerson> {
    let inviter_id = inviter
        .user_id
        .ok_or_else(|| ApiError::Internal("an inviting member has not joined".into()))?;
    let email = normalize_email(&request.email)?;
    let name = normalize_name(request.name.as_deref().unwrap_or(&email))?;
    let stay = stay(request.from, request.until, now)?;
    let locks = guest_locks(db, pod, &request.lock_ids)?;
    ensure_not_in_pod(db, pod.pod_id, &email)?;
    // Somebody already on the site gets the same answer as a newcomer, so a member cannot
    // test addresses; the invitation is recorded but its code is never sent (and redeeming
    // refuses people on the site anyway), and the e-mail tells them it changes nothing.
    let newcomer = is_new_to_site(db, pod.site_id, &email)?;
    db.execute(
        "INSERT INTO pod_people
           (pod_id, site_id, kind, email, name, invited_by, valid_from, valid_until, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![
            pod.pod_id,
            pod.site_id,
            Kind::Guest.as_str(),
            email,
            name,
            inviter_id,
            stay.from,
            stay.until,
            now
        ],
    )?;
    let id = u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("guest id out of range".into()))?;
    for lock_id in &locks {
        db.execute(
            "INSERT INTO pod_guest_locks (person_id, lock_id) VALUES (?1, ?2)",
            [id, *lock_id],
        )?;
    }
    let expires_at = now.saturating_add(invitation_ttl).min(stay.until);
    let code = invitations::create(db, id, expires_at, now)?;
    let inviter_name: String = db.query_row(
        "SELECT name FROM users WHERE id = ?1",
        [inviter_id],
        |row| row.get(0),
    )?;
    let site = site_info(db, pod.site_id)?;
    let lock_refs = lock_refs(db, &locks.into_iter().collect::<Vec<_>>())?;
    if !newcomer {
        let note = guest_already_on_site_email(&email, &inviter_name, &pod.name, &site);
        email::queue_capped(db, &note, now, email::MAILS_PER_HOUR)?;
        return people_where(db, "id = ?1", [id])?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::Internal(format!("guest {id} vanished")));
    }
    let invitation = GuestInvitation {
        to: &email,
        guest_name: &name,
        inviter_name: &inviter_name,
        pod_name: &pod.name,
        site: &site,
        locks: &lock_refs,
        stay,
        expires_at,
    };
    email::queue_capped(db, &invitation.email(&code), now, email::MAILS_PER_HOUR)?;
    people_where(db, "id = ?1", [id])?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal(format!("guest {id} vanished")))
}
