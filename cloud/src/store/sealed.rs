//! The sealed columns and the store's side of sealing.
//!
//! - [`SEALED_COLUMNS`]: the one list of what is sealed; it drives both the upgrade of a
//!   database whose secrets are still plaintext and key rotation, so neither can miss a column;
//! - the SQL functions `keyway_seal(column, value, row key…)`,
//!   `keyway_open(column, sealed, row key…)` (an error when it does not open) and
//!   `keyway_try_open` (`NULL` then), bound to the store's connection and its key, so queries
//!   read and write sealed columns without handling the key;
//! - the key check value in `store_seal`: a sealed database opens only with its key.

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension};

use super::key_source::KeySource;
use super::seal::{aad, Kek, SealError};
use super::StoreError;

/// A column that holds a sealed value, and the columns naming its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    /// The table.
    pub table: &'static str,
    /// The sealed column.
    pub column: &'static str,
    /// The columns whose values name the row (in the associated data, in this order).
    pub row_key: &'static [&'static str],
}

impl SealedColumn {
    /// `table.column`, as the SQL functions and the associated data name it.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

/// Every sealed column. A new secret column goes here, and the SQL functions refuse any
/// column not listed.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "sites",
        column: "authority_pkcs8",
        row_key: &["id"],
    },
    SealedColumn {
        table: "site_keypad",
        column: "key",
        row_key: &["site_id"],
    },
    SealedColumn {
        table: "iq_code_secrets",
        column: "secret",
        row_key: &["user_id", "iq_id"],
    },
    SealedColumn {
        table: "email_outbox",
        column: "sealed_body",
        // The recipient too: a body does not open for another address.
        row_key: &["id", "recipient"],
    },
    SealedColumn {
        table: "email_outbox",
        column: "sealed_attachment",
        row_key: &["id", "recipient"],
    },
    SealedColumn {
        table: "webhook_endpoints",
        column: "secret",
        row_key: &["id", "site_id"],
    },
];

/// What the key check value holds and where.
const CHECK_PLAINTEXT: &[u8] = b"keyway-cloud sealed store";
const CHECK_COLUMN: &str = "store_seal.check_value";

fn check_aad() -> Vec<u8> {
    aad(CHECK_COLUMN, &["1".into()])
}

/// A row key value as the associated data spells it.
fn row_part(value: ValueRef<'_>) -> Result<String, SealError> {
    match value {
        ValueRef::Integer(number) => Ok(number.to_string()),
        ValueRef::Text(text) => String::from_utf8(text.to_vec()).map_err(|_| SealError::Malformed),
        _ => Err(SealError::Malformed),
    }
}

/// The associated data for the function call `name(column, value, row key…)`.
fn call_aad(context: &Context<'_>) -> rusqlite::Result<Vec<u8>> {
    let column: String = context.get(0)?;
    if !SEALED_COLUMNS.iter().any(|sealed| sealed.name() == column) {
        return Err(user_error(SealError::Malformed));
    }
    let row = (2..context.len())
        .map(|index| row_part(context.get_raw(index)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(user_error)?;
    if row.is_empty() {
        return Err(user_error(SealError::Malformed));
    }
    Ok(aad(&column, &row))
}

fn user_error(error: SealError) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(Box::new(error))
}

/// The bytes of the value given to a function (`NULL`, which stays `NULL`, is `None`).
fn value_bytes(context: &Context<'_>) -> rusqlite::Result<Option<Vec<u8>>> {
    match context.get_raw(1) {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Ok(Some(bytes.to_vec())),
        _ => Err(user_error(SealError::Malformed)),
    }
}

/// Binds `keyway_seal`, `keyway_open` and `keyway_try_open` to `connection`, under `kek`.
pub(super) fn install_functions(connection: &Connection, kek: Arc<Kek>) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY;
    let sealer = Arc::clone(&kek);
    connection.create_scalar_function("keyway_seal", -1, flags, move |context| {
        let Some(plain) = value_bytes(context)? else {
            return Ok(None);
        };
        let aad = call_aad(context)?;
        sealer.seal(&aad, &plain).map(Some).map_err(user_error)
    })?;
    let opener = Arc::clone(&kek);
    connection.create_scalar_function("keyway_open", -1, flags, move |context| {
        let Some(sealed) = value_bytes(context)? else {
            return Ok(None);
        };
        let aad = call_aad(context)?;
        opener.open(&aad, &sealed).map(Some).map_err(user_error)
    })?;
    // As `keyway_open`, but `NULL` for a value that does not open, where that is an outcome
    // to handle (an e-mail that can no longer be sent) rather than a failure.
    connection.create_scalar_function("keyway_try_open", -1, flags, move |context| {
        let Some(sealed) = value_bytes(context)? else {
            return Ok(None);
        };
        let aad = call_aad(context)?;
        Ok(kek.open(&aad, &sealed).ok())
    })
}

