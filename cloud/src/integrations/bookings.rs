//! Bookings (manual 004): a room's or a desk's access group for the booker and the invitees,
//! "for the duration of the booking", with "a 30-minute grace period before and after the
//! booking time". A room opens from its start less the grace to its end plus the grace
//! (12:00–16:00 opens 11:30–16:30); a desk lasts the location's schedule that day, with the
//! same grace (a 9:00–19:00 day opens 8:30–19:30). The booking's keys carry those times, so
//! the lock's own clock enforces them; the group's weekly schedule does not apply.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime, Timelike};
use keyway_api::integrations::{BookingKind, BookingRequest, BookingView};
use rusqlite::{Connection, OptionalExtension};

use super::caller::IntegrationCaller;
use super::people::{audit, check_external_id, check_system_group, person_of};
use crate::error::{ApiError, ApiResult};
use crate::issuing::revoke::reconcile_person;
use crate::store::rows;

/// The grace before and after a booking.
pub const GRACE_SECONDS: i64 = 30 * 60;
/// The most people (booker and invitees) on one booking.
pub const MAX_BOOKING_PEOPLE: usize = 100;
/// How far ahead a booking may start: two years.
pub const MAX_BOOKING_AHEAD_SECONDS: i64 = 2 * 366 * 86_400;
/// The longest booking: a month.
pub const MAX_BOOKING_SECONDS: i64 = 31 * 86_400;

fn kind_name(kind: BookingKind) -> &'static str {
    match kind {
        BookingKind::Room => "room",
        BookingKind::Desk => "desk",
    }
}

fn kind_of(name: &str) -> BookingKind {
    if name == "desk" {
        BookingKind::Desk
    } else {
        BookingKind::Room
    }
}

/// Minutes since midnight of `HH:MM` (`24:00` is the day's end).
fn minute_of_day(field: &str, text: Option<&str>) -> ApiResult<i64> {
    let text =
        text.ok_or_else(|| ApiError::InvalidInput(format!("a desk booking needs `{field}`")))?;
    if text == "24:00" {
        return Ok(24 * 60);
    }
    NaiveTime::parse_from_str(text, "%H:%M")
        .map(|time| i64::from(time.hour()) * 60 + i64::from(time.minute()))
        .map_err(|_| ApiError::InvalidInput(format!("`{field}` is a time as HH:MM")))
}

/// When the booking's access starts and ends (Unix seconds), the grace included.
fn access_window(request: &BookingRequest, utc_offset_minutes: i64) -> ApiResult<(i64, i64)> {
    let (start, end) = match request.kind {
        BookingKind::Room => match (request.start, request.end) {
            (Some(start), Some(end)) => (start, end),
            _ => {
                return Err(ApiError::InvalidInput(
                    "a room booking needs `start` and `end`".into(),
                ))
            }
        },
        BookingKind::Desk => {
            let date = request
                .date
                .as_deref()
                .ok_or_else(|| ApiError::InvalidInput("a desk booking needs `date`".into()))?;
            let midnight = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| ApiError::InvalidInput("`date` is a day as YYYY-MM-DD".into()))?
                .and_time(NaiveTime::MIN)
                .and_utc()
                .timestamp()
                .saturating_sub(utc_offset_minutes.saturating_mul(60));
            let opens = minute_of_day("opens", request.opens.as_deref())?;
            let closes = minute_of_day("closes", request.closes.as_deref())?;
            (
                midnight.saturating_add(opens * 60),
                midnight.saturating_add(closes * 60),
            )
        }
    };
    let length = end.checked_sub(start).filter(|length| *length > 0);
    let Some(length) = length else {
        return Err(ApiError::InvalidInput(
            "a booking ends after it starts".into(),
        ));
    };
    if length > MAX_BOOKING_SECONDS {
        return Err(ApiError::InvalidInput(
            "a booking lasts a month at most: a subscription is a membership with dates".into(),
        ));
    }
    Ok((
        start.saturating_sub(GRACE_SECONDS),
        end.saturating_add(GRACE_SECONDS),
    ))
}

/// A stored booking: its row id, group, kind, access from and until.
type BookingRow = (i64, u32, String, i64, i64);

fn booking_row(db: &Connection, site_id: u32, booking_id: &str) -> ApiResult<Option<BookingRow>> {
    Ok(db
        .query_row(
            "SELECT id, group_id, kind, valid_from, valid_until FROM bookings
             WHERE site_id = ?1 AND external_id = ?2",
            rusqlite::params![site_id, booking_id],
            |row| row.try_into(),
        )
        .optional()?)
}

