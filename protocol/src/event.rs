//! Lock event records: what happened at a lock, signed by the lock key and hash-chained so
//! that a missing, reordered or altered record shows.
//!
//! Layout (version 1): `version u8 | lock_id u32 | seq u64 | time i64 | user_id u32 |
//! credential_id u64 | command u8 | outcome u8 | reason u8 | prev_hash [32] | signature [64]`.
//! `outcome` is 1 for granted, 0 for refused; `reason` is the refusal code or 0.

use ring::digest;
use ring::rand::SecureRandom;

use crate::keys::{PublicKey, SigningKey, SIGNATURE_LEN};
use crate::refusal::RefusalReason;
use crate::wire::{Reader, Writer};
use crate::ProtocolError;

/// Event record format version.
pub const EVENT_VERSION: u8 = 1;
/// Encoded length of one record.
pub const EVENT_RECORD_LEN: usize = 1 + 4 + 8 + 8 + 4 + 8 + 3 + 32 + SIGNATURE_LEN;
/// The `prev_hash` of a lock's first record.
pub const GENESIS_HASH: [u8; 32] = [0; 32];
const SIGNING_LABEL: &[u8] = b"KEYWAY-EVENT-V1";

/// What a lock recorded, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEvent {
    /// The lock that recorded it.
    pub lock_id: u32,
    /// Position in the lock's log, from 1, no gaps.
    pub seq: u64,
    /// The lock's clock (Unix seconds).
    pub time: i64,
    /// The person, or 0 when unknown (unreadable request).
    pub user_id: u32,
    /// The credential, or 0 when unknown.
    pub credential_id: u64,
    /// The command code asked for, or 0 when unknown.
    pub command: u8,
    /// `None` when granted, else the refusal reason.
    pub refusal: Option<RefusalReason>,
    /// Hash of the previous record ([`GENESIS_HASH`] for the first).
    pub prev_hash: [u8; 32],
}

impl LockEvent {
    fn encode_body(&self) -> Writer {
        let mut w = Writer::with_capacity(EVENT_RECORD_LEN);
        w.u8(EVENT_VERSION)
            .u32(self.lock_id)
            .u64(self.seq)
            .i64(self.time)
            .u32(self.user_id)
            .u64(self.credential_id)
            .u8(self.command)
            .u8(u8::from(self.refusal.is_none()))
            .u8(self.refusal.map_or(0, RefusalReason::code))
            .bytes(&self.prev_hash);
        w
    }

    /// Encodes and signs with the lock key.
    pub fn sign(
        &self,
        lock_key: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<SignedEvent, ProtocolError> {
        let mut w = self.encode_body();
        let signature = lock_key.sign(&[SIGNING_LABEL, w.as_slice()].concat(), rng)?;
        w.bytes(&signature);
        let bytes: [u8; EVENT_RECORD_LEN] = w
            .into_vec()
            .try_into()
            .map_err(|_| ProtocolError::Invalid("event length"))?;
        Ok(SignedEvent {
            event: self.clone(),
            bytes,
        })
    }
}

/// A signed event record with its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEvent {
    event: LockEvent,
    bytes: [u8; EVENT_RECORD_LEN],
}

impl SignedEvent {
    /// Parses a record without checking its signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("event version")?;
        if version != EVENT_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "event",
                found: version,
            });
        }
        let lock_id = r.u32("event lock id")?;
        let seq = r.u64("event seq")?;
        let time = r.i64("event time")?;
        let user_id = r.u32("event user id")?;
        let credential_id = r.u64("event credential id")?;
        let command = r.u8("event command")?;
        let granted = r.u8("event outcome")?;
        let reason = r.u8("event reason")?;
        let refusal = match (granted, reason) {
            (1, 0) => None,
            (0, code) => {
                Some(RefusalReason::from_code(code).ok_or(ProtocolError::Invalid("event reason"))?)
            }
            _ => return Err(ProtocolError::Invalid("event outcome")),
        };
        let prev_hash = r.array("event prev hash")?;
        r.take(SIGNATURE_LEN, "event signature")?;
        r.finish("event")?;
        let bytes = bytes
            .try_into()
            .map_err(|_| ProtocolError::Invalid("event length"))?;
        let event = LockEvent {
            lock_id,
            seq,
            time,
            user_id,
            credential_id,
            command,
            refusal,
            prev_hash,
        };
        Ok(Self { event, bytes })
    }

    /// Whether the lock key's signature verifies.
    pub fn verify(&self, lock_key: &PublicKey) -> bool {
        let (body, signature) = self.bytes.split_at(EVENT_RECORD_LEN - SIGNATURE_LEN);
        lock_key.verify(&[SIGNING_LABEL, body].concat(), signature)
    }

    /// The recorded fields.
    pub fn event(&self) -> &LockEvent {
        &self.event
    }

    /// The exact bytes.
    pub fn as_bytes(&self) -> &[u8; EVENT_RECORD_LEN] {
        &self.bytes
    }

    /// SHA-256 of the whole record: the next record's `prev_hash`.
    pub fn hash(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, &self.bytes).as_ref());
        out
    }
}

