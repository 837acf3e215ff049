//! The keypad table: which 6-digit PINs open one lock, for whom and when (manual 000 "PIN";
//! manual 003: offline access for PINs is automatic, since the lock keeps the table).
//!
//! The cloud never keeps a PIN: it keeps a verifier, `HMAC-SHA256(site keypad key, label ||
//! pin)`, and signs one table per lock with the site authority. The IQ hands the table to
//! the lock, which applies only an authentic table for itself that is newer than the one it
//! holds, then checks a typed PIN by recomputing its verifier.
//!
//! Layout (version 1): `version u8 | site_id u32 | lock_id u32 | serial u32 | key [32] |
//! count u16 | count × (user_id u32 | verifier [32] | flags u8 | window_count u8 |
//! window_count × (days u8 | start u16 | end u16)) | signature [64]`.

use ring::hmac;
use ring::rand::SecureRandom;

use crate::credential::MAX_WINDOWS_PER_CREDENTIAL;
use crate::handshake::lock::Requester;
use crate::keys::{PublicKey, SigningKey};
use crate::refusal::RefusalReason;
use crate::schedule::{schedule_allows, LocalMinute, ScheduleWindow};
use crate::wire::{open_signed, seal_signed, Reader, Writer};
use crate::{Command, LockPolicy, ProtocolError};

/// Keypad table format version.
pub const KEYPAD_VERSION: u8 = 1;
/// Digits in a keypad PIN.
pub const KEYPAD_PIN_DIGITS: usize = 6;
/// Length of the site keypad key and of a verifier.
pub const KEYPAD_KEY_LEN: usize = 32;
/// Most people one lock's table holds.
pub const MAX_KEYPAD_ENTRIES: usize = 1000;
const TABLE_LABEL: &[u8] = b"KEYWAY-KEYPAD-TABLE-V1";
const PIN_LABEL: &[u8] = b"KEYWAY-KEYPAD-PIN-V1";
const PRIVACY_OVERRIDE: u8 = 1;

/// Whether `pin` is exactly six ASCII digits.
pub fn is_keypad_pin(pin: &str) -> bool {
    pin.len() == KEYPAD_PIN_DIGITS && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The verifier of `pin` under the site keypad `key`.
pub fn keypad_verifier(key: &[u8], pin: &str) -> [u8; KEYPAD_KEY_LEN] {
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key),
        &[PIN_LABEL, pin.as_bytes()].concat(),
    );
    let mut out = [0u8; KEYPAD_KEY_LEN];
    out.copy_from_slice(tag.as_ref());
    out
}

/// One person's PIN at one lock.
#[derive(Clone, PartialEq, Eq)]
pub struct KeypadEntry {
    /// The person (logged in the lock's event).
    pub user_id: u32,
    /// The verifier of their PIN.
    pub verifier: [u8; KEYPAD_KEY_LEN],
    /// May open while privacy mode is engaged.
    pub privacy_override: bool,
    /// Weekly windows in site local time; empty means at any time.
    pub schedule: Vec<ScheduleWindow>,
}

impl std::fmt::Debug for KeypadEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeypadEntry")
            .field("user_id", &self.user_id)
            .field("privacy_override", &self.privacy_override)
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

/// The keypad PINs one lock accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct KeypadTable {
    /// The site whose authority signs it.
    pub site_id: u32,
    /// The lock it is for.
    pub lock_id: u32,
    /// Increases with every table the site issues; a lock keeps the newest.
    pub serial: u32,
    /// The site keypad key the verifiers are made with.
    pub key: [u8; KEYPAD_KEY_LEN],
    /// One entry per person with a PIN and a right on this lock.
    pub entries: Vec<KeypadEntry>,
}

impl std::fmt::Debug for KeypadTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeypadTable")
            .field("site_id", &self.site_id)
            .field("lock_id", &self.lock_id)
            .field("serial", &self.serial)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl KeypadTable {
    /// Encodes and signs with the site authority key.
    pub fn sign(
        &self,
        authority: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, ProtocolError> {
        if self.entries.len() > MAX_KEYPAD_ENTRIES {
            return Err(ProtocolError::TooLong("keypad table"));
        }
        let mut w = Writer::with_capacity(64 + 40 * self.entries.len());
        w.u8(KEYPAD_VERSION)
            .u32(self.site_id)
            .u32(self.lock_id)
            .u32(self.serial)
            .bytes(&self.key)
            .u16(
                u16::try_from(self.entries.len())
                    .map_err(|_| ProtocolError::TooLong("keypad table"))?,
            );
        for entry in &self.entries {
            if entry.schedule.len() > MAX_WINDOWS_PER_CREDENTIAL {
                return Err(ProtocolError::TooLong("keypad entry schedule"));
            }
            entry
                .schedule
                .iter()
                .try_for_each(ScheduleWindow::validate)?;
            w.u32(entry.user_id)
                .bytes(&entry.verifier)
                .u8(if entry.privacy_override {
                    PRIVACY_OVERRIDE
                } else {
                    0
                })
                .u8(u8::try_from(entry.schedule.len())
                    .map_err(|_| ProtocolError::TooLong("keypad entry schedule"))?);
            for window in &entry.schedule {
                w.u8(window.days)
                    .u16(window.start_minute)
                    .u16(window.end_minute);
            }
        }
        seal_signed(w, TABLE_LABEL, authority, rng)
    }

    /// Parses a table and checks the authority signature.
    pub fn decode_verified(bytes: &[u8], authority: &PublicKey) -> Result<Self, ProtocolError> {
        let body = open_signed(bytes, TABLE_LABEL, authority, "keypad table")?;
        let mut r = Reader::new(body);
        let version = r.u8("keypad version")?;
        if version != KEYPAD_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "keypad table",
                found: version,
            });
        }
        let site_id = r.u32("keypad site id")?;
        let lock_id = r.u32("keypad lock id")?;
        let serial = r.u32("keypad serial")?;
        let key = r.array("keypad key")?;
        let count = usize::from(r.u16("keypad entry count")?);
        if count > MAX_KEYPAD_ENTRIES {
            return Err(ProtocolError::TooLong("keypad table"));
        }
        let entries = (0..count)
            .map(|_| read_entry(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        r.finish("keypad table")?;
        Ok(Self {
            site_id,
            lock_id,
            serial,
            key,
            entries,
        })
    }

    /// The lock a signed table names, read without checking anything (to route it; the lock
    /// checks the signature).
    pub fn addressed_lock(bytes: &[u8]) -> Option<u32> {
        // version u8 | site_id u32 | lock_id u32 | ...
        crate::wire::u32_at(bytes, 5)
    }

    /// The entry whose verifier matches `pin`, if any.
    pub fn entry_for(&self, pin: &str) -> Option<&KeypadEntry> {
        if !is_keypad_pin(pin) {
            return None;
        }
        let verifier = keypad_verifier(&self.key, pin);
        self.entries.iter().find(|entry| entry.verifier == verifier)
    }
}

