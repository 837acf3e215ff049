//! Mailbox updates: changes the cloud signs for a lock and any phone carries to it, so that
//! revocations reach locks that have no online IQ.
//!
//! Layout (version 1): `version u8 | site_id u32 | lock_id u32 (0 = every lock of the site) |
//! serial u32 | kind u8 | payload_len u16 | payload | signature [64]`. Every change is
//! idempotent, so a lock applies each verified update it is handed, in any order; the serial
//! only orders updates for people and logs.

use ring::rand::SecureRandom;

use crate::keys::{PublicKey, SigningKey, SIGNATURE_LEN};
use crate::wire::{Reader, Writer};
use crate::ProtocolError;

/// Mailbox update format version.
pub const MAILBOX_VERSION: u8 = 1;
/// Most credential ids one denylist update may carry.
pub const MAX_DENIED_PER_UPDATE: usize = 64;
const SIGNING_LABEL: &[u8] = b"KEYWAY-MAILBOX-V1";
/// A lock id of 0 addresses every lock of the site.
pub const ALL_LOCKS: u32 = 0;

/// What an update changes at the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxChange {
    /// Add these credential ids to the lock's denylist.
    DenyCredentials(Vec<u64>),
    /// Refuse every credential issued in an epoch below this one.
    RaiseEpoch(u32),
}

impl MailboxChange {
    const DENY: u8 = 1;
    const EPOCH: u8 = 2;
}

/// An update addressed to one lock or all locks of a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxUpdate {
    /// The site.
    pub site_id: u32,
    /// The lock, or [`ALL_LOCKS`].
    pub lock_id: u32,
    /// Increases with every update the site issues (for ordering in logs).
    pub serial: u32,
    /// The change.
    pub change: MailboxChange,
}

/// Where an update is addressed and its serial, read without checking the signature (a phone
/// uses it to choose which updates to carry; the lock verifies before applying).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxAddress {
    /// The site.
    pub site_id: u32,
    /// The lock, or [`ALL_LOCKS`].
    pub lock_id: u32,
    /// The serial.
    pub serial: u32,
    /// Whether it raises the revocation epoch (one small update that outweighs any denylist).
    pub raises_epoch: bool,
}

impl MailboxAddress {
    /// Reads the header of an encoded update.
    pub fn peek(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader::new(bytes);
        if r.u8("mailbox version").ok()? != MAILBOX_VERSION {
            return None;
        }
        Some(Self {
            site_id: r.u32("mailbox site id").ok()?,
            lock_id: r.u32("mailbox lock id").ok()?,
            serial: r.u32("mailbox serial").ok()?,
            raises_epoch: r.u8("mailbox kind").ok()? == MailboxChange::EPOCH,
        })
    }

    /// Whether a lock of `site_id` with id `lock_id` is addressed.
    pub fn addresses(&self, site_id: u32, lock_id: u32) -> bool {
        addressed(self.site_id, self.lock_id, site_id, lock_id)
    }
}

/// Whether an update for (`to_site`, `to_lock`) reaches lock `lock_id` of `site_id`.
fn addressed(to_site: u32, to_lock: u32, site_id: u32, lock_id: u32) -> bool {
    to_site == site_id && (to_lock == ALL_LOCKS || to_lock == lock_id)
}

impl MailboxUpdate {
    /// Whether the update is meant for this lock.
    pub fn addresses(&self, site_id: u32, lock_id: u32) -> bool {
        addressed(self.site_id, self.lock_id, site_id, lock_id)
    }