/// Re-seals every value of every sealed column under `to`: values sealed under `from`, or
/// plaintext when `from` is `None` (the upgrade of a database sealed for the first time).
/// Returns how many values were sealed. Run it inside a transaction.
pub(super) fn reseal(db: &Connection, from: Option<&Kek>, to: &Kek) -> Result<usize, StoreError> {
    let mut count = 0;
    for sealed in SEALED_COLUMNS {
        let (table, column, keys) = (sealed.table, sealed.column, sealed.row_key);
        let select = format!(
            "SELECT {column}, {} FROM {table} WHERE {column} IS NOT NULL",
            keys.join(", ")
        );
        let matching: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(index, key)| format!("{key} = ?{}", index + 2))
            .collect();
        let update = format!(
            "UPDATE {table} SET {column} = ?1 WHERE {}",
            matching.join(" AND ")
        );
        let values = super::rows(db, &select, [], |row| {
            let value = match row.get_ref(0)? {
                ValueRef::Blob(bytes) | ValueRef::Text(bytes) => bytes.to_vec(),
                other => {
                    return Err(rusqlite::Error::InvalidColumnType(
                        0,
                        column.into(),
                        other.data_type(),
                    ))
                }
            };
            let row_key = (1..=keys.len())
                .map(|index| row.get::<_, Value>(index))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((value, row_key))
        })?;
        let mut statement = db.prepare(&update)?;
        for (value, row_key) in values {
            let parts = row_key
                .iter()
                .map(|part| row_part(ValueRef::from(part)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::Seal)?;
            let aad = aad(&sealed.name(), &parts);
            let plain = match from {
                Some(kek) => kek.open(&aad, &value).map_err(StoreError::Seal)?,
                None => value,
            };
            let resealed = to.seal(&aad, &plain).map_err(StoreError::Seal)?;
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&resealed];
            params.extend(row_key.iter().map(|part| part as &dyn rusqlite::ToSql));
            statement.execute(params.as_slice())?;
            count += 1;
        }
    }
    Ok(count)
}

/// The key check value, if the database is sealed.
fn read_check(db: &Connection) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(db
        .query_row(
            "SELECT check_value FROM store_seal WHERE id = 1",
            [],
            |row| row.get(0),
        )
        .optional()?)
}

/// Records that the database is sealed under `kek`.
pub(super) fn write_check(db: &Connection, kek: &Kek) -> Result<(), StoreError> {
    let check = kek
        .seal(&check_aad(), CHECK_PLAINTEXT)
        .map_err(StoreError::Seal)?;
    db.execute(
        "INSERT INTO store_seal (id, check_value) VALUES (1, ?1)
         ON CONFLICT(id) DO UPDATE SET check_value = ?1",
        [check],
    )?;
    Ok(())
}

/// Whether `kek` is the key the database is sealed under.
fn opens_check(kek: &Kek, check: &[u8]) -> bool {
    kek.open(&check_aad(), check)
        .is_ok_and(|plain| plain == CHECK_PLAINTEXT)
}

/// What [`unlock`] may do when the key is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Missing {
    /// Make a new key, if the database has nothing sealed yet.
    Create,
    /// Refuse.
    Refuse,
}

