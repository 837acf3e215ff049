//! The SCIM routes under `/scim/v2`, each in `/openapi.json` with its scope and errors (tag
//! `scim`). Reads and writes run in one transaction each; writes wake the mail (an invitation
//! may be queued) and the live channel drains after them as after any write.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyway_api::integrations::Scope;
use rusqlite::Connection;

use super::error::{ScimError, ScimResult, ScimType};
use super::extract::{ResourceId, ScimBody, ScimCaller};
use super::filter::ListParams;
use super::patch::{GroupDraft, PatchRequest, UserDraft};
use super::resources::{created, group_resource, list_response, scim_json, user_resource, Page};
use super::{discovery, groups, users};
use crate::integrations::caller::IntegrationCaller;
use crate::AppState;

async fn read<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Connection) -> ScimResult<T> + Send + 'static,
) -> ScimResult<T> {
    state.store.run(move |db| work(db)).await
}

async fn write<T: Send + 'static>(
    state: &AppState,
    caller: ScimCaller,
    work: impl FnOnce(&Connection, &IntegrationCaller, i64) -> ScimResult<T> + Send + 'static,
) -> ScimResult<T> {
    let now = state.clock.now();
    let done = state
        .store
        .transaction(move |tx| work(tx, &caller.0, now))
        .await?;
    state.mail.wake();
    Ok(done)
}

fn ok(body: serde_json::Value) -> Response {
    scim_json(StatusCode::OK, body)
}

fn list_params(params: Result<Query<ListParams>, QueryRejection>) -> ScimResult<ListParams> {
    params
        .map(|Query(params)| params)
        .map_err(|rejection| ScimError::bad_request(ScimType::InvalidValue, rejection.body_text()))
}

/// A path the service does not have (`/Bulk`, `/Me`): `404` in the SCIM error schema.
pub(super) async fn unknown() -> ScimError {
    ScimError::not_found("no such SCIM endpoint: see /scim/v2/ResourceTypes")
}

