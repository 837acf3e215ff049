//! The phone's local SQLite store: the wallet, the mailbox to carry, and the event outbox.
//! WAL, versioned migrations (the shared `keyway-migrate` runner), and all access on the
//! blocking pool.
//!
//! - [`open`]: opening one file and sorting what is wrong with it into damage or trouble;
//! - [`heal`]: rebuilding a damaged store, keeping the outbox;
//! - [`salvage`]: reading the outbox out of a damaged file;
//! - [`aside`]: moving the damaged file out of the way.

mod aside;
mod heal;
mod open;
mod salvage;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use crate::runtime::blocking;
use crate::KeywayError;

/// The database file inside the app's data directory.
pub(crate) const LOCAL_DATABASE_FILE: &str = "keyway-core.sqlite3";

/// A key as kept in the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredKey {
    /// Credential id.
    pub credential_id: u64,
    /// Site.
    pub site_id: u32,
    /// Site name.
    pub site_name: String,
    /// `(lock id, name)` pairs.
    pub locks: Vec<(u32, String)>,
    /// Valid from.
    pub not_before: i64,
    /// Valid until.
    pub not_after: i64,
    /// The signed credential.
    pub credential: Vec<u8>,
}

/// The store handle; cheap to clone.
#[derive(Clone)]
pub(crate) struct LocalStore {
    data_dir: PathBuf,
    /// Opened on first use (see [`LocalStore::deferred`]).
    connection: Arc<Mutex<Option<Connection>>>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalStore(..)")
    }
}

/// Creates `data_dir` if needed and opens its store, healing a damaged one.
fn open_now(data_dir: &Path) -> Result<Connection, KeywayError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| KeywayError::invalid(format!("data directory {}: {e}", data_dir.display())))?;
    let (connection, _rebuilt) = heal::open_or_rebuild(&data_dir.join(LOCAL_DATABASE_FILE))?;
    Ok(connection)
}

fn db_error(error: rusqlite::Error) -> KeywayError {
    KeywayError::internal(format!("local store: {error}"))
}

impl LocalStore {
    /// Opens (creating and migrating) the store in `data_dir`. A damaged store, or one
    /// from a newer build, is rebuilt with its readable outbox events (see [`heal`]) and
    /// the call succeeds; only trouble that is not the file's fault is an error.
    #[cfg(test)]
    pub(crate) fn open(data_dir: &Path) -> Result<Self, KeywayError> {
        let store = Self::deferred(data_dir);
        let connection = open_now(&store.data_dir)?;
        if let Ok(mut guard) = store.connection.lock() {
            *guard = Some(connection);
        }
        Ok(store)
    }

