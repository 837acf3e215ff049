//! Token lifecycle through the core against the real cloud: refresh single-flight, rotation
//! and reuse detection.

use std::sync::Arc;

use keyway_core::platform::{FileSecureStore, SecureStore};
use keyway_core::KeywayError;
use keyway_e2e::World;

fn stored_refresh_token(world: &World, phone: &str) -> String {
    let store = FileSecureStore::new(world.phone_dir(phone).join("secure-store.json"));
    let bytes = store.get("keyway.tokens".into()).unwrap().unwrap();
    let tokens: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    tokens["refresh_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_calls_on_an_expired_token_cause_one_refresh() {
    let world = World::start_with(|c| c.access_token_ttl = 600).await;
    let phone = world.person("busy@e2e.test", None).await;
    phone.devices().register().await.unwrap();
    // The cloud's clock moves past the access token's life; the phone's does not know.
    world.cloud.state.clock.advance(3600);
    let calls = (0..10).map(|_| {
        let phone = Arc::clone(&phone);
        tokio::spawn(async move { phone.wallet().sync().await })
    });
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(phone.refresh_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_refresh_token_used_first_ends_the_whole_session() {
    let world = World::start_with(|c| c.access_token_ttl = 600).await;
    let phone = world.person("victim@e2e.test", None).await;
    phone.devices().register().await.unwrap();
    let stolen = stored_refresh_token(&world, "victim@e2e.test");
    // The thief rotates the token first.
    keyway_core::http::install_tls_provider();
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/oauth/token", world.cloud.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", stolen.as_str()),
            ("client_id", "keyway-app"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let thief: serde_json::Value = response.json().await.unwrap();
    // The phone's next refresh reuses the old token: the cloud revokes the family.
    world.cloud.state.clock.advance(3600);
    let result = phone.wallet().sync().await;
    assert!(
        matches!(result, Err(KeywayError::ReLogin { .. })),
        "{result:?}"
    );
    // And the thief's fresh tokens died with it.
    let response = client
        .post(format!("{}/oauth/token", world.cloud.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", thief["refresh_token"].as_str().unwrap()),
            ("client_id", "keyway-app"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
}