/// Why a run of records is not a valid piece of a lock's chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A record is not signed by the lock key.
    #[error("record {seq} is not signed by the lock")]
    BadSignature {
        /// Its sequence number.
        seq: u64,
    },
    /// A record comes from another lock.
    #[error("record {seq} comes from another lock")]
    WrongLock {
        /// Its sequence number.
        seq: u64,
    },
    /// A record's sequence number does not follow the previous one.
    #[error("record {found} follows {previous}: records are missing or reordered")]
    Gap {
        /// The sequence number before.
        previous: u64,
        /// The one found.
        found: u64,
    },
    /// A record's `prev_hash` does not match the previous record.
    #[error("record {seq} does not chain to the record before it")]
    BrokenLink {
        /// Its sequence number.
        seq: u64,
    },
}

/// Checks that `records` continue a lock's chain after `(previous_seq, previous_hash)`
/// (`(0, GENESIS_HASH)` for the start of the log) and returns the new chain head.
pub fn verify_chain(
    lock_id: u32,
    lock_key: &PublicKey,
    previous: (u64, [u8; 32]),
    records: &[SignedEvent],
) -> Result<(u64, [u8; 32]), ChainError> {
    records
        .iter()
        .try_fold(previous, |(previous_seq, previous_hash), record| {
            let event = record.event();
            if event.lock_id != lock_id {
                return Err(ChainError::WrongLock { seq: event.seq });
            }
            if !record.verify(lock_key) {
                return Err(ChainError::BadSignature { seq: event.seq });
            }
            if previous_seq.checked_add(1) != Some(event.seq) {
                return Err(ChainError::Gap {
                    previous: previous_seq,
                    found: event.seq,
                });
            }
            if event.prev_hash != previous_hash {
                return Err(ChainError::BrokenLink { seq: event.seq });
            }
            Ok((event.seq, record.hash()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn chain(key: &SigningKey, count: u64) -> Vec<SignedEvent> {
        let rng = SystemRandom::new();
        let mut prev_hash = GENESIS_HASH;
        (1..=count)
            .map(|seq| {
                let event = LockEvent {
                    lock_id: 9,
                    seq,
                    time: 1_796_000_000 + i64::try_from(seq).unwrap(),
                    user_id: 42,
                    credential_id: 77,
                    command: 1,
                    refusal: if seq % 2 == 0 {
                        Some(RefusalReason::Expired)
                    } else {
                        None
                    },
                    prev_hash,
                };
                let signed = event.sign(key, &rng).unwrap();
                prev_hash = signed.hash();
                signed
            })
            .collect()
    }

    #[test]
    fn a_real_chain_verifies_and_round_trips() {
        let (key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
        let records = chain(&key, 5);
        let decoded: Vec<_> = records
            .iter()
            .map(|r| SignedEvent::decode(r.as_bytes()).unwrap())
            .collect();
        assert_eq!(decoded, records);
        let head = verify_chain(9, &key.public_key(), (0, GENESIS_HASH), &decoded).unwrap();
        assert_eq!(head, (5, records[4].hash()));
        // Continuing from the middle works too.
        let head2 =
            verify_chain(9, &key.public_key(), (2, records[1].hash()), &records[2..]).unwrap();
        assert_eq!(head2, head);
    }

    #[test]
    fn missing_reordered_forged_and_foreign_records_are_caught() {
        let rng = SystemRandom::new();
        let (key, _) = SigningKey::generate(&rng).unwrap();
        let (other, _) = SigningKey::generate(&rng).unwrap();
        let records = chain(&key, 4);
        let start = (0, GENESIS_HASH);
        let mut missing = records.clone();
        missing.remove(1);
        assert_eq!(
            verify_chain(9, &key.public_key(), start, &missing),
            Err(ChainError::Gap {
                previous: 1,
                found: 3
            })
        );
        let mut reordered = records.clone();
        reordered.swap(1, 2);
        assert!(verify_chain(9, &key.public_key(), start, &reordered).is_err());
        assert_eq!(
            verify_chain(9, &other.public_key(), start, &records),
            Err(ChainError::BadSignature { seq: 1 })
        );
        assert_eq!(
            verify_chain(8, &key.public_key(), start, &records),
            Err(ChainError::WrongLock { seq: 1 })
        );
        // A record re-signed by the lock key but not linked to its predecessor.
        let mut relinked = records[1].event().clone();
        relinked.prev_hash = [1; 32];
        let mut broken = records.clone();
        broken[1] = relinked.sign(&key, &rng).unwrap();
        assert_eq!(
            verify_chain(9, &key.public_key(), start, &broken),
            Err(ChainError::BrokenLink { seq: 2 })
        );
        let mut tampered = records[0].as_bytes().to_vec();
        tampered[20] ^= 1;
        let tampered = SignedEvent::decode(&tampered).unwrap();
        assert!(!tampered.verify(&key.public_key()));
    }
}
