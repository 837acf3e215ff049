//! The Access groups pages (owner and admins): the site's groups; a new group with its locks
//! and its weekly schedule (the editor of [`super::schedule`]: windows of some days of the
//! week from one time to another; none means at any time); a group's page with its members a
//! page at a time, adding a person by e-mail, taking one out, changing its name, locks and
//! schedule (the same editor), deleting the group. The work is the JSON API's own
//! ([`crate::api::groups`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::{
    AccessGroupView, CreateAccessGroupRequest, LockView, PersonView, SetGroupMembersRequest,
    UpdateAccessGroupRequest,
};
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{on_site, posted, see_other, OnSite};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, Section,
};
use super::paths;
use super::people::person_by_email;
use super::schedule::{schedule_editor, schedule_from, schedule_text, Pairs};
use crate::api::{groups, locks, people};
use crate::error::ApiError;
use crate::AppState;

/// Members shown per page of a group.
const MEMBERS_PER_PAGE: usize = 50;
/// A schedule without windows, in words.
const AT_ANY_TIME: &str = "At any time";
/// The schedule editor's legend.
const SCHEDULE_LEGEND: &str = "When (leave every day unticked for at any time)";

fn lock_names(locks: &[LockView], ids: &[u32]) -> String {
    let names: Vec<&str> = ids
        .iter()
        .filter_map(|id| locks.iter().find(|lock| lock.lock_id == *id))
        .map(|lock| lock.name.as_str())
        .collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join(", ")
    }
}

/// `GET /web/console/sites/{site_id}/groups`.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    Query(done): Query<GroupDone>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::Groups);
    let user_id = visitor.user_id();
    let (all, site_locks) = match tokio::try_join!(
        groups::site_groups(&state, user_id, site_id),
        locks::site_locks(&state, user_id, site_id)
    ) {
        Ok(lists) => lists,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let body = html! {
        @if done.done == "deleted" { (done_alert("deleted", "The access group is deleted.")) }
        p { a href=(paths::new_group(site_id)) { "New access group" } }
        @if all.is_empty() { p { "No access group yet." } } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Group" } th scope="col" { "Locks" }
                    th scope="col" { "When" } th scope="col" { "People" } } }
                tbody { @for group in &all {
                    tr {
                        td { a href=(paths::group(site_id, group.group_id)) { (group.name) } }
                        td { (lock_names(&site_locks, &group.lock_ids)) }
                        td { (schedule_text(&group.schedule, AT_ANY_TIME)) }
                        td { (group.user_ids.len()) }
                    }
                } }
            } }
        }
    };
    page(StatusCode::OK, "Access groups", Some(&nav), body)
}

/// A checkbox per lock of the site (named `lock{id}`), ticked where `ticked` says.
pub(super) fn lock_boxes(site_locks: &[LockView], ticked: impl Fn(u32) -> bool) -> Markup {
    html! {
        fieldset {
            legend { "Locks it opens" }
            @if site_locks.is_empty() { p { "The site has no lock yet." } }
            @for lock in site_locks {
                label.check {
                    input type="checkbox" name=(format!("lock{}", lock.lock_id)) checked[ticked(lock.lock_id)];
                    (lock.name)
                }
            }
        }
    }
}

/// The locks of the site ticked in `form`.
pub(super) fn ticked_locks(site_locks: &[LockView], form: &Pairs) -> Vec<u32> {
    site_locks
        .iter()
        .map(|lock| lock.lock_id)
        .filter(|id| form.checked(&format!("lock{id}")))
        .collect()
}

fn new_group_page(
    visitor: &OnSite,
    site_locks: &[LockView],
    form: Option<&Pairs>,
    error: Option<&ApiError>,
) -> Response {
    let site_id = visitor.site_id();
    let status = error.map_or(StatusCode::OK, ApiError::status);
    let body = html! {
        form method="post" action=(paths::groups(site_id)) {
            @if let Some(error) = error { (error_alert(error.code(), &public_message(error), Some("group-error"))) }
            label for="name" { "Name" }
            input #name type="text" name="name" required maxlength="100"
                value=(form.and_then(|form| form.value("name")).unwrap_or_default());
            (lock_boxes(site_locks, |id| form.is_some_and(|form| form.checked(&format!("lock{id}")))))
            (schedule_editor(SCHEDULE_LEGEND, form))
            (csrf_field(&visitor.session.csrf))
            button type="submit" { "Make the group" }
        }
    };
    page(
        status,
        "New access group",
        Some(&visitor.nav(Section::Groups)),
        body,
    )
}

