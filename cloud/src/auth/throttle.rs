//! Login throttling, in `login_attempts` over a sliding window, on three subjects:
//!
//! - **one account from one client address** ([`pair_subject`]): the first
//!   [`PAIR_FREE_FAILURES`] failures cost nothing; after that each further try must wait
//!   [`pair_delay`] (2, 4, 8 … seconds, at most [`PAIR_MAX_DELAY_SECONDS`]) after the last one.
//!   A guesser slows down only themselves: the owner signing in from elsewhere is not delayed.
//! - **one client address, all accounts** ([`address_subject`]): [`ADDRESS_LIMIT`] failures
//!   per window, so one address cannot spray many accounts.
//! - **one account, all addresses** ([`account_subject`]): [`ACCOUNT_LIMIT`] failures per
//!   window, high enough that no single address reaches it, low enough to stop a
//!   distributed guesser. An (account, address) pair that signed in with the right password
//!   within [`KNOWN_SIGN_IN_SECONDS`] is not held by this cap (nor counted in it): a guesser
//!   spread over many addresses does not lock the owner out of where they usually sign in.
//!
//! An attempt is recorded as a failure *before* the password is checked (in the same
//! transaction as the limit check), so parallel guesses cannot slip past the limit; a success
//! then forgets its own rows and the failures of its (account, address) pair, never the
//! account-wide count (the owner signing in must not reset a distributed guesser's budget).

use std::net::IpAddr;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::ApiError;

/// The window failures are counted over, in seconds.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Failures for one account, from all addresses together, within the window before its
/// sign-ins are refused.
pub const ACCOUNT_LIMIT: u32 = 100;
/// Failures from one address (an IPv6 /64), for all accounts together, within the window
/// before its sign-ins are refused.
pub const ADDRESS_LIMIT: u32 = 20;
/// Failures for one account from one address that cost no waiting.
pub const PAIR_FREE_FAILURES: u32 = 3;
/// The longest wait between two tries on one account from one address.
pub const PAIR_MAX_DELAY_SECONDS: u64 = 5 * 60;

/// How long a successful sign-in from an address exempts that (account, address) pair from
/// the all-addresses cap.
pub const KNOWN_SIGN_IN_SECONDS: i64 = 30 * 86_400;

/// Whether the pair signed in with the right password within [`KNOWN_SIGN_IN_SECONDS`].
pub(crate) fn known_sign_in(db: &Connection, pair: &str, now: i64) -> Result<bool, ApiError> {
    let last: Option<i64> = db
        .query_row(
            "SELECT last_signed_in FROM known_sign_ins WHERE pair = ?1",
            [pair],
            |row| row.get(0),
        )
        .optional()?;
    Ok(last.is_some_and(|at| at > now - KNOWN_SIGN_IN_SECONDS))
}

/// Remembers that the pair signed in with the right password.
pub(crate) fn remember_sign_in(db: &Connection, pair: &str, now: i64) -> Result<(), ApiError> {
    db.execute(
        "INSERT INTO known_sign_ins (pair, last_signed_in) VALUES (?1, ?2)
         ON CONFLICT(pair) DO UPDATE SET last_signed_in = excluded.last_signed_in",
        params![pair, now],
    )?;
    Ok(())
}

/// The subject counting failures for an account (e-mail already normalised).
pub(crate) fn account_subject(email: &str) -> String {
    format!("account:{email}")
}

/// The subject counting failures for one account from one address (`None`: a client behind
/// a trusted proxy whose address cannot be read; those share one pair per account).
pub(crate) fn pair_subject(email: &str, address: Option<IpAddr>) -> String {
    let address = address.map_or_else(|| "unknown".to_string(), address_subject);
    format!("pair:{address}|{email}")
}

/// Seconds a try must wait after the last failure when `failures` are counted for its
/// (account, address) pair: none for the first [`PAIR_FREE_FAILURES`], then doubling from 2.
pub fn pair_delay(failures: u32) -> u64 {
    match failures.checked_sub(PAIR_FREE_FAILURES) {
        None => 0,
        Some(extra) => 2u64
            .checked_pow(extra.saturating_add(1))
            .unwrap_or(u64::MAX)
            .min(PAIR_MAX_DELAY_SECONDS),
    }
}

