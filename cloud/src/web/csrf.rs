//! Cross-site request forgery on the web pages. Every form post must come from the cloud's
//! own origin (its public URL's): `Origin`, or `Referer` when a browser sends no `Origin`;
//! a foreign or opaque (`null`) origin is refused. And every form carries a token:
//!
//! - the sign-in form is shown before any session exists, so its token is a double-submit
//!   one: a random value in a short-lived `HttpOnly`, `SameSite=Strict` cookie
//!   (`__Host-keyway_login` over https) and in a hidden field, which must be equal. A
//!   cross-site page can neither read the cookie nor, with a `__Host-` name, plant one.
//! - the session's forms echo the session's own token ([`super::session`]).
//!
//! Tokens are compared in constant time (an HMAC under a fresh key, through `ring`).

use axum::http::header::{ORIGIN, REFERER};
use axum::http::HeaderMap;
use ring::hmac;
use ring::rand::SystemRandom;
use url::Url;

use super::session::{cookie_value, set_cookie};
use crate::auth::tokens::new_token;
use crate::error::ApiResult;
use crate::public_url::origin_of;
use crate::AppState;

/// The sign-in token cookie's name on plain http (loopback only).
pub const LOGIN_COOKIE_NAME: &str = "keyway_login";
/// The sign-in token cookie's name over https.
pub const SECURE_LOGIN_COOKIE_NAME: &str = "__Host-keyway_login";
/// The sign-in form's hidden field that repeats the cookie's token.
pub const LOGIN_FIELD: &str = "login_csrf";
/// Seconds a sign-in form's token cookie lives.
pub const LOGIN_TOKEN_TTL_SECONDS: i64 = 10 * 60;

/// A fresh sign-in form token. `Debug` shows none of it.
pub(crate) struct LoginToken {
    /// The value for the hidden field.
    pub(crate) value: String,
    /// The `Set-Cookie` value carrying the same token.
    pub(crate) set_cookie: String,
}

impl std::fmt::Debug for LoginToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginToken(..)")
    }
}

fn login_cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies() {
        SECURE_LOGIN_COOKIE_NAME
    } else {
        LOGIN_COOKIE_NAME
    }
}

/// A new token for a sign-in form, and its cookie.
pub(crate) fn new_login_token(state: &AppState) -> ApiResult<LoginToken> {
    let (value, _) = new_token()?;
    let secure = state.config.secure_cookies();
    let set_cookie = set_cookie(
        secure,
        login_cookie_name(state),
        "/web",
        &value,
        LOGIN_TOKEN_TTL_SECONDS,
    );
    Ok(LoginToken { value, set_cookie })
}

/// The `Set-Cookie` value that removes the sign-in token cookie (once signed in).
pub(crate) fn cleared_login_cookie(state: &AppState) -> String {
    set_cookie(
        state.config.secure_cookies(),
        login_cookie_name(state),
        "/web",
        "",
        0,
    )
}

/// Whether the posted sign-in token equals the one in the visitor's cookie.
pub(crate) fn login_token_matches(state: &AppState, headers: &HeaderMap, posted: &str) -> bool {
    cookie_value(headers, login_cookie_name(state))
        .is_some_and(|cookie| !posted.is_empty() && tokens_match(&cookie, posted))
}

/// `a == b` in time that depends on neither value (only on their lengths, which are public).
pub(crate) fn tokens_match(a: &str, b: &str) -> bool {
    let Ok(key) = hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new()) else {
        return false;
    };
    let tag = hmac::sign(&key, a.as_bytes());
    hmac::verify(&key, b.as_bytes(), tag.as_ref()).is_ok()
}

/// Whether a form post comes from the cloud's own origin. A browser sends `Origin` on every
/// form post (the pages' `Referrer-Policy: same-origin` keeps it from being `null` on their
/// own forms); when it sends none, `Referer` must name the origin. A request with neither
/// is no browser's cross-site post: it passes here, and the form token still decides.
pub(crate) fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let claimed = if let Some(origin) = headers.get(ORIGIN) {
        origin.to_str().ok().map(str::to_string)
    } else if let Some(referer) = headers.get(REFERER) {
        referer
            .to_str()
            .ok()
            .and_then(|text| Url::parse(text).ok())
            .map(|url| origin_of(&url))
    } else {
        return true;
    };
    match (claimed, state.config.public_origin()) {
        (Some(claimed), Some(expected)) => claimed.eq_ignore_ascii_case(&expected),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("", "a"));
    }
}