fn booking_people(db: &Connection, booking: i64) -> ApiResult<BTreeSet<u32>> {
    Ok(rows(
        db,
        "SELECT user_id FROM booking_people WHERE booking_id = ?1",
        [booking],
        |row| row.get(0),
    )?
    .into_iter()
    .collect())
}

/// The booking the system calls `booking_id`, or 404.
pub fn view(db: &Connection, site_id: u32, booking_id: &str) -> ApiResult<BookingView> {
    let (id, group_id, kind, access_from, access_until) = booking_row(db, site_id, booking_id)?
        .ok_or_else(|| ApiError::NotFound(format!("no booking {booking_id:?} on this site")))?;
    let people = rows(
        db,
        "SELECT i.external_id FROM booking_people p
         JOIN integration_people i ON i.user_id = p.user_id AND i.site_id = ?2
         WHERE p.booking_id = ?1 ORDER BY i.external_id",
        rusqlite::params![id, site_id],
        |row| row.get(0),
    )?;
    Ok(BookingView {
        booking_id: booking_id.to_string(),
        kind: kind_of(&kind),
        group_id,
        people,
        access_from,
        access_until,
    })
}

/// Makes or moves the booking the system calls `booking_id`: its group, times and people.
/// People taken off it, and keys carrying its old times, are revoked at once.
pub fn put_booking(
    db: &Connection,
    caller: &IntegrationCaller,
    booking_id: &str,
    request: &BookingRequest,
    now: i64,
) -> ApiResult<BookingView> {
    check_external_id(booking_id)?;
    let site_id = caller.site_id;
    check_system_group(db, caller, request.group_id, true)?;
    if request.people.is_empty() || request.people.len() > MAX_BOOKING_PEOPLE {
        return Err(ApiError::InvalidInput(format!(
            "a booking has 1 to {MAX_BOOKING_PEOPLE} people"
        )));
    }
    let mut wanted = BTreeSet::new();
    for external_id in &request.people {
        check_external_id(external_id)?;
        wanted.insert(person_of(db, site_id, external_id)?);
    }
    let utc_offset: i64 = db.query_row(
        "SELECT utc_offset_minutes FROM sites WHERE id = ?1",
        [site_id],
        |row| row.get(0),
    )?;
    let (from, until) = access_window(request, utc_offset)?;
    if until <= now {
        return Err(ApiError::InvalidInput("the booking is over".into()));
    }
    if from.saturating_sub(now) > MAX_BOOKING_AHEAD_SECONDS {
        return Err(ApiError::InvalidInput(
            "a booking starts within two years".into(),
        ));
    }
    let kind = kind_name(request.kind);
    db.execute(
        "INSERT INTO bookings (site_id, external_id, group_id, kind, valid_from, valid_until,
                               api_key_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (site_id, external_id) DO UPDATE SET group_id = excluded.group_id,
             kind = excluded.kind, valid_from = excluded.valid_from,
             valid_until = excluded.valid_until
         WHERE group_id IS NOT excluded.group_id OR kind IS NOT excluded.kind
            OR valid_from IS NOT excluded.valid_from OR valid_until IS NOT excluded.valid_until",
        rusqlite::params![
            site_id,
            booking_id,
            request.group_id,
            kind,
            from,
            until,
            caller.key_id,
            now
        ],
    )?;
    let (id, ..) = booking_row(db, site_id, booking_id)?
        .ok_or_else(|| ApiError::Internal("a booking just written is missing".into()))?;
    let before = booking_people(db, id)?;
    for user_id in before.difference(&wanted) {
        db.execute(
            "DELETE FROM booking_people WHERE booking_id = ?1 AND user_id = ?2",
            rusqlite::params![id, user_id],
        )?;
    }
    for user_id in wanted.difference(&before) {
        db.execute(
            "INSERT INTO booking_people (booking_id, user_id) VALUES (?1, ?2)",
            rusqlite::params![id, user_id],
        )?;
    }
    // Keys of people taken off, or carrying the old times, no longer match: revoked.
    for user_id in before.union(&wanted) {
        reconcile_person(db, site_id, *user_id, now)?;
    }
    audit(
        db,
        caller,
        "put_booking",
        &format!(
            "booking {booking_id} ({kind}, group {}, {} people) from {from} until {until}",
            request.group_id,
            wanted.len()
        ),
        now,
    )?;
    view(db, site_id, booking_id)
}

