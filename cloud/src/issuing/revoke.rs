//! Revoking credentials: mark them revoked and tell every lock of the site through a signed
//! `DenyCredentials` mailbox update that phones carry to offline locks.

use std::collections::BTreeSet;

use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate, ALL_LOCKS, MAX_DENIED_PER_UPDATE};
use ring::rand::SystemRandom;
use rusqlite::Connection;

use super::grants::{user_devices, wanted_grants, DeviceRef};
use super::{site_authority, CLOCK_SKEW_SECONDS};
use crate::error::ApiError;

/// A credential just revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoked {
    /// Its id.
    pub credential_id: u64,
    /// When it would have expired: the deny entry is useless after that.
    pub not_after: i64,
}

fn to_id(id: i64) -> Result<u64, ApiError> {
    u64::try_from(id).map_err(|_| ApiError::Internal(format!("negative credential id {id}")))
}

/// Revokes the active credentials of `device` on `site_id` whose grant digest is not in
/// `wanted` and returns them.
pub fn revoke_unwanted(
    db: &Connection,
    device: &DeviceRef,
    site_id: u32,
    wanted: &BTreeSet<String>,
    now: i64,
) -> Result<Vec<Revoked>, ApiError> {
    let mut statement = db.prepare(
        "SELECT id, grant_digest, not_after FROM credentials
         WHERE device_id = ?1 AND site_id = ?2 AND revoked_at IS NULL AND not_after > ?3",
    )?;
    let active = statement
        .query_map(rusqlite::params![device.device_id, site_id, now], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut revoked = Vec::new();
    for (id, digest, not_after) in active {
        if wanted.contains(&digest) {
            continue;
        }
        db.execute(
            "UPDATE credentials SET revoked_at = ?1 WHERE id = ?2",
            rusqlite::params![now, id],
        )?;
        revoked.push(Revoked {
            credential_id: to_id(id)?,
            not_after,
        });
    }
    Ok(revoked)
}

/// Publishes the site's denylist to every lock of `site_id` after `revoked` were revoked: one
/// signed update per [`MAX_DENIED_PER_UPDATE`] ids with the site's next mailbox serials, each
/// kept until the last of its credentials would have expired.
///
/// The updates are cumulative: they deny every revoked credential of the site that has not
/// expired yet (oldest revocation first, so the newest land in the highest serial, which phones
/// carry first), and replace every earlier update of the site. Locks apply updates
/// idempotently in any order, so an old update still on a phone does no harm, and a phone's
/// few carried updates always cover the whole denylist instead of only the latest revocations.
pub fn publish_denials(
    db: &Connection,
    site_id: u32,
    revoked: &[Revoked],
    now: i64,
) -> Result<(), ApiError> {
    if revoked.is_empty() {
        return Ok(());
    }
    let denylist = live_denials(db, site_id, revoked, now)?;
    let authority = site_authority(db, site_id)?;
    let rng = SystemRandom::new();
    let mut first_serial = None;
    for chunk in denylist.chunks(MAX_DENIED_PER_UPDATE) {
        let serial: i64 = db.query_row(
            "UPDATE sites SET mailbox_serial = mailbox_serial + 1 WHERE id = ?1
             RETURNING mailbox_serial",
            [site_id],
            |row| row.get(0),
        )?;
        first_serial.get_or_insert(serial);
        let update = MailboxUpdate {
            site_id,
            lock_id: ALL_LOCKS,
            serial: u32::try_from(serial).map_err(|_| {
                ApiError::Internal(format!("site {site_id} mailbox serial overflow"))
            })?,
            change: MailboxChange::DenyCredentials(
                chunk.iter().map(|entry| entry.credential_id).collect(),
            ),
        };
        let bytes = update
            .sign(&authority, &rng)
            .map_err(|error| ApiError::Internal(format!("signing a mailbox update: {error}")))?;
        let expires_at = chunk
            .iter()
            .map(|entry| entry.not_after)
            .max()
            .unwrap_or(now);
        db.execute(
            "INSERT INTO mailbox_updates (site_id, serial, lock_id, bytes, expires_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![site_id, serial, ALL_LOCKS, bytes, expires_at, now],
        )?;
    }
    if let Some(first_serial) = first_serial {
        db.execute(
            "DELETE FROM mailbox_updates WHERE site_id = ?1 AND serial < ?2",
            rusqlite::params![site_id, first_serial],
        )?;
    }
    Ok(())
}

/// Every revoked credential of the site that a lock could still accept (not expired, with
/// the clock skew credentials are issued with) plus `just_revoked`, each once, oldest
/// revocation first.
fn live_denials(
    db: &Connection,
    site_id: u32,
    just_revoked: &[Revoked],
    now: i64,
) -> Result<Vec<Revoked>, ApiError> {
    let mut statement = db.prepare(
        "SELECT id, not_after FROM credentials
         WHERE site_id = ?1 AND revoked_at IS NOT NULL AND not_after > ?2
         ORDER BY revoked_at, id",
    )?;
    let stored = statement
        .query_map(
            rusqlite::params![site_id, now - CLOCK_SKEW_SECONDS],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let mut denylist = Vec::with_capacity(stored.len() + just_revoked.len());
    for (id, not_after) in stored {
        denylist.push(Revoked {
            credential_id: to_id(id)?,
            not_after,
        });
    }
    let listed: BTreeSet<u64> = denylist.iter().map(|entry| entry.credential_id).collect();
    denylist.extend(
        just_revoked
            .iter()
            .filter(|entry| !listed.contains(&entry.credential_id)),
    );
    Ok(denylist)
}

/// Brings every device of `user_id` in line with their rights on `site_id` now: credentials
/// that grant more than (or other than) what they have are revoked and published. Call it after
/// anything that takes rights away (group membership, group deletion, person removal, flags).
pub fn reconcile_person(
    db: &Connection,
    site_id: u32,
    user_id: u32,
    now: i64,
) -> Result<(), ApiError> {
    let mut revoked = Vec::new();
    for device in user_devices(db, user_id)? {
        let wanted: BTreeSet<String> = wanted_grants(db, &device, site_id)?
            .iter()
            .map(|grant| grant.digest())
            .collect();
        revoked.extend(revoke_unwanted(db, &device, site_id, &wanted, now)?);
    }
    publish_denials(db, site_id, &revoked, now)
}

/// Revokes every active credential of a device (lost phone), on every site.
pub fn revoke_device(db: &Connection, device: &DeviceRef, now: i64) -> Result<(), ApiError> {
    let mut statement = db.prepare(
        "SELECT DISTINCT site_id FROM credentials
         WHERE device_id = ?1 AND revoked_at IS NULL AND not_after > ?2",
    )?;
    let sites = statement
        .query_map(rusqlite::params![device.device_id, now], |row| {
            row.get::<_, u32>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let nothing = BTreeSet::new();
    for site_id in sites {
        let revoked = revoke_unwanted(db, device, site_id, &nothing, now)?;
        publish_denials(db, site_id, &revoked, now)?;
    }
    Ok(())
}
