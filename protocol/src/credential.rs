//! The digital key: a compact, versioned binary credential signed by the site authority.
//!
//! Layout (version 1, big-endian):
//! `version u8 | flags u8 | credential_id u64 | site_id u32 | user_id u32 | epoch u32 |
//!  not_before i64 | not_after i64 | device_key [65] | lock_count u8 | lock_id u32 * n |
//!  window_count u8 | (days u8, start u16, end u16) * m | signature [64]`.
//! The signature covers a domain label and every byte before it.

use ring::rand::SecureRandom;

use crate::keys::{PublicKey, SigningKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};
use crate::schedule::ScheduleWindow;
use crate::wire::{Reader, Writer};
use crate::ProtocolError;

/// Credential format version this crate writes and reads.
pub const CREDENTIAL_VERSION: u8 = 1;
/// Most locks one credential may name.
pub const MAX_LOCKS_PER_CREDENTIAL: usize = 255;
/// Most schedule windows one credential may carry.
pub const MAX_WINDOWS_PER_CREDENTIAL: usize = 32;
const SIGNING_LABEL: &[u8] = b"KEYWAY-CREDENTIAL-V1";

/// Rights carried by a credential beyond opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CredentialFlags {
    /// Master key: opens 24/7, ignoring the schedule windows (manual 003).
    pub master_key: bool,
    /// May open a lock whose privacy mode is engaged (manual 000).
    pub privacy_override: bool,
    /// May set and unset office mode on the lock.
    pub office_mode: bool,
    /// Offline access (manual 003): the lock opens for it on its own signature even when it
    /// cannot confirm revocations with its IQ. Without it, a lock paired with an IQ opens only
    /// while its revocation state is fresh.
    pub offline_access: bool,
}

impl CredentialFlags {
    const MASTER_KEY: u8 = 1 << 0;
    const PRIVACY_OVERRIDE: u8 = 1 << 1;
    const OFFICE_MODE: u8 = 1 << 2;
    const OFFLINE_ACCESS: u8 = 1 << 3;
    const KNOWN: u8 =
        Self::MASTER_KEY | Self::PRIVACY_OVERRIDE | Self::OFFICE_MODE | Self::OFFLINE_ACCESS;

    fn to_byte(self) -> u8 {
        let mut byte = 0;
        if self.master_key {
            byte |= Self::MASTER_KEY;
        }
        if self.privacy_override {
            byte |= Self::PRIVACY_OVERRIDE;
        }
        if self.office_mode {
            byte |= Self::OFFICE_MODE;
        }
        if self.offline_access {
            byte |= Self::OFFLINE_ACCESS;
        }
        byte
    }

    fn from_byte(byte: u8) -> Result<Self, ProtocolError> {
        if byte & !Self::KNOWN != 0 {
            return Err(ProtocolError::Invalid("credential flags"));
        }
        Ok(Self {
            master_key: byte & Self::MASTER_KEY != 0,
            privacy_override: byte & Self::PRIVACY_OVERRIDE != 0,
            office_mode: byte & Self::OFFICE_MODE != 0,
            offline_access: byte & Self::OFFLINE_ACCESS != 0,
        })
    }
}

/// What a credential grants: the fields the authority signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Unique id, used by denylists.
    pub credential_id: u64,
    /// The site whose authority signs it.
    pub site_id: u32,
    /// The person it was issued to.
    pub user_id: u32,
    /// The device key that must sign each unlock request.
    pub device_key: PublicKey,
    /// Locks it opens.
    pub lock_ids: Vec<u32>,
    /// Valid from (Unix seconds, inclusive).
    pub not_before: i64,
    /// Valid until (Unix seconds, exclusive).
    pub not_after: i64,
    /// Weekly windows in site local time; empty means at any time.
    pub schedule: Vec<ScheduleWindow>,
    /// Extra rights.
    pub flags: CredentialFlags,
    /// The site revocation epoch it was issued in; locks refuse older epochs.
    pub revocation_epoch: u32,
}

