//! Devices: a phone binds its device key to the account; removing a device (lost phone)
//! revokes every key it holds.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::{ApiErrorBody, DeviceView, RegisterDeviceRequest};
use rusqlite::{Connection, OptionalExtension};

use super::codec;
use super::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::issuing::grants::own_device;
use crate::issuing::revoke_device;
use crate::store::rows;
use crate::AppState;

/// Platforms the apps and the CLI register as.
const PLATFORMS: [&str; 3] = ["android", "ios", "cli"];

const DEVICE_COLUMNS: &str = "SELECT id, name, platform, registered_at FROM devices";

fn device_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceView> {
    Ok(DeviceView {
        device_id: row.get(0)?,
        name: row.get(1)?,
        platform: row.get(2)?,
        registered_at: row.get(3)?,
    })
}

fn device_view(db: &Connection, device_id: u32) -> ApiResult<DeviceView> {
    Ok(db.query_row(
        &format!("{DEVICE_COLUMNS} WHERE id = ?1"),
        [device_id],
        device_from_row,
    )?)
}

/// New devices one account may register within [`NEW_DEVICE_WINDOW_SECONDS`]. Each removed
/// device leaves its keys on the site's denylist until they expire, and a full denylist
/// reissues every key of the site (a new revocation epoch): registering and removing devices
/// in a loop must not let one person force that on everyone.
pub(super) const MAX_NEW_DEVICES: u32 = 10;
/// The window [`MAX_NEW_DEVICES`] counts over: a day.
pub(super) const NEW_DEVICE_WINDOW_SECONDS: i64 = 86_400;

/// Registers this phone's device key (201); the same key again for the same account returns
/// the device already registered (200). At most [`MAX_NEW_DEVICES`] new devices a day (429).
#[utoipa::path(
    post,
    path = "/api/v1/devices",
    tag = "devices",
    security(("bearer" = [])),
    request_body = RegisterDeviceRequest,
    responses(
        (status = 201, body = DeviceView, description = "Registered"),
        (status = 200, body = DeviceView, description = "Already registered to this account"),
        (status = 400, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "The key belongs to another account or was removed"),
        (status = 429, body = ApiErrorBody, description = "Too many new devices today; see Retry-After"),
    )
)]
pub(super) async fn register_device(
    State(state): State<AppState>,
    caller: Authenticated,
    Body(request): Body<RegisterDeviceRequest>,
) -> ApiResult<(StatusCode, Json<DeviceView>)> {
    let key = codec::public_key("public_key", &request.public_key)?;
    let name = codec::name("name", &request.name)?;
    let platform = request.platform.trim().to_ascii_lowercase();
    if !PLATFORMS.contains(&platform.as_str()) {
        return Err(ApiError::InvalidInput(format!(
            "platform must be one of {}",
            PLATFORMS.join(", ")
        )));
    }
    let now = state.clock.now();
    let (status, view) = state
        .store
        .transaction(move |tx| {
            let known: Option<(u32, u32, Option<i64>)> = tx
                .query_row(
                    "SELECT id, user_id, revoked_at FROM devices WHERE public_key = ?1",
                    [key.as_bytes().as_slice()],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?;
            match known {
                Some((device_id, user_id, None)) if user_id == caller.user_id => {
                    Ok((StatusCode::OK, device_view(tx, device_id)?))
                }
                Some((_, user_id, Some(_))) if user_id == caller.user_id => {
                    Err(ApiError::Conflict(
                        "this device key was removed; create a new device key".into(),
                    ))
                }
                Some(_) => Err(ApiError::Conflict(
                    "this device key is registered to another account".into(),
                )),
                None => {
                    check_new_device_quota(tx, caller.user_id, now)?;
                    tx.execute(
                        "INSERT INTO devices (user_id, public_key, name, platform, registered_at)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        rusqlite::params![
                            caller.user_id,
                            key.as_bytes().as_slice(),
                            name,
                            platform,
                            now
                        ],
                    )?;
                    let device_id = u32::try_from(tx.last_insert_rowid())
                        .map_err(|_| ApiError::Internal("device id out of range".into()))?;
                    Ok((StatusCode::CREATED, device_view(tx, device_id)?))
                }
            }
        })
        .await?;
    Ok((status, Json(view)))
}

/// The caller's devices.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<DeviceView>))
)]
pub(super) async fn list_devices(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<Json<Vec<DeviceView>>> {
    let devices = state
        .store
        .run(move |db| {
            let sql =
                format!("{DEVICE_COLUMNS} WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY id");
            Ok::<_, ApiError>(rows(db, &sql, [caller.user_id], device_from_row)?)
        })
        .await?;
    Ok(Json(devices))
}

/// Removes a device (lost phone): every key it holds is revoked at once.
#[utoipa::path(
    delete,
    path = "/api/v1/devices/{device_id}",
    tag = "devices",
    security(("bearer" = [])),
    params(("device_id" = u32, Path, description = "Device id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn delete_device(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(device_id): Ids<u32>,
) -> ApiResult<StatusCode> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let device = own_device(tx, caller.user_id, device_id)?;
            tx.execute(
                "UPDATE devices SET revoked_at = ?1 WHERE id = ?2",
                rusqlite::params![now, device_id],
            )?;
            revoke_device(tx, &device, now)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses a new device when the account registered [`MAX_NEW_DEVICES`] in the last day,
/// with the seconds until the oldest of them leaves the window.
fn check_new_device_quota(db: &Connection, user_id: u32, now: i64) -> ApiResult<()> {
    let (count, oldest): (u32, Option<i64>) = db.query_row(
        "SELECT COUNT(*), MIN(registered_at) FROM devices
         WHERE user_id = ?1 AND registered_at > ?2",
        rusqlite::params![user_id, now - NEW_DEVICE_WINDOW_SECONDS],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    if count < MAX_NEW_DEVICES {
        return Ok(());
    }
    let wait = oldest.map_or(NEW_DEVICE_WINDOW_SECONDS, |oldest| {
        oldest + NEW_DEVICE_WINDOW_SECONDS - now
    });
    Err(ApiError::RateLimited(
        u64::try_from(wait.max(1)).unwrap_or(1),
    ))
}
