//! `POST /api/v1/accounts` (sign-up) and `POST /api/v1/accounts/verify` (the code of the
//! verification e-mail). The rules are in [`super::verification`].

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::Json;
use keyway_api::{
    ApiErrorBody, SignupAccepted, SignupRequest, UserView, VerifyEmailRequest,
    SIGNUP_NEXT_VERIFY_EMAIL,
};

use super::accounts::{
    check_password, hash_off_thread, normalize_email, normalize_name, validate_password,
};
use super::login::client_ip;
use super::throttle::{self, Reservation};
use super::verification::{
    self, complete_signup, daily_wait, find_signup, record_failure, record_signup,
};
use crate::api::extract::Body;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Opens an account (no token needed): e-mails the address a code to confirm it. The answer is
/// the same whether or not the address has an account; the e-mail says which.
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    request_body = SignupRequest,
    responses(
        (status = 202, description = "Check the address's mailbox", body = SignupAccepted),
        (status = 400, description = "Bad e-mail, empty name or short password", body = ApiErrorBody),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    Body(request): Body<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SignupAccepted>)> {
    let email = normalize_email(&request.email)?;
    let name = normalize_name(&request.name)?;
    validate_password(&request.password)?;
    // Hashed whatever happens next, so a known address costs the same time as a new one.
    let hash = hash_off_thread(request.password).await?;
    let now = state.clock.now();
    let public_url = state.public_url();
    let stored_email = email.clone();
    state
        .store
        .transaction(move |tx| record_signup(tx, &stored_email, &name, &hash, &public_url, now))
        .await?;
    state.mail.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(SignupAccepted {
            email,
            next: SIGNUP_NEXT_VERIFY_EMAIL.into(),
        }),
    ))
}

/// Confirms the address with the code of its verification e-mail and the password chosen at
/// that sign-up; then the account signs in like any other.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/verify",
    tag = "accounts",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "The address is verified", body = UserView),
        (status = 400, description = "`verification_failed`: wrong, expired or used code, or another sign-up's password", body = ApiErrorBody),
        (status = 429, description = "Too many wrong codes: `Retry-After`", body = ApiErrorBody),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Body(request): Body<VerifyEmailRequest>,
) -> ApiResult<Json<UserView>> {
    let peer = client_ip(&state, &headers, &extensions);
    let user = verify(
        &state,
        &request.email,
        &request.code,
        request.password,
        peer,
    )
    .await?;
    Ok(Json(user))
}

fn failed() -> ApiError {
    ApiError::VerificationFailed(
        "this code does not confirm this sign-up: check the code and the password you chose, \
         or sign up again for a new code"
            .into(),
    )
}

/// Checks a verification code for `email` with the sign-up's password and, when both are
/// right, verifies the account. Wrong tries count against the address and the client like
/// sign-in failures.
pub(crate) async fn verify(
    state: &AppState,
    email: &str,
    code: &str,
    password: String,
    peer: Option<IpAddr>,
) -> ApiResult<UserView> {
    let email = normalize_email(email)?;
    let code = verification::normalize(code).ok_or_else(|| {
        ApiError::InvalidInput(format!(
            "a verification code has {} digits, like 1234-5678",
            verification::CODE_DIGITS
        ))
    })?;
    let mut subjects = vec![(format!("verify:{email}"), verification::FAILURE_LIMIT)];
    if let Some(peer) = peer {
        subjects.push((throttle::address_subject(peer), throttle::ADDRESS_LIMIT));
    }
    let now = state.clock.now();
    let lookup = email.clone();
    let (reservation, signup) = state
        .store
        .transaction(move |tx| {
            let wait = daily_wait(tx, &lookup, now)?;
            if wait > 0 {
                return Ok((Reservation::Refused(wait), None));
            }
            let reservation = throttle::reserve(tx, &subjects, now)?;
            let signup = match reservation {
                Reservation::Granted(_) => find_signup(tx, &lookup, &code, now)?,
                Reservation::Refused(_) => None,
            };
            Ok::<_, ApiError>((reservation, signup))
        })
        .await?;
    let rows = match reservation {
        Reservation::Granted(rows) => rows,
        Reservation::Refused(seconds) => return Err(ApiError::RateLimited(seconds)),
    };
    let hash = signup.as_ref().map(|signup| signup.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || check_password(&password, hash.as_deref()))
        .await
        .map_err(|_| ApiError::Internal("password check task failed".into()))?;
    let Some(signup) = signup.filter(|_| matches) else {
        let failed_email = email.clone();
        state
            .store
            .transaction(move |tx| record_failure(tx, &failed_email, now))
            .await?;
        return Err(failed());
    };
    let subject = format!("verify:{email}");
    state
        .store
        .transaction(move |tx| {
            let user = complete_signup(tx, &signup, now)?;
            throttle::succeeded(tx, Some(&subject), &rows)?;
            Ok::<_, ApiError>(user)
        })
        .await
}
