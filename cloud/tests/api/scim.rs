//! SCIM 2.0 provisioning (RFC 7643, RFC 7644) as Okta and Entra ID call it, and as an attacker
//! would: people created once (an existing account matched, never duplicated), found by
//! filter, replaced, patched, suspended (keys revoked at once, the locks' denylist told) and
//! reactivated, removed; groups whose membership changes what people open; the owner and
//! admins out of reach; another site's ids `404`; revoked keys `401`, missing scopes `403`,
//! the rate limit `429`; every answer `application/scim+json`, errors in the SCIM schema
//! with Keyway's code.

use keyway_api::{ErrorCode, Role, SiteView};
use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api_keys::denied;
use crate::api_support::integration::api_key;
use crate::api_support::{b64_key, key as test_key, Caller, Cloud};

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const KEYWAY_ERROR: &str = "urn:keyway:params:scim:api:messages:2.0:Error";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const PROVISIONING: [&str; 2] = ["people:write", "access:write"];

/// What a SCIM call answered.
struct Answer {
    status: StatusCode,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The status, the `scimType` and Keyway's code of a SCIM error, checked to be one.
    fn error(&self) -> (StatusCode, Option<String>, ErrorCode) {
        assert_eq!(self.body["schemas"][0], ERROR_SCHEMA, "{}", self.body);
        assert_eq!(
            self.body["status"],
            self.status.as_u16().to_string(),
            "RFC 7644 §3.12: status is a string"
        );
        (
            self.status,
            self.body["scimType"].as_str().map(str::to_string),
            ErrorCode::parse(self.body[KEYWAY_ERROR]["code"].as_str().unwrap_or_default()),
        )
    }

    fn id(&self) -> String {
        self.body["id"].as_str().unwrap().to_string()
    }
}

/// A call to `/scim/v2{path}` with the key, the body as `application/scim+json`.
async fn scim(
    cloud: &Cloud,
    key: &Caller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = reqwest::Client::new()
        .request(
            method,
            format!("{}/scim/v2{path}", cloud.running.base_url()),
        )
        .bearer_auth(&key.token);
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    if !text.is_empty() {
        assert_eq!(
            headers[CONTENT_TYPE], "application/scim+json",
            "RFC 7644 §3.1: {text}"
        );
    }
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    }
}

fn patch(operations: Value) -> Option<Value> {
    Some(json!({ "schemas": [PATCH_OP], "Operations": operations }))
}

/// A User as Okta sends it.
fn okta_user(email: &str, external_id: &str) -> Option<Value> {
    Some(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": { "givenName": "Ada", "familyName": "Lovelace" },
        "emails": [{ "primary": true, "value": email, "type": "work" }],
        "externalId": external_id,
        "active": true,
        "groups": [],
    }))
}

/// A site with its owner, a provisioning key, one lock and a group on it.
struct Scene {
    cloud: Cloud,
    owner: Caller,
    site: SiteView,
    key: Caller,
    lock_id: u32,
    group_id: String,
}

async fn scene() -> Scene {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &PROVISIONING).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let group = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await;
    Scene {
        cloud,
        owner,
        site,
        key,
        lock_id: lock.lock_id,
        group_id: group.group_id.to_string(),
    }
}

