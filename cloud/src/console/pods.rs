//! The Pods pages (owner and admins): the summary the manual describes, searchable by name
//! (members, locks, invited and active guests), and a pod's page: its members and locks,
//! its guests with block, unblock and delete, rename, clean, delete. The work is the JSON API's own
//! ([`crate::api::pods`], [`crate::api::pods_guests`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::pods::{GuestView, PodPersonStatus, PodView, UpdatePodRequest};
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{on_site, posted, see_other, OnSite, WithToken};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, Section,
};
use super::paths;
use crate::api::{pods, pods_guests};
use crate::error::ApiError;
use crate::AppState;

/// The summary's search.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PodSearch {
    /// Text in the pod's name.
    #[serde(default)]
    q: String,
    /// What the last form did (`deleted`).
    #[serde(default)]
    done: String,
}

/// What a pod's page says after a form worked.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PodDone {
    /// `renamed`, `blocked`, `unblocked`, `guest_deleted`, `cleaned`.
    #[serde(default)]
    done: String,
}

/// The rename form.
#[derive(Debug, Deserialize)]
pub(super) struct RenameForm {
    /// The new name.
    #[serde(default)]
    name: String,
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

/// A form with only the session's token.
#[derive(Debug, Deserialize)]
pub(super) struct PodTokenForm {
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

impl WithToken for RenameForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl WithToken for PodTokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn status_label(status: PodPersonStatus) -> &'static str {
    match status {
        PodPersonStatus::Invited => "Invited",
        PodPersonStatus::Active => "Active",
        PodPersonStatus::Blocked => "Blocked",
        PodPersonStatus::Expired => "Expired",
    }
}

fn status_value(status: PodPersonStatus) -> &'static str {
    match status {
        PodPersonStatus::Invited => "invited",
        PodPersonStatus::Active => "active",
        PodPersonStatus::Blocked => "blocked",
        PodPersonStatus::Expired => "expired",
    }
}

/// Whether `name` contains `text`, without case.
fn name_matches(name: &str, text: &str) -> bool {
    name.to_lowercase().contains(&text.trim().to_lowercase())
}

