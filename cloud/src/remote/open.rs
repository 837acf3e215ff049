//! Remote commands: the person's right, their gate (app PIN, biometric answer, or the IQ
//! code on the web page), a short-lived grant signed by the site authority, the relay
//! through the lock's IQ, and the lock's signed answer, stored like any lock event.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use keyway_api::remote::{
    RemoteCommand, RemoteGate, RemoteOpenRequest, RemoteOpenResponse, RemoteTiming,
};
use keyway_api::ApiErrorBody;
use keyway_protocol::iq::grant::RemoteGrantFlags;
use keyway_protocol::iq::messages::{CodeCheck, RelayCommand, RelayOutcome, RelayResult};
use keyway_protocol::iq::{HexBytes, RemoteGrant};
use keyway_protocol::{RefusalReason, SignedEvent};
use ring::rand::SystemRandom;
use rusqlite::params;

use super::biometric::{verify_biometric, BiometricAnswer};
use super::code::accept_code;
use super::error::{RemoteError, RemoteResult};
use super::pin::verify_pin;
use super::rights::{check_remote_right, RemoteRight};
use crate::api::codec;
use crate::api::events::{lock_key, store_records};
use crate::api::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::issuing::site_authority;
use crate::lock_rules::lockers::check_emergency_right;
use crate::AppState;

/// Seconds a grant is valid on either side of the cloud's clock (a lock's clock may be off
/// by up to this much).
pub const GRANT_SKEW_SECONDS: i64 = 60;

/// How the person proved it is them.
#[derive(Debug, Clone)]
pub(crate) enum Gate {
    /// The app PIN.
    Pin(String),
    /// A biometric answer.
    Biometric(BiometricAnswer),
    /// The IQ code typed on the web page (checked by the cloud, then by the IQ).
    Code(String),
}

impl Gate {
    fn name(&self) -> &'static str {
        match self {
            Self::Pin(_) => "pin",
            Self::Biometric(_) => "biometric",
            Self::Code(_) => "code",
        }
    }
}

/// One remote command as asked.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) site_id: u32,
    pub(crate) lock_id: u32,
    pub(crate) user_id: u32,
    pub(crate) command: RemoteCommand,
    /// An admin's emergency opening of a locker: their role, not an access group, is the
    /// right, and the grant overrides privacy mode.
    pub(crate) emergency: bool,
}

/// Sends `command` to the lock on the person's behalf once `gate` holds, and returns what
/// the lock did. The order of checks: the right and an online IQ first (a refused or
/// offline request costs no PIN try), then the gate, then the relay.
pub(crate) async fn run_order(
    state: &AppState,
    order: Order,
    gate: Gate,
) -> RemoteResult<RemoteOpenResponse> {
    let started = Instant::now();
    let now = state.clock.now();
    let (site_id, lock_id, user_id, command) =
        (order.site_id, order.lock_id, order.user_id, order.command);
    let emergency = order.emergency;
    let right = state
        .store
        .run(move |db| {
            if emergency {
                check_emergency_right(db, site_id, lock_id, user_id)
            } else {
                check_remote_right(db, site_id, lock_id, user_id, command, now)
            }
        })
        .await?;
    if !state.iqs.is_online(right.iq_id) {
        return Err(RemoteError::IqOffline);
    }
    let code = match &gate {
        Gate::Pin(pin) => {
            verify_pin(state, user_id, pin.clone()).await?;
            None
        }
        Gate::Biometric(answer) => {
            let answer = answer.clone();
            state
                .store
                .run(move |db| {
                    verify_biometric(db, user_id, &answer, (site_id, lock_id, command), now)
                })
                .await?;
            None
        }
        Gate::Code(code) => {
            accept_code(state, user_id, right.iq_id, code.clone()).await?;
            Some(CodeCheck {
                user_id,
                code: code.clone(),
            })
        }
    };
    let gate_name = gate.name();
    let (request_id, grant) = state
        .store
        .transaction(move |tx| {
            tx.execute(
                "INSERT INTO remote_openings
                   (site_id, lock_id, user_id, command, gate, requested_at, emergency)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    site_id,
                    lock_id,
                    user_id,
                    command.code(),
                    gate_name,
                    now,
                    emergency
                ],
            )?;
            let request_id = u64::try_from(tx.last_insert_rowid())
                .map_err(|_| ApiError::Internal("request id out of range".into()))?;
            let grant = grant(&right, request_id, &order, now)
                .sign(&site_authority(tx, site_id)?, &SystemRandom::new())
                .map_err(|error| ApiError::Internal(format!("signing a grant: {error}")))?;
            Ok::<_, ApiError>((request_id, grant))
        })
        .await?;
    let relay_started = Instant::now();
    let relayed = state
        .iqs
        .relay(
            right.iq_id,
            RelayCommand {
                request_id,
                lock_id,
                grant: HexBytes(grant),
                code,
            },
        )
        .await;
    let relay = relay_started.elapsed();
    let result = match relayed {
        Ok(result) => result,
        Err(error) => {
            record_outcome(state, request_id, &error.to_string(), None).await?;
            return Err(error.into());
        }
    };
    let answer = lock_answer(state, &result, lock_id, user_id).await;
    let outcome = match &answer {
        Ok(answer) if answer.granted => "granted".to_string(),
        Ok(answer) => format!("refused: {}", answer.reason.clone().unwrap_or_default()),
        Err(error) => error.to_string(),
    };
    let event_seq = answer.as_ref().ok().and_then(|answer| answer.event_seq);
    record_outcome(state, request_id, &outcome, event_seq).await?;
    let mut answer = answer?;
    answer.timing = timing(started.elapsed(), relay, &result);
    Ok(answer)
}

