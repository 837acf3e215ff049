//! Signing in from a web form, for the remote-opening page and the admin console alike:
//! the form must come from the cloud's own origin with the visitor's sign-in token
//! ([`super::csrf`]), then the password is checked (throttled like every sign-in) and a
//! session starts ([`super::session`]).

use axum::extract::rejection::FormRejection;
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::Form;
use keyway_api::ErrorCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::csrf::{cleared_login_cookie, login_token_matches, same_origin};
use super::session;
use crate::auth::html::try_again_in;
use crate::auth::login::{
    check_login, client_ip, PasswordCheck, CONFIRM_ADDRESS_FIRST, WRONG_CREDENTIALS,
};
use crate::error::ApiError;
use crate::AppState;

/// The sign-in form as posted.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LoginForm {
    /// Login e-mail.
    email: String,
    /// Password.
    password: String,
    /// The form's token, equal to the one in the sign-in cookie the form came with.
    #[serde(default)]
    login_csrf: String,
}

/// Why a sign-in did not happen, as the form shows it again.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The visitor can fix it: the code and words to show, the status, and for throttling
    /// the seconds to wait.
    Shown {
        /// The machine code (`data-error`).
        code: ErrorCode,
        /// What the visitor reads.
        message: String,
        /// The page's status.
        status: StatusCode,
        /// Seconds to wait before trying again, when throttled.
        retry_after: Option<u64>,
    },
    /// The server failed.
    Internal(ApiError),
}

fn shown(code: ErrorCode, message: &str, status: StatusCode) -> Refusal {
    Refusal::Shown {
        code,
        message: message.to_string(),
        status,
        retry_after: None,
    }
}

/// Signs the visitor in from `form`: the `Set-Cookie` values (the session's, and the
/// sign-in token's removal), or why not.
pub(crate) async fn sign_in(
    state: &AppState,
    extensions: &Extensions,
    headers: &HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<[String; 2], Refusal> {
    let Ok(Form(form)) = form else {
        return Err(shown(
            ErrorCode::InvalidInput,
            "Enter your e-mail and password.",
            StatusCode::BAD_REQUEST,
        ));
    };
    // Login CSRF: another site's form, or one without this visitor's own token, signs no one
    // in (and costs no password check).
    if !same_origin(state, headers) || !login_token_matches(state, headers, &form.login_csrf) {
        return Err(shown(
            ErrorCode::Forbidden,
            "This sign-in form is stale or came from another site: sign in again here.",
            StatusCode::FORBIDDEN,
        ));
    }
    let peer = client_ip(state, headers, extensions);
    match check_login(state, &form.email, form.password, peer).await {
        Ok(PasswordCheck::Right(user_id)) => match session::start(state, user_id).await {
            Ok(cookie) => Ok([cookie, cleared_login_cookie(state)]),
            Err(error) => Err(Refusal::Internal(error)),
        },
        Ok(PasswordCheck::Wrong) => Err(shown(
            ErrorCode::Unauthorized,
            WRONG_CREDENTIALS,
            StatusCode::UNAUTHORIZED,
        )),
        Ok(PasswordCheck::Unverified) => Err(shown(
            ErrorCode::Forbidden,
            CONFIRM_ADDRESS_FIRST,
            StatusCode::FORBIDDEN,
        )),
        Ok(PasswordCheck::Throttled(seconds)) => Err(Refusal::Shown {
            code: ErrorCode::RateLimited,
            message: format!(
                "Too many failed sign-in attempts. {}",
                try_again_in(seconds)
            ),
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(seconds),
        }),
        Err(error) => Err(Refusal::Internal(error)),
    }
}
