//! Bodies of what a lock enforces, as admins manage it: tags (`/sites/{site_id}/tags`), a
//! lock's settings (`/locks/{lock_id}/settings`) and what its offline storage holds
//! (`/locks/{lock_id}/offline`). Tag ids travel as 14 hexadecimal digits (the card's 7-byte
//! UID): a JSON number would lose digits in JavaScript.

use serde::{Deserialize, Serialize};

use crate::ScheduleWindow;

/// A tag's id in a path: 14 hexadecimal digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TagUid(pub u64);

impl TagUid {
    /// The id's text (`04a2197c338001`).
    pub fn to_hex(self) -> String {
        format!("{:014x}", self.0)
    }

    /// Reads 14 hexadecimal digits; `None` for anything else (or zero).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(text, 16)
            .ok()
            .filter(|uid| *uid != 0)
            .map(Self)
    }
}

impl std::fmt::Display for TagUid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// `POST /api/v1/sites/{site_id}/tags`: registers a tag read at an enrolment reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterTagRequest {
    /// The card's UID, 14 hexadecimal digits.
    pub tag_id: String,
    /// The public half of the key made on the card (base64, P-256 uncompressed).
    pub public_key: String,
    /// The person who gets it, if any yet.
    #[serde(default)]
    pub user_id: Option<u32>,
}

/// `PATCH /api/v1/sites/{site_id}/tags/{tag_id}`: hands a tag over, or changes its rights.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTagRequest {
    /// Hands the tag to this person of the site.
    #[serde(default)]
    pub user_id: Option<u32>,
    /// Takes the tag back from its holder (it stays registered to the site).
    #[serde(default)]
    pub unassign: bool,
    /// Offline access (owner and admins only): stored in the locks for when they cannot
    /// reach their IQ.
    #[serde(default)]
    pub offline_access: Option<bool>,
    /// Master key (owner and admins only): on fallback, opens its groups' locks 24/7.
    #[serde(default)]
    pub master_key: Option<bool>,
}

/// A tag of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagView {
    /// The card's UID, 14 hexadecimal digits.
    pub tag_id: String,
    /// Its holder, if handed over.
    pub user_id: Option<u32>,
    /// Stored in the locks for offline use.
    pub offline_access: bool,
    /// A master key: chosen by an admin, or because its holder owns the site.
    pub master_key: bool,
    /// The holder owns the site: the master key cannot be taken away.
    pub master_key_fixed: bool,
    /// When it was registered (Unix seconds).
    pub created_at: i64,
}

/// A lock's settings (owner and admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockSettingsView {
    /// The lock.
    pub lock_id: u32,
    /// Seconds the door may stay open before the owner is alerted (default 30).
    pub door_open_limit_seconds: u16,
    /// Near Detection Mode: the lock answers only a phone held close (its IQ needs firmware
    /// 2.3 or later).
    pub near_detection: bool,
    /// Easy Office Mode windows (site local time): a tag with the office-mode right switches
    /// office mode in them; at the end of one the lock locks itself.
    pub easy_office_schedule: Vec<ScheduleWindow>,
    /// Offline list entries the lock's model stores.
    pub offline_capacity: u32,
}

/// `PATCH /api/v1/sites/{site_id}/locks/{lock_id}/settings`: what to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateLockSettingsRequest {
    /// Seconds, 5 to 3600.
    #[serde(default)]
    pub door_open_limit_seconds: Option<u16>,
    /// Turns Near Detection Mode on or off.
    #[serde(default)]
    pub near_detection: Option<bool>,
    /// Replaces the Easy Office Mode windows (empty: off).
    #[serde(default)]
    pub easy_office_schedule: Option<Vec<ScheduleWindow>>,
}

/// One tag in a lock's offline list, or left out of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfflineEntryView {
    /// The tag's UID.
    pub tag_id: String,
    /// Its holder.
    pub user_id: u32,
    /// A master key (synced first).
    pub master_key: bool,
}

/// `GET /api/v1/sites/{site_id}/locks/{lock_id}/offline`: what the lock stores for when it
/// cannot reach its IQ. Master keys come first; what does not fit is listed as not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfflineStorageView {
    /// The lock.
    pub lock_id: u32,
    /// Entries its model stores.
    pub capacity: u32,
    /// Bytes the stored entries take.
    pub stored_bytes: u32,
    /// Stored, in sync order.
    pub stored: Vec<OfflineEntryView>,
    /// Entitled to offline access but beyond the lock's capacity.
    pub not_stored: Vec<OfflineEntryView>,
}

/// What a lock last reported through its IQ or a phone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockStateView {
    /// Battery level in percent, once reported.
    pub battery_percent: Option<u8>,
    /// Whether the door is open, once reported.
    pub door_open: Option<bool>,
    /// Privacy mode engaged from inside.
    pub privacy_engaged: bool,
    /// When the lock last reported (lock time, Unix seconds).
    pub reported_at: Option<i64>,
    /// When the battery level was reported (lock time, Unix seconds).
    #[serde(default)]
    pub battery_reported_at: Option<i64>,
    /// When the door was last reported open or closed (lock time, Unix seconds).
    #[serde(default)]
    pub door_reported_at: Option<i64>,
    /// When privacy mode was last reported engaged or released (lock time, Unix seconds).
    #[serde(default)]
    pub privacy_reported_at: Option<i64>,
}

/// Who may use an XS4 locker lock (manual 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LockerAssignment {
    /// "A specific user … operates a specific locker lock": at most one person.
    Fixed,
    /// "Multiple users to operate a single locker."
    Family,
}

/// `PUT /api/v1/sites/{site_id}/locks/{lock_id}/locker`: makes the lock a locker and sets
/// who uses it (an empty list frees it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetLockerRequest {
    /// Fixed (one person) or family (several).
    pub assignment: LockerAssignment,
    /// The people who use it.
    pub user_ids: Vec<u32>,
}

/// A locker as the admin monitors it (manual 000: "Monitor online the status of the locker
/// … the battery status … Know if the locker was opened").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockerView {
    /// The lock.
    pub lock_id: u32,
    /// Its name.
    pub name: String,
    /// Fixed or family.
    pub assignment: LockerAssignment,
    /// Who uses it.
    pub user_ids: Vec<u32>,
    /// Someone is assigned to it.
    pub occupied: bool,
    /// What it last reported: door (open or locked), battery, privacy.
    pub state: LockStateView,
    /// Who last opened it, from its signed event log.
    pub last_opened_by: Option<u32>,
    /// When (lock time, Unix seconds).
    pub last_opened_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_ids_are_fourteen_hex_digits() {
        let uid = TagUid(0x04_a2_19_7c_33_80_01);
        assert_eq!(uid.to_hex(), "04a2197c338001");
        assert_eq!(TagUid::parse("04A2197C338001"), Some(uid));
        for bad in [
            "",
            "4a2197c338001",
            "04a2197c33800g",
            "00000000000000",
            "+4a2197c338001",
        ] {
            assert_eq!(TagUid::parse(bad), None, "{bad}");
        }
    }
}
