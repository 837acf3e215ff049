//! `cargo xtask bench integrations`: a connected system's change reaching a phone. A storage
//! system grants and revokes a customer's access group with its API key, 100 times; the
//! customer's phone holds the live channel, and each change is timed from the integration
//! call's answer to the phone's core having synced its wallet with the key there, or gone.
//! Then webhook throughput: 1,000 access changes written at once, delivered signed and in
//! order to a receiver on loopback. Prints two lines:
//! `integration: median X ms, p99 Y ms over 100 changes` and
//! `webhooks: N deliveries in T ms (R deliveries/s)`. A benchmark, not a test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyway_api::integrations::{CreateApiKeyRequest, Scope};
use keyway_cloud::integrations::keys;
use keyway_cloud::StoreError;
use keyway_core::admin::Role;
use keyway_e2e::bench::{percentile, WalletWatcher};
use keyway_e2e::World;
use serde_json::json;
use tokio::sync::mpsc;

const CHANGES: usize = 100;
const DELIVERIES: usize = 1_000;

async fn receiver(count: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_: String| {
            let count = Arc::clone(&count);
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

#[tokio::main]
async fn main() {
    let world = World::start_with(|config| {
        config.webhooks_allow_loopback_http = true;
        config.integration_burst = 1_000;
        config.integration_per_second = 1_000;
    })
    .await;
    let site = world.site("owner@bench.test", &["Unit"]).await;
    let site_id = site.info.site_id;
    let email = "customer@bench.test";
    site.add(email, Role::User).await;
    let phone = world.person(email, None).await;
    phone.devices().register().await.unwrap();
    let group = site
        .owner
        .admin()
        .create_access_group(
            site_id,
            "Unit".into(),
            vec![site.locks[0].lock_id],
            vec![],
            vec![],
        )
        .await
        .unwrap();
    let request = CreateApiKeyRequest {
        name: "Bench".into(),
        scopes: vec![
            Scope::PeopleWrite,
            Scope::AccessWrite,
            Scope::WebhooksManage,
        ],
    };
    let secret = world
        .cloud
        .state
        .store
        .run(move |db| keys::create(db, site_id, 1, "Bench", &request, 0))
        .await
        .unwrap()
        .secret;
    let http = reqwest::Client::new();
    let base = world.cloud.base_url();
    let answer = http
        .put(format!("{base}/api/v1/integrations/people/cust-1"))
        .bearer_auth(&secret)
        .json(&json!({ "name": "Customer", "email": email }))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let grant = format!(
        "{base}/api/v1/integrations/people/cust-1/access-groups/{}",
        group.group_id
    );

    let (sender, mut synced) = mpsc::unbounded_channel();
    phone.live().start(Arc::new(WalletWatcher(sender))).unwrap();
    synced.recv().await.unwrap();
    let mut samples = Vec::with_capacity(CHANGES);
    for change in 0..CHANGES {
        let joins = change % 2 == 0;
        let call = if joins {
            http.put(&grant)
        } else {
            http.delete(&grant)
        };
        let answer = call.bearer_auth(&secret).send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        let returned = Instant::now();
        loop {
            let heard = tokio::time::timeout(Duration::from_secs(5), synced.recv())
                .await
                .expect("no change within five seconds")
                .unwrap();
            let holds = !phone.wallet().keys().await.unwrap().is_empty();
            if holds == joins {
                samples.push(heard.saturating_duration_since(returned).as_secs_f64() * 1000.0);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        while synced.try_recv().is_ok() {}
    }
    phone.live().stop();
    samples.sort_by(f64::total_cmp);
    println!(
        "integration: median {:.1} ms, p99 {:.1} ms over {CHANGES} changes",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );

    let count = Arc::new(AtomicUsize::new(0));
    let url = receiver(Arc::clone(&count)).await;
    let answer = http
        .post(format!("{base}/api/v1/integrations/webhooks"))
        .bearer_auth(&secret)
        .json(&json!({ "url": url, "event_types": ["access.changed"] }))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let group_id = group.group_id;
    let started = Instant::now();
    world
        .cloud
        .state
        .store
        .transaction(move |tx| {
            let user: u32 = tx.query_row(
                "SELECT user_id FROM integration_people WHERE external_id = 'cust-1'",
                [],
                |row| row.get(0),
            )?;
            for _ in 0..DELIVERIES / 2 {
                tx.execute(
                    "INSERT OR IGNORE INTO access_group_members (group_id, user_id) VALUES (?1, ?2)",
                    [group_id, user],
                )?;
                tx.execute(
                    "DELETE FROM access_group_members WHERE group_id = ?1 AND user_id = ?2",
                    [group_id, user],
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < DELIVERIES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let delivered = count.load(Ordering::SeqCst);
    println!(
        "webhooks: {delivered} deliveries in {:.0} ms ({:.0} deliveries/s)",
        elapsed.as_secs_f64() * 1000.0,
        delivered as f64 / elapsed.as_secs_f64()
    );
}
