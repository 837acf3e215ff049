//! Calls of a connected system: its API key, its calls with an optional `Idempotency-Key`,
//! the people it sends.

use keyway_api::integrations::CreatedApiKey;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{typed, Caller, Cloud};

/// A site API key with `scopes`, made by `admin`.
pub async fn api_key(cloud: &Cloud, admin: &Caller, site_id: u32, scopes: &[&str]) -> Caller {
    let (status, body) = cloud
        .post(
            admin,
            &format!("/api/v1/sites/{site_id}/api-keys"),
            json!({ "name": "Storage system", "scopes": scopes }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: CreatedApiKey = typed(body);
    assert!(created.secret.starts_with("kwk_"));
    Caller {
        user_id: 0,
        token: created.secret,
    }
}

/// A call with an API key and, optionally, an `Idempotency-Key`.
pub async fn call(
    cloud: &Cloud,
    key: &Caller,
    method: Method,
    path: &str,
    idempotency: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", cloud.running.base_url()))
        .bearer_auth(&key.token);
    if let Some(idempotency) = idempotency {
        request = request.header("Idempotency-Key", idempotency);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        retry_after,
    )
}

/// An upsert body.
pub fn person(name: &str, email: &str) -> Option<Value> {
    Some(json!({ "name": name, "email": email }))
}
