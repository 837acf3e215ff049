//! The IQ code (manual 000 "the Code"): a secret per person per IQ, delivered to the
//! person's registered device (which keeps it in its secure store and shows the current
//! 5-character code) and to the IQ (which checks a typed code again before relaying). The
//! cloud accepts a code of the previous, current or next 30-second step, each step's code
//! once, and counts wrong codes like failed sign-ins.

use axum::extract::State;
use axum::Json;
use keyway_api::remote::IqCodeSecretView;
use keyway_api::ApiErrorBody;
use keyway_protocol::iq::messages::CodeSecret;
use keyway_protocol::iq::HexBytes;
use keyway_protocol::iq_code::iq_code_matching_step;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{params, Connection, OptionalExtension};

use super::error::{RemoteError, RemoteResult};
use crate::api::codec;
use crate::api::extract::Ids;
use crate::auth::throttle::{self, Reservation};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::issuing::grants::own_device;
use crate::store::rows;
use crate::AppState;

/// Bytes of a new secret.
pub const SECRET_LEN: usize = 32;
/// Wrong codes per person within the login throttling window before codes are refused.
pub const CODE_ATTEMPTS: u32 = 5;
/// Seconds a used step is remembered (longer than the three steps a code is accepted in).
const USED_KEEP_SECONDS: i64 = 3600;

/// The secrets the IQ checks typed codes with: people with a remote right on its site who
/// have one for this IQ.
pub(crate) fn secrets_for_iq(
    db: &Connection,
    site_id: u32,
    iq_id: u32,
) -> ApiResult<Vec<CodeSecret>> {
    let secrets = rows(
        db,
        "SELECT c.user_id, keyway_open('iq_code_secrets.secret', c.secret, c.user_id, c.iq_id)
         FROM iq_code_secrets c
         JOIN memberships m ON m.user_id = c.user_id AND m.site_id = ?1
         WHERE c.iq_id = ?2 AND (m.remote_opening = 1 OR m.office_mode = 1)
           AND m.suspended_at IS NULL
         ORDER BY c.user_id",
        [site_id, iq_id],
        |row| {
            Ok(CodeSecret {
                user_id: row.get(0)?,
                secret: HexBytes(row.get(1)?),
            })
        },
    )?;
    Ok(secrets)
}

/// The person's secrets for every IQ of the sites where they have a remote right, made on
/// first use (a new one reaches its IQ through the live outbox's triggers, before the answer).
fn secrets_for_person(db: &Connection, user_id: u32, now: i64) -> ApiResult<Vec<IqCodeSecretView>> {
    let iqs: Vec<(u32, u32, String, Option<Vec<u8>>)> = rows(
        db,
        "SELECT i.site_id, i.id, i.name,
                keyway_open('iq_code_secrets.secret', c.secret, c.user_id, c.iq_id)
         FROM iqs i
         JOIN memberships m ON m.site_id = i.site_id AND m.user_id = ?1
         LEFT JOIN iq_code_secrets c ON c.iq_id = i.id AND c.user_id = ?1
         WHERE (m.remote_opening = 1 OR m.office_mode = 1) AND m.suspended_at IS NULL
         ORDER BY i.id",
        [user_id],
        |row| row.try_into(),
    )?;
    let mut views = Vec::with_capacity(iqs.len());
    for (site_id, iq_id, iq_name, secret) in iqs {
        let secret = match secret {
            Some(secret) => secret,
            None => {
                let mut secret = vec![0u8; SECRET_LEN];
                SystemRandom::new()
                    .fill(&mut secret)
                    .map_err(|_| ApiError::Internal("random generator failed".into()))?;
                db.execute(
                    "INSERT INTO iq_code_secrets (user_id, iq_id, secret, created_at)
                     VALUES (?1, ?2, keyway_seal('iq_code_secrets.secret', ?3, ?1, ?2), ?4)",
                    params![user_id, iq_id, secret, now],
                )?;
                secret
            }
        };
        views.push(IqCodeSecretView {
            site_id,
            iq_id,
            iq_name,
            secret: codec::encode(&secret),
        });
    }
    Ok(views)
}

/// The caller's IQ-code secrets, for one of their registered devices to keep in its secure
/// store (one per IQ of each site where they may open remotely).
#[utoipa::path(
    get,
    path = "/api/v1/devices/{device_id}/iq-code-secrets",
    tag = "remote",
    security(("bearer" = [])),
    params(("device_id" = u32, Path, description = "Device id")),
    responses(
        (status = 200, body = Vec<IqCodeSecretView>),
        (status = 404, body = ApiErrorBody, description = "No such device of the caller"),
    )
)]
pub async fn device_secrets(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(device_id): Ids<u32>,
) -> ApiResult<Json<Vec<IqCodeSecretView>>> {
    let now = state.clock.now();
    let views = state
        .store
        .transaction(move |tx| {
            own_device(tx, caller.user_id, device_id)?;
            secrets_for_person(tx, caller.user_id, now)
        })
        .await?;
    Ok(Json(views))
}

/// Checks a typed code for `user_id` at `iq_id` now: within one step, never accepted before,
/// and at most [`CODE_ATTEMPTS`] wrong ones per throttling window. Marks it used. Runs in
/// its own transaction, so a wrong code is counted whatever happens next.
pub(crate) async fn accept_code(
    state: &AppState,
    user_id: u32,
    iq_id: u32,
    typed: String,
) -> RemoteResult<()> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let subject = format!("iq-code:{user_id}");
            let rows = match throttle::reserve(tx, &[(subject.clone(), CODE_ATTEMPTS)], now)? {
                Reservation::Granted(rows) => rows,
                Reservation::Refused(seconds) => {
                    return Ok(Err(RemoteError::Api(ApiError::RateLimited(seconds))))
                }
            };
            let verdict = match_code(tx, user_id, iq_id, &typed, now)?;
            if verdict.is_ok() {
                throttle::succeeded(tx, Some(&subject), &rows)?;
            }
            Ok::<_, ApiError>(verdict)
        })
        .await?
}

fn match_code(
    db: &Connection,
    user_id: u32,
    iq_id: u32,
    typed: &str,
    now: i64,
) -> ApiResult<RemoteResult<()>> {
    let secret: Option<Vec<u8>> = db
        .query_row(
            "SELECT keyway_open('iq_code_secrets.secret', secret, user_id, iq_id)
             FROM iq_code_secrets WHERE user_id = ?1 AND iq_id = ?2",
            [user_id, iq_id],
            |row| row.get(0),
        )
        .optional()?;
    let step = secret.and_then(|secret| iq_code_matching_step(&secret, typed, now).ok().flatten());
    let Some(step) = step.and_then(|step| i64::try_from(step).ok()) else {
        return Ok(Err(RemoteError::CodeRejected));
    };
    db.execute(
        "DELETE FROM iq_code_uses WHERE used_at < ?1",
        [now - USED_KEEP_SECONDS],
    )?;
    let fresh = db.execute(
        "INSERT OR IGNORE INTO iq_code_uses (user_id, iq_id, step, used_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![user_id, iq_id, step, now],
    )?;
    Ok(if fresh == 1 {
        Ok(())
    } else {
        Err(RemoteError::CodeRejected)
    })
}
