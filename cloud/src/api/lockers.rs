//! XS4 locker locks (owner and admins): assign a locker, monitor them. The rules are in
//! [`crate::lock_rules::lockers`]; the emergency opening is a remote command
//! ([`crate::remote::open::emergency_open`]).

use axum::extract::State;
use axum::Json;
use keyway_api::lock_rules::{LockerView, SetLockerRequest};
use keyway_api::ApiErrorBody;

use super::access::MANAGING_HARDWARE;
use super::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::lock_rules::lockers;
use crate::AppState;

/// Makes a lock an XS4 locker and sets who uses it: one person (`fixed`) or several
/// (`family`); an empty list frees it. Those taken off lose their keys at once.
#[utoipa::path(
    put,
    path = "/api/v1/sites/{site_id}/locks/{lock_id}/locker",
    tag = "hardware",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "Lock id"),
    ),
    request_body = SetLockerRequest,
    responses(
        (status = 200, body = LockerView),
        (status = 400, body = ApiErrorBody, description = "A fixed locker for several people, or someone not of the site"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn set_locker(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
    Body(request): Body<SetLockerRequest>,
) -> ApiResult<Json<LockerView>> {
    Ok(Json(
        assign_locker(&state, caller.user_id, (site_id, lock_id), request).await?,
    ))
}

/// `user_id` makes a lock a locker and sets who uses it (the JSON API and the console's lock
/// page); those taken off lose their keys at once.
pub(crate) async fn assign_locker(
    state: &AppState,
    user_id: u32,
    (site_id, lock_id): (u32, u32),
    request: SetLockerRequest,
) -> ApiResult<LockerView> {
    let now = state.clock.now();
    MANAGING_HARDWARE
        .write(state, site_id, user_id, move |tx| {
            lockers::set_locker(tx, site_id, lock_id, &request, now)
        })
        .await
}

/// The locker of `lock_id`, for the owner and admins; `None` when the lock is not a locker
/// (404 when it is not a lock of the site).
pub(crate) async fn locker_of(
    state: &AppState,
    user_id: u32,
    (site_id, lock_id): (u32, u32),
) -> ApiResult<Option<LockerView>> {
    MANAGING_HARDWARE
        .read(state, site_id, user_id, move |db| {
            if lockers::is_locker(db, lock_id)? {
                lockers::locker(db, site_id, lock_id).map(Some)
            } else {
                Ok(None)
            }
        })
        .await
}

/// The site's lockers: who uses each, its door and battery, who opened it last.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/lockers",
    tag = "hardware",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<LockerView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_lockers(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<LockerView>>> {
    let view = MANAGING_HARDWARE
        .read(&state, site_id, caller.user_id, move |db| {
            lockers::list(db, site_id)
        })
        .await?;
    Ok(Json(view))
}