/// `GET /web/console/sites/{site_id}/groups/new`.
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
        Ok(site_locks) => new_group_page(&visitor, &site_locks, None, None),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Groups))),
    }
}

/// `POST /web/console/sites/{site_id}/groups`: makes the group, then to its page.
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
        Err(error) => return error_page(&error, Some(&visitor.nav(Section::Groups))),
    };
    let lock_ids = ticked_locks(&site_locks, &form);
    let made = match schedule_from(&form) {
        Ok(schedule) => {
            let request = CreateAccessGroupRequest {
                name: form.value("name").unwrap_or_default().to_string(),
                lock_ids,
                user_ids: Vec::new(),
                schedule,
            };
            groups::create(&state, visitor.user_id(), site_id, request).await
        }
        Err(error) => Err(error),
    };
    match made {
        Ok(group) => see_other(&format!(
            "{}?done=created",
            paths::group(site_id, group.group_id)
        )),
        Err(error) => new_group_page(&visitor, &site_locks, Some(&form), Some(&error)),
    }
}

/// What a group's page says after a form worked, and which page of members it shows.
#[derive(Debug, Default, Deserialize)]
pub(super) struct GroupDone {
    /// `created`, `added`, `changed`, `taken_out`, `deleted`.
    #[serde(default)]
    done: String,
    /// The page of members, from 0.
    #[serde(default)]
    page: usize,
}

fn done_message(done: &str) -> Option<(&'static str, &'static str)> {
    Some(match done {
        "created" => ("created", "The access group is made: add its people below."),
        "added" => ("added", "Added to the group: their keys follow."),
        "changed" => (
            "changed",
            "Saved: the group's people get keys for what it opens now.",
        ),
        "taken_out" => (
            "taken_out",
            "Taken out of the group: the keys it gave them are revoked.",
        ),
        _ => return None,
    })
}

/// The people of one page of the group's members, as the site's people list shows them.
async fn members_page(
    state: &AppState,
    visitor: &OnSite,
    group: &AccessGroupView,
    page_index: usize,
) -> Result<Vec<PersonView>, ApiError> {
    let mut shown = Vec::new();
    for user_id in group
        .user_ids
        .iter()
        .skip(page_index * MEMBERS_PER_PAGE)
        .take(MEMBERS_PER_PAGE)
    {
        shown.push(people::one(state, visitor.user_id(), visitor.site_id(), *user_id).await?);
    }
    Ok(shown)
}

/// What a group's page shows after a form: what worked, or a refusal next to its form.
#[derive(Clone, Copy)]
enum Outcome<'a> {
    /// Nothing was posted, or what was worked: `(data-done, words)`.
    Done(Option<(&'a str, &'a str)>),
    /// The members' forms were refused.
    Members(&'a ApiError),
    /// The edit form was refused; the posted fields are shown again.
    Edit(&'a ApiError, &'a Pairs),
}

impl Outcome<'_> {
    fn status(self) -> StatusCode {
        match self {
            Outcome::Done(_) => StatusCode::OK,
            Outcome::Members(error) | Outcome::Edit(error, _) => error.status(),
        }
    }
}

