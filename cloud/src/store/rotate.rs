//! Key rotation: every sealed value re-sealed under a new key in one transaction, the key
//! check value rewritten, and the WAL emptied, so the old key opens nothing in the database
//! any more. Run it with the cloud stopped; the old key file is left for the operator to
//! destroy (backups made before the rotation still need it).

use std::path::Path;

use rusqlite::Connection;

use super::key_source::{create_key_file, KeySource};
use super::sealed::{reseal, unlock, write_check, Missing};
use super::{checkpoint, prepare, StoreError, DATABASE_FILE};

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Sealed values re-sealed under the new key.
    pub resealed: usize,
}

/// Re-seals the database in `data_dir` from the key in `old` to a new random key written to
/// `new_key_file` (which must not exist). On failure the database is unchanged and the new
/// key file removed.
pub fn rotate_key(
    data_dir: &Path,
    old: &KeySource,
    new_key_file: &Path,
) -> Result<Rotation, StoreError> {
    let database = data_dir.join(DATABASE_FILE);
    if !database.is_file() {
        return Err(StoreError::NoDatabase {
            path: data_dir.display().to_string(),
        });
    }
    let mut connection = prepare(Connection::open(&database)?)?;
    let old_kek = unlock(&mut connection, old, Missing::Refuse)?;
    let new_kek = create_key_file(new_key_file)?;
    let resealed = (|| {
        let tx = connection.transaction()?;
        let resealed = reseal(&tx, Some(&old_kek), &new_kek)?;
        write_check(&tx, &new_kek)?;
        tx.commit()?;
        Ok::<_, StoreError>(resealed)
    })();
    match resealed {
        Ok(resealed) => {
            checkpoint(&connection)?;
            tracing::info!(resealed, "re-sealed the database under the new key");
            Ok(Rotation { resealed })
        }
        Err(error) => {
            // Nothing was committed: the new key seals nothing.
            let _ = std::fs::remove_file(new_key_file);
            Err(error)
        }
    }
}
