//! Opening the store so that a damaged file never bricks the app.
//!
//! The store is mostly a cache. When the file is not a database, fails SQLite's integrity
//! check, was written by a newer build, does not migrate, or lacks the tables this build
//! uses, the store is rebuilt: the outbox (and the device's registration in `meta`) is read
//! out of the old file as far as it can be read, a fresh store is built next to it as
//! `<file>.rebuild` with those rows, the damaged file is moved aside
//! ([`aside::move_aside`]), and the fresh one takes its place. A crash at any step leaves
//! either the damaged file (the next open heals again) or the rebuilt one (the next open
//! finds it). The wallet and mailbox come back empty; the next sync refills them.
//!
//! Trouble that is not the file's fault (busy, locked, disk full, no permission) is reported
//! as an error and nothing is moved.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};

use super::aside;
use super::open::{open_checked, Damage, Problem};
use super::salvage::{self, Salvage};
use crate::KeywayError;

/// What a rebuild kept, for the log and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rebuilt {
    /// Outbox events carried into the new store.
    pub kept_events: usize,
    /// `meta` entries carried into the new store.
    pub kept_meta: usize,
    /// The file name the damaged store now has.
    pub moved_to: String,
}

fn trouble(error: rusqlite::Error) -> KeywayError {
    KeywayError::internal(format!("local store: {error}"))
}

fn io_trouble(what: &str, error: std::io::Error) -> KeywayError {
    KeywayError::internal(format!("local store: {what}: {error}"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Opens the store at `path`, rebuilding it if it is damaged.
pub(super) fn open_or_rebuild(path: &Path) -> Result<(Connection, Option<Rebuilt>), KeywayError> {
    let staged = aside::with_suffix(path, ".rebuild");
    if !path.exists() && staged.exists() {
        // A rebuild got as far as moving the damaged file aside: finish it.
        std::fs::rename(&staged, path).map_err(|e| io_trouble("finishing a rebuild", e))?;
    }
    let damage = match open_checked(path) {
        Ok(connection) => return Ok((connection, None)),
        Err(Problem::Trouble(error)) => return Err(trouble(error)),
        Err(Problem::Damaged(damage)) => damage,
    };
    let rebuilt = rebuild(path, &staged, &damage)?;
    tracing::warn!(
        damage = %damage,
        kept_events = rebuilt.kept_events,
        kept_meta = rebuilt.kept_meta,
        moved_to = %rebuilt.moved_to,
        "the local store was damaged and has been rebuilt: wallet and mailbox emptied \
         (the next sync refills them), readable outbox events kept"
    );
    match open_checked(path) {
        Ok(connection) => Ok((connection, Some(rebuilt))),
        Err(Problem::Trouble(error)) => Err(trouble(error)),
        Err(Problem::Damaged(damage)) => Err(KeywayError::internal(format!(
            "local store: the rebuilt store does not open: {damage}"
        ))),
    }
}

/// Salvages, builds the fresh store at `staged`, moves the damaged one aside, puts the
/// fresh one in its place.
fn rebuild(path: &Path, staged: &Path, damage: &Damage) -> Result<Rebuilt, KeywayError> {
    let salvage = match damage {
        // Nothing in a file that is not a database can be read.
        Damage::NotADatabase(_) => Salvage::default(),
        _ => salvage::read(path),
    };
    aside::remove_database(staged).map_err(|e| io_trouble("clearing an old rebuild", e))?;
    let mut fresh = match open_checked(staged) {
        Ok(connection) => connection,
        Err(Problem::Trouble(error)) => return Err(trouble(error)),
        Err(Problem::Damaged(damage)) => {
            return Err(KeywayError::internal(format!(
                "local store: a new store does not open: {damage}"
            )))
        }
    };
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    let (kept_events, kept_meta) = restore(&mut fresh, &salvage, now).map_err(trouble)?;
    // Closing checkpoints the WAL: the staged store is then one self-contained file.
    fresh.close().map_err(|(_, error)| trouble(error))?;
    let moved_to = aside::move_aside(path, unix_now())
        .map_err(|e| io_trouble("moving the damaged store aside", e))?;
    std::fs::rename(staged, path)
        .map_err(|e| io_trouble("putting the rebuilt store in place", e))?;
    Ok(Rebuilt {
        kept_events,
        kept_meta,
        moved_to,
    })
}

/// Writes the salvaged rows into a fresh store, in one transaction; returns how many outbox
/// and `meta` rows it wrote.
fn restore(
    connection: &mut Connection,
    salvage: &Salvage,
    now: i64,
) -> rusqlite::Result<(usize, usize)> {
    let tx = connection.transaction()?;
    let (mut events, mut meta) = (0, 0);
    for event in &salvage.events {
        events += tx.execute(
            "INSERT OR IGNORE INTO outbox (lock_id, seq, record, queued_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                event.lock_id,
                i64::try_from(event.seq).unwrap_or(i64::MAX),
                event.record,
                event.queued_at.unwrap_or(now)
            ],
        )?;
    }
    for (key, value) in &salvage.meta {
        meta += tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
    }
    tx.commit()?;
    Ok((events, meta))
}
