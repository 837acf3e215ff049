//! A lock's page (owner and admins): what it last reported (its IQ online or not, battery,
//! door, privacy mode, each with when), its settings ([`super::lock_settings`]), for a
//! locker who holds it ([`super::locker`]), its own verified event log a page at a time with
//! how far its hash chain links up, and the way to remote opening. The data are the JSON
//! API's own ([`crate::api::locks`], [`crate::api::lock_settings`], [`crate::api::lockers`],
//! [`crate::api::site_events`]).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keyway_api::lock_rules::{LockSettingsView, LockStateView, LockerView};
use keyway_api::{IqView, LockView, PersonView};
use maud::{html, Markup};
use serde::Deserialize;

use super::events::{events_table, local_time};
use super::guard::{on_site, OnSite};
use super::layout::{done_alert, error_page, page, yes_no, Section};
use super::lock_settings::settings_form;
use super::locker::locker_section;
use super::paths;
use super::schedule::Pairs;
use crate::api::lock_settings::settings_of;
use crate::api::lockers::locker_of;
use crate::api::site_events::{
    chain_status, site_events, ChainStatus, EventCursor, SiteEventsFilter, SiteEventsPage,
};
use crate::api::sites::site_view;
use crate::api::{iqs, locks, people};
use crate::error::ApiError;
use crate::AppState;

/// Records of the lock's log per page.
const RECORDS_PER_PAGE: u32 = 50;

/// The page's query: what a form did, and where the log's page starts.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LockQuery {
    /// `settings_saved`, `locker_saved`.
    #[serde(default)]
    done: String,
    /// The log's page starts just older than this record (an Events page cursor).
    #[serde(default)]
    before: String,
}

/// What the page shows after a form: what worked, or a refusal next to its form.
#[derive(Clone, Copy)]
pub(super) enum Outcome<'a> {
    /// Nothing was posted, or what worked: `(data-done, words)`.
    Done(Option<(&'a str, &'a str)>),
    /// The settings form was refused; its fields are shown as posted.
    Settings(&'a ApiError, &'a Pairs),
    /// The locker form was refused; its fields are shown as posted.
    Locker(&'a ApiError, &'a Pairs),
}

impl Outcome<'_> {
    fn status(self) -> StatusCode {
        match self {
            Outcome::Done(_) => StatusCode::OK,
            Outcome::Settings(error, _) | Outcome::Locker(error, _) => error.status(),
        }
    }
}

fn done_message(done: &str) -> Option<(&'static str, &'static str)> {
    Some(match done {
        "settings_saved" => (
            "settings_saved",
            "Saved: the lock gets its settings at its IQ's next push.",
        ),
        "locker_saved" => (
            "locker_saved",
            "Saved: who holds the locker changed; those taken off lose their keys at once.",
        ),
        _ => return None,
    })
}

/// Everything the page shows, read at once.
struct LockData {
    lock: LockView,
    settings: LockSettingsView,
    locker: Option<(LockerView, Vec<PersonView>)>,
    iq: Option<IqView>,
    chain: ChainStatus,
    log: SiteEventsPage,
    utc_offset_minutes: i32,
}

async fn holders(
    state: &AppState,
    visitor: &OnSite,
    locker: &LockerView,
) -> Result<Vec<PersonView>, ApiError> {
    let mut found = Vec::new();
    for user_id in &locker.user_ids {
        found.push(people::one(state, visitor.user_id(), visitor.site_id(), *user_id).await?);
    }
    Ok(found)
}

async fn lock_data(
    state: &AppState,
    visitor: &OnSite,
    lock_id: u32,
    before: Option<EventCursor>,
) -> Result<LockData, ApiError> {
    let (user_id, site_id) = (visitor.user_id(), visitor.site_id());
    // The lock first: a lock of another site is not found, whatever else is asked.
    let lock = locks::one_lock(state, user_id, site_id, lock_id).await?;
    let filter = SiteEventsFilter {
        lock_id: Some(lock_id),
        ..Default::default()
    };
    let (settings, locker, site_iqs, chain, log, site) = tokio::try_join!(
        settings_of(state, user_id, (site_id, lock_id)),
        locker_of(state, user_id, (site_id, lock_id)),
        iqs::site_iqs(state, user_id, site_id),
        chain_status(state, user_id, site_id, lock_id),
        site_events(state, user_id, site_id, filter, before, RECORDS_PER_PAGE),
        state.store.run(move |db| site_view(db, site_id)),
    )?;
    let locker = match locker {
        Some(locker) => {
            let people = holders(state, visitor, &locker).await?;
            Some((locker, people))
        }
        None => None,
    };
    let iq = lock
        .iq_id
        .and_then(|id| site_iqs.into_iter().find(|iq| iq.iq_id == id));
    Ok(LockData {
        lock,
        settings,
        locker,
        iq,
        chain,
        log,
        utc_offset_minutes: site.utc_offset_minutes,
    })
}

/// A reported part of the state with when it was reported, in the site's time.
fn reported(what: String, at: Option<i64>, utc_offset_minutes: i32) -> Markup {
    match at {
        Some(at) => {
            html! { (what) " " span.when { "(reported " (local_time(at, utc_offset_minutes)) ")" } }
        }
        None => html! { "Not reported yet" },
    }
}

