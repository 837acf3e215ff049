//! The key sync of one device: revoke what is no longer wanted, reuse what is still fresh,
//! issue the rest, and hand over the mailbox updates phones carry to locks.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::{DigitalKeyView, KeySyncResponse, LockRef};
use keyway_protocol::{SignedCredential, SigningKey};
use ring::rand::SystemRandom;
use rusqlite::{Connection, OptionalExtension};

use super::grants::{wanted_grants, DeviceRef};
use super::plan::Grant;
use super::revoke::{publish_denials, revoke_unwanted, Publication};
use super::{site_authority, CLOCK_SKEW_SECONDS};
use crate::error::ApiError;

/// Validity settings of issued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Now (Unix seconds).
    pub now: i64,
    /// Seconds a new key lives.
    pub ttl: i64,
}

/// Syncs `device`: for each site its owner belongs to (and each site where it still holds an
/// active key) the wanted keys are reused or issued, and the others revoked.
pub fn sync_device(
    db: &Connection,
    device: &DeviceRef,
    validity: Validity,
) -> Result<KeySyncResponse, ApiError> {
    let member_sites = member_sites(db, device.user_id)?;
    let mut sites: BTreeSet<u32> = member_sites.keys().copied().collect();
    sites.extend(sites_with_active_keys(db, device, validity.now)?);
    let mut keys = Vec::new();
    for site_id in sites {
        let grants = current_grants(db, device, site_id, validity.now)?;
        if grants.is_empty() {
            continue;
        }
        let site_name = member_sites.get(&site_id).cloned().unwrap_or_default();
        let lock_names = lock_names(db, site_id)?;
        let mut authority: Option<SigningKey> = None;
        for grant in &grants {
            let Some(period) = grant.validity_period(validity.now, validity.ttl) else {
                continue; // a stay that is over
            };
            let signed = match reusable(db, grant, validity.now, period.1)? {
                Some(signed) => signed,
                None => {
                    if authority.is_none() {
                        authority = Some(site_authority(db, site_id)?);
                    }
                    let key = authority.as_ref().ok_or_else(|| {
                        ApiError::Internal("site authority key not loaded".into())
                    })?;
                    issue(db, grant, key, validity.now, period)?
                }
            };
            keys.push(key_view(&signed, &site_name, &lock_names));
        }
    }
    Ok(KeySyncResponse {
        keys,
        mailbox: unexpired_mailbox(db, member_sites.keys(), validity.now)?,
        server_time: validity.now,
    })
}

