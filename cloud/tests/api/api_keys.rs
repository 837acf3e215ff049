//! Digital keys over HTTP: a sync hands out credentials that verify with the site authority
//! key and name the right locks and device; losing access (group, person, device, rights)
//! revokes them at once through signed mailbox updates.

use crate::api_support;

use api_support::{typed, unb64, Caller, Cloud};
use keyway_api::{DigitalKeyView, KeySyncResponse, LockView, Role, SiteView};
use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate, ALL_LOCKS};
use keyway_protocol::{PublicKey, ScheduleWindow, SignedCredential, SigningKey};
use reqwest::StatusCode;
use serde_json::json;

const OFFICE: ScheduleWindow = ScheduleWindow {
    days: 0b0001_1111,
    start_minute: 8 * 60,
    end_minute: 18 * 60,
};

fn authority(site: &SiteView) -> PublicKey {
    PublicKey::from_bytes(&unb64(&site.authority_public_key)).unwrap()
}

fn verified(key: &DigitalKeyView, site: &SiteView) -> SignedCredential {
    SignedCredential::decode_verified(&unb64(&key.credential), &authority(site)).unwrap()
}

/// The credential ids denied by the sync's mailbox updates, each checked against the site
/// authority key and addressed to every lock of the site.
pub(crate) fn denied(sync: &KeySyncResponse, site: &SiteView) -> Vec<u64> {
    sync.mailbox
        .iter()
        .flat_map(|bytes| {
            let update = MailboxUpdate::decode_verified(&unb64(bytes), &authority(site)).unwrap();
            assert_eq!((update.site_id, update.lock_id), (site.site_id, ALL_LOCKS));
            match update.change {
                MailboxChange::DenyCredentials(ids) => ids,
                MailboxChange::RaiseEpoch(_) => Vec::new(),
            }
        })
        .collect()
}

/// A site with two locks in an office-hours group holding one user with a device.
struct Scene {
    cloud: Cloud,
    owner: Caller,
    site: SiteView,
    front: LockView,
    back: LockView,
    user: Caller,
    device_id: u32,
    device_key: SigningKey,
    group_id: u32,
}

