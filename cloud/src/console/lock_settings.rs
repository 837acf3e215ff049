//! A lock's settings form (owner and admins), on the lock's page: the door-open limit, Near
//! Detection Mode and the Easy Office Mode windows (the schedule editor of
//! [`super::schedule`]), as `PATCH /api/v1/sites/{site_id}/locks/{lock_id}/settings`
//! ([`crate::api::lock_settings::change_settings`]); a refusal shows next to the field it is
//! about.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use keyway_api::lock_rules::{LockSettingsView, UpdateLockSettingsRequest};
use maud::{html, Markup};

use super::guard::{posted, see_other, OnSite};
use super::layout::{csrf_field, error_alert, public_message};
use super::lock::{lock_page, LockQuery, Outcome};
use super::paths;
use super::schedule::{schedule_editor, schedule_from, Pairs};
use crate::api::lock_settings::change_settings;
use crate::error::ApiError;
use crate::lock_rules::settings::DOOR_OPEN_LIMITS;
use crate::AppState;

/// The field of the form a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    DoorOpenLimit,
    NearDetection,
    EasyOffice,
}

/// Where a refusal of `posted` shows: the IQ's firmware is Near Detection's, a limit out of
/// range the limit's, anything else about the form's input the schedule's.
fn field_of(error: &ApiError, posted: &Pairs) -> Field {
    let limit_out_of_range = posted.value("door_open_limit_seconds").is_some_and(|text| {
        !text
            .trim()
            .parse()
            .is_ok_and(|limit| DOOR_OPEN_LIMITS.contains(&limit))
    });
    match error {
        ApiError::IqFirmwareTooOld(_) => Field::NearDetection,
        _ if limit_out_of_range => Field::DoorOpenLimit,
        _ => Field::EasyOffice,
    }
}

/// The form, filled with the lock's settings, or as posted when refused.
pub(super) fn settings_form(
    visitor: &OnSite,
    settings: &LockSettingsView,
    refused: Option<(&ApiError, &Pairs)>,
) -> Markup {
    let stored = Pairs::from_schedule(&settings.easy_office_schedule);
    let posted = refused.map(|(_, posted)| posted);
    let schedule = posted.unwrap_or(&stored);
    let error_at = |field: Field| {
        refused
            .filter(|(error, posted)| field_of(error, posted) == field)
            .map(|(error, _)| error)
    };
    let alert = |field: Field, id: &str| match error_at(field) {
        Some(error) => error_alert(error.code(), &public_message(error), Some(id)),
        None => html! {},
    };
    let described = |field: Field, hint: &'static str, id: &'static str| match error_at(field) {
        Some(_) => format!("{hint} {id}"),
        None => hint.to_string(),
    };
    let limit = posted
        .and_then(|posted| posted.value("door_open_limit_seconds"))
        .map_or_else(
            || settings.door_open_limit_seconds.to_string(),
            str::to_string,
        );
    let near = posted.map_or(settings.near_detection, |posted| {
        posted.value("near_detection") == Some("on")
    });
    html! {
        h2 { "Settings" }
        form method="post" action=(paths::lock_action(visitor.site_id(), settings.lock_id, "settings")) {
            label for="door_open_limit_seconds" { "Door-open limit (seconds)" }
            input #door_open_limit_seconds type="number" name="door_open_limit_seconds" required
                min=(DOOR_OPEN_LIMITS.start()) max=(DOOR_OPEN_LIMITS.end()) value=(limit)
                aria-describedby=(described(Field::DoorOpenLimit, "limit-hint", "limit-error"));
            p.hint id="limit-hint" { "The owner is e-mailed when the door stays open longer (5 to 3600 seconds)." }
            (alert(Field::DoorOpenLimit, "limit-error"))
            label for="near_detection" { "Near Detection Mode" }
            select #near_detection name="near_detection"
                aria-describedby=(described(Field::NearDetection, "near-hint", "near-error")) {
                option value="off" selected[!near] { "Off" }
                option value="on" selected[near] { "On" }
            }
            p.hint id="near-hint" { "The lock answers only a phone held close to it; needs its IQ at firmware 2.3 or later." }
            (alert(Field::NearDetection, "near-error"))
            (alert(Field::EasyOffice, "easy-office-error"))
            p.hint { "Easy Office Mode: in its windows a tag with the office-mode right leaves the door \
                open; the lock locks itself when a window ends." }
            (schedule_editor("Easy Office Mode windows (none: off)", Some(schedule)))
            p { "Offline storage: " (settings.offline_capacity) " entries." }
            (csrf_field(&visitor.session.csrf))
            button type="submit" { "Save the settings" }
        }
    }
}

/// The change the form asks for: a field left out is not changed.
fn settings_change(form: &Pairs) -> Result<UpdateLockSettingsRequest, ApiError> {
    let door_open_limit_seconds = form
        .value("door_open_limit_seconds")
        .map(|text| {
            text.trim().parse::<u16>().map_err(|_| {
                ApiError::InvalidInput(format!(
                    "the door-open limit is a number of seconds from {} to {}",
                    DOOR_OPEN_LIMITS.start(),
                    DOOR_OPEN_LIMITS.end()
                ))
            })
        })
        .transpose()?;
    let near_detection = match form.value("near_detection") {
        None => None,
        Some("on") => Some(true),
        Some("off") => Some(false),
        Some(_) => return Err(ApiError::InvalidInput("choose on or off".into())),
    };
    Ok(UpdateLockSettingsRequest {
        door_open_limit_seconds,
        near_detection,
        easy_office_schedule: Some(schedule_from(form)?),
    })
}

/// `POST …/locks/{lock_id}/settings`: saves the settings, then back to the lock's page.
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
    let saved = match settings_change(&form) {
        Ok(change) => change_settings(&state, visitor.user_id(), (site_id, lock_id), change).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => see_other(&format!(
            "{}?done=settings_saved",
            paths::lock(site_id, lock_id)
        )),
        Err(error) => {
            let outcome = Outcome::Settings(&error, &form);
            lock_page(&state, &visitor, lock_id, &LockQuery::default(), outcome).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_shows_at_the_field_it_is_about() {
        let posted = |limit: &str| {
            serde_json::from_value::<Pairs>(serde_json::json!([["door_open_limit_seconds", limit]]))
                .unwrap()
        };
        let firmware = ApiError::IqFirmwareTooOld("old".into());
        let invalid = ApiError::InvalidInput("bad".into());
        assert_eq!(field_of(&firmware, &posted("30")), Field::NearDetection);
        assert_eq!(field_of(&invalid, &posted("2")), Field::DoorOpenLimit);
        assert_eq!(field_of(&invalid, &posted("thirty")), Field::DoorOpenLimit);
        assert_eq!(field_of(&invalid, &posted("30")), Field::EasyOffice);
    }
}
