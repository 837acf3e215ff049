//! The Access groups pages (owner and admins): the site's groups; a new group with its locks
//! and its weekly schedule (up to [`SCHEDULE_ROWS`] windows, each some days of the week from
//! one time to another; none means at any time); a group's page with its members a page at
//! a time, adding a person by e-mail, taking one out, deleting the group. The work is the
//! JSON API's own ([`crate::api::groups`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::{
    AccessGroupView, CreateAccessGroupRequest, LockView, PersonView, SetGroupMembersRequest,
};
use keyway_protocol::ScheduleWindow;
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{on_site, posted, see_other, OnSite, WithToken};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, Section,
};
use super::paths;
use super::people::person_by_email;
use crate::api::{groups, locks, people};
use crate::error::ApiError;
use crate::AppState;

/// Rows of the schedule editor.
pub(super) const SCHEDULE_ROWS: usize = 4;
/// Members shown per page of a group.
const MEMBERS_PER_PAGE: usize = 50;
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MINUTES_PER_DAY: u16 = 24 * 60;

/// A posted form as its name–value pairs (checkboxes named after what they choose).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(super) struct Pairs(Vec<(String, String)>);

impl Pairs {
    /// The first value posted under `name`.
    pub(super) fn value(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether a checkbox named `name` was ticked.
    pub(super) fn checked(&self, name: &str) -> bool {
        self.value(name).is_some()
    }
}

impl WithToken for Pairs {
    fn csrf(&self) -> &str {
        self.value("csrf").unwrap_or_default()
    }
}

/// `HH:MM` as minutes after midnight; for the end of a window `00:00` is midnight at the
/// end of the day.
fn minutes(text: &str, is_end: bool) -> Result<u16, ApiError> {
    let bad = || ApiError::InvalidInput(format!("{text:?} is not a time such as 08:30"));
    let (hours, mins) = text.trim().split_once(':').ok_or_else(bad)?;
    let (hours, mins): (u16, u16) = (
        hours.parse().map_err(|_| bad())?,
        mins.parse().map_err(|_| bad())?,
    );
    if hours > 23 || mins > 59 {
        return Err(bad());
    }
    let total = hours * 60 + mins;
    Ok(if is_end && total == 0 {
        MINUTES_PER_DAY
    } else {
        total
    })
}

fn clock(minute: u16) -> String {
    if minute >= MINUTES_PER_DAY {
        "24:00".into()
    } else {
        format!("{:02}:{:02}", minute / 60, minute % 60)
    }
}

/// The windows the editor's rows describe: a row with no day is unused.
fn schedule_from(form: &Pairs) -> Result<Vec<ScheduleWindow>, ApiError> {
    let mut windows = Vec::new();
    for row in 0..SCHEDULE_ROWS {
        let days = (0..DAYS.len())
            .filter(|day| form.checked(&format!("w{row}_day{day}")))
            .fold(0u8, |bits, day| bits | (1 << day));
        if days == 0 {
            continue;
        }
        let start = minutes(
            form.value(&format!("w{row}_from")).unwrap_or("00:00"),
            false,
        )?;
        let end = minutes(
            form.value(&format!("w{row}_until")).unwrap_or("00:00"),
            true,
        )?;
        windows.push(ScheduleWindow {
            days,
            start_minute: start,
            end_minute: end,
        });
    }
    Ok(windows)
}

/// A schedule in words: "Monday, Tuesday 08:00–18:00; Saturday 10:00–14:00".
fn schedule_text(schedule: &[ScheduleWindow]) -> String {
    if schedule.is_empty() {
        return "At any time".into();
    }
    schedule
        .iter()
        .map(|window| {
            let days: Vec<&str> = (0..DAYS.len())
                .filter(|day| window.days & (1 << day) != 0)
                .map(|day| DAYS[day])
                .collect();
            format!(
                "{} {}–{}",
                days.join(", "),
                clock(window.start_minute),
                clock(window.end_minute)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

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
                        td { (schedule_text(&group.schedule)) }
                        td { (group.user_ids.len()) }
                    }
                } }
            } }
        }
    };
    page(StatusCode::OK, "Access groups", Some(&nav), body)
}