async fn scene() -> Scene {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (front, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let (back, _) = cloud.lock(&owner, site.site_id, "Back door").await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let (device, device_key) = cloud.device(&user).await;
    let group = cloud
        .group(
            &owner,
            site.site_id,
            &[back.lock_id, front.lock_id],
            &[user.user_id],
            &[OFFICE],
        )
        .await;
    Scene {
        cloud,
        owner,
        site,
        front,
        back,
        user,
        device_id: device.device_id,
        device_key,
        group_id: group.group_id,
    }
}

impl Scene {
    async fn sync(&self) -> KeySyncResponse {
        self.cloud.sync(&self.user, self.device_id).await
    }

    fn people_path(&self, user_id: u32) -> String {
        format!("/api/v1/sites/{}/people/{user_id}", self.site.site_id)
    }
}

#[tokio::test]
async fn a_synced_key_verifies_and_names_the_right_locks_device_and_rights() {
    let s = scene().await;
    let (status, _) = s
        .cloud
        .patch(
            &s.owner,
            &s.people_path(s.user.user_id),
            json!({ "privacy_override": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_garage, _) = s.cloud.lock(&s.owner, s.site.site_id, "Garage").await;

    let sync = s.sync().await;
    assert_eq!(
        sync.keys.len(),
        1,
        "one schedule, one key; the garage is not granted"
    );
    let key = &sync.keys[0];
    let signed = verified(key, &s.site);
    let credential = signed.credential();
    let mut expected_locks = vec![s.front.lock_id, s.back.lock_id];
    expected_locks.sort_unstable();
    assert_eq!(credential.lock_ids, expected_locks);
    assert_eq!(credential.device_key, s.device_key.public_key());
    assert_eq!(
        (credential.site_id, credential.user_id),
        (s.site.site_id, s.user.user_id)
    );
    assert_eq!(credential.credential_id, key.credential_id);
    assert!(credential.flags.privacy_override);
    assert!(!credential.flags.office_mode && !credential.flags.master_key);
    assert_eq!(
        credential.schedule,
        vec![ScheduleWindow::new(OFFICE.days, OFFICE.start_minute, OFFICE.end_minute).unwrap()]
    );
    let ttl = s.cloud.running.state.config.credential_ttl;
    assert_eq!(credential.not_before, sync.server_time - 300);
    assert_eq!(credential.not_after, sync.server_time + ttl);
    assert_eq!(
        (key.not_before, key.not_after),
        (credential.not_before, credential.not_after)
    );
    assert_eq!(key.site_name, "HQ");
    let mut names: Vec<_> = key
        .locks
        .iter()
        .map(|l| (l.lock_id, l.name.as_str()))
        .collect();
    names.sort_unstable();
    let mut expected_names = vec![
        (s.front.lock_id, "Front door"),
        (s.back.lock_id, "Back door"),
    ];
    expected_names.sort_unstable();
    assert_eq!(names, expected_names);
    assert!(sync.mailbox.is_empty());

    let again = s.sync().await;
    assert_eq!(again.keys, sync.keys, "a fresh key is reused, not reissued");
    assert_eq!(s.cloud.count("SELECT COUNT(*) FROM credentials").await, 1);
}

#[tokio::test]
async fn locks_with_different_schedules_get_separate_keys_and_old_keys_are_renewed() {
    let s = scene().await;
    let (garage, _) = s.cloud.lock(&s.owner, s.site.site_id, "Garage").await;
    let first = s.sync().await;
    s.cloud
        .group(
            &s.owner,
            s.site.site_id,
            &[garage.lock_id],
            &[s.user.user_id],
            &[],
        )
        .await;
    let second = s.sync().await;
    assert_eq!(second.keys.len(), 2);
    let office_key = second
        .keys
        .iter()
        .find(|k| k.credential_id == first.keys[0].credential_id)
        .expect("the office key is unchanged and reused");
    assert_eq!(office_key.locks.len(), 2);
    let garage_key = second
        .keys
        .iter()
        .find(|k| k.credential_id != office_key.credential_id)
        .unwrap();
    let garage_credential = verified(garage_key, &s.site);
    assert_eq!(
        garage_credential.credential().lock_ids,
        vec![garage.lock_id]
    );
    assert!(
        garage_credential.credential().schedule.is_empty(),
        "at any time"
    );
    assert!(second.mailbox.is_empty(), "nothing was taken away");

    // Past half its life a key is renewed; the old one grants the same and is not revoked.
    let ttl = s.cloud.running.state.config.credential_ttl;
    s.cloud.running.state.clock.advance(ttl / 2 + 60);
    let renewed = s.sync().await;
    assert_eq!(renewed.keys.len(), 2);
    for key in &renewed.keys {
        assert!(second
            .keys
            .iter()
            .all(|old| old.credential_id != key.credential_id));
        verified(key, &s.site);
    }
    assert_eq!(
        s.cloud
            .count("SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL")
            .await,
        0
    );
    assert!(renewed.mailbox.is_empty());
}

#[tokio::test]
async fn removing_the_person_from_the_group_revokes_the_key_through_the_mailbox() {
    let s = scene().await;
    let before = s.sync().await;
    let old_id = before.keys[0].credential_id;
    let (status, _) = s
        .cloud
        .put(
            &s.owner,
            &format!(
                "/api/v1/sites/{}/access-groups/{}/members",
                s.site.site_id, s.group_id
            ),
            json!({ "user_ids": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        s.cloud
            .count("SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL")
            .await,
        1,
        "revoked at once, before any sync"
    );

    let after = s.sync().await;
    assert!(after.keys.is_empty(), "no key any more");
    assert_eq!(denied(&after, &s.site), vec![old_id]);
    let update =
        MailboxUpdate::decode_verified(&unb64(&after.mailbox[0]), &authority(&s.site)).unwrap();
    assert_eq!(update.serial, 1, "the site's first mailbox serial");
    assert_eq!(s.cloud.count("SELECT mailbox_serial FROM sites").await, 1);
    assert_eq!(
        s.sync().await.mailbox,
        after.mailbox,
        "nothing new is revoked twice"
    );

    // Back in the group: a new key with a new id.
    s.cloud
        .put(
            &s.owner,
            &format!(
                "/api/v1/sites/{}/access-groups/{}/members",
                s.site.site_id, s.group_id
            ),
            json!({ "user_ids": [s.user.user_id] }),
        )
        .await;
    let back = s.sync().await;
    assert_eq!(back.keys.len(), 1);
    assert_ne!(back.keys[0].credential_id, old_id);
}

#[tokio::test]
async fn deleting_a_device_revokes_its_keys_and_only_its_keys() {
    let s = scene().await;
    let (spare, _) = s.cloud.device(&s.user).await;
    let lost = s.sync().await.keys[0].credential_id;
    let kept = s.cloud.sync(&s.user, spare.device_id).await.keys[0].credential_id;
    assert_ne!(lost, kept, "one credential per device");

    let (status, _) = s
        .cloud
        .delete(&s.user, &format!("/api/v1/devices/{}", s.device_id))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .cloud
        .get(&s.user, &format!("/api/v1/devices/{}/keys", s.device_id))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a removed device syncs no more"
    );

    let spare_sync = s.cloud.sync(&s.user, spare.device_id).await;
    assert_eq!(spare_sync.keys.len(), 1);
    assert_eq!(
        spare_sync.keys[0].credential_id, kept,
        "the other phone keeps its key"
    );
    assert_eq!(denied(&spare_sync, &s.site), vec![lost]);
}

#[tokio::test]
async fn removing_the_person_or_deleting_the_group_revokes_their_keys() {
    let s = scene().await;
    let (owner_device, _) = s.cloud.device(&s.owner).await;
    let colleague = s.cloud.member(&s.owner, s.site.site_id, Role::User).await;
    let (colleague_device, _) = s.cloud.device(&colleague).await;
    let (status, _) = s
        .cloud
        .put(
            &s.owner,
            &format!(
                "/api/v1/sites/{}/access-groups/{}/members",
                s.site.site_id, s.group_id
            ),
            json!({ "user_ids": [s.user.user_id, colleague.user_id] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let user_key = s.sync().await.keys[0].credential_id;
    let colleague_key = s
        .cloud
        .sync(&colleague, colleague_device.device_id)
        .await
        .keys[0]
        .credential_id;

    let (status, _) = s
        .cloud
        .delete(&s.owner, &s.people_path(colleague.user_id))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let seen = s.cloud.sync(&s.owner, owner_device.device_id).await;
    assert_eq!(denied(&seen, &s.site), vec![colleague_key]);
    let gone = s.cloud.sync(&colleague, colleague_device.device_id).await;
    assert!(gone.keys.is_empty(), "no longer on the site");

    let (status, _) = s
        .cloud
        .delete(
            &s.owner,
            &format!(
                "/api/v1/sites/{}/access-groups/{}",
                s.site.site_id, s.group_id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let seen = s.cloud.sync(&s.owner, owner_device.device_id).await;
    let mut both = vec![colleague_key, user_key];
    both.sort_unstable();
    let mut denied_now = denied(&seen, &s.site);
    denied_now.sort_unstable();
    assert_eq!(denied_now, both, "one cumulative denylist covers both");
    assert!(s.sync().await.keys.is_empty());
}

#[tokio::test]
async fn taking_a_right_away_revokes_the_key_that_carried_it() {
    let s = scene().await;
    s.cloud
        .patch(
            &s.owner,
            &s.people_path(s.user.user_id),
            json!({ "privacy_override": true }),
        )
        .await;
    let with_override = s.sync().await.keys[0].clone();
    assert!(
        verified(&with_override, &s.site)
            .credential()
            .flags
            .privacy_override
    );
    let (status, _) = s
        .cloud
        .patch(
            &s.owner,
            &s.people_path(s.user.user_id),
            json!({ "privacy_override": false }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = s.sync().await;
    assert_eq!(denied(&after, &s.site), vec![with_override.credential_id]);
    assert!(
        !verified(&after.keys[0], &s.site)
            .credential()
            .flags
            .privacy_override
    );
}

#[tokio::test]
async fn keys_are_synced_only_by_the_device_s_owner() {
    let s = scene().await;
    let (status, body) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/devices/{}/keys", s.device_id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(typed::<keyway_api::ApiErrorBody>(body).error, "not_found");
}
