//! Remote-opening routes over HTTP, without an IQ: the OpenAPI document lists them, the
//! inputs are checked, keypad PINs follow the roles, the biometric enrolment needs both
//! signatures, and a lock whose IQ is offline (or that has none) is refused clearly.

use crate::api_support;

use api_support::{b64_key, key, Cloud};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::remote::biometric_enrolment_message;
use keyway_api::Role;
use keyway_cloud::remote::keypad::find_pin;
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use serde_json::{json, Value};

#[tokio::test]
async fn the_openapi_document_lists_the_remote_routes() {
    let cloud = Cloud::start().await;
    let document: Value = reqwest::get(format!("{}/openapi.json", cloud.running.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/me/remote-pin",
        "/api/v1/devices/{device_id}/biometric-key",
        "/api/v1/remote/challenges",
        "/api/v1/sites/{site_id}/locks/{lock_id}/remote",
        "/api/v1/me/remote-locks",
        "/api/v1/devices/{device_id}/iq-code-secrets",
        "/api/v1/sites/{site_id}/people/{user_id}/keypad-pin",
        "/iq/v1/connect",
        "/web/remote",
        "/web/login",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} is missing");
    }
}

#[tokio::test]
async fn remote_opening_needs_an_online_iq_and_a_pin() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Door").await;
    cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[owner.user_id], &[])
        .await;
    let path = format!(
        "/api/v1/sites/{}/locks/{}/remote",
        site.site_id, lock.lock_id
    );
    let body = json!({ "command": "unlock", "gate": { "kind": "pin", "pin": "1234" } });
    let (status, error) = cloud.post(&owner, &path, body.clone()).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::CONFLICT, Some("no_iq"))
    );

    let (status, iq) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/iqs", site.site_id),
            json!({ "name": "IQ", "public_key": b64_key(&key().public_key()) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = cloud
        .put(
            &owner,
            &format!("/api/v1/sites/{}/locks/{}/iq", site.site_id, lock.lock_id),
            json!({ "iq_id": iq["iq_id"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, error) = cloud.post(&owner, &path, body).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("iq_offline")),
        "{error}"
    );
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM remote_openings").await,
        0,
        "nothing queued"
    );
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let (status, _) = cloud
        .post(
            &user,
            &path,
            json!({ "command": "unlock", "gate": { "kind": "pin", "pin": "1234" } }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no remote opening right");
}

#[tokio::test]
async fn pins_are_checked_and_set_only_with_the_password() {
    let cloud = Cloud::start().await;
    let caller = cloud.account().await;
    let (status, body) = cloud.get(&caller, "/api/v1/me/remote-pin").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["set"], false);
    let (status, _) = cloud
        .put(
            &caller,
            "/api/v1/me/remote-pin",
            json!({ "password": "whatever it is", "pin": "12a4" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = cloud
        .put(
            &caller,
            "/api/v1/me/remote-pin",
            json!({ "password": "not the password", "pin": "1234" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "accounts made here have no password"
    );
}

#[tokio::test]
async fn keypad_pins_follow_the_roles_reach_only_their_person_and_are_never_shown_again() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let other = cloud.member(&owner, site.site_id, Role::User).await;
    let path = |who: u32| format!("/api/v1/sites/{}/people/{who}/keypad-pin", site.site_id);
    let (status, body) = cloud.post(&owner, &path(user.user_id), json!(null)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The owner made it but is not shown it: it went to the person's own mailbox.
    assert_eq!(body["pin"], Value::Null, "{body}");
    assert_eq!(body["delivery"], "emailed");
    let address = cloud
        .people(&owner, site.site_id)
        .await
        .into_iter()
        .find(|p| p.user_id == user.user_id)
        .unwrap()
        .email
        .unwrap();
    let pin = cloud
        .mail_to(&address)
        .await
        .iter()
        .rev()
        .find_map(|message| find_pin(&message.body))
        .unwrap();
    assert!(pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()));
    assert!(
        cloud.mail_to(&address).await.len() >= 2,
        "the invitation, then the PIN"
    );
    let (status, status_body) = cloud.get(&user, &path(user.user_id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(status_body["created_at"].is_i64());
    assert!(!status_body.to_string().contains(&pin), "never shown again");
    let (status, _) = cloud.post(&user, &path(other.user_id), json!(null)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a user manages nobody else's PIN"
    );
    let (status, body) = cloud.post(&user, &path(user.user_id), json!(null)).await;
    assert_eq!(status, StatusCode::CREATED, "but may renew their own");
    assert_eq!(body["delivery"], "shown", "and sees their own");
    assert!(body["pin"].as_str().is_some_and(|p| p != pin));
    let stranger = cloud.account().await;
    let (status, _) = cloud
        .post(&stranger, &path(user.user_id), json!(null))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_biometric_key_needs_the_device_key_and_its_own_signature() {
    let cloud = Cloud::start().await;
    let caller = cloud.account().await;
    let (device, device_key) = cloud.device(&caller).await;
    let biometric = key();
    let rng = SystemRandom::new();
    let message = biometric_enrolment_message(device.device_id, biometric.public_key().as_bytes());
    let sign = |k: &keyway_protocol::SigningKey| STANDARD.encode(k.sign(&message, &rng).unwrap());
    let path = format!("/api/v1/devices/{}/biometric-key", device.device_id);
    let attempt = |device_signature: String, biometric_signature: String| {
        json!({
            "public_key": b64_key(&biometric.public_key()),
            "device_signature": device_signature,
            "biometric_signature": biometric_signature,
        })
    };
    let (status, _) = cloud
        .put(&caller, &path, attempt(sign(&key()), sign(&biometric)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not this device's key");
    let (status, _) = cloud
        .put(&caller, &path, attempt(sign(&device_key), sign(&key())))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no proof of the new key");
    let (status, challenge) = cloud
        .post(
            &caller,
            "/api/v1/remote/challenges",
            json!({ "device_id": device.device_id }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "no key yet: {challenge}");
    let (status, body) = cloud
        .put(&caller, &path, attempt(sign(&device_key), sign(&biometric)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, challenge) = cloud
        .post(
            &caller,
            "/api/v1/remote/challenges",
            json!({ "device_id": device.device_id }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        STANDARD
            .decode(challenge["nonce"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    let someone_else = cloud.account().await;
    let (status, _) = cloud.put(&someone_else, &path, json!({})).await;
    assert!(status.is_client_error());
}