/// The service's capabilities: PATCH and filters supported; bulk, sort, ETags and password
/// changes not.
#[utoipa::path(
    get,
    path = "/scim/v2/ServiceProviderConfig",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    responses(
        (status = 200, description = "The configuration", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`: unknown or revoked key", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn service_provider_config(
    State(state): State<AppState>,
    _caller: ScimCaller,
) -> Response {
    ok(discovery::service_provider_config(&state.public_url()))
}

/// The resource types: `User` and `Group`.
#[utoipa::path(
    get,
    path = "/scim/v2/ResourceTypes",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    responses(
        (status = 200, description = "A ListResponse of the resource types", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn resource_types(State(state): State<AppState>, _caller: ScimCaller) -> Response {
    ok(discovery::resource_types(&state.public_url()))
}

/// The User and Group schemas, with the attributes Keyway holds.
#[utoipa::path(
    get,
    path = "/scim/v2/Schemas",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    responses(
        (status = 200, description = "A ListResponse of the schemas", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn schemas(State(state): State<AppState>, _caller: ScimCaller) -> Response {
    ok(discovery::schemas(&state.public_url()))
}

/// The site's people, a page at a time; `filter` is `userName eq "…"` or `externalId eq "…"`.
#[utoipa::path(
    get,
    path = "/scim/v2/Users",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    params(
        ("filter" = Option<String>, Query, description = "userName eq \"x\" or externalId eq \"x\""),
        ("startIndex" = Option<u32>, Query, description = "1-based index of the first result"),
        ("count" = Option<u32>, Query, description = "At most this many (200 at most)"),
    ),
    responses(
        (status = 200, description = "A ListResponse of Users", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidFilter`: any other filter", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
        (status = 429, description = "`rate_limited`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn list_users(
    State(state): State<AppState>,
    caller: ScimCaller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ScimResult<Response> {
    let params = list_params(params)?;
    let (filter, paging) = (params.equality(&users::FILTERABLE)?, params.paging()?);
    let site_id = caller.0.site_id;
    let public_url = state.public_url();
    let (total, found) = read(&state, move |db| {
        users::list(db, site_id, filter.as_ref(), paging)
    })
    .await?;
    Ok(ok(list_response(Page {
        total: u64::from(total),
        start_index: u64::from(paging.start_index),
        resources: found
            .iter()
            .map(|user| user_resource(user, &public_url))
            .collect(),
    })))
}

/// Adds a person to the site (`userName` is their e-mail): an existing Keyway account is
/// matched, a new address is invited by e-mail.
#[utoipa::path(
    post,
    path = "/scim/v2/Users",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    request_body(content = Object, content_type = "application/scim+json", description = "A User: userName, name, externalId, active"),
    responses(
        (status = 201, description = "The User, with its Location", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidValue` or `invalidSyntax`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`conflict`, scimType `uniqueness`: the userName or externalId is taken on this site", body = Object, content_type = "application/scim+json"),
        (status = 429, description = "`rate_limited`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn create_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    body: ScimBody,
) -> ScimResult<Response> {
    let draft = UserDraft::from_body(&body.0)?;
    let public_url = state.public_url();
    let url = public_url.clone();
    let user = write(&state, caller, move |tx, caller, now| {
        users::create(tx, caller, &draft, &url, now)
    })
    .await?;
    Ok(created(user_resource(&user, &public_url)))
}

/// One person of the site.
#[utoipa::path(
    get,
    path = "/scim/v2/Users/{id}",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    params(("id" = String, Path, description = "The User's id")),
    responses(
        (status = 200, description = "The User", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`: not a person of the key's site", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn get_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(user_id): ResourceId,
) -> ScimResult<Response> {
    let site_id = caller.0.site_id;
    let user = read(&state, move |db| users::user(db, site_id, user_id)).await?;
    Ok(ok(user_resource(&user, &state.public_url())))
}

async fn save_user(
    state: &AppState,
    caller: ScimCaller,
    user_id: u32,
    change: impl FnOnce(&Connection, u32) -> ScimResult<UserDraft> + Send + 'static,
) -> ScimResult<Response> {
    let user = write(state, caller, move |tx, caller, now| {
        let draft = change(tx, caller.site_id)?;
        users::replace(tx, caller, user_id, &draft, now)
    })
    .await?;
    Ok(ok(user_resource(&user, &state.public_url())))
}

/// Replaces the person's attributes; `active: false` suspends them (keys revoked at once),
/// `active: true` gives their access back.
#[utoipa::path(
    put,
    path = "/scim/v2/Users/{id}",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    params(("id" = String, Path, description = "The User's id")),
    request_body(content = Object, content_type = "application/scim+json", description = "The whole User"),
    responses(
        (status = 200, description = "The User", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidValue`, `invalidSyntax` or `mutability` (a new userName)", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`; or `forbidden`, scimType `mutability`: the owner or an admin", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`conflict`, scimType `uniqueness`: the externalId is another's", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn replace_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(user_id): ResourceId,
    body: ScimBody,
) -> ScimResult<Response> {
    let draft = UserDraft::from_body(&body.0)?;
    save_user(&state, caller, user_id, move |_, _| Ok(draft)).await
}

/// Changes the person with `Operations` (add, replace, remove; with or without `path`).
#[utoipa::path(
    patch,
    path = "/scim/v2/Users/{id}",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    params(("id" = String, Path, description = "The User's id")),
    request_body(content = Object, content_type = "application/scim+json", description = "A PatchOp"),
    responses(
        (status = 200, description = "The User", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidSyntax`, `invalidValue`, `noTarget` or `mutability`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`; or `forbidden`, scimType `mutability`: the owner or an admin", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`conflict`, scimType `uniqueness`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn patch_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(user_id): ResourceId,
    body: ScimBody,
) -> ScimResult<Response> {
    let request: PatchRequest = body.parse()?;
    save_user(&state, caller, user_id, move |tx, site_id| {
        let mut draft = UserDraft::from(&users::user(tx, site_id, user_id)?);
        draft.apply(&request)?;
        Ok(draft)
    })
    .await
}

/// The person leaves the site (keys revoked at once).
#[utoipa::path(
    delete,
    path = "/scim/v2/Users/{id}",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    params(("id" = String, Path, description = "The User's id")),
    responses(
        (status = 204, description = "Removed from the site"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`; or `forbidden`, scimType `mutability`: the owner or an admin", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn delete_user(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(user_id): ResourceId,
) -> ScimResult<StatusCode> {
    write(&state, caller, move |tx, caller, now| {
        users::delete(tx, caller, user_id, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The site's access groups; `filter` is `displayName eq "…"`.
#[utoipa::path(
    get,
    path = "/scim/v2/Groups",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    params(
        ("filter" = Option<String>, Query, description = "displayName eq \"x\""),
        ("startIndex" = Option<u32>, Query, description = "1-based index of the first result"),
        ("count" = Option<u32>, Query, description = "At most this many (200 at most)"),
    ),
    responses(
        (status = 200, description = "A ListResponse of Groups", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidFilter`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn list_groups(
    State(state): State<AppState>,
    caller: ScimCaller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ScimResult<Response> {
    let params = list_params(params)?;
    let (filter, paging) = (params.equality(&groups::FILTERABLE)?, params.paging()?);
    let site_id = caller.0.site_id;
    let public_url = state.public_url();
    let (total, found) = read(&state, move |db| {
        groups::list(db, site_id, filter.as_ref(), paging)
    })
    .await?;
    Ok(ok(list_response(Page {
        total: u64::from(total),
        start_index: u64::from(paging.start_index),
        resources: found
            .iter()
            .map(|group| group_resource(group, &public_url))
            .collect(),
    })))
}

/// Makes an access group (no locks yet; an admin gives it locks), with its members.
#[utoipa::path(
    post,
    path = "/scim/v2/Groups",
    tag = "scim",
    security(("api_key" = ["people:write", "access:write"])),
    request_body(content = Object, content_type = "application/scim+json", description = "A Group: displayName, members"),
    responses(
        (status = 201, description = "The Group, with its Location", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidValue` or `invalidSyntax`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`conflict`, scimType `uniqueness`: the displayName is taken", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn create_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    body: ScimBody,
) -> ScimResult<Response> {
    caller.require(Scope::AccessWrite)?;
    let draft = GroupDraft::from_body(&body.0)?;
    let group = write(&state, caller, move |tx, caller, now| {
        groups::create(tx, caller, &draft, now)
    })
    .await?;
    Ok(created(group_resource(&group, &state.public_url())))
}

/// One access group of the site.
#[utoipa::path(
    get,
    path = "/scim/v2/Groups/{id}",
    tag = "scim",
    security(("api_key" = ["people:write"])),
    params(("id" = String, Path, description = "The Group's id")),
    responses(
        (status = 200, description = "The Group", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`: not a group of the key's site (or a locker's)", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn get_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(group_id): ResourceId,
) -> ScimResult<Response> {
    let site_id = caller.0.site_id;
    let group = read(&state, move |db| groups::group(db, site_id, group_id)).await?;
    Ok(ok(group_resource(&group, &state.public_url())))
}

async fn save_group(
    state: &AppState,
    caller: ScimCaller,
    group_id: u32,
    change: impl FnOnce(&Connection, u32) -> ScimResult<GroupDraft> + Send + 'static,
) -> ScimResult<Response> {
    caller.require(Scope::AccessWrite)?;
    let group = write(state, caller, move |tx, caller, now| {
        let draft = change(tx, caller.site_id)?;
        groups::replace(tx, caller, group_id, &draft, now)
    })
    .await?;
    Ok(ok(group_resource(&group, &state.public_url())))
}

/// Replaces the group's name and members: those left out lose its keys at once.
#[utoipa::path(
    put,
    path = "/scim/v2/Groups/{id}",
    tag = "scim",
    security(("api_key" = ["people:write", "access:write"])),
    params(("id" = String, Path, description = "The Group's id")),
    request_body(content = Object, content_type = "application/scim+json", description = "The whole Group"),
    responses(
        (status = 200, description = "The Group", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidValue` (a member not of the site) or `invalidSyntax`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`; or `forbidden`, scimType `mutability`: the owner or an admin taken out", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`conflict`, scimType `uniqueness`; or `too_many_master_keys`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn replace_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(group_id): ResourceId,
    body: ScimBody,
) -> ScimResult<Response> {
    let draft = GroupDraft::from_body(&body.0)?;
    save_group(&state, caller, group_id, move |_, _| Ok(draft)).await
}

/// Changes the group with `Operations`: members added and removed (also as
/// `members[value eq "id"]`), the name replaced.
#[utoipa::path(
    patch,
    path = "/scim/v2/Groups/{id}",
    tag = "scim",
    security(("api_key" = ["people:write", "access:write"])),
    params(("id" = String, Path, description = "The Group's id")),
    request_body(content = Object, content_type = "application/scim+json", description = "A PatchOp"),
    responses(
        (status = 200, description = "The Group", body = Object, content_type = "application/scim+json"),
        (status = 400, description = "`invalid_input`, scimType `invalidSyntax`, `invalidValue`, `invalidPath` or `noTarget`", body = Object, content_type = "application/scim+json"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`; or `forbidden`, scimType `mutability`: the owner or an admin taken out", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`", body = Object, content_type = "application/scim+json"),
        (status = 409, description = "`conflict`, scimType `uniqueness`; or `too_many_master_keys`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn patch_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(group_id): ResourceId,
    body: ScimBody,
) -> ScimResult<Response> {
    let request: PatchRequest = body.parse()?;
    save_group(&state, caller, group_id, move |tx, site_id| {
        let mut draft = GroupDraft::from(&groups::group(tx, site_id, group_id)?);
        draft.apply(&request)?;
        Ok(draft)
    })
    .await
}

/// Deletes the access group: its people lose its keys at once.
#[utoipa::path(
    delete,
    path = "/scim/v2/Groups/{id}",
    tag = "scim",
    security(("api_key" = ["people:write", "access:write"])),
    params(("id" = String, Path, description = "The Group's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthorized`", body = Object, content_type = "application/scim+json"),
        (status = 403, description = "`insufficient_scope`; or `forbidden`, scimType `mutability`: the owner or an admin is in it", body = Object, content_type = "application/scim+json"),
        (status = 404, description = "`not_found`", body = Object, content_type = "application/scim+json"),
    )
)]
pub(super) async fn delete_group(
    State(state): State<AppState>,
    caller: ScimCaller,
    ResourceId(group_id): ResourceId,
) -> ScimResult<StatusCode> {
    caller.require(Scope::AccessWrite)?;
    write(&state, caller, move |tx, caller, now| {
        groups::delete(tx, caller, group_id, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