impl Scene {
    /// Provisions a user and gives them a verified account, a token and a phone.
    async fn provisioned(&self, email: &str) -> (String, Caller, u32) {
        let created = scim(
            &self.cloud,
            &self.key,
            Method::POST,
            "/Users",
            okta_user(email, &format!("okta-{email}")),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.id();
        let user_id: u32 = id.parse().unwrap();
        self.cloud.mark_verified(user_id).await;
        let person = self.cloud.token_for(user_id).await;
        let (device, _) = self.cloud.device(&person).await;
        (id, person, device.device_id)
    }

    async fn add_to_group(&self, id: &str) {
        let added = scim(
            &self.cloud,
            &self.key,
            Method::PATCH,
            &format!("/Groups/{}", self.group_id),
            patch(json!([{ "op": "add", "path": "members", "value": [{ "value": id }] }])),
        )
        .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    }

    /// The credential ids the phone holds after a sync, and the ids the denylist names.
    async fn wallet(&self, person: &Caller, device_id: u32) -> (Vec<u64>, Vec<u64>) {
        let sync = self.cloud.sync(person, device_id).await;
        let keys = sync.keys.iter().map(|key| key.credential_id).collect();
        (keys, denied(&sync, &self.site))
    }
}

#[tokio::test]
async fn discovery_tells_the_truth_about_what_is_supported() {
    let scene = scene().await;
    let config = scim(
        &scene.cloud,
        &scene.key,
        Method::GET,
        "/ServiceProviderConfig",
        None,
    )
    .await;
    assert_eq!(config.status, StatusCode::OK);
    let body = &config.body;
    assert_eq!(body["patch"]["supported"], true);
    assert_eq!(body["filter"]["supported"], true);
    assert_eq!(body["filter"]["maxResults"], 200);
    for unsupported in ["bulk", "sort", "etag", "changePassword"] {
        assert_eq!(body[unsupported]["supported"], false, "{unsupported}");
    }
    let types = scim(
        &scene.cloud,
        &scene.key,
        Method::GET,
        "/ResourceTypes",
        None,
    )
    .await;
    let names: Vec<&str> = types.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|resource| resource["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["/Users", "/Groups"]);
    let schemas = scim(&scene.cloud, &scene.key, Method::GET, "/Schemas", None).await;
    assert_eq!(schemas.body["totalResults"], 2);
    for (method, path) in [(Method::POST, "/Bulk"), (Method::GET, "/Me")] {
        let missing = scim(&scene.cloud, &scene.key, method, path, None).await;
        assert_eq!(
            missing.error(),
            (StatusCode::NOT_FOUND, None, ErrorCode::NotFound),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_user_is_created_once_found_by_filter_and_an_existing_account_is_matched() {
    let scene = scene().await;
    let Scene { cloud, key, .. } = &scene;
    let created = scim(
        cloud,
        key,
        Method::POST,
        "/Users",
        okta_user("ada@example.com", "00u1"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.id();
    let body = &created.body;
    assert_eq!(body["userName"], "ada@example.com");
    assert_eq!(body["name"]["formatted"], "Ada Lovelace");
    assert_eq!(body["externalId"], "00u1");
    assert_eq!(body["active"], true);
    assert_eq!(
        created.headers[LOCATION].to_str().unwrap(),
        body["meta"]["location"].as_str().unwrap(),
        "RFC 7644 §3.3: the Location of the new resource"
    );
    assert!(
        !cloud.mail_to("ada@example.com").await.is_empty(),
        "invited by e-mail as an admin's add does"
    );
    let got = scim(cloud, key, Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!((got.status, got.id()), (StatusCode::OK, id.clone()));

    // userName is not case-exact; externalId is.
    for filter in [
        "userName%20eq%20%22ADA%40example.com%22",
        "externalId%20eq%20%2200u1%22",
    ] {
        let found = scim(
            cloud,
            key,
            Method::GET,
            &format!("/Users?filter={filter}"),
            None,
        )
        .await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        assert_eq!(
            found.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        );
        assert_eq!(found.body["totalResults"], 1, "{filter}");
        assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    }
    let none = scim(
        cloud,
        key,
        Method::GET,
        "/Users?filter=externalId%20eq%20%2200U1%22",
        None,
    )
    .await;
    assert_eq!(none.body["totalResults"], 0);

    // Creating the same userName again: 409 uniqueness, never a second person.
    let again = scim(
        cloud,
        key,
        Method::POST,
        "/Users",
        okta_user("Ada@Example.com", "00u2"),
    )
    .await;
    assert_eq!(
        again.error(),
        (
            StatusCode::CONFLICT,
            Some("uniqueness".into()),
            ErrorCode::Conflict
        )
    );
    // Another userName with a taken externalId: 409 too.
    let stolen = scim(
        cloud,
        key,
        Method::POST,
        "/Users",
        okta_user("eve@example.com", "00u1"),
    )
    .await;
    assert_eq!(stolen.error().1.as_deref(), Some("uniqueness"));
    assert_eq!(
        cloud
            .count(
                "SELECT COUNT(*) FROM users WHERE email IN ('ada@example.com', 'eve@example.com')"
            )
            .await,
        1
    );

    // Someone who already has a Keyway account is matched by e-mail, not duplicated.
    let existing = cloud.account_with_email("grace@example.com").await;
    let matched = scim(
        cloud,
        key,
        Method::POST,
        "/Users",
        okta_user("grace@example.com", "00u3"),
    )
    .await;
    assert_eq!(matched.status, StatusCode::CREATED, "{}", matched.body);
    assert_eq!(matched.id(), existing.user_id.to_string());
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM users WHERE email = 'grace@example.com'")
            .await,
        1
    );

    // A provider cannot make anyone more than a user: roles are not a SCIM attribute here.
    let mut climber = okta_user("climber@example.com", "00u4").unwrap();
    climber["roles"] = json!([{ "value": "admin", "primary": true }]);
    climber["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
        json!({ "manager": { "value": scene.owner.user_id.to_string() } });
    let climbed = scim(cloud, key, Method::POST, "/Users", Some(climber)).await;
    assert_eq!(climbed.status, StatusCode::CREATED, "{}", climbed.body);
    assert_eq!(
        cloud
            .count(format!(
                "SELECT COUNT(*) FROM memberships WHERE user_id = {} AND role = 'user'",
                climbed.id()
            ))
            .await,
        1
    );

    // Paging (RFC 7644 §3.4.2.4): the owner, Ada, Grace and the climber, one at a time.
    let page = scim(cloud, key, Method::GET, "/Users?startIndex=2&count=1", None).await;
    assert_eq!(page.body["totalResults"], 4);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 1);
    assert_eq!(page.body["Resources"][0]["id"], id.as_str());
}

#[tokio::test]
async fn any_other_filter_is_400_invalid_filter() {
    let scene = scene().await;
    for filter in [
        "userName%20co%20%22ada%22",
        "title%20eq%20%22x%22",
        "userName%20eq%20%22a%22%20or%20userName%20eq%20%22b%22",
        "userName%20eq%20ada",
        "userName",
    ] {
        let refused = scim(
            &scene.cloud,
            &scene.key,
            Method::GET,
            &format!("/Users?filter={filter}"),
            None,
        )
        .await;
        assert_eq!(
            refused.error(),
            (
                StatusCode::BAD_REQUEST,
                Some("invalidFilter".into()),
                ErrorCode::InvalidInput
            ),
            "{filter}"
        );
    }
    let groups = scim(
        &scene.cloud,
        &scene.key,
        Method::GET,
        "/Groups?filter=id%20eq%20%221%22",
        None,
    )
    .await;
    assert_eq!(groups.error().1.as_deref(), Some("invalidFilter"));
}

#[tokio::test]
async fn okta_deactivation_revokes_keys_at_once_and_reactivation_gives_them_back() {
    let scene = scene().await;
    let (id, person, device_id) = scene.provisioned("casey@example.com").await;
    scene.add_to_group(&id).await;
    let (keys, _) = scene.wallet(&person, device_id).await;
    assert_eq!(keys.len(), 1, "the group's lock");

    // Okta: a replace without path.
    let off = scim(
        &scene.cloud,
        &scene.key,
        Method::PATCH,
        &format!("/Users/{id}"),
        patch(json!([{ "op": "replace", "value": { "active": false } }])),
    )
    .await;
    assert_eq!(
        (off.status, &off.body["active"]),
        (StatusCode::OK, &json!(false))
    );
    let (held, denied) = scene.wallet(&person, device_id).await;
    assert!(held.is_empty(), "the phone loses the key at its next sync");
    assert!(denied.contains(&keys[0]), "the locks' denylist names it");
    // Still on the site, listed as inactive, still in the group.
    let listed = scim(
        &scene.cloud,
        &scene.key,
        Method::GET,
        "/Users?filter=userName%20eq%20%22casey%40example.com%22",
        None,
    )
    .await;
    assert_eq!(listed.body["Resources"][0]["active"], false);
    let group = scim(
        &scene.cloud,
        &scene.key,
        Method::GET,
        &format!("/Groups/{}", scene.group_id),
        None,
    )
    .await;
    assert_eq!(group.body["members"][0]["value"], id.as_str());

    // Entra: a path and the string "True".
    let on = scim(
        &scene.cloud,
        &scene.key,
        Method::PATCH,
        &format!("/Users/{id}"),
        patch(json!([{ "op": "Replace", "path": "active", "value": "True" }])),
    )
    .await;
    assert_eq!(
        (on.status, &on.body["active"]),
        (StatusCode::OK, &json!(true))
    );
    let (back, _) = scene.wallet(&person, device_id).await;
    assert_eq!(back.len(), 1, "access is back");
    assert_ne!(back[0], keys[0], "a new key: the revoked one stays denied");
}

#[tokio::test]
async fn a_suspended_person_opens_nothing_remotely_nor_with_a_tag_until_reactivated() {
    let scene = scene().await;
    let Scene {
        cloud,
        owner,
        site,
        key,
        lock_id,
        ..
    } = &scene;
    let (id, person, _) = scene.provisioned("lee@example.com").await;
    scene.add_to_group(&id).await;
    let people = format!("/api/v1/sites/{}/people/{id}", site.site_id);
    let (status, body) = cloud
        .patch(owner, &people, json!({ "remote_opening": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, iq) = cloud
        .post(
            owner,
            &format!("/api/v1/sites/{}/iqs", site.site_id),
            json!({ "name": "IQ", "public_key": b64_key(&test_key().public_key()) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{iq}");
    let (status, _) = cloud
        .put(
            owner,
            &format!("/api/v1/sites/{}/locks/{lock_id}/iq", site.site_id),
            json!({ "iq_id": iq["iq_id"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let tag = json!({ "tag_id": "000000000000e1", "public_key": b64_key(&test_key().public_key()), "user_id": id.parse::<u32>().unwrap() });
    let (status, body) = cloud
        .post(owner, &format!("/api/v1/sites/{}/tags", site.site_id), tag)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = cloud
        .patch(
            owner,
            &format!("/api/v1/sites/{}/tags/000000000000e1", site.site_id),
            json!({ "offline_access": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let remote = format!("/api/v1/sites/{}/locks/{lock_id}/remote", site.site_id);
    let open = json!({ "command": "unlock", "gate": { "kind": "pin", "pin": "1234" } });
    let offline = format!("/api/v1/sites/{}/locks/{lock_id}/offline", site.site_id);
    let stored_tags = |body: &Value| body["stored"].as_array().unwrap().len();
    let access = |active: bool| {
        let path = format!("/Users/{id}");
        async move {
            let answer = scim(
                cloud,
                key,
                Method::PATCH,
                &path,
                patch(json!([{ "op": "replace", "path": "active", "value": active }])),
            )
            .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        }
    };

    let (_, locks) = cloud.get(&person, "/api/v1/me/remote-locks").await;
    assert_eq!(locks.as_array().unwrap().len(), 1, "{locks}");
    let (status, _) = cloud.post(&person, &remote, open.clone()).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the right holds; the IQ is offline"
    );
    let (_, storage) = cloud.get(owner, &offline).await;
    assert_eq!(stored_tags(&storage), 1, "{storage}");

    access(false).await;
    let (_, locks) = cloud.get(&person, "/api/v1/me/remote-locks").await;
    assert_eq!(locks.as_array().unwrap().len(), 0, "{locks}");
    let (status, body) = cloud.post(&person, &remote, open.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (_, storage) = cloud.get(owner, &offline).await;
    assert_eq!(
        stored_tags(&storage),
        0,
        "the lock no longer stores their tag"
    );

    access(true).await;
    let (_, locks) = cloud.get(&person, "/api/v1/me/remote-locks").await;
    assert_eq!(locks.as_array().unwrap().len(), 1);
    let (_, storage) = cloud.get(owner, &offline).await;
    assert_eq!(stored_tags(&storage), 1);
}

#[tokio::test]
async fn entra_style_patches_rename_and_deactivate_with_strings() {
    let scene = scene().await;
    let (id, person, device_id) = scene.provisioned("dana@example.com").await;
    scene.add_to_group(&id).await;
    let renamed = scim(
        &scene.cloud,
        &scene.key,
        Method::PATCH,
        &format!("/Users/{id}"),
        patch(json!([
            { "op": "Replace", "path": "name.givenName", "value": "Dana" },
            { "op": "Replace", "path": "name.familyName", "value": "Scully" },
            { "op": "Add", "path": "name.formatted", "value": "Dana Scully" },
            { "op": "Add", "path": "title", "value": "Agent" },
            { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "X" },
            { "op": "Replace", "path": "externalId", "value": "entra-42" },
        ])),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["name"]["formatted"], "Dana Scully");
    assert_eq!(renamed.body["externalId"], "entra-42");
    let off = scim(
        &scene.cloud,
        &scene.key,
        Method::PATCH,
        &format!("/Users/{id}"),
        patch(json!([{ "op": "Replace", "path": "active", "value": "False" }])),
    )
    .await;
    assert_eq!(off.body["active"], false, "{}", off.body);
    assert!(scene.wallet(&person, device_id).await.0.is_empty());
    // A remove without path targets nothing; an unknown op is not SCIM.
    let untargeted = scim(
        &scene.cloud,
        &scene.key,
        Method::PATCH,
        &format!("/Users/{id}"),
        patch(json!([{ "op": "remove" }])),
    )
    .await;
    assert_eq!(untargeted.error().1.as_deref(), Some("noTarget"));
    let unknown = scim(
        &scene.cloud,
        &scene.key,
        Method::PATCH,
        &format!("/Users/{id}"),
        patch(json!([{ "op": "merge", "value": {} }])),
    )
    .await;
    assert_eq!(unknown.error().1.as_deref(), Some("invalidSyntax"));
    let not_json = reqwest::Client::new()
        .patch(format!(
            "{}/scim/v2/Users/{id}",
            scene.cloud.running.base_url()
        ))
        .bearer_auth(&scene.key.token)
        .header(CONTENT_TYPE, "application/scim+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let body: Value = not_json.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidSyntax");
}

#[tokio::test]
async fn put_replaces_the_user_but_never_their_user_name() {
    let scene = scene().await;
    let (id, person, device_id) = scene.provisioned("erin@example.com").await;
    scene.add_to_group(&id).await;
    assert_eq!(scene.wallet(&person, device_id).await.0.len(), 1);
    let path = format!("/Users/{id}");
    let replaced = scim(
        &scene.cloud,
        &scene.key,
        Method::PUT,
        &path,
        Some(json!({ "userName": "erin@example.com", "name": { "formatted": "Erin E." }, "active": false })),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["name"]["formatted"], "Erin E.");
    assert_eq!(replaced.body["active"], false);
    assert!(
        replaced.body.get("externalId").is_none(),
        "PUT replaces: left out is gone"
    );
    assert!(
        scene.wallet(&person, device_id).await.0.is_empty(),
        "PUT deactivates too"
    );
    let renamed = scim(
        &scene.cloud,
        &scene.key,
        Method::PUT,
        &path,
        Some(json!({ "userName": "mallory@example.com", "active": true })),
    )
    .await;
    assert_eq!(
        renamed.error(),
        (
            StatusCode::BAD_REQUEST,
            Some("mutability".into()),
            ErrorCode::InvalidInput
        )
    );
    let bad_email = scim(
        &scene.cloud,
        &scene.key,
        Method::POST,
        "/Users",
        Some(json!({ "userName": "not an e-mail" })),
    )
    .await;
    assert_eq!(bad_email.error().1.as_deref(), Some("invalidValue"));
}

#[tokio::test]
async fn delete_takes_the_person_off_the_site_and_their_keys_with_them() {
    let scene = scene().await;
    let (id, person, device_id) = scene.provisioned("finn@example.com").await;
    scene.add_to_group(&id).await;
    let (keys, _) = scene.wallet(&person, device_id).await;
    let path = format!("/Users/{id}");
    let deleted = scim(&scene.cloud, &scene.key, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = scim(&scene.cloud, &scene.key, Method::GET, &path, None).await;
    assert_eq!(gone.error().0, StatusCode::NOT_FOUND);
    let sync = scene.cloud.sync(&person, device_id).await;
    assert!(sync.keys.is_empty());
    assert!(
        scene
            .cloud
            .count(format!(
                "SELECT COUNT(*) FROM credentials WHERE id = {} AND revoked_at IS NOT NULL",
                keys[0]
            ))
            .await
            == 1
    );
    assert_eq!(
        scene
            .cloud
            .count(format!(
                "SELECT COUNT(*) FROM scim_users WHERE user_id = {id}"
            ))
            .await,
        0
    );
}

#[tokio::test]
async fn the_owner_and_admins_are_never_changed_or_deactivated() {
    let scene = scene().await;
    let Scene {
        cloud,
        owner,
        site,
        key,
        group_id,
        ..
    } = &scene;
    let admin = cloud.member(owner, site.site_id, Role::Admin).await;
    let (device, _) = cloud.device(owner).await;
    cloud
        .set_group_members(
            owner,
            site.site_id,
            group_id.parse().unwrap(),
            &[owner.user_id, admin.user_id],
        )
        .await;
    let owner_keys = cloud.sync(owner, device.device_id).await.keys.len();
    assert_eq!(owner_keys, 1);
    for target in [owner.user_id, admin.user_id] {
        let path = format!("/Users/{target}");
        let attempts = [
            (
                Method::PATCH,
                patch(json!([{ "op": "replace", "value": { "active": false } }])),
            ),
            (
                Method::PATCH,
                patch(json!([{ "op": "replace", "path": "active", "value": "False" }])),
            ),
            (
                Method::PUT,
                Some(json!({ "userName": "x@example.com", "active": false })),
            ),
            (Method::DELETE, None),
        ];
        for (method, body) in attempts {
            let refused = scim(cloud, key, method.clone(), &path, body).await;
            assert_eq!(
                refused.error(),
                (
                    StatusCode::FORBIDDEN,
                    Some("mutability".into()),
                    ErrorCode::Forbidden
                ),
                "{method} {path}"
            );
        }
        let still = scim(cloud, key, Method::GET, &path, None).await;
        assert_eq!(still.body["active"], true);
    }
    // Nor taken out of a group, in any of the ways a provider sends it, nor their group deleted.
    let group_path = format!("/Groups/{group_id}");
    let owner_id = owner.user_id.to_string();
    for body in [
        patch(json!([{ "op": "remove", "path": format!("members[value eq \"{owner_id}\"]") }])),
        patch(
            json!([{ "op": "Remove", "path": "members", "value": [{ "value": admin.user_id.to_string() }] }]),
        ),
        patch(json!([{ "op": "replace", "path": "members", "value": [] }])),
        patch(json!([{ "op": "remove", "path": "members" }])),
    ] {
        let refused = scim(cloud, key, Method::PATCH, &group_path, body).await;
        assert_eq!(refused.error().1.as_deref(), Some("mutability"));
    }
    let replaced = scim(
        cloud,
        key,
        Method::PUT,
        &group_path,
        Some(json!({ "displayName": "Group", "members": [] })),
    )
    .await;
    assert_eq!(replaced.error().0, StatusCode::FORBIDDEN);
    let deleted = scim(cloud, key, Method::DELETE, &group_path, None).await;
    assert_eq!(deleted.error().1.as_deref(), Some("mutability"));
    assert_eq!(
        cloud.sync(owner, device.device_id).await.keys.len(),
        owner_keys
    );
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM memberships WHERE suspended_at IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn another_sites_key_sees_nothing_of_this_site() {
    let scene = scene().await;
    let (id, _, _) = scene.provisioned("gail@example.com").await;
    let other_owner = scene.cloud.account().await;
    let other_site = scene.cloud.site(&other_owner).await;
    let intruder = api_key(
        &scene.cloud,
        &other_owner,
        other_site.site_id,
        &PROVISIONING,
    )
    .await;
    let user = format!("/Users/{id}");
    let group = format!("/Groups/{}", scene.group_id);
    let attempts = [
        (Method::GET, user.clone(), None),
        (
            Method::PUT,
            user.clone(),
            Some(json!({ "userName": "gail@example.com", "active": false })),
        ),
        (
            Method::PATCH,
            user.clone(),
            patch(json!([{ "op": "replace", "value": { "active": false } }])),
        ),
        (Method::DELETE, user.clone(), None),
        (Method::GET, group.clone(), None),
        (
            Method::PATCH,
            group.clone(),
            patch(json!([{ "op": "add", "path": "members", "value": [{ "value": id }] }])),
        ),
        (Method::DELETE, group.clone(), None),
        (Method::GET, "/Users/not-an-id".to_string(), None),
        (Method::GET, "/Users/-1".to_string(), None),
    ];
    for (method, path, body) in attempts {
        let refused = scim(&scene.cloud, &intruder, method.clone(), &path, body).await;
        assert_eq!(
            refused.error(),
            (StatusCode::NOT_FOUND, None, ErrorCode::NotFound),
            "{method} {path}"
        );
    }
    let listed = scim(
        &scene.cloud,
        &intruder,
        Method::GET,
        "/Users?filter=userName%20eq%20%22gail%40example.com%22",
        None,
    )
    .await;
    assert_eq!(listed.body["totalResults"], 0);
    let groups = scim(&scene.cloud, &intruder, Method::GET, "/Groups", None).await;
    assert_eq!(groups.body["totalResults"], 0);
    // Nor can it add this site's person to its own group.
    let own_group = scim(
        &scene.cloud,
        &intruder,
        Method::POST,
        "/Groups",
        Some(json!({ "displayName": "Mine", "members": [{ "value": id }] })),
    )
    .await;
    assert_eq!(own_group.error().1.as_deref(), Some("invalidValue"));
    let gail = scim(&scene.cloud, &scene.key, Method::GET, &user, None).await;
    assert_eq!(gail.body["active"], true);
}

/// The id of the site's live key that has `scope`.
async fn key_with(cloud: &Cloud, owner: &Caller, site_id: u32, scope: &str) -> u32 {
    let (_, keys) = cloud
        .get(owner, &format!("/api/v1/sites/{site_id}/api-keys"))
        .await;
    let key = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|key| {
            key["revoked_at"].is_null() && key["scopes"].as_array().unwrap().contains(&json!(scope))
        })
        .unwrap();
    u32::try_from(key["key_id"].as_u64().unwrap()).unwrap()
}

async fn revoke_key(cloud: &Cloud, owner: &Caller, site_id: u32, key_id: u32) {
    let (status, body) = cloud
        .delete(owner, &format!("/api/v1/sites/{site_id}/api-keys/{key_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn revoked_unknown_and_under_scoped_keys_are_refused_in_scim_errors() {
    let scene = scene().await;
    let Scene {
        cloud,
        owner,
        site,
        key,
        group_id,
        ..
    } = &scene;
    let (id, _, _) = scene.provisioned("hal@example.com").await;
    // No key, a login token, a made-up key.
    for token in [
        "",
        owner.token.as_str(),
        "kwk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let stranger = Caller {
            user_id: 0,
            token: token.to_string(),
        };
        let refused = scim(cloud, &stranger, Method::GET, "/Users", None).await;
        assert_eq!(
            refused.error(),
            (StatusCode::UNAUTHORIZED, None, ErrorCode::Unauthorized)
        );
    }
    // A key without people:write may do nothing; one without access:write no group change.
    let events_only = api_key(cloud, owner, site.site_id, &["events:read"]).await;
    let refused = scim(cloud, &events_only, Method::GET, "/Users", None).await;
    assert_eq!(
        refused.error(),
        (StatusCode::FORBIDDEN, None, ErrorCode::InsufficientScope)
    );
    let events_key = key_with(cloud, owner, site.site_id, "events:read").await;
    revoke_key(cloud, owner, site.site_id, events_key).await;
    let people_only = api_key(cloud, owner, site.site_id, &["people:write"]).await;
    let group_path = format!("/Groups/{group_id}");
    let add = patch(json!([{ "op": "add", "path": "members", "value": [{ "value": id }] }]));
    let refused = scim(cloud, &people_only, Method::PATCH, &group_path, add.clone()).await;
    assert_eq!(
        refused.error(),
        (StatusCode::FORBIDDEN, None, ErrorCode::InsufficientScope)
    );
    let refused = scim(
        cloud,
        &people_only,
        Method::POST,
        "/Groups",
        Some(json!({ "displayName": "New" })),
    )
    .await;
    assert_eq!(refused.error().2, ErrorCode::InsufficientScope);
    let read = scim(cloud, &people_only, Method::GET, &group_path, None).await;
    assert_eq!(read.status, StatusCode::OK);
    // The provisioning key revoked: its next call is 401, and it changed nothing more.
    let provisioning = key_with(cloud, owner, site.site_id, "access:write").await;
    revoke_key(cloud, owner, site.site_id, provisioning).await;
    let refused = scim(cloud, key, Method::PATCH, &group_path, add).await;
    assert_eq!(refused.error().0, StatusCode::UNAUTHORIZED);
    assert!(refused.headers.contains_key("www-authenticate"));
    let members = cloud
        .count(format!(
            "SELECT COUNT(*) FROM access_group_members WHERE group_id = {group_id}"
        ))
        .await;
    assert_eq!(members, 0);
}

#[tokio::test]
async fn a_key_calling_too_fast_gets_429_with_retry_after() {
    let cloud = Cloud::start_with(|config| {
        config.integration_burst = 2;
        config.integration_per_second = 1;
    })
    .await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(&cloud, &owner, site.site_id, &PROVISIONING).await;
    for _ in 0..2 {
        assert_eq!(
            scim(&cloud, &key, Method::GET, "/Users", None).await.status,
            StatusCode::OK
        );
    }
    let limited = scim(&cloud, &key, Method::GET, "/Users", None).await;
    assert_eq!(
        limited.error(),
        (StatusCode::TOO_MANY_REQUESTS, None, ErrorCode::RateLimited)
    );
    assert!(limited.headers.contains_key(RETRY_AFTER));
}

#[tokio::test]
async fn group_membership_through_scim_grants_and_revokes_access() {
    let scene = scene().await;
    let Scene {
        cloud,
        key,
        group_id,
        ..
    } = &scene;
    let (ivy, ivy_token, ivy_device) = scene.provisioned("ivy@example.com").await;
    let (jay, jay_token, jay_device) = scene.provisioned("jay@example.com").await;
    let found = scim(
        cloud,
        key,
        Method::GET,
        "/Groups?filter=DisplayName%20eq%20%22group%22",
        None,
    )
    .await;
    assert_eq!(found.body["Resources"][0]["id"], group_id.as_str());
    let path = format!("/Groups/{group_id}");

    // Entra adds with a list; Okta removes with a filter path.
    let added = scim(
        cloud,
        key,
        Method::PATCH,
        &path,
        patch(json!([{ "op": "Add", "path": "members", "value": [{ "value": ivy }, { "value": jay }] }])),
    )
    .await;
    assert_eq!(
        added.body["members"].as_array().unwrap().len(),
        2,
        "{}",
        added.body
    );
    let (ivy_keys, _) = scene.wallet(&ivy_token, ivy_device).await;
    assert_eq!(ivy_keys.len(), 1, "joining gives the group's key");
    assert_eq!(scene.wallet(&jay_token, jay_device).await.0.len(), 1);
    let removed = scim(
        cloud,
        key,
        Method::PATCH,
        &path,
        patch(json!([{ "op": "remove", "path": format!("members[value eq \"{ivy}\"]") }])),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let (held, denied) = scene.wallet(&ivy_token, ivy_device).await;
    assert!(held.is_empty(), "leaving revokes the key at once");
    assert!(denied.contains(&ivy_keys[0]));
    // A PUT replaces the members: Jay out, Ivy back.
    let replaced = scim(
        cloud,
        key,
        Method::PUT,
        &path,
        Some(json!({ "displayName": "Group", "members": [{ "value": ivy }] })),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert!(scene.wallet(&jay_token, jay_device).await.0.is_empty());
    assert_eq!(scene.wallet(&ivy_token, ivy_device).await.0.len(), 1);
    // A member who is nobody of the site is refused, and changes nothing.
    let stranger = scim(
        cloud,
        key,
        Method::PATCH,
        &path,
        patch(json!([{ "op": "add", "path": "members", "value": [{ "value": "999999" }] }])),
    )
    .await;
    assert_eq!(stranger.error().1.as_deref(), Some("invalidValue"));

    // A new group: a name only, no locks; a taken name is 409; deleting revokes what it gave.
    let made = scim(
        cloud,
        key,
        Method::POST,
        "/Groups",
        Some(json!({ "displayName": "Night shift", "members": [{ "value": jay }] })),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made_id = made.id();
    assert_eq!(
        cloud
            .count(format!(
                "SELECT COUNT(*) FROM access_group_locks WHERE group_id = {made_id}"
            ))
            .await,
        0
    );
    let twin = scim(
        cloud,
        key,
        Method::POST,
        "/Groups",
        Some(json!({ "displayName": "Night shift" })),
    )
    .await;
    assert_eq!(
        twin.error(),
        (
            StatusCode::CONFLICT,
            Some("uniqueness".into()),
            ErrorCode::Conflict
        )
    );
    let deleted = scim(cloud, key, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(scene.wallet(&ivy_token, ivy_device).await.0.is_empty());
    let gone = scim(cloud, key, Method::GET, &path, None).await;
    assert_eq!(gone.error().0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_scim_change_is_audited_with_its_key() {
    let scene = scene().await;
    let (id, _, _) = scene.provisioned("kim@example.com").await;
    scene.add_to_group(&id).await;
    let off = scim(
        &scene.cloud,
        &scene.key,
        Method::PATCH,
        &format!("/Users/{id}"),
        patch(json!([{ "op": "replace", "path": "active", "value": false }])),
    )
    .await;
    assert_eq!(off.status, StatusCode::OK);
    let deleted = scim(
        &scene.cloud,
        &scene.key,
        Method::DELETE,
        &format!("/Users/{id}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    for route in [
        "scim_create_user",
        "scim_replace_group",
        "scim_replace_user",
        "scim_delete_user",
    ] {
        assert_eq!(
            scene
                .cloud
                .count(format!(
                    "SELECT COUNT(*) FROM integration_audit WHERE route = '{route}' AND site_id = {}",
                    scene.site.site_id
                ))
                .await,
            1,
            "{route}"
        );
    }
    // A refused change leaves no trace.
    let refused = scim(
        &scene.cloud,
        &scene.key,
        Method::DELETE,
        &format!("/Users/{}", scene.owner.user_id),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        scene
            .cloud
            .count("SELECT COUNT(*) FROM integration_audit")
            .await,
        4
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_scim_route_with_its_scopes() {
    let cloud = Cloud::start().await;
    let document: Value = reqwest::get(format!("{}/openapi.json", cloud.running.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let routes = [
        ("get", "/scim/v2/ServiceProviderConfig"),
        ("get", "/scim/v2/ResourceTypes"),
        ("get", "/scim/v2/Schemas"),
        ("get", "/scim/v2/Users"),
        ("post", "/scim/v2/Users"),
        ("get", "/scim/v2/Users/{id}"),
        ("put", "/scim/v2/Users/{id}"),
        ("patch", "/scim/v2/Users/{id}"),
        ("delete", "/scim/v2/Users/{id}"),
        ("get", "/scim/v2/Groups"),
        ("post", "/scim/v2/Groups"),
        ("get", "/scim/v2/Groups/{id}"),
        ("put", "/scim/v2/Groups/{id}"),
        ("patch", "/scim/v2/Groups/{id}"),
        ("delete", "/scim/v2/Groups/{id}"),
    ];
    for (method, path) in routes {
        let operation = &document["paths"][path][method];
        let scopes = &operation["security"][0]["api_key"];
        assert!(
            scopes
                .as_array()
                .is_some_and(|s| s.contains(&json!("people:write"))),
            "{method} {path}"
        );
        let group_write = path.starts_with("/scim/v2/Groups") && method != "get";
        assert_eq!(
            scopes.as_array().unwrap().contains(&json!("access:write")),
            group_write,
            "{method} {path}"
        );
        assert!(operation["responses"]["401"].is_object(), "{method} {path}");
    }
}
