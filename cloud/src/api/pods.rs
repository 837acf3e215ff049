//! Pods (owner and admins): create, list, see, rename, change locks, clean, delete. Members
//! see their pod. Rules in [`crate::pods::access`]; the data in [`crate::pods::store`].

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::pods::{CreatePodRequest, PodView, SetPodLocksRequest, UpdatePodRequest};
use keyway_api::ApiErrorBody;
use rusqlite::Connection;

use super::access::{role_on_site, MANAGING_PODS};
use super::codec;
use super::extract::{Body, Ids};
use super::groups::check_locks;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::pods::access::{standing, Standing};
use crate::pods::members::add_member;
use crate::pods::people::leave;
use crate::pods::pod_locks::set_locks;
use crate::pods::store::{self, pod_people, pod_view, Pod};
use crate::store::rows;
use crate::AppState;

/// The pod and the caller's standing; 404 when the caller is not on the pod's site.
pub(super) fn load(db: &Connection, pod_id: u32, user_id: u32) -> ApiResult<(Pod, Standing)> {
    let pod = store::pod(db, pod_id)?;
    let role = role_on_site(db, pod.site_id, user_id).map_err(|error| match error {
        ApiError::NotFound(_) => ApiError::NotFound(format!("no pod {pod_id}")),
        other => other,
    })?;
    let standing = standing(db, &pod, user_id, role)?;
    Ok((pod, standing))
}

/// Changes a pod as the owner or an admin of its site, in one transaction: `change` gets the
/// pod and the time. Answers the pod as it is after.
pub(super) async fn change_pod(
    state: &AppState,
    user_id: u32,
    pod_id: u32,
    change: impl FnOnce(&Connection, &Pod, i64) -> ApiResult<()> + Send + 'static,
) -> ApiResult<PodView> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let (pod, standing) = load(tx, pod_id, user_id)?;
            standing.require_admin()?;
            change(tx, &pod, now)?;
            pod_view(tx, &store::pod(tx, pod_id)?, now)
        })
        .await
}

fn lock_set(db: &Connection, site_id: u32, lock_ids: &[u32]) -> ApiResult<BTreeSet<u32>> {
    let locks: BTreeSet<u32> = lock_ids.iter().copied().collect();
    check_locks(db, site_id, &locks)?;
    Ok(locks)
}

