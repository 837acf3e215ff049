//! Locks of a site: list, register, attach to an IQ (owner and admins: hardware).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::{ApiErrorBody, AttachIqRequest, CreateLockRequest, LockView};
use rusqlite::{Connection, OptionalExtension};

use super::access::MANAGING_HARDWARE;
use super::codec;
use super::extract::{Body, Ids};
use super::hardware::Hardware;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::lock_rules::reports::{state_from_row, STATE_COLUMNS};
use crate::store::rows;
use crate::AppState;

const LOCK_HEAD: &str = "SELECT l.id, l.site_id, l.name, l.public_key, l.iq_id, ";

/// The locks' query with `condition` (on `l`, the `locks` table).
fn locks_sql(condition: &str) -> String {
    format!("{LOCK_HEAD}{STATE_COLUMNS} FROM locks l {condition}")
}

fn lock_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LockView> {
    Ok(LockView {
        lock_id: row.get(0)?,
        site_id: row.get(1)?,
        name: row.get(2)?,
        public_key: codec::encode(&row.get::<_, Vec<u8>>(3)?),
        iq_id: row.get(4)?,
        state: state_from_row(row, 5)?,
    })
}

/// A lock of the site, or 404.
fn lock(db: &Connection, site_id: u32, lock_id: u32) -> ApiResult<LockView> {
    db.query_row(
        &locks_sql("WHERE l.id = ?1 AND l.site_id = ?2"),
        [lock_id, site_id],
        lock_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no lock {lock_id} on this site")))
}

/// The site's locks.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/locks",
    tag = "hardware",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<LockView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_locks(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<LockView>>> {
    Ok(Json(site_locks(&state, caller.user_id, site_id).await?))
}

/// The locks of `site_id`, for its owner and admins (the JSON list and the console's Locks
/// page).
pub(crate) async fn site_locks(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<LockView>> {
    MANAGING_HARDWARE
        .read(state, site_id, user_id, move |db| {
            let sql = locks_sql("WHERE l.site_id = ?1 ORDER BY l.id");
            Ok(rows(db, &sql, [site_id], lock_from_row)?)
        })
        .await
}

/// One lock of `site_id`, for its owner and admins (the console's lock page); 404 for a lock
/// of another site.
pub(crate) async fn one_lock(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    lock_id: u32,
) -> ApiResult<LockView> {
    MANAGING_HARDWARE
        .read(state, site_id, user_id, move |db| {
            lock(db, site_id, lock_id)
        })
        .await
}

/// Registers an installed lock with its own public key.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/locks",
    tag = "hardware",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = CreateLockRequest,
    responses(
        (status = 201, body = LockView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "The key is already registered"),
    )
)]
pub(super) async fn create_lock(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<CreateLockRequest>,
) -> ApiResult<(StatusCode, Json<LockView>)> {
    let name = codec::name("name", &request.name)?;
    let key = codec::public_key("public_key", &request.public_key)?;
    let now = state.clock.now();
    let view = MANAGING_HARDWARE
        .write(&state, site_id, caller.user_id, move |tx| {
            let lock_id = Hardware::Lock.register(tx, site_id, &name, &key, now)?;
            lock(tx, site_id, lock_id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Attaches a lock to an IQ of the same site (remote opening goes through it).
#[utoipa::path(
    put,
    path = "/api/v1/sites/{site_id}/locks/{lock_id}/iq",
    tag = "hardware",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "Lock id"),
    ),
    request_body = AttachIqRequest,
    responses(
        (status = 200, body = LockView),
        (status = 400, body = ApiErrorBody, description = "The IQ is not on this site"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn attach_iq(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
    Body(request): Body<AttachIqRequest>,
) -> ApiResult<Json<LockView>> {
    let view = MANAGING_HARDWARE
        .write(&state, site_id, caller.user_id, move |tx| {
            lock(tx, site_id, lock_id)?;
            if !Hardware::Iq.belongs_to(tx, site_id, request.iq_id)? {
                return Err(ApiError::InvalidInput(format!(
                    "IQ {} is not an IQ of this site",
                    request.iq_id
                )));
            }
            tx.execute(
                "UPDATE locks SET iq_id = ?1 WHERE id = ?2",
                [request.iq_id, lock_id],
            )?;
            lock(tx, site_id, lock_id)
        })
        .await?;
    Ok(Json(view))
}
