//! The invited person's side: redeem an invitation code, and see one's pods and rights.

use axum::extract::State;
use axum::Json;
use keyway_api::pods::{MyPodView, RedeemInvitationRequest};
use keyway_api::ApiErrorBody;

use super::extract::Body;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::pods::invitations::redeem;
use crate::pods::store::{my_pod_view, people_where};
use crate::AppState;

/// Redeems the code from an invitation e-mail, signed in with the address it was sent to: the
/// caller joins the pod (member or guest) and their next key sync brings the keys.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/redeem",
    tag = "pods",
    security(("bearer" = [])),
    request_body = RedeemInvitationRequest,
    responses(
        (status = 200, body = MyPodView),
        (status = 400, body = ApiErrorBody, description = "Not a code, expired, or the stay is over"),
        (status = 403, body = ApiErrorBody, description = "Sent to another address, or blocked"),
        (status = 404, body = ApiErrorBody, description = "Unknown or deleted invitation"),
        (status = 409, body = ApiErrorBody, description = "Already used, or already on the site"),
    )
)]
pub(super) async fn redeem_invitation(
    State(state): State<AppState>,
    caller: Authenticated,
    Body(request): Body<RedeemInvitationRequest>,
) -> ApiResult<Json<MyPodView>> {
    let now = state.clock.now();
    let view = state
        .store
        .transaction(move |tx| {
            let person = redeem(tx, &request.code, caller.user_id, now)?;
            my_pod_view(tx, &person, now)
        })
        .await?;
    // The person joined the site's pod: as a member they open remotely now.
    Ok(Json(view))
}

/// The pods the caller joined, with their rights in each.
#[utoipa::path(
    get,
    path = "/api/v1/me/pods",
    tag = "pods",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<MyPodView>))
)]
pub(super) async fn my_pods(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<Json<Vec<MyPodView>>> {
    let now = state.clock.now();
    let pods = state
        .store
        .run(move |db| {
            people_where(db, "user_id = ?1", [caller.user_id])?
                .iter()
                .map(|person| my_pod_view(db, person, now))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(pods))
}
