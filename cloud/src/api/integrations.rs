//! The calls a connected system makes with its site API key (`Authorization: Bearer kwk_…`),
//! each honouring an `Idempotency-Key` header. The rules are in [`crate::integrations`].

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use keyway_api::integrations::{
    BookingRequest, BookingView, GrantAccessRequest, IntegrationPersonView, KeypadPinPolicyView,
    MembershipView, ResyncReport, ResyncRequest, Scope, UpsertPersonRequest,
};
use keyway_api::ApiErrorBody;
use rusqlite::Connection;

use super::extract::{Body, Ids, OptionalBody};
use crate::error::{ApiError, ApiResult};
use crate::integrations::caller::IntegrationCaller;
use crate::integrations::idempotency::{apply_once, request_hash, Answer};
use crate::integrations::{bookings, people, resync};
use crate::AppState;

/// The header that makes a retried call apply once.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    headers
        .get(IDEMPOTENCY_KEY)
        .map(|value| {
            value
                .to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::InvalidInput("Idempotency-Key must be ASCII".into()))
        })
        .transpose()
}

fn respond(answer: Answer) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let status = StatusCode::from_u16(answer.status)
        .map_err(|_| ApiError::Internal(format!("kept status {}", answer.status)))?;
    Ok((status, Json(answer.body)))
}

/// Runs `work` as one idempotent integration call: in one transaction, once per
/// `Idempotency-Key` (the request told apart by `hash`), then wakes the mail (an invitation or
/// a PIN may be queued) and answers with what `work` returned.
async fn once(
    state: &AppState,
    caller: IntegrationCaller,
    headers: &HeaderMap,
    hash: Vec<u8>,
    work: impl FnOnce(&Connection, &IntegrationCaller, i64) -> ApiResult<Answer> + Send + 'static,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let key = idempotency_key(headers)?;
    let now = state.clock.now();
    let answer = state
        .store
        .transaction(move |tx| {
            apply_once(tx, caller.key_id, key.as_deref(), &hash, now, |tx| {
                work(tx, &caller, now)
            })
        })
        .await?;
    state.mail.wake();
    respond(answer)
}

/// Adds or updates the person the system knows as `external_id` (scope `people:write`):
/// matched by that id, else by e-mail among the site's people, else invited by e-mail.
#[utoipa::path(
    put,
    path = "/api/v1/integrations/people/{external_id}",
    tag = "integrations",
    security(("api_key" = ["people:write"])),
    params(
        ("external_id" = String, Path, description = "The system's own id for the person"),
        ("Idempotency-Key" = Option<String>, Header, description = "Applies the call once"),
    ),
    request_body = UpsertPersonRequest,
    responses(
        (status = 201, body = IntegrationPersonView, description = "Added and invited"),
        (status = 200, body = IntegrationPersonView, description = "Matched or updated"),
        (status = 400, body = ApiErrorBody),
        (status = 401, body = ApiErrorBody, description = "Unknown or revoked key"),
        (status = 403, body = ApiErrorBody, description = "The key lacks `people:write` (`insufficient_scope`)"),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody, description = "Too many calls for this key (`Retry-After`)"),
    )
)]
pub(super) async fn upsert_person(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Ids(external_id): Ids<String>,
    Body(request): Body<UpsertPersonRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::PeopleWrite)?;
    let hash = request_hash("upsert_person", &[&external_id], &request)?;
    let public_url = state.public_url();
    once(&state, caller, &headers, hash, move |tx, caller, now| {
        let view = people::upsert_person(tx, caller, &external_id, &request, &public_url, now)?;
        Answer::json(if view.created { 201 } else { 200 }, &view)
    })
    .await
}

