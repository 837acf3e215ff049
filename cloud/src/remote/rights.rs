//! Who may do what at a lock from afar: remote opening comes from the membership's remote
//! opening right (remote office mode implies it, manual 000) and the person's access groups
//! on that lock, inside their weekly windows in site time.

use std::collections::BTreeMap;

use keyway_api::remote::RemoteCommand;
use keyway_protocol::credential::MAX_WINDOWS_PER_CREDENTIAL;
use keyway_protocol::schedule::{schedule_allows, LocalMinute};
use keyway_protocol::ScheduleWindow;
use rusqlite::{Connection, OptionalExtension};

use super::error::{RemoteError, RemoteResult};
use crate::error::{ApiError, ApiResult};
use crate::issuing::grants::{group_window, GROUP_WINDOWS};
use crate::issuing::plan::canonical_schedule;
use crate::store::rows;

/// Each person with an access group on `lock_id`, with their canonical weekly windows there
/// (empty: at any time).
///
/// Memberships for a time (a subscription's dates) count only with `at`, and only when `at`
/// falls within them: what goes to the locks themselves (keypad PINs, tag lists) cannot
/// carry dates, so it passes `None` and holds lasting memberships only; phones' keys carry
/// the dates.
pub(crate) fn lock_schedules(
    db: &Connection,
    lock_id: u32,
    at: Option<i64>,
) -> ApiResult<BTreeMap<u32, Vec<ScheduleWindow>>> {
    let mut windows: BTreeMap<u32, Vec<ScheduleWindow>> = BTreeMap::new();
    let sql = format!(
        "{GROUP_WINDOWS} JOIN access_group_locks gl ON gl.group_id = w.group_id
         WHERE gl.lock_id = ?1"
    );
    for (group_id, window) in rows(db, &sql, [lock_id], group_window)? {
        windows.entry(group_id).or_default().push(window);
    }
    // None: at any time; Some: within these windows.
    let mut people: BTreeMap<u32, Option<Vec<ScheduleWindow>>> = BTreeMap::new();
    let members: Vec<(u32, u32)> = rows(
        db,
        "SELECT gl.group_id, m.user_id FROM access_group_locks gl
         JOIN access_group_members m ON m.group_id = gl.group_id WHERE gl.lock_id = ?1
           AND ((m.valid_from IS NULL AND m.valid_until IS NULL)
                OR (?2 IS NOT NULL AND COALESCE(m.valid_from, ?2) <= ?2
                    AND COALESCE(m.valid_until, ?2 + 1) > ?2))",
        rusqlite::params![lock_id, at],
        |row| row.try_into(),
    )?;
    for (group_id, user_id) in members {
        let access = people.entry(user_id).or_insert_with(|| Some(Vec::new()));
        match (access.as_mut(), windows.get(&group_id)) {
            (None, _) => {}
            (Some(_), None) => *access = None,
            (Some(held), Some(group)) => held.extend_from_slice(group),
        }
    }
    Ok(people
        .into_iter()
        .filter_map(|(user_id, access)| {
            let schedule = access.map_or_else(Vec::new, |w| canonical_schedule(&w));
            if schedule.len() > MAX_WINDOWS_PER_CREDENTIAL {
                tracing::warn!(user_id, lock_id, "too many windows for the lock to hold");
                return None;
            }
            Some((user_id, schedule))
        })
        .collect())
}

/// What a person may do remotely at one lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RemoteRight {
    /// The lock's IQ.
    pub(crate) iq_id: u32,
    /// Carried in the grant for the lock's privacy-mode check.
    pub(crate) privacy_override: bool,
    /// Carried in the grant for the lock's office-mode check.
    pub(crate) office_mode: bool,
}

/// Checks that `user_id` may send `command` to `lock_id` of `site_id` now: a member (else
/// 404) with the remote opening right (remote office mode for office-mode commands), in an
/// access group of the lock, inside its windows; and the lock has an IQ.
pub(crate) fn check_remote_right(
    db: &Connection,
    site_id: u32,
    lock_id: u32,
    user_id: u32,
    command: RemoteCommand,
    now: i64,
) -> RemoteResult<RemoteRight> {
    let membership: Option<(bool, bool, bool, i32)> = db
        .query_row(
            // A suspended place (SCIM `active: false`) has no remote right.
            "SELECT m.remote_opening AND m.suspended_at IS NULL,
                    m.office_mode AND m.suspended_at IS NULL, m.privacy_override,
                    s.utc_offset_minutes
             FROM memberships m JOIN sites s ON s.id = m.site_id
             WHERE m.site_id = ?1 AND m.user_id = ?2",
            [site_id, user_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()
        .map_err(ApiError::from)?;
    let (remote_opening, office_mode, privacy_override, utc_offset) =
        membership.ok_or_else(|| ApiError::NotFound(format!("no site {site_id}")))?;
    let iq_id: Option<u32> = db
        .query_row(
            "SELECT iq_id FROM locks WHERE id = ?1 AND site_id = ?2",
            [lock_id, site_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("no lock {lock_id} on this site")))?;
    let forbidden = |message: &str| RemoteError::Api(ApiError::Forbidden(message.into()));
    // Pod guests are refused with their own message; pod members open their pod's locks.
    let pod = crate::pods::remote_opening_right(db, site_id, user_id, lock_id)?;
    if !(remote_opening || office_mode) {
        return Err(forbidden(
            "you do not have the remote opening right on this site",
        ));
    }
    if command != RemoteCommand::Unlock && !office_mode {
        return Err(forbidden(
            "you do not have the remote office mode right on this site",
        ));
    }
    let schedules = lock_schedules(db, lock_id, Some(now))?;
    let any_time = Vec::new();
    let schedule = match pod {
        crate::pods::RemoteOpening::PodMember => &any_time,
        crate::pods::RemoteOpening::NoPodRight => schedules
            .get(&user_id)
            .ok_or_else(|| forbidden("none of your access groups opens this lock"))?,
    };
    if !schedule_allows(schedule, LocalMinute::from_unix(now, utc_offset)) {
        return Err(forbidden(
            "your access to this lock is outside its schedule now",
        ));
    }
    let iq_id = iq_id.ok_or(RemoteError::NoIq)?;
    Ok(RemoteRight {
        iq_id,
        privacy_override,
        office_mode,
    })
}