/// The lock's state: its IQ, battery, door and privacy mode, each with when it was reported.
pub(super) fn state_list(
    state: &LockStateView,
    iq: Option<(&str, bool)>,
    utc_offset_minutes: i32,
) -> Markup {
    let battery = state
        .battery_percent
        .map_or_else(String::new, |percent| format!("{percent} %"));
    let door = if state.door_open == Some(true) {
        "Open"
    } else {
        "Closed"
    };
    let privacy = if state.privacy_engaged {
        "Engaged"
    } else {
        "Released"
    };
    html! {
        dl.state {
            dt { "IQ" }
            dd data-online=[iq.map(|(_, online)| online)] {
                @match iq {
                    Some((name, online)) => { (name) ", online: " (yes_no(online)) }
                    None => "No IQ: the lock works on its own (no remote opening)",
                }
            }
            dt { "Battery" } dd { (reported(battery, state.battery_reported_at, utc_offset_minutes)) }
            dt { "Door" } dd { (reported(door.into(), state.door_reported_at, utc_offset_minutes)) }
            dt { "Privacy mode" } dd { (reported(privacy.into(), state.privacy_reported_at, utc_offset_minutes)) }
        }
    }
}

/// The line that says how far the lock's log links up from its first record.
fn chain_line(chain: &ChainStatus) -> Markup {
    match (chain.latest, chain.first_break) {
        (None, _) => {
            html! { p.chain data-chain="empty" { "No record of this lock has reached the cloud yet." } }
        }
        (Some(latest), None) => html! {
            p.chain data-chain="verified" data-through=(chain.verified_through) {
                "Hash chain verified: all " (chain.records) " records, from the first to record "
                (latest) ", each signed by the lock and linked to the one before it."
            }
        },
        (Some(latest), Some(broken_at)) => html! {
            p.chain data-chain="gap" data-through=(chain.verified_through) {
                @if chain.verified_through == 0 {
                    "Hash chain verified through no record: the lock's first records have not reached the cloud."
                } @else {
                    "Hash chain verified from the first record to record " (chain.verified_through) "."
                }
                " Record " (broken_at) " does not link to a stored record before it (records are missing); \
                the log goes on to record " (latest) ". Each stored record is signed by the lock."
            }
        },
    }
}

fn log_section(visitor: &OnSite, data: &LockData, query: &LockQuery) -> Markup {
    let base = paths::lock(visitor.site_id(), data.lock.lock_id);
    html! {
        h2 id="log" { "Event log" }
        (chain_line(&data.chain))
        @if data.log.events.is_empty() { p.empty { "No record." } } @else {
            (events_table(&data.log.events, data.utc_offset_minutes, true))
        }
        nav aria-label="Pages of the log" {
            @if !query.before.is_empty() { a href=(format!("{base}#log")) { "Newest records" } " " }
            @if let Some(next) = data.log.next {
                a rel="next" href=(format!("{base}?before={}#log", next.encode())) { "Older records" }
            }
        }
    }
}

/// The whole page, with `outcome` next to its form.
pub(super) async fn lock_page(
    state: &AppState,
    visitor: &OnSite,
    lock_id: u32,
    query: &LockQuery,
    outcome: Outcome<'_>,
) -> Response {
    let nav = visitor.nav(Section::Locks);
    let before = match Some(query.before.trim())
        .filter(|text| !text.is_empty())
        .map(EventCursor::decode)
        .transpose()
    {
        Ok(before) => before,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let data = match lock_data(state, visitor, lock_id, before).await {
        Ok(data) => data,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let iq = data
        .iq
        .as_ref()
        .map(|iq| (iq.name.as_str(), state.iqs.is_online(iq.iq_id)));
    let settings_refused = match outcome {
        Outcome::Settings(error, posted) => Some((error, posted)),
        _ => None,
    };
    let locker_refused = match outcome {
        Outcome::Locker(error, posted) => Some((error, posted)),
        _ => None,
    };
    let body = html! {
        p { a href=(paths::locks(visitor.site_id())) { "Back to Locks and IQs" } }
        @if let Outcome::Done(Some((what, message))) = outcome { (done_alert(what, message)) }
        h2 { "State" }
        (state_list(&data.lock.state, iq, data.utc_offset_minutes))
        p { @if iq.is_some() {
            "Open it from afar on the " a href=(paths::REMOTE_OPENING) { "remote opening page" }
            " with the code the Keyway app shows."
        } @else { "Remote opening needs the lock attached to an IQ." } }
        (settings_form(visitor, &data.settings, settings_refused))
        (locker_section(visitor, lock_id, data.locker.as_ref(), locker_refused, data.utc_offset_minutes))
        (log_section(visitor, &data, query))
    };
    page(outcome.status(), &data.lock.name, Some(&nav), body)
}

/// `GET /web/console/sites/{site_id}/locks/{lock_id}?before=`.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, lock_id)): Path<(u32, u32)>,
    Query(query): Query<LockQuery>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let outcome = Outcome::Done(done_message(&query.done));
    lock_page(&state, &visitor, lock_id, &query, outcome).await
}
