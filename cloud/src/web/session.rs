//! The web page's sign-in: an e-mail and password form (throttled like every sign-in, and
//! guarded against login CSRF by [`super::csrf`]), then a random session token in an
//! `HttpOnly`, `SameSite=Strict` cookie; the cloud keeps only its hash. Each session has a
//! CSRF token its forms must echo.
//!
//! Over https (the public URL's scheme) the cookie is `__Host-keyway_web`, `Secure`,
//! `Path=/`, no `Domain`: the browser sends it only over TLS, and no sibling host or plain
//! http page can set or overwrite it. On plain http (allowed only on loopback) it is
//! `keyway_web`, `Path=/web`, without `Secure`.

use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use rusqlite::{params, OptionalExtension};

use crate::auth::tokens::{new_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The cookie's name on plain http (loopback only).
pub const COOKIE_NAME: &str = "keyway_web";
/// The cookie's name over https.
pub const SECURE_COOKIE_NAME: &str = "__Host-keyway_web";
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
    let secure = state.config.secure_cookies();
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
    Ok(cookie(secure, &token, SESSION_TTL_SECONDS))
}

fn cookie(secure: bool, value: &str, max_age: i64) -> String {
    let name = if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    };
    set_cookie(secure, name, "/web", value, max_age)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`; over https a `__Host-` cookie
/// (`Secure`, `Path=/`, no `Domain`), else scoped to `plain_path`.
pub(crate) fn set_cookie(
    secure: bool,
    name: &str,
    plain_path: &str,
    value: &str,
    max_age: i64,
) -> String {
    let scope = if secure {
        "Path=/; Secure".to_string()
    } else {
        format!("Path={plain_path}")
    };
    format!("{name}={value}; {scope}; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

/// The `Set-Cookie` value that removes the cookie.
pub(crate) fn cleared(state: &AppState) -> String {
    cookie(state.config.secure_cookies(), "", 0)
}

/// The value of the cookie `name` the request carries, if any.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

fn token(headers: &HeaderMap, secure: bool) -> Option<String> {
    cookie_value(
        headers,
        if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        },
    )
}

/// The visitor's live session, if their cookie names one.
pub(crate) async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<WebSession>> {
    let Some(token) = token(headers, state.config.secure_cookies()) else {
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
    if let Some(token) = token(headers, state.config.secure_cookies()) {
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
        assert_eq!(token(&headers, false).as_deref(), Some("tok123"));
        assert_eq!(
            token(&headers, true),
            None,
            "over https only the __Host- cookie"
        );
        assert_eq!(token(&HeaderMap::new(), false), None);
        let set = cookie(false, "x", 60);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        assert!(set.contains("Path=/web") && !set.contains("Secure"));
        let set = cookie(true, "x", 60);
        assert!(set.starts_with("__Host-keyway_web=x;"), "{set}");
        assert!(set.contains("; Secure") && set.contains("Path=/;"), "{set}");
        assert!(!set.contains("Domain"), "{set}");
    }
}