/// Creates a pod with at least one member and a set of the site's locks. Members with an
/// account join at once; the others get an invitation e-mail.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/pods",
    tag = "pods",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = CreatePodRequest,
    responses(
        (status = 201, body = PodView),
        (status = 400, body = ApiErrorBody, description = "No member, bad e-mail or name, a lock of another site"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "A member twice, or a guest of the site"),
    )
)]
pub(super) async fn create_pod(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<CreatePodRequest>,
) -> ApiResult<(StatusCode, Json<PodView>)> {
    let view = create(&state, caller.user_id, site_id, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `user_id` makes a pod on `site_id` (the JSON API and the console's form): members with an
/// account join at once (they open remotely now); the others get an invitation e-mail.
pub(crate) async fn create(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    request: CreatePodRequest,
) -> ApiResult<PodView> {
    let name = codec::name("name", &request.name)?;
    if request.members.is_empty() {
        return Err(ApiError::InvalidInput(
            "a pod needs at least one member".into(),
        ));
    }
    let now = state.clock.now();
    let ttl = state.config.invitation_ttl;
    let view = MANAGING_PODS
        .write(state, site_id, user_id, move |tx| {
            let locks = lock_set(tx, site_id, &request.lock_ids)?;
            tx.execute(
                "INSERT INTO pods (site_id, name, created_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![site_id, name, now],
            )?;
            let pod_id = u32::try_from(tx.last_insert_rowid())
                .map_err(|_| ApiError::Internal("pod id out of range".into()))?;
            let pod = store::pod(tx, pod_id)?;
            set_locks(tx, &pod, &locks, now)?;
            for member in &request.members {
                add_member(tx, &pod, member, user_id, now, ttl)?;
            }
            pod_view(tx, &pod, now)
        })
        .await?;
    state.mail.wake();
    Ok(view)
}

/// The site's pods with their locks, members and guest counts.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/pods",
    tag = "pods",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<PodView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_pods(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<PodView>>> {
    Ok(Json(site_pods(&state, caller.user_id, site_id).await?))
}

/// The pods of `site_id`, for its owner and admins (the JSON list and the console's Pods
/// page).
pub(crate) async fn site_pods(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<PodView>> {
    let now = state.clock.now();
    MANAGING_PODS
        .read(state, site_id, user_id, move |db| {
            let sql = "SELECT id FROM pods WHERE site_id = ?1 ORDER BY id";
            rows(db, sql, [site_id], |row| row.get(0))?
                .into_iter()
                .map(|pod_id| pod_view(db, &store::pod(db, pod_id)?, now))
                .collect()
        })
        .await
}

/// A pod (its members and the site's owner and admins).
#[utoipa::path(
    get,
    path = "/api/v1/pods/{pod_id}",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    responses(
        (status = 200, body = PodView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn get_pod(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
) -> ApiResult<Json<PodView>> {
    Ok(Json(one_pod(&state, caller.user_id, pod_id).await?))
}

/// A pod as `user_id` may see it.
pub(crate) async fn one_pod(state: &AppState, user_id: u32, pod_id: u32) -> ApiResult<PodView> {
    let now = state.clock.now();
    state
        .store
        .run(move |db| {
            let (pod, standing) = load(db, pod_id, user_id)?;
            standing.require_view()?;
            pod_view(db, &pod, now)
        })
        .await
}

/// Renames a pod.
#[utoipa::path(
    patch,
    path = "/api/v1/pods/{pod_id}",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    request_body = UpdatePodRequest,
    responses(
        (status = 200, body = PodView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn update_pod(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
    Body(request): Body<UpdatePodRequest>,
) -> ApiResult<Json<PodView>> {
    Ok(Json(update(&state, caller.user_id, pod_id, request).await?))
}

/// `user_id` renames a pod (the JSON API and the console's form).
pub(crate) async fn update(
    state: &AppState,
    user_id: u32,
    pod_id: u32,
    request: UpdatePodRequest,
) -> ApiResult<PodView> {
    let name = request
        .name
        .as_deref()
        .map(|name| codec::name("name", name))
        .transpose()?;
    change_pod(state, user_id, pod_id, move |tx, pod, _| {
        if let Some(name) = name {
            tx.execute(
                "UPDATE pods SET name = ?1 WHERE id = ?2",
                rusqlite::params![name, pod.pod_id],
            )?;
        }
        Ok(())
    })
    .await
}

/// Replaces a pod's locks: members follow, guests keep only the locks still in the pod, and
/// keys for removed locks are revoked at once.
#[utoipa::path(
    put,
    path = "/api/v1/pods/{pod_id}/locks",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    request_body = SetPodLocksRequest,
    responses(
        (status = 200, body = PodView),
        (status = 400, body = ApiErrorBody, description = "A lock of another site"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn set_pod_locks(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
    Body(request): Body<SetPodLocksRequest>,
) -> ApiResult<Json<PodView>> {
    let view = change_pod(&state, caller.user_id, pod_id, move |tx, pod, now| {
        let locks = lock_set(tx, pod.site_id, &request.lock_ids)?;
        set_locks(tx, pod, &locks, now)
    })
    .await?;
    Ok(Json(view))
}

/// Empties `pod` of members and guests (their keys through it are revoked); keeps its locks.
fn clean(db: &Connection, pod: &Pod, now: i64) -> ApiResult<()> {
    leave(db, &pod_people(db, pod.pod_id)?, now)
}

/// Cleans a pod when its tenants leave: members and guests are removed (and lose their keys
/// through it); the locks stay.
#[utoipa::path(
    post,
    path = "/api/v1/pods/{pod_id}/clean",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    responses(
        (status = 200, body = PodView),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn clean_pod(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
) -> ApiResult<Json<PodView>> {
    Ok(Json(clean_up(&state, caller.user_id, pod_id).await?))
}

/// `user_id` cleans a pod (the JSON API and the console's form): its members and guests
/// leave it and lose the keys it gave them; its locks stay.
pub(crate) async fn clean_up(state: &AppState, user_id: u32, pod_id: u32) -> ApiResult<PodView> {
    change_pod(state, user_id, pod_id, clean).await
}

/// Deletes a pod: cleaned first (everyone in it loses their keys through it), then removed.
/// Answers with the pod as it was when deleted.
#[utoipa::path(
    delete,
    path = "/api/v1/pods/{pod_id}",
    tag = "pods",
    security(("bearer" = [])),
    params(("pod_id" = u32, Path, description = "Pod id")),
    responses(
        (status = 200, body = PodView, description = "Deleted"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn delete_pod(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(pod_id): Ids<u32>,
) -> ApiResult<Json<PodView>> {
    Ok(Json(delete(&state, caller.user_id, pod_id).await?))
}

/// `user_id` deletes a pod (the JSON API and the console's form); answers with the pod as it
/// was.
pub(crate) async fn delete(state: &AppState, user_id: u32, pod_id: u32) -> ApiResult<PodView> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let (pod, standing) = load(tx, pod_id, user_id)?;
            standing.require_admin()?;
            clean(tx, &pod, now)?;
            let view = pod_view(tx, &pod, now)?;
            tx.execute("DELETE FROM pods WHERE id = ?1", [pod.pod_id])?;
            Ok::<_, ApiError>(view)
        })
        .await
}
