//! Webhooks out, per Standard Webhooks, to a receiver on loopback: every message signed
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature` over `id.timestamp.body` with the
//! secret shown once), at least once and in order per endpoint; a receiver down for an hour
//! loses nothing; after a day of tries the messages are dead letters an admin replays.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::integrations::{CreatedApiKey, CreatedWebhook, DeadLetterView};
use keyway_api::ErrorCode;
use reqwest::{Method, StatusCode};
use ring::hmac;
use serde_json::{json, Value};

use crate::api_support::{code, typed, Caller, Cloud};

/// One message as received: `webhook-id`, `webhook-timestamp`, `webhook-signature`, body.
pub(crate) type Message = (String, String, String, String);

/// A receiver: what it got, and whether it is down.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    /// What it got, in order.
    pub(crate) got: Arc<Mutex<Vec<Message>>>,
    /// Whether it answers 503.
    pub(crate) down: Arc<AtomicBool>,
}

impl Receiver {
    /// Starts it on a free loopback port; returns its URL.
    pub(crate) async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    if me.down.load(Ordering::SeqCst) {
                        return AxumStatus::SERVICE_UNAVAILABLE;
                    }
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    me.got.lock().unwrap().push((
                        header("webhook-id"),
                        header("webhook-timestamp"),
                        header("webhook-signature"),
                        body,
                    ));
                    AxumStatus::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/hook")
    }

    fn bodies(&self) -> Vec<Value> {
        let got = self.got.lock().unwrap();
        got.iter()
            .map(|(_, _, _, body)| serde_json::from_str(body).unwrap())
            .collect()
    }

    /// The bodies, once `count` arrived (or after six seconds).
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..300 {
            if self.got.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.bodies()
    }
}

/// The receiver's check of a message, written from the specification.
/// Whether a message is signed with `secret` (Standard Webhooks).
pub(crate) fn verify(
    secret: &str,
    (id, timestamp, signature, body): &(String, String, String, String),
) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let expected = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    signature == &format!("v1,{}", STANDARD.encode(expected.as_ref()))
}

async fn call(
    cloud: &Cloud,
    key: &Caller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    cloud.call(key, method, path, body).await
}

struct Setup {
    cloud: Cloud,
    key: Caller,
    receiver: Receiver,
    secret: String,
    webhook_id: u32,
    grant: String,
}

async fn setup() -> Setup {
    let cloud = Cloud::start_with(|config| config.webhooks_allow_loopback_http = true).await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (status, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/api-keys", site.site_id),
            json!({ "name": "Coworking", "scopes": ["people:write", "access:write", "webhooks:manage"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let key = Caller {
        user_id: 0,
        token: typed::<CreatedApiKey>(body).secret,
    };
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let (status, body) = call(
        &cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/webhooks",
        Some(json!({ "url": url, "event_types": ["access.changed"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: CreatedWebhook = typed(body);
    let (lock, _) = cloud.lock(&owner, site.site_id, "Meeting room").await;
    let group = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await;
    call(
        &cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/people/member-1",
        Some(json!({ "name": "Mel Member", "email": "mel@cowork.test" })),
    )
    .await;
    Setup {
        cloud,
        key,
        receiver,
        secret: created.secret,
        webhook_id: created.webhook.webhook_id,
        grant: format!(
            "/api/v1/integrations/people/member-1/access-groups/{}",
            group.group_id
        ),
    }
}

fn members(bodies: &[Value]) -> Vec<bool> {
    bodies
        .iter()
        .map(|body| {
            assert_eq!(body["type"], "access.changed");
            body["data"]["member"].as_bool().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn access_changes_arrive_signed_and_in_order_and_survive_an_hour_down() {
    let s = setup().await;
    let (status, _) = call(&s.cloud, &s.key, Method::PUT, &s.grant, None).await;
    assert_eq!(status, StatusCode::OK);
    let got = s.receiver.wait_for(1).await;
    assert_eq!(members(&got), [true]);
    let first = s.receiver.got.lock().unwrap()[0].clone();
    assert!(verify(&s.secret, &first), "signed per Standard Webhooks");
    assert!(first.0.starts_with("msg_"));
    let mut tampered = first.clone();
    tampered.3 = tampered.3.replace("true", "false");
    assert!(
        !verify(&s.secret, &tampered),
        "a changed body does not verify"
    );

    // The receiver goes down; four more changes happen meanwhile.
    s.receiver.down.store(true, Ordering::SeqCst);
    for method in [Method::DELETE, Method::PUT, Method::DELETE, Method::PUT] {
        let (status, _) = call(&s.cloud, &s.key, method, &s.grant, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.receiver.got.lock().unwrap().len(),
        1,
        "nothing got through while down"
    );
    // An hour later it is back: everything arrives, in order, each once.
    s.cloud.running.state.clock.advance(3600);
    s.receiver.down.store(false, Ordering::SeqCst);
    s.cloud.running.state.store.webhooks_wake().notify_one();
    let got = s.receiver.wait_for(5).await;
    assert_eq!(members(&got), [true, false, true, false, true]);
    let all = s.receiver.got.lock().unwrap().clone();
    assert!(all.iter().all(|message| verify(&s.secret, message)));
    let mut ids: Vec<&String> = all.iter().map(|(id, ..)| id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 5, "five messages, five ids");
}

#[tokio::test]
async fn after_a_day_messages_are_dead_letters_an_admin_replays() {
    let s = setup().await;
    s.receiver.down.store(true, Ordering::SeqCst);
    call(&s.cloud, &s.key, Method::PUT, &s.grant, None).await;
    call(&s.cloud, &s.key, Method::DELETE, &s.grant, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A day and more of tries.
    for _ in 0..26 {
        s.cloud.running.state.clock.advance(3600);
        s.cloud.running.state.store.webhooks_wake().notify_one();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let path = format!(
        "/api/v1/integrations/webhooks/{}/dead-letters",
        s.webhook_id
    );
    let mut dead = Vec::new();
    for _ in 0..100 {
        let (_, body) = call(&s.cloud, &s.key, Method::GET, &path, None).await;
        dead = typed::<Vec<DeadLetterView>>(body);
        if dead.len() == 2 {
            break;
        }
        s.cloud.running.state.store.webhooks_wake().notify_one();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(dead[0].attempts > 1 && dead[0].last_error.as_deref() == Some("HTTP 503"));
    s.receiver.down.store(false, Ordering::SeqCst);
    let replay = format!("/api/v1/integrations/webhooks/{}/replay", s.webhook_id);
    let (status, body) = call(&s.cloud, &s.key, Method::POST, &replay, None).await;
    assert_eq!(
        (status, body["replayed"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let got = s.receiver.wait_for(2).await;
    assert_eq!(members(&got), [true, false], "replayed in order");
    let ids: Vec<String> = s
        .receiver
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.0.clone())
        .collect();
    assert_eq!(
        ids,
        [dead[0].message_id.clone(), dead[1].message_id.clone()],
        "the same ids"
    );
}

#[tokio::test]
async fn endpoints_must_be_https_and_public_and_need_the_scope() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (_, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/api-keys", site.site_id),
            json!({ "name": "K", "scopes": ["webhooks:manage"] }),
        )
        .await;
    let key = Caller {
        user_id: 0,
        token: typed::<CreatedApiKey>(body).secret,
    };
    for url in [
        "http://127.0.0.1:9/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.1/hook",
        "https://[::1]/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let (status, body) = call(
            &cloud,
            &key,
            Method::POST,
            "/api/v1/integrations/webhooks",
            Some(json!({ "url": url, "event_types": ["access.changed"] })),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
            "{url}"
        );
    }
    // Lock events are `events:read`'s: a key without it cannot get them by webhook, whether
    // it names them or asks for every type.
    for types in [
        json!(["lock.event"]),
        json!(["access.changed", "lock.alert"]),
        json!([]),
    ] {
        let (status, body) = call(
            &cloud,
            &key,
            Method::POST,
            "/api/v1/integrations/webhooks",
            Some(json!({ "url": "https://hooks.example.com/keyway", "event_types": types })),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, ErrorCode::InsufficientScope),
            "{types}"
        );
    }
    let (_, body) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/api-keys", site.site_id),
            json!({ "name": "K2", "scopes": ["webhooks:manage", "events:read"] }),
        )
        .await;
    let key = Caller {
        user_id: 0,
        token: typed::<CreatedApiKey>(body).secret,
    };
    let (status, body) = call(
        &cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/webhooks",
        Some(json!({ "url": "https://hooks.example.com/keyway", "event_types": ["lock.event", "nope"] })),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput)
    );
    let (status, body) = call(
        &cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/webhooks",
        Some(json!({ "url": "https://hooks.example.com/keyway" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: CreatedWebhook = typed(body);
    let (_, listed) = call(
        &cloud,
        &key,
        Method::GET,
        "/api/v1/integrations/webhooks",
        None,
    )
    .await;
    assert!(
        !listed.to_string().contains(&created.secret),
        "the secret is shown once"
    );
    let stored = cloud
        .count(format!(
            "SELECT COUNT(*) FROM webhook_endpoints WHERE instr(secret, '{}') > 0",
            created.secret
        ))
        .await;
    assert_eq!(stored, 0, "sealed at rest");
}

#[tokio::test]
async fn revoking_the_key_stops_its_webhooks() {
    let s = setup().await;
    call(&s.cloud, &s.key, Method::PUT, &s.grant, None).await;
    assert_eq!(s.receiver.wait_for(1).await.len(), 1);
    let key_id = s
        .cloud
        .count("SELECT id FROM api_keys WHERE revoked_at IS NULL")
        .await;
    let site_id = s.cloud.count("SELECT site_id FROM api_keys").await;
    let owner_id = s
        .cloud
        .count("SELECT user_id FROM memberships WHERE role = 'owner'")
        .await;
    let owner = s.cloud.token_for(u32::try_from(owner_id).unwrap()).await;
    let (status, _) = s
        .cloud
        .delete(
            &owner,
            &format!("/api/v1/sites/{site_id}/api-keys/{key_id}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The group changes again: nothing more goes to the system whose key was taken away.
    s.cloud
        .running
        .state
        .store
        .run(|db| {
            db.execute("DELETE FROM access_group_members", [])?;
            Ok::<_, keyway_cloud::StoreError>(())
        })
        .await
        .unwrap();
    s.cloud.running.state.store.webhooks_wake().notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.receiver.got.lock().unwrap().len(), 1);
    assert_eq!(
        s.cloud
            .count("SELECT COUNT(*) FROM webhook_deliveries WHERE delivered_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_delays_nobody_else() {
    let s = setup().await;
    // A second endpoint whose host takes the connection and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/hook", silent.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = Arc::clone(&held);
    tokio::spawn(async move {
        while let Ok((socket, _)) = silent.accept().await {
            holder.lock().unwrap().push(socket);
        }
    });
    // Made first, so its messages are queued first.
    let (status, body) = call(
        &s.cloud,
        &s.key,
        Method::POST,
        "/api/v1/integrations/webhooks",
        Some(json!({ "url": silent_url, "event_types": ["access.changed"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for method in [Method::PUT, Method::DELETE, Method::PUT] {
        let (status, _) = call(&s.cloud, &s.key, method, &s.grant, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    // The answering receiver gets all three while the silent one still holds its first try
    // (a try waits 10 s for an answer).
    let started = std::time::Instant::now();
    let got = s.receiver.wait_for(3).await;
    assert_eq!(members(&got), [true, false, true]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "delivered beside the silent endpoint, not after it"
    );
    assert!(
        !held.lock().unwrap().is_empty(),
        "the silent endpoint was tried too"
    );
}

#[tokio::test]
async fn a_booking_s_people_coming_and_going_are_access_changes() {
    let s = setup().await;
    let group_id: u32 = s.grant.rsplit('/').next().unwrap().parse().unwrap();
    let now = s.cloud.running.state.clock.now();
    let booking = json!({
        "kind": "room", "group_id": group_id, "people": ["member-1"],
        "start": now + 3600, "end": now + 7200,
    });
    let path = "/api/v1/integrations/bookings/bk-9";
    let (status, body) = call(&s.cloud, &s.key, Method::PUT, path, Some(booking)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(&s.cloud, &s.key, Method::DELETE, path, None).await;
    assert_eq!(status, StatusCode::OK);
    let got = s.receiver.wait_for(2).await;
    assert_eq!(members(&got), [true, false], "booked, then cancelled");
    assert_eq!(got[0]["data"]["booking_id"], "bk-9");
    assert_eq!(
        got[0]["data"]["from"],
        json!(now + 3600 - 1800),
        "the grace included"
    );
}
