//! Connected systems (manuals 001 and 004) through site API keys, as such a system and as an
//! attacker would call: keys shown once, two live for rotation, revoked keys refused, scopes
//! enforced, another site's things out of reach, a replayed request applied once, a reused
//! idempotency key with another body refused, the rate limit, and the audit trail.

use keyway_api::integrations::{IntegrationPersonView, MembershipView};
use keyway_api::{AccessGroupView, ErrorCode, Role};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api_support::integration::{api_key, call, person};
use crate::api_support::{code, typed, Caller, Cloud};

const ALL_SCOPES: [&str; 2] = ["people:write", "access:write"];

#[tokio::test]
async fn a_storage_system_adds_a_customer_once_and_grants_their_unit() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &ALL_SCOPES).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Unit 12").await;
    let unit: AccessGroupView = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await;

    let path = "/api/v1/integrations/people/sg-1001";
    let customer = person("Casey Customer", "casey@storage.test");
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::PUT,
        path,
        Some("move-in-1"),
        customer.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let added: IntegrationPersonView = typed(body.clone());
    assert_eq!(
        added.alias, "Casey Customer sg-1001",
        "manual 001: the id appended to the alias"
    );
    assert!(
        !cloud.mail_to("casey@storage.test").await.is_empty(),
        "invited by e-mail"
    );
    // The same call retried after a timeout: the same answer, nothing applied twice.
    let (again, replayed, _) =
        call(&cloud, &key, Method::PUT, path, Some("move-in-1"), customer).await;
    assert_eq!((again, replayed), (StatusCode::CREATED, body));
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM integration_audit").await,
        1
    );
    // The same key with another body is refused, and changes nothing.
    let other = person("Someone Else", "else@storage.test");
    let (status, body, _) = call(&cloud, &key, Method::PUT, path, Some("move-in-1"), other).await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IdempotencyKeyReused
        )
    );
    // Without a key, an update: the same person, never a duplicate.
    let renamed = person("Casey C. Customer", "casey@storage.test");
    let (status, body, _) = call(&cloud, &key, Method::PUT, path, None, renamed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(typed::<IntegrationPersonView>(body).user_id, added.user_id);
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM users WHERE email = 'casey@storage.test'")
            .await,
        1
    );

    let grant = format!(
        "/api/v1/integrations/people/sg-1001/access-groups/{}",
        unit.group_id
    );
    let (status, body, _) = call(&cloud, &key, Method::PUT, &grant, Some("unit-12"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(typed::<MembershipView>(body).member);
    let members = format!(
        "SELECT COUNT(*) FROM access_group_members WHERE group_id = {}",
        unit.group_id
    );
    assert_eq!(cloud.count(members.clone()).await, 1);
    // Move-out: out of the group, then off the site.
    let (status, _, _) = call(&cloud, &key, Method::DELETE, &grant, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cloud.count(members).await, 0);
    let (status, _, _) = call(&cloud, &key, Method::DELETE, path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&cloud, &key, Method::PUT, &grant, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the person is gone");
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM integration_audit").await,
        5
    );
}

#[tokio::test]
async fn an_existing_keyway_person_is_matched_by_e_mail() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let member = cloud.member(&owner, site.site_id, Role::User).await;
    let email: String = cloud
        .running
        .state
        .store
        .run(move |db| {
            Ok::<_, keyway_cloud::StoreError>(db.query_row(
                "SELECT email FROM users WHERE id = ?1",
                [member.user_id],
                |row| row.get(0),
            )?)
        })
        .await
        .unwrap();
    let key = api_key(&cloud, &owner, site.site_id, &["people:write"]).await;
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/people/cw-7",
        None,
        person("Member", &email),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let matched: IntegrationPersonView = typed(body);
    assert_eq!((matched.user_id, matched.created), (member.user_id, false));
}

