//! Re-checking an account password, for the verification step of setting an app PIN and
//! for the web remote-opening page's sign-in. It goes through the same login throttling as
//! the OAuth sign-in form (per account and per client address), so neither is a side door
//! for guessing passwords.

use std::net::IpAddr;

use crate::auth::accounts::{check_password, find_login, MAX_EMAIL_BYTES};
use crate::auth::throttle::{self, Reservation};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

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

/// Checks `password` for the account `email` (failures counted before the check).
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
