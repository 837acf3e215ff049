//! The web page's sign-in: an e-mail and password form (throttled like every sign-in), then a
//! random session token in an `HttpOnly`, `SameSite=Strict` cookie scoped to `/web`; the
//! cloud keeps only its hash. Each session has a CSRF token its forms must echo.

use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use rusqlite::{params, OptionalExtension};

use crate::auth::tokens::{new_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The cookie's name.
pub const COOKIE_NAME: &str = "keyway_web";
/// Seconds a web session lives.
pub const SESSION_TTL_SECONDS: i64 = 30 * 60;

/// A signed-in web visitor.
#[derive(Clone, PartialEq, Eq)]
pub struct WebSession {
    /// The account.
    pub user_id: u32,
    /// The token the session's forms carry.
    pub csrf: String,
}

impl std::fmt::Debug for WebSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSession")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Starts a session; returns the `Set-Cookie` value.
pub(crate) async fn start(state: &AppState, user_id: u32) -> ApiResult<String> {
    let (token, hash) = new_token()?;
    let (csrf, _) = new_token()?;
    let now = state.clock.now();
    state
        .store
        .run(move |db| {
            db.execute("DELETE FROM web_sessions WHERE expires_at <= ?1", [now])?;
            db.execute(
                "INSERT INTO web_sessions (token_hash, user_id, csrf, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![hash, user_id, csrf, now + SESSION_TTL_SECONDS],
            )
            .map_err(ApiError::from)
        })
        .await?;
    Ok(cookie(&token, SESSION_TTL_SECONDS))
}

fn cookie(value: &str, max_age: i64) -> String {
    format!("{COOKIE_NAME}={value}; Path=/web; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

/// The `Set-Cookie` value that removes the cookie.
pub(crate) fn cleared() -> String {
    cookie("", 0)
}

fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// The visitor's live session, if their cookie names one.
pub(crate) async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<WebSession>> {
    let Some(token) = token(headers) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let now = state.clock.now();
    state
        .store
        .run(move |db| {
            db.query_row(
                "SELECT user_id, csrf FROM web_sessions WHERE token_hash = ?1 AND expires_at > ?2",
                params![hash, now],
                |row| {
                    Ok(WebSession {
                        user_id: row.get(0)?,
                        csrf: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(ApiError::from)
        })
        .await
}

/// Ends the visitor's session.
pub(crate) async fn end(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    if let Some(token) = token(headers) {
        let hash = token_hash(&token);
        state
            .store
            .run(move |db| {
                db.execute("DELETE FROM web_sessions WHERE token_hash = ?1", [hash])
                    .map_err(ApiError::from)
            })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_found_among_others_and_is_strict() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; keyway_web=tok123; b=2"),
        );
        assert_eq!(token(&headers).as_deref(), Some("tok123"));
        assert_eq!(token(&HeaderMap::new()), None);
        let set = cookie("x", 60);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        assert!(set.contains("Path=/web"));
    }
}