fn grant(right: &RemoteRight, grant_id: u64, order: &Order, now: i64) -> RemoteGrant {
    RemoteGrant {
        site_id: order.site_id,
        lock_id: order.lock_id,
        user_id: order.user_id,
        grant_id,
        command: order.command.command(),
        flags: RemoteGrantFlags {
            privacy_override: right.privacy_override,
            office_mode: right.office_mode,
        },
        not_before: now - GRANT_SKEW_SECONDS,
        not_after: now + GRANT_SKEW_SECONDS,
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `total` at the cloud, of which `relay` waiting for the IQ, of which the IQ's own time.
fn timing(total: Duration, relay: Duration, result: &RelayResult) -> RemoteTiming {
    let iq = Duration::from_micros(result.iq_micros);
    let lock = Duration::from_micros(result.lock_micros);
    RemoteTiming {
        total_ms: millis(total),
        cloud_ms: millis(total.saturating_sub(relay)),
        link_ms: millis(relay.saturating_sub(iq)),
        iq_ms: millis(iq.saturating_sub(lock)),
        lock_ms: millis(lock),
    }
}

/// What the lock did, read from its signed event (not from the IQ's word), which is stored
/// with the lock's other events.
async fn lock_answer(
    state: &AppState,
    result: &RelayResult,
    lock_id: u32,
    user_id: u32,
) -> RemoteResult<RemoteOpenResponse> {
    let event = match (&result.outcome, &result.event) {
        (RelayOutcome::CodeRejected, _) => return Err(RemoteError::CodeRejected),
        (RelayOutcome::LockUnreachable, _) => return Err(RemoteError::LockUnreachable),
        (_, None) => {
            return Err(ApiError::Internal(format!(
                "the IQ answered for lock {lock_id} without the lock's record"
            ))
            .into())
        }
        (_, Some(event)) => SignedEvent::decode(event.as_slice())
            .map_err(|error| ApiError::Internal(format!("the IQ relayed a bad record: {error}")))?,
    };
    let key = state.store.run(move |db| lock_key(db, lock_id)).await?;
    let authentic = key.is_some_and(|key| event.verify(&key));
    let recorded = event.event();
    if !authentic || recorded.lock_id != lock_id {
        return Err(
            ApiError::Internal("the IQ relayed a record the lock did not sign".into()).into(),
        );
    }
    let refusal: Option<RefusalReason> = recorded.refusal;
    if refusal.is_none() && recorded.user_id != user_id {
        return Err(ApiError::Internal("the lock's record names someone else".into()).into());
    }
    let seq = recorded.seq;
    store_records(state, vec![(0, event.clone())], Vec::new()).await?;
    Ok(RemoteOpenResponse {
        lock_id,
        granted: refusal.is_none(),
        reason_code: refusal.map_or(0, RefusalReason::code),
        reason: refusal.map(|reason| reason.describe().to_string()),
        event_seq: Some(seq),
        timing: RemoteTiming::default(),
    })
}

async fn record_outcome(
    state: &AppState,
    request_id: u64,
    outcome: &str,
    event_seq: Option<u64>,
) -> RemoteResult<()> {
    let outcome = outcome.to_string();
    let id = i64::try_from(request_id).unwrap_or(i64::MAX);
    let seq = event_seq.and_then(|seq| i64::try_from(seq).ok());
    state
        .store
        .run(move |db| {
            db.execute(
                "UPDATE remote_openings SET outcome = ?1, event_seq = ?2 WHERE id = ?3",
                params![outcome, seq, id],
            )
            .map_err(ApiError::from)
        })
        .await?;
    Ok(())
}

/// Opens a lock remotely (or sets remote office mode) through its IQ, gated by the app PIN
/// or the biometric answer to a challenge. A lock that refuses is a 200 with `granted:
/// false` and its reason.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/locks/{lock_id}/remote",
    tag = "remote",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "Lock id"),
    ),
    request_body = RemoteOpenRequest,
    responses(
        (status = 200, body = RemoteOpenResponse, description = "What the lock did"),
        (status = 403, body = ApiErrorBody, description = "No right, wrong PIN (`wrong_pin`), locked PIN (`pin_locked`), refused biometric answer (`gate_refused`)"),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "No PIN set (`pin_not_set`) or the lock has no IQ (`no_iq`)"),
        (status = 429, body = ApiErrorBody, description = "Waiting after wrong PINs (`pin_delay`, Retry-After)"),
        (status = 502, body = ApiErrorBody, description = "The IQ cannot reach the lock (`lock_unreachable`): try again near the door or over Bluetooth"),
        (status = 503, body = ApiErrorBody, description = "The IQ is offline (`iq_offline`): nothing was queued"),
        (status = 504, body = ApiErrorBody, description = "The IQ did not answer (`iq_timeout`)"),
    )
)]
pub async fn remote_open(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
    Body(request): Body<RemoteOpenRequest>,
) -> RemoteResult<Json<RemoteOpenResponse>> {
    let order = Order {
        site_id,
        lock_id,
        user_id: caller.user_id,
        command: request.command,
        emergency: false,
    };
    Ok(Json(run_order(&state, order, gate(request.gate)?).await?))
}

