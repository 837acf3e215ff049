//! Digital keys: which credentials a device should hold, issuing and reusing them, and revoking
//! the ones no longer wanted through signed mailbox updates.
//!
//! - [`plan`]: pure: a person's access-group rights → one key per set of locks sharing a weekly
//!   schedule, and the digest that identifies what a key grants;
//! - [`grants`]: store queries that gather a device's wanted grants;
//! - [`revoke`]: revoking credentials and publishing `DenyCredentials` mailbox updates;
//! - [`sync`]: the key sync of one device.

pub mod grants;
pub mod plan;
pub mod revoke;
pub mod sync;

pub use grants::DeviceRef;
pub use revoke::{reconcile_person, revoke_device};
pub use sync::{sync_device, Validity};

use ring::rand::SystemRandom;

use crate::error::ApiError;

/// Seconds a credential starts before its issuing time, so a lock whose clock is a little
/// behind still accepts it.
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// Loads a site's authority signing key from the store (where it is sealed).
pub(crate) fn site_authority(
    tx: &rusqlite::Connection,
    site_id: u32,
) -> Result<keyway_protocol::SigningKey, ApiError> {
    let pkcs8: Vec<u8> = tx.query_row(
        "SELECT keyway_open('sites.authority_pkcs8', authority_pkcs8, id) FROM sites WHERE id = ?1",
        [site_id],
        |row| row.get(0),
    )?;
    keyway_protocol::SigningKey::from_pkcs8(&pkcs8, &SystemRandom::new())
        .map_err(|error| ApiError::Internal(format!("site {site_id} authority key: {error}")))
}

#[cfg(test)]
mod tests;
