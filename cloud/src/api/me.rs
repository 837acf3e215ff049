//! `GET /api/v1/me`: who the token belongs to and the sites they are on; `PATCH /api/v1/me`:
//! the details a person owns (name, phone), on every site whose place they claimed.

use axum::extract::State;
use axum::Json;
use keyway_api::{MeResponse, SiteMembershipView, UpdateMeRequest};
use rusqlite::Connection;

use super::access::role_column;
use super::extract::Body;
use crate::auth::accounts::{normalize_name, user_view};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::phone::phone_change;
use crate::AppState;

/// The account of `user_id` and the sites they are on, by site id (`GET /api/v1/me` and the
/// console's site switcher).
pub(crate) fn me_response(db: &Connection, user_id: u32) -> ApiResult<MeResponse> {
    let user = user_view(db, user_id)?;
    let mut statement = db.prepare(
        "SELECT s.id, s.name, m.role FROM memberships m JOIN sites s ON s.id = m.site_id
         WHERE m.user_id = ?1 ORDER BY s.id",
    )?;
    let sites = statement
        .query_map([user_id], |row| {
            Ok(SiteMembershipView {
                site_id: row.get(0)?,
                site_name: row.get(1)?,
                role: role_column(row, 2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MeResponse { user, sites })
}

/// The caller's account and memberships.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "people",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 401, body = keyway_api::ApiErrorBody),
    )
)]
pub(super) async fn me(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<Json<MeResponse>> {
    let response = state
        .store
        .run(move |db| me_response(db, caller.user_id))
        .await?;
    Ok(Json(response))
}

/// Changes the caller's own name or phone (`""` removes the phone). Sites see them on every
/// place the caller claimed; a place not claimed yet keeps what its admin typed until then.
#[utoipa::path(
    patch,
    path = "/api/v1/me",
    tag = "people",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, body = MeResponse),
        (status = 400, body = keyway_api::ApiErrorBody, description = "A bad name, or a phone \
            not in international form (`invalid_phone`)"),
        (status = 401, body = keyway_api::ApiErrorBody),
    )
)]
pub(super) async fn update_me(
    State(state): State<AppState>,
    caller: Authenticated,
    Body(request): Body<UpdateMeRequest>,
) -> ApiResult<Json<MeResponse>> {
    let name = request.name.as_deref().map(normalize_name).transpose()?;
    let phone = phone_change(request.phone.as_deref())?;
    let response = state
        .store
        .transaction(move |tx| {
            tx.execute(
                "UPDATE users SET name = COALESCE(?1, name),
                 phone = CASE WHEN ?2 THEN ?3 ELSE phone END WHERE id = ?4",
                rusqlite::params![name, phone.is_some(), phone.flatten(), caller.user_id],
            )?;
            me_response(tx, caller.user_id)
        })
        .await?;
    Ok(Json(response))
}
