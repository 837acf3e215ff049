//! A pod's guests: members invite them and manage the ones they invited; the site's owner and
//! admins manage all of them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::pods::{GuestView, InviteGuestRequest};
use keyway_api::ApiErrorBody;
use rusqlite::Connection;

use super::extract::{Body, Ids};
use super::pods::load;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::pods::guests::invite_guest as invite;
use crate::pods::people::{leave, set_blocked};
use crate::pods::store::{guest_view, people_where, person_in_pod, Kind, PodPerson};
use crate::AppState;

/// A guest of the pod whom the caller manages (404 when there is none, 403 when it is not
/// theirs to manage).
fn managed_guest(
    db: &Connection,
    pod_id: u32,
    guest_id: u32,
    user_id: u32,
) -> ApiResult<PodPerson> {
    let (_, standing) = load(db, pod_id, user_id)?;
    let guest = person_in_pod(db, pod_id, guest_id, Kind::Guest)?;
    standing.require_manages(&guest)?;
    Ok(guest)
}

/// The guests the caller manages, with their rights: a member's own, or all for admins.
#[utoipa::path(
    get,
    path = "/api/v1/pods/{pod_id}/guests",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    responses(
        (status = 200, body = Vec<GuestView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_guests(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
) -> ApiResult<Json<Vec<GuestView>>> {
    Ok(Json(guests(&state, caller.user_id, pod_id).await?))
}

/// The guests of a pod that `user_id` manages (the JSON list and the console's pod page).
pub(crate) async fn guests(
    state: &AppState,
    user_id: u32,
    pod_id: u32,
) -> ApiResult<Vec<GuestView>> {
    let now = state.clock.now();
    state
        .store
        .run(move |db| {
            let (_, standing) = load(db, pod_id, user_id)?;
            standing.require_view()?;
            people_where(db, "pod_id = ?1 AND kind = 'guest'", [pod_id])?
                .iter()
                .filter(|guest| standing.manages(guest))
                .map(|guest| guest_view(db, guest, now))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await
}

/// Invites a guest by e-mail (pod members): digital key only, on some of the pod's locks,
/// from check-in to check-out. The e-mail carries a single-use code that expires.
#[utoipa::path(
    post,
    path = "/api/v1/pods/{pod_id}/guests",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    request_body = InviteGuestRequest,
    responses(
        (status = 201, body = GuestView),
        (status = 400, body = ApiErrorBody, description = "Bad e-mail, timeframe, or a lock outside the pod"),
        (status = 403, body = ApiErrorBody, description = "Not a member of this pod"),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Invited twice, or already on the site"),
    )
)]
pub(super) async fn invite_guest(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
    Body(request): Body<InviteGuestRequest>,
) -> ApiResult<(StatusCode, Json<GuestView>)> {
    let now = state.clock.now();
    let ttl = state.config.invitation_ttl;
    let view = state
        .store
        .transaction(move |tx| {
            let (pod, standing) = load(tx, pod_id, caller.user_id)?;
            let inviter = standing.require_member()?;
            let guest = invite(tx, &pod, inviter, &request, now, ttl)?;
            guest_view(tx, &guest, now)
        })
        .await?;
    state.mail.wake();
    Ok((StatusCode::CREATED, Json(view)))
}

/// `user_id` blocks (or unblocks) a guest they manage (the JSON API and the console's
/// forms).
pub(crate) async fn block_or_unblock(
    state: &AppState,
    user_id: u32,
    (pod_id, guest_id): (u32, u32),
    blocked: bool,
) -> ApiResult<GuestView> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let guest = managed_guest(tx, pod_id, guest_id, user_id)?;
            if guest.blocked_at.is_some() != blocked {
                set_blocked(tx, &guest, blocked, now)?;
            }
            guest_view(tx, &person_in_pod(tx, pod_id, guest_id, Kind::Guest)?, now)
        })
        .await
}

/// Blocks a guest: their keys are revoked at once (gone from the phone at its next sync;
/// refused by locks once any phone carries the denylist update to them).
#[utoipa::path(
    post,
    path = "/api/v1/pods/{pod_id}/guests/{guest_id}/block",
    tag = "pods",
    security(("bearer" = [])),
    params(
        ("pod_id" = u32, Path, description = "Pod id"),
        ("guest_id" = u32, Path, description = "Guest id"),
    ),
    responses(
        (status = 200, body = GuestView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn block_guest(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(ids): Ids<(u32, u32)>,
) -> ApiResult<Json<GuestView>> {
    Ok(Json(
        block_or_unblock(&state, caller.user_id, ids, true).await?,
    ))
}

/// Unblocks a guest: their next sync brings new keys (the blocked ones stay refused).
#[utoipa::path(
    post,
    path = "/api/v1/pods/{pod_id}/guests/{guest_id}/unblock",
    tag = "pods",
    security(("bearer" = [])),
    params(
        ("pod_id" = u32, Path, description = "Pod id"),
        ("guest_id" = u32, Path, description = "Guest id"),
    ),
    responses(
        (status = 200, body = GuestView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn unblock_guest(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(ids): Ids<(u32, u32)>,
) -> ApiResult<Json<GuestView>> {
    Ok(Json(
        block_or_unblock(&state, caller.user_id, ids, false).await?,
    ))
}

/// Deletes a guest (an invitation not redeemed yet stops working); their keys are revoked.
/// Answers with the guest as they were.
#[utoipa::path(
    delete,
    path = "/api/v1/pods/{pod_id}/guests/{guest_id}",
    tag = "pods",
    security(("bearer" = [])),
    params(
        ("pod_id" = u32, Path, description = "Pod id"),
        ("guest_id" = u32, Path, description = "Guest id"),
    ),
    responses(
        (status = 200, body = GuestView, description = "Deleted"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn delete_guest(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(ids): Ids<(u32, u32)>,
) -> ApiResult<Json<GuestView>> {
    Ok(Json(remove_guest(&state, caller.user_id, ids).await?))
}

/// `user_id` deletes a guest they manage (the JSON API and the console's form); answers with
/// the guest as they were.
pub(crate) async fn remove_guest(
    state: &AppState,
    user_id: u32,
    (pod_id, guest_id): (u32, u32),
) -> ApiResult<GuestView> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let guest = managed_guest(tx, pod_id, guest_id, user_id)?;
            let view = guest_view(tx, &guest, now)?;
            leave(tx, &[guest], now)?;
            Ok::<_, ApiError>(view)
        })
        .await
}
