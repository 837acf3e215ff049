//! A connected system's side of the end-to-end tests: an API key for a site, and its calls.

use keyway_api::integrations::{CreateApiKeyRequest, Scope};
use keyway_cloud::integrations::keys;
use keyway_e2e::World;
use reqwest::Method;
use serde_json::Value;

/// A key for `site_id` with `scopes`, made as its owner would (`owner_id`).
pub async fn api_key(world: &World, site_id: u32, owner_id: u32, scopes: Vec<Scope>) -> String {
    let request = CreateApiKeyRequest {
        name: "Connected system".into(),
        scopes,
    };
    world
        .cloud
        .state
        .store
        .run(move |db| keys::create(db, site_id, owner_id, "Connected system", &request, 0))
        .await
        .unwrap()
        .secret
}

/// A call with the key that must succeed; its JSON answer (`Null` when there is none).
pub async fn call(
    world: &World,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", world.cloud.base_url()))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}
