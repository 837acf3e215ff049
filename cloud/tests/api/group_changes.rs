//! `PATCH /api/v1/sites/{site_id}/access-groups/{group_id}`: an access group's name, locks and
//! weekly schedule change after it was made, and its people's keys follow at once (those
//! granting a lock or an hour it no longer gives are revoked; the new ones come at the next
//! sync), as an admin, an overreaching role and an outsider would try it.

use keyway_api::{AccessGroupView, ErrorCode, Role};
use reqwest::StatusCode;
use serde_json::json;

use crate::api_support::{code, typed, Cloud};

fn key_locks(keys: &keyway_api::KeySyncResponse) -> Vec<Vec<u32>> {
    keys.keys
        .iter()
        .map(|key| key.locks.iter().map(|lock| lock.lock_id).collect())
        .collect()
}

#[tokio::test]
async fn changing_a_groups_locks_and_schedule_revokes_the_old_keys_and_issues_new_ones() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await.site_id;
    let gate = cloud.lock(&owner, site, "Gate").await.0.lock_id;
    let door = cloud.lock(&owner, site, "Door").await.0.lock_id;
    let member = cloud.member(&owner, site, Role::User).await;
    let (device, _) = cloud.device(&member).await;
    let made = cloud
        .group(&owner, site, &[gate], &[member.user_id], &[])
        .await;
    assert_eq!(
        key_locks(&cloud.sync(&member, device.device_id).await),
        [[gate]]
    );
    let path = format!("/api/v1/sites/{site}/access-groups/{}", made.group_id);
    let revoked = format!(
        "SELECT COUNT(*) FROM credentials WHERE device_id = {} AND revoked_at IS NOT NULL",
        device.device_id
    );

    let admin = cloud.member(&owner, site, Role::Admin).await;
    let (status, body) = cloud
        .patch(
            &admin,
            &path,
            json!({ "lock_ids": [door], "schedule": [
                { "days": 31, "start_minute": 480, "end_minute": 1080 }
            ] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changed: AccessGroupView = typed(body);
    assert_eq!(
        (changed.name.as_str(), changed.lock_ids.as_slice()),
        ("Group", [door].as_slice()),
        "the name left out stays"
    );
    assert_eq!(changed.schedule.len(), 1);
    assert_eq!(changed.user_ids, [member.user_id], "its people stay");
    assert_eq!(
        cloud.count(revoked.clone()).await,
        1,
        "the gate's key is revoked"
    );
    let keys = cloud.sync(&member, device.device_id).await;
    assert_eq!(key_locks(&keys), [[door]]);

    // Only a rename: keys untouched.
    let (status, body) = cloud.patch(&owner, &path, json!({ "name": "Staff" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(cloud.count(revoked.clone()).await, 1);
    assert_eq!(
        typed::<AccessGroupView>(body).lock_ids,
        [door],
        "locks left out stay"
    );
}

#[tokio::test]
async fn a_group_change_by_a_super_user_an_outsider_or_with_bad_input_changes_nothing() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await.site_id;
    let gate = cloud.lock(&owner, site, "Gate").await.0.lock_id;
    let locker = cloud.lock(&owner, site, "Locker").await.0.lock_id;
    let made = cloud.group(&owner, site, &[gate], &[], &[]).await;
    let path = format!("/api/v1/sites/{site}/access-groups/{}", made.group_id);
    let outsider = cloud.account().await;
    let other_site = cloud.site(&outsider).await.site_id;
    let foreign_lock = cloud.lock(&outsider, other_site, "Theirs").await.0.lock_id;
    let (status, body) = cloud
        .put(
            &owner,
            &format!("/api/v1/sites/{site}/locks/{locker}/locker"),
            json!({ "assignment": "family", "user_ids": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let super_user = cloud.member(&owner, site, Role::SuperUser).await;
    for (caller, body, expected) in [
        (
            &super_user,
            json!({ "lock_ids": [] }),
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
        ),
        (
            &outsider,
            json!({ "lock_ids": [] }),
            (StatusCode::NOT_FOUND, ErrorCode::NotFound),
        ),
        (
            &owner,
            json!({ "lock_ids": [foreign_lock] }),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
        ),
        (
            &owner,
            json!({ "lock_ids": [locker] }),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
        ),
        (
            &owner,
            json!({ "schedule": [{ "days": 0, "start_minute": 0, "end_minute": 60 }] }),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
        ),
        (
            &owner,
            json!({ "name": "" }),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
        ),
    ] {
        let (status, answer) = cloud.patch(caller, &path, body.clone()).await;
        assert_eq!((status, code(&answer)), expected, "{body}");
    }
    // Another site's group through the outsider's own site is not found either.
    let (status, _) = cloud
        .patch(
            &outsider,
            &format!("/api/v1/sites/{other_site}/access-groups/{}", made.group_id),
            json!({ "lock_ids": [foreign_lock] }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The locker's own group is its assignment.
    let locker_group: u32 = u32::try_from(
        cloud
            .count(format!(
                "SELECT id FROM access_groups WHERE locker_lock_id = {locker}"
            ))
            .await,
    )
    .unwrap();
    let (status, answer) = cloud
        .patch(
            &owner,
            &format!("/api/v1/sites/{site}/access-groups/{locker_group}"),
            json!({ "lock_ids": [gate] }),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, ErrorCode::Conflict)
    );

    let (_, body) = cloud
        .get(&owner, &format!("/api/v1/sites/{site}/access-groups"))
        .await;
    let after: Vec<AccessGroupView> = typed(body);
    let same = after.iter().find(|g| g.group_id == made.group_id).unwrap();
    assert_eq!(same, &made);
}
