//! Tags: the physical NFC credentials of a site (manual 000: the master key "is always a
//! physical tag"), and the signed lists that tell a lock which tags open it.
//!
//! **Authentication.** Every tag holds its own P-256 key pair, made on the card when it is
//! registered; the private half never leaves the card. The cloud keeps the public half. At a
//! lock, the tag answers a fresh challenge by signing `label || site_id || lock_id || tag_id ||
//! nonce`, and the lock verifies the answer with the public key its list holds for that tag
//! id. A card carrying a copied tag id has no private key, so its answer does not verify
//! ([`RefusalReason::TagNotAuthentic`]). A public key per tag (rather than keys diversified
//! from a site key the locks hold) means no lock holds a secret that forges tags: a lock taken
//! off a door gives nothing away.
//!
//! **Lists.** The cloud signs, per lock, an online list (every tag with a right to the lock now,
//! held by the IQ) and an offline list (tags with offline access, master keys first, stored in
//! the lock itself up to its capacity). Layout (version 1): `version u8 | kind u8 | site_id
//! u32 | lock_id u32 | serial u32 | count u16 | count × (tag_id u64 | user_id u32 |
//! tag_key [65] | flags u8 | window_count u8 | window_count × (days u8 | start u16 | end
//! u16)) | signature [64]`: an entry takes [`TAG_ENTRY_LEN`] bytes plus 5 per window.

use ring::rand::SecureRandom;

use crate::handshake::lock::Requester;
use crate::keys::{PublicKey, SigningKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};
use crate::refusal::RefusalReason;
use crate::schedule::{schedule_allows, LocalMinute, ScheduleWindow};
use crate::wire::{open_signed, read_windows, seal_signed, write_windows, Reader, Writer};
use crate::{Command, LockPolicy, ProtocolError};

/// Tag list format version.
pub const TAG_LIST_VERSION: u8 = 1;
/// Bytes of a lock's challenge to a tag.
pub const TAG_NONCE_LEN: usize = 16;
/// Bytes one list entry takes without schedule windows.
pub const TAG_ENTRY_LEN: usize = 8 + 4 + PUBLIC_KEY_LEN + 1 + 1;
/// Most entries one list may hold.
pub const MAX_TAG_LIST_ENTRIES: usize = 10_000;
/// How long a tag must be held at the lock to switch office mode (manual 000: "presenting the
/// tag for more than 5 seconds on a BLUEnet lock").
pub const OFFICE_MODE_HOLD_SECONDS: u32 = 5;
/// Set in an event's credential id when the credential was a tag (tag ids are 56-bit UIDs).
pub const TAG_EVENT_BIT: u64 = 1 << 63;
const ANSWER_LABEL: &[u8] = b"KEYWAY-TAG-ANSWER-V1";
const LIST_LABEL: &[u8] = b"KEYWAY-TAG-LIST-V1";

/// The credential id a lock logs for a tag.
pub fn tag_event_credential_id(tag_id: u64) -> u64 {
    tag_id | TAG_EVENT_BIT
}

/// The tag id of a logged credential id, when it was a tag.
pub fn tag_of_event_credential(credential_id: u64) -> Option<u64> {
    (credential_id & TAG_EVENT_BIT != 0).then_some(credential_id & !TAG_EVENT_BIT)
}

fn answer_message(site_id: u32, lock_id: u32, tag_id: u64, nonce: &[u8; TAG_NONCE_LEN]) -> Vec<u8> {
    let mut w = Writer::with_capacity(ANSWER_LABEL.len() + 16 + TAG_NONCE_LEN);
    w.bytes(ANSWER_LABEL)
        .u32(site_id)
        .u32(lock_id)
        .u64(tag_id)
        .bytes(nonce);
    w.into_vec()
}

/// The tag's side: signs the lock's challenge with the card's own key.
pub fn answer_challenge(
    tag_key: &SigningKey,
    site_id: u32,
    lock_id: u32,
    tag_id: u64,
    nonce: &[u8; TAG_NONCE_LEN],
    rng: &dyn SecureRandom,
) -> Result<[u8; SIGNATURE_LEN], ProtocolError> {
    tag_key.sign(&answer_message(site_id, lock_id, tag_id, nonce), rng)
}