#[tokio::test]
async fn keys_are_scoped_revocable_rotated_and_kept_to_their_site() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let super_user = cloud.member(&owner, site.site_id, Role::SuperUser).await;
    let (status, body) = cloud
        .post(
            &super_user,
            &format!("/api/v1/sites/{}/api-keys", site.site_id),
            json!({ "name": "Mine", "scopes": ["people:write"] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
    );

    let people_only = api_key(&cloud, &owner, site.site_id, &["people:write"]).await;
    let path = "/api/v1/integrations/people/p-1";
    call(
        &cloud,
        &people_only,
        Method::PUT,
        path,
        None,
        person("P", "p@x.test"),
    )
    .await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Door").await;
    let group = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await;
    let grant = format!("{path}/access-groups/{}", group.group_id);
    let (status, body, _) = call(&cloud, &people_only, Method::PUT, &grant, None, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, ErrorCode::InsufficientScope)
    );

    // Rotation: a second key goes live beside the first; a third waits for a revocation.
    let second = api_key(&cloud, &owner, site.site_id, &ALL_SCOPES).await;
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/api-keys", site.site_id),
            json!({ "name": "Third", "scopes": ["people:write"] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, ErrorCode::Conflict)
    );
    let (_, listed) = cloud
        .get(&owner, &format!("/api/v1/sites/{}/api-keys", site.site_id))
        .await;
    assert!(
        !listed.to_string().contains("kwk_"),
        "no secret is ever listed"
    );
    let first_id = listed[1]["key_id"].as_u64().unwrap();
    let (status, _) = cloud
        .delete(
            &owner,
            &format!("/api/v1/sites/{}/api-keys/{first_id}", site.site_id),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = call(
        &cloud,
        &people_only,
        Method::PUT,
        path,
        None,
        person("P", "p@x.test"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
        "revoked"
    );
    let (status, _, _) = call(&cloud, &second, Method::PUT, &grant, None, None).await;
    assert_eq!(status, StatusCode::OK, "the new key works at once");
    let forged = Caller {
        user_id: 0,
        token: format!("{}x", second.token),
    };
    let (status, _, _) = call(
        &cloud,
        &forged,
        Method::PUT,
        path,
        None,
        person("P", "p@x.test"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A login token is not an API key, and an API key is not a login token.
    let (status, _, _) = call(
        &cloud,
        &owner,
        Method::PUT,
        path,
        None,
        person("P", "p@x.test"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = cloud.get(&second, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another site's group and people are out of reach of this site's key.
    let other = cloud.account().await;
    let other_site = cloud.site(&other).await;
    let (other_lock, _) = cloud.lock(&other, other_site.site_id, "Theirs").await;
    let theirs = cloud
        .group(&other, other_site.site_id, &[other_lock.lock_id], &[], &[])
        .await;
    let foreign = format!("{path}/access-groups/{}", theirs.group_id);
    let (status, _, _) = call(&cloud, &second, Method::PUT, &foreign, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other_key = api_key(&cloud, &other, other_site.site_id, &ALL_SCOPES).await;
    let (status, _, _) = call(&cloud, &other_key, Method::PUT, &grant, None, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "p-1 is not a person of the other site"
    );
}

#[tokio::test]
async fn a_key_calling_too_fast_is_told_when_to_retry() {
    let cloud = Cloud::start_with(|config| {
        config.integration_burst = 2;
        config.integration_per_second = 1;
    })
    .await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &["people:write"]).await;
    let path = "/api/v1/integrations/people/r-1";
    // Two calls at once, then the bucket is empty: the next call within the second is told to
    // wait (a slow machine may refill one token between calls; a few more calls get there).
    let mut refused = None;
    for _ in 0..6 {
        let (status, body, retry_after) = call(
            &cloud,
            &key,
            Method::PUT,
            path,
            None,
            person("R", "r@x.test"),
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((code(&body), retry_after));
            break;
        }
        assert!(status.is_success(), "{status}");
    }
    let (code, retry_after) = refused.expect("a call past the burst is refused");
    assert_eq!(code, ErrorCode::RateLimited);
    assert_eq!(retry_after.as_deref(), Some("1"));
}

#[tokio::test]
async fn a_resync_reports_the_difference_and_applies_it_unless_dry() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &ALL_SCOPES).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Door").await;
    let a = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await
        .group_id;
    let b = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await
        .group_id;
    for (id, groups) in [("p1", vec![a]), ("p2", vec![a, b])] {
        let path = format!("/api/v1/integrations/people/{id}");
        call(
            &cloud,
            &key,
            Method::PUT,
            &path,
            None,
            person(id, &format!("{id}@x.test")),
        )
        .await;
        for group in groups {
            call(
                &cloud,
                &key,
                Method::PUT,
                &format!("{path}/access-groups/{group}"),
                None,
                None,
            )
            .await;
        }
    }
    let list = |dry_run: bool| {
        json!({
            "groups": [a, b],
            "dry_run": dry_run,
            "people": [
                { "external_id": "p1", "name": "p1", "email": "p1@x.test", "groups": [b] },
                { "external_id": "p3", "name": "p3", "email": "p3@x.test", "groups": [a] },
            ],
        })
    };
    let members = "SELECT COUNT(*) FROM access_group_members";
    let before = cloud.count(members).await;
    let (status, dry, _) = call(
        &cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/resync",
        None,
        Some(list(true)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let expected = json!({
        "dry_run": true,
        "added": ["p3"],
        "updated": [],
        "removed": ["p2"],
        "granted": [["p1", b], ["p3", a]],
        "revoked": [["p1", a]],
    });
    assert_eq!(dry, expected);
    assert_eq!(
        cloud.count(members).await,
        before,
        "a dry run changes nothing"
    );
    let (status, applied, _) = call(
        &cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/resync",
        None,
        Some(list(false)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["removed"], json!(["p2"]));
    assert_eq!(cloud.count(members).await, 2, "p1 in b, p3 in a");
    let (_, again, _) = call(
        &cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/resync",
        None,
        Some(list(false)),
    )
    .await;
    for field in ["added", "updated", "removed", "granted", "revoked"] {
        assert_eq!(again[field], json!([]), "in step: {field}");
    }
    let stray = json!({ "groups": [a], "people": [
        { "external_id": "p1", "name": "p1", "email": "p1@x.test", "groups": [b] }
    ] });
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/resync",
        None,
        Some(stray),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput)
    );
}
