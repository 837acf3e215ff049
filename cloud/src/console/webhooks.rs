//! The Webhooks pages (owner and admins): the site's endpoints with their event types; a form
//! that makes one for a connected system (one of the site's live API keys: revoking the key
//! stops the endpoint) with its event types (none ticked: all), whose signing secret is shown
//! on the answer page, once; an endpoint's page with its dead letters, a *Replay* button and
//! *Delete*. The work is the store's own ([`crate::api::site_webhooks`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::integrations::{
    ApiKeyView, CreateWebhookRequest, CreatedWebhook, WebhookView, WEBHOOK_EVENT_TYPES,
};
use maud::{html, Markup};

use super::api_keys::{utc_time, Done};
use super::guard::{on_site, posted, see_other, OnSite};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, Section,
};
use super::paths;
use super::schedule::Pairs;
use crate::api::{api_keys, site_webhooks};
use crate::error::ApiError;
use crate::AppState;

/// What an event type is, in words.
fn event_type_text(event_type: &str) -> &'static str {
    match event_type {
        "lock.event" => "every lock event (openings and refusals)",
        "lock.alert" => "door left open, forced door, low battery",
        "access.changed" => "a person put in or taken out of an access group",
        "import.finished" => "a CSV import finished",
        _ => "",
    }
}

fn event_field(event_type: &str) -> String {
    format!("type-{}", event_type.replace('.', "-"))
}

fn types_text(types: &[String]) -> String {
    if types.is_empty() {
        "All events".into()
    } else {
        types.join(", ")
    }
}

fn create_form(
    visitor: &OnSite,
    live_keys: &[&ApiKeyView],
    form: Option<&Pairs>,
    error: Option<&ApiError>,
) -> Markup {
    let value = |name: &str| form.and_then(|form| form.value(name)).unwrap_or_default();
    let described = error.map(|_| "webhook-error");
    html! {
        h2 { "Add an endpoint" }
        @if live_keys.is_empty() {
            p { "An endpoint belongs to a connected system: "
                a href=(paths::api_keys(visitor.site_id())) { "make an API key" } " first." }
        } @else {
            form method="post" action=(paths::webhooks(visitor.site_id())) {
                @if let Some(error) = error {
                    (error_alert(error.code(), &public_message(error), Some("webhook-error")))
                }
                label for="url" { "URL (https://)" }
                input #url type="url" name="url" required maxlength="2000" autocomplete="off"
                    aria-describedby=[described] value=(value("url"));
                label for="api_key" { "For the connected system (its API key)" }
                select #api_key name="api_key" aria-describedby=[described] {
                    @for key in live_keys {
                        option value=(key.key_id) selected[value("api_key") == key.key_id.to_string()] { (key.name) }
                    }
                }
                fieldset {
                    legend { "Events it gets (none ticked: all)" }
                    @for event_type in WEBHOOK_EVENT_TYPES {
                        label.check {
                            input type="checkbox" name=(event_field(event_type))
                                checked[form.is_some_and(|form| form.checked(&event_field(event_type)))];
                            span { code { (event_type) } ": " (event_type_text(event_type)) }
                        }
                    }
                }
                (csrf_field(&visitor.session.csrf))
                button type="submit" { "Add the endpoint" }
            }
        }
    }
}

fn list_page(
    visitor: &OnSite,
    endpoints: &[WebhookView],
    keys: &[ApiKeyView],
    done: Option<Markup>,
    form: Option<&Pairs>,
    error: Option<&ApiError>,
) -> Response {
    let site_id = visitor.site_id();
    let live_keys: Vec<&ApiKeyView> = keys.iter().filter(|key| key.revoked_at.is_none()).collect();
    let status = error.map_or(StatusCode::OK, ApiError::status);
    let body = html! {
        @if let Some(done) = done { (done) }
        p.hint { "Keyway tells a connected system what happens on the site by calling its \
            endpoints, signed with each endpoint's secret; a message not delivered within a \
            day of tries is kept as a dead letter, to replay." }
        @if endpoints.is_empty() { p { "No endpoint yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Endpoints" { table.webhooks {
                thead { tr { th scope="col" { "URL" } th scope="col" { "Events" }
                    th scope="col" { "Made" } } }
                tbody { @for endpoint in endpoints {
                    tr data-webhook=(endpoint.webhook_id) {
                        td { a href=(paths::webhook(site_id, endpoint.webhook_id)) { (endpoint.url) } }
                        td { (types_text(&endpoint.event_types)) }
                        td { (utc_time(Some(endpoint.created_at))) }
                    }
                } }
            } }
        }
        (create_form(visitor, &live_keys, form, error))
    };
    page(
        status,
        "Webhooks",
        Some(&visitor.nav(Section::Webhooks)),
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
    let (user_id, site_id) = (visitor.user_id(), visitor.site_id());
    match tokio::try_join!(
        site_webhooks::site_webhooks(state, user_id, site_id),
        api_keys::site_keys(state, user_id, site_id)
    ) {
        Ok((endpoints, keys)) => list_page(visitor, &endpoints, &keys, done, form, error),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Webhooks))),
    }
}

