//! A lock's settings (owner and admins: "Be aware you need to be a Site admin to enable the
//! Near Detection Mode"): the door-open limit, Near Detection Mode (its IQ must run firmware
//! 2.3 or later: "To enable the Near Detection Mode you need at least IQ version 2.3.X"), and
//! the Easy Office Mode windows.

use keyway_api::lock_rules::{LockSettingsView, UpdateLockSettingsRequest};
use keyway_protocol::{LockSettings, ScheduleWindow};
use rusqlite::{Connection, OptionalExtension};

use crate::error::{ApiError, ApiResult};
use crate::store::rows;

/// The weakest phone signal a near-detection lock answers (dBm).
pub const NEAR_DETECTION_MIN_RSSI: i8 = -60;
/// The oldest IQ firmware with Near Detection Mode.
pub const NEAR_DETECTION_FIRMWARE: (u32, u32) = (2, 3);
/// The door-open limits an admin may set, in seconds.
pub const DOOR_OPEN_LIMITS: std::ops::RangeInclusive<u16> = 5..=3600;
/// The most Easy Office Mode windows per lock.
pub const MAX_EASY_OFFICE_WINDOWS: usize = 14;

fn easy_office_windows(db: &Connection, lock_id: u32) -> ApiResult<Vec<ScheduleWindow>> {
    let raw: Vec<(u8, u16, u16)> = rows(
        db,
        "SELECT days, start_minute, end_minute FROM lock_easy_office_windows WHERE lock_id = ?1
         ORDER BY rowid",
        [lock_id],
        |row| row.try_into(),
    )?;
    raw.into_iter()
        .map(|(days, start, end)| {
            ScheduleWindow::new(days, start, end)
                .map_err(|error| ApiError::Internal(format!("stored window: {error}")))
        })
        .collect()
}

/// The settings of a lock of the site (serial 0: the caller sets it), or 404.
pub fn lock_settings(db: &Connection, site_id: u32, lock_id: u32) -> ApiResult<LockSettings> {
    let view = view(db, site_id, lock_id)?;
    Ok(LockSettings {
        site_id,
        lock_id,
        serial: 0,
        door_open_limit_seconds: view.door_open_limit_seconds,
        near_detection_min_rssi: view.near_detection.then_some(NEAR_DETECTION_MIN_RSSI),
        easy_office_schedule: view.easy_office_schedule,
    })
}

/// A lock's settings as admins see them, or 404.
pub fn view(db: &Connection, site_id: u32, lock_id: u32) -> ApiResult<LockSettingsView> {
    let row: Option<(u16, bool, u32)> = db
        .query_row(
            "SELECT door_open_limit_seconds, near_detection, offline_capacity FROM locks
             WHERE id = ?1 AND site_id = ?2",
            [lock_id, site_id],
            |row| row.try_into(),
        )
        .optional()?;
    let (door_open_limit_seconds, near_detection, offline_capacity) =
        row.ok_or_else(|| ApiError::NotFound(format!("no lock {lock_id} on this site")))?;
    Ok(LockSettingsView {
        lock_id,
        door_open_limit_seconds,
        near_detection,
        easy_office_schedule: easy_office_windows(db, lock_id)?,
        offline_capacity,
    })
}

/// `major.minor` of a firmware version text (`2.3.1`).
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn check_near_detection_firmware(db: &Connection, lock_id: u32) -> ApiResult<()> {
    let (iq_id, firmware): (Option<u32>, Option<String>) = db.query_row(
        "SELECT l.iq_id, i.firmware FROM locks l LEFT JOIN iqs i ON i.id = l.iq_id
         WHERE l.id = ?1",
        [lock_id],
        |row| row.try_into(),
    )?;
    let Some(iq_id) = iq_id else {
        return Err(ApiError::IqFirmwareTooOld(format!(
            "lock {lock_id} has no IQ: Near Detection Mode needs an IQ at firmware 2.3 or later"
        )));
    };
    let version = firmware.as_deref().and_then(major_minor);
    if version.is_some_and(|version| version >= NEAR_DETECTION_FIRMWARE) {
        return Ok(());
    }
    Err(ApiError::IqFirmwareTooOld(format!(
        "IQ {iq_id} runs firmware {}: Near Detection Mode needs 2.3 or later",
        firmware.as_deref().unwrap_or("of unknown version")
    )))
}

/// Applies `change` to a lock's settings (the caller checked the role).
pub fn update(
    db: &Connection,
    site_id: u32,
    lock_id: u32,
    change: &UpdateLockSettingsRequest,
) -> ApiResult<LockSettingsView> {
    let current = view(db, site_id, lock_id)?;
    if let Some(limit) = change.door_open_limit_seconds {
        if !DOOR_OPEN_LIMITS.contains(&limit) {
            return Err(ApiError::InvalidInput(format!(
                "door_open_limit_seconds must be between {} and {}",
                DOOR_OPEN_LIMITS.start(),
                DOOR_OPEN_LIMITS.end()
            )));
        }
    }
    if change.near_detection == Some(true) && !current.near_detection {
        check_near_detection_firmware(db, lock_id)?;
    }
    db.execute(
        "UPDATE locks SET door_open_limit_seconds = COALESCE(?1, door_open_limit_seconds),
            near_detection = COALESCE(?2, near_detection) WHERE id = ?3",
        rusqlite::params![
            change.door_open_limit_seconds,
            change.near_detection,
            lock_id
        ],
    )?;
    if let Some(windows) = &change.easy_office_schedule {
        if windows.len() > MAX_EASY_OFFICE_WINDOWS {
            return Err(ApiError::InvalidInput(format!(
                "at most {MAX_EASY_OFFICE_WINDOWS} easy office mode windows"
            )));
        }
        let windows = windows
            .iter()
            .map(|w| ScheduleWindow::new(w.days, w.start_minute, w.end_minute))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| ApiError::InvalidInput(format!("easy_office_schedule: {error}")))?;
        db.execute(
            "DELETE FROM lock_easy_office_windows WHERE lock_id = ?1",
            [lock_id],
        )?;
        for window in windows {
            db.execute(
                "INSERT INTO lock_easy_office_windows (lock_id, days, start_minute, end_minute)
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![lock_id, window.days, window.start_minute, window.end_minute],
            )?;
        }
    }
    view(db, site_id, lock_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firmware_versions_compare_by_major_then_minor() {
        let ok = |text: &str| major_minor(text).is_some_and(|v| v >= NEAR_DETECTION_FIRMWARE);
        assert!(ok("2.3.0") && ok("2.10") && ok("3.0.1"));
        assert!(!ok("2.2.9") && !ok("1.9") && !ok("two") && !ok("2"));
    }
}
