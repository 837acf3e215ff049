//! What a connected system may not do to a site's people, tried as a careless or hostile
//! system would: take over the owner or an admin by naming their e-mail, name one person
//! twice, move a person's e-mail, remove more than it gave to someone who was there before
//! it; and what a person keeps or loses when a system removes them (their keypad PIN does
//! not come back). Calls with unknown keys share one rate.

use keyway_api::{ErrorCode, PersonView, Role};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api_support::integration::{api_key, call, person};
use crate::api_support::{code, typed, Caller, Cloud};

const SCOPES: [&str; 3] = ["people:write", "access:write", "pins:write"];

/// Adds `email` to the site with `role`, as the owner would; returns their user id.
async fn on_site(cloud: &Cloud, owner: &Caller, site_id: u32, email: &str, role: Role) -> u32 {
    let (status, body) = cloud
        .post(
            owner,
            &format!("/api/v1/sites/{site_id}/people"),
            json!({ "email": email, "name": "Already Here", "role": role }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    typed::<PersonView>(body).user_id
}

#[tokio::test]
async fn a_system_cannot_take_over_the_owner_an_admin_or_one_person_twice() {
    let cloud = Cloud::start().await;
    let owner_email = cloud.email();
    let owner = cloud.account_with_email(&owner_email).await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &SCOPES).await;
    on_site(&cloud, &owner, site.site_id, "ada@site.test", Role::Admin).await;
    on_site(&cloud, &owner, site.site_id, "uma@site.test", Role::User).await;

    for email in [owner_email.as_str(), "ada@site.test"] {
        let path = "/api/v1/integrations/people/takeover";
        let (status, body, _) = call(
            &cloud,
            &key,
            Method::PUT,
            path,
            None,
            person("Mallory", email),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            "{email} is not the system's to manage"
        );
    }
    let (status, _, _) = call(
        &cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/people/u-1",
        None,
        person("Uma User", "uma@site.test"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "matched, not added");
    // A second id for the same person would make removing either remove both.
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/people/u-2",
        None,
        person("Uma Again", "uma@site.test"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::Conflict)
    );
    // Moving a person's e-mail (their account) is not the system's to do, nor onto another's.
    for email in ["new-uma@site.test", "ada@site.test"] {
        let (status, body, _) = call(
            &cloud,
            &key,
            Method::PUT,
            "/api/v1/integrations/people/u-1",
            None,
            person("Uma User", email),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, ErrorCode::Conflict),
            "{email}"
        );
    }
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM integration_people").await,
        1
    );
}

#[tokio::test]
async fn removing_someone_who_was_there_before_takes_back_only_what_the_system_gave() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &SCOPES).await;
    let (front, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let (unit, _) = cloud.lock(&owner, site.site_id, "Unit 7").await;
    let staff = on_site(&cloud, &owner, site.site_id, "sam@site.test", Role::User).await;
    let building = cloud
        .group(&owner, site.site_id, &[front.lock_id], &[staff], &[])
        .await;
    let units = cloud
        .group(&owner, site.site_id, &[unit.lock_id], &[], &[])
        .await;
    let path = "/api/v1/integrations/people/c-7";
    call(
        &cloud,
        &key,
        Method::PUT,
        path,
        None,
        person("Sam", "sam@site.test"),
    )
    .await;
    let grant = format!("{path}/access-groups/{}", units.group_id);
    let (status, _, _) = call(&cloud, &key, Method::PUT, &grant, None, None).await;
    assert_eq!(status, StatusCode::OK);
    // The system also "grants" the building the admin gave, and tries to put dates on it:
    // that grant stays the admin's, for good.
    let building_grant = format!("{path}/access-groups/{}", building.group_id);
    let until = cloud.running.state.clock.now() + 3600;
    for body in [None, Some(json!({ "until": until }))] {
        let (status, body, _) = call(&cloud, &key, Method::PUT, &building_grant, None, body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["until"], json!(null), "the admin's grant keeps no end");
    }

    let (status, _, _) = call(&cloud, &key, Method::DELETE, path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let in_group = |group_id: u32| {
        format!(
            "SELECT COUNT(*) FROM access_group_members WHERE group_id = {group_id} AND user_id = {staff}"
        )
    };
    assert_eq!(
        cloud.count(in_group(units.group_id)).await,
        0,
        "the unit goes"
    );
    assert_eq!(
        cloud.count(in_group(building.group_id)).await,
        1,
        "the admin's grant stays"
    );
    assert_eq!(
        cloud
            .count(format!(
                "SELECT COUNT(*) FROM memberships WHERE user_id = {staff} AND site_id = {}",
                site.site_id
            ))
            .await,
        1,
        "still a person of the site"
    );

    // Someone the system added is removed altogether.
    let added = "/api/v1/integrations/people/c-8";
    call(
        &cloud,
        &key,
        Method::PUT,
        added,
        None,
        person("New", "new@site.test"),
    )
    .await;
    call(&cloud, &key, Method::DELETE, added, None, None).await;
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'new@site.test'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_person_removed_and_added_again_gets_a_new_pin_not_the_old_one() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &SCOPES).await;
    let path = "/api/v1/integrations/people/c-9";
    let pin = format!("{path}/keypad-pin");
    for round in 0..2 {
        call(
            &cloud,
            &key,
            Method::PUT,
            path,
            None,
            person("Pat", "pat@site.test"),
        )
        .await;
        let (status, body, _) = call(&cloud, &key, Method::POST, &pin, None, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["created"], json!(true), "round {round}: a PIN is made");
        call(&cloud, &key, Method::DELETE, path, None, None).await;
        assert_eq!(
            cloud.count("SELECT COUNT(*) FROM keypad_pins").await,
            0,
            "the PIN leaves with the person"
        );
    }
}