/// `GET /web/console/sites/{site_id}/webhooks`.
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
    let done = (done.done == "deleted").then(|| {
        done_alert(
            "deleted",
            "The endpoint is deleted: nothing more is sent to it.",
        )
    });
    render_list(&state, &visitor, done, None, None).await
}

/// The page after an endpoint is made: its signing secret, this once.
fn created_page(visitor: &OnSite, created: &CreatedWebhook) -> Response {
    let endpoint = &created.webhook;
    let body = html! {
        (done_alert("webhook_created", "The endpoint is added. Copy its signing secret now: it is shown this once, and never again."))
        dl {
            dt { "URL" } dd { (endpoint.url) }
            dt { "Events" } dd { (types_text(&endpoint.event_types)) }
            dt { "Signing secret" } dd { code.secret data-secret="webhook" { (created.secret) } }
        }
        p.hint { "Each message carries " code { "webhook-id" } ", " code { "webhook-timestamp" }
            " and " code { "webhook-signature" } " (Standard Webhooks): check the signature with this secret." }
        p { a href=(paths::webhook(visitor.site_id(), endpoint.webhook_id)) { "The endpoint's page" } }
    };
    page(
        StatusCode::OK,
        "New webhook endpoint",
        Some(&visitor.nav(Section::Webhooks)),
        body,
    )
}

/// `POST /web/console/sites/{site_id}/webhooks`: adds the endpoint and shows its secret once.
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
    let request = CreateWebhookRequest {
        url: form.value("url").unwrap_or_default().trim().to_string(),
        event_types: WEBHOOK_EVENT_TYPES
            .iter()
            .filter(|event_type| form.checked(&event_field(event_type)))
            .map(|event_type| event_type.to_string())
            .collect(),
    };
    let made = match form
        .value("api_key")
        .and_then(|text| text.parse::<u32>().ok())
    {
        Some(key_id) => {
            site_webhooks::create(&state, visitor.user_id(), site_id, key_id, request).await
        }
        None => Err(ApiError::InvalidInput(
            "choose the connected system's API key".into(),
        )),
    };
    match made {
        Ok(created) => created_page(&visitor, &created),
        Err(error) => render_list(&state, &visitor, None, Some(&form), Some(&error)).await,
    }
}

/// `GET /web/console/sites/{site_id}/webhooks/{webhook_id}`: the endpoint and its dead
/// letters.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, webhook_id)): Path<(u32, u32)>,
    Query(done): Query<Done>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::Webhooks);
    let (endpoint, dead) =
        match site_webhooks::one_webhook(&state, visitor.user_id(), site_id, webhook_id).await {
            Ok(found) => found,
            Err(error) => return error_page(&error, Some(&nav)),
        };
    let csrf = &visitor.session.csrf;
    let body = html! {
        p { a href=(paths::webhooks(site_id)) { "Back to Webhooks" } }
        @if done.done == "replayed" {
            (done_alert("replayed", "The dead letters are queued again, in their order."))
        }
        dl {
            dt { "URL" } dd { (endpoint.url) }
            dt { "Events" } dd { (types_text(&endpoint.event_types)) }
            dt { "Made" } dd { (utc_time(Some(endpoint.created_at))) }
        }
        h2 { "Dead letters" }
        @if dead.is_empty() { p { "None: every message was delivered or is still being tried." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Dead letters" { table.dead-letters {
                thead { tr { th scope="col" { "Message" } th scope="col" { "Event" }
                    th scope="col" { "When" } th scope="col" { "Tries" }
                    th scope="col" { "Last error" } } }
                tbody { @for letter in &dead {
                    tr data-message=(letter.message_id) {
                        td { code { (letter.message_id) } }
                        td { (letter.event_type) }
                        td { (utc_time(Some(letter.created_at))) }
                        td { (letter.attempts) }
                        td { (letter.last_error.as_deref().unwrap_or("—")) }
                    }
                } }
            } }
            form method="post" action=(paths::webhook_action(site_id, webhook_id, "replay")) {
                (csrf_field(csrf))
                button type="submit" { "Replay " (dead.len()) " dead letters" }
            }
        }
        h2 { "Delete the endpoint" }
        form method="post" action=(paths::webhook_action(site_id, webhook_id, "delete")) {
            p.hint { "Nothing more is sent to it; its undelivered messages go with it." }
            (csrf_field(csrf))
            button.danger type="submit" { "Delete this endpoint" }
        }
    };
    page(StatusCode::OK, "Webhook endpoint", Some(&nav), body)
}

/// `POST …/webhooks/{webhook_id}/{replay,delete}`.
pub(super) async fn action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, webhook_id, action)): Path<(u32, u32, String)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let user_id = visitor.user_id();
    let done = match action.as_str() {
        "replay" => site_webhooks::replay(&state, user_id, site_id, webhook_id)
            .await
            .map(|_| format!("{}?done=replayed", paths::webhook(site_id, webhook_id))),
        "delete" => site_webhooks::delete(&state, user_id, site_id, webhook_id)
            .await
            .map(|()| format!("{}?done=deleted", paths::webhooks(site_id))),
        other => Err(ApiError::NotFound(format!("no webhook action {other:?}"))),
    };
    match done {
        Ok(location) => see_other(&location),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Webhooks))),
    }
}