fn read_entry(r: &mut Reader<'_>) -> Result<KeypadEntry, ProtocolError> {
    let user_id = r.u32("keypad user id")?;
    let verifier = r.array("keypad verifier")?;
    let flags = r.u8("keypad flags")?;
    if flags & !PRIVACY_OVERRIDE != 0 {
        return Err(ProtocolError::Invalid("keypad flags"));
    }
    let windows = usize::from(r.u8("keypad window count")?);
    if windows > MAX_WINDOWS_PER_CREDENTIAL {
        return Err(ProtocolError::TooLong("keypad entry schedule"));
    }
    let schedule = (0..windows)
        .map(|_| {
            ScheduleWindow::new(
                r.u8("window days")?,
                r.u16("window start")?,
                r.u16("window end")?,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeypadEntry {
        user_id,
        verifier,
        privacy_override: flags & PRIVACY_OVERRIDE != 0,
        schedule,
    })
}

/// A lock's decision on a typed PIN: the person's schedule on the lock's clock, then privacy
/// mode. An unknown PIN (or no table) is `WrongPin` and names no one.
pub fn check_keypad(
    table: Option<&KeypadTable>,
    pin: &str,
    lock: &impl LockPolicy,
) -> (Requester, Result<Command, RefusalReason>) {
    let mut requester = Requester {
        command: Command::Unlock.code(),
        ..Requester::default()
    };
    let Some(entry) = table.and_then(|table| table.entry_for(pin)) else {
        return (requester, Err(RefusalReason::WrongPin));
    };
    requester.user_id = entry.user_id;
    let local = LocalMinute::from_unix(lock.now(), lock.utc_offset_minutes());
    if !schedule_allows(&entry.schedule, local) {
        return (requester, Err(RefusalReason::OutsideSchedule));
    }
    if lock.privacy_engaged() && !entry.privacy_override {
        return (requester, Err(RefusalReason::PrivacyMode));
    }
    (requester, Ok(Command::Unlock))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn table(key: [u8; 32]) -> KeypadTable {
        KeypadTable {
            site_id: 1,
            lock_id: 5,
            serial: 3,
            key,
            entries: vec![
                KeypadEntry {
                    user_id: 42,
                    verifier: keypad_verifier(&key, "123456"),
                    privacy_override: false,
                    schedule: vec![ScheduleWindow::new(0b0001_1111, 8 * 60, 18 * 60).unwrap()],
                },
                KeypadEntry {
                    user_id: 43,
                    verifier: keypad_verifier(&key, "654321"),
                    privacy_override: true,
                    schedule: Vec::new(),
                },
            ],
        }
    }

    #[test]
    fn a_signed_table_round_trips_and_finds_pins() {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (other, _) = SigningKey::generate(&rng).unwrap();
        let table = table([7; 32]);
        let bytes = table.sign(&authority, &rng).unwrap();
        let back = KeypadTable::decode_verified(&bytes, &authority.public_key()).unwrap();
        assert_eq!(back, table);
        assert_eq!(KeypadTable::addressed_lock(&bytes), Some(5));
        assert_eq!(KeypadTable::addressed_lock(&bytes[..6]), None);
        assert_eq!(back.entry_for("123456").map(|e| e.user_id), Some(42));
        assert_eq!(back.entry_for("654321").map(|e| e.user_id), Some(43));
        assert!(back.entry_for("000000").is_none());
        assert!(back.entry_for("12345").is_none());
        assert!(KeypadTable::decode_verified(&bytes, &other.public_key()).is_err());
        for index in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[index] ^= 0x10;
            assert!(KeypadTable::decode_verified(&flipped, &authority.public_key()).is_err());
        }
        assert!(KeypadTable::decode_verified(&bytes[..20], &authority.public_key()).is_err());
        let debug = format!("{back:?}");
        assert!(
            !debug.contains("key:") && !debug.contains("verifier"),
            "{debug}"
        );
    }

    #[test]
    fn pins_are_six_digits_and_verifiers_depend_on_the_key() {
        assert!(is_keypad_pin("012345"));
        for bad in ["12345", "1234567", "12345a", " 12345", "１２３４５６"] {
            assert!(!is_keypad_pin(bad), "{bad}");
        }
        assert_ne!(
            keypad_verifier(&[1; 32], "123456"),
            keypad_verifier(&[2; 32], "123456")
        );
    }
}
