//! `GET /api/v1/devices/{device_id}/keys`: the key sync.

use axum::extract::State;
use axum::Json;
use keyway_api::{ApiErrorBody, KeySyncResponse};

use super::extract::Ids;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::issuing::grants::own_device;
use crate::issuing::{sync_device, Validity};
use crate::AppState;

/// Every key this device should hold now, plus the mailbox updates to carry to locks. Keys
/// missing from the answer were revoked.
#[utoipa::path(
    get,
    path = "/api/v1/devices/{device_id}/keys",
    tag = "devices",
    security(("bearer" = [])),
    params(("device_id" = u32, Path, description = "Device id")),
    responses(
        (status = 200, body = KeySyncResponse),
        (status = 404, body = ApiErrorBody, description = "No such device of the caller"),
    )
)]
pub(super) async fn sync_keys(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(device_id): Ids<u32>,
) -> ApiResult<Json<KeySyncResponse>> {
    let validity = Validity {
        now: state.clock.now(),
        ttl: state.config.credential_ttl,
    };
    let response = state
        .store
        .transaction(move |tx| {
            let device = own_device(tx, caller.user_id, device_id)?;
            sync_device(tx, &device, validity)
        })
        .await?;
    Ok(Json(response))
}
