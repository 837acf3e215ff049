//! The Events page (owner, admins, super users): what every lock of the site logged, newest
//! first, filtered by lock, person (their e-mail), outcome and dates (the site's own days),
//! a page at a time, and the same filtered list as a CSV file (the newest
//! [`MAX_SITE_EVENTS`]). The records are the ones the cloud verified against each lock's key
//! and hash chain ([`crate::api::site_events`]).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use keyway_protocol::{Command, LockReport, RefusalReason};
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{on_site, OnSite};
use super::layout::{error_alert, error_page, page, public_message, with_headers, Section};
use super::paths;
use super::people::person_by_email;
use crate::api::site_events::{
    event_locks, site_events, EventCursor, SiteEvent, SiteEventsFilter, MAX_SITE_EVENTS,
};
use crate::api::sites::site_view;
use crate::error::ApiError;
use crate::AppState;

/// Events per page.
const EVENTS_PER_PAGE: u32 = 50;
/// The export's file name.
const EXPORT_FILE: &str = "keyway-events.csv";

/// The filter form as the browser sends it (an empty field is no filter).
#[derive(Debug, Default, Deserialize)]
pub(super) struct EventSearch {
    /// A lock id.
    #[serde(default)]
    lock: String,
    /// A person's e-mail.
    #[serde(default)]
    person: String,
    /// `granted`, `refused`, or empty.
    #[serde(default)]
    result: String,
    /// The first day (`YYYY-MM-DD`, the site's).
    #[serde(default)]
    from: String,
    /// The last day, included.
    #[serde(default)]
    until: String,
    /// Where the page starts (older than this event).
    #[serde(default)]
    before: String,
}

impl EventSearch {
    fn pairs<'a>(&'a self, before: &'a str) -> [(&'static str, &'a str); 6] {
        [
            ("lock", self.lock.as_str()),
            ("person", self.person.as_str()),
            ("result", self.result.as_str()),
            ("from", self.from.as_str()),
            ("until", self.until.as_str()),
            ("before", before),
        ]
    }

    /// `base` with these filters and `before`.
    fn link(&self, base: &str, before: &str) -> String {
        let pairs = self.pairs(before);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()))
            .finish();
        format!("{base}?{query}")
    }
}

/// Midnight at the start of `day` on the site, in Unix seconds.
fn site_midnight(text: &str, utc_offset_minutes: i32) -> Result<i64, ApiError> {
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::InvalidInput(format!("{text:?} is not a date such as 2026-12-01"))
    })?;
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .map(|time| time.and_utc().timestamp());
    midnight
        .map(|utc| utc - i64::from(utc_offset_minutes) * 60)
        .ok_or_else(|| ApiError::InvalidInput(format!("{text:?} is not a date")))
}

/// The filter the form asks for (a person by their e-mail on the site).
async fn filter(
    state: &AppState,
    visitor: &OnSite,
    search: &EventSearch,
    utc_offset_minutes: i32,
) -> Result<(SiteEventsFilter, Option<EventCursor>), ApiError> {
    let non_empty = |text: &str| Some(text.trim().to_string()).filter(|text| !text.is_empty());
    let lock_id = non_empty(&search.lock)
        .map(|text| {
            text.parse::<u32>()
                .map_err(|_| ApiError::InvalidInput("choose a lock".into()))
        })
        .transpose()?;
    let user_id = match non_empty(&search.person) {
        Some(email) => Some(person_by_email(state, visitor, &email).await?.user_id),
        None => None,
    };
    let granted = match search.result.as_str() {
        "granted" => Some(true),
        "refused" => Some(false),
        _ => None,
    };
    let from = non_empty(&search.from)
        .map(|day| site_midnight(&day, utc_offset_minutes))
        .transpose()?;
    let until = non_empty(&search.until)
        .map(|day| {
            site_midnight(&day, utc_offset_minutes)
                .map(|start| start + Duration::days(1).num_seconds())
        })
        .transpose()?;
    let before = non_empty(&search.before)
        .map(|text| EventCursor::decode(&text))
        .transpose()?;
    Ok((
        SiteEventsFilter {
            lock_id,
            user_id,
            granted,
            from,
            until,
        },
        before,
    ))
}

