//! What an IQ hands its locks, built fresh for every configuration: per lock, the online tag
//! list (every tag whose holder's access groups open the lock now), the offline tag list
//! (tags with offline access and master keys, master keys first, cut at the lock's storage),
//! the lock's settings, all signed by the site authority; and the site's live revocation
//! updates, so denylists reach the locks without a phone carrying them.
//!
//! Removal from an access group takes the tag out of both lists of that group's locks at
//! the next push: the offline right goes with the access (manual 003).

use keyway_api::lock_rules::{OfflineEntryView, OfflineStorageView, TagUid};
use keyway_protocol::iq::HexBytes;
use keyway_protocol::tag::{TagEntry, TagFlags, TagList, TagListKind};
use keyway_protocol::{PublicKey, SigningKey};
use ring::rand::SystemRandom;
use rusqlite::Connection;

use super::settings::lock_settings;
use crate::error::{ApiError, ApiResult};
use crate::issuing::site_authority;
use crate::remote::rights::lock_schedules;
use crate::store::rows;

/// A tag of the site with its holder's rights.
struct HeldTag {
    uid: u64,
    user_id: u32,
    key: PublicKey,
    offline: bool,
    flags: TagFlags,
}

/// `tag_uid, user_id, public_key, offline, master, privacy_override, office_mode`.
type TagRow = (i64, u32, Vec<u8>, bool, bool, bool, bool);

fn held_tags(db: &Connection, site_id: u32) -> ApiResult<Vec<HeldTag>> {
    let raw: Vec<TagRow> = rows(
        db,
        "SELECT t.tag_uid, t.user_id, t.public_key,
                t.offline_access OR t.master_key OR m.role = 'owner',
                t.master_key OR m.role = 'owner', m.privacy_override, m.office_mode
         FROM tags t JOIN memberships m ON m.site_id = t.site_id AND m.user_id = t.user_id
         WHERE t.site_id = ?1 AND m.suspended_at IS NULL
         ORDER BY t.master_key OR m.role = 'owner' DESC, t.tag_uid",
        [site_id],
        |row| row.try_into(),
    )?;
    raw.into_iter()
        .map(|(uid, user_id, key, offline, master, privacy, office)| {
            Ok(HeldTag {
                uid: u64::try_from(uid)
                    .map_err(|_| ApiError::Internal(format!("stored tag id {uid}")))?,
                user_id,
                key: PublicKey::from_bytes(&key)
                    .map_err(|error| ApiError::Internal(format!("tag {uid} key: {error}")))?,
                offline,
                flags: TagFlags {
                    master_key: master,
                    privacy_override: privacy,
                    office_mode: office,
                },
            })
        })
        .collect()
}

/// A lock's online and offline entries, and the offline ones that did not fit.
struct LockTags {
    capacity: u32,
    online: Vec<TagEntry>,
    stored: Vec<TagEntry>,
    not_stored: Vec<TagEntry>,
}

fn lock_tags(db: &Connection, lock_id: u32, tags: &[HeldTag]) -> ApiResult<LockTags> {
    let schedules = lock_schedules(db, lock_id, None)?;
    let capacity: u32 = db.query_row(
        "SELECT offline_capacity FROM locks WHERE id = ?1",
        [lock_id],
        |row| row.get(0),
    )?;
    let mut lists = LockTags {
        capacity,
        online: Vec::new(),
        stored: Vec::new(),
        not_stored: Vec::new(),
    };
    // `tags` comes master keys first: they are synced to the lock first (manual 003).
    for tag in tags {
        let Some(schedule) = schedules.get(&tag.user_id) else {
            continue;
        };
        let entry = TagEntry {
            tag_id: tag.uid,
            user_id: tag.user_id,
            tag_key: tag.key,
            flags: tag.flags,
            schedule: schedule.clone(),
        };
        if tag.offline {
            if lists.stored.len() < usize::try_from(capacity).unwrap_or(usize::MAX) {
                lists.stored.push(entry.clone());
            } else {
                lists.not_stored.push(entry.clone());
            }
        }
        lists.online.push(entry);
    }
    Ok(lists)
}

fn next_rules_serial(db: &Connection, lock_id: u32) -> ApiResult<u32> {
    Ok(db.query_row(
        "UPDATE locks SET rules_serial = rules_serial + 1 WHERE id = ?1 RETURNING rules_serial",
        [lock_id],
        |row| row.get(0),
    )?)
}

fn sign_list(authority: &SigningKey, rng: &SystemRandom, list: &TagList) -> ApiResult<HexBytes> {
    list.sign(authority, rng)
        .map(HexBytes)
        .map_err(|error| ApiError::Internal(format!("signing a tag list: {error}")))
}

/// What an IQ hands each of its locks: `(tag lists, settings)`, both signed, under each lock's
/// next rules serial (call it inside the transaction that sends them).
pub fn for_locks(
    db: &Connection,
    site_id: u32,
    lock_ids: &[u32],
) -> ApiResult<(Vec<HexBytes>, Vec<HexBytes>)> {
    if lock_ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let authority = site_authority(db, site_id)?;
    let rng = SystemRandom::new();
    let tags = held_tags(db, site_id)?;
    let mut lists = Vec::with_capacity(2 * lock_ids.len());
    let mut settings = Vec::with_capacity(lock_ids.len());
    for &lock_id in lock_ids {
        let serial = next_rules_serial(db, lock_id)?;
        let entries = lock_tags(db, lock_id, &tags)?;
        for (kind, entries) in [
            (TagListKind::Online, entries.online),
            (TagListKind::Offline, entries.stored),
        ] {
            let list = TagList {
                kind,
                site_id,
                lock_id,
                serial,
                entries,
            };
            lists.push(sign_list(&authority, &rng, &list)?);
        }
        let mut lock = lock_settings(db, site_id, lock_id)?;
        lock.serial = serial;
        settings.push(HexBytes(lock.sign(&authority, &rng).map_err(|error| {
            ApiError::Internal(format!("signing lock settings: {error}"))
        })?));
    }
    Ok((lists, settings))
}

/// The site's revocation updates still in force, oldest first.
pub fn revocations(db: &Connection, site_id: u32, now: i64) -> ApiResult<Vec<HexBytes>> {
    Ok(rows(
        db,
        "SELECT bytes FROM mailbox_updates WHERE site_id = ?1 AND expires_at > ?2
         ORDER BY serial",
        rusqlite::params![site_id, now],
        |row| row.get(0).map(HexBytes),
    )?)
}

fn entry_view(entry: &TagEntry) -> OfflineEntryView {
    OfflineEntryView {
        tag_id: TagUid(entry.tag_id).to_hex(),
        user_id: entry.user_id,
        master_key: entry.flags.master_key,
    }
}

/// What the lock stores for offline use, and who is entitled but does not fit.
pub fn offline_storage(
    db: &Connection,
    site_id: u32,
    lock_id: u32,
) -> ApiResult<OfflineStorageView> {
    let tags = held_tags(db, site_id)?;
    let entries = lock_tags(db, lock_id, &tags)?;
    let stored_bytes = TagList {
        kind: TagListKind::Offline,
        site_id,
        lock_id,
        serial: 0,
        entries: entries.stored.clone(),
    }
    .stored_bytes();
    Ok(OfflineStorageView {
        lock_id,
        capacity: entries.capacity,
        stored_bytes: u32::try_from(stored_bytes).unwrap_or(u32::MAX),
        stored: entries.stored.iter().map(entry_view).collect(),
        not_stored: entries.not_stored.iter().map(entry_view).collect(),
    })
}
