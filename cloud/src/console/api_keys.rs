//! The API keys page (owner and admins): the site's keys for connected systems with their
//! scopes, when each was made and last used, and whether it is revoked; a form that makes
//! one with its scopes (its secret is shown on the answer page, once: the cloud keeps only
//! its hash); a *Revoke* button per live key. At most two keys are live: the refusal is shown
//! next to the form. The work is the JSON API's own ([`crate::api::api_keys`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::integrations::{ApiKeyView, CreateApiKeyRequest, CreatedApiKey, Scope};
use maud::{html, Markup};
use serde::Deserialize;

use super::events::local_time;
use super::guard::{on_site, posted, see_other, OnSite};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, Section,
};
use super::paths;
use super::schedule::Pairs;
use crate::api::api_keys;
use crate::error::ApiError;
use crate::integrations::keys::scope_text;
use crate::AppState;

/// What a page says after a form worked (`?done=…`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    /// `revoked`, `deleted`, `replayed`.
    #[serde(default)]
    pub(super) done: String,
}

/// A time in UTC, or a dash for never.
pub(super) fn utc_time(time: Option<i64>) -> String {
    time.map_or_else(|| "—".into(), |time| format!("{} UTC", local_time(time, 0)))
}

/// The form field of a scope's checkbox.
fn scope_field(scope: Scope) -> String {
    format!("scope-{}", scope.as_str().replace(':', "-"))
}

pub(super) fn scopes_list(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    names.join(", ")
}

fn create_form(visitor: &OnSite, form: Option<&Pairs>, error: Option<&ApiError>) -> Markup {
    let checked = |scope: Scope| form.is_some_and(|form| form.checked(&scope_field(scope)));
    html! {
        h2 { "Make a key" }
        form method="post" action=(paths::api_keys(visitor.site_id())) {
            @if let Some(error) = error {
                (error_alert(error.code(), &public_message(error), Some("key-error")))
            }
            label for="name" { "What it is for (the connected system's name)" }
            input #name type="text" name="name" required maxlength="100"
                aria-describedby=[error.map(|_| "key-error")]
                value=(form.and_then(|form| form.value("name")).unwrap_or_default());
            fieldset {
                legend { "What it may do (at least one)" }
                @for scope in Scope::ALL {
                    label.check {
                        input type="checkbox" name=(scope_field(scope)) checked[checked(scope)];
                        span { code { (scope.as_str()) } ": " (scope_text(scope)) }
                    }
                }
            }
            (csrf_field(&visitor.session.csrf))
            button type="submit" { "Make the key" }
        }
    }
}

fn keys_page(
    visitor: &OnSite,
    keys: &[ApiKeyView],
    done: Option<Markup>,
    form: Option<&Pairs>,
    error: Option<&ApiError>,
) -> Response {
    let site_id = visitor.site_id();
    let csrf = &visitor.session.csrf;
    let status = error.map_or(StatusCode::OK, ApiError::status);
    let body = html! {
        @if let Some(done) = done { (done) }
        p.hint { "A connected system (a storage or coworking system) calls Keyway with a key. \
            At most two are live at once: make the new one, switch the system to it, then \
            revoke the old one." }
        @if keys.is_empty() { p { "No API key yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="API keys" { table.keys {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Scopes" }
                    th scope="col" { "Made" } th scope="col" { "Last used" }
                    th scope="col" { "State" } } }
                tbody { @for key in keys {
                    tr data-key=(key.key_id) data-revoked=(key.revoked_at.is_some()) {
                        td { (key.name) }
                        td { (scopes_list(&key.scopes)) }
                        td { (utc_time(Some(key.created_at))) }
                        td { (utc_time(key.last_used_at)) }
                        td {
                            @if let Some(revoked) = key.revoked_at { "Revoked " (utc_time(Some(revoked))) }
                            @else {
                                form.inline method="post" action=(paths::api_key_revoke(site_id, key.key_id)) {
                                    (csrf_field(csrf))
                                    button.danger type="submit" aria-label=(format!("Revoke {}", key.name)) { "Revoke" }
                                }
                            }
                        }
                    }
                } }
            } }
        }
        (create_form(visitor, form, error))
    };
    page(
        status,
        "API keys",
        Some(&visitor.nav(Section::ApiKeys)),
        body,
    )
}

/// The page after a key is made: its secret, this once.
fn created_page(visitor: &OnSite, created: &CreatedApiKey) -> Response {
    let body = html! {
        (done_alert("key_created", "The key is made. Copy its secret now: it is shown this once, and never again."))
        dl {
            dt { "Name" } dd { (created.key.name) }
            dt { "Scopes" } dd { (scopes_list(&created.key.scopes)) }
            dt { "Secret" } dd { code.secret data-secret="api_key" { (created.secret) } }
        }
        p.hint { "The system sends it as " code { "Authorization: Bearer …" } ". Keyway keeps only a hash of it." }
        p { a href=(paths::api_keys(visitor.site_id())) { "Back to API keys" } }
    };
    page(
        StatusCode::OK,
        "New API key",
        Some(&visitor.nav(Section::ApiKeys)),
        body,
    )
}

async fn render_list(
    state: &AppState,
    visitor: &OnSite,
    done: Option<Markup>,
    form: Option<&Pairs>,
    error: Option<&ApiError>,
) -> Response {
    match api_keys::site_keys(state, visitor.user_id(), visitor.site_id()).await {
        Ok(keys) => keys_page(visitor, &keys, done, form, error),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::ApiKeys))),
    }
}

/// `GET /web/console/sites/{site_id}/api-keys`.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    Query(done): Query<Done>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let done = (done.done == "revoked")
        .then(|| done_alert("revoked", "The key is revoked: its next call is refused."));
    render_list(&state, &visitor, done, None, None).await
}

/// `POST /web/console/sites/{site_id}/api-keys`: makes the key and shows its secret once.
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
    let request = CreateApiKeyRequest {
        name: form.value("name").unwrap_or_default().to_string(),
        scopes: Scope::ALL
            .into_iter()
            .filter(|scope| form.checked(&scope_field(*scope)))
            .collect(),
    };
    match api_keys::create(&state, visitor.user_id(), site_id, request).await {
        Ok(created) => created_page(&visitor, &created),
        Err(error) => render_list(&state, &visitor, None, Some(&form), Some(&error)).await,
    }
}

/// `POST /web/console/sites/{site_id}/api-keys/{key_id}/revoke`.
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, key_id)): Path<(u32, u32)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match api_keys::revoke(&state, visitor.user_id(), site_id, key_id).await {
        Ok(_) => see_other(&format!("{}?done=revoked", paths::api_keys(site_id))),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::ApiKeys))),
    }
}
