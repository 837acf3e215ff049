//! Store queries that gather what a device should hold on a site.

use std::collections::BTreeMap;

use keyway_protocol::{CredentialFlags, PublicKey, ScheduleWindow};
use rusqlite::{Connection, OptionalExtension, Row};

use super::plan::{plan_keys, Grant, GroupRight, Stay};
use crate::error::{ApiError, ApiResult};
use crate::pods::rights as pods;
use crate::store::rows;

/// Access-group windows with their group, as read by [`group_window`]; add the joins and the
/// condition (the windows table is `w`).
pub(crate) const GROUP_WINDOWS: &str =
    "SELECT w.group_id, w.days, w.start_minute, w.end_minute FROM access_group_windows w";

/// One row of [`GROUP_WINDOWS`]: the group and its window.
pub(crate) fn group_window(row: &Row<'_>) -> rusqlite::Result<(u32, ScheduleWindow)> {
    Ok((
        row.get(0)?,
        ScheduleWindow {
            days: row.get(1)?,
            start_minute: row.get(2)?,
            end_minute: row.get(3)?,
        },
    ))
}

/// A registered, unrevoked device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRef {
    /// Device id.
    pub device_id: u32,
    /// Its owner.
    pub user_id: u32,
    /// Its key.
    pub public_key: PublicKey,
}

const DEVICE_COLUMNS: &str = "SELECT id, user_id, public_key FROM devices";

fn device_from_row(row: &Row<'_>) -> rusqlite::Result<(u32, u32, Vec<u8>)> {
    <(u32, u32, Vec<u8>)>::try_from(row)
}

fn to_device((device_id, user_id, key): (u32, u32, Vec<u8>)) -> Result<DeviceRef, ApiError> {
    let public_key = PublicKey::from_bytes(&key)
        .map_err(|error| ApiError::Internal(format!("device {device_id} key: {error}")))?;
    Ok(DeviceRef {
        device_id,
        user_id,
        public_key,
    })
}

/// An unrevoked device by id.
pub fn find_device(db: &Connection, device_id: u32) -> Result<Option<DeviceRef>, ApiError> {
    db.query_row(
        &format!("{DEVICE_COLUMNS} WHERE id = ?1 AND revoked_at IS NULL"),
        [device_id],
        device_from_row,
    )
    .optional()?
    .map(to_device)
    .transpose()
}

/// The caller's own unrevoked device, or 404 (someone else's device is invisible).
pub fn own_device(db: &Connection, user_id: u32, device_id: u32) -> ApiResult<DeviceRef> {
    find_device(db, device_id)?
        .filter(|device| device.user_id == user_id)
        .ok_or_else(|| ApiError::NotFound(format!("no device {device_id}")))
}

/// A person's unrevoked devices.
pub fn user_devices(db: &Connection, user_id: u32) -> Result<Vec<DeviceRef>, ApiError> {
    let sql = format!("{DEVICE_COLUMNS} WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY id");
    rows(db, &sql, [user_id], device_from_row)?
        .into_iter()
        .map(to_device)
        .collect()
}

/// The access groups of a site `user_id` is in for good (not for a time: see
/// [`timed_rights`]), with their locks and windows.
fn group_rights(db: &Connection, site_id: u32, user_id: u32) -> Result<Vec<GroupRight>, ApiError> {
    let mut rights: BTreeMap<u32, GroupRight> = BTreeMap::new();
    let locks: Vec<(u32, u32)> = rows(
        db,
        "SELECT g.id, gl.lock_id FROM access_groups g
         JOIN access_group_members m ON m.group_id = g.id
         JOIN access_group_locks gl ON gl.group_id = g.id
         WHERE g.site_id = ?1 AND m.user_id = ?2
           AND m.valid_from IS NULL AND m.valid_until IS NULL",
        [site_id, user_id],
        |row| row.try_into(),
    )?;
    for (group_id, lock_id) in locks {
        rights
            .entry(group_id)
            .or_insert_with(|| GroupRight {
                lock_ids: Vec::new(),
                schedule: Vec::new(),
            })
            .lock_ids
            .push(lock_id);
    }
    let windows = format!(
        "{GROUP_WINDOWS} JOIN access_group_members m ON m.group_id = w.group_id
         JOIN access_groups g ON g.id = w.group_id
         WHERE g.site_id = ?1 AND m.user_id = ?2
           AND m.valid_from IS NULL AND m.valid_until IS NULL"
    );
    for (group_id, window) in rows(db, &windows, [site_id, user_id], group_window)? {
        // A group without locks grants nothing, whatever its windows.
        if let Some(right) = rights.get_mut(&group_id) {
            right.schedule.push(window);
        }
    }
    Ok(rights.into_values().collect())
}

