//! An identity provider deactivates a person through SCIM (docs/scim.md): the phone's core
//! loses the key through the live channel, with no sync call from the test; reactivated, the
//! person's phone gets a key back the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyway_api::integrations::{CreateApiKeyRequest, Scope};
use keyway_cloud::integrations::keys;
use keyway_core::live::ChangeObserver;
use keyway_core::Keyway;
use keyway_e2e::bench::WalletWatcher;
use keyway_e2e::World;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::remote_support::user_id;

/// How long a change may take to reach the phone here (it takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(5);

async fn provisioning_key(world: &World, site_id: u32, owner_id: u32) -> String {
    let request = CreateApiKeyRequest {
        name: "Okta".into(),
        scopes: vec![Scope::PeopleWrite, Scope::AccessWrite],
    };
    world
        .cloud
        .state
        .store
        .run(move |db| keys::create(db, site_id, owner_id, "Okta", &request, 0))
        .await
        .unwrap()
        .secret
}

async fn scim(world: &World, key: &str, method: Method, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, format!("{}/scim/v2{path}", world.cloud.base_url()))
        .bearer_auth(key)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(
        status == StatusCode::OK || status == StatusCode::CREATED,
        "{path}: {status} {body}"
    );
    body
}

/// Waits (at most [`PATIENCE`]) until the phone's wallet holds `count` keys, read locally.
async fn wallet_holds(phone: &Keyway, count: usize) -> Duration {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if phone.wallet().keys().await.unwrap().len() == count {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the wallet did not reach {count} keys within {PATIENCE:?}");
}

fn active(value: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Replace", "path": "active", "value": value }],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_deactivation_takes_the_key_from_the_connected_phone_and_reactivation_gives_one_back()
{
    let world = World::start().await;
    let site = world.site("owner@scim.test", &["Door"]).await;
    let owner_id = user_id(&world, "owner@scim.test").await;
    let key = provisioning_key(&world, site.info.site_id, owner_id).await;
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "tenant@scim.test",
        "name": { "givenName": "Terry", "familyName": "Tenant" },
        "externalId": "00u-terry",
        "active": true,
    });
    let created = scim(&world, &key, Method::POST, "/Users", user).await;
    let id = created["id"].as_str().unwrap().to_string();
    site.grant_first_lock(id.parse().unwrap()).await;

    // The invited person signs up with the address, and their phone listens.
    let phone = world.person("tenant@scim.test", None).await;
    phone.devices().register().await.unwrap();
    let (sender, _receiver) = tokio::sync::mpsc::unbounded_channel();
    phone
        .live()
        .start(Arc::new(WalletWatcher(sender)) as Arc<dyn ChangeObserver>)
        .unwrap();
    wallet_holds(&phone, 1).await;

    let path = format!("/Users/{id}");
    let off = scim(&world, &key, Method::PATCH, &path, active("False")).await;
    assert_eq!(off["active"], false);
    let revoked = wallet_holds(&phone, 0).await;
    let on = scim(&world, &key, Method::PATCH, &path, active("True")).await;
    assert_eq!(on["active"], true);
    let granted = wallet_holds(&phone, 1).await;
    println!("deactivation reached the wallet in {revoked:?}, reactivation in {granted:?}");
}
