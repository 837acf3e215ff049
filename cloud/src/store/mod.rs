//! The cloud's SQLite store: one file in the data directory, WAL, foreign keys on, deleted
//! content overwritten (`secure_delete`), and versioned migrations applied at open.
//!
//! Secrets are sealed at rest under a key-encryption key kept outside the data directory:
//!
//! - [`seal`]: AES-256-GCM sealing with associated data naming each value's place;
//! - [`key_source`]: where the key comes from (key file or environment variable);
//! - [`sealed`]: the sealed columns, the SQL functions that seal and open them, the key check;
//! - [`rotate`]: re-sealing everything under a new key.
//!
//! One connection serialises writes (SQLite does anyway); work runs on the blocking pool so
//! the async threads never wait on the disk.

pub mod key_source;
mod migrations;
pub mod rotate;
pub mod seal;
pub mod sealed;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Params, Row};

use crate::clock::CloudClock;

pub use key_source::{default_key_file, next_to, KeySource, KEY_ENV};
pub use migrations::{schema_version, MIGRATIONS};
pub use rotate::{rotate_key, Rotation};
pub use seal::SealError;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The data directory could not be used.
    #[error("data directory {path}: {source}")]
    Directory {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database was written by a newer Keyway.
    #[error("database schema {found} is newer than this build ({supported})")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Latest this build knows.
        supported: i64,
    },
    /// A schema migration failed and was rolled back.
    #[error("migration {name} failed: {source}")]
    Migration {
        /// The migration's name.
        name: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The blocking task died.
    #[error("store task failed")]
    Task,
    /// The database is sealed but its key is not there (no new key is ever made for it).
    #[error(
        "this database is sealed, but its key ({key}) is missing: restore the key it was sealed \
         with (the key file, `--key-file PATH`, or the {KEY_ENV} environment variable); a new \
         key cannot open it"
    )]
    MissingKey {
        /// Where the key was looked for.
        key: String,
    },
    /// The key does not open this database's key check value.
    #[error(
        "the {key} does not open this database: it was sealed under another key; start with \
         the key it was sealed with (`--key-file PATH` or the {KEY_ENV} environment variable)"
    )]
    WrongKey {
        /// Where the key came from.
        key: String,
    },
    /// The key file or variable does not hold a key.
    #[error("the {key} does not hold a key: it must be 32 random bytes, raw or base64")]
    BadKey {
        /// Where the key came from.
        key: String,
    },
    /// The key file may be read by group or others.
    #[error(
        "key file {key_file} may be read by others (mode {mode:o}): make it private \
         (`chmod 600`), and treat the key as leaked if others could read it"
    )]
    KeyFileNotPrivate {
        /// The key file.
        key_file: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file could not be read or written.
    #[error("key file {key_file}: {source}")]
    KeyFile {
        /// The key file.
        key_file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A sealed value did not seal or open.
    #[error("sealed data: {0}")]
    Seal(SealError),
    /// There is no database to work on.
    #[error("no Keyway cloud database in {path}")]
    NoDatabase {
        /// The data directory.
        path: String,
    },
}

impl From<keyway_migrate::MigrateError> for StoreError {
    fn from(error: keyway_migrate::MigrateError) -> Self {
        use keyway_migrate::MigrateError;
        match error {
            MigrateError::TooNew { found, supported } => Self::TooNew { found, supported },
            MigrateError::Failed { name, source, .. } => Self::Migration { name, source },
            MigrateError::Sqlite(source) => Self::Sqlite(source),
        }
    }
}

/// Every row `sql` selects with `params`, each made into a value by `map`.
pub fn rows<T>(
    db: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut statement = db.prepare(sql)?;
    let rows = statement.query_map(params, map)?.collect();
    rows
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
    live_wake: Arc<LiveWake>,
    webhooks_wake: Arc<tokio::sync::Notify>,
    clock: CloudClock,
}

/// Counted and signalled by `keyway_live_wake()`, the live-notice triggers' call: how many
/// writes left notices, and up to which of them the drain has delivered everything.
#[derive(Debug, Default)]
pub struct LiveWake {
    /// Trigger calls so far.
    written: std::sync::atomic::AtomicU64,
    /// Every write up to this count is drained: its IQ pushes and notices went out.
    drained: std::sync::atomic::AtomicU64,
    /// Wakes the drain task.
    notify: tokio::sync::Notify,
}

impl LiveWake {
    /// Whether some write's notices are not all out yet (cheap: every request's answer checks
    /// it).
    pub fn pending(&self) -> bool {
        self.drained.load(std::sync::atomic::Ordering::Acquire)
            < self.written.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Trigger calls so far (read it under the connection, before taking the outbox: every
    /// write counted is then committed or rolled back, and its rows are in what is taken).
    pub fn written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Records that everything up to `written` went out.
    pub fn mark_drained(&self, written: u64) {
        self.drained
            .fetch_max(written, std::sync::atomic::Ordering::AcqRel);
    }

    /// Waits for the next write that leaves notices.
    pub async fn notified(&self) {
        self.notify.notified().await;
    }

    fn wake(&self) {
        self.written
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.notify.notify_one();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store(..)")
    }
}

/// The database file name inside the data directory.
pub const DATABASE_FILE: &str = "keyway-cloud.sqlite3";

/// Binds the triggers' calls: `keyway_live_wake()`, which wakes `wake` (nobody when `None`: a
/// connection without a live hub, such as the key rotation's), `keyway_webhooks_wake()`, and
/// `keyway_now()`, the time on `clock`.
fn install_live_wake(
    connection: &Connection,
    wake: Option<Arc<LiveWake>>,
    webhooks: Option<Arc<tokio::sync::Notify>>,
    clock: &CloudClock,
) -> Result<(), StoreError> {
    connection.create_scalar_function(
        "keyway_live_wake",
        0,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        move |_| {
            if let Some(wake) = &wake {
                wake.wake();
            }
            Ok(0)
        },
    )?;
    // The webhook triggers' clock (migration 0016).
    let clock = clock.clone();
    connection.create_scalar_function(
        "keyway_now",
        0,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        move |_| Ok(clock.now()),
    )?;
    // The webhook triggers' call (migration 0015): wakes the delivery task.
    connection.create_scalar_function(
        "keyway_webhooks_wake",
        0,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        move |_| {
            if let Some(webhooks) = &webhooks {
                webhooks.notify_one();
            }
            Ok(0)
        },
    )?;
    Ok(())
}

/// Sets the connection up and migrates the schema.
fn prepare(mut connection: Connection) -> Result<Connection, StoreError> {
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    // Deleted and overwritten content is zeroed, not left in free pages.
    connection.pragma_update(None, "secure_delete", "ON")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // 16 MiB of page cache (SQLite's default is 2): a 40,000-person import's indexes stay
    // in memory instead of being read back from the file batch after batch.
    connection.pragma_update(None, "cache_size", -16_384)?;
    // Statement journals (the undo of one statement inside a transaction, kept for inserts
    // that may be ignored or that fire triggers: every person an import adds) stay in memory
    // instead of a temporary file: a fifth of an import's time went to writing them out.
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    // Checkpoint every 32 MiB of WAL instead of 4 (SQLite's default): a bulk job's commits
    // do not stop for an fsync'd checkpoint every few batches (an import of 40,000 people
    // took a third longer). Erased secrets do not wait for it: [`checkpoint`] empties the WAL
    // right after they are erased.
    connection.pragma_update(None, "wal_autocheckpoint", 8_192)?;
    // Room for the statements a bulk job repeats (an import's per-person inserts).
    connection.set_prepared_statement_cache_capacity(64);
    install_live_wake(&connection, None, None, &CloudClock::default())?;
    migrations::migrate(&mut connection)?;
    Ok(connection)
}

/// Copies the WAL into the database and empties it, so no older page image (an erased
/// e-mail body, a value sealed under a rotated key) survives in the `-wal` file.
pub fn checkpoint(db: &Connection) -> Result<(), StoreError> {
    let busy: i64 = db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
    if busy != 0 {
        tracing::warn!("the WAL checkpoint could not finish; it runs again later");
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, migrates it, and unlocks it
    /// with the key from `key`: a sealed database only with its own key; a database with
    /// nothing sealed yet gets its secrets sealed, under a new key file if there is none.
    pub fn open(data_dir: &Path, key: &KeySource) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Directory {
            path: data_dir.display().to_string(),
            source,
        })?;
        let mut connection = prepare(Connection::open(data_dir.join(DATABASE_FILE))?)?;
        let kek = sealed::unlock(&mut connection, key, sealed::Missing::Create)?;
        Self::with_key(connection, kek)
    }

    /// An in-memory database under a random key (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let mut connection = prepare(Connection::open_in_memory()?)?;
        let kek = seal::Kek::ephemeral().map_err(StoreError::Seal)?;
        sealed::seal_first_time(&mut connection, &kek)?;
        Self::with_key(connection, kek)
    }

    fn with_key(connection: Connection, kek: seal::Kek) -> Result<Self, StoreError> {
        sealed::install_functions(&connection, Arc::new(kek))?;
        let live_wake = Arc::new(LiveWake::default());
        let webhooks_wake = Arc::new(tokio::sync::Notify::new());
        let clock = CloudClock::default();
        install_live_wake(
            &connection,
            Some(Arc::clone(&live_wake)),
            Some(Arc::clone(&webhooks_wake)),
            &clock,
        )?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            live_wake,
            webhooks_wake,
            clock,
        })
    }

    /// The clock `keyway_now()` reads in this store's triggers: the cloud's clock (a test
    /// that moves it moves both).
    pub fn clock(&self) -> CloudClock {
        self.clock.clone()
    }

    /// Woken by every write that queued a webhook message (migration 0015's triggers); the
    /// delivery task waits on it.
    pub fn webhooks_wake(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.webhooks_wake)
    }

    /// Woken by every write that left a live notice (migration 0013's triggers call
    /// `keyway_live_wake()`); the live hub's drain task waits on it. The drain needs the
    /// connection, so it runs once the write's transaction has ended.
    pub fn live_wake(&self) -> Arc<LiveWake> {
        Arc::clone(&self.live_wake)
    }

    /// Runs `work` with the connection on the blocking pool.
    pub async fn run<T, E>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection.lock().map_err(|_| StoreError::Task)?;
            work(&mut guard)
        })
        .await
        .map_err(|_| StoreError::Task)?
    }

    /// Runs `work` in one transaction on the blocking pool: all of it or none of it.
    pub async fn transaction<T, E>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.run(move |connection| {
            let tx = connection.transaction().map_err(StoreError::from)?;
            let value = work(&tx)?;
            tx.commit().map_err(StoreError::from)?;
            Ok(value)
        })
        .await
    }
}
