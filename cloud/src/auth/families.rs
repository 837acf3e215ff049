//! Token families: one per login. Every access and refresh token descends from one
//! authorization code through refresh-token rotation; revoking the family stops all of them
//! (RFC 9700 §4.14.2), which is what a replayed code or refresh token triggers.

use keyway_api::TokenResponse;
use rusqlite::{params, Connection};

use super::tokens::new_token;
use crate::error::ApiError;
use crate::CloudConfig;

/// Starts a family for a login of `user_id` through `client_id`.
pub(crate) fn create_family(
    db: &Connection,
    user_id: u32,
    client_id: &str,
    now: i64,
) -> Result<i64, ApiError> {
    db.execute(
        "INSERT INTO token_families (user_id, client_id, created_at) VALUES (?1, ?2, ?3)",
        params![user_id, client_id, now],
    )?;
    Ok(db.last_insert_rowid())
}

/// Issues a new access token and refresh token in `family_id`.
pub(crate) fn issue(
    db: &Connection,
    family_id: i64,
    user_id: u32,
    now: i64,
    config: &CloudConfig,
) -> Result<TokenResponse, ApiError> {
    let (access_token, access_hash) = new_token()?;
    let (refresh_token, refresh_hash) = new_token()?;
    db.execute(
        "INSERT INTO access_tokens (token_hash, family_id, user_id, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            access_hash,
            family_id,
            user_id,
            now.saturating_add(config.access_token_ttl)
        ],
    )?;
    db.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES (?1, ?2, ?3)",
        params![
            refresh_hash,
            family_id,
            now.saturating_add(config.refresh_token_ttl)
        ],
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: u64::try_from(config.access_token_ttl).unwrap_or(0),
        refresh_token,
    })
}

/// Revokes every token of `family_id` (a no-op when it is already revoked).
pub(crate) fn revoke_family(db: &Connection, family_id: i64, now: i64) -> Result<(), ApiError> {
    db.execute(
        "UPDATE token_families SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        params![now, family_id],
    )?;
    Ok(())
}