/// The form that changes the group's name, locks and weekly schedule, filled with the
/// group's own, or with what was posted when it was refused.
fn edit_form(
    visitor: &OnSite,
    group: &AccessGroupView,
    site_locks: &[LockView],
    refused: Option<(&ApiError, &Pairs)>,
) -> Markup {
    let stored = Pairs::from_schedule(&group.schedule);
    let (error, schedule) = match refused {
        Some((error, posted)) => (Some(error), posted),
        None => (None, &stored),
    };
    let name = refused
        .and_then(|(_, posted)| posted.value("name"))
        .unwrap_or(&group.name);
    let ticked = |id: u32| match refused {
        Some((_, posted)) => posted.checked(&format!("lock{id}")),
        None => group.lock_ids.contains(&id),
    };
    html! {
        h2 { "Change the group" }
        form method="post" action=(paths::group_action(visitor.site_id(), group.group_id, "edit")) {
            @if let Some(error) = error { (error_alert(error.code(), &public_message(error), Some("edit-error"))) }
            label for="group-name" { "Name" }
            input #group-name type="text" name="name" required maxlength="100" value=(name)
                aria-describedby=[error.map(|_| "edit-error")];
            (lock_boxes(site_locks, ticked))
            (schedule_editor(SCHEDULE_LEGEND, Some(schedule)))
            p.hint { "People who lose a lock or an hour lose the keys that granted it at once; \
                new rights reach their phones at their next sync." }
            (csrf_field(&visitor.session.csrf))
            button type="submit" { "Save the changes" }
        }
    }
}

async fn group_page(
    state: &AppState,
    visitor: &OnSite,
    group_id: u32,
    page_index: usize,
    outcome: Outcome<'_>,
) -> Response {
    let site_id = visitor.site_id();
    let nav = visitor.nav(Section::Groups);
    let user_id = visitor.user_id();
    let (group, site_locks) = match tokio::try_join!(
        groups::one_group(state, user_id, site_id, group_id),
        locks::site_locks(state, user_id, site_id)
    ) {
        Ok(found) => found,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let members = match members_page(state, visitor, &group, page_index).await {
        Ok(members) => members,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let csrf = &visitor.session.csrf;
    let pages = group.user_ids.len().div_ceil(MEMBERS_PER_PAGE);
    let member_error = match outcome {
        Outcome::Members(error) => Some(error),
        _ => None,
    };
    let edit_refused = match outcome {
        Outcome::Edit(error, posted) => Some((error, posted)),
        _ => None,
    };
    let body = html! {
        p { a href=(paths::groups(site_id)) { "Back to Access groups" } }
        @if let Outcome::Done(Some((what, message))) = outcome { (done_alert(what, message)) }
        dl {
            dt { "Locks" } dd { (lock_names(&site_locks, &group.lock_ids)) }
            dt { "When" } dd { (schedule_text(&group.schedule, AT_ANY_TIME)) }
            dt { "People" } dd { (group.user_ids.len()) }
        }
        h2 { "Add a person" }
        form method="post" action=(paths::group_action(site_id, group_id, "members")) {
            label for="email" { "Their e-mail on this site" }
            input #email type="email" name="email" required autocomplete="off"
                aria-describedby=[member_error.map(|_| "email-error")];
            @if let Some(error) = member_error { (error_alert(error.code(), &public_message(error), Some("email-error"))) }
            (csrf_field(csrf))
            button type="submit" { "Add to the group" }
        }
        h2 { "People in the group" }
        @if members.is_empty() { p { "Nobody yet." } } @else {
            div.table-wrap { table.members {
                thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Action" } } }
                tbody { @for person in &members {
                    tr data-member=(person.user_id) {
                        td { a href=(paths::person(site_id, person.user_id)) { (person.name) } }
                        td { (person.email.as_deref().unwrap_or("—")) }
                        td { form.inline method="post" action=(paths::group_action(site_id, group_id, "remove-member")) {
                            input type="hidden" name="user_id" value=(person.user_id);
                            (csrf_field(csrf))
                            button.danger type="submit" aria-label=(format!("Take out {}", person.name)) { "Take out" }
                        } }
                    }
                } }
            } }
            @if pages > 1 {
                nav aria-label="Pages of people" {
                    @if page_index > 0 { a href=(format!("{}?page={}", paths::group(site_id, group_id), page_index - 1)) { "Previous page" } " " }
                    @if page_index + 1 < pages { a rel="next" href=(format!("{}?page={}", paths::group(site_id, group_id), page_index + 1)) { "Next page" } }
                }
            }
        }
        (edit_form(visitor, &group, &site_locks, edit_refused))
        h2 { "Delete the group" }
        form method="post" action=(paths::group_action(site_id, group_id, "delete")) {
            p.hint { "Its people lose the keys it gave them at once." }
            (csrf_field(csrf))
            button.danger type="submit" { "Delete " (group.name) }
        }
    };
    page(outcome.status(), &group.name, Some(&nav), body)
}

/// `GET /web/console/sites/{site_id}/groups/{group_id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, group_id)): Path<(u32, u32)>,
    Query(done): Query<GroupDone>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    group_page(
        &state,
        &visitor,
        group_id,
        done.page,
        Outcome::Done(done_message(&done.done)),
    )
    .await
}

/// Changes the members of the group with `change`, then back to its page saying `done`.
async fn change_members(
    state: &AppState,
    visitor: &OnSite,
    group_id: u32,
    done: &str,
    change: impl FnOnce(&mut Vec<u32>),
) -> Response {
    let site_id = visitor.site_id();
    let changed = match groups::one_group(state, visitor.user_id(), site_id, group_id).await {
        Ok(group) => {
            let mut user_ids = group.user_ids;
            change(&mut user_ids);
            let request = SetGroupMembersRequest { user_ids };
            groups::set_group_members(state, visitor.user_id(), (site_id, group_id), request).await
        }
        Err(error) => Err(error),
    };
    match changed {
        Ok(_) => see_other(&format!("{}?done={done}", paths::group(site_id, group_id))),
        Err(error) => group_page(state, visitor, group_id, 0, Outcome::Members(&error)).await,
    }
}

/// `POST …/groups/{group_id}/members`: adds the person with the posted e-mail.
pub(super) async fn add_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, group_id)): Path<(u32, u32)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let person =
        match person_by_email(&state, &visitor, form.value("email").unwrap_or_default()).await {
            Ok(person) => person,
            Err(error) => {
                return group_page(&state, &visitor, group_id, 0, Outcome::Members(&error)).await
            }
        };
    change_members(&state, &visitor, group_id, "added", |ids| {
        ids.push(person.user_id)
    })
    .await
}