    /// The store in `data_dir`, opened (as [`LocalStore::open`] does) on the blocking pool by
    /// the first call that needs it: constructing it does no I/O on the caller's thread.
    pub(crate) fn deferred(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            connection: Arc::new(Mutex::new(None)),
        }
    }

    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, KeywayError> {
        let connection = Arc::clone(&self.connection);
        let data_dir = self.data_dir.clone();
        blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| KeywayError::internal("local store poisoned"))?;
            if guard.is_none() {
                *guard = Some(open_now(&data_dir)?);
            }
            let connection = guard
                .as_mut()
                .ok_or_else(|| KeywayError::internal("local store not open"))?;
            work(connection).map_err(db_error)
        })
        .await
    }

    /// A value from the meta table.
    pub(crate) async fn meta(&self, key: &'static str) -> Result<Option<String>, KeywayError> {
        self.with(move |db| {
            db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
        .await
    }

    /// Sets (or clears) a value in the meta table.
    pub(crate) async fn set_meta(
        &self,
        key: &'static str,
        value: Option<String>,
    ) -> Result<(), KeywayError> {
        self.with(move |db| match value {
            Some(value) => db
                .execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", params![key, value])
                .map(drop),
            None => db.execute("DELETE FROM meta WHERE key = ?1", [key]).map(drop),
        })
        .await
    }

    /// Replaces the wallet and the mailbox with a sync's result, in one transaction.
    pub(crate) async fn replace_wallet(
        &self,
        keys: Vec<StoredKey>,
        mailbox: Vec<(u32, Vec<u8>)>,
    ) -> Result<(), KeywayError> {
        self.with(move |db| {
            let tx = db.transaction()?;
            tx.execute("DELETE FROM keys", [])?;
            tx.execute("DELETE FROM mailbox", [])?;
            for key in &keys {
                let locks = serde_json::to_string(&key.locks).unwrap_or_else(|_| "[]".into());
                tx.execute(
                    "INSERT INTO keys (credential_id, site_id, site_name, locks_json, not_before, not_after, credential)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![crate::convert::to_sql(key.credential_id)?, key.site_id, key.site_name, locks, key.not_before, key.not_after, key.credential],
                )?;
            }
            for (site_id, bytes) in &mailbox {
                tx.execute("INSERT OR IGNORE INTO mailbox (site_id, bytes) VALUES (?1, ?2)", params![site_id, bytes])?;
            }
            tx.commit()
        })
        .await
    }

    /// Every key in the wallet, soonest expiry last.
    pub(crate) async fn keys(&self) -> Result<Vec<StoredKey>, KeywayError> {
        self.with(|db| {
            let mut statement = db.prepare(
                "SELECT credential_id, site_id, site_name, locks_json, not_before, not_after, credential
                 FROM keys ORDER BY site_name, credential_id",
            )?;
            let rows = statement.query_map([], |row| {
                let locks: String = row.get(3)?;
                Ok(StoredKey {
                    credential_id: crate::convert::from_sql(row.get(0)?)?,
                    site_id: row.get(1)?,
                    site_name: row.get(2)?,
                    locks: serde_json::from_str(&locks).unwrap_or_default(),
                    not_before: row.get(4)?,
                    not_after: row.get(5)?,
                    credential: row.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Mailbox updates to carry to locks of `site_id`.
    pub(crate) async fn mailbox(&self, site_id: u32) -> Result<Vec<Vec<u8>>, KeywayError> {
        self.with(move |db| {
            let mut statement = db.prepare("SELECT bytes FROM mailbox WHERE site_id = ?1")?;
            let rows = statement.query_map([site_id], |row| row.get(0))?;
            rows.collect()
        })
        .await
    }

    /// Queues a lock event record for upload (once per lock and sequence number).
    pub(crate) async fn queue_event(
        &self,
        lock_id: u32,
        seq: u64,
        record: Vec<u8>,
        now: i64,
    ) -> Result<(), KeywayError> {
        self.with(move |db| {
            db.execute(
                "INSERT OR IGNORE INTO outbox (lock_id, seq, record, queued_at) VALUES (?1, ?2, ?3, ?4)",
                params![lock_id, crate::convert::to_sql(seq)?, record, now],
            )
            .map(drop)
        })
        .await
    }

    /// Up to `limit` queued records after the first `skip`, oldest first, with their keys.
    pub(crate) async fn pending_events(
        &self,
        skip: u32,
        limit: u32,
    ) -> Result<Vec<(u32, u64, Vec<u8>)>, KeywayError> {
        self.with(move |db| {
            let mut statement = db.prepare(
                "SELECT lock_id, seq, record FROM outbox ORDER BY queued_at, lock_id, seq
                 LIMIT ?1 OFFSET ?2",
            )?;
            let rows = statement.query_map([limit, skip], |row| {
                Ok((
                    row.get(0)?,
                    crate::convert::from_sql(row.get(1)?)?,
                    row.get(2)?,
                ))
            })?;
            rows.collect()
        })
        .await
    }

    /// How many records wait for upload (counted by SQLite: no record is loaded).
    pub(crate) async fn pending_count(&self) -> Result<u32, KeywayError> {
        self.with(|db| {
            db.query_row("SELECT COUNT(*) FROM outbox", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|count| u32::try_from(count).unwrap_or(u32::MAX))
        })
        .await
    }

    /// Removes records the cloud acknowledged.
    pub(crate) async fn remove_events(
        &self,
        acknowledged: Vec<(u32, u64)>,
    ) -> Result<(), KeywayError> {
        self.with(move |db| {
            let tx = db.transaction()?;
            for (lock_id, seq) in &acknowledged {
                tx.execute(
                    "DELETE FROM outbox WHERE lock_id = ?1 AND seq = ?2",
                    params![lock_id, crate::convert::to_sql(*seq)?],
                )?;
            }
            tx.commit()
        })
        .await
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod heal_tests;
