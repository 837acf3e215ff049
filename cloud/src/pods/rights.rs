//! What pods grant, read by key issuing ([`crate::issuing::grants`]) and by remote opening.
//!
//! - a joined member opens every lock of their pods, at any time, with the phone and remotely;
//! - a joined, unblocked guest opens their pod locks with the phone only, within their
//!   check-in/check-out (the credential's validity, enforced by the lock's own clock).

use rusqlite::Connection;

use super::store::{guest_lock_ids, lock_ids, people_where, Kind};
use crate::error::{ApiError, ApiResult};
use crate::issuing::plan::{GroupRight, Stay};

/// The pod locks `user_id` opens as a joined member on `site_id`, as rights at any time.
pub fn member_rights(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<Vec<GroupRight>> {
    people_where(
        db,
        "site_id = ?1 AND user_id = ?2 AND kind = 'member'",
        [site_id, user_id],
    )?
    .iter()
    .map(|member| {
        Ok(GroupRight {
            lock_ids: lock_ids(db, member.pod_id)?,
            schedule: Vec::new(),
        })
    })
    .collect()
}

/// A guest's right: some pod locks, for a stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRight {
    /// The locks.
    pub lock_ids: Vec<u32>,
    /// Check-in and check-out.
    pub stay: Stay,
}

/// The rights of `user_id` as a joined, unblocked guest on `site_id` (stays that are over are
/// included: issuing skips them).
pub fn guest_rights(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<Vec<GuestRight>> {
    let mut rights = Vec::new();
    for guest in people_where(
        db,
        "site_id = ?1 AND user_id = ?2 AND kind = 'guest' AND blocked_at IS NULL",
        [site_id, user_id],
    )? {
        let lock_ids = guest_lock_ids(db, guest.id)?;
        if let (Some(stay), false) = (guest.stay, lock_ids.is_empty()) {
            rights.push(GuestRight { lock_ids, stay });
        }
    }
    Ok(rights)
}

/// The refusal a pod guest gets when trying to open remotely.
pub const GUEST_REMOTE_REFUSAL: &str =
    "pod guests open with their phone's digital key only; remote opening is for pod members";

/// What pods say about `user_id` opening `lock_id` remotely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteOpening {
    /// A member of a pod with this lock: allowed (their `memberships.remote_opening` was turned
    /// on when they joined).
    PodMember,
    /// No pod grants it: the site's usual rules decide.
    NoPodRight,
}

/// For the remote-opening service: pod guests are refused (403, [`GUEST_REMOTE_REFUSAL`]);
/// members of a pod holding the lock are allowed; anyone else is left to the site's rules.
pub fn remote_opening_right(
    db: &Connection,
    site_id: u32,
    user_id: u32,
    lock_id: u32,
) -> ApiResult<RemoteOpening> {
    let rows = people_where(db, "site_id = ?1 AND user_id = ?2", [site_id, user_id])?;
    for member in rows.iter().filter(|row| row.kind == Kind::Member) {
        if lock_ids(db, member.pod_id)?.contains(&lock_id) {
            return Ok(RemoteOpening::PodMember);
        }
    }
    if rows.iter().any(|row| row.kind == Kind::Guest) {
        return Err(ApiError::Forbidden(GUEST_REMOTE_REFUSAL.into()));
    }
    Ok(RemoteOpening::NoPodRight)
}
