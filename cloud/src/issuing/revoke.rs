//! Revoking credentials: mark them revoked and tell every lock of the site through a signed
//! `DenyCredentials` mailbox update that phones carry to offline locks.

use std::collections::BTreeSet;

use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate, ALL_LOCKS, MAX_DENIED_PER_UPDATE};
use keyway_protocol::SigningKey;
use ring::rand::SystemRandom;
use rusqlite::Connection;

use super::grants::{user_devices, wanted_grants, DeviceRef};
use super::{site_authority, CLOCK_SKEW_SECONDS};
use crate::email::outbox::{self, NewEmail};
use crate::error::ApiError;
use crate::store::rows;

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
        // A key that expired within the clock skew still opens a lock whose clock runs late.
        .query_map(
            rusqlite::params![device.device_id, site_id, now - CLOCK_SKEW_SECONDS],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )?
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

/// Deny updates a site's denylist may take before the epoch is raised instead.
pub const MAX_DENY_UPDATES: usize = 2;
/// Most revoked credentials a site's denylist holds before the epoch is raised instead. Two
/// full deny updates and the epoch update take 1,280 bytes of a request: beside a credential
/// of up to 877 bytes (about 177 locks) the request still goes through at the smallest ATT MTU
/// (see [`keyway_protocol::message::mailbox_budget`]), so such a phone carries all of it.
pub const MAX_LIVE_DENIALS: usize = MAX_DENY_UPDATES * MAX_DENIED_PER_UPDATE;

/// What [`publish_denials`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// Nothing for locks to learn (no revocation, or only keys of an older epoch).
    Unchanged,
    /// The site's denylist was republished.
    Denied,
    /// The denylist was full: the revocation epoch was raised, so every grant changed.
    EpochRaised,
}

/// Tells every lock of `site_id` that `revoked` were revoked.
///
/// The updates are cumulative: one signed `DenyCredentials` update per
/// [`MAX_DENIED_PER_UPDATE`] ids covers every revoked credential of the current epoch that a
/// lock could still accept (oldest revocation first, so the newest land in the highest serial,
/// which phones carry first), each kept until the last of its credentials would have expired,
/// and replaces the site's earlier denials. Locks apply updates idempotently in any order, so
/// an old update still on a phone does no harm, and the few updates a phone carries always
/// cover the whole denylist. When the denylist outgrows [`MAX_LIVE_DENIALS`], the site's
/// revocation epoch is raised instead (see [`raise_epoch`]). Credentials of an older epoch
/// need no denial.
pub fn publish_denials(
    db: &Connection,
    site_id: u32,
    revoked: &[Revoked],
    now: i64,
) -> Result<Publication, ApiError> {
    if revoked.is_empty() {
        return Ok(Publication::Unchanged);
    }
    let denylist = live_denials(db, site_id, now)?;
    let listed: BTreeSet<u64> = denylist.iter().map(|entry| entry.credential_id).collect();
    if !revoked
        .iter()
        .any(|entry| listed.contains(&entry.credential_id))
    {
        return Ok(Publication::Unchanged); // all of an older epoch: locks refuse them already
    }
    if denylist.len() > MAX_LIVE_DENIALS {
        raise_epoch(db, site_id, now)?;
        return Ok(Publication::EpochRaised);
    }
    let authority = site_authority(db, site_id)?;
    let rng = SystemRandom::new();
    let mut first_serial = None;
    for chunk in denylist.chunks(MAX_DENIED_PER_UPDATE) {
        let ids = chunk.iter().map(|entry| entry.credential_id).collect();
        // Kept while a lock whose clock runs late could still accept one of the keys.
        let expires_at = chunk
            .iter()
            .map(|entry| entry.not_after)
            .max()
            .unwrap_or(now)
            + CLOCK_SKEW_SECONDS;
        let change = MailboxChange::DenyCredentials(ids);
        let serial = publish(db, (site_id, &authority, &rng), change, expires_at, now)?;
        first_serial.get_or_insert(serial);
    }
    if let Some(first_serial) = first_serial {
        db.execute(
            "DELETE FROM mailbox_updates WHERE site_id = ?1 AND kind = 'deny' AND serial < ?2",
            rusqlite::params![site_id, first_serial],
        )?;
    }
    Ok(Publication::Denied)
}

/// Raises the site's revocation epoch: every credential issued so far stops opening once a
/// phone carries the signed `RaiseEpoch` update to the lock, each device's next sync brings
/// keys of the new epoch (the grant digest includes it), and the denylist starts empty. The
/// update replaces all earlier ones of the site and is kept until the last credential of an
/// older epoch would have expired (clock skew included).
pub fn raise_epoch(db: &Connection, site_id: u32, now: i64) -> Result<(), ApiError> {
    let epoch: u32 = db.query_row(
        "UPDATE sites SET revocation_epoch = revocation_epoch + 1 WHERE id = ?1
         RETURNING revocation_epoch",
        [site_id],
        |row| row.get(0),
    )?;
    let expires_at: Option<i64> = db.query_row(
        "SELECT MAX(not_after) FROM credentials WHERE site_id = ?1 AND revocation_epoch < ?2",
        rusqlite::params![site_id, epoch],
        |row| row.get(0),
    )?;
    let authority = site_authority(db, site_id)?;
    let rng = SystemRandom::new();
    let change = MailboxChange::RaiseEpoch(epoch);
    let serial = publish(
        db,
        (site_id, &authority, &rng),
        change,
        expires_at.unwrap_or(now).max(now) + CLOCK_SKEW_SECONDS,
        now,
    )?;
    db.execute(
        "DELETE FROM mailbox_updates WHERE site_id = ?1 AND serial < ?2",
        rusqlite::params![site_id, serial],
    )?;
    tracing::warn!(
        site_id,
        epoch,
        "denylist full: revocation epoch raised, every key of the site is reissued at its next sync"
    );
    tell_site_admins(db, site_id, epoch, now)
}