impl Credential {
    /// Whether the credential names this lock.
    pub fn covers_lock(&self, lock_id: u32) -> bool {
        self.lock_ids.contains(&lock_id)
    }

    fn validate(&self) -> Result<(), ProtocolError> {
        if self.lock_ids.is_empty() {
            return Err(ProtocolError::Invalid("credential names no lock"));
        }
        if self.lock_ids.len() > MAX_LOCKS_PER_CREDENTIAL {
            return Err(ProtocolError::TooLong("credential lock list"));
        }
        if self.schedule.len() > MAX_WINDOWS_PER_CREDENTIAL {
            return Err(ProtocolError::TooLong("credential schedule"));
        }
        if self.not_before >= self.not_after {
            return Err(ProtocolError::Invalid("credential validity period"));
        }
        self.schedule.iter().try_for_each(ScheduleWindow::validate)
    }

    fn encode_body(&self) -> Result<Writer, ProtocolError> {
        self.validate()?;
        let mut w = Writer::with_capacity(
            2 + 8
                + 4 * 3
                + 16
                + PUBLIC_KEY_LEN
                + 2
                + 4 * self.lock_ids.len()
                + 5 * self.schedule.len()
                + SIGNATURE_LEN,
        );
        w.u8(CREDENTIAL_VERSION)
            .u8(self.flags.to_byte())
            .u64(self.credential_id)
            .u32(self.site_id)
            .u32(self.user_id)
            .u32(self.revocation_epoch)
            .i64(self.not_before)
            .i64(self.not_after)
            .bytes(self.device_key.as_bytes())
            .u8(u8::try_from(self.lock_ids.len())
                .map_err(|_| ProtocolError::TooLong("lock ids"))?);
        for lock_id in &self.lock_ids {
            w.u32(*lock_id);
        }
        w.u8(u8::try_from(self.schedule.len()).map_err(|_| ProtocolError::TooLong("schedule"))?);
        for window in &self.schedule {
            w.u8(window.days)
                .u16(window.start_minute)
                .u16(window.end_minute);
        }
        Ok(w)
    }

    /// Encodes and signs with the site authority key.
    pub fn sign(
        &self,
        authority: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<SignedCredential, ProtocolError> {
        let mut w = self.encode_body()?;
        let signature = authority.sign(&signed_message(w.as_slice()), rng)?;
        w.bytes(&signature);
        Ok(SignedCredential {
            credential: self.clone(),
            bytes: w.into_vec(),
        })
    }
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    [SIGNING_LABEL, body].concat()
}

/// A credential with its exact signed bytes, as carried by the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCredential {
    credential: Credential,
    bytes: Vec<u8>,
}

