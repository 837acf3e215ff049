//! The biometric gate: a phone registers a second, biometric-bound key for its device (signed
//! by both the device key and the new key), asks for a one-time challenge, and answers it
//! with the biometric key over the action it wants. The cloud checks the answer against the
//! key registered for that device.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::remote::{
    biometric_enrolment_message, remote_gate_message, BiometricKeyView,
    RegisterBiometricKeyRequest, RemoteChallengeRequest, RemoteChallengeView, RemoteCommand,
};
use keyway_api::ApiErrorBody;
use keyway_protocol::PublicKey;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{params, Connection, OptionalExtension};

use super::error::{RemoteError, RemoteResult};
use crate::api::codec;
use crate::api::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::issuing::grants::own_device;
use crate::AppState;

/// Seconds a challenge can be answered.
pub const CHALLENGE_TTL_SECONDS: i64 = 60;
const NONCE_LEN: usize = 32;

/// Registers (or replaces) the biometric key of one of the caller's devices. Both the
/// device key and the biometric key sign the enrolment, so a stolen access token alone
/// cannot add a key.
#[utoipa::path(
    put,
    path = "/api/v1/devices/{device_id}/biometric-key",
    tag = "remote",
    security(("bearer" = [])),
    params(("device_id" = u32, Path, description = "Device id")),
    request_body = RegisterBiometricKeyRequest,
    responses(
        (status = 200, body = BiometricKeyView),
        (status = 400, body = ApiErrorBody, description = "A signature does not verify"),
        (status = 404, body = ApiErrorBody),
    )
)]
pub async fn register_key(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(device_id): Ids<u32>,
    Body(request): Body<RegisterBiometricKeyRequest>,
) -> ApiResult<Json<BiometricKeyView>> {
    let key = codec::public_key("public_key", &request.public_key)?;
    let device_signature = codec::decode("device_signature", &request.device_signature)?;
    let biometric_signature = codec::decode("biometric_signature", &request.biometric_signature)?;
    let now = state.clock.now();
    let view = state
        .store
        .transaction(move |tx| {
            let device = own_device(tx, caller.user_id, device_id)?;
            let message = biometric_enrolment_message(device_id, key.as_bytes());
            if !device.public_key.verify(&message, &device_signature) {
                return Err(ApiError::InvalidInput(
                    "device_signature is not this device's key signing the enrolment".into(),
                ));
            }
            if !key.verify(&message, &biometric_signature) {
                return Err(ApiError::InvalidInput(
                    "biometric_signature is not the new key signing the enrolment".into(),
                ));
            }
            tx.execute(
                "INSERT INTO biometric_keys (device_id, public_key, registered_at)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT(device_id) DO UPDATE SET public_key = ?2, registered_at = ?3",
                params![device_id, key.as_bytes().as_slice(), now],
            )?;
            Ok(BiometricKeyView {
                device_id,
                registered_at: now,
            })
        })
        .await?;
    Ok(Json(view))
}

/// A one-time challenge for the biometric key of one of the caller's devices.
#[utoipa::path(
    post,
    path = "/api/v1/remote/challenges",
    tag = "remote",
    security(("bearer" = [])),
    request_body = RemoteChallengeRequest,
    responses(
        (status = 201, body = RemoteChallengeView),
        (status = 404, body = ApiErrorBody, description = "No such device"),
        (status = 409, body = ApiErrorBody, description = "The device has no biometric key"),
    )
)]
pub async fn create_challenge(
    State(state): State<AppState>,
    caller: Authenticated,
    Body(request): Body<RemoteChallengeRequest>,
) -> ApiResult<(StatusCode, Json<RemoteChallengeView>)> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| ApiError::Internal("random generator failed".into()))?;
    let now = state.clock.now();
    let expires_at = now + CHALLENGE_TTL_SECONDS;
    let device_id = request.device_id;
    let challenge_id = state
        .store
        .transaction(move |tx| {
            own_device(tx, caller.user_id, device_id)?;
            if biometric_key(tx, device_id)?.is_none() {
                return Err(ApiError::Conflict(
                    "this device has no biometric key: register one first".into(),
                ));
            }
            tx.execute("DELETE FROM remote_challenges WHERE expires_at < ?1", [now])?;
            tx.execute(
                "INSERT INTO remote_challenges (user_id, device_id, nonce, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![caller.user_id, device_id, nonce.as_slice(), expires_at],
            )?;
            u64::try_from(tx.last_insert_rowid())
                .map_err(|_| ApiError::Internal("challenge id out of range".into()))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RemoteChallengeView {
            challenge_id,
            nonce: codec::encode(&nonce),
            expires_at,
        }),
    ))
}