fn gate(gate: RemoteGate) -> Result<Gate, ApiError> {
    Ok(match gate {
        RemoteGate::Pin { pin } => Gate::Pin(pin),
        RemoteGate::Biometric {
            device_id,
            challenge_id,
            signature,
        } => Gate::Biometric(BiometricAnswer {
            device_id,
            challenge_id,
            signature: codec::decode("signature", &signature)?,
        }),
    })
}

/// Opens a locker in an emergency (manual 000: "Perform an emergency opening"): the owner or
/// an admin, gated by their app PIN or biometric answer like any remote opening, whatever the
/// access groups and privacy mode say. Logged at the cloud (`emergency`) and in the lock's
/// signed log.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/lockers/{lock_id}/emergency-open",
    tag = "remote",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "The locker's lock id"),
    ),
    request_body = RemoteOpenRequest,
    responses(
        (status = 200, body = RemoteOpenResponse, description = "What the lock did"),
        (status = 400, body = ApiErrorBody, description = "Only `unlock` is an emergency opening"),
        (status = 403, body = ApiErrorBody, description = "Not the owner or an admin, or the gate failed"),
        (status = 404, body = ApiErrorBody, description = "No such locker"),
        (status = 409, body = ApiErrorBody, description = "The locker has no IQ (`no_iq`)"),
        (status = 503, body = ApiErrorBody, description = "The IQ is offline (`iq_offline`)"),
    )
)]
pub async fn emergency_open(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
    Body(request): Body<RemoteOpenRequest>,
) -> RemoteResult<Json<RemoteOpenResponse>> {
    if request.command != RemoteCommand::Unlock {
        return Err(ApiError::InvalidInput("an emergency opening is an unlock".into()).into());
    }
    let order = Order {
        site_id,
        lock_id,
        user_id: caller.user_id,
        command: RemoteCommand::Unlock,
        emergency: true,
    };
    Ok(Json(run_order(&state, order, gate(request.gate)?).await?))
}