/// The sites `user_id` belongs to, with their names.
fn member_sites(db: &Connection, user_id: u32) -> Result<BTreeMap<u32, String>, ApiError> {
    let mut statement = db.prepare(
        "SELECT s.id, s.name FROM memberships m JOIN sites s ON s.id = m.site_id
         WHERE m.user_id = ?1",
    )?;
    let sites = statement
        .query_map([user_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(sites)
}

fn sites_with_active_keys(
    db: &Connection,
    device: &DeviceRef,
    now: i64,
) -> Result<Vec<u32>, ApiError> {
    let mut statement = db.prepare(
        "SELECT DISTINCT site_id FROM credentials
         WHERE device_id = ?1 AND revoked_at IS NULL AND not_after > ?2",
    )?;
    let sites = statement
        .query_map(
            rusqlite::params![device.device_id, now - CLOCK_SKEW_SECONDS],
            |row| row.get(0),
        )?
        .collect::<Result<_, _>>()?;
    Ok(sites)
}

fn lock_names(db: &Connection, site_id: u32) -> Result<BTreeMap<u32, String>, ApiError> {
    let mut statement = db.prepare("SELECT id, name FROM locks WHERE site_id = ?1")?;
    let names = statement
        .query_map([site_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(names)
}

fn decode_stored(bytes: &[u8]) -> Result<SignedCredential, ApiError> {
    SignedCredential::decode(bytes)
        .map_err(|error| ApiError::Internal(format!("stored credential: {error}")))
}

/// What `device` should hold on `site_id` now, after revoking (and publishing) what it holds
/// beyond that. Publishing can raise the site's revocation epoch, which changes every grant's
/// digest: then the grants are worked out again, so no key of the old epoch is handed out.
fn current_grants(
    db: &Connection,
    device: &DeviceRef,
    site_id: u32,
    now: i64,
) -> Result<Vec<Grant>, ApiError> {
    let grants = wanted_grants(db, device, site_id)?;
    let wanted: BTreeSet<String> = grants.iter().map(Grant::digest).collect();
    let revoked = revoke_unwanted(db, device, site_id, &wanted, now)?;
    if publish_denials(db, site_id, &revoked, now)? != Publication::EpochRaised {
        return Ok(grants);
    }
    let grants = wanted_grants(db, device, site_id)?;
    let wanted: BTreeSet<String> = grants.iter().map(Grant::digest).collect();
    // Keys of the old epoch: locks refuse them by epoch, nothing to publish.
    revoke_unwanted(db, device, site_id, &wanted, now)?;
    Ok(grants)
}

/// An unrevoked credential for the same grant with more than half of its life left, or one
/// that already lasts until `longest` (a new one could not last longer: a stay's check-out).
fn reusable(
    db: &Connection,
    grant: &Grant,
    now: i64,
    longest: i64,
) -> Result<Option<SignedCredential>, ApiError> {
    let bytes: Option<Vec<u8>> = db
        .query_row(
            "SELECT bytes FROM credentials
             WHERE device_id = ?1 AND site_id = ?2 AND grant_digest = ?3 AND revoked_at IS NULL
               AND ((not_after - ?4) * 2 > (not_after - not_before) OR not_after >= ?5)
             ORDER BY not_after DESC LIMIT 1",
            rusqlite::params![grant.device_id, grant.site_id, grant.digest(), now, longest],
            |row| row.get(0),
        )
        .optional()?;
    bytes.as_deref().map(decode_stored).transpose()
}

/// Issues, signs and records a new credential for `grant`, valid for `period`.
fn issue(
    db: &Connection,
    grant: &Grant,
    authority: &SigningKey,
    now: i64,
    (not_before, not_after): (i64, i64),
) -> Result<SignedCredential, ApiError> {
    db.execute(
        "INSERT INTO credentials (site_id, user_id, device_id, grant_digest, bytes, not_before,
                                  not_after, issued_at, revocation_epoch)
         VALUES (?1, ?2, ?3, ?4, x'', ?5, ?6, ?7, ?8)",
        rusqlite::params![
            grant.site_id,
            grant.user_id,
            grant.device_id,
            grant.digest(),
            not_before,
            not_after,
            now,
            grant.revocation_epoch,
        ],
    )?;
    let id = db.last_insert_rowid();
    let credential_id = u64::try_from(id)
        .map_err(|_| ApiError::Internal(format!("negative credential id {id}")))?;
    let signed = grant
        .credential(credential_id, not_before, not_after)
        .sign(authority, &SystemRandom::new())
        .map_err(|error| ApiError::Internal(format!("signing a credential: {error}")))?;
    db.execute(
        "UPDATE credentials SET bytes = ?1 WHERE id = ?2",
        rusqlite::params![signed.as_bytes(), id],
    )?;
    Ok(signed)
}

fn key_view(
    signed: &SignedCredential,
    site_name: &str,
    lock_names: &BTreeMap<u32, String>,
) -> DigitalKeyView {
    let credential = signed.credential();
    DigitalKeyView {
        credential_id: credential.credential_id,
        site_id: credential.site_id,
        site_name: site_name.to_string(),
        locks: credential
            .lock_ids
            .iter()
            .map(|lock_id| LockRef {
                lock_id: *lock_id,
                name: lock_names.get(lock_id).cloned().unwrap_or_default(),
            })
            .collect(),
        not_before: credential.not_before,
        not_after: credential.not_after,
        credential: STANDARD.encode(signed.as_bytes()),
    }
}

/// The unexpired mailbox updates of these sites (base64), oldest first per site.
fn unexpired_mailbox<'a>(
    db: &Connection,
    sites: impl Iterator<Item = &'a u32>,
    now: i64,
) -> Result<Vec<String>, ApiError> {
    let mut statement = db.prepare(
        "SELECT bytes FROM mailbox_updates WHERE site_id = ?1 AND expires_at > ?2
         ORDER BY serial",
    )?;
    let mut updates = Vec::new();
    for site_id in sites {
        for bytes in statement.query_map(rusqlite::params![site_id, now], |row| {
            row.get::<_, Vec<u8>>(0)
        })? {
            updates.push(STANDARD.encode(bytes?));
        }
    }
    Ok(updates)
}
