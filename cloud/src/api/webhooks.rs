//! Webhook endpoints of a connected system (its API key, scope `webhooks:manage`): make one
//! (its signing secret is in this answer only), list, delete, see and replay dead letters. The
//! rules are in [`crate::webhooks`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::integrations::{
    CreateWebhookRequest, CreatedWebhook, DeadLetterView, ReplayView, Scope, WebhookView,
};
use keyway_api::ApiErrorBody;

use super::extract::{Body, Ids};
use crate::error::ApiResult;
use crate::integrations::caller::IntegrationCaller;
use crate::integrations::people::audit;
use crate::webhooks::store;
use crate::AppState;

/// Makes a webhook endpoint for the key's site.
#[utoipa::path(
    post,
    path = "/api/v1/integrations/webhooks",
    tag = "integrations",
    security(("api_key" = ["webhooks:manage"])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = CreatedWebhook),
        (status = 400, body = ApiErrorBody, description = "Not https, a private address, or an unknown event type"),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`: lock events (`lock.event`, `lock.alert`, or all types) also need `events:read`"),
        (status = 409, body = ApiErrorBody, description = "Ten endpoints already"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn create_webhook(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    Body(request): Body<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    caller.require(Scope::WebhooksManage)?;
    if store::carries_lock_events(&request.event_types) {
        // Lock events are what `events:read` reads: a webhook is no way around it.
        caller.require(Scope::EventsRead)?;
    }
    let now = state.clock.now();
    let loopback = state.config.webhooks_allow_loopback_http;
    let created = state
        .store
        .transaction(move |tx| {
            let created =
                store::create(tx, caller.site_id, caller.key_id, &request, loopback, now)?;
            let change = format!(
                "webhook {} to {} made",
                created.webhook.webhook_id, created.webhook.url
            );
            audit(tx, &caller, "create_webhook", &change, now)?;
            Ok::<_, crate::ApiError>(created)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The key's site's webhook endpoints.
#[utoipa::path(
    get,
    path = "/api/v1/integrations/webhooks",
    tag = "integrations",
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, body = Vec<WebhookView>),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
    )
)]
pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    caller: IntegrationCaller,
) -> ApiResult<Json<Vec<WebhookView>>> {
    caller.require(Scope::WebhooksManage)?;
    let site_id = caller.site_id;
    Ok(Json(
        state.store.run(move |db| store::list(db, site_id)).await?,
    ))
}

/// Deletes an endpoint; its undelivered messages go with it.
#[utoipa::path(
    delete,
    path = "/api/v1/integrations/webhooks/{webhook_id}",
    tag = "integrations",
    security(("api_key" = ["webhooks:manage"])),
    params(("webhook_id" = u32, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn delete_webhook(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    Ids(webhook_id): Ids<u32>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::WebhooksManage)?;
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            store::delete(tx, caller.site_id, webhook_id, now)?;
            audit(
                tx,
                &caller,
                "delete_webhook",
                &format!("webhook {webhook_id} deleted"),
                now,
            )
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint's dead letters: messages not delivered within a day of tries.
#[utoipa::path(
    get,
    path = "/api/v1/integrations/webhooks/{webhook_id}/dead-letters",
    tag = "integrations",
    security(("api_key" = ["webhooks:manage"])),
    params(("webhook_id" = u32, Path, description = "The endpoint's id")),
    responses(
        (status = 200, body = Vec<DeadLetterView>),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn dead_letters(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    Ids(webhook_id): Ids<u32>,
) -> ApiResult<Json<Vec<DeadLetterView>>> {
    caller.require(Scope::WebhooksManage)?;
    let site_id = caller.site_id;
    Ok(Json(
        state
            .store
            .run(move |db| store::dead_letters(db, site_id, webhook_id))
            .await?,
    ))
}

/// Queues the endpoint's dead letters again, in their order, for another day of tries.
#[utoipa::path(
    post,
    path = "/api/v1/integrations/webhooks/{webhook_id}/replay",
    tag = "integrations",
    security(("api_key" = ["webhooks:manage"])),
    params(("webhook_id" = u32, Path, description = "The endpoint's id")),
    responses(
        (status = 200, body = ReplayView),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn replay(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    Ids(webhook_id): Ids<u32>,
) -> ApiResult<Json<ReplayView>> {
    caller.require(Scope::WebhooksManage)?;
    let now = state.clock.now();
    let replayed = state
        .store
        .transaction(move |tx| {
            let replayed = store::replay(tx, caller.site_id, webhook_id, now)?;
            let change = format!("{replayed} dead letters of webhook {webhook_id} replayed");
            audit(tx, &caller, "replay_webhook", &change, now)?;
            Ok::<_, crate::ApiError>(replayed)
        })
        .await?;
    state.store.webhooks_wake().notify_one();
    Ok(Json(ReplayView { replayed }))
}
