//! The app PIN that gates mobile remote opening: set after the account password is checked
//! again, kept as an argon2id hash, checked by the cloud. After 5 wrong tries each further
//! try waits longer (30 s, doubling); the 10th wrong try locks the PIN until it is set again.
//! A try is counted as wrong *before* the hash is checked (in the transaction that checks
//! the limits), so parallel guesses cannot slip past them; a right PIN clears the count.

use axum::extract::State;
use axum::http::{Extensions, HeaderMap};
use axum::Json;
use keyway_api::remote::{RemotePinStatus, SetRemotePinRequest};
use keyway_api::ApiErrorBody;
use rusqlite::{params, Connection, OptionalExtension};

use super::error::{RemoteError, RemoteResult};
use crate::api::extract::Body;
use crate::auth::accounts::hash_off_thread;
use crate::auth::login::{account_email, check_login, client_ip, PasswordCheck};
use crate::auth::{verify_password, Authenticated};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Wrong tries allowed before the delays start.
pub const PIN_FREE_TRIES: u32 = 5;
/// Wrong tries that lock the PIN.
pub const PIN_LOCK_TRIES: u32 = 10;
/// The first delay, doubled with each further wrong try.
pub const PIN_FIRST_DELAY_SECONDS: u64 = 30;
/// Shortest and longest PIN, in digits.
pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=8;

/// Seconds to wait before the next try after `failures` wrong ones in a row.
pub fn pin_delay(failures: u32) -> u64 {
    match failures.checked_sub(PIN_FREE_TRIES) {
        None => 0,
        Some(beyond) => PIN_FIRST_DELAY_SECONDS.saturating_mul(1 << beyond.min(16)),
    }
}

fn validate_pin(pin: &str) -> ApiResult<()> {
    if PIN_DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::InvalidInput(format!(
            "the PIN must be {} to {} digits",
            PIN_DIGITS.start(),
            PIN_DIGITS.end()
        )))
    }
}

struct PinRow {
    hash: String,
    failures: u32,
    last_failure_at: Option<i64>,
}