#[tokio::test]
async fn calls_with_unknown_keys_share_one_rate_and_slow_nobody_else() {
    let cloud = Cloud::start_with(|config| {
        config.integration_burst = 3;
        config.integration_per_second = 1;
    })
    .await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &SCOPES).await;
    let path = "/api/v1/integrations/people/g-1";
    let mut statuses = Vec::new();
    for guess in 0..4 {
        let guessed = Caller {
            user_id: 0,
            token: format!("kwk_guess{guess}"),
        };
        let (status, _, _) = call(
            &cloud,
            &guessed,
            Method::PUT,
            path,
            None,
            person("G", "g@x.test"),
        )
        .await;
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "a fourth guess within the second waits"
    );
    let (status, _, _) = call(
        &cloud,
        &key,
        Method::PUT,
        path,
        None,
        person("G", "g@x.test"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the site's own rate is untouched"
    );
}

/// A key named `name` (the connected system it belongs to).
async fn system_key(cloud: &Cloud, owner: &Caller, site_id: u32, name: &str) -> Caller {
    let (status, body) = cloud
        .post(
            owner,
            &format!("/api/v1/sites/{site_id}/api-keys"),
            json!({ "name": name, "scopes": ["people:write", "access:write"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Caller {
        user_id: 0,
        token: typed::<keyway_api::integrations::CreatedApiKey>(body).secret,
    }
}

#[tokio::test]
async fn a_group_one_system_hands_out_is_refused_to_another_until_it_is_gone() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Meeting room").await;
    let room = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await;
    let coworking = system_key(&cloud, &owner, site.site_id, "Coworking").await;
    let storage = system_key(&cloud, &owner, site.site_id, "Storage").await;
    for key in [&coworking, &storage] {
        call(
            &cloud,
            key,
            Method::PUT,
            "/api/v1/integrations/people/p-1",
            None,
            person("P", "p@x.test"),
        )
        .await;
    }
    let grant = format!(
        "/api/v1/integrations/people/p-1/access-groups/{}",
        room.group_id
    );
    let (status, _, _) = call(&cloud, &coworking, Method::PUT, &grant, None, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the first system to hand it out owns it"
    );
    let now = cloud.running.state.clock.now();
    let booking = json!({
        "kind": "room", "group_id": room.group_id, "people": ["p-1"],
        "start": now + 3600, "end": now + 7200,
    });
    let resync = json!({ "groups": [room.group_id], "people": [], "dry_run": true });
    for (method, path, body) in [
        (Method::PUT, grant.clone(), None),
        (Method::DELETE, grant.clone(), None),
        (
            Method::PUT,
            "/api/v1/integrations/bookings/b-1".to_string(),
            Some(booking),
        ),
        (
            Method::POST,
            "/api/v1/integrations/resync".to_string(),
            Some(resync),
        ),
    ] {
        let (status, body, _) = call(&cloud, &storage, method, &path, None, body).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, ErrorCode::GroupOfAnotherIntegration),
            "{path}"
        );
    }
    // The coworking system rotates its key (the same name): the new key is the same system.
    let (_, keys) = cloud
        .get(&owner, &format!("/api/v1/sites/{}/api-keys", site.site_id))
        .await;
    let old_id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == "Coworking")
        .unwrap()["key_id"]
        .as_u64()
        .unwrap();
    let (status, _) = cloud
        .delete(
            &owner,
            &format!("/api/v1/sites/{}/api-keys/{old_id}", site.site_id),
        )
        .await;
    assert!(status.is_success());
    // With its last key revoked, the group is free: the storage system may use it now.
    let (status, body, _) = call(&cloud, &storage, Method::PUT, &grant, None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = system_key(&cloud, &owner, site.site_id, "Coworking").await;
    call(
        &cloud,
        &rotated,
        Method::PUT,
        "/api/v1/integrations/people/p-1",
        None,
        person("P", "p@x.test"),
    )
    .await;
    let (status, body, _) = call(&cloud, &rotated, Method::PUT, &grant, None, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::GroupOfAnotherIntegration),
        "now the storage system's"
    );
}