fn biometric_key(db: &Connection, device_id: u32) -> ApiResult<Option<PublicKey>> {
    codec::stored_public_key(
        db,
        "SELECT public_key FROM biometric_keys WHERE device_id = ?1",
        device_id,
        "stored biometric key",
    )
}

/// A stored challenge.
struct Challenge {
    user_id: u32,
    device_id: u32,
    nonce: Vec<u8>,
    expires_at: i64,
    used: bool,
}

/// A biometric answer to check.
#[derive(Debug, Clone)]
pub(crate) struct BiometricAnswer {
    /// The device whose key signed.
    pub(crate) device_id: u32,
    /// The challenge.
    pub(crate) challenge_id: u64,
    /// The signature (decoded).
    pub(crate) signature: Vec<u8>,
}

/// Checks (and uses up) a challenge answer for this action: the caller's own unexpired,
/// unused challenge for that device, signed by the key registered for the device. Run it
/// outside a transaction (`Store::run`): the challenge must stay used when the check fails.
pub(crate) fn verify_biometric(
    db: &Connection,
    user_id: u32,
    answer: &BiometricAnswer,
    action: (u32, u32, RemoteCommand),
    now: i64,
) -> RemoteResult<()> {
    let challenge_id = i64::try_from(answer.challenge_id)
        .map_err(|_| RemoteError::GateRefused("unknown challenge"))?;
    let challenge = db
        .query_row(
            "SELECT user_id, device_id, nonce, expires_at, used_at FROM remote_challenges
             WHERE id = ?1",
            [challenge_id],
            |row| {
                Ok(Challenge {
                    user_id: row.get(0)?,
                    device_id: row.get(1)?,
                    nonce: row.get(2)?,
                    expires_at: row.get(3)?,
                    used: row.get::<_, Option<i64>>(4)?.is_some(),
                })
            },
        )
        .optional()
        .map_err(ApiError::from)?
        .ok_or(RemoteError::GateRefused("unknown challenge"))?;
    let Challenge {
        device_id,
        nonce,
        expires_at,
        ..
    } = challenge;
    if challenge.user_id != user_id || device_id != answer.device_id {
        return Err(RemoteError::GateRefused(
            "the challenge is not for this device",
        ));
    }
    if challenge.used {
        return Err(RemoteError::GateRefused(
            "the challenge was already answered",
        ));
    }
    db.execute(
        "UPDATE remote_challenges SET used_at = ?1 WHERE id = ?2",
        params![now, challenge_id],
    )
    .map_err(ApiError::from)?;
    if now >= expires_at {
        return Err(RemoteError::GateRefused("the challenge expired"));
    }
    let key = biometric_key(db, device_id)?
        .ok_or(RemoteError::GateRefused("this device has no biometric key"))?;
    let (site_id, lock_id, command) = action;
    let message = remote_gate_message(&nonce, site_id, lock_id, command);
    if key.verify(&message, &answer.signature) {
        Ok(())
    } else {
        Err(RemoteError::GateRefused(
            "the signature does not match the biometric key registered for this device",
        ))
    }
}
