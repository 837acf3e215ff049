//! Tags, offline access, master keys, lock settings and lock reports at the cloud, from the
//! manuals' sentences, as an attacker or an overreaching role would try them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::lock_rules::{LockSettingsView, OfflineStorageView, TagView};
use keyway_api::{ErrorCode, LockView, PersonView, Role};
use keyway_protocol::event::GENESIS_HASH;
use keyway_protocol::{LockEvent, LockReport, SigningKey};
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use serde_json::{json, Value};

use crate::api_support::{b64_key, code, key, typed, Caller, Cloud};

fn tag_json(uid: u64, holder: Option<u32>) -> Value {
    json!({
        "tag_id": format!("{uid:014x}"),
        "public_key": b64_key(&key().public_key()),
        "user_id": holder,
    })
}

async fn register(
    cloud: &Cloud,
    actor: &Caller,
    site_id: u32,
    uid: u64,
    holder: Option<u32>,
) -> (StatusCode, Value) {
    cloud
        .post(
            actor,
            &format!("/api/v1/sites/{site_id}/tags"),
            tag_json(uid, holder),
        )
        .await
}

async fn patch_tag(
    cloud: &Cloud,
    actor: &Caller,
    site_id: u32,
    uid: u64,
    body: Value,
) -> (StatusCode, Value) {
    cloud
        .patch(
            actor,
            &format!("/api/v1/sites/{site_id}/tags/{uid:014x}"),
            body,
        )
        .await
}

#[tokio::test]
async fn the_owners_tag_is_a_master_key_nobody_changes() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let admin = cloud.member(&owner, site.site_id, Role::Admin).await;
    let (status, body) = register(&cloud, &owner, site.site_id, 0xA1, Some(owner.user_id)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let tag: TagView = typed(body);
    assert!(tag.master_key && tag.master_key_fixed && tag.offline_access);
    for change in [
        json!({ "master_key": false }),
        json!({ "unassign": true }),
        json!({ "user_id": admin.user_id }),
    ] {
        for actor in [&admin, &owner] {
            let (status, body) = patch_tag(&cloud, actor, site.site_id, 0xA1, change.clone()).await;
            assert_eq!(status, StatusCode::CONFLICT, "{change}");
            assert_eq!(code(&body), ErrorCode::MasterKeyFixed, "{change}");
        }
    }
    let (status, body) = cloud
        .delete(
            &owner,
            &format!("/api/v1/sites/{}/tags/{:014x}", site.site_id, 0xA1),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::MasterKeyFixed)
    );
}

