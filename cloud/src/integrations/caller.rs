//! Who calls an integration route: `Authorization: Bearer kwk_…`, a live key of one site
//! (a revoked or unknown key is `401`; so is a connected app's token once the site
//! disconnected the app or the operator disabled it), with the scope the route needs (`403
//! insufficient_scope` otherwise), within its site's rate (`429` with `Retry-After`; calls
//! with unknown keys share one rate of their own).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use keyway_api::integrations::Scope;
use rusqlite::OptionalExtension;

use super::keys::{parse_scopes, KEY_PREFIX};
use crate::auth::tokens::token_hash;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// How stale a key's "last used" time may be.
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// A connected system calling with one of its site's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationCaller {
    /// The key.
    pub key_id: u32,
    /// Its site: every call acts there only.
    pub site_id: u32,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

impl IntegrationCaller {
    /// `403 insufficient_scope` unless the key has `scope`.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(format!(
                "this API key lacks the {} scope",
                scope.as_str()
            )))
        }
    }
}

/// Whose calls a bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Every key of one site (one connected system, its rotating keys sharing the rate).
    Site(u32),
    /// Calls with a key the cloud does not know or has revoked, all together: they cost a
    /// lookup each, and none of them is anybody's traffic to protect.
    UnknownKeys,
}

/// Calls per bucket: `burst` calls at once, refilled at `per_second`.
#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<Bucket, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter allowing `burst` calls at once and `per_second` sustained, per bucket.
    pub fn new(burst: u32, per_second: u32) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one call from the bucket, or says how many seconds until one is there.
    pub fn take(&self, bucket: Bucket) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let (tokens, since) = buckets.entry(bucket).or_insert((self.burst, now));
        let refilled =
            (*tokens + now.duration_since(*since).as_secs_f64() * self.per_second).min(self.burst);
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            *since = now;
            Ok(())
        } else {
            let wait = ((1.0 - refilled) / self.per_second).ceil();
            // One call's refill time: at most a second at the slowest rate.
            Err(std::time::Duration::try_from_secs_f64(wait).map_or(1, |d| d.as_secs().max(1)))
        }
    }
}

impl Default for RateLimiter {
    /// 60 calls at once, 20 a second sustained.
    fn default() -> Self {
        Self::new(60, 20)
    }
}

impl FromRequestParts<AppState> for IntegrationCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|secret| secret.starts_with(KEY_PREFIX))
            .ok_or_else(|| {
                ApiError::Unauthorized("integration calls need 'Bearer <API key>'".into())
            })?;
        let hash = token_hash(secret);
        let found: Option<(u32, u32, String, Option<i64>)> = state
            .store
            .run(move |db| {
                db.prepare_cached(
                    "SELECT k.id, k.site_id, k.scopes, k.last_used_at FROM api_keys k
                     WHERE k.secret_hash = ?1 AND k.revoked_at IS NULL
                       AND (k.connection_id IS NULL OR EXISTS (
                           SELECT 1 FROM app_connections c
                           JOIN connected_apps a ON a.id = c.app_id
                           WHERE c.id = k.connection_id AND c.disconnected_at IS NULL
                             AND a.disabled_at IS NULL))",
                )?
                .query_row([hash], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()
                .map_err(ApiError::from)
            })
            .await?;
        // The rate is checked before anything is written.
        let Some((key_id, site_id, scopes, last_used_at)) = found else {
            state
                .integration_limits
                .take(Bucket::UnknownKeys)
                .map_err(ApiError::RateLimited)?;
            return Err(ApiError::Unauthorized("unknown or revoked API key".into()));
        };
        state
            .integration_limits
            .take(Bucket::Site(site_id))
            .map_err(ApiError::RateLimited)?;
        // "Last used" to the minute: a busy key costs no write (and no second trip to the
        // store) on every call.
        let now = state.clock.now();
        if last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION_SECONDS) {
            state
                .store
                .run(move |db| {
                    db.prepare_cached("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2")?
                        .execute(rusqlite::params![now, key_id])
                        .map_err(ApiError::from)
                })
                .await?;
        }
        Ok(Self {
            key_id,
            site_id,
            scopes: parse_scopes(&scopes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_gets_its_burst_then_waits() {
        let limiter = RateLimiter::new(3, 1);
        for _ in 0..3 {
            assert_eq!(limiter.take(Bucket::Site(7)), Ok(()));
        }
        assert_eq!(limiter.take(Bucket::Site(7)), Err(1));
        assert_eq!(
            limiter.take(Bucket::Site(8)),
            Ok(()),
            "another site has its own bucket"
        );
        assert_eq!(limiter.take(Bucket::UnknownKeys), Ok(()));
    }
}
