//! A pod's members (owner and admins): add one, remove one (with the guests they invited).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::pods::{PodMemberInput, PodView};
use keyway_api::ApiErrorBody;

use super::extract::{Body, Ids};
use super::pods::change_pod;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::pods::members::add_member as add;
use crate::pods::people::{leave, remove_from_site_pods};
use crate::pods::store::{person_in_pod, Kind};
use crate::AppState;

/// Adds a member: an existing account joins at once (digital key and remote opening on the
/// pod's locks); a new e-mail gets an invitation to accept after signing up.
#[utoipa::path(
    post,
    path = "/api/v1/pods/{pod_id}/members",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    request_body = PodMemberInput,
    responses(
        (status = 201, body = PodView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Already in the pod, or a guest of the site"),
    )
)]
pub(super) async fn add_member(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
    Body(request): Body<PodMemberInput>,
) -> ApiResult<(StatusCode, Json<PodView>)> {
    let view = add_to_pod(&state, caller.user_id, pod_id, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `user_id` adds a member to a pod (the JSON API and the console's pod page): an existing
/// account joins at once (they open remotely now); a new e-mail gets an invitation.
pub(crate) async fn add_to_pod(
    state: &AppState,
    user_id: u32,
    pod_id: u32,
    request: PodMemberInput,
) -> ApiResult<PodView> {
    let ttl = state.config.invitation_ttl;
    let view = change_pod(state, user_id, pod_id, move |tx, pod, now| {
        add(tx, pod, &request, user_id, now, ttl).map(drop)
    })
    .await?;
    state.mail.wake();
    Ok(view)
}

/// Removes a member and the guests they invited; their keys through the pod are revoked.
#[utoipa::path(
    delete,
    path = "/api/v1/pods/{pod_id}/members/{member_id}",
    tag = "pods",
    security(("bearer" = [])),
    params(
        ("pod_id" = u32, Path, description = "Pod id"),
        ("member_id" = u32, Path, description = "Member id in the pod"),
    ),
    responses(
        (status = 200, body = PodView, description = "The pod after the removal"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn remove_member(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((pod_id, member_id)): Ids<(u32, u32)>,
) -> ApiResult<Json<PodView>> {
    let view = change_pod(&state, caller.user_id, pod_id, move |tx, _, now| {
        let member = person_in_pod(tx, pod_id, member_id, Kind::Member)?;
        match member.user_id {
            Some(user_id) => remove_from_site_pods(tx, member.site_id, user_id, Some(pod_id), now),
            None => leave(tx, &[member], now),
        }
    })
    .await?;
    state.mail.wake();
    Ok(Json(view))
}