/// The key of a freshly migrated database: a sealed one must open with `source`'s key (it
/// never gets a new one); one sealed for the first time gets its secrets sealed and its check
/// value in one transaction, under `source`'s key (made if missing and `missing` allows).
pub(super) fn unlock(
    connection: &mut Connection,
    source: &KeySource,
    missing: Missing,
) -> Result<Kek, StoreError> {
    let key = || StoreError::MissingKey {
        key: source.to_string(),
    };
    if let Some(check) = read_check(connection)? {
        let kek = source.load()?.ok_or_else(key)?;
        if !opens_check(&kek, &check) {
            return Err(StoreError::WrongKey {
                key: source.to_string(),
            });
        }
        return Ok(kek);
    }
    let kek = match missing {
        Missing::Create => source.load_or_create()?,
        Missing::Refuse => source.load()?.ok_or_else(key)?,
    };
    seal_first_time(connection, &kek)?;
    Ok(kek)
}

/// Seals the plaintext secrets of a database that has no check value yet, and writes it.
pub(super) fn seal_first_time(connection: &mut Connection, kek: &Kek) -> Result<(), StoreError> {
    let tx = connection.transaction()?;
    let sealed = reseal(&tx, None, kek)?;
    write_check(&tx, kek)?;
    tx.commit()?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed the secrets kept in plaintext");
    }
    // Content freed before `secure_delete` was on may linger in free pages: rebuild the file
    // once so no plaintext of the unsealed past survives in it.
    connection.execute_batch("VACUUM")?;
    super::checkpoint(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    async fn query(store: &Store, sql: &'static str) -> rusqlite::Result<Option<Vec<u8>>> {
        store
            .run(move |db| Ok::<_, StoreError>(db.query_row(sql, [], |row| row.get(0))))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_sealed_column_exists_in_the_schema() {
        let store = Store::open_in_memory().unwrap();
        for sealed in SEALED_COLUMNS {
            let sql = format!(
                "SELECT {}, {} FROM {} LIMIT 0",
                sealed.column,
                sealed.row_key.join(", "),
                sealed.table
            );
            store
                .run(move |db| Ok::<_, StoreError>(db.prepare(&sql).map(|_| ())?))
                .await
                .unwrap_or_else(|error| panic!("{}: {error}", sealed.name()));
        }
    }

    #[tokio::test]
    async fn the_sql_functions_seal_only_listed_columns_and_need_a_row() {
        let store = Store::open_in_memory().unwrap();
        let sealed = query(&store, "SELECT keyway_seal('site_keypad.key', x'0102', 1)")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sealed.len(), 2 + super::super::seal::OVERHEAD);
        for refused in [
            "SELECT keyway_seal('users.email', 'a@b.c', 1)",
            "SELECT keyway_seal('site_keypad.key', x'0102')",
            "SELECT keyway_seal('site_keypad.key', x'0102', x'01')",
            "SELECT keyway_open('site_keypad.key', x'0102', 1)",
        ] {
            assert!(
                matches!(
                    query(&store, refused).await,
                    Err(rusqlite::Error::SqliteFailure(..))
                ),
                "{refused}"
            );
        }
        assert_eq!(
            query(&store, "SELECT keyway_open('site_keypad.key', NULL, 1)")
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn a_value_opens_at_its_row_only() {
        let store = Store::open_in_memory().unwrap();
        let (home, moved) = store
            .run(|db| {
                let sealed: Vec<u8> = db.query_row(
                    "SELECT keyway_seal('iq_code_secrets.secret', x'00ff', 3, 12)",
                    [],
                    |row| row.get(0),
                )?;
                let open = |user: u32, iq: u32| {
                    db.query_row(
                        "SELECT keyway_open('iq_code_secrets.secret', ?1, ?2, ?3)",
                        rusqlite::params![sealed, user, iq],
                        |row| row.get::<_, Vec<u8>>(0),
                    )
                };
                let moved: Option<Vec<u8>> = db.query_row(
                    "SELECT keyway_try_open('iq_code_secrets.secret', ?1, 31, 2)",
                    [&sealed],
                    |row| row.get(0),
                )?;
                Ok::<_, StoreError>((open(3, 12)?, open(31, 2).is_err() && moved.is_none()))
            })
            .await
            .unwrap();
        assert_eq!(home, vec![0x00, 0xff]);
        assert!(moved, "3/12 is not 31/2");
    }
}
