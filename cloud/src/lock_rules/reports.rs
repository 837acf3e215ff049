//! A lock's own reports (door, battery, privacy knob), as they arrive in its event records
//! through the IQ or a phone: kept as the lock's state for the admins, and, for a door left
//! open, a forced door or a low battery, an alert e-mail to the site owner (manual 000: only
//! the owner receives notifications): one per lock and kind an hour, and at most
//! [`ALERTS_PER_HOUR`] an hour for one owner, counted apart from their other mail.

use keyway_api::lock_rules::LockStateView;
use keyway_protocol::{LockEvent, LockReport};
use rusqlite::{Connection, OptionalExtension};

use crate::email::outbox::{queue_capped_as, NewEmail};
use crate::error::ApiResult;

/// Alert e-mails one owner gets an hour, at most (a lock gone mad must not flood them).
pub const ALERTS_PER_HOUR: u32 = 30;

/// The lock columns [`state_from_row`] reads, in its order (`l` is the `locks` table).
pub(crate) const STATE_COLUMNS: &str = "l.battery_percent, l.door_open, l.privacy_engaged, \
    l.state_reported_at, l.battery_at, l.door_at, l.privacy_at";

/// What a lock row holds of its last reports: [`STATE_COLUMNS`] from column `first` on.
pub(crate) fn state_from_row(
    row: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<LockStateView> {
    Ok(LockStateView {
        battery_percent: row.get(first)?,
        door_open: row.get(first + 1)?,
        privacy_engaged: row.get(first + 2)?,
        reported_at: row.get(first + 3)?,
        battery_reported_at: row.get(first + 4)?,
        door_reported_at: row.get(first + 5)?,
        privacy_reported_at: row.get(first + 6)?,
    })
}

/// How far ahead of the cloud's clock a lock's report may be and still change its state (a
/// lock whose clock ran far ahead must not freeze it).
pub const REPORT_CLOCK_SKEW_SECONDS: i64 = 300;

/// Applies a newly stored record if it is a report. Each part of the state (battery, door,
/// privacy) keeps the time of its latest report: an older one of that part, brought late by a
/// phone, does not overwrite it. Reports from beyond the cloud's clock change nothing. Alerts
/// go out either way.
pub(crate) fn on_stored_event(db: &Connection, event: &LockEvent, now: i64) -> ApiResult<()> {
    let Some((report, value)) = LockReport::of_event(event) else {
        return Ok(());
    };
    let column = match report {
        LockReport::Battery | LockReport::BatteryLow => Some((
            "battery_percent",
            "battery_at",
            i64::try_from(value.min(100)).unwrap_or(100),
        )),
        LockReport::DoorOpened | LockReport::DoorForced | LockReport::DoorLeftOpen => {
            Some(("door_open", "door_at", 1))
        }
        LockReport::DoorClosed => Some(("door_open", "door_at", 0)),
        LockReport::PrivacyEngaged => Some(("privacy_engaged", "privacy_at", 1)),
        LockReport::PrivacyReleased => Some(("privacy_engaged", "privacy_at", 0)),
        LockReport::OfficeModeEnded => None,
    };
    let believable = event.time <= now.saturating_add(REPORT_CLOCK_SKEW_SECONDS);
    if let Some((column, at, value)) = column.filter(|_| believable) {
        db.execute(
            &format!(
                "UPDATE locks SET {column} = ?1, {at} = ?2,
                    state_reported_at = MAX(COALESCE(state_reported_at, ?2), ?2)
                 WHERE id = ?3 AND COALESCE({at}, ?2) <= ?2"
            ),
            rusqlite::params![value, event.time, event.lock_id],
        )?;
    }
    if report.alerts_owner() {
        alert_owner(db, event, report, value, now)?;
    }
    Ok(())
}

fn alert_owner(
    db: &Connection,
    event: &LockEvent,
    report: LockReport,
    value: u64,
    now: i64,
) -> ApiResult<()> {
    let owner: Option<(String, String, String)> = db
        .query_row(
            "SELECT u.email, l.name, s.name FROM locks l JOIN sites s ON s.id = l.site_id
             JOIN memberships m ON m.site_id = l.site_id AND m.role = 'owner'
             JOIN users u ON u.id = m.user_id
             WHERE l.id = ?1 AND u.email IS NOT NULL",
            [event.lock_id],
            |row| row.try_into(),
        )
        .optional()?;
    let Some((to, lock, site)) = owner else {
        return Ok(());
    };
    // One alert per lock and kind an hour: a door forced again, or a battery hovering at the
    // threshold, must not bury the others (the records stay in the log).
    let seen: i64 = db.query_row(
        "SELECT COUNT(*) FROM lock_events WHERE lock_id = ?1 AND command = ?2
         AND received_at > ?3",
        rusqlite::params![event.lock_id, report.code(), now - 3600],
        |row| row.get(0),
    )?;
    if seen > 1 {
        return Ok(());
    }
    let (subject, what) = match report {
        LockReport::DoorLeftOpen => (
            format!("Door left open: {lock}"),
            format!("The door of {lock} has stayed open longer than its limit."),
        ),
        LockReport::DoorForced => (
            format!("Door forced: {lock}"),
            format!("The door of {lock} was opened while it was locked and nobody was let in."),
        ),
        _ => (
            format!("Low battery: {lock}"),
            format!("The battery of {lock} is at {value}%: replace it soon."),
        ),
    };
    let email = NewEmail {
        to,
        subject: format!("Keyway alert: {subject}"),
        body: format!(
            "{what}\n\nSite: {site}\nLock: {lock} (id {})\nLock time: {} (Unix seconds)\n\n\
             This alert is in the lock's event log too.\n",
            event.lock_id, event.time
        ),
        secret: None,
    };
    let cap_key = format!("alerts:{}", email.to);
    queue_capped_as(db, &email, &cap_key, now, ALERTS_PER_HOUR)?;
    Ok(())
}