/// `GET /web/console/sites/{site_id}/pods`: the summary, searchable by name.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    Query(search): Query<PodSearch>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::Pods);
    let all = match pods::site_pods(&state, visitor.user_id(), site_id).await {
        Ok(all) => all,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let shown: Vec<&PodView> = all
        .iter()
        .filter(|pod| name_matches(&pod.name, &search.q))
        .collect();
    let body = html! {
        @if search.done == "deleted" { (done_alert("deleted", "The pod is deleted.")) }
        form method="get" action=(paths::pods(site_id)) role="search" {
            label for="q" { "Search pods by name" }
            input #q type="search" name="q" value=(search.q) maxlength="100";
            button type="submit" { "Search" }
        }
        div.table-wrap {
            table {
                caption { (shown.len()) " of " (all.len()) " pods" }
                thead { tr {
                    th scope="col" { "Pod" } th scope="col" { "Members" } th scope="col" { "Locks" }
                    th scope="col" { "Invited guests" } th scope="col" { "Active guests" }
                } }
                tbody {
                    @for pod in &shown {
                        tr {
                            td { a href=(paths::pod(site_id, pod.pod_id)) { (pod.name) } }
                            td { (pod.members.len()) }
                            td { (pod.locks.len()) }
                            td { (pod.guests_invited) }
                            td { (pod.guests_active) }
                        }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, "Pods", Some(&nav), body)
}

fn guest_row(visitor: &OnSite, guest: &GuestView) -> Markup {
    let site_id = visitor.site_id();
    let action = |what: &str| paths::guest_action(site_id, guest.pod_id, guest.guest_id, what);
    let csrf = &visitor.session.csrf;
    html! {
        tr data-guest=(guest.email) data-status=(status_value(guest.status)) {
            td { (guest.name) }
            td { (guest.email) }
            td { (status_label(guest.status)) }
            td {
                @if guest.status == PodPersonStatus::Blocked {
                    form.inline method="post" action=(action("unblock")) {
                        (csrf_field(csrf))
                        button type="submit" aria-label=(format!("Unblock {}", guest.name)) { "Unblock" }
                    }
                } @else if guest.status != PodPersonStatus::Expired {
                    form.inline method="post" action=(action("block")) {
                        (csrf_field(csrf))
                        button type="submit" aria-label=(format!("Block {}", guest.name)) { "Block" }
                    }
                }
                form.inline method="post" action=(action("delete")) {
                    (csrf_field(csrf))
                    button.danger type="submit" aria-label=(format!("Delete {}", guest.name)) { "Delete" }
                }
            }
        }
    }
}

fn pod_page(
    visitor: &OnSite,
    pod: &PodView,
    guests: &[GuestView],
    outcome: Result<Option<(&str, &str)>, &ApiError>,
    status: StatusCode,
) -> Response {
    let site_id = visitor.site_id();
    let csrf = &visitor.session.csrf;
    let body = html! {
        p { a href=(paths::pods(site_id)) { "Back to Pods" } }
        @match outcome {
            Ok(Some((what, message))) => (done_alert(what, message)),
            Ok(None) => {},
            Err(error) => (error_alert(error.code(), &public_message(error), None)),
        }
        h2 { "Locks" }
        @if pod.locks.is_empty() { p { "No lock." } } @else {
            ul { @for lock in &pod.locks { li { (lock.name) } } }
        }
        h2 { "Members" }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Status" } } }
            tbody { @for member in &pod.members {
                tr { td { (member.name) } td { (member.email) } td { (status_label(member.status)) } }
            } }
        } }
        h2 { "Guests" }
        @if guests.is_empty() { p { "No guest." } } @else {
            div.table-wrap { table.guests {
                thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" }
                    th scope="col" { "Status" } th scope="col" { "Actions" } } }
                tbody { @for guest in guests { (guest_row(visitor, guest)) } }
            } }
        }
        h2 { "Rename" }
        form method="post" action=(paths::pod_action(site_id, pod.pod_id, "rename")) {
            label for="name" { "Name" }
            input #name type="text" name="name" value=(pod.name) required maxlength="100";
            (csrf_field(csrf))
            button type="submit" { "Rename" }
        }
        h2 { "Clean the pod" }
        form method="post" action=(paths::pod_action(site_id, pod.pod_id, "clean")) {
            p.hint { "When its tenants leave: every member and guest leaves it and loses the keys \
                it gave them; its locks stay, ready for the next tenants." }
            (csrf_field(csrf))
            button.danger type="submit" { "Clean " (pod.name) }
        }
        h2 { "Delete the pod" }
        form method="post" action=(paths::pod_action(site_id, pod.pod_id, "delete")) {
            p.hint { "Members and guests leave it; every key it gave is revoked." }
            (csrf_field(csrf))
            button.danger type="submit" { "Delete " (pod.name) }
        }
    };
    page(status, &pod.name, Some(&visitor.nav(Section::Pods)), body)
}

/// The pod of `pod_id`, if it is on the visitor's site (another site's pod is not found
/// here, whatever the visitor's role there).
async fn pod_here(
    state: &AppState,
    visitor: &OnSite,
    pod_id: u32,
) -> Result<(PodView, Vec<GuestView>), ApiError> {
    let pod = pods::one_pod(state, visitor.user_id(), pod_id).await?;
    if pod.site_id != visitor.site_id() {
        return Err(ApiError::NotFound(format!("no pod {pod_id}")));
    }
    let guests = pods_guests::guests(state, visitor.user_id(), pod_id).await?;
    Ok((pod, guests))
}

fn done_message(done: &str) -> Option<(&'static str, &'static str)> {
    Some(match done {
        "renamed" => ("renamed", "Renamed."),
        "blocked" => ("blocked", "The guest is blocked: their keys are revoked."),
        "unblocked" => ("unblocked", "The guest is unblocked."),
        "guest_deleted" => ("guest_deleted", "The guest is deleted."),
        "cleaned" => (
            "cleaned",
            "The pod is clean: its members and guests left it.",
        ),
        _ => return None,
    })
}