/// `POST …/groups/{group_id}/remove-member`: takes the posted person out.
pub(super) async fn remove_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, group_id)): Path<(u32, u32)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let Some(user_id) = form
        .value("user_id")
        .and_then(|text| text.parse::<u32>().ok())
    else {
        let error = ApiError::InvalidInput("choose a person".into());
        return group_page(&state, &visitor, group_id, 0, Outcome::Members(&error)).await;
    };
    change_members(&state, &visitor, group_id, "taken_out", |ids| {
        ids.retain(|id| *id != user_id)
    })
    .await
}

/// `POST …/groups/{group_id}/delete`: deletes the group, then to the list.
pub(super) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, group_id)): Path<(u32, u32)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match groups::delete(&state, visitor.user_id(), site_id, group_id).await {
        Ok(()) => see_other(&format!("{}?done=deleted", paths::groups(site_id))),
        Err(error) => group_page(&state, &visitor, group_id, 0, Outcome::Members(&error)).await,
    }
}

/// `POST …/groups/{group_id}/edit`: the group's name, locks and weekly schedule, as `PATCH
/// /api/v1/sites/{site_id}/access-groups/{group_id}`; the form carries all three.
pub(super) async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, group_id)): Path<(u32, u32)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let site_locks = match schedule_from(&form) {
        Ok(schedule) => locks::site_locks(&state, visitor.user_id(), site_id)
            .await
            .map(|site_locks| (site_locks, schedule)),
        Err(error) => Err(error),
    };
    let changed = match site_locks {
        Ok((site_locks, schedule)) => {
            let request = UpdateAccessGroupRequest {
                name: form.value("name").map(str::to_string),
                lock_ids: Some(ticked_locks(&site_locks, &form)),
                schedule: Some(schedule),
            };
            groups::update(&state, visitor.user_id(), (site_id, group_id), request).await
        }
        Err(error) => Err(error),
    };
    match changed {
        Ok(_) => see_other(&format!("{}?done=changed", paths::group(site_id, group_id))),
        Err(error) => group_page(&state, &visitor, group_id, 0, Outcome::Edit(&error, &form)).await,
    }
}