fn schedule_editor(form: Option<&Pairs>) -> Markup {
    let checked = |name: String| form.is_some_and(|form| form.checked(&name));
    let value = |name: String, default: &str| {
        form.and_then(|form| form.value(&name))
            .unwrap_or(default)
            .to_string()
    };
    html! {
        fieldset {
            legend { "When (leave every day unticked for at any time)" }
            @for row in 0..SCHEDULE_ROWS {
                fieldset {
                    legend { "Window " (row + 1) }
                    div.days {
                        @for (day, name) in DAYS.iter().enumerate() {
                            label.check {
                                input type="checkbox" name=(format!("w{row}_day{day}")) checked[checked(format!("w{row}_day{day}"))];
                                (name)
                            }
                        }
                    }
                    label for=(format!("w{row}_from")) { "From" }
                    input type="time" id=(format!("w{row}_from")) name=(format!("w{row}_from")) value=(value(format!("w{row}_from"), "08:00"));
                    label for=(format!("w{row}_until")) { "Until (00:00 is midnight at the end of the day)" }
                    input type="time" id=(format!("w{row}_until")) name=(format!("w{row}_until")) value=(value(format!("w{row}_until"), "18:00"));
                }
            }
        }
    }
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
            fieldset {
                legend { "Locks it opens" }
                @if site_locks.is_empty() { p { "The site has no lock yet." } }
                @for lock in site_locks {
                    label.check {
                        input type="checkbox" name=(format!("lock{}", lock.lock_id))
                            checked[form.is_some_and(|form| form.checked(&format!("lock{}", lock.lock_id)))];
                        (lock.name)
                    }
                }
            }
            (schedule_editor(form))
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
    let lock_ids = site_locks
        .iter()
        .map(|lock| lock.lock_id)
        .filter(|id| form.checked(&format!("lock{id}")))
        .collect();
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
    /// `created`, `added`, `taken_out`, `deleted`.
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

async fn group_page(
    state: &AppState,
    visitor: &OnSite,
    group_id: u32,
    page_index: usize,
    outcome: Result<Option<(&str, &str)>, &ApiError>,
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
    let status = outcome.err().map_or(StatusCode::OK, ApiError::status);
    let body = html! {
        p { a href=(paths::groups(site_id)) { "Back to Access groups" } }
        @match outcome {
            Ok(Some((what, message))) => (done_alert(what, message)),
            Ok(None) => {},
            Err(_) => {},
        }
        dl {
            dt { "Locks" } dd { (lock_names(&site_locks, &group.lock_ids)) }
            dt { "When" } dd { (schedule_text(&group.schedule)) }
            dt { "People" } dd { (group.user_ids.len()) }
        }
        h2 { "Add a person" }
        form method="post" action=(paths::group_action(site_id, group_id, "members")) {
            label for="email" { "Their e-mail on this site" }
            input #email type="email" name="email" required autocomplete="off"
                aria-describedby=[outcome.err().map(|_| "email-error")];
            @if let Err(error) = outcome { (error_alert(error.code(), &public_message(error), Some("email-error"))) }
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
        h2 { "Delete the group" }
        form method="post" action=(paths::group_action(site_id, group_id, "delete")) {
            p.hint { "Its people lose the keys it gave them at once." }
            (csrf_field(csrf))
            button.danger type="submit" { "Delete " (group.name) }
        }
    };
    page(status, &group.name, Some(&nav), body)
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
        Ok(done_message(&done.done)),
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
        Err(error) => group_page(state, visitor, group_id, 0, Err(&error)).await,
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
            Err(error) => return group_page(&state, &visitor, group_id, 0, Err(&error)).await,
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
        return group_page(&state, &visitor, group_id, 0, Err(&error)).await;
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
        Err(error) => group_page(&state, &visitor, group_id, 0, Err(&error)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        Pairs(
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_editor_rows_become_windows_and_read_back_in_words() {
        let form = pairs(&[
            ("w0_day0", "on"),
            ("w0_day4", "on"),
            ("w0_from", "08:00"),
            ("w0_until", "18:30"),
            ("w1_from", "09:00"),
            ("w1_until", "10:00"),
            ("w2_day6", "on"),
            ("w2_from", "22:00"),
            ("w2_until", "00:00"),
        ]);
        let windows = schedule_from(&form).unwrap();
        assert_eq!(
            windows,
            [
                ScheduleWindow {
                    days: 0b1_0001,
                    start_minute: 480,
                    end_minute: 1110
                },
                ScheduleWindow {
                    days: 0b100_0000,
                    start_minute: 1320,
                    end_minute: 1440
                },
            ]
        );
        assert_eq!(
            schedule_text(&windows),
            "Monday, Friday 08:00–18:30; Sunday 22:00–24:00"
        );
        assert_eq!(schedule_text(&[]), "At any time");
    }

    #[test]
    fn times_that_are_not_times_are_refused() {
        for bad in ["8", "24:00", "12:60", "ab:cd", ""] {
            let form = pairs(&[("w0_day0", "on"), ("w0_from", bad), ("w0_until", "10:00")]);
            assert!(
                matches!(schedule_from(&form), Err(ApiError::InvalidInput(_))),
                "{bad}"
            );
        }
    }
}
