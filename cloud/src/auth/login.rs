//! Checking an account password, throttled: the OAuth sign-in form, the verification step
//! of setting an app PIN and the web remote-opening page's sign-in all go through
//! [`check_login`], so they share the login throttling (growing delays per account and
//! client address, caps per address and per account) and none is a side door for guessing
//! passwords.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

use super::accounts::{check_password, find_login, MAX_EMAIL_BYTES};
use super::throttle::{self, Reservation};
use super::verification::signup_from_login;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The client's address, when the server recorded it (login throttling counts per address):
/// the connection's peer or, behind a trusted proxy, the client the proxies name.
pub(crate) fn client_ip(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())?;
    forwarded_client(peer, headers, &state.config.trusted_proxies)
}

/// Walks `X-Forwarded-For` from the right (each proxy appends the address it saw) while the
/// hop is a trusted proxy, and returns the first address that is not one. A peer that is not
/// a trusted proxy is the client whatever the header says: anyone can send the header.
/// Addresses compare in canonical form (`::ffff:a.b.c.d` is `a.b.c.d`). When no untrusted
/// address can be read (a hop that is not an address, or only proxies), there is none: the
/// request is then throttled per account (and per "unknown address" pair of that account),
/// never against a proxy's address, which would let one client lock out everyone behind it.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer.to_canonical();
    let is_trusted =
        |address: &IpAddr| trusted.iter().any(|proxy| proxy.to_canonical() == *address);
    if !is_trusted(&peer) {
        return Some(peer);
    }
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        // Hop by hop on the raw bytes: a client's garbage left of a proxy's hop stays there.
        for hop in value.as_bytes().rsplit(|byte| *byte == b',') {
            let address = std::str::from_utf8(hop).ok().and_then(hop_address)?;
            if !is_trusted(&address) {
                return Some(address);
            }
        }
    }
    None
}

/// One `X-Forwarded-For` hop as an address in canonical form: `1.2.3.4`, `2001:db8::1`, or
/// with the port some proxies add (`1.2.3.4:5678`, `[2001:db8::1]:5678`).
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let address = hop
        .parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()?;
    Some(address.to_canonical())
}

/// What a sign-in form says to a wrong e-mail or password. An account whose address is not
/// verified yet has no password, so its owner lands here too: the sentence says what to do,
/// without telling anybody whether the address has an account.
pub(crate) const WRONG_CREDENTIALS: &str = "Wrong e-mail or password. Just signed up? Confirm \
     your e-mail address first with the code we e-mailed you (or the link in that e-mail).";

/// What a sign-in form says to the right password of an account whose address is not
/// verified: only the account's owner (who knows the password) reads it.
pub(crate) const CONFIRM_ADDRESS_FIRST: &str = "Confirm your e-mail address first: we just \
     e-mailed you a code. Enter it in the Keyway app, or open the link in that e-mail, then \
     sign in again.";

/// How a password check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    /// Right: the account id.
    Right(u32),
    /// Wrong e-mail or password.
    Wrong,
    /// The right password of an account whose address is not verified (one from before
    /// verification): a code was e-mailed to it; nothing else happens until it is confirmed.
    Unverified,
    /// Too many failures: retry after this many seconds.
    Throttled(u64),
}

