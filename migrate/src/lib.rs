//! Versioned SQLite schema migrations, shared by the cloud and the phone core.
//!
//! A migration is a `(name, sql)` pair; version `n` of a database is the state after the
//! first `n` migrations, recorded in `PRAGMA user_version`. [`migrate`] applies every
//! migration the database has not seen yet, each in its own transaction together with the
//! version bump, so a failing migration leaves the database exactly as it was before it. A
//! database whose version is newer than the list is refused and left untouched: what to do
//! then (stop, or rebuild a cache) is the caller's decision.
//!
//! Never edit a released migration: add the next one.
//!
//! A migration that rebuilds a table other tables refer to (SQLite cannot change a column's
//! constraints in place: the table is copied into a new one, the old one dropped and the new
//! one renamed) starts with the line [`REBUILDS_TABLES`]. It then runs with foreign keys off,
//! as SQLite's own procedure for such changes asks (dropping the old table must not cascade
//! into its children), and `PRAGMA foreign_key_check` must find nothing before it commits;
//! foreign keys are back on afterwards, whatever happened.

#![deny(unreachable_pub)]

use rusqlite::{Connection, OptionalExtension};

/// One migration: a name for the logs and errors, and the SQL batch it runs.
pub type Migration<'a> = (&'a str, &'a str);

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The version the database had before.
    pub from: i64,
    /// The version it has now (the number of migrations).
    pub to: i64,
}

impl Outcome {
    /// Whether any migration ran.
    pub fn changed(&self) -> bool {
        self.from != self.to
    }
}

/// Why [`migrate`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The database was written by a newer build: this one knows fewer migrations. Nothing
    /// was changed.
    #[error("database schema {found} is newer than this build ({supported})")]
    TooNew {
        /// The version in the database.
        found: i64,
        /// The latest version this build knows.
        supported: i64,
    },
    /// A migration failed; it was rolled back, and the database keeps the version before it.
    #[error("migration {name} (version {version}) failed: {source}")]
    Failed {
        /// The migration's name.
        name: String,
        /// The version it would have made.
        version: i64,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The version could not be read or a transaction could not be used (a file that is not
    /// a database, a locked or read-only file, …).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The schema version recorded in the database (`PRAGMA user_version`).
pub fn schema_version(connection: &Connection) -> rusqlite::Result<i64> {
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies every migration of `migrations` newer than the database, in order, each in its
/// own transaction; refuses a database newer than `migrations` with [`MigrateError::TooNew`].
pub fn migrate(
    connection: &mut Connection,
    migrations: &[Migration<'_>],
) -> Result<Outcome, MigrateError> {
    let from = schema_version(connection)?;
    let latest = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    if from > latest {
        return Err(MigrateError::TooNew {
            found: from,
            supported: latest,
        });
    }
    let mut version = from.max(0);
    for (name, sql) in migrations
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        version += 1;
        apply(connection, sql, version).map_err(|source| MigrateError::Failed {
            name: (*name).to_owned(),
            version,
            source,
        })?;
        tracing::info!(migration = *name, version, "schema migration applied");
    }
    Ok(Outcome { from, to: version })
}

/// The first line of a migration that rebuilds tables others refer to: it runs with foreign
/// keys off and is checked before it commits.
pub const REBUILDS_TABLES: &str = "-- keyway-migrate: rebuilds tables";

/// Runs one migration and records its version, all or nothing.
fn apply(connection: &mut Connection, sql: &str, version: i64) -> rusqlite::Result<()> {
    if !sql.starts_with(REBUILDS_TABLES) {
        return apply_in_transaction(connection, sql, version);
    }
    // The pragma is a no-op inside a transaction: it is set around it.
    let enforced: bool = connection.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
    connection.pragma_update(None, "foreign_keys", false)?;
    let outcome = apply_in_transaction(connection, sql, version);
    let restored = connection.pragma_update(None, "foreign_keys", enforced);
    outcome.and(restored)
}

fn apply_in_transaction(
    connection: &mut Connection,
    sql: &str,
    version: i64,
) -> rusqlite::Result<()> {
    let tx = connection.transaction()?;
    tx.execute_batch(sql)?;
    let dangling: Option<String> = tx
        .query_row(
            "SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(table) = dangling {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!("a row of {table} refers to a row that is gone")),
        ));
    }
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()
}

#[cfg(test)]
mod tests;
