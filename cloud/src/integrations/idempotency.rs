//! `Idempotency-Key`: a connected system retries a call after a timeout without applying it
//! twice. The first answer to a key is kept a day with a hash of the request; the same key
//! with the same request gets that answer again and changes nothing; the same key with
//! another request is `422 idempotency_key_reused`. The check, the change and the kept answer
//! are one transaction: a change is applied once or not at all.

use ring::digest;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// How long a key's answer is kept.
pub const KEPT_SECONDS: i64 = 86_400;
/// The longest key.
pub const MAX_KEY_LEN: usize = 255;

/// An answer as the route gives it: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: serde_json::Value,
}

impl Answer {
    /// An answer with `body` serialized.
    pub fn json(status: u16, body: &impl Serialize) -> ApiResult<Self> {
        Ok(Self {
            status,
            body: serde_json::to_value(body)
                .map_err(|error| ApiError::Internal(format!("encoding an answer: {error}")))?,
        })
    }
}

/// The hash that tells two requests apart: the route, its path values and the body.
pub fn request_hash(route: &str, path: &[&str], body: &impl Serialize) -> ApiResult<Vec<u8>> {
    let body = serde_json::to_vec(body)
        .map_err(|error| ApiError::Internal(format!("encoding a request: {error}")))?;
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(route.as_bytes());
    for value in path {
        context.update(&[0]);
        context.update(value.as_bytes());
    }
    context.update(&[0]);
    context.update(&body);
    Ok(context.finish().as_ref().to_vec())
}

/// Runs `work` once per `key` (and always when there is none), in the caller's transaction.
pub fn apply_once(
    db: &Connection,
    api_key_id: u32,
    key: Option<&str>,
    hash: &[u8],
    now: i64,
    work: impl FnOnce(&Connection) -> ApiResult<Answer>,
) -> ApiResult<Answer> {
    let Some(key) = key else {
        return work(db);
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::InvalidInput(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable characters"
        )));
    }
    // Every key's answers older than a day go (keys that stopped calling included).
    db.prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")?
        .execute([now - KEPT_SECONDS])?;
    let kept: Option<(Vec<u8>, u16, String)> = db
        .query_row(
            "SELECT request_hash, status, response FROM idempotency_keys
             WHERE api_key_id = ?1 AND key = ?2",
            rusqlite::params![api_key_id, key],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    if let Some((kept_hash, status, response)) = kept {
        if kept_hash != hash {
            return Err(ApiError::IdempotencyKeyReused(
                "this Idempotency-Key was used for another request: use a new key".into(),
            ));
        }
        let body = serde_json::from_str(&response)
            .map_err(|error| ApiError::Internal(format!("a kept answer: {error}")))?;
        return Ok(Answer { status, body });
    }
    let answer = work(db)?;
    db.execute(
        "INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, response, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            api_key_id,
            key,
            hash,
            answer.status,
            answer.body.to_string(),
            now
        ],
    )?;
    Ok(answer)
}
