//! A lock's settings, chosen by the site's admins in the cloud and signed by the site
//! authority; the IQ hands them to the lock, which keeps the newest authentic one.
//!
//! Layout (version 1): `version u8 | site_id u32 | lock_id u32 | serial u32 |
//! door_open_limit_seconds u16 | near_detection_min_rssi i8 (0 = off) | window_count u8 |
//! window_count × (days u8 | start u16 | end u16) | signature [64]`.

use ring::rand::SecureRandom;

use crate::keys::{PublicKey, SigningKey};
use crate::schedule::ScheduleWindow;
use crate::wire::{open_signed, read_windows, seal_signed, write_windows, Reader, Writer};
use crate::ProtocolError;

/// Settings format version.
pub const LOCK_SETTINGS_VERSION: u8 = 1;
/// How long a door may stay open before the lock reports it left open, unless set.
pub const DEFAULT_DOOR_OPEN_LIMIT_SECONDS: u16 = 30;
const LABEL: &[u8] = b"KEYWAY-LOCK-SETTINGS-V1";

/// What the admins set for one lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSettings {
    /// The site.
    pub site_id: u32,
    /// The lock.
    pub lock_id: u32,
    /// Rises with every settings message built for this lock.
    pub serial: u32,
    /// Seconds the door may stay open before the lock reports it left open.
    pub door_open_limit_seconds: u16,
    /// Near Detection Mode: the weakest phone signal (dBm, negative) the lock accepts a BLE
    /// unlock from; `None` when off.
    pub near_detection_min_rssi: Option<i8>,
    /// Easy Office Mode: weekly windows in site local time during which a tag with the
    /// office-mode right switches office mode; at the end of a window the lock locks itself.
    pub easy_office_schedule: Vec<ScheduleWindow>,
}

impl LockSettings {
    /// The settings of a lock nobody configured.
    pub fn defaults(site_id: u32, lock_id: u32) -> Self {
        Self {
            site_id,
            lock_id,
            serial: 0,
            door_open_limit_seconds: DEFAULT_DOOR_OPEN_LIMIT_SECONDS,
            near_detection_min_rssi: None,
            easy_office_schedule: Vec::new(),
        }
    }

    /// Encodes and signs with the site authority key.
    pub fn sign(
        &self,
        authority: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, ProtocolError> {
        let rssi = match self.near_detection_min_rssi {
            None => 0,
            Some(rssi) if rssi < 0 => rssi,
            Some(_) => return Err(ProtocolError::Invalid("near detection RSSI")),
        };
        let mut w = Writer::with_capacity(32 + 5 * self.easy_office_schedule.len());
        w.u8(LOCK_SETTINGS_VERSION)
            .u32(self.site_id)
            .u32(self.lock_id)
            .u32(self.serial)
            .u16(self.door_open_limit_seconds)
            .bytes(&rssi.to_be_bytes());
        write_windows(&mut w, &self.easy_office_schedule, "easy office schedule")?;
        seal_signed(w, LABEL, authority, rng)
    }

    /// Parses settings and checks the authority signature.
    pub fn decode_verified(bytes: &[u8], authority: &PublicKey) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(open_signed(bytes, LABEL, authority, "lock settings")?);
        let version = r.u8("lock settings version")?;
        if version != LOCK_SETTINGS_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "lock settings",
                found: version,
            });
        }
        let site_id = r.u32("settings site id")?;
        let lock_id = r.u32("settings lock id")?;
        let serial = r.u32("settings serial")?;
        let door_open_limit_seconds = r.u16("door open limit")?;
        let rssi = i8::from_be_bytes([r.u8("near detection RSSI")?]);
        let near_detection_min_rssi = match rssi {
            0 => None,
            rssi if rssi < 0 => Some(rssi),
            _ => return Err(ProtocolError::Invalid("near detection RSSI")),
        };
        let easy_office_schedule = read_windows(&mut r, "easy office schedule")?;
        r.finish("lock settings")?;
        Ok(Self {
            site_id,
            lock_id,
            serial,
            door_open_limit_seconds,
            near_detection_min_rssi,
            easy_office_schedule,
        })
    }

    /// The lock signed settings name, read without checking anything (to route them).
    pub fn addressed_lock(bytes: &[u8]) -> Option<u32> {
        // version u8 | site_id u32 | lock_id u32 | ...
        crate::wire::u32_at(bytes, 5)
    }
}
