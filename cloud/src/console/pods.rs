//! The Pods pages (owner and admins): the summary the manual describes, searchable by name
//! (members, locks, invited and active guests); a new pod (its name, its locks and its first
//! member); and a pod's page: its members and locks, adding a member by e-mail (an account
//! joins at once, a new address gets an invitation), its guests with block, unblock and
//! delete, rename, clean, delete. The work is the JSON API's own ([`crate::api::pods`],
//! [`crate::api::pods_members`], [`crate::api::pods_guests`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::pods::{
    CreatePodRequest, GuestView, PodMemberInput, PodPersonStatus, PodView, UpdatePodRequest,
};
use keyway_api::LockView;
use maud::{html, Markup};
use serde::Deserialize;

use super::groups::{lock_boxes, ticked_locks};
use super::guard::{on_site, posted, see_other, OnSite, WithToken};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, Section,
};
use super::paths;
use super::schedule::Pairs;
use crate::api::pods_members::add_to_pod;
use crate::api::{locks, pods, pods_guests};
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
    /// `created`, `member_added`, `renamed`, `blocked`, `unblocked`, `guest_deleted`, `cleaned`.
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

/// A member as the forms post them (the new pod's first one, or one added).
#[derive(Debug, Deserialize)]
pub(super) struct MemberForm {
    /// Their full name.
    #[serde(default)]
    member_name: String,
    /// Their e-mail.
    #[serde(default)]
    member_email: String,
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

impl MemberForm {
    fn input(&self) -> PodMemberInput {
        PodMemberInput {
            name: self.member_name.trim().to_string(),
            email: self.member_email.trim().to_string(),
        }
    }
}

impl WithToken for MemberForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
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
        p { a href=(paths::new_pod(site_id)) { "New pod" } }
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

/// The fields of a member: their name and e-mail, with `error` next to the e-mail.
fn member_fields(error: Option<&ApiError>, posted: Option<&Pairs>) -> Markup {
    let value = |name: &str| {
        posted
            .and_then(|form| form.value(name))
            .unwrap_or_default()
            .to_string()
    };
    html! {
        label for="member_name" { "Their full name" }
        input #member_name type="text" name="member_name" required maxlength="100" autocomplete="off"
            value=(value("member_name"));
        label for="member_email" { "Their e-mail" }
        input #member_email type="email" name="member_email" required autocomplete="off"
            value=(value("member_email")) aria-describedby=[error.map(|_| "member-error")];
        @if let Some(error) = error { (error_alert(error.code(), &public_message(error), Some("member-error"))) }
        p.hint { "Someone with a Keyway account joins at once; a new address gets an invitation by e-mail." }
    }
}

/// What a pod page shows after a form: what worked, or a refusal.
type PodOutcome<'a> = Result<Option<(&'a str, &'a str)>, &'a ApiError>;

/// Where a pod page's refusal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// At the top of the page.
    Top,
    /// At the add-a-member form.
    MemberForm,
}

fn pod_page(
    visitor: &OnSite,
    pod: &PodView,
    guests: &[GuestView],
    (outcome, at): (PodOutcome<'_>, At),
    status: StatusCode,
) -> Response {
    let site_id = visitor.site_id();
    let csrf = &visitor.session.csrf;
    let member_error = outcome.err().filter(|_| at == At::MemberForm);
    let body = html! {
        p { a href=(paths::pods(site_id)) { "Back to Pods" } }
        @match outcome {
            Ok(Some((what, message))) => (done_alert(what, message)),
            Ok(None) => {},
            Err(error) => @if at == At::Top { (error_alert(error.code(), &public_message(error), None)) },
        }
        h2 { "Locks" }
        @if pod.locks.is_empty() { p { "No lock." } } @else {
            ul { @for lock in &pod.locks { li { (lock.name) } } }
        }
        h2 { "Members" }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Status" } } }
            tbody { @for member in &pod.members {
                tr data-member=(member.email) { td { (member.name) } td { (member.email) } td { (status_label(member.status)) } }
            } }
        } }
        h3 { "Add a member" }
        form method="post" action=(paths::pod_action(site_id, pod.pod_id, "members")) {
            (member_fields(member_error, None))
            (csrf_field(csrf))
            button type="submit" { "Add to the pod" }
        }
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
        "created" => (
            "created",
            "The pod is made: its members with an account joined it.",
        ),
        "member_added" => (
            "member_added",
            "Added: with an account they joined at once; otherwise an invitation went out.",
        ),
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
            pod_page(&visitor, &pod, &guests, (Ok(done), At::Top), StatusCode::OK)
        }
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Pods))),
    }
}

