//! Site API keys for connected systems (owner and admins): make one (its secret is shown in
//! this answer only), list them, revoke one. The rules are in [`crate::integrations::keys`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::integrations::{ApiKeyView, CreateApiKeyRequest, CreatedApiKey};
use keyway_api::ApiErrorBody;

use super::access::MANAGING_SITE;
use super::codec;
use super::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::integrations::keys;
use crate::AppState;

/// Makes an API key for a connected system, with its scopes. The secret is in this answer
/// only; the cloud keeps its hash. At most two keys are live at once.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/api-keys",
    tag = "integrations",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, body = CreatedApiKey),
        (status = 400, body = ApiErrorBody, description = "No scope, or a bad name"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Two keys are live: revoke one first"),
    )
)]
pub(super) async fn create_key(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    let created = create(&state, caller.user_id, site_id, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Makes a key on `site_id` as `user_id` (the owner or an admin): the JSON route and the
/// console's form. The secret is in the answer only.
pub(crate) async fn create(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    request: CreateApiKeyRequest,
) -> ApiResult<CreatedApiKey> {
    let name = codec::name("name", &request.name)?;
    let now = state.clock.now();
    MANAGING_SITE
        .write(state, site_id, user_id, move |tx| {
            keys::create(tx, site_id, user_id, &name, &request, now)
        })
        .await
}

/// The keys of `site_id` (never their secrets), newest first, for its owner and admins.
pub(crate) async fn site_keys(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<ApiKeyView>> {
    MANAGING_SITE
        .read(state, site_id, user_id, move |db| keys::list(db, site_id))
        .await
}

/// Revokes a key of `site_id` as `user_id` (the owner or an admin); another site's key is
/// `404`.
pub(crate) async fn revoke(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    key_id: u32,
) -> ApiResult<ApiKeyView> {
    let now = state.clock.now();
    MANAGING_SITE
        .write(state, site_id, user_id, move |tx| {
            keys::revoke(tx, site_id, key_id, now)
        })
        .await
}

/// The site's API keys (never their secrets), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/api-keys",
    tag = "integrations",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<ApiKeyView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_keys(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<ApiKeyView>>> {
    Ok(Json(site_keys(&state, caller.user_id, site_id).await?))
}

/// Revokes an API key: its next call is `401`.
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site_id}/api-keys/{key_id}",
    tag = "integrations",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("key_id" = u32, Path, description = "The key's id"),
    ),
    responses(
        (status = 200, body = ApiKeyView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn revoke_key(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, key_id)): Ids<(u32, u32)>,
) -> ApiResult<Json<ApiKeyView>> {
    Ok(Json(revoke(&state, caller.user_id, site_id, key_id).await?))
}
