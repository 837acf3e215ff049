//! Reading what is worth keeping out of a damaged store: the event outbox (signed lock
//! events not uploaded yet: losing them loses audit records) and the small `meta` table (the
//! device's registration). Everything else is a cache the next sync refills.
//!
//! Reading never fails: a table that cannot be read gives nothing, a row that does not
//! convert is skipped, and a read cut short by a damaged page keeps the rows before it. The
//! columns are looked up by name, so a file from a newer build gives its events too as long
//! as the columns this build needs are there.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OutboxRow {
    /// The lock.
    pub lock_id: u32,
    /// The event's sequence number at that lock.
    pub seq: u64,
    /// The signed record.
    pub record: Vec<u8>,
    /// When it was queued (Unix seconds), if the file says.
    pub queued_at: Option<i64>,
}

/// What could be read from a damaged file.
#[derive(Debug, Default)]
pub(super) struct Salvage {
    /// The outbox rows that could be read.
    pub events: Vec<OutboxRow>,
    /// The `meta` rows that could be read.
    pub meta: Vec<(String, String)>,
}

/// Reads what can be read from the store file at `path`.
pub(super) fn read(path: &Path) -> Salvage {
    let Ok(connection) = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return Salvage::default();
    };
    // With `writable_schema` SQLite reads a file shorter than its header says (a truncated
    // store) up to where it ends, instead of refusing it as malformed. Nothing is written.
    if connection
        .pragma_update(None, "writable_schema", "ON")
        .is_err()
    {
        return Salvage::default();
    }
    Salvage {
        events: outbox(&connection),
        meta: meta(&connection),
    }
}

/// The column names of `table`, empty if it cannot be read.
fn columns(connection: &Connection, table: &str) -> HashSet<String> {
    let names = (|| {
        let mut statement = connection.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let rows = statement.query_map([table], |row| row.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<HashSet<String>>>()
    })();
    names.unwrap_or_default()
}

fn outbox(connection: &Connection) -> Vec<OutboxRow> {
    let present = columns(connection, "outbox");
    if !["lock_id", "seq", "record"]
        .iter()
        .all(|c| present.contains(*c))
    {
        return Vec::new();
    }
    let sql = if present.contains("queued_at") {
        "SELECT lock_id, seq, record, queued_at FROM outbox"
    } else {
        "SELECT lock_id, seq, record, NULL FROM outbox"
    };
    read_rows(connection, sql, |row| {
        Ok(OutboxRow {
            lock_id: row.get(0)?,
            seq: u64::try_from(row.get::<_, i64>(1)?).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Integer,
                    Box::new(e),
                )
            })?,
            record: row.get(2)?,
            queued_at: row.get(3)?,
        })
    })
}

fn meta(connection: &Connection) -> Vec<(String, String)> {
    let present = columns(connection, "meta");
    if !["key", "value"].iter().all(|c| present.contains(*c)) {
        return Vec::new();
    }
    read_rows(connection, "SELECT key, value FROM meta", |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
}

/// Every row of `sql` that converts, until the end or the first page that cannot be read.
fn read_rows<T>(
    connection: &Connection,
    sql: &str,
    convert: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut kept = Vec::new();
    let Ok(mut statement) = connection.prepare(sql) else {
        return kept;
    };
    let Ok(mut rows) = statement.query([]) else {
        return kept;
    };
    // A step error is a page SQLite cannot read: what comes after it is out of reach.
    while let Ok(Some(row)) = rows.next() {
        if let Ok(value) = convert(row) {
            kept.push(value);
        }
    }
    kept
}