fn pin_row(db: &Connection, user_id: u32) -> ApiResult<Option<PinRow>> {
    Ok(db
        .query_row(
            "SELECT pin_hash, failures, last_failure_at FROM remote_pins WHERE user_id = ?1",
            [user_id],
            |row| {
                Ok(PinRow {
                    hash: row.get(0)?,
                    failures: row.get(1)?,
                    last_failure_at: row.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Seconds left of the current delay, if any.
fn waiting(row: &PinRow, now: i64) -> Option<u64> {
    let until = row
        .last_failure_at?
        .saturating_add(i64::try_from(pin_delay(row.failures)).unwrap_or(i64::MAX));
    u64::try_from(until - now).ok().filter(|left| *left > 0)
}

/// Counts a try as wrong unless the limits refuse it first; returns the hash to check and
/// the wrong tries counted now (this one included).
fn reserve_try(db: &Connection, user_id: u32, now: i64) -> RemoteResult<(String, u32)> {
    let row = pin_row(db, user_id)?.ok_or(RemoteError::PinNotSet)?;
    if row.failures >= PIN_LOCK_TRIES {
        return Err(RemoteError::PinLocked);
    }
    if let Some(seconds) = waiting(&row, now) {
        return Err(RemoteError::PinDelay(seconds));
    }
    let failures = row.failures + 1;
    db.execute(
        "UPDATE remote_pins SET failures = ?1, last_failure_at = ?2 WHERE user_id = ?3",
        params![failures, now, user_id],
    )
    .map_err(ApiError::from)?;
    Ok((row.hash, failures))
}

/// Checks a person's app PIN, with the delays and the lockout.
pub(crate) async fn verify_pin(state: &AppState, user_id: u32, pin: String) -> RemoteResult<()> {
    let now = state.clock.now();
    let (hash, failures) = state
        .store
        .transaction(move |tx| reserve_try(tx, user_id, now))
        .await?;
    let right = tokio::task::spawn_blocking(move || verify_password(&pin, &hash))
        .await
        .map_err(|_| ApiError::Internal("PIN check task failed".into()))?;
    if !right {
        return Err(if failures >= PIN_LOCK_TRIES {
            RemoteError::PinLocked
        } else {
            RemoteError::WrongPin {
                attempts_left: PIN_LOCK_TRIES - failures,
            }
        });
    }
    state
        .store
        .run(move |db| {
            db.execute(
                "UPDATE remote_pins SET failures = 0, last_failure_at = NULL WHERE user_id = ?1",
                [user_id],
            )
            .map_err(ApiError::from)
        })
        .await?;
    Ok(())
}

/// Sets or resets the caller's app PIN after checking their account password (throttled
/// like a sign-in). Wrong tries and a lockout are cleared.
#[utoipa::path(
    put,
    path = "/api/v1/me/remote-pin",
    tag = "remote",
    security(("bearer" = [])),
    request_body = SetRemotePinRequest,
    responses(
        (status = 200, body = RemotePinStatus, description = "The PIN is set"),
        (status = 400, body = ApiErrorBody, description = "The PIN is not 4 to 8 digits"),
        (status = 403, body = ApiErrorBody, description = "Wrong password"),
        (status = 429, body = ApiErrorBody, description = "Too many wrong passwords"),
    )
)]
pub async fn set_pin(
    State(state): State<AppState>,
    caller: Authenticated,
    extensions: Extensions,
    headers: HeaderMap,
    Body(request): Body<SetRemotePinRequest>,
) -> ApiResult<Json<RemotePinStatus>> {
    validate_pin(&request.pin)?;
    let email = account_email(&state, caller.user_id).await?;
    match check_login(
        &state,
        &email,
        request.password,
        client_ip(&state, &headers, &extensions),
    )
    .await?
    {
        PasswordCheck::Right(user_id) if user_id == caller.user_id => {}
        PasswordCheck::Throttled(seconds) => return Err(ApiError::RateLimited(seconds)),
        _ => return Err(ApiError::Forbidden("the password is wrong".into())),
    }
    let hash = hash_off_thread(request.pin).await?;
    let now = state.clock.now();
    state
        .store
        .run(move |db| {
            db.execute(
                "INSERT INTO remote_pins (user_id, pin_hash, failures, updated_at)
                 VALUES (?1, ?2, 0, ?3)
                 ON CONFLICT(user_id) DO UPDATE SET pin_hash = ?2, failures = 0,
                   last_failure_at = NULL, updated_at = ?3",
                params![caller.user_id, hash, now],
            )
            .map_err(ApiError::from)
        })
        .await?;
    Ok(Json(RemotePinStatus {
        set: true,
        failures: 0,
        locked: false,
        retry_after: None,
    }))
}

/// Whether the caller has an app PIN, and whether it is delayed or locked.
#[utoipa::path(
    get,
    path = "/api/v1/me/remote-pin",
    tag = "remote",
    security(("bearer" = [])),
    responses((status = 200, body = RemotePinStatus))
)]
pub async fn pin_status(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<Json<RemotePinStatus>> {
    let now = state.clock.now();
    let row = state
        .store
        .run(move |db| pin_row(db, caller.user_id))
        .await?;
    Ok(Json(match row {
        None => RemotePinStatus {
            set: false,
            failures: 0,
            locked: false,
            retry_after: None,
        },
        Some(row) => RemotePinStatus {
            set: true,
            failures: row.failures,
            locked: row.failures >= PIN_LOCK_TRIES,
            retry_after: waiting(&row, now),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_five_and_double() {
        let delays: Vec<u64> = (0..=10).map(pin_delay).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 960]);
        assert!(pin_delay(u32::MAX) > 0);
    }

    #[test]
    fn pins_are_four_to_eight_digits() {
        for good in ["0000", "12345678"] {
            assert!(validate_pin(good).is_ok(), "{good}");
        }
        for bad in ["123", "123456789", "12a4", "", " 1234"] {
            assert!(validate_pin(bad).is_err(), "{bad}");
        }
    }
}
