//! IQs (hubs) of a site: list and register (owner and admins: hardware).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::{ApiErrorBody, CreateIqRequest, IqView};

use super::access::MANAGING_HARDWARE;
use super::codec;
use super::extract::{Body, Ids};
use super::hardware::Hardware;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::store::rows;
use crate::AppState;

const IQ_COLUMNS: &str = "SELECT id, site_id, name, public_key FROM iqs";

fn iq_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<IqView> {
    Ok(IqView {
        iq_id: row.get(0)?,
        site_id: row.get(1)?,
        name: row.get(2)?,
        public_key: codec::encode(&row.get::<_, Vec<u8>>(3)?),
    })
}

/// The site's IQs.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/iqs",
    tag = "hardware",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<IqView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_iqs(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<IqView>>> {
    Ok(Json(site_iqs(&state, caller.user_id, site_id).await?))
}

/// The IQs of `site_id`, for its owner and admins (the JSON list and the console's Locks
/// page).
pub(crate) async fn site_iqs(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<IqView>> {
    MANAGING_HARDWARE
        .read(state, site_id, user_id, move |db| {
            let sql = format!("{IQ_COLUMNS} WHERE site_id = ?1 ORDER BY id");
            Ok(rows(db, &sql, [site_id], iq_from_row)?)
        })
        .await
}

/// Registers an installed IQ with its own public key.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/iqs",
    tag = "hardware",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = CreateIqRequest,
    responses(
        (status = 201, body = IqView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "The key is already registered"),
    )
)]
pub(super) async fn create_iq(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<CreateIqRequest>,
) -> ApiResult<(StatusCode, Json<IqView>)> {
    let name = codec::name("name", &request.name)?;
    let key = codec::public_key("public_key", &request.public_key)?;
    let now = state.clock.now();
    let view = MANAGING_HARDWARE
        .write(&state, site_id, caller.user_id, move |tx| {
            let iq_id = Hardware::Iq.register(tx, site_id, &name, &key, now)?;
            let sql = format!("{IQ_COLUMNS} WHERE id = ?1");
            Ok(tx.query_row(&sql, [iq_id], iq_from_row)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}