/// `GET /web/console/sites/{site_id}/pods/{pod_id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, pod_id)): Path<(u32, u32)>,
    Query(done): Query<PodDone>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    match pod_here(&state, &visitor, pod_id).await {
        Ok((pod, guests)) => {
            let done = done_message(&done.done);
            pod_page(&visitor, &pod, &guests, Ok(done), StatusCode::OK)
        }
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Pods))),
    }
}

/// The pod's page again with a refusal.
async fn refused(state: &AppState, visitor: &OnSite, pod_id: u32, error: ApiError) -> Response {
    match pod_here(state, visitor, pod_id).await {
        Ok((pod, guests)) => pod_page(visitor, &pod, &guests, Err(&error), error.status()),
        Err(_) => error_page(&error, Some(&visitor.nav(Section::Pods))),
    }
}

/// Runs `work` once the pod is known to be on the visitor's site, then back to the pod's
/// page saying `done`.
async fn on_pod<F, Fut>(
    state: &AppState,
    visitor: &OnSite,
    pod_id: u32,
    done: &str,
    work: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    let outcome = match pod_here(state, visitor, pod_id).await {
        Ok(_) => work().await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => see_other(&format!(
            "{}?done={done}",
            paths::pod(visitor.site_id(), pod_id)
        )),
        Err(error) => refused(state, visitor, pod_id, error).await,
    }
}

/// `POST …/pods/{pod_id}/rename`.
pub(super) async fn rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, pod_id)): Path<(u32, u32)>,
    form: Result<Form<RenameForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let request = UpdatePodRequest {
        name: Some(form.name),
    };
    on_pod(&state, &visitor, pod_id, "renamed", || async {
        pods::update(&state, visitor.user_id(), pod_id, request)
            .await
            .map(drop)
    })
    .await
}

/// `POST …/pods/{pod_id}/clean`: members and guests leave the pod.
pub(super) async fn clean(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, pod_id)): Path<(u32, u32)>,
    form: Result<Form<PodTokenForm>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    on_pod(&state, &visitor, pod_id, "cleaned", || async {
        pods::clean_up(&state, visitor.user_id(), pod_id)
            .await
            .map(drop)
    })
    .await
}

/// `POST …/pods/{pod_id}/delete`: deletes the pod, then to the summary.
pub(super) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, pod_id)): Path<(u32, u32)>,
    form: Result<Form<PodTokenForm>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let deleted = match pod_here(&state, &visitor, pod_id).await {
        Ok(_) => pods::delete(&state, visitor.user_id(), pod_id)
            .await
            .map(drop),
        Err(error) => Err(error),
    };
    match deleted {
        Ok(()) => see_other(&format!("{}?done=deleted", paths::pods(site_id))),
        Err(error) => refused(&state, &visitor, pod_id, error).await,
    }
}

/// What a guest's form does.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum GuestAction {
    /// Revoke their keys.
    Block,
    /// Give them keys again.
    Unblock,
    /// Remove them from the pod.
    Delete,
}

/// `POST …/pods/{pod_id}/guests/{guest_id}/{block|unblock|delete}`.
pub(super) async fn guest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, pod_id, guest_id, action)): Path<(u32, u32, u32, GuestAction)>,
    form: Result<Form<PodTokenForm>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let ids = (pod_id, guest_id);
    let user_id = visitor.user_id();
    let done = match action {
        GuestAction::Block => "blocked",
        GuestAction::Unblock => "unblocked",
        GuestAction::Delete => "guest_deleted",
    };
    on_pod(&state, &visitor, pod_id, done, || async {
        match action {
            GuestAction::Block => pods_guests::block_or_unblock(&state, user_id, ids, true).await,
            GuestAction::Unblock => {
                pods_guests::block_or_unblock(&state, user_id, ids, false).await
            }
            GuestAction::Delete => pods_guests::remove_guest(&state, user_id, ids).await,
        }
        .map(drop)
    })
    .await
}