/// The lock's side: whether `answer` is the registered tag's signature over this challenge.
pub fn verify_answer(
    tag_key: &PublicKey,
    site_id: u32,
    lock_id: u32,
    tag_id: u64,
    nonce: &[u8; TAG_NONCE_LEN],
    answer: &[u8],
) -> bool {
    tag_key.verify(&answer_message(site_id, lock_id, tag_id, nonce), answer)
}

/// Which list it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TagListKind {
    /// Every tag with a right to the lock now: the IQ holds it and answers the lock from it.
    Online = 1,
    /// The tags the lock stores for when it cannot reach its IQ (offline access).
    Offline = 2,
}

impl TagListKind {
    fn from_code(code: u8) -> Result<Self, ProtocolError> {
        match code {
            1 => Ok(Self::Online),
            2 => Ok(Self::Offline),
            _ => Err(ProtocolError::Invalid("tag list kind")),
        }
    }
}

/// A tag's rights beyond opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TagFlags {
    /// Master key: on fallback it opens 24/7, ignoring the schedule (manual 000, 003).
    pub master_key: bool,
    /// May open while privacy mode is engaged.
    pub privacy_override: bool,
    /// May switch office mode (manual and easy office mode).
    pub office_mode: bool,
}

impl TagFlags {
    const MASTER_KEY: u8 = 1;
    const PRIVACY_OVERRIDE: u8 = 2;
    const OFFICE_MODE: u8 = 4;

    fn to_byte(self) -> u8 {
        [
            (self.master_key, Self::MASTER_KEY),
            (self.privacy_override, Self::PRIVACY_OVERRIDE),
            (self.office_mode, Self::OFFICE_MODE),
        ]
        .into_iter()
        .filter(|(set, _)| *set)
        .fold(0, |byte, (_, bit)| byte | bit)
    }

    fn from_byte(byte: u8) -> Result<Self, ProtocolError> {
        if byte & !(Self::MASTER_KEY | Self::PRIVACY_OVERRIDE | Self::OFFICE_MODE) != 0 {
            return Err(ProtocolError::Invalid("tag flags"));
        }
        Ok(Self {
            master_key: byte & Self::MASTER_KEY != 0,
            privacy_override: byte & Self::PRIVACY_OVERRIDE != 0,
            office_mode: byte & Self::OFFICE_MODE != 0,
        })
    }
}

/// One tag a lock may open for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEntry {
    /// The tag's id (its UID).
    pub tag_id: u64,
    /// Its holder.
    pub user_id: u32,
    /// The public half of the card's key.
    pub tag_key: PublicKey,
    /// Its rights beyond opening.
    pub flags: TagFlags,
    /// Weekly windows in site local time (from the holder's access groups); empty is always.
    pub schedule: Vec<ScheduleWindow>,
}

/// A lock's tag list, signed by the site authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagList {
    /// Online (the IQ's) or offline (the lock's own).
    pub kind: TagListKind,
    /// The site.
    pub site_id: u32,
    /// The lock.
    pub lock_id: u32,
    /// Rises with every list built for this lock; a lock keeps the newest it saw.
    pub serial: u32,
    /// The tags.
    pub entries: Vec<TagEntry>,
}

