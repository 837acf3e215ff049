//! What locks and IQs share: each is registered with a name and its own P-256 public key, and a
//! key identifies one device worldwide.

use keyway_protocol::PublicKey;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{ApiError, ApiResult};

/// A kind of installed device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hardware {
    /// A lock.
    Lock,
    /// An IQ (hub).
    Iq,
}

impl Hardware {
    fn table(self) -> &'static str {
        match self {
            Self::Lock => "locks",
            Self::Iq => "iqs",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Lock => "lock",
            Self::Iq => "IQ",
        }
    }

    /// Records a new device on a site and returns its id; 409 when the key is already known.
    pub(super) fn register(
        self,
        db: &Connection,
        site_id: u32,
        name: &str,
        key: &PublicKey,
        now: i64,
    ) -> ApiResult<u32> {
        let table = self.table();
        let known: Option<u32> = db
            .query_row(
                &format!("SELECT id FROM {table} WHERE public_key = ?1"),
                [key.as_bytes().as_slice()],
                |row| row.get(0),
            )
            .optional()?;
        if known.is_some() {
            return Err(ApiError::Conflict(format!(
                "this public key already belongs to a registered {}",
                self.noun()
            )));
        }
        db.execute(
            &format!(
                "INSERT INTO {table} (site_id, name, public_key, created_at)
                 VALUES (?1, ?2, ?3, ?4)"
            ),
            rusqlite::params![site_id, name, key.as_bytes().as_slice(), now],
        )?;
        u32::try_from(db.last_insert_rowid())
            .map_err(|_| ApiError::Internal(format!("{} id out of range", self.noun())))
    }

    /// Whether device `id` belongs to `site_id`.
    pub(super) fn belongs_to(self, db: &Connection, site_id: u32, id: u32) -> ApiResult<bool> {
        let table = self.table();
        Ok(db
            .query_row(
                &format!("SELECT 1 FROM {table} WHERE id = ?1 AND site_id = ?2"),
                [id, site_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