/// The event's time on the site's clock.
pub(super) fn local_time(time: i64, utc_offset_minutes: i32) -> String {
    DateTime::<Utc>::from_timestamp(time + i64::from(utc_offset_minutes) * 60, 0).map_or_else(
        || time.to_string(),
        |at| at.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn command_text(code: u8) -> &'static str {
    match (Command::from_code(code), LockReport::from_code(code)) {
        (Ok(Command::Unlock), _) => "Open",
        (Ok(Command::OfficeModeOn), _) => "Office mode on",
        (Ok(Command::OfficeModeOff), _) => "Office mode off",
        (Err(_), Some(report)) => report_text(report),
        (Err(_), None) => "Unknown command",
    }
}

/// A lock's own report in words.
fn report_text(report: LockReport) -> &'static str {
    match report {
        LockReport::DoorOpened => "Door opened",
        LockReport::DoorClosed => "Door closed",
        LockReport::DoorLeftOpen => "Door left open",
        LockReport::DoorForced => "Door forced",
        LockReport::Battery => "Battery level",
        LockReport::BatteryLow => "Battery low",
        LockReport::PrivacyEngaged => "Privacy mode engaged",
        LockReport::PrivacyReleased => "Privacy mode released",
        LockReport::OfficeModeEnded => "Easy office mode ended",
    }
}

/// The table of a page of events, newest first: the Events page's, and a lock's own log
/// (without the lock column, and with each record's position in the lock's log).
pub(super) fn events_table(
    events: &[SiteEvent],
    utc_offset_minutes: i32,
    one_lock: bool,
) -> Markup {
    html! {
        div.table-wrap { table.events {
            caption { "Newest first; times are the site's" }
            thead { tr {
                @if one_lock { th scope="col" { "Record" } }
                th scope="col" { "Time" }
                @if !one_lock { th scope="col" { "Lock" } }
                th scope="col" { "Person" } th scope="col" { "Action" } th scope="col" { "Outcome" } } }
            tbody { @for event in events {
                tr data-granted=(event.granted) data-lock=(event.lock_id) data-seq=(event.seq) {
                    @if one_lock { td { (event.seq) } }
                    td { (local_time(event.time, utc_offset_minutes)) }
                    @if !one_lock { td { (event.lock_name) } }
                    td { (person_text(event)) }
                    td { (command_text(event.command)) }
                    td { (outcome_text(event)) }
                }
            } }
        } }
    }
}

fn outcome_text(event: &SiteEvent) -> String {
    if event.granted {
        "Granted".into()
    } else {
        let reason = RefusalReason::from_code(event.reason_code)
            .map_or("unknown reason", RefusalReason::describe);
        format!("Refused: {reason}")
    }
}

fn person_text(event: &SiteEvent) -> String {
    match (&event.person, event.user_id) {
        (Some(name), _) => name.clone(),
        (None, 0) => "Unknown".into(),
        (None, id) => format!("Person #{id} (no longer on the site)"),
    }
}

fn filter_form(
    site_id: u32,
    search: &EventSearch,
    locks: &[(u32, String)],
    error: Option<&ApiError>,
) -> Markup {
    let option = |value: &str, label: &str, chosen: &str| {
        html! { option value=(value) selected[value == chosen] { (label) } }
    };
    html! {
        form method="get" action=(paths::events(site_id)) role="search" {
            @if let Some(error) = error { (error_alert(error.code(), &public_message(error), Some("filter-error"))) }
            label for="lock" { "Lock" }
            select #lock name="lock" {
                (option("", "Every lock", &search.lock))
                @for (id, name) in locks { (option(&id.to_string(), name, &search.lock)) }
            }
            label for="person" { "Person (their e-mail)" }
            input #person type="email" name="person" value=(search.person) autocomplete="off"
                aria-describedby=[error.map(|_| "filter-error")];
            label for="result" { "Outcome" }
            select #result name="result" {
                (option("", "Granted or refused", &search.result))
                (option("granted", "Granted", &search.result))
                (option("refused", "Refused", &search.result))
            }
            label for="from" { "From (day)" }
            input #from type="date" name="from" value=(search.from);
            label for="until" { "Until (day, included)" }
            input #until type="date" name="until" value=(search.until);
            button type="submit" { "Filter" }
        }
    }
}

/// What the Events page and the export both need first.
struct Context {
    visitor: OnSite,
    utc_offset_minutes: i32,
}

