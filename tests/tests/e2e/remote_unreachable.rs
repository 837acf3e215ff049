//! An IQ that is online but cannot reach the lock: the cloud answers `lock_unreachable`
//! (502) with advice the app can show, never a 500, and records the failed opening.

use crate::remote_support;

use keyway_api::ApiErrorBody;
use keyway_api::ErrorCode;
use keyway_cloud::auth::tokens::new_token;
use keyway_cloud::StoreError;
use keyway_protocol::SigningKey;
use remote_support::{remote_site, Remote, PIN};
use ring::rand::SystemRandom;

/// An access token for `user_id`, written straight into the cloud's store.
async fn token_for(r: &Remote, user_id: u32) -> String {
    let (token, hash) = new_token().unwrap();
    r.world
        .cloud
        .state
        .store
        .run(move |db| {
            db.execute(
                "INSERT INTO token_families (user_id, created_at) VALUES (?1, 0)",
                [user_id],
            )?;
            db.execute(
                "INSERT INTO access_tokens (token_hash, family_id, user_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![hash, db.last_insert_rowid(), user_id, i64::MAX],
            )?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_the_iq_cannot_reach_is_a_clear_502_not_a_server_error() {
    let r = remote_site(&["Front"]).await;
    // A lock attached to the IQ in the cloud that the IQ's radio does not reach.
    let owner = r.site.owner.admin();
    let (key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
    let far = owner
        .add_lock(
            r.site_id(),
            "Far away".into(),
            key.public_key().as_bytes().to_vec(),
        )
        .await
        .unwrap();
    owner
        .attach_lock_to_iq(r.site_id(), far, r.iq.iq_id())
        .await
        .unwrap();
    owner
        .create_access_group(
            r.site_id(),
            "Far".into(),
            vec![far],
            vec![r.tenant_id],
            vec![],
        )
        .await
        .unwrap();

    let token = token_for(&r, r.tenant_id).await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/sites/{}/locks/{far}/remote",
            r.world.cloud.base_url(),
            r.site_id()
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "command": "unlock", "gate": { "kind": "pin", "pin": PIN } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    let body: ApiErrorBody = response.json().await.unwrap();
    assert_eq!(ErrorCode::parse(&body.error), ErrorCode::LockUnreachable);
    assert!(!body.message.is_empty(), "advice the app can show");
    let outcome: String = r
        .query(
            "SELECT outcome FROM remote_openings WHERE lock_id = ?1",
            far,
        )
        .await;
    assert!(!outcome.is_empty(), "the failed opening is recorded");
    // Through the core, the app is told what to do: the IQ cannot reach this lock.
    let through_core = r
        .tenant
        .remote()
        .open(
            r.site_id(),
            far,
            keyway_core::remote::RemoteGate::Pin { pin: PIN.into() },
        )
        .await;
    assert!(
        matches!(
            through_core,
            Err(keyway_core::KeywayError::LockUnreachable { .. })
        ),
        "{through_core:?}"
    );

    // The lock the IQ does reach still opens.
    let report = r
        .tenant
        .remote()
        .open(
            r.site_id(),
            r.lock(0),
            keyway_core::remote::RemoteGate::Pin { pin: PIN.into() },
        )
        .await
        .unwrap();
    assert!(report.granted);
}
