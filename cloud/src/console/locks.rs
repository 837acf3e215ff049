//! The Locks and IQs page (owner and admins): each lock, linked to its page
//! ([`super::lock`]), with the IQ it is attached to, whether that IQ is connected now (remote
//! opening goes through it) and what the lock last reported (battery, door, privacy mode);
//! each IQ with its locks. The lists are the JSON API's own ([`crate::api::locks`],
//! [`crate::api::iqs`]).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keyway_api::{IqView, LockView};
use maud::html;

use super::guard::on_site;
use super::layout::{error_page, page, yes_no, Section};
use super::paths;
use crate::api::{iqs, locks};
use crate::AppState;

fn iq_name(iqs: &[IqView], iq_id: Option<u32>) -> &str {
    iq_id
        .and_then(|id| iqs.iter().find(|iq| iq.iq_id == id))
        .map_or("—", |iq| iq.name.as_str())
}

/// `GET /web/console/sites/{site_id}/locks`.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::Locks);
    let user_id = visitor.user_id();
    let (all_locks, all_iqs): (Vec<LockView>, Vec<IqView>) = match tokio::try_join!(
        locks::site_locks(&state, user_id, site_id),
        iqs::site_iqs(&state, user_id, site_id)
    ) {
        Ok(lists) => lists,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let online = |iq_id: Option<u32>| iq_id.is_some_and(|id| state.iqs.is_online(id));
    let body = html! {
        h2 { "Locks" }
        @if all_locks.is_empty() { p { "No lock yet." } } @else {
            div.table-wrap { table.locks {
                thead { tr { th scope="col" { "Lock" } th scope="col" { "Id" }
                    th scope="col" { "IQ" } th scope="col" { "IQ online" } th scope="col" { "Battery" }
                    th scope="col" { "Door" } th scope="col" { "Privacy mode" } } }
                tbody { @for lock in &all_locks {
                    tr data-lock=(lock.lock_id) data-online=(online(lock.iq_id)) {
                        td { a href=(paths::lock(site_id, lock.lock_id)) { (lock.name) } } td { (lock.lock_id) }
                        td { (iq_name(&all_iqs, lock.iq_id)) }
                        td { @if lock.iq_id.is_some() { (yes_no(online(lock.iq_id))) } @else { "—" } }
                        td { @match lock.state.battery_percent { Some(percent) => { (percent) " %" } None => "—" } }
                        td { @match lock.state.door_open { Some(true) => "Open", Some(false) => "Closed", None => "—" } }
                        td { @if lock.state.privacy_engaged { "Engaged" } @else { "—" } }
                    }
                } }
            } }
        }
        h2 { "IQs" }
        @if all_iqs.is_empty() { p { "No IQ yet." } } @else {
            div.table-wrap { table.iqs {
                thead { tr { th scope="col" { "IQ" } th scope="col" { "Online" }
                    th scope="col" { "Locks" } } }
                tbody { @for iq in &all_iqs {
                    tr { td { (iq.name) } td { (yes_no(state.iqs.is_online(iq.iq_id))) }
                        td { (all_locks.iter().filter(|lock| lock.iq_id == Some(iq.iq_id)).count()) } }
                } }
            } }
        }
        p { "Doors open remotely from the " a href=(paths::REMOTE_OPENING) { "remote opening page" }
            " with the code the Keyway app shows." }
    };
    page(StatusCode::OK, "Locks and IQs", Some(&nav), body)
}
