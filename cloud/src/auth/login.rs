//! Checking an account password, throttled: the OAuth sign-in form, the verification step
//! of setting an app PIN and the web remote-opening page's sign-in all go through
//! [`check_login`], so they share the login throttling (per account and per client address)
//! and none is a side door for guessing passwords.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::Extensions;

use super::accounts::{check_password, find_login, MAX_EMAIL_BYTES};
use super::throttle::{self, Reservation};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The client's address, when the server recorded it (login throttling counts per address).
pub(crate) fn client_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
}

/// How a password check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    /// Right: the account id.
    Right(u32),
    /// Wrong e-mail or password.
    Wrong,
    /// Too many failures: retry after this many seconds.
    Throttled(u64),
}

/// Checks `password` for the account `email` (failures counted before the check; a success
/// forgets the account's failures).
pub(crate) async fn check_login(
    state: &AppState,
    email: &str,
    password: String,
    peer: Option<IpAddr>,
) -> ApiResult<PasswordCheck> {
    let email = email.trim().to_lowercase();
    let account = (email.len() <= MAX_EMAIL_BYTES).then(|| throttle::account_subject(&email));
    let mut subjects: Vec<(String, u32)> = account
        .iter()
        .map(|subject| (subject.clone(), throttle::ACCOUNT_LIMIT))
        .collect();
    if let Some(peer) = peer {
        subjects.push((throttle::address_subject(peer), throttle::ADDRESS_LIMIT));
    }
    let now = state.clock.now();
    let (reservation, login) = state
        .store
        .transaction(move |tx| {
            let reservation = throttle::reserve(tx, &subjects, now)?;
            let login = match (&reservation, email.len() <= MAX_EMAIL_BYTES) {
                (Reservation::Granted(_), true) => find_login(tx, &email)?,
                _ => None,
            };
            Ok::<_, ApiError>((reservation, login))
        })
        .await?;
    let rows = match reservation {
        Reservation::Granted(rows) => rows,
        Reservation::Refused(seconds) => return Ok(PasswordCheck::Throttled(seconds)),
    };
    let (user_id, hash) = login.map_or((None, None), |(id, hash)| (Some(id), hash));
    let matches = tokio::task::spawn_blocking(move || check_password(&password, hash.as_deref()))
        .await
        .map_err(|_| ApiError::Internal("password check task failed".into()))?;
    let Some(user_id) = user_id.filter(|_| matches) else {
        return Ok(PasswordCheck::Wrong);
    };
    state
        .store
        .transaction(move |tx| throttle::succeeded(tx, account.as_deref(), &rows))
        .await?;
    Ok(PasswordCheck::Right(user_id))
}

/// The e-mail of an account (to check its password).
pub(crate) async fn account_email(state: &AppState, user_id: u32) -> ApiResult<String> {
    state
        .store
        .run(move |db| {
            db.query_row("SELECT email FROM users WHERE id = ?1", [user_id], |row| {
                row.get(0)
            })
            .map_err(ApiError::from)
        })
        .await
}
