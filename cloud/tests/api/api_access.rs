//! Hardware, access groups and devices over HTTP: who may manage them, input checks (refused
//! input changes nothing), and key uniqueness.

use crate::api_support;

use api_support::{b64_key, key, typed, Cloud};
use keyway_api::{AccessGroupView, DeviceView, IqView, LockView, Role};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn locks_are_hardware_for_the_owner_and_admins_with_unique_valid_keys() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let path = format!("/api/v1/sites/{}/locks", site.site_id);
    let (front, front_key) = cloud.lock(&owner, site.site_id, "Front door").await;
    assert_eq!(
        (front.site_id, front.name.as_str(), front.iq_id),
        (site.site_id, "Front door", None)
    );
    assert_eq!(front.public_key, b64_key(&front_key.public_key()));

    let admin = cloud.member(&owner, site.site_id, Role::Admin).await;
    cloud.lock(&admin, site.site_id, "Back door").await;
    for role in [Role::SuperUser, Role::User] {
        let member = cloud.member(&owner, site.site_id, role).await;
        let (status, _) = cloud
            .post(
                &member,
                &path,
                json!({ "name": "X", "public_key": b64_key(&key().public_key()) }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} adds no hardware");
        let (status, _) = cloud.get(&member, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} lists no hardware");
    }

    // The same lock key twice, even on another site: 409.
    let other_owner = cloud.account().await;
    let other = cloud.site(&other_owner).await;
    let (status, body) = cloud
        .post(
            &other_owner,
            &format!("/api/v1/sites/{}/locks", other.site_id),
            json!({ "name": "Copy", "public_key": front.public_key }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let mut off_curve = front_key.public_key().as_bytes().to_vec();
    off_curve[64] ^= 1;
    let engine = base64::engine::general_purpose::STANDARD;
    for bad_key in [
        base64::Engine::encode(&engine, &off_curve),
        base64::Engine::encode(&engine, [4u8; 33]),
        "not base64!".to_string(),
    ] {
        let (status, body) = cloud
            .post(
                &owner,
                &path,
                json!({ "name": "Bad", "public_key": bad_key }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, _) = cloud
        .post(
            &owner,
            &path,
            json!({ "name": " ", "public_key": b64_key(&key().public_key()) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a lock needs a name");
    let (status, body) = cloud.post(&owner, &path, json!({ "name": "X" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["error"], "invalid_input",
        "malformed JSON gets the API error body"
    );

    let (status, body) = cloud.get(&owner, &path).await;
    assert_eq!(status, StatusCode::OK);
    let locks: Vec<LockView> = typed(body);
    assert_eq!(locks.len(), 2, "refused locks were not stored");
    assert_eq!(cloud.count("SELECT COUNT(*) FROM locks").await, 2);
}

#[tokio::test]
async fn locks_attach_to_an_iq_of_their_own_site() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let iq_key = key();
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/iqs", site.site_id),
            json!({ "name": "Hub", "public_key": b64_key(&iq_key.public_key()) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let iq: IqView = typed(body);
    assert_eq!((iq.site_id, iq.name.as_str()), (site.site_id, "Hub"));
    let (status, _) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/iqs", site.site_id),
            json!({ "name": "Hub again", "public_key": b64_key(&iq_key.public_key()) }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let other_owner = cloud.account().await;
    let other = cloud.site(&other_owner).await;
    let (_, body) = cloud
        .post(
            &other_owner,
            &format!("/api/v1/sites/{}/iqs", other.site_id),
            json!({ "name": "Their hub", "public_key": b64_key(&key().public_key()) }),
        )
        .await;
    let foreign: IqView = typed(body);

    let attach = format!("/api/v1/sites/{}/locks/{}/iq", site.site_id, lock.lock_id);
    let (status, _) = cloud
        .put(&owner, &attach, json!({ "iq_id": foreign.iq_id }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an IQ of another site");
    let (status, body) = cloud
        .put(&owner, &attach, json!({ "iq_id": iq.iq_id }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let attached: LockView = typed(body);
    assert_eq!(attached.iq_id, Some(iq.iq_id));
    let (status, _) = cloud
        .put(
            &other_owner,
            &format!("/api/v1/sites/{}/locks/{}/iq", other.site_id, lock.lock_id),
            json!({ "iq_id": foreign.iq_id }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a lock of another site");
    let (_, body) = cloud
        .get(&owner, &format!("/api/v1/sites/{}/iqs", site.site_id))
        .await;
    let iqs: Vec<IqView> = typed(body);
    assert_eq!(iqs, vec![iq]);
}

#[tokio::test]
async fn access_groups_take_only_the_site_s_locks_and_people_and_bad_input_changes_nothing() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let other_owner = cloud.account().await;
    let other = cloud.site(&other_owner).await;
    let (foreign_lock, _) = cloud.lock(&other_owner, other.site_id, "Their door").await;
    let outsider = cloud.account().await;
    let path = format!("/api/v1/sites/{}/access-groups", site.site_id);
    let office = json!([{ "days": 31, "start_minute": 480, "end_minute": 1080 }]);

    for (bad, why) in [
        (
            json!({ "name": "G", "lock_ids": [foreign_lock.lock_id], "user_ids": [], "schedule": [] }),
            "a lock of another site",
        ),
        (
            json!({ "name": "G", "lock_ids": [lock.lock_id], "user_ids": [outsider.user_id], "schedule": [] }),
            "someone not on the site",
        ),
        (
            json!({ "name": "G", "lock_ids": [lock.lock_id], "user_ids": [], "schedule": [{ "days": 0, "start_minute": 0, "end_minute": 60 }] }),
            "no days",
        ),
        (
            json!({ "name": "G", "lock_ids": [lock.lock_id], "user_ids": [], "schedule": [{ "days": 1, "start_minute": 600, "end_minute": 600 }] }),
            "empty window",
        ),
        (
            json!({ "name": "G", "lock_ids": [lock.lock_id], "user_ids": [], "schedule": [{ "days": 1, "start_minute": 0, "end_minute": 1441 }] }),
            "past midnight",
        ),
        (
            json!({ "name": "", "lock_ids": [lock.lock_id], "user_ids": [], "schedule": [] }),
            "no name",
        ),
    ] {
        let (status, body) = cloud.post(&owner, &path, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {body}");
        assert_eq!(body["error"], "invalid_input");
    }
    for table in [
        "access_groups",
        "access_group_locks",
        "access_group_members",
        "access_group_windows",
    ] {
        let count = cloud.count(format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(count, 0, "{table}: refused groups left nothing behind");
    }

    for role in [Role::SuperUser, Role::User] {
        let member = cloud.member(&owner, site.site_id, role).await;
        let (status, _) = cloud
            .post(
                &member,
                &path,
                json!({ "name": "G", "lock_ids": [lock.lock_id], "user_ids": [], "schedule": [] }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} manages no groups");
    }

    let (status, body) = cloud
        .post(
            &owner,
            &path,
            json!({ "name": "Office", "lock_ids": [lock.lock_id, lock.lock_id], "user_ids": [user.user_id], "schedule": office }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let group: AccessGroupView = typed(body);
    assert_eq!(group.lock_ids, vec![lock.lock_id], "duplicates collapse");
    assert_eq!(group.user_ids, vec![user.user_id]);
    assert_eq!(group.schedule.len(), 1);

    let members = format!("{path}/{}/members", group.group_id);
    let (status, _) = cloud
        .put(&owner, &members, json!({ "user_ids": [outsider.user_id] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, body) = cloud.get(&owner, &path).await;
    let groups: Vec<AccessGroupView> = typed(body);
    assert_eq!(
        groups,
        vec![group.clone()],
        "a refused member change changed nothing"
    );

    let (status, body) = cloud
        .put(&owner, &members, json!({ "user_ids": [owner.user_id] }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let changed: AccessGroupView = typed(body);
    assert_eq!(changed.user_ids, vec![owner.user_id]);

    let (status, _) = cloud
        .delete(
            &other_owner,
            &format!(
                "/api/v1/sites/{}/access-groups/{}",
                other.site_id, group.group_id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a group of another site");
    let (status, _) = cloud
        .delete(&owner, &format!("{path}/{}", group.group_id))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.count("SELECT COUNT(*) FROM access_groups").await, 0);
}

#[tokio::test]
async fn devices_bind_a_key_to_one_account() {
    let cloud = Cloud::start().await;
    let ana = cloud.account().await;
    let bob = cloud.account().await;
    let (device, device_key) = cloud.device(&ana).await;
    let again = json!({ "public_key": b64_key(&device_key.public_key()), "name": "Phone", "platform": "cli" });

    let (status, body) = cloud.post(&ana, "/api/v1/devices", again.clone()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the same key again is the same device"
    );
    assert_eq!(typed::<DeviceView>(body), device);
    let (status, _) = cloud.post(&bob, "/api/v1/devices", again.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "a key belongs to one account");
    for bad in [
        json!({ "public_key": "AAAA", "name": "Phone", "platform": "cli" }),
        json!({ "public_key": b64_key(&key().public_key()), "name": "", "platform": "cli" }),
        json!({ "public_key": b64_key(&key().public_key()), "name": "Phone", "platform": "toaster" }),
    ] {
        let (status, body) = cloud.post(&ana, "/api/v1/devices", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }

    let (_, body) = cloud.get(&ana, "/api/v1/devices").await;
    assert_eq!(typed::<Vec<DeviceView>>(body), vec![device.clone()]);
    let (_, body) = cloud.get(&bob, "/api/v1/devices").await;
    assert!(typed::<Vec<DeviceView>>(body).is_empty());

    let path = format!("/api/v1/devices/{}", device.device_id);
    let (status, _) = cloud.delete(&bob, &path).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "someone else's device is invisible"
    );
    let (status, _) = cloud.get(&bob, &format!("{path}/keys")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = cloud.delete(&ana, &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = cloud.get(&ana, "/api/v1/devices").await;
    assert!(typed::<Vec<DeviceView>>(body).is_empty());
    let (status, _) = cloud.post(&ana, "/api/v1/devices", again).await;
    assert_eq!(status, StatusCode::CONFLICT, "a removed key stays removed");
}

#[tokio::test]
async fn an_account_registers_at_most_ten_new_devices_a_day() {
    let cloud = Cloud::start().await;
    let ana = cloud.account().await;
    let mut devices = Vec::new();
    for _ in 0..10 {
        devices.push(cloud.device(&ana).await.0);
    }
    // Removing devices does not give the quota back: churn is what it limits.
    let path = format!("/api/v1/devices/{}", devices[0].device_id);
    assert_eq!(cloud.delete(&ana, &path).await.0, StatusCode::NO_CONTENT);
    let eleventh =
        json!({ "public_key": b64_key(&key().public_key()), "name": "Phone", "platform": "cli" });
    let (status, body) = cloud.post(&ana, "/api/v1/devices", eleventh.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "rate_limited");
    let (_, listed) = cloud.get(&ana, "/api/v1/devices").await;
    assert_eq!(
        typed::<Vec<DeviceView>>(listed).len(),
        9,
        "a refused registration adds nothing"
    );
    let bob = cloud.account().await;
    cloud.device(&bob).await; // the quota is per account

    cloud.running.state.clock.advance(86_400);
    let (status, body) = cloud.post(&ana, "/api/v1/devices", eleventh).await;
    assert_eq!(status, StatusCode::CREATED, "a day later: {body}");
}

#[tokio::test]
async fn every_domain_route_is_in_the_openapi_document() {
    let cloud = Cloud::start().await;
    let anyone = cloud.account().await;
    let (status, document) = cloud.get(&anyone, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for (path, methods) in [
        ("/api/v1/me", &["get"][..]),
        ("/api/v1/sites", &["post"]),
        ("/api/v1/sites/{site_id}", &["get"]),
        ("/api/v1/sites/{site_id}/people", &["get", "post"]),
        (
            "/api/v1/sites/{site_id}/people/{user_id}",
            &["patch", "delete"],
        ),
        ("/api/v1/sites/{site_id}/locks", &["get", "post"]),
        ("/api/v1/sites/{site_id}/locks/{lock_id}/iq", &["put"]),
        ("/api/v1/sites/{site_id}/locks/{lock_id}/events", &["get"]),
        ("/api/v1/sites/{site_id}/iqs", &["get", "post"]),
        ("/api/v1/sites/{site_id}/access-groups", &["get", "post"]),
        (
            "/api/v1/sites/{site_id}/access-groups/{group_id}",
            &["delete"],
        ),
        (
            "/api/v1/sites/{site_id}/access-groups/{group_id}/members",
            &["put"],
        ),
        ("/api/v1/devices", &["get", "post"]),
        ("/api/v1/devices/{device_id}", &["delete"]),
        ("/api/v1/devices/{device_id}/keys", &["get"]),
        ("/api/v1/events", &["post"]),
    ] {
        for method in methods {
            let operation = &document["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is documented");
            assert_eq!(
                operation["security"][0]["bearer"],
                serde_json::json!([]),
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "SiteView",
        "PersonView",
        "KeySyncResponse",
        "IqView",
        "LockEventView",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}
