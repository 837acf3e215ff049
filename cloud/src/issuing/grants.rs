//! Store queries that gather what a device should hold on a site.

use std::collections::BTreeMap;

use keyway_protocol::{CredentialFlags, PublicKey, ScheduleWindow};
use rusqlite::{Connection, OptionalExtension};

use super::plan::{plan_keys, Grant, GroupRight};
use crate::error::ApiError;
use crate::pods::rights as pods;

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

fn device_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(u32, u32, Vec<u8>)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
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
        "SELECT id, user_id, public_key FROM devices WHERE id = ?1 AND revoked_at IS NULL",
        [device_id],
        device_from_row,
    )
    .optional()?
    .map(to_device)
    .transpose()
}

/// A person's unrevoked devices.
pub fn user_devices(db: &Connection, user_id: u32) -> Result<Vec<DeviceRef>, ApiError> {
    let mut statement = db.prepare(
        "SELECT id, user_id, public_key FROM devices
         WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY id",
    )?;
    let rows = statement
        .query_map([user_id], device_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(to_device).collect()
}

/// The access groups of a site `user_id` is in, with their locks and windows.
fn group_rights(db: &Connection, site_id: u32, user_id: u32) -> Result<Vec<GroupRight>, ApiError> {
    let mut rights: BTreeMap<u32, GroupRight> = BTreeMap::new();
    let mut locks = db.prepare(
        "SELECT g.id, gl.lock_id FROM access_groups g
         JOIN access_group_members m ON m.group_id = g.id
         JOIN access_group_locks gl ON gl.group_id = g.id
         WHERE g.site_id = ?1 AND m.user_id = ?2",
    )?;
    for row in locks.query_map([site_id, user_id], |row| {
        Ok((row.get::<_, u32>(0)?, row.get::<_, u32>(1)?))
    })? {
        let (group_id, lock_id) = row?;
        rights
            .entry(group_id)
            .or_insert_with(|| GroupRight {
                lock_ids: Vec::new(),
                schedule: Vec::new(),
            })
            .lock_ids
            .push(lock_id);
    }
    let mut windows = db.prepare(
        "SELECT w.group_id, w.days, w.start_minute, w.end_minute FROM access_group_windows w
         JOIN access_group_members m ON m.group_id = w.group_id
         JOIN access_groups g ON g.id = w.group_id
         WHERE g.site_id = ?1 AND m.user_id = ?2",
    )?;
    for row in windows.query_map([site_id, user_id], |row| {
        Ok((
            row.get::<_, u32>(0)?,
            ScheduleWindow {
                days: row.get(1)?,
                start_minute: row.get(2)?,
                end_minute: row.get(3)?,
            },
        ))
    })? {
        let (group_id, window) = row?;
        // A group without locks grants nothing, whatever its windows.
        if let Some(right) = rights.get_mut(&group_id) {
            right.schedule.push(window);
        }
    }
    Ok(rights.into_values().collect())
}

/// The grants `device` should hold on `site_id` now (none when its owner is not a member):
/// from access groups and pod membership, plus a pod guest's keys bounded by their stay.
pub fn wanted_grants(
    db: &Connection,
    device: &DeviceRef,
    site_id: u32,
) -> Result<Vec<Grant>, ApiError> {
    let membership: Option<(bool, bool, u32)> = db
        .query_row(
            "SELECT m.privacy_override, m.office_mode, s.revocation_epoch
             FROM memberships m JOIN sites s ON s.id = m.site_id
             WHERE m.site_id = ?1 AND m.user_id = ?2",
            [site_id, device.user_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((privacy_override, office_mode, revocation_epoch)) = membership else {
        return Ok(Vec::new());
    };
    let flags = CredentialFlags {
        master_key: false,
        privacy_override,
        office_mode,
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
    // A pod guest's keys stay apart: they carry the check-in/check-out.
    for guest in pods::guest_rights(db, site_id, device.user_id)? {
        let right = GroupRight {
            lock_ids: guest.lock_ids,
            schedule: Vec::new(),
        };
        grants.extend(
            plan_keys(&[right])
                .into_iter()
                .map(|key| grant(key, Some(guest.stay))),
        );
    }
    Ok(grants)
}
