//! Login throttling: failed sign-ins are counted per account and per client address in
//! `login_attempts`, over a sliding window.
//!
//! An attempt is recorded as a failure *before* the password is checked (in the same
//! transaction as the limit check), so parallel guesses cannot slip past the limit; a success
//! then forgets the account's failures and its own address row.

use std::net::IpAddr;

use rusqlite::{params, Connection};

use crate::error::ApiError;

/// The window failures are counted over, in seconds.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Failures for one account within the window before its sign-ins are refused.
pub const ACCOUNT_LIMIT: u32 = 5;
/// Failures from one address (an IPv6 /64) within the window before its sign-ins are refused.
pub const ADDRESS_LIMIT: u32 = 20;

/// The subject counting failures for an account (e-mail already normalised).
pub(crate) fn account_subject(email: &str) -> String {
    format!("account:{email}")
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

/// The sign-in succeeded: forget the account's failures and this attempt's other rows.
pub(crate) fn succeeded(
    db: &Connection,
    account_subject: Option<&str>,
    rows: &[i64],
) -> Result<(), ApiError> {
    if let Some(subject) = account_subject {
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
        let subjects = vec![("account:a@b.c".to_string(), ACCOUNT_LIMIT)];
        for i in 0..ACCOUNT_LIMIT {
            let granted = reserve(&db, &subjects, 1000 + i64::from(i) * 10).unwrap();
            assert!(matches!(granted, Reservation::Granted(_)));
        }
        // Failures at 1000..=1040; the first leaves the window at 1900.
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
    fn a_success_forgets_the_account_failures() {
        let db = connection();
        let subjects = vec![
            ("account:a@b.c".to_string(), ACCOUNT_LIMIT),
            ("addr:127.0.0.1".to_string(), ADDRESS_LIMIT),
        ];
        for _ in 0..4 {
            reserve(&db, &subjects, 1000).unwrap();
        }
        let Reservation::Granted(rows) = reserve(&db, &subjects, 1000).unwrap() else {
            panic!("granted")
        };
        succeeded(&db, Some("account:a@b.c"), &rows).unwrap();
        let count = |subject: &str| -> i64 {
            db.query_row(
                "SELECT COUNT(*) FROM login_attempts WHERE subject = ?1",
                [subject],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(count("account:a@b.c"), 0);
        assert_eq!(
            count("addr:127.0.0.1"),
            4,
            "earlier failures from the address stay"
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
