//! A lock's settings and its offline storage (owner and admins). The rules are in
//! [`crate::lock_rules::settings`] and [`crate::lock_rules::lists`].

use axum::extract::State;
use axum::Json;
use keyway_api::lock_rules::{LockSettingsView, OfflineStorageView, UpdateLockSettingsRequest};
use keyway_api::ApiErrorBody;

use super::access::MANAGING_HARDWARE;
use super::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::lock_rules::{lists, settings};
use crate::AppState;

/// A lock's settings.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/locks/{lock_id}/settings",
    tag = "hardware",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "Lock id"),
    ),
    responses(
        (status = 200, body = LockSettingsView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn get_settings(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
) -> ApiResult<Json<LockSettingsView>> {
    Ok(Json(
        settings_of(&state, caller.user_id, (site_id, lock_id)).await?,
    ))
}

/// The settings of a lock of `site_id`, for its owner and admins (the JSON API and the
/// console's lock page).
pub(crate) async fn settings_of(
    state: &AppState,
    user_id: u32,
    (site_id, lock_id): (u32, u32),
) -> ApiResult<LockSettingsView> {
    MANAGING_HARDWARE
        .read(state, site_id, user_id, move |db| {
            settings::view(db, site_id, lock_id)
        })
        .await
}

/// Changes a lock's settings; the lock gets them at its IQ's next push.
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site_id}/locks/{lock_id}/settings",
    tag = "hardware",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "Lock id"),
    ),
    request_body = UpdateLockSettingsRequest,
    responses(
        (status = 200, body = LockSettingsView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Near Detection Mode needs the lock's IQ at firmware 2.3 or later (`iq_firmware_too_old`)"),
    )
)]
pub(super) async fn update_settings(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
    Body(request): Body<UpdateLockSettingsRequest>,
) -> ApiResult<Json<LockSettingsView>> {
    Ok(Json(
        change_settings(&state, caller.user_id, (site_id, lock_id), request).await?,
    ))
}

/// `user_id` changes a lock's settings (the JSON API and the console's settings form); the
/// lock gets them at its IQ's next push.
pub(crate) async fn change_settings(
    state: &AppState,
    user_id: u32,
    (site_id, lock_id): (u32, u32),
    request: UpdateLockSettingsRequest,
) -> ApiResult<LockSettingsView> {
    MANAGING_HARDWARE
        .write(state, site_id, user_id, move |tx| {
            settings::update(tx, site_id, lock_id, &request)
        })
        .await
}

/// What the lock stores for when it cannot reach its IQ: master keys first, then tags with
/// offline access, up to its model's capacity; the rest are listed as not stored.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/locks/{lock_id}/offline",
    tag = "hardware",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "Lock id"),
    ),
    responses(
        (status = 200, body = OfflineStorageView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn offline_storage(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
) -> ApiResult<Json<OfflineStorageView>> {
    let view = MANAGING_HARDWARE
        .read(&state, site_id, caller.user_id, move |db| {
            settings::view(db, site_id, lock_id)?;
            lists::offline_storage(db, site_id, lock_id)
        })
        .await?;
    Ok(Json(view))
}
