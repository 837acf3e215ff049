//! Store-backed tests of issuing: grants from the schema, sync, reconciliation, revocation.

use std::collections::BTreeSet;

use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate, ALL_LOCKS};
use keyway_protocol::{SignedCredential, SigningKey};
use ring::rand::SystemRandom;
use rusqlite::Connection;

use super::grants::{find_device, wanted_grants};
use super::revoke::{publish_denials, Revoked, MAX_DENY_UPDATES, MAX_LIVE_DENIALS};
use super::*;
use crate::store::Store;
use keyway_protocol::message::{mailbox_budget, MAILBOX_ENTRY_OVERHEAD};

const NOW: i64 = 1_796_000_000;
const TTL: i64 = 86_400;

fn validity(now: i64) -> Validity {
    Validity { now, ttl: TTL }
}

/// Users 1 (member of site 1 and 2) and 2 (outsider); site 1 with locks 10, 11 and group 100
/// (locks 10 and 11, user 1, weekdays 8–18); site 2 with lock 20 and group 200 (lock 20,
/// user 1, any time); device 5 of user 1. Returns the sites' authority keys.
fn setup(db: &Connection) -> Vec<SigningKey> {
    let rng = SystemRandom::new();
    db.execute_batch(
        "INSERT INTO users (id, email, name, created_at) VALUES (1, 'a@x.y', 'A', 0), (2, 'b@x.y', 'B', 0);",
    )
    .unwrap();
    let mut authorities = Vec::new();
    for site_id in [1u32, 2] {
        let (key, pkcs8) = SigningKey::generate(&rng).unwrap();
        db.execute(
            "INSERT INTO sites (id, name, authority_pkcs8, created_at)
             VALUES (?1, 'S', keyway_seal('sites.authority_pkcs8', ?2, ?1), 0)",
            rusqlite::params![site_id, pkcs8],
        )
        .unwrap();
        db.execute(
            "INSERT INTO memberships (site_id, user_id, role, privacy_override, created_at)
             VALUES (?1, 1, 'user', ?2, 0)",
            rusqlite::params![site_id, site_id == 1],
        )
        .unwrap();
        authorities.push(key);
    }
    for (lock_id, site_id) in [(10u32, 1u32), (11, 1), (20, 2)] {
        let (key, _) = SigningKey::generate(&rng).unwrap();
        db.execute(
            "INSERT INTO locks (id, site_id, name, public_key, created_at) VALUES (?1, ?2, 'L', ?3, 0)",
            rusqlite::params![lock_id, site_id, key.public_key().as_bytes().as_slice()],
        )
        .unwrap();
    }
    let (device, _) = SigningKey::generate(&rng).unwrap();
    db.execute(
        "INSERT INTO devices (id, user_id, public_key, name, platform, registered_at)
         VALUES (5, 1, ?1, 'Phone', 'cli', 0)",
        [device.public_key().as_bytes().as_slice()],
    )
    .unwrap();
    db.execute_batch(
        "INSERT INTO access_groups (id, site_id, name, created_at) VALUES (100, 1, 'G', 0), (200, 2, 'H', 0);
         INSERT INTO access_group_locks VALUES (100, 10), (100, 11), (200, 20);
         INSERT INTO access_group_members (group_id, user_id) VALUES (100, 1), (200, 1);
         INSERT INTO access_group_windows VALUES (100, 31, 480, 1080);",
    )
    .unwrap();
    authorities
}

async fn with_db<T: Send + 'static>(work: impl FnOnce(&mut Connection) -> T + Send + 'static) -> T {
    let store = Store::open_in_memory().unwrap();
    store
        .run(move |db| Ok::<_, crate::StoreError>(work(db)))
        .await
        .unwrap()
}

/// Records credential `id` of device 5 on site 1 (epoch `epoch`) as revoked at `revoked_at`.
fn insert_revoked(
    db: &Connection,
    id: u64,
    not_after: i64,
    revoked_at: i64,
    epoch: u32,
) -> Revoked {
    db.execute(
        "INSERT INTO credentials (id, site_id, user_id, device_id, grant_digest, bytes,
             not_before, not_after, issued_at, revoked_at, revocation_epoch)
         VALUES (?1, 1, 1, 5, 'd', x'00', 0, ?2, 0, ?3, ?4)",
        rusqlite::params![i64::try_from(id).unwrap(), not_after, revoked_at, epoch],
    )
    .unwrap();
    Revoked {
        credential_id: id,
        not_after,
    }
}