impl TagList {
    /// Encodes and signs with the site authority key.
    pub fn sign(
        &self,
        authority: &SigningKey,
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, ProtocolError> {
        if self.entries.len() > MAX_TAG_LIST_ENTRIES {
            return Err(ProtocolError::TooLong("tag list"));
        }
        let mut w = Writer::with_capacity(16 + (TAG_ENTRY_LEN + 5) * self.entries.len());
        w.u8(TAG_LIST_VERSION)
            .u8(self.kind as u8)
            .u32(self.site_id)
            .u32(self.lock_id)
            .u32(self.serial)
            .u16(
                u16::try_from(self.entries.len())
                    .map_err(|_| ProtocolError::TooLong("tag list"))?,
            );
        for entry in &self.entries {
            w.u64(entry.tag_id)
                .u32(entry.user_id)
                .bytes(entry.tag_key.as_bytes())
                .u8(entry.flags.to_byte());
            write_windows(&mut w, &entry.schedule, "tag schedule")?;
        }
        seal_signed(w, LIST_LABEL, authority, rng)
    }

    /// Parses a list and checks the authority signature.
    pub fn decode_verified(bytes: &[u8], authority: &PublicKey) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(open_signed(bytes, LIST_LABEL, authority, "tag list")?);
        let version = r.u8("tag list version")?;
        if version != TAG_LIST_VERSION {
            return Err(ProtocolError::UnsupportedVersion {
                what: "tag list",
                found: version,
            });
        }
        let kind = TagListKind::from_code(r.u8("tag list kind")?)?;
        let site_id = r.u32("tag list site id")?;
        let lock_id = r.u32("tag list lock id")?;
        let serial = r.u32("tag list serial")?;
        let count = usize::from(r.u16("tag list count")?);
        if count > MAX_TAG_LIST_ENTRIES {
            return Err(ProtocolError::TooLong("tag list"));
        }
        let entries = (0..count)
            .map(|_| {
                Ok(TagEntry {
                    tag_id: r.u64("tag id")?,
                    user_id: r.u32("tag user id")?,
                    tag_key: PublicKey::from_bytes(r.take(PUBLIC_KEY_LEN, "tag key")?)?,
                    flags: TagFlags::from_byte(r.u8("tag flags")?)?,
                    schedule: read_windows(&mut r, "tag schedule")?,
                })
            })
            .collect::<Result<Vec<_>, ProtocolError>>()?;
        r.finish("tag list")?;
        Ok(Self {
            kind,
            site_id,
            lock_id,
            serial,
            entries,
        })
    }

    /// The lock a signed list names, read without checking anything (to route it; the lock
    /// checks the signature).
    pub fn addressed_lock(bytes: &[u8]) -> Option<u32> {
        // version u8 | kind u8 | site_id u32 | lock_id u32 | ...
        crate::wire::u32_at(bytes, 6)
    }

    /// The entry for a tag id, if listed.
    pub fn entry(&self, tag_id: u64) -> Option<&TagEntry> {
        self.entries.iter().find(|entry| entry.tag_id == tag_id)
    }

    /// Bytes the entries take in a lock's storage.
    pub fn stored_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|entry| TAG_ENTRY_LEN + 5 * entry.schedule.len())
            .sum()
    }
}

/// Where the lock found the tag's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSource {
    /// The IQ's online list: the cloud's current rights.
    Online,
    /// The lock's own offline list, because it could not reach its IQ (or the IQ's rules are
    /// too old): a master key then opens 24/7.
    Fallback,
}

/// A tag presented at a lock: what it asked for and how it answered the challenge.
#[derive(Debug, Clone, Copy)]
pub struct TagPresentation<'a> {
    /// The id the card gave.
    pub tag_id: u64,
    /// The lock's challenge.
    pub nonce: &'a [u8; TAG_NONCE_LEN],
    /// The card's answer.
    pub answer: &'a [u8],
    /// Open, or switch office mode (tag held long enough, or easy office mode in force).
    pub command: Command,
}

/// A lock's decision on a presented tag: a listed tag, an authentic answer, the schedule on
/// the lock's clock (not for a master key on fallback), the office-mode right for an
/// office-mode switch, then privacy mode.
pub fn check_tag(
    entry: Option<&TagEntry>,
    source: TagSource,
    presented: &TagPresentation<'_>,
    lock: &impl LockPolicy,
) -> (Requester, Result<Command, RefusalReason>) {
    let mut requester = Requester {
        user_id: 0,
        credential_id: tag_event_credential_id(presented.tag_id),
        command: presented.command.code(),
    };
    let Some(entry) = entry else {
        return (requester, Err(RefusalReason::UnknownTag));
    };
    if !verify_answer(
        &entry.tag_key,
        lock.site_id(),
        lock.lock_id(),
        presented.tag_id,
        presented.nonce,
        presented.answer,
    ) {
        return (requester, Err(RefusalReason::TagNotAuthentic));
    }
    requester.user_id = entry.user_id;
    let master_fallback = entry.flags.master_key && source == TagSource::Fallback;
    let local = LocalMinute::from_unix(lock.now(), lock.utc_offset_minutes());
    if !master_fallback && !schedule_allows(&entry.schedule, local) {
        return (requester, Err(RefusalReason::OutsideSchedule));
    }
    if presented.command.is_office_mode() && !entry.flags.office_mode {
        return (requester, Err(RefusalReason::CommandNotAllowed));
    }
    if lock.privacy_engaged() && !entry.flags.privacy_override {
        return (requester, Err(RefusalReason::PrivacyMode));
    }
    (requester, Ok(presented.command))
}