/// Removes the person the system knows as `external_id` from the site (scope
/// `people:write`); their keys are revoked at once.
#[utoipa::path(
    delete,
    path = "/api/v1/integrations/people/{external_id}",
    tag = "integrations",
    security(("api_key" = ["people:write"])),
    params(
        ("external_id" = String, Path, description = "The system's own id for the person"),
        ("Idempotency-Key" = Option<String>, Header, description = "Applies the call once"),
    ),
    responses(
        (status = 200, description = "Removed"),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`, or the owner or an admin"),
        (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn remove_person(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Ids(external_id): Ids<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::PeopleWrite)?;
    let hash = request_hash("remove_person", &[&external_id], &())?;
    once(&state, caller, &headers, hash, move |tx, caller, now| {
        people::remove_person(tx, caller, &external_id, now)?;
        Answer::json(200, &serde_json::json!({ "removed": external_id }))
    })
    .await
}

async fn membership(
    state: AppState,
    caller: IntegrationCaller,
    headers: HeaderMap,
    (external_id, group_id): (String, u32),
    grant: Option<GrantAccessRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::AccessWrite)?;
    let route = if grant.is_some() {
        "grant_group"
    } else {
        "revoke_group"
    };
    let hash = request_hash(route, &[&external_id, &group_id.to_string()], &grant)?;
    once(&state, caller, &headers, hash, move |tx, caller, now| {
        let view = people::set_membership(tx, caller, &external_id, group_id, grant.as_ref(), now)?;
        Answer::json(200, &view)
    })
    .await
}

/// Puts the person in the access group (scope `access:write`): their phones get its keys. The
/// optional body gives the membership dates (a subscription's start and end); put again to
/// move them.
#[utoipa::path(
    put,
    path = "/api/v1/integrations/people/{external_id}/access-groups/{group_id}",
    tag = "integrations",
    security(("api_key" = ["access:write"])),
    params(
        ("external_id" = String, Path, description = "The system's own id for the person"),
        ("group_id" = u32, Path, description = "Access group id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Applies the call once"),
    ),
    request_body(content = Option<GrantAccessRequest>, description = "Optional: `from` and `until` (Unix seconds)"),
    responses(
        (status = 200, body = MembershipView),
        (status = 400, body = ApiErrorBody, description = "`until` not after `from`, or past"),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody, description = "No such person or group on the key's site"),
        (status = 409, body = ApiErrorBody, description = "A locker's assignment, or a 40th master key at a lock"),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn grant_group(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Ids(ids): Ids<(String, u32)>,
    OptionalBody(window): OptionalBody<GrantAccessRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    membership(state, caller, headers, ids, Some(window)).await
}

/// Takes the person out of the access group (scope `access:write`): its keys are revoked at
/// once.
#[utoipa::path(
    delete,
    path = "/api/v1/integrations/people/{external_id}/access-groups/{group_id}",
    tag = "integrations",
    security(("api_key" = ["access:write"])),
    params(
        ("external_id" = String, Path, description = "The system's own id for the person"),
        ("group_id" = u32, Path, description = "Access group id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Applies the call once"),
    ),
    responses(
        (status = 200, body = MembershipView),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn revoke_group(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Ids(ids): Ids<(String, u32)>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    membership(state, caller, headers, ids, None).await
}

/// Makes or moves a room or desk booking (scope `access:write`, manual 004): its people (the
/// booker and the invitees) get the group's locks from 30 minutes before it to 30 minutes
/// after; people taken off it lose them at once.
#[utoipa::path(
    put,
    path = "/api/v1/integrations/bookings/{booking_id}",
    tag = "integrations",
    security(("api_key" = ["access:write"])),
    params(
        ("booking_id" = String, Path, description = "The system's own id for the booking"),
        ("Idempotency-Key" = Option<String>, Header, description = "Applies the call once"),
    ),
    request_body = BookingRequest,
    responses(
        (status = 200, body = BookingView),
        (status = 400, body = ApiErrorBody, description = "Times missing, backwards, over, or longer than a month"),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody, description = "No such person or group on the key's site"),
        (status = 409, body = ApiErrorBody, description = "A locker's assignment"),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn put_booking(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Ids(booking_id): Ids<String>,
    Body(request): Body<BookingRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::AccessWrite)?;
    let hash = request_hash("put_booking", &[&booking_id], &request)?;
    once(&state, caller, &headers, hash, move |tx, caller, now| {
        Answer::json(
            200,
            &bookings::put_booking(tx, caller, &booking_id, &request, now)?,
        )
    })
    .await
}

/// A booking as the cloud holds it (scope `access:write`).
#[utoipa::path(
    get,
    path = "/api/v1/integrations/bookings/{booking_id}",
    tag = "integrations",
    security(("api_key" = ["access:write"])),
    params(("booking_id" = String, Path, description = "The system's own id for the booking")),
    responses(
        (status = 200, body = BookingView),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn get_booking(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    Ids(booking_id): Ids<String>,
) -> ApiResult<Json<BookingView>> {
    caller.require(Scope::AccessWrite)?;
    let site_id = caller.site_id;
    Ok(Json(
        state
            .store
            .run(move |db| bookings::view(db, site_id, &booking_id))
            .await?,
    ))
}

/// Cancels a booking (scope `access:write`): its people's keys for it are revoked at once.
#[utoipa::path(
    delete,
    path = "/api/v1/integrations/bookings/{booking_id}",
    tag = "integrations",
    security(("api_key" = ["access:write"])),
    params(
        ("booking_id" = String, Path, description = "The system's own id for the booking"),
        ("Idempotency-Key" = Option<String>, Header, description = "Applies the call once"),
    ),
    responses(
        (status = 200, description = "Cancelled"),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn cancel_booking(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Ids(booking_id): Ids<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::AccessWrite)?;
    let hash = request_hash("cancel_booking", &[&booking_id], &())?;
    once(&state, caller, &headers, hash, move |tx, caller, now| {
        bookings::cancel_booking(tx, caller, &booking_id, now)?;
        Answer::json(200, &serde_json::json!({ "cancelled": booking_id }))
    })
    .await
}

/// Gives the person a keypad PIN unless they have one (scope `pins:write`): one PIN for every
/// lock of the site, sent to the person, never to the system.
#[utoipa::path(
    post,
    path = "/api/v1/integrations/people/{external_id}/keypad-pin",
    tag = "integrations",
    security(("api_key" = ["pins:write"])),
    params(
        ("external_id" = String, Path, description = "The system's own id for the person"),
        ("Idempotency-Key" = Option<String>, Header, description = "Applies the call once"),
    ),
    responses(
        (status = 200, body = KeypadPinPolicyView),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Nowhere to send the PIN"),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn ensure_pin(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Ids(external_id): Ids<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::PinsWrite)?;
    let hash = request_hash("ensure_pin", &[&external_id], &())?;
    once(&state, caller, &headers, hash, move |tx, caller, now| {
        Answer::json(200, &people::ensure_pin(tx, caller, &external_id, now)?)
    })
    .await
}

/// The manual resync (scope `people:write` and `access:write`): the system's full list of
/// people and the groups it manages; the answer reports what was added, updated, removed,
/// granted and revoked (`dry_run`: what would be, changing nothing).
#[utoipa::path(
    post,
    path = "/api/v1/integrations/resync",
    tag = "integrations",
    security(("api_key" = ["people:write", "access:write"])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Applies the call once")),
    request_body = ResyncRequest,
    responses(
        (status = 200, body = ResyncReport),
        (status = 400, body = ApiErrorBody, description = "A bad id, a person listed twice, or a group the resync does not manage"),
        (status = 401, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody, description = "`insufficient_scope`"),
        (status = 404, body = ApiErrorBody, description = "A group not of the key's site"),
        (status = 409, body = ApiErrorBody, description = "A locker's group, or a 40th master key at a lock"),
        (status = 422, body = ApiErrorBody, description = "`idempotency_key_reused`"),
        (status = 429, body = ApiErrorBody),
    )
)]
pub(super) async fn resync(
    State(state): State<AppState>,
    caller: IntegrationCaller,
    headers: HeaderMap,
    Body(request): Body<ResyncRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Scope::PeopleWrite)?;
    caller.require(Scope::AccessWrite)?;
    let hash = request_hash("resync", &[], &request)?;
    let public_url = state.public_url();
    once(&state, caller, &headers, hash, move |tx, caller, now| {
        Answer::json(
            200,
            &resync::resync(tx, caller, &request, &public_url, now)?,
        )
    })
    .await
}