/// The site's mailbox updates, oldest first.
fn mailbox(db: &Connection, site_id: u32, authority: &SigningKey) -> Vec<MailboxUpdate> {
    let mut statement = db
        .prepare("SELECT bytes FROM mailbox_updates WHERE site_id = ?1 ORDER BY serial")
        .unwrap();
    let rows = statement
        .query_map([site_id], |row| row.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>();
    rows.iter()
        .map(|bytes| MailboxUpdate::decode_verified(bytes, &authority.public_key()).unwrap())
        .collect()
}

/// Revokes and publishes [`MAX_LIVE_DENIALS`] credentials of site 1 (ids from 1000): the
/// denylist is full, the next denial raises the epoch.
fn fill_denylist(db: &Connection) {
    let full = u64::try_from(MAX_LIVE_DENIALS).unwrap();
    let revoked: Vec<Revoked> = (1000..1000 + full)
        .map(|id| insert_revoked(db, id, NOW + 3_600, NOW, 0))
        .collect();
    publish_denials(db, 1, &revoked, NOW).unwrap();
}

/// The revocation epoch of a key handed out by a sync.
fn revocation_epoch(key: &keyway_api::DigitalKeyView, authority: &SigningKey) -> u32 {
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &key.credential)
        .unwrap();
    SignedCredential::decode_verified(&bytes, &authority.public_key())
        .unwrap()
        .credential()
        .revocation_epoch
}

fn denied_ids(db: &Connection, site_id: u32, authority: &SigningKey) -> Vec<u64> {
    mailbox(db, site_id, authority)
        .into_iter()
        .flat_map(|update| {
            assert_eq!((update.site_id, update.lock_id), (site_id, ALL_LOCKS));
            match update.change {
                MailboxChange::DenyCredentials(ids) => ids,
                MailboxChange::RaiseEpoch(_) => Vec::new(),
            }
        })
        .collect()
}