/// What `user_id` has on `site_id` for a time: memberships with a start or an end (a
/// subscription: the group's locks and weekly schedule) and bookings (a room or a desk: the
/// group's locks within the booking, whatever the schedule). Each is bounded by its
/// [`Stay`], so its keys carry the dates and the lock's clock enforces them.
fn timed_rights(
    db: &Connection,
    site_id: u32,
    user_id: u32,
) -> Result<Vec<(GroupRight, Stay)>, ApiError> {
    // (group, from, until, whether the group's schedule applies)
    let timed: Vec<(u32, Option<i64>, Option<i64>, bool)> = rows(
        db,
        "SELECT m.group_id, m.valid_from, m.valid_until, 1 FROM access_group_members m
         JOIN access_groups g ON g.id = m.group_id
         WHERE g.site_id = ?1 AND m.user_id = ?2
           AND (m.valid_from IS NOT NULL OR m.valid_until IS NOT NULL)
         UNION ALL
         SELECT b.group_id, b.valid_from, b.valid_until, 0 FROM bookings b
         JOIN booking_people p ON p.booking_id = b.id
         WHERE b.site_id = ?1 AND p.user_id = ?2
         ORDER BY 1, 2, 3",
        [site_id, user_id],
        |row| row.try_into(),
    )?;
    let mut rights = Vec::new();
    for (group_id, from, until, scheduled) in timed {
        let lock_ids: Vec<u32> = rows(
            db,
            "SELECT lock_id FROM access_group_locks WHERE group_id = ?1 ORDER BY lock_id",
            [group_id],
            |row| row.get(0),
        )?;
        if lock_ids.is_empty() {
            continue;
        }
        let schedule = if scheduled {
            let windows = format!("{GROUP_WINDOWS} WHERE w.group_id = ?1");
            rows(db, &windows, [group_id], group_window)?
                .into_iter()
                .map(|(_, window)| window)
                .collect()
        } else {
            Vec::new()
        };
        let stay = Stay {
            from: from.unwrap_or(i64::MIN),
            until: until.unwrap_or(i64::MAX),
        };
        rights.push((GroupRight { lock_ids, schedule }, stay));
    }
    Ok(rights)
}

/// The grants `device` should hold on `site_id` now (none when its owner is not a member, or
/// their place is suspended):
/// from access groups and pod membership, plus keys bounded by dates: a pod guest's stay, a
/// membership's start and end, a booking.
pub fn wanted_grants(
    db: &Connection,
    device: &DeviceRef,
    site_id: u32,
) -> Result<Vec<Grant>, ApiError> {
    let membership: Option<(bool, bool, bool, u32)> = db
        .query_row(
            "SELECT m.privacy_override, m.office_mode, m.offline_access OR m.role = 'owner',
                    s.revocation_epoch
             FROM memberships m JOIN sites s ON s.id = m.site_id
             WHERE m.site_id = ?1 AND m.user_id = ?2 AND m.suspended_at IS NULL",
            [site_id, device.user_id],
            |row| row.try_into(),
        )
        .optional()?;
    let Some((privacy_override, office_mode, offline_access, revocation_epoch)) = membership else {
        return Ok(Vec::new());
    };
    let flags = CredentialFlags {
        master_key: false,
        privacy_override,
        office_mode,
        offline_access,
    };
    let grant = |key, stay| Grant {
        site_id,
        user_id: device.user_id,
        device_id: device.device_id,
        device_key: device.public_key,
        key,
        flags,
        revocation_epoch,
        stay,
    };
    let mut rights = group_rights(db, site_id, device.user_id)?;
    rights.extend(pods::member_rights(db, site_id, device.user_id)?);
    let mut grants: Vec<Grant> = plan_keys(&rights)
        .into_iter()
        .map(|key| grant(key, None))
        .collect();
    // A pod guest's keys, and access for a time, stay apart: they carry their dates.
    let mut timed = timed_rights(db, site_id, device.user_id)?;
    for guest in pods::guest_rights(db, site_id, device.user_id)? {
        let right = GroupRight {
            lock_ids: guest.lock_ids,
            schedule: Vec::new(),
        };
        timed.push((right, guest.stay));
    }
    for (right, stay) in timed {
        // Office mode would leave the door open past the key's end: not on dated keys.
        grants.extend(plan_keys(&[right]).into_iter().map(|key| Grant {
            flags: CredentialFlags {
                office_mode: false,
                ..flags
            },
            ..grant(key, Some(stay))
        }));
    }
    Ok(grants)
}