/// The pod's page again with a refusal, shown `at` its form.
async fn refused_at(
    state: &AppState,
    visitor: &OnSite,
    pod_id: u32,
    error: ApiError,
    at: At,
) -> Response {
    match pod_here(state, visitor, pod_id).await {
        Ok((pod, guests)) => pod_page(visitor, &pod, &guests, (Err(&error), at), error.status()),
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
        Err(error) => refused_at(state, visitor, pod_id, error, At::Top).await,
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
        Err(error) => refused_at(&state, &visitor, pod_id, error, At::Top).await,
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

/// `POST …/pods/{pod_id}/members`: adds the posted member, then back to the pod's page.
pub(super) async fn add_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, pod_id)): Path<(u32, u32)>,
    form: Result<Form<MemberForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let added = match pod_here(&state, &visitor, pod_id).await {
        Ok(_) => add_to_pod(&state, visitor.user_id(), pod_id, form.input())
            .await
            .map(drop),
        Err(error) => Err(error),
    };
    match added {
        Ok(()) => see_other(&format!(
            "{}?done=member_added",
            paths::pod(site_id, pod_id)
        )),
        Err(error) => refused_at(&state, &visitor, pod_id, error, At::MemberForm).await,
    }
}

fn new_pod_page(
    visitor: &OnSite,
    site_locks: &[LockView],
    posted: Option<&Pairs>,
    error: Option<&ApiError>,
) -> Response {
    let site_id = visitor.site_id();
    let status = error.map_or(StatusCode::OK, ApiError::status);
    let ticked = |id: u32| posted.is_some_and(|form| form.checked(&format!("lock{id}")));
    let body = html! {
        p { a href=(paths::pods(site_id)) { "Back to Pods" } }
        form method="post" action=(paths::pods(site_id)) {
            @if let Some(error) = error { (error_alert(error.code(), &public_message(error), Some("pod-error"))) }
            label for="name" { "Name" }
            input #name type="text" name="name" required maxlength="100"
                value=(posted.and_then(|form| form.value("name")).unwrap_or_default());
            (lock_boxes(site_locks, ticked))
            fieldset {
                legend { "The first member" }
                (member_fields(None, posted))
            }
            (csrf_field(&visitor.session.csrf))
            button type="submit" { "Make the pod" }
        }
    };
    page(status, "New pod", Some(&visitor.nav(Section::Pods)), body)
}

/// `GET /web/console/sites/{site_id}/pods/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    match locks::site_locks(&state, visitor.user_id(), site_id).await {
        Ok(site_locks) => new_pod_page(&visitor, &site_locks, None, None),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Pods))),
    }
}

/// `POST /web/console/sites/{site_id}/pods`: makes the pod, then to its page.
pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let site_locks = match locks::site_locks(&state, visitor.user_id(), site_id).await {
        Ok(site_locks) => site_locks,
        Err(error) => return error_page(&error, Some(&visitor.nav(Section::Pods))),
    };
    let field = |name: &str| form.value(name).unwrap_or_default().trim().to_string();
    let request = CreatePodRequest {
        name: field("name"),
        members: vec![PodMemberInput {
            name: field("member_name"),
            email: field("member_email"),
        }],
        lock_ids: ticked_locks(&site_locks, &form),
    };
    match pods::create(&state, visitor.user_id(), site_id, request).await {
        Ok(pod) => see_other(&format!("{}?done=created", paths::pod(site_id, pod.pod_id))),
        Err(error) => new_pod_page(&visitor, &site_locks, Some(&form), Some(&error)),
    }
}