/// Seconds the next try on `subject` must still wait under the growing-delay rule (0: go).
pub(crate) fn backoff_wait(db: &Connection, subject: &str, now: i64) -> Result<u64, ApiError> {
    let (count, last): (u32, Option<i64>) = db.query_row(
        "SELECT COUNT(*), MAX(attempted_at) FROM login_attempts
         WHERE subject = ?1 AND attempted_at > ?2",
        params![subject, now - WINDOW_SECONDS],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some(last) = last else { return Ok(0) };
    let due = last.saturating_add(i64::try_from(pair_delay(count)).unwrap_or(i64::MAX));
    Ok(u64::try_from(due.saturating_sub(now)).unwrap_or(0))
}

/// The subject counting failures for a client address; IPv6 clients are counted per /64,
/// since one host usually holds a whole /64.
pub(crate) fn address_subject(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("addr:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("addr:{v4}"),
            None => {
                let s = v6.segments();
                format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// What the limit check decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reservation {
    /// Go ahead; these rows record the attempt as a failure until [`succeeded`] says otherwise.
    Granted(Vec<i64>),
    /// Refused: retry after this many seconds.
    Refused(u64),
}

/// Checks every `(subject, limit)` and, when none is reached, records the attempt for each.
pub(crate) fn reserve(
    db: &Connection,
    subjects: &[(String, u32)],
    now: i64,
) -> Result<Reservation, ApiError> {
    db.execute(
        "DELETE FROM login_attempts WHERE attempted_at <= ?1",
        [now - WINDOW_SECONDS],
    )?;
    let mut wait = 0u64;
    for (subject, limit) in subjects {
        // The `limit`-th most recent failure: once it leaves the window, one more try is allowed.
        let mut statement = db.prepare_cached(
            "SELECT attempted_at FROM login_attempts WHERE subject = ?1 AND attempted_at > ?2
             ORDER BY attempted_at DESC LIMIT 1 OFFSET ?3",
        )?;
        let mut rows = statement.query(params![subject, now - WINDOW_SECONDS, limit - 1])?;
        if let Some(row) = rows.next()? {
            let at: i64 = row.get(0)?;
            let seconds = u64::try_from(at + WINDOW_SECONDS - now).unwrap_or(0).max(1);
            wait = wait.max(seconds);
        }
    }
    if wait > 0 {
        return Ok(Reservation::Refused(wait));
    }
    let mut rows = Vec::with_capacity(subjects.len());
    for (subject, _) in subjects {
        db.execute(
            "INSERT INTO login_attempts (subject, attempted_at) VALUES (?1, ?2)",
            params![subject, now],
        )?;
        rows.push(db.last_insert_rowid());
    }
    Ok(Reservation::Granted(rows))
}

/// The check succeeded: forget every failure of `forget` (when given) and this attempt's rows.
pub(crate) fn succeeded(
    db: &Connection,
    forget: Option<&str>,
    rows: &[i64],
) -> Result<(), ApiError> {
    if let Some(subject) = forget {
        db.execute("DELETE FROM login_attempts WHERE subject = ?1", [subject])?;
    }
    for row in rows {
        db.execute("DELETE FROM login_attempts WHERE rowid = ?1", [row])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MIGRATIONS;

    fn connection() -> rusqlite::Connection {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        for (_, sql) in MIGRATIONS {
            connection.execute_batch(sql).unwrap();
        }
        connection
    }

    #[test]
    fn the_limit_holds_until_the_oldest_counted_failure_leaves_the_window() {
        let db = connection();
        let subjects = vec![("addr:192.0.2.1".to_string(), ADDRESS_LIMIT)];
        for i in 0..ADDRESS_LIMIT {
            let granted = reserve(&db, &subjects, 1000 + i64::from(i)).unwrap();
            assert!(matches!(granted, Reservation::Granted(_)));
        }
        // Failures at 1000..=1019; the first leaves the window at 1900.
        assert_eq!(
            reserve(&db, &subjects, 1100).unwrap(),
            Reservation::Refused(800)
        );
        assert_eq!(
            reserve(&db, &subjects, 1899).unwrap(),
            Reservation::Refused(1)
        );
        assert!(matches!(
            reserve(&db, &subjects, 1900).unwrap(),
            Reservation::Granted(_)
        ));
    }

    #[test]
    fn a_success_forgets_the_named_subject_and_its_own_rows() {
        let db = connection();
        let subjects = vec![
            ("pair:addr:127.0.0.1|a@b.c".to_string(), ADDRESS_LIMIT),
            ("addr:127.0.0.1".to_string(), ADDRESS_LIMIT),
        ];
        for _ in 0..4 {
            reserve(&db, &subjects, 1000).unwrap();
        }
        let Reservation::Granted(rows) = reserve(&db, &subjects, 1000).unwrap() else {
            panic!("granted")
        };
        succeeded(&db, Some("pair:addr:127.0.0.1|a@b.c"), &rows).unwrap();
        let count = |subject: &str| -> i64 {
            db.query_row(
                "SELECT COUNT(*) FROM login_attempts WHERE subject = ?1",
                [subject],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(count("pair:addr:127.0.0.1|a@b.c"), 0);
        assert_eq!(
            count("addr:127.0.0.1"),
            4,
            "earlier failures from the address stay"
        );
    }

    #[test]
    fn delays_grow_after_the_free_failures_and_stop_at_the_cap() {
        let delays: Vec<u64> = (0..8).map(pair_delay).collect();
        assert_eq!(delays, [0, 0, 0, 2, 4, 8, 16, 32]);
        assert_eq!(pair_delay(40), PAIR_MAX_DELAY_SECONDS);
        assert_eq!(pair_delay(u32::MAX), PAIR_MAX_DELAY_SECONDS);
    }

    #[test]
    fn the_wait_counts_from_the_last_failure_of_the_pair() {
        let db = connection();
        let pair = pair_subject("a@b.c", Some("192.0.2.1".parse().unwrap()));
        for at in [1000, 1001, 1002] {
            assert_eq!(backoff_wait(&db, &pair, at).unwrap(), 0);
            reserve(&db, &[(pair.clone(), ADDRESS_LIMIT)], at).unwrap();
        }
        assert_eq!(backoff_wait(&db, &pair, 1002).unwrap(), 2);
        assert_eq!(backoff_wait(&db, &pair, 1004).unwrap(), 0);
        let other = pair_subject("a@b.c", Some("192.0.2.2".parse().unwrap()));
        assert_eq!(backoff_wait(&db, &other, 1002).unwrap(), 0, "per address");
        assert_eq!(
            backoff_wait(&db, &pair, 1002 + WINDOW_SECONDS).unwrap(),
            0,
            "failures leave the window"
        );
    }

    #[test]
    fn ipv6_addresses_count_per_slash_64() {
        let a: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        assert_eq!(address_subject(a), address_subject(b));
        assert_eq!(address_subject(a), "addr:2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(address_subject(mapped), "addr:10.0.0.1");
    }
}