#[tokio::test]
async fn a_tag_belongs_to_the_site_that_registered_it() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    assert_eq!(
        register(&cloud, &owner, site.site_id, 0xB2, None).await.0,
        StatusCode::CREATED
    );
    let other = cloud.account().await;
    let other_site = cloud.site(&other).await;
    let (status, body) = register(&cloud, &other, other_site.site_id, 0xB2, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::Conflict)
    );
    // The other site's owner can neither see nor touch it.
    let (status, _) = patch_tag(
        &cloud,
        &other,
        other_site.site_id,
        0xB2,
        json!({ "unassign": true }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = cloud
        .get(&other, &format!("/api/v1/sites/{}/tags", site.site_id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = register(&cloud, &owner, site.site_id, 0, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput)
    );
}

#[tokio::test]
async fn only_owner_and_admins_grant_offline_access_and_master_keys() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let super_user = cloud.member(&owner, site.site_id, Role::SuperUser).await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let (status, body) =
        register(&cloud, &super_user, site.site_id, 0xC3, Some(user.user_id)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a super user may give a user a tag: {body}"
    );
    for change in [
        json!({ "offline_access": true }),
        json!({ "master_key": true }),
    ] {
        let (status, body) =
            patch_tag(&cloud, &super_user, site.site_id, 0xC3, change.clone()).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            "{change}"
        );
    }
    let (status, body) = register(&cloud, &user, site.site_id, 0xC4, Some(user.user_id)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    );
    // A person's digital keys: the same rule (manual 003: "Only site admins can grant…").
    let path = format!("/api/v1/sites/{}/people/{}", site.site_id, user.user_id);
    let (status, body) = cloud
        .patch(&super_user, &path, json!({ "offline_access": true }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    );
    let admin = cloud.member(&owner, site.site_id, Role::Admin).await;
    let (status, body) = cloud
        .patch(&admin, &path, json!({ "offline_access": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(typed::<PersonView>(body).offline_access);
    let (status, body) = patch_tag(
        &cloud,
        &admin,
        site.site_id,
        0xC3,
        json!({ "offline_access": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(typed::<TagView>(body).offline_access);
    let owner_view = cloud
        .people(&owner, site.site_id)
        .await
        .into_iter()
        .find(|person| person.user_id == owner.user_id)
        .unwrap();
    assert!(
        owner_view.offline_access,
        "the owner has offline access by default"
    );
}

#[tokio::test]
async fn the_fortieth_master_key_at_a_lock_is_refused_naming_the_lock() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Server room").await;
    let mut holders = vec![owner.user_id];
    for _ in 0..39 {
        holders.push(cloud.member(&owner, site.site_id, Role::User).await.user_id);
    }
    cloud
        .group(&owner, site.site_id, &[lock.lock_id], &holders, &[])
        .await;
    // The owner's own tag is the first master key; 38 more make 39.
    for (index, holder) in holders.iter().enumerate() {
        let uid = 0x1000 + index as u64;
        assert_eq!(
            register(&cloud, &owner, site.site_id, uid, Some(*holder))
                .await
                .0,
            StatusCode::CREATED
        );
        if index == 0 || index == 39 {
            continue;
        }
        let (status, body) = patch_tag(
            &cloud,
            &owner,
            site.site_id,
            uid,
            json!({ "master_key": true }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "master key {index}: {body}");
    }
    let (status, body) = patch_tag(
        &cloud,
        &owner,
        site.site_id,
        0x1000 + 39,
        json!({ "master_key": true }),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::TooManyMasterKeys)
    );
    assert!(
        body["message"].as_str().unwrap().contains("Server room"),
        "{body}"
    );
    let (_, body) = cloud
        .get(&owner, &format!("/api/v1/sites/{}/tags", site.site_id))
        .await;
    let masters = typed::<Vec<TagView>>(body)
        .iter()
        .filter(|tag| tag.master_key)
        .count();
    assert_eq!(masters, 39, "the refused change changed nothing");
}

#[tokio::test]
async fn offline_storage_lists_master_keys_first_and_who_does_not_fit() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let outsider = cloud.member(&owner, site.site_id, Role::User).await;
    let group = cloud
        .group(
            &owner,
            site.site_id,
            &[lock.lock_id],
            &[owner.user_id, user.user_id],
            &[],
        )
        .await;
    register(&cloud, &owner, site.site_id, 0xD1, Some(user.user_id)).await;
    patch_tag(
        &cloud,
        &owner,
        site.site_id,
        0xD1,
        json!({ "offline_access": true }),
    )
    .await;
    register(&cloud, &owner, site.site_id, 0xD2, Some(owner.user_id)).await;
    register(&cloud, &owner, site.site_id, 0xD3, Some(outsider.user_id)).await;
    let flagged = cloud.member(&owner, site.site_id, Role::User).await;
    register(&cloud, &owner, site.site_id, 0xD4, Some(flagged.user_id)).await;
    patch_tag(
        &cloud,
        &owner,
        site.site_id,
        0xD4,
        json!({ "master_key": true }),
    )
    .await;
    let members = [owner.user_id, user.user_id, flagged.user_id];
    cloud
        .set_group_members(&owner, site.site_id, group.group_id, &members)
        .await;
    patch_tag(
        &cloud,
        &owner,
        site.site_id,
        0xD3,
        json!({ "offline_access": true }),
    )
    .await;
    let path = format!(
        "/api/v1/sites/{}/locks/{}/offline",
        site.site_id, lock.lock_id
    );
    let (status, body) = cloud.get(&owner, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let storage: OfflineStorageView = typed(body);
    let stored: Vec<(&str, bool)> = storage
        .stored
        .iter()
        .map(|e| (e.tag_id.as_str(), e.master_key))
        .collect();
    assert_eq!(
        stored,
        [
            ("000000000000d2", true),
            ("000000000000d4", true),
            ("000000000000d1", false)
        ],
        "master keys first, an admin's master key stored without offline access, no lock \
         outside the groups"
    );
    assert_eq!(storage.capacity, 200);
    assert!(storage.not_stored.is_empty());
    assert_eq!(storage.stored_bytes, 3 * 79);
    // Removed from the access group: the offline right goes at once.
    cloud
        .set_group_members(&owner, site.site_id, group.group_id, &[owner.user_id])
        .await;
    let (_, body) = cloud.get(&owner, &path).await;
    assert_eq!(typed::<OfflineStorageView>(body).stored.len(), 1);
}

#[tokio::test]
async fn near_detection_needs_an_iq_and_settings_are_for_admins() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Wall reader").await;
    let path = format!(
        "/api/v1/sites/{}/locks/{}/settings",
        site.site_id, lock.lock_id
    );
    let (status, body) = cloud
        .patch(&owner, &path, json!({ "near_detection": true }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::IqFirmwareTooOld)
    );
    let super_user = cloud.member(&owner, site.site_id, Role::SuperUser).await;
    let (status, body) = cloud
        .patch(&super_user, &path, json!({ "door_open_limit_seconds": 60 }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    );
    let (status, body) = cloud
        .patch(&owner, &path, json!({ "door_open_limit_seconds": 1 }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput)
    );
    let easy = json!({ "door_open_limit_seconds": 60, "easy_office_schedule": [
        { "days": 31, "start_minute": 480, "end_minute": 720 }
    ] });
    let (status, body) = cloud.patch(&owner, &path, easy).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let settings: LockSettingsView = typed(body);
    assert_eq!(
        (
            settings.door_open_limit_seconds,
            settings.easy_office_schedule.len()
        ),
        (60, 1)
    );
    let bad =
        json!({ "easy_office_schedule": [{ "days": 0, "start_minute": 480, "end_minute": 720 }] });
    let (status, _) = cloud.patch(&owner, &path, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn report(
    time: i64,
    lock_key: &SigningKey,
    lock_id: u32,
    seq: u64,
    prev: [u8; 32],
    report: LockReport,
    value: u64,
) -> keyway_protocol::SignedEvent {
    LockEvent {
        lock_id,
        seq,
        time,
        user_id: 0,
        credential_id: value,
        command: report.code(),
        refusal: None,
        prev_hash: prev,
    }
    .sign(lock_key, &SystemRandom::new())
    .unwrap()
}

#[tokio::test]
async fn lock_reports_become_its_state_and_alert_only_the_owner() {
    const OWNER: &str = "owner-of-alerts@example.com";
    let cloud = Cloud::start().await;
    let owner = cloud.account_with_email(OWNER).await;
    let site = cloud.site(&owner).await;
    let admin = cloud.member(&owner, site.site_id, Role::Admin).await;
    let (lock, lock_key) = cloud.lock(&owner, site.site_id, "Back door").await;
    let mut prev = GENESIS_HASH;
    let mut records = Vec::new();
    let now = cloud.running.state.clock.now();
    for (seq, (kind, value, time)) in [
        (LockReport::Battery, 12, now - 100),
        (LockReport::BatteryLow, 12, now - 99),
        (LockReport::DoorForced, 0, now - 98),
        (LockReport::PrivacyEngaged, 0, now - 97),
        // A forced door again: in the log, but no second alert within the hour.
        (LockReport::DoorForced, 0, now - 96),
        // A battery report older than the one above changes nothing (a clock gone back).
        (LockReport::Battery, 90, now - 500),
        // A lock whose clock runs a year ahead cannot freeze its state.
        (LockReport::PrivacyReleased, 0, now + 365 * 86_400),
    ]
    .into_iter()
    .enumerate()
    {
        let record = report(
            time,
            &lock_key,
            lock.lock_id,
            seq as u64 + 1,
            prev,
            kind,
            value,
        );
        prev = record.hash();
        records.push(STANDARD.encode(record.as_bytes()));
    }
    let (status, body) = cloud
        .post(&admin, "/api/v1/events", json!({ "records": records }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = cloud
        .get(&owner, &format!("/api/v1/sites/{}/locks", site.site_id))
        .await;
    let locks: Vec<LockView> = typed(body);
    let state = &locks[0].state;
    assert_eq!(
        (
            state.battery_percent,
            state.door_open,
            state.privacy_engaged
        ),
        (Some(12), Some(true), true),
        "an older battery report and a report from a clock a year ahead change nothing"
    );
    let alerts: Vec<(String, String)> = cloud
        .running
        .state
        .delivered_mail()
        .await
        .unwrap()
        .into_iter()
        .filter(|message| message.subject.starts_with("Keyway alert"))
        .map(|message| (message.to, message.subject))
        .collect();
    assert_eq!(
        alerts,
        [
            (
                OWNER.to_string(),
                "Keyway alert: Low battery: Back door".to_string()
            ),
            (
                OWNER.to_string(),
                "Keyway alert: Door forced: Back door".to_string()
            ),
        ],
        "manual 000: only the owner receives notifications; a battery level alone alerts nobody"
    );
}

#[tokio::test]
async fn a_handed_over_tag_loses_its_rights_and_a_leavers_tags_come_back_to_the_site() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let super_user = cloud.member(&owner, site.site_id, Role::SuperUser).await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    register(&cloud, &owner, site.site_id, 0xE1, Some(user.user_id)).await;
    let rights = json!({ "offline_access": true, "master_key": true });
    let (status, _) = patch_tag(&cloud, &owner, site.site_id, 0xE1, rights.clone()).await;
    assert_eq!(status, StatusCode::OK);
    // A super user hands the admin-granted master key to themselves: it arrives without rights.
    let (status, body) = patch_tag(
        &cloud,
        &super_user,
        site.site_id,
        0xE1,
        json!({ "user_id": super_user.user_id }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tag: TagView = typed(body);
    assert!(!tag.master_key && !tag.offline_access, "{tag:?}");
    let (status, body) = patch_tag(
        &cloud,
        &super_user,
        site.site_id,
        0xE1,
        json!({ "user_id": user.user_id, "master_key": true }),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    );

    // The holder leaves the site: the tag stays the site's, held by nobody, and can be revoked.
    let (_, _) = patch_tag(
        &cloud,
        &owner,
        site.site_id,
        0xE1,
        json!({ "user_id": user.user_id }),
    )
    .await;
    patch_tag(&cloud, &owner, site.site_id, 0xE1, rights).await;
    let (status, _) = cloud
        .delete(
            &owner,
            &format!("/api/v1/sites/{}/people/{}", site.site_id, user.user_id),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = cloud
        .get(&owner, &format!("/api/v1/sites/{}/tags", site.site_id))
        .await;
    let tags: Vec<TagView> = typed(body);
    assert_eq!(
        (tags[0].user_id, tags[0].master_key, tags[0].offline_access),
        (None, false, false)
    );
    let (status, _) = cloud
        .delete(
            &owner,
            &format!("/api/v1/sites/{}/tags/{:014x}", site.site_id, 0xE1),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_locker_is_opened_only_through_its_assignment() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (locker, _) = cloud.lock(&owner, site.site_id, "Locker 7").await;
    let (door, _) = cloud.lock(&owner, site.site_id, "Door").await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let locker_path =
        |lock_id: u32| format!("/api/v1/sites/{}/locks/{lock_id}/locker", site.site_id);
    let assign = json!({ "assignment": "fixed", "user_ids": [user.user_id] });
    let (status, body) = cloud
        .put(&owner, &locker_path(locker.lock_id), assign.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // An ordinary group cannot open the locker behind its assignment's back.
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/access-groups", site.site_id),
            json!({ "name": "Sneaky", "lock_ids": [locker.lock_id], "user_ids": [owner.user_id], "schedule": [] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput)
    );
    // A door that a group opens does not become a locker quietly.
    cloud
        .group(&owner, site.site_id, &[door.lock_id], &[owner.user_id], &[])
        .await;
    let (status, body) = cloud.put(&owner, &locker_path(door.lock_id), assign).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::Conflict)
    );
}
