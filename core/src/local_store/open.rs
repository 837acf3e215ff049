//! Opening one database file and checking it can be used as this build's store: a SQLite
//! file, intact, at a schema version this build knows, with the tables and columns the
//! store's queries name. What fails is sorted into damage (heal by rebuilding) and trouble
//! that is not the file's fault (busy, locked, disk full, no permission: report, touch
//! nothing).

use std::path::Path;
use std::time::Duration;

use keyway_migrate::MigrateError;
use rusqlite::{Connection, ErrorCode};

/// The store's schema migrations: version `n` is `MIGRATIONS[n - 1]`.
pub(super) const MIGRATIONS: &[keyway_migrate::Migration<'static>] =
    &[("0001_wallet", include_str!("0001_wallet.sql"))];

/// One statement per table naming every column the store reads or writes: preparing them
/// proves the schema is the one this build expects.
const SCHEMA_PROBES: &[&str] = &[
    "SELECT key, value FROM meta LIMIT 0",
    "SELECT credential_id, site_id, site_name, locks_json, not_before, not_after, credential \
     FROM keys LIMIT 0",
    "SELECT site_id, bytes FROM mailbox LIMIT 0",
    "SELECT lock_id, seq, record, queued_at FROM outbox LIMIT 0",
];

/// Why a file cannot be this build's store as it is.
#[derive(Debug, thiserror::Error)]
pub(super) enum Damage {
    /// Not a SQLite database at all (garbage, a wrong or wiped header).
    #[error("not a database ({0})")]
    NotADatabase(rusqlite::Error),
    /// SQLite's integrity check found problems.
    #[error("integrity check failed ({problems} problem(s))")]
    Integrity {
        /// How many problems it listed.
        problems: usize,
    },
    /// SQLite could not read the file's pages.
    #[error("corrupt ({0})")]
    Corrupt(rusqlite::Error),
    /// Written by a newer build.
    #[error("schema {found} is newer than this build ({supported})")]
    TooNew {
        /// The version in the file.
        found: i64,
        /// The latest this build knows.
        supported: i64,
    },
    /// A migration did not apply (and was rolled back).
    #[error("migration {name} failed ({source})")]
    Migration {
        /// The migration.
        name: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The version says current, but tables or columns are missing.
    #[error("unexpected schema ({0})")]
    Schema(rusqlite::Error),
}

/// Why opening failed.
#[derive(Debug)]
pub(super) enum Problem {
    /// The file is damaged: rebuild it.
    Damaged(Damage),
    /// Not the file's fault: leave it alone and report.
    Trouble(rusqlite::Error),
}

/// Whether an error says something about the environment rather than the file's content.
fn is_trouble(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::DiskFull
                | ErrorCode::ReadOnly
                | ErrorCode::PermissionDenied
                | ErrorCode::OutOfMemory
                | ErrorCode::SystemIoFailure
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::NoLargeFileSupport
                | ErrorCode::OperationInterrupted
        )
    )
}

/// Sorts an error met while reading the file: trouble, or the damage `as_damage` names.
fn sort(error: rusqlite::Error, as_damage: impl FnOnce(rusqlite::Error) -> Damage) -> Problem {
    if is_trouble(&error) {
        Problem::Trouble(error)
    } else if error.sqlite_error_code() == Some(ErrorCode::DatabaseCorrupt) {
        Problem::Damaged(Damage::Corrupt(error))
    } else {
        Problem::Damaged(as_damage(error))
    }
}

/// Opens `path` (creating it if absent), sets it up (WAL, busy timeout), checks it and
/// migrates it to this build's schema.
pub(super) fn open_checked(path: &Path) -> Result<Connection, Problem> {
    let mut connection = Connection::open(path).map_err(Problem::Trouble)?;
    connection
        .busy_timeout(Duration::from_secs(5))
        .map_err(Problem::Trouble)?;
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| sort(e, Damage::NotADatabase))?;
    check_integrity(&connection)?;
    keyway_migrate::migrate(&mut connection, MIGRATIONS).map_err(|error| match error {
        MigrateError::TooNew { found, supported } => {
            Problem::Damaged(Damage::TooNew { found, supported })
        }
        MigrateError::Failed { name, source, .. } => {
            sort(source, |source| Damage::Migration { name, source })
        }
        MigrateError::Sqlite(source) => sort(source, Damage::NotADatabase),
    })?;
    for probe in SCHEMA_PROBES {
        connection
            .prepare(probe)
            .map_err(|e| sort(e, Damage::Schema))?;
    }
    Ok(connection)
}

/// `PRAGMA integrity_check`: one row `ok`, or one row per problem.
fn check_integrity(connection: &Connection) -> Result<(), Problem> {
    let report = (|| {
        let mut statement = connection.prepare("PRAGMA integrity_check")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<Vec<String>>>()
    })()
    .map_err(|e| sort(e, Damage::Corrupt))?;
    if report.len() == 1 && report.first().is_some_and(|line| line == "ok") {
        Ok(())
    } else {
        Err(Problem::Damaged(Damage::Integrity {
            problems: report.len(),
        }))
    }
}