#[tokio::test]
async fn grants_follow_membership_groups_and_flags() {
    with_db(|db| {
        setup(db);
        let device = find_device(db, 5).unwrap().unwrap();
        let site1 = wanted_grants(db, &device, 1).unwrap();
        assert_eq!(site1.len(), 1);
        assert_eq!(site1[0].key.lock_ids, vec![10, 11]);
        assert_eq!(site1[0].key.schedule.len(), 1);
        assert!(site1[0].flags.privacy_override);
        let site2 = wanted_grants(db, &device, 2).unwrap();
        assert_eq!(site2[0].key.lock_ids, vec![20]);
        assert!(site2[0].key.schedule.is_empty() && !site2[0].flags.privacy_override);
        db.execute("DELETE FROM memberships WHERE site_id = 1", [])
            .unwrap();
        assert!(
            wanted_grants(db, &device, 1).unwrap().is_empty(),
            "not a member: nothing"
        );
        assert!(find_device(db, 6).unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn sync_issues_then_reuses_then_reconciling_revokes_and_publishes() {
    with_db(|db| {
        let authorities = setup(db);
        let device = find_device(db, 5).unwrap().unwrap();
        let first = sync_device(db, &device, validity(NOW)).unwrap();
        assert_eq!(first.keys.len(), 2, "one key per site");
        for (key, authority) in first.keys.iter().zip(&authorities) {
            let bytes =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &key.credential)
                    .unwrap();
            let signed =
                SignedCredential::decode_verified(&bytes, &authority.public_key()).unwrap();
            assert_eq!(signed.credential().device_key, device.public_key);
            assert_eq!(signed.credential().not_before, NOW - CLOCK_SKEW_SECONDS);
            assert_eq!(signed.credential().not_after, NOW + TTL);
        }
        // The life is TTL + skew; half of it is left until this moment.
        let half_life_left = NOW + (TTL - CLOCK_SKEW_SECONDS) / 2;
        let later = sync_device(db, &device, validity(half_life_left - 1)).unwrap();
        assert_eq!(
            later.keys, first.keys,
            "more than half the life left: reused"
        );

        db.execute("DELETE FROM access_group_members WHERE group_id = 100", [])
            .unwrap();
        reconcile_person(db, 1, 1, NOW + 10).unwrap();
        let site1_key = first.keys[0].credential_id;
        assert_eq!(denied_ids(db, 1, &authorities[0]), vec![site1_key]);
        assert!(
            denied_ids(db, 2, &authorities[1]).is_empty(),
            "site 2 untouched"
        );
        let expires: i64 = db
            .query_row("SELECT expires_at FROM mailbox_updates", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(
            expires,
            NOW + TTL + CLOCK_SKEW_SECONDS,
            "kept until the revoked key would expire on a lock whose clock runs late"
        );
        let after = sync_device(db, &device, validity(NOW + 20)).unwrap();
        assert_eq!(after.keys.len(), 1);
        assert_eq!(after.mailbox.len(), 1, "the update travels with the sync");
        let past = sync_device(db, &device, validity(NOW + TTL + CLOCK_SKEW_SECONDS + 1)).unwrap();
        assert!(
            past.mailbox.is_empty(),
            "expired updates are no longer handed out"
        );
    })
    .await;
}

#[tokio::test]
async fn revoking_a_device_publishes_one_update_per_site() {
    with_db(|db| {
        let authorities = setup(db);
        let device = find_device(db, 5).unwrap().unwrap();
        let synced = sync_device(db, &device, validity(NOW)).unwrap();
        revoke_device(db, &device, NOW + 1).unwrap();
        assert_eq!(
            denied_ids(db, 1, &authorities[0]),
            vec![synced.keys[0].credential_id]
        );
        assert_eq!(
            denied_ids(db, 2, &authorities[1]),
            vec![synced.keys[1].credential_id]
        );
        let active: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM credentials WHERE revoked_at IS NULL",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(active, 0);
    })
    .await;
}

#[tokio::test]
async fn large_denials_are_split_with_increasing_serials() {
    with_db(|db| {
        let authorities = setup(db);
        let revoked: Vec<Revoked> = (1..=70)
            .map(|id| insert_revoked(db, id, NOW + i64::try_from(id).unwrap(), NOW, 0))
            .collect();
        publish_denials(db, 1, &revoked, NOW).unwrap();
        let serials: Vec<(i64, i64)> = db
            .prepare("SELECT serial, expires_at FROM mailbox_updates ORDER BY serial")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let skew = CLOCK_SKEW_SECONDS;
        assert_eq!(serials, vec![(1, NOW + 64 + skew), (2, NOW + 70 + skew)]);
        let ids: BTreeSet<u64> = denied_ids(db, 1, &authorities[0]).into_iter().collect();
        assert_eq!(ids, (1..=70).collect());
        publish_denials(db, 1, &[], NOW).unwrap();
        let serial: i64 = db
            .query_row("SELECT mailbox_serial FROM sites WHERE id = 1", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(serial, 2, "nothing to deny, nothing published");
    })
    .await;
}

#[tokio::test]
async fn each_revocation_republishes_the_whole_live_denylist_and_drops_older_updates() {
    with_db(|db| {
        let authorities = setup(db);
        let revoke = |db: &Connection, id: u64, not_after: i64, at: i64| {
            let revoked = insert_revoked(db, id, not_after, at, 0);
            publish_denials(db, 1, &[revoked], at).unwrap();
        };
        revoke(db, 41, NOW + 100, NOW);
        revoke(db, 42, NOW + 5_000, NOW + 1);
        revoke(db, 43, NOW + 9_000, NOW + 2);
        let rows: i64 = db
            .query_row("SELECT COUNT(*) FROM mailbox_updates", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 1, "one cumulative update replaces the earlier two");
        assert_eq!(denied_ids(db, 1, &authorities[0]), vec![41, 42, 43]);

        // Long after 41 expired (clock skew included), the next revocation leaves it out.
        revoke(db, 44, NOW + 9_000, NOW + 100 + CLOCK_SKEW_SECONDS + 1);
        assert_eq!(denied_ids(db, 1, &authorities[0]), vec![42, 43, 44]);
        let (serial, expires): (i64, i64) = db
            .query_row(
                "SELECT serial, expires_at FROM mailbox_updates",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((serial, expires), (4, NOW + 9_000 + CLOCK_SKEW_SECONDS));
        assert!(
            denied_ids(db, 2, &authorities[1]).is_empty(),
            "another site's denylist is its own"
        );
    })
    .await;
}

#[tokio::test]
async fn a_denylist_phones_cannot_carry_raises_the_epoch_and_keys_are_reissued() {
    with_db(|db| {
        let authorities = setup(db);
        let device = find_device(db, 5).unwrap().unwrap();
        let old_key = sync_device(db, &device, validity(NOW)).unwrap().keys[0].credential_id;
        fill_denylist(db);
        assert_eq!(
            mailbox(db, 1, &authorities[0]).len(),
            MAX_DENY_UPDATES,
            "still carried as denials"
        );
        let entry_bytes = |db: &Connection| -> usize {
            let (bytes, count): (i64, i64) = db
                .query_row(
                    "SELECT SUM(length(bytes)), COUNT(*) FROM mailbox_updates WHERE site_id = 1",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .unwrap();
            let count = usize::try_from(count).unwrap();
            usize::try_from(bytes).unwrap() + count * MAILBOX_ENTRY_OVERHEAD
        };
        let full_denylist = entry_bytes(db);

        db.execute(
            "INSERT INTO memberships (site_id, user_id, role, privacy_override, created_at)
             VALUES (1, 2, 'admin', 0, 0)",
            [],
        )
        .unwrap();
        let one_more = insert_revoked(db, 5000, NOW + 3_600, NOW + 1, 0);
        publish_denials(db, 1, &[one_more], NOW + 1).unwrap();
        let mails: Vec<(String, String)> = db
            .prepare("SELECT recipient, subject FROM email_outbox")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            mails,
            vec![(
                "b@x.y".to_string(),
                "Keyway: the digital keys of S are being renewed".to_string()
            )],
            "the site's admins are told, the plain user is not"
        );
        let updates = mailbox(db, 1, &authorities[0]);
        assert_eq!(updates.len(), 1, "the epoch update replaces every denial");
        assert_eq!(updates[0].change, MailboxChange::RaiseEpoch(1));
        // The most a phone ever carries (a full denylist and the epoch) fits a request with a
        // single-lock key at the smallest ATT MTU.
        let most = full_denylist + entry_bytes(db);
        assert!(most <= mailbox_budget(173), "{most} bytes of mailbox");
        let expires: i64 = db
            .query_row("SELECT expires_at FROM mailbox_updates", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(
            expires,
            NOW + TTL + CLOCK_SKEW_SECONDS,
            "kept until the last old key would expire"
        );

        // The next sync revokes the old-epoch key (no denial needed) and issues one of epoch 1.
        let synced = sync_device(db, &device, validity(NOW + 2)).unwrap();
        let new_key = &synced.keys[0];
        assert_ne!(new_key.credential_id, old_key);
        assert_eq!(revocation_epoch(new_key, &authorities[0]), 1);
        assert_eq!(
            synced.mailbox.len(),
            1,
            "the phone carries the epoch update"
        );
        assert_eq!(
            mailbox(db, 1, &authorities[0]).len(),
            1,
            "nothing denied for epoch 0"
        );

        // A key of the new epoch revoked later is denied, and the epoch update stays.
        db.execute("DELETE FROM access_group_members WHERE group_id = 100", [])
            .unwrap();
        reconcile_person(db, 1, 1, NOW + 3).unwrap();
        let changes: Vec<MailboxChange> = mailbox(db, 1, &authorities[0])
            .into_iter()
            .map(|update| update.change)
            .collect();
        assert_eq!(
            changes,
            vec![
                MailboxChange::RaiseEpoch(1),
                MailboxChange::DenyCredentials(vec![new_key.credential_id])
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_sync_that_raises_the_epoch_hands_out_keys_of_the_new_epoch() {
    with_db(|db| {
        let authorities = setup(db);
        let device = find_device(db, 5).unwrap().unwrap();
        let old_key = sync_device(db, &device, validity(NOW)).unwrap().keys[0].credential_id;
        fill_denylist(db);

        // Another schedule: this sync revokes the old key, the denial that fills the list.
        db.execute("UPDATE access_group_windows SET end_minute = 1020", [])
            .unwrap();
        let synced = sync_device(db, &device, validity(NOW + 1)).unwrap();
        let key = &synced.keys[0];
        assert_ne!(key.credential_id, old_key);
        assert_eq!(
            revocation_epoch(key, &authorities[0]),
            1,
            "the key handed out in the sync that raised the epoch is of the new epoch"
        );
        let changes: Vec<MailboxChange> = mailbox(db, 1, &authorities[0])
            .into_iter()
            .map(|update| update.change)
            .collect();
        assert_eq!(changes, vec![MailboxChange::RaiseEpoch(1)]);
    })
    .await;
}

#[tokio::test]
async fn a_key_expired_within_the_clock_skew_is_still_revoked_and_denied() {
    with_db(|db| {
        let authorities = setup(db);
        let device = find_device(db, 5).unwrap().unwrap();
        let key = sync_device(db, &device, validity(NOW)).unwrap().keys[0].credential_id;
        // A minute after the key's end: a lock whose clock runs 5 minutes late still opens.
        let later = NOW + TTL + 60;
        db.execute("DELETE FROM access_group_members WHERE group_id = 100", [])
            .unwrap();
        reconcile_person(db, 1, 1, later).unwrap();
        assert_eq!(denied_ids(db, 1, &authorities[0]), vec![key]);
    })
    .await;
}
