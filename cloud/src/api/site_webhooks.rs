//! A site's webhook endpoints managed by a person (the owner or an admin, in the console)
//! rather than by a connected system's key: the same store functions as the integration
//! routes ([`crate::webhooks::store`]), behind the site's role rule. An endpoint made here
//! belongs to one of the site's live API keys (the connected system it serves): revoking
//! that key stops it, as for an endpoint the key made itself.

use keyway_api::integrations::{
    CreateWebhookRequest, CreatedWebhook, DeadLetterView, Scope, WebhookView,
};

use super::access::MANAGING_WEBHOOKS;
use crate::error::{ApiError, ApiResult};
use crate::integrations::keys;
use crate::webhooks::store;
use crate::AppState;

/// The site's endpoints.
pub(crate) async fn site_webhooks(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<WebhookView>> {
    MANAGING_WEBHOOKS
        .read(state, site_id, user_id, move |db| store::list(db, site_id))
        .await
}

/// One endpoint of the site and its dead letters (oldest first); another site's is `404`.
pub(crate) async fn one_webhook(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    webhook_id: u32,
) -> ApiResult<(WebhookView, Vec<DeadLetterView>)> {
    MANAGING_WEBHOOKS
        .read(state, site_id, user_id, move |db| {
            Ok((
                store::view(db, site_id, webhook_id)?,
                store::dead_letters(db, site_id, webhook_id)?,
            ))
        })
        .await
}

/// Makes an endpoint for the connected system whose key is `api_key_id` (a live key of this
/// site: another site's is `404`, a revoked one `invalid_input`); lock events (`lock.event`,
/// `lock.alert`, or all types) only for a key with `events:read`, as through the API
/// (`insufficient_scope`). The signing secret is in the answer only.
pub(crate) async fn create(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    api_key_id: u32,
    request: CreateWebhookRequest,
) -> ApiResult<CreatedWebhook> {
    let now = state.clock.now();
    let loopback = state.config.webhooks_allow_loopback_http;
    MANAGING_WEBHOOKS
        .write(state, site_id, user_id, move |tx| {
            let key = keys::key(tx, site_id, api_key_id)?;
            if key.revoked_at.is_some() {
                return Err(ApiError::InvalidInput(
                    "that API key is revoked: choose a live one".into(),
                ));
            }
            // What the system may read through the API bounds what it is sent.
            if store::carries_lock_events(&request.event_types)
                && !key.scopes.contains(&Scope::EventsRead)
            {
                return Err(ApiError::InsufficientScope(format!(
                    "lock events go only to a system whose key has {}",
                    Scope::EventsRead.as_str()
                )));
            }
            store::create(tx, site_id, api_key_id, &request, loopback, now)
        })
        .await
}

/// Deletes an endpoint of the site; its undelivered messages go with it.
pub(crate) async fn delete(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    webhook_id: u32,
) -> ApiResult<()> {
    let now = state.clock.now();
    MANAGING_WEBHOOKS
        .write(state, site_id, user_id, move |tx| {
            store::delete(tx, site_id, webhook_id, now)
        })
        .await
}

/// Queues the endpoint's dead letters again, in their order; returns how many.
pub(crate) async fn replay(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    webhook_id: u32,
) -> ApiResult<u32> {
    let now = state.clock.now();
    let replayed = MANAGING_WEBHOOKS
        .write(state, site_id, user_id, move |tx| {
            store::replay(tx, site_id, webhook_id, now)
        })
        .await?;
    state.store.webhooks_wake().notify_one();
    Ok(replayed)
}