    /// Encodes and signs with the site authority key.
    pub fn sign(
        &self,
        authority: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, ProtocolError> {
        let (kind, payload) = match &self.change {
            MailboxChange::DenyCredentials(ids) => {
                if ids.is_empty() || ids.len() > MAX_DENIED_PER_UPDATE {
                    return Err(ProtocolError::Invalid("denylist update size"));
                }
                let mut p = Writer::with_capacity(8 * ids.len());
                ids.iter().for_each(|id| {
                    p.u64(*id);
                });
                (MailboxChange::DENY, p.into_vec())
            }
            MailboxChange::RaiseEpoch(epoch) => {
                (MailboxChange::EPOCH, epoch.to_be_bytes().to_vec())
            }
        };
        let mut w = Writer::with_capacity(16 + payload.len() + SIGNATURE_LEN);
        w.u8(MAILBOX_VERSION)
            .u32(self.site_id)
            .u32(self.lock_id)
            .u32(self.serial)
            .u8(kind);
        w.prefixed(&payload, "mailbox payload")?;
        let signature = authority.sign(&[SIGNING_LABEL, w.as_slice()].concat(), rng)?;
        w.bytes(&signature);
        Ok(w.into_vec())
    }

    /// Parses an update and checks the authority signature.
    pub fn decode_verified(bytes: &[u8], authority: &PublicKey) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("mailbox version")?;
        if version != MAILBOX_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "mailbox",
                found: version,
            });
        }
        let site_id = r.u32("mailbox site id")?;
        let lock_id = r.u32("mailbox lock id")?;
        let serial = r.u32("mailbox serial")?;
        let kind = r.u8("mailbox kind")?;
        let payload_len = usize::from(r.u16("mailbox payload length")?);
        let payload = r.take(payload_len, "mailbox payload")?;
        let signed_len = r.position();
        let signature = r.take(SIGNATURE_LEN, "mailbox signature")?;
        r.finish("mailbox update")?;
        let body = bytes
            .get(..signed_len)
            .ok_or(ProtocolError::Truncated("mailbox update"))?;
        if !authority.verify(&[SIGNING_LABEL, body].concat(), signature) {
            return Err(ProtocolError::BadSignature("mailbox update"));
        }
        let mut p = Reader::new(payload);
        let change = match kind {
            MailboxChange::DENY => {
                let count = payload_len / 8;
                if payload_len % 8 != 0 || count == 0 || count > MAX_DENIED_PER_UPDATE {
                    return Err(ProtocolError::Invalid("denylist update size"));
                }
                let ids = (0..count)
                    .map(|_| p.u64("denied id"))
                    .collect::<Result<_, _>>()?;
                MailboxChange::DenyCredentials(ids)
            }
            MailboxChange::EPOCH => MailboxChange::RaiseEpoch(p.u32("epoch")?),
            _ => return Err(ProtocolError::Invalid("mailbox kind")),
        };
        p.finish("mailbox payload")?;
        Ok(Self {
            site_id,
            lock_id,
            serial,
            change,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn updates_round_trip_and_tampering_is_caught() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (other, _) = SigningKey::generate(&rng).unwrap();
        for change in [
            MailboxChange::DenyCredentials(vec![5, 6]),
            MailboxChange::RaiseEpoch(4),
        ] {
            let update = MailboxUpdate {
                site_id: 1,
                lock_id: ALL_LOCKS,
                serial: 3,
                change,
            };
            let bytes = update.sign(&authority, &rng).unwrap();
            assert_eq!(
                MailboxUpdate::decode_verified(&bytes, &authority.public_key()).unwrap(),
                update
            );
            assert!(MailboxUpdate::decode_verified(&bytes, &other.public_key()).is_err());
            for index in 0..bytes.len() {
                let mut flipped = bytes.clone();
                flipped[index] ^= 0x40;
                assert!(MailboxUpdate::decode_verified(&flipped, &authority.public_key()).is_err());
            }
        }
    }

    #[test]
    fn the_header_is_readable_without_the_key() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let update = MailboxUpdate {
            site_id: 4,
            lock_id: 9,
            serial: 77,
            change: MailboxChange::RaiseEpoch(1),
        };
        let bytes = update.sign(&authority, &rng).unwrap();
        assert_eq!(
            MailboxAddress::peek(&bytes),
            Some(MailboxAddress {
                site_id: 4,
                lock_id: 9,
                serial: 77,
                raises_epoch: true,
            })
        );
        let deny = MailboxUpdate {
            change: MailboxChange::DenyCredentials(vec![1]),
            ..update
        };
        let bytes = deny.sign(&authority, &rng).unwrap();
        assert_eq!(
            MailboxAddress::peek(&bytes).map(|a| a.raises_epoch),
            Some(false)
        );
        assert_eq!(MailboxAddress::peek(&bytes[..5]), None);
    }

    #[test]
    fn addressing_is_by_site_and_lock() {
        let update = MailboxUpdate {
            site_id: 1,
            lock_id: 7,
            serial: 1,
            change: MailboxChange::RaiseEpoch(2),
        };
        assert!(update.addresses(1, 7));
        assert!(!update.addresses(1, 8));
        assert!(!update.addresses(2, 7));
        let broadcast = MailboxUpdate {
            lock_id: ALL_LOCKS,
            ..update
        };
        assert!(broadcast.addresses(1, 8));
    }
}