/// Checks `password` for the account `email`, throttled as [`throttle`] says: growing
/// delays for this (account, address) pair, and caps per address and per account. Failures
/// are counted before the check; a success forgets this pair's failures only.
pub(crate) async fn check_login(
    state: &AppState,
    email: &str,
    password: String,
    peer: Option<IpAddr>,
) -> ApiResult<PasswordCheck> {
    let email = email.trim().to_lowercase();
    let known_length = email.len() <= MAX_EMAIL_BYTES;
    // An over-long e-mail names no account: it is counted against its address only.
    let pair = known_length.then(|| throttle::pair_subject(&email, peer));
    let mut subjects: Vec<(String, u32)> = Vec::with_capacity(3);
    if let Some(pair) = &pair {
        subjects.push((pair.clone(), throttle::ADDRESS_LIMIT));
    }
    // The all-addresses cap, unless this address (a real one) signed in here lately.
    let account_cap = pair
        .clone()
        .map(|pair| (pair, throttle::account_subject(&email)));
    if let Some(peer) = peer {
        subjects.push((throttle::address_subject(peer), throttle::ADDRESS_LIMIT));
    }
    let now = state.clock.now();
    let backoff = pair.clone();
    let (reservation, login) = state
        .store
        .transaction(move |tx| {
            if let Some(pair) = &backoff {
                let wait = throttle::backoff_wait(tx, pair, now)?;
                if wait > 0 {
                    return Ok((Reservation::Refused(wait), None));
                }
            }
            let mut subjects = subjects;
            if let Some((pair, account)) = account_cap {
                if peer.is_none() || !throttle::known_sign_in(tx, &pair, now)? {
                    subjects.push((account, throttle::ACCOUNT_LIMIT));
                }
            }
            let reservation = throttle::reserve(tx, &subjects, now)?;
            let login = match (&reservation, known_length) {
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
    let hash = login.as_ref().and_then(|login| login.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || check_password(&password, hash.as_deref()))
        .await
        .map_err(|_| ApiError::Internal("password check task failed".into()))?;
    let Some(login) = login.filter(|_| matches) else {
        return Ok(PasswordCheck::Wrong);
    };
    let public_url = state.public_url();
    let (user_id, verified) = (login.user_id, login.verified);
    state
        .store
        .transaction(move |tx| {
            throttle::succeeded(tx, pair.as_deref(), &rows)?;
            if let (Some(pair), Some(_)) = (&pair, peer) {
                throttle::remember_sign_in(tx, pair, now)?;
            }
            if !verified {
                signup_from_login(tx, user_id, &public_url, now)?;
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    if !verified {
        state.mail.wake();
        return Ok(PasswordCheck::Unverified);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_trusted_proxies_may_name_the_client() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        /// Peer, header lines, trusted proxies, the client counted.
        type Case<'a> = (&'a str, Vec<&'a [u8]>, &'a [IpAddr], Option<&'a str>);
        let cases: [Case; 13] = [
            // A client sending the header itself is still counted as itself.
            (
                "203.0.113.9",
                vec![b"198.51.100.1"],
                &[],
                Some("203.0.113.9"),
            ),
            (
                "203.0.113.9",
                vec![b"198.51.100.1"],
                &proxies,
                Some("203.0.113.9"),
            ),
            // Behind one proxy: the address the proxy appended.
            (
                "10.0.0.1",
                vec![b"198.51.100.1"],
                &proxies,
                Some("198.51.100.1"),
            ),
            // A spoofed left part is skipped: the nearest untrusted hop wins.
            (
                "10.0.0.1",
                vec![b"1.2.3.4, 198.51.100.1"],
                &proxies,
                Some("198.51.100.1"),
            ),
            // Bytes that are not text, sent by the client, left of the proxy's hop.
            (
                "10.0.0.1",
                vec![b"\xff\xfe, 198.51.100.1"],
                &proxies,
                Some("198.51.100.1"),
            ),
            // Two proxies, over two header lines.
            (
                "10.0.0.1",
                vec![b"198.51.100.1", b"10.0.0.2"],
                &proxies,
                Some("198.51.100.1"),
            ),
            (
                "10.0.0.1",
                vec![b"2001:db8::7, 10.0.0.2"],
                &proxies,
                Some("2001:db8::7"),
            ),
            // Hops with the port some proxies add.
            (
                "10.0.0.1",
                vec![b"198.51.100.1:5678"],
                &proxies,
                Some("198.51.100.1"),
            ),
            (
                "10.0.0.1",
                vec![b"[2001:db8::7]:443, 10.0.0.2"],
                &proxies,
                Some("2001:db8::7"),
            ),
            // An IPv4 proxy seen by a socket listening on [::].
            (
                "::ffff:10.0.0.1",
                vec![b"198.51.100.1"],
                &proxies,
                Some("198.51.100.1"),
            ),
            // No readable client: no address, never the proxy's.
            ("10.0.0.1", vec![b"nonsense"], &proxies, None),
            ("10.0.0.1", vec![b"nonsense, 10.0.0.2"], &proxies, None),
            ("10.0.0.1", vec![], &proxies, None),
        ];
        for (peer, values, trusted, expected) in cases {
            let mut headers = HeaderMap::new();
            for value in &values {
                headers.append(
                    "x-forwarded-for",
                    axum::http::HeaderValue::from_bytes(value).unwrap(),
                );
            }
            assert_eq!(
                forwarded_client(ip(peer), &headers, trusted),
                expected.map(ip),
                "peer {peer}, header {values:?}"
            );
        }
    }
}