impl SignedCredential {
    /// Parses the bytes without checking the signature (to inspect a key in the wallet).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("credential version")?;
        if version != CREDENTIAL_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "credential",
                found: version,
            });
        }
        let flags = CredentialFlags::from_byte(r.u8("credential flags")?)?;
        let credential_id = r.u64("credential id")?;
        let site_id = r.u32("site id")?;
        let user_id = r.u32("user id")?;
        let revocation_epoch = r.u32("revocation epoch")?;
        let not_before = r.i64("not before")?;
        let not_after = r.i64("not after")?;
        let device_key = PublicKey::from_bytes(r.take(PUBLIC_KEY_LEN, "device key")?)?;
        let lock_count = r.u8("lock count")?;
        let lock_ids = (0..lock_count)
            .map(|_| r.u32("lock id"))
            .collect::<Result<Vec<_>, _>>()?;
        let window_count = usize::from(r.u8("window count")?);
        if window_count > MAX_WINDOWS_PER_CREDENTIAL {
            return Err(ProtocolError::TooLong("credential schedule"));
        }
        let schedule = (0..window_count)
            .map(|_| {
                Ok(ScheduleWindow {
                    days: r.u8("window days")?,
                    start_minute: r.u16("window start")?,
                    end_minute: r.u16("window end")?,
                })
            })
            .collect::<Result<Vec<_>, ProtocolError>>()?;
        r.take(SIGNATURE_LEN, "credential signature")?;
        r.finish("credential")?;
        let credential = Credential {
            credential_id,
            site_id,
            user_id,
            device_key,
            lock_ids,
            not_before,
            not_after,
            schedule,
            flags,
            revocation_epoch,
        };
        credential.validate()?;
        Ok(Self {
            credential,
            bytes: bytes.to_vec(),
        })
    }

    /// Parses the bytes and checks the authority signature.
    pub fn decode_verified(bytes: &[u8], authority: &PublicKey) -> Result<Self, ProtocolError> {
        let parsed = Self::decode(bytes)?;
        if parsed.verify(authority) {
            Ok(parsed)
        } else {
            Err(ProtocolError::BadSignature("credential"))
        }
    }

    /// Whether the authority signature on these bytes verifies.
    pub fn verify(&self, authority: &PublicKey) -> bool {
        let split = self.bytes.len().saturating_sub(SIGNATURE_LEN);
        let (body, signature) = self.bytes.split_at(split);
        authority.verify(&signed_message(body), signature)
    }

    /// The signed fields.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The exact bytes (body and signature).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn sample(device_key: PublicKey) -> Credential {
        Credential {
            credential_id: 0x0102_0304_0506_0708,
            site_id: 7,
            user_id: 42,
            device_key,
            lock_ids: vec![1001],
            not_before: 1_796_000_000,
            not_after: 1_796_000_000 + 86_400,
            schedule: vec![ScheduleWindow::new(0b0001_1111, 8 * 60, 18 * 60).unwrap()],
            flags: CredentialFlags {
                privacy_override: true,
                ..Default::default()
            },
            revocation_epoch: 3,
        }
    }

    #[test]
    fn single_lock_credential_round_trips_within_200_bytes() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (device, _) = SigningKey::generate(&rng).unwrap();
        let signed = sample(device.public_key()).sign(&authority, &rng).unwrap();
        assert!(
            signed.as_bytes().len() <= 200,
            "{} bytes",
            signed.as_bytes().len()
        );
        let back =
            SignedCredential::decode_verified(signed.as_bytes(), &authority.public_key()).unwrap();
        assert_eq!(back.credential(), signed.credential());
    }

    #[test]
    fn any_flipped_bit_is_caught() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (device, _) = SigningKey::generate(&rng).unwrap();
        let signed = sample(device.public_key()).sign(&authority, &rng).unwrap();
        for index in 0..signed.as_bytes().len() {
            let mut bytes = signed.as_bytes().to_vec();
            bytes[index] ^= 0x01;
            assert!(
                SignedCredential::decode_verified(&bytes, &authority.public_key()).is_err(),
                "flip at byte {index} went unnoticed"
            );
        }
    }

    #[test]
    fn another_authority_is_refused() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (other, _) = SigningKey::generate(&rng).unwrap();
        let (device, _) = SigningKey::generate(&rng).unwrap();
        let signed = sample(device.public_key()).sign(&other, &rng).unwrap();
        assert_eq!(
            SignedCredential::decode_verified(signed.as_bytes(), &authority.public_key()),
            Err(ProtocolError::BadSignature("credential"))
        );
    }

    #[test]
    fn truncated_and_padded_input_is_malformed() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (device, _) = SigningKey::generate(&rng).unwrap();
        let signed = sample(device.public_key()).sign(&authority, &rng).unwrap();
        let bytes = signed.as_bytes();
        for len in 0..bytes.len() {
            assert!(SignedCredential::decode(&bytes[..len]).is_err());
        }
        let mut padded = bytes.to_vec();
        padded.push(0);
        assert_eq!(
            SignedCredential::decode(&padded),
            Err(ProtocolError::TrailingBytes("credential"))
        );
    }

    #[test]
    fn nonsense_fields_are_refused_before_signing() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let mut credential = sample(authority.public_key());
        credential.lock_ids.clear();
        assert!(credential.sign(&authority, &rng).is_err());
        let mut credential = sample(authority.public_key());
        credential.not_after = credential.not_before;
        assert!(credential.sign(&authority, &rng).is_err());
    }
}
