//! Tags of a site (manual 000: "A user can be assigned with a tag"): register, list, hand
//! over, change offline access and master key, revoke. The rules are in
//! [`crate::lock_rules::tags`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::lock_rules::{RegisterTagRequest, TagUid, TagView, UpdateTagRequest};
use keyway_api::ApiErrorBody;

use super::access::VIEWING_PEOPLE;
use super::codec;
use super::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::lock_rules::tags;
use crate::AppState;

fn uid(text: &str) -> ApiResult<TagUid> {
    TagUid::parse(text)
        .ok_or_else(|| ApiError::NotFound(format!("no tag {text:?}: a tag id is 14 hex digits")))
}

/// The site's tags (everyone but users).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/tags",
    tag = "tags",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<TagView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_tags(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<TagView>>> {
    Ok(Json(site_tags(&state, caller.user_id, site_id).await?))
}

/// The tags of `site_id`, for everyone but users (the JSON list and the console's person
/// page).
pub(crate) async fn site_tags(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<TagView>> {
    VIEWING_PEOPLE
        .read(state, site_id, user_id, move |db| tags::list(db, site_id))
        .await
}

/// Registers a tag read at an enrolment reader (owner, admins, super users), optionally
/// handing it to a person. The owner's tag becomes their master key.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/tags",
    tag = "tags",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = RegisterTagRequest,
    responses(
        (status = 201, body = TagView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Already registered (`conflict`), or a lock would hold more than 39 master keys (`too_many_master_keys`)"),
    )
)]
pub(super) async fn register_tag(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<RegisterTagRequest>,
) -> ApiResult<(StatusCode, Json<TagView>)> {
    let key = codec::public_key("public_key", &request.public_key)?;
    let now = state.clock.now();
    let view = state
        .store
        .transaction(move |tx| tags::register(tx, site_id, caller.user_id, &request, &key, now))
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Hands a tag over or takes it back; owner and admins also change its offline access and
/// master key.
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site_id}/tags/{tag_id}",
    tag = "tags",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("tag_id" = String, Path, description = "The tag's UID, 14 hexadecimal digits"),
    ),
    request_body = UpdateTagRequest,
    responses(
        (status = 200, body = TagView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "The owner's master key (`master_key_fixed`), or a lock would hold more than 39 master keys (`too_many_master_keys`)"),
    )
)]
pub(super) async fn update_tag(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, tag_id)): Ids<(u32, String)>,
    Body(request): Body<UpdateTagRequest>,
) -> ApiResult<Json<TagView>> {
    let uid = uid(&tag_id)?;
    Ok(Json(
        change_tag(&state, caller.user_id, (site_id, uid), request).await?,
    ))
}

/// `user_id` hands a tag over, takes it back or changes its rights (the JSON API and the
/// console's person page); the rules are [`tags::update`]'s.
pub(crate) async fn change_tag(
    state: &AppState,
    user_id: u32,
    (site_id, uid): (u32, TagUid),
    request: UpdateTagRequest,
) -> ApiResult<TagView> {
    state
        .store
        .transaction(move |tx| tags::update(tx, site_id, user_id, uid, &request))
        .await
}

/// Revokes a tag: no lock opens for it after the next push to its IQ.
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site_id}/tags/{tag_id}",
    tag = "tags",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("tag_id" = String, Path, description = "The tag's UID, 14 hexadecimal digits"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "The owner's master key (`master_key_fixed`)"),
    )
)]
pub(super) async fn revoke_tag(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, tag_id)): Ids<(u32, String)>,
) -> ApiResult<StatusCode> {
    let uid = uid(&tag_id)?;
    state
        .store
        .transaction(move |tx| tags::revoke(tx, site_id, caller.user_id, uid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