/// Cancels a booking: its people's keys for it are revoked at once.
pub fn cancel_booking(
    db: &Connection,
    caller: &IntegrationCaller,
    booking_id: &str,
    now: i64,
) -> ApiResult<()> {
    check_external_id(booking_id)?;
    let site_id = caller.site_id;
    let (id, ..) = booking_row(db, site_id, booking_id)?
        .ok_or_else(|| ApiError::NotFound(format!("no booking {booking_id:?} on this site")))?;
    let people = booking_people(db, id)?;
    db.execute("DELETE FROM booking_people WHERE booking_id = ?1", [id])?;
    db.execute("DELETE FROM bookings WHERE id = ?1", [id])?;
    for user_id in people {
        reconcile_person(db, site_id, user_id, now)?;
    }
    audit(
        db,
        caller,
        "cancel_booking",
        &format!("booking {booking_id} cancelled"),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(start: i64, end: i64) -> BookingRequest {
        BookingRequest {
            kind: BookingKind::Room,
            group_id: 1,
            people: vec!["m-1".into()],
            start: Some(start),
            end: Some(end),
            date: None,
            opens: None,
            closes: None,
        }
    }

    fn desk(date: &str, opens: &str, closes: &str) -> BookingRequest {
        BookingRequest {
            kind: BookingKind::Desk,
            date: Some(date.into()),
            opens: Some(opens.into()),
            closes: Some(closes.into()),
            start: None,
            end: None,
            ..room(0, 0)
        }
    }

    fn unix(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn the_manuals_room_table_holds() {
        // "1/8/2024 12 PM - 4 PM" gives "11:30 AM - 4:30 PM".
        let booked = room(unix("2024-08-01T12:00:00Z"), unix("2024-08-01T16:00:00Z"));
        assert_eq!(
            access_window(&booked, 0).unwrap(),
            (unix("2024-08-01T11:30:00Z"), unix("2024-08-01T16:30:00Z"))
        );
        // "5/12/2024 9:30 AM - 11:30 AM" gives "9:00 AM - 12 PM".
        let booked = room(unix("2024-12-05T09:30:00Z"), unix("2024-12-05T11:30:00Z"));
        assert_eq!(
            access_window(&booked, 0).unwrap(),
            (unix("2024-12-05T09:00:00Z"), unix("2024-12-05T12:00:00Z"))
        );
    }

    #[test]
    fn the_manuals_desk_tables_hold_in_site_time() {
        // A 9 AM - 7 PM schedule gives 8:30 AM - 7:30 PM, in the site's time (UTC+1 here).
        let booked = desk("2024-08-01", "09:00", "19:00");
        assert_eq!(
            access_window(&booked, 60).unwrap(),
            (
                unix("2024-08-01T08:30:00+01:00"),
                unix("2024-08-01T19:30:00+01:00")
            )
        );
        // "10:30 AM - 9:30 PM" gives "10 AM - 10 PM".
        let booked = desk("2024-10-12", "10:30", "21:30");
        assert_eq!(
            access_window(&booked, 0).unwrap(),
            (unix("2024-10-12T10:00:00Z"), unix("2024-10-12T22:00:00Z"))
        );
        // The public schedule, "12:30 PM - 6:30 PM", gives "12 PM - 7 PM".
        let booked = desk("2024-09-15", "12:30", "18:30");
        assert_eq!(
            access_window(&booked, 0).unwrap(),
            (unix("2024-09-15T12:00:00Z"), unix("2024-09-15T19:00:00Z"))
        );
    }

    #[test]
    fn a_booking_without_its_times_or_backwards_is_refused() {
        for booked in [
            room(10, 10),
            room(20, 10),
            room(0, MAX_BOOKING_SECONDS + 1),
            room(-9_000_000_000_000_000_000, 9_000_000_000_000_000_000),
            room(i64::MAX - 10, i64::MIN + 10),
            desk("2024-02-30", "09:00", "19:00"),
            desk("2024-02-06", "9am", "19:00"),
            desk("2024-02-06", "19:00", "09:00"),
            BookingRequest {
                start: None,
                ..room(0, 10)
            },
        ] {
            assert!(
                matches!(access_window(&booked, 0), Err(ApiError::InvalidInput(_))),
                "{booked:?}"
            );
        }
    }
}