/// E-mails the site's owner and admins that every key is being renewed, and why (queued in
/// the caller's transaction).
fn tell_site_admins(db: &Connection, site_id: u32, epoch: u32, now: i64) -> Result<(), ApiError> {
    let site_name: String =
        db.query_row("SELECT name FROM sites WHERE id = ?1", [site_id], |row| {
            row.get(0)
        })?;
    let recipients: Vec<String> = rows(
        db,
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.site_id = ?1 AND m.role IN ('owner', 'admin') ORDER BY u.email",
        [site_id],
        |row| row.get(0),
    )?;
    for to in recipients {
        let email = NewEmail {
            to,
            subject: format!("Keyway: the digital keys of {site_name} are being renewed"),
            body: format!(
                "More than {MAX_LIVE_DENIALS} digital keys of {site_name} were revoked while still \
                 valid: more than phones can carry to locks that are offline.\n\n\
                 Keyway started a new revocation epoch ({epoch}) instead. Every earlier key stops \
                 opening as soon as a phone brings the change to a lock, and each person's app \
                 gets a new key at its next sync. Someone whose phone has not synced since may be \
                 refused once; the app then asks them to sync.\n\n\
                 If this happens often, many devices or people are being removed from the site: \
                 check who manages it.\n"
            ),
            secret: None,
        };
        outbox::queue(db, &email, now)?;
    }
    Ok(())
}

/// Signs `change` for every lock of the site under its next mailbox serial and stores it
/// until `expires_at`; returns the serial.
fn publish(
    db: &Connection,
    (site_id, authority, rng): (u32, &SigningKey, &SystemRandom),
    change: MailboxChange,
    expires_at: i64,
    now: i64,
) -> Result<i64, ApiError> {
    let serial: i64 = db.query_row(
        "UPDATE sites SET mailbox_serial = mailbox_serial + 1 WHERE id = ?1
         RETURNING mailbox_serial",
        [site_id],
        |row| row.get(0),
    )?;
    let kind = match change {
        MailboxChange::DenyCredentials(_) => "deny",
        MailboxChange::RaiseEpoch(_) => "epoch",
    };
    let update = MailboxUpdate {
        site_id,
        lock_id: ALL_LOCKS,
        serial: u32::try_from(serial)
            .map_err(|_| ApiError::Internal(format!("site {site_id} mailbox serial overflow")))?,
        change,
    };
    let bytes = update
        .sign(authority, rng)
        .map_err(|error| ApiError::Internal(format!("signing a mailbox update: {error}")))?;
    db.execute(
        "INSERT INTO mailbox_updates (site_id, serial, lock_id, bytes, expires_at, created_at, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![site_id, serial, ALL_LOCKS, bytes, expires_at, now, kind],
    )?;
    Ok(serial)
}

/// Every revoked credential of the site's current epoch that a lock could still accept (not
/// expired, with the clock skew credentials are issued with), oldest revocation first.
fn live_denials(db: &Connection, site_id: u32, now: i64) -> Result<Vec<Revoked>, ApiError> {
    let mut statement = db.prepare(
        "SELECT c.id, c.not_after FROM credentials c JOIN sites s ON s.id = c.site_id
         WHERE c.site_id = ?1 AND c.revoked_at IS NOT NULL AND c.not_after > ?2
           AND c.revocation_epoch = s.revocation_epoch
         ORDER BY c.revoked_at, c.id",
    )?;
    let rows = statement
        .query_map(
            rusqlite::params![site_id, now - CLOCK_SKEW_SECONDS],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, not_after)| {
            Ok(Revoked {
                credential_id: to_id(id)?,
                not_after,
            })
        })
        .collect()
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
    publish_denials(db, site_id, &revoked, now)?;
    Ok(())
}

/// Revokes every active credential of a device (lost phone), on every site.
pub fn revoke_device(db: &Connection, device: &DeviceRef, now: i64) -> Result<(), ApiError> {
    let mut statement = db.prepare(
        "SELECT DISTINCT site_id FROM credentials
         WHERE device_id = ?1 AND revoked_at IS NULL AND not_after > ?2",
    )?;
    let sites = statement
        .query_map(
            rusqlite::params![device.device_id, now - CLOCK_SKEW_SECONDS],
            |row| row.get::<_, u32>(0),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let nothing = BTreeSet::new();
    for site_id in sites {
        let revoked = revoke_unwanted(db, device, site_id, &nothing, now)?;
        publish_denials(db, site_id, &revoked, now)?;
    }
    Ok(())
}
