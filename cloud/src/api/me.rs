//! `GET /api/v1/me`: who the token belongs to and the sites they are on.

use axum::extract::State;
use axum::Json;
use keyway_api::{MeResponse, SiteMembershipView, UserView};

use super::access::role_column;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::AppState;

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
        .run(move |db| {
            let user = db.query_row(
                "SELECT id, email, name FROM users WHERE id = ?1",
                [caller.user_id],
                |row| {
                    Ok(UserView {
                        user_id: row.get(0)?,
                        email: row.get(1)?,
                        name: row.get(2)?,
                    })
                },
            )?;
            let mut statement = db.prepare(
                "SELECT s.id, s.name, m.role FROM memberships m JOIN sites s ON s.id = m.site_id
                 WHERE m.user_id = ?1 ORDER BY s.id",
            )?;
            let sites = statement
                .query_map([caller.user_id], |row| {
                    Ok(SiteMembershipView {
                        site_id: row.get(0)?,
                        site_name: row.get(1)?,
                        role: role_column(row, 2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, crate::ApiError>(MeResponse { user, sites })
        })
        .await?;
    Ok(Json(response))
}
