//! A lock's locker assignment (owner and admins), on the lock's page: for an XS4 locker, who
//! holds it (fixed: one person; family: several) and its reassignment; for another lock, making
//! it a locker. The people are given by their e-mails on the site; the work is `PUT
//! /api/v1/sites/{site_id}/locks/{lock_id}/locker`'s
//! ([`crate::api::lockers::assign_locker`]), and those taken off lose their keys at once.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use keyway_api::lock_rules::{LockerAssignment, LockerView, SetLockerRequest};
use keyway_api::PersonView;
use maud::{html, Markup};

use super::events::local_time;
use super::guard::{posted, see_other, OnSite};
use super::layout::{csrf_field, error_alert, public_message};
use super::lock::{lock_page, LockQuery, Outcome};
use super::paths;
use super::people::person_by_email;
use super::schedule::Pairs;
use crate::api::lockers::assign_locker;
use crate::error::ApiError;
use crate::AppState;

fn assignment_value(assignment: LockerAssignment) -> &'static str {
    match assignment {
        LockerAssignment::Fixed => "fixed",
        LockerAssignment::Family => "family",
    }
}

/// The e-mails of a text field: one a line, or separated by commas.
fn emails(text: &str) -> Vec<&str> {
    text.split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .collect()
}

/// The locker part of the lock's page: who holds it and the assignment form (filled as
/// posted when refused).
pub(super) fn locker_section(
    visitor: &OnSite,
    lock_id: u32,
    locker: Option<&(LockerView, Vec<PersonView>)>,
    refused: Option<(&ApiError, &Pairs)>,
    utc_offset_minutes: i32,
) -> Markup {
    let stored_assignment = locker.map_or("fixed", |(view, _)| assignment_value(view.assignment));
    let assignment = refused
        .and_then(|(_, posted)| posted.value("assignment"))
        .unwrap_or(stored_assignment);
    let stored_emails = locker.map_or_else(String::new, |(_, people)| {
        people
            .iter()
            .filter_map(|person| person.email.as_deref())
            .collect::<Vec<_>>()
            .join("\n")
    });
    let email_text = refused
        .and_then(|(_, posted)| posted.value("emails"))
        .map_or(stored_emails, str::to_string);
    let error = refused.map(|(error, _)| error);
    html! {
        h2 { "Locker" }
        @match locker {
            Some((view, people)) => {
                dl.locker {
                    dt { "Assignment" } dd { @if view.assignment == LockerAssignment::Fixed { "Fixed (one person)" } @else { "Family (several people)" } }
                    dt { "Held by" } dd data-holders=(people.len()) {
                        @if people.is_empty() { "Nobody: the locker is free" }
                        @for (index, person) in people.iter().enumerate() {
                            @if index > 0 { ", " }
                            a href=(paths::person(visitor.site_id(), person.user_id)) { (person.name) }
                        }
                    }
                    dt { "Last opened" } dd { @match view.last_opened_at {
                        Some(at) => (local_time(at, utc_offset_minutes)),
                        None => "Never",
                    } }
                }
            }
            None => p { "This is not a locker. An XS4 locker is opened only by the people it is \
                assigned to; a lock that access groups or pods open becomes one only once taken \
                out of them." },
        }
        form method="post" action=(paths::lock_action(visitor.site_id(), lock_id, "locker")) {
            @if let Some(error) = error { (error_alert(error.code(), &public_message(error), Some("locker-error"))) }
            label for="assignment" { "Assignment" }
            select #assignment name="assignment" {
                option value="fixed" selected[assignment == "fixed"] { "Fixed: one person" }
                option value="family" selected[assignment == "family"] { "Family: several people" }
            }
            label for="emails" { "Held by (their e-mails on this site, one a line; none frees it)" }
            textarea #emails name="emails" rows="3" aria-describedby=[error.map(|_| "locker-error")] { (email_text) }
            (csrf_field(&visitor.session.csrf))
            button type="submit" { @if locker.is_some() { "Save the assignment" } @else { "Make it a locker" } }
        }
    }
}

async fn locker_change(
    state: &AppState,
    visitor: &OnSite,
    form: &Pairs,
) -> Result<SetLockerRequest, ApiError> {
    let assignment = match form.value("assignment") {
        Some("fixed") => LockerAssignment::Fixed,
        Some("family") => LockerAssignment::Family,
        _ => return Err(ApiError::InvalidInput("choose fixed or family".into())),
    };
    let mut user_ids = Vec::new();
    for email in emails(form.value("emails").unwrap_or_default()) {
        user_ids.push(person_by_email(state, visitor, email).await?.user_id);
    }
    Ok(SetLockerRequest {
        assignment,
        user_ids,
    })
}

/// `POST …/locks/{lock_id}/locker`: assigns the locker, then back to the lock's page.
pub(super) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, lock_id)): Path<(u32, u32)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let saved = match locker_change(&state, &visitor, &form).await {
        Ok(change) => assign_locker(&state, visitor.user_id(), (site_id, lock_id), change).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => see_other(&format!(
            "{}?done=locker_saved",
            paths::lock(site_id, lock_id)
        )),
        Err(error) => {
            let outcome = Outcome::Locker(&error, &form);
            lock_page(&state, &visitor, lock_id, &LockQuery::default(), outcome).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_come_one_a_line_or_between_commas() {
        assert_eq!(
            emails(" a@example.com\r\nb@example.com, c@example.com;;\n"),
            ["a@example.com", "b@example.com", "c@example.com"]
        );
        assert!(emails(" \n ").is_empty());
    }
}
