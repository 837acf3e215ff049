//! The `Authorization: Bearer` extractor every `/api/v1` route uses.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rusqlite::OptionalExtension;

use super::tokens::token_hash;
use crate::error::ApiError;
use crate::AppState;

/// The person a valid access token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// Their account id.
    pub user_id: u32,
    /// When the access token they called with expires (Unix seconds, cloud clock).
    pub expires_at: i64,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        let token = header.strip_prefix("Bearer ").ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
        })?;
        let hash = token_hash(token.trim());
        let now = state.clock.now();
        let found: Option<(u32, i64)> = state
            .store
            .run(move |db| {
                // Every API request comes through here: both statements are prepared once.
                let found: Option<(u32, i64)> = db
                    .prepare_cached(
                        "SELECT t.user_id, t.expires_at FROM access_tokens t
                         JOIN token_families f ON f.id = t.family_id
                         JOIN users u ON u.id = t.user_id
                         WHERE t.token_hash = ?1 AND f.revoked_at IS NULL
                           AND u.email_verified_at IS NOT NULL",
                    )?
                    .query_row([hash], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                if let Some((user_id, expires_at)) = found.filter(|(_, at)| *at > now) {
                    // The person uses Keyway: the places they were added to are theirs now.
                    // (A lookup in the partial index of unclaimed places: nearly always none.)
                    db.prepare_cached(
                        "UPDATE memberships SET claimed_at = ?1
                         WHERE user_id = ?2 AND claimed_at IS NULL",
                    )?
                    .execute(rusqlite::params![now, user_id])?;
                    return Ok(Some((user_id, expires_at)));
                }
                Ok::<_, ApiError>(found)
            })
            .await?;
        match found {
            Some((user_id, expires_at)) if expires_at > now => Ok(Self {
                user_id,
                expires_at,
            }),
            Some(_) => Err(ApiError::Unauthorized("access token expired".into())),
            None => Err(ApiError::Unauthorized(
                "unknown or revoked access token".into(),
            )),
        }
    }
}
