//! Apps connected to a site through "Connect" (owner and admins): list them, disconnect one
//! (its token's next call is `401`, its webhook endpoints stop). The rules are in
//! [`crate::integrations::connections`].

use axum::extract::State;
use axum::Json;
use keyway_api::integrations::ConnectedAppView;
use keyway_api::ApiErrorBody;

use super::access::MANAGING_SITE;
use super::extract::Ids;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::integrations::connections;
use crate::AppState;

/// The apps connected to `site_id` now, newest first, for its owner and admins.
pub(crate) async fn site_apps(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<ConnectedAppView>> {
    MANAGING_SITE
        .read(state, site_id, user_id, move |db| {
            connections::list(db, site_id)
        })
        .await
}

/// Disconnects an app from `site_id` as `user_id` (the owner or an admin); another site's
/// connection is `404`.
pub(crate) async fn disconnect(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    connection_id: u32,
) -> ApiResult<ConnectedAppView> {
    let now = state.clock.now();
    MANAGING_SITE
        .write(state, site_id, user_id, move |tx| {
            connections::disconnect(tx, site_id, connection_id, now)
        })
        .await
}

/// The apps connected to the site: name, scopes, who connected them and when.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/connected-apps",
    tag = "integrations",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<ConnectedAppView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_connected_apps(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<ConnectedAppView>>> {
    Ok(Json(site_apps(&state, caller.user_id, site_id).await?))
}

/// Disconnects an app: its token's next call is `401` and its webhook endpoints stop.
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site_id}/connected-apps/{connection_id}",
    tag = "integrations",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("connection_id" = u32, Path, description = "The connection's id"),
    ),
    responses(
        (status = 200, body = ConnectedAppView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn disconnect_app(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, connection_id)): Ids<(u32, u32)>,
) -> ApiResult<Json<ConnectedAppView>> {
    Ok(Json(
        disconnect(&state, caller.user_id, site_id, connection_id).await?,
    ))
}