async fn context(state: &AppState, headers: &HeaderMap, site_id: u32) -> Result<Context, Response> {
    let visitor = on_site(state, headers, site_id).await?;
    match state.store.run(move |db| site_view(db, site_id)).await {
        Ok(site) => Ok(Context {
            visitor,
            utc_offset_minutes: site.utc_offset_minutes,
        }),
        Err(error) => Err(error_page(&error, Some(&visitor.nav(Section::Events)))),
    }
}

/// `GET /web/console/sites/{site_id}/events`.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    Query(search): Query<EventSearch>,
) -> Response {
    let Context {
        visitor,
        utc_offset_minutes,
    } = match context(&state, &headers, site_id).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::Events);
    let locks = match event_locks(&state, visitor.user_id(), site_id).await {
        Ok(locks) => locks,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let listed = match filter(&state, &visitor, &search, utc_offset_minutes).await {
        Ok((filter, before)) => {
            site_events(
                &state,
                visitor.user_id(),
                site_id,
                filter,
                before,
                EVENTS_PER_PAGE,
            )
            .await
        }
        Err(error) => Err(error),
    };
    let listing = match listed {
        Ok(listing) => listing,
        Err(error @ (ApiError::InvalidInput(_) | ApiError::NotFound(_))) => {
            let body = filter_form(site_id, &search, &locks, Some(&error));
            return page(error.status(), "Events", Some(&nav), body);
        }
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let body = html! {
        (filter_form(site_id, &search, &locks, None))
        p { a href=(search.link(&paths::events_csv(site_id), "")) download {
            "Download these events as CSV (the newest " (MAX_SITE_EVENTS) ")" } }
        @if listing.events.is_empty() { p.empty { "No event matches." } } @else {
            (events_table(&listing.events, utc_offset_minutes, false))
        }
        nav aria-label="Pages" {
            @if !search.before.is_empty() { a href=(search.link(&paths::events(site_id), "")) { "Newest events" } " " }
            @if let Some(next) = listing.next {
                a rel="next" href=(search.link(&paths::events(site_id), &next.encode())) { "Older events" }
            }
        }
    };
    page(StatusCode::OK, "Events", Some(&nav), body)
}

/// `GET /web/console/sites/{site_id}/events.csv`: the filtered events as a CSV file.
pub(super) async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    Query(search): Query<EventSearch>,
) -> Response {
    let Context {
        visitor,
        utc_offset_minutes,
    } = match context(&state, &headers, site_id).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let listed = match filter(&state, &visitor, &search, utc_offset_minutes).await {
        Ok((filter, before)) => {
            site_events(
                &state,
                visitor.user_id(),
                site_id,
                filter,
                before,
                MAX_SITE_EVENTS,
            )
            .await
        }
        Err(error) => Err(error),
    };
    let events = match listed {
        Ok(listing) => listing.events,
        Err(error) => return error_page(&error, Some(&visitor.nav(Section::Events))),
    };
    match csv_file(&events, utc_offset_minutes) {
        Ok(file) => with_headers(
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{EXPORT_FILE}\""),
                    ),
                ],
                file,
            )
                .into_response(),
        ),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Events))),
    }
}

fn csv_file(events: &[SiteEvent], utc_offset_minutes: i32) -> Result<Vec<u8>, ApiError> {
    let failed =
        |error: csv::Error| ApiError::Internal(format!("writing the events file: {error}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "Time",
            "Lock",
            "Lock id",
            "Seq",
            "Person",
            "Person id",
            "Action",
            "Outcome",
        ])
        .map_err(failed)?;
    for event in events {
        writer
            .write_record([
                local_time(event.time, utc_offset_minutes),
                event.lock_name.clone(),
                event.lock_id.to_string(),
                event.seq.to_string(),
                person_text(event),
                event.user_id.to_string(),
                command_text(event.command).to_string(),
                outcome_text(event),
            ])
            .map_err(failed)?;
    }
    writer
        .into_inner()
        .map_err(|error| ApiError::Internal(format!("writing the events file: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_the_sites_own() {
        // 2026-12-01 00:00 at UTC+01:00 is 2026-11-30 23:00 UTC.
        assert_eq!(site_midnight("2026-12-01", 60).unwrap(), 1_796_079_600);
        assert_eq!(local_time(1_796_079_600, 60), "2026-12-01 00:00:00");
        for bad in ["", "2026-13-01", "01/12/2026", "tomorrow"] {
            assert!(site_midnight(bad, 0).is_err(), "{bad}");
        }
    }
}
