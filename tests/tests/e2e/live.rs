//! Live changes through the core against the real cloud: an administrator's change reaches a
//! connected phone's wallet with no sync call from the test; a phone away during a change
//! catches up when it comes back; a site's notices stay with its people; a dropped
//! connection is reopened; the stream is renewed in place when the token refreshes; a session
//! that ends tells the observer.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyway_core::admin::Role;
use keyway_core::live::ChangeObserver;
use keyway_core::platform::{FileSecureStore, SecureStore};
use keyway_core::Keyway;
use keyway_e2e::{Site, World};

/// How long a change may take to reach the phone in these tests (it takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(5);

/// An observer that counts its calls.
#[derive(Debug, Default)]
struct Recorder {
    keys: AtomicU32,
    pods: AtomicU32,
    remote: AtomicU32,
    ended: AtomicU32,
}

impl ChangeObserver for Recorder {
    fn keys_changed(&self) {
        self.keys.fetch_add(1, Ordering::SeqCst);
    }
    fn pods_changed(&self) {
        self.pods.fetch_add(1, Ordering::SeqCst);
    }
    fn remote_locks_changed(&self) {
        self.remote.fetch_add(1, Ordering::SeqCst);
    }
    fn session_ended(&self) {
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
}

impl Recorder {
    /// Every count: keys, pods, remote, session ended.
    fn counts(&self) -> [u32; 4] {
        [&self.keys, &self.pods, &self.remote, &self.ended].map(|c| c.load(Ordering::SeqCst))
    }
}

/// Waits (at most [`PATIENCE`]) until `done` holds; returns how long it took.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if done().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not within {PATIENCE:?}");
}

/// Keys in the phone's wallet (read locally: no sync).
async fn keys(phone: &Keyway) -> usize {
    phone.wallet().keys().await.unwrap().len()
}

/// A person of `site` with a registered phone whose live channel is open and caught up (the
/// first `keys_changed` of the connection came).
async fn connected(world: &World, site: &Site, email: &str) -> (Arc<Keyway>, Arc<Recorder>, u32) {
    let user_id = site.add(email, Role::User).await;
    let phone = world.person(email, None).await;
    phone.devices().register().await.unwrap();
    let recorder = Arc::new(Recorder::default());
    phone
        .live()
        .start(Arc::clone(&recorder) as Arc<dyn ChangeObserver>)
        .unwrap();
    until("the first sync of the connection", async || {
        recorder.keys.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert!(phone.live().is_running());
    (phone, recorder, user_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_granted_and_a_revoked_key_reach_a_connected_phone_without_a_sync_call() {
    let world = World::start().await;
    let site = world.site("owner@live.test", &["Door"]).await;
    let (phone, recorder, user_id) = connected(&world, &site, "tenant@live.test").await;
    assert_eq!(keys(&phone).await, 0);
    let before = recorder.counts();

    let group = site.grant_first_lock(user_id).await;
    let granted = until("the granted key", async || keys(&phone).await == 1).await;
    // The wallet is written first, then the app told.
    until("the observer told", async || {
        recorder.keys.load(Ordering::SeqCst) > before[0]
    })
    .await;

    let admin = site.owner.admin();
    admin
        .set_group_members(site.info.site_id, group.group_id, vec![])
        .await
        .unwrap();
    let revoked = until("the revocation", async || keys(&phone).await == 0).await;
    println!("granted in {granted:?}, revoked in {revoked:?}");
    assert_eq!(recorder.ended.load(Ordering::SeqCst), 0);
    assert_eq!(
        world.cloud.state.live.stream_count(),
        1,
        "one stream all along"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_phone_stopped_during_a_change_catches_up_when_started_again() {
    let world = World::start().await;
    let site = world.site("owner@away.test", &["Door"]).await;
    let (phone, recorder, user_id) = connected(&world, &site, "away@away.test").await;
    phone.live().stop();
    assert!(!phone.live().is_running());
    until("the stream closed at the cloud", async || {
        world.cloud.state.live.stream_count() == 0
    })
    .await;

    site.grant_first_lock(user_id).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(keys(&phone).await, 0, "stopped: nothing synced");
    let before = recorder.keys.load(Ordering::SeqCst);

    phone
        .live()
        .start(Arc::clone(&recorder) as Arc<dyn ChangeObserver>)
        .unwrap();
    until("the catch-up sync", async || keys(&phone).await == 1).await;
    until("the observer told", async || {
        recorder.keys.load(Ordering::SeqCst) > before
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_change_on_one_site_never_reaches_a_person_of_another() {
    let world = World::start().await;
    let site_a = world.site("owner@a.test", &["A door"]).await;
    let site_b = world.site("owner@b.test", &["B door"]).await;
    let (phone_a, _, user_a) = connected(&world, &site_a, "tenant@a.test").await;
    let (phone_b, recorder_b, user_b) = connected(&world, &site_b, "tenant@b.test").await;
    site_b.grant_first_lock(user_b).await;
    until("site B's own key", async || keys(&phone_b).await == 1).await;
    // Told after the connect and after the grant: quiet from then on.
    until("site B's person told", async || {
        recorder_b.keys.load(Ordering::SeqCst) >= 2
    })
    .await;
    let quiet = recorder_b.counts();

    // A grant, then a revocation (a denylist notice for the whole of site A).
    let group = site_a.grant_first_lock(user_a).await;
    until("site A's key", async || keys(&phone_a).await == 1).await;
    site_a
        .owner
        .admin()
        .set_group_members(site_a.info.site_id, group.group_id, vec![])
        .await
        .unwrap();
    until("site A's revocation", async || keys(&phone_a).await == 0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recorder_b.counts(), quiet, "site B's person heard nothing");
    assert_eq!(keys(&phone_b).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_dropped_connection_is_noticed_and_reopened() {
    let world = World::start().await;
    let site = world.site("owner@drop.test", &["Door"]).await;
    let (phone, recorder, user_id) = connected(&world, &site, "tenant@drop.test").await;
    let before = recorder.keys.load(Ordering::SeqCst);

    world.cloud.state.live.close_all();
    until("the reconnect and its catch-up sync", async || {
        recorder.keys.load(Ordering::SeqCst) > before
    })
    .await;
    assert_eq!(world.cloud.state.live.stream_count(), 1);

    site.grant_first_lock(user_id).await;
    until("a change after the reconnect", async || {
        keys(&phone).await == 1
    })
    .await;
    assert!(phone.live().is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_the_stream_is_renewed_in_place_when_the_token_refreshes() {
    // Tokens live 4 s: the phone refreshes after 2 s and renews its stream with the new one.
    let world = World::start_with(|c| c.access_token_ttl = 4).await;
    let site = world.site("owner@renew.test", &["Door"]).await;
    let (phone, recorder, user_id) = connected(&world, &site, "tenant@renew.test").await;
    let refreshes = phone.refresh_count();
    let connects = recorder.keys.load(Ordering::SeqCst);

    tokio::time::sleep(Duration::from_secs(7)).await;
    assert!(phone.refresh_count() > refreshes, "the token was refreshed");
    assert_eq!(
        recorder.keys.load(Ordering::SeqCst),
        connects,
        "no reconnect (each would sync and tell the observer)"
    );
    site.grant_first_lock(user_id).await;
    until("a change on the renewed stream", async || {
        keys(&phone).await == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_session_that_ends_tells_the_observer_and_stops_the_channel() {
    let world = World::start_with(|c| c.access_token_ttl = 4).await;
    let site = world.site("owner@end.test", &["Door"]).await;
    let (phone, recorder, _) = connected(&world, &site, "tenant@end.test").await;
    // The login is revoked behind the phone's back (a stolen phone blocked from the web):
    // the phone's next refresh is refused.
    let store = FileSecureStore::new(world.phone_dir("tenant@end.test").join("secure-store.json"));
    let tokens: serde_json::Value =
        serde_json::from_slice(&store.get("keyway.tokens".into()).unwrap().unwrap()).unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let revoked = reqwest::Client::new()
        .post(format!("{}/oauth/revoke", world.cloud.base_url()))
        .form(&[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    until("session_ended", async || {
        recorder.ended.load(Ordering::SeqCst) == 1
    })
    .await;
    until("the channel stopped", async || !phone.live().is_running()).await;
}

/// A cloud that opens every live stream with a `hello` and then says nothing, not even a
/// ping, holding the connection open (a half-open connection after a network change looks
/// like this to the phone). Counts the streams it opened.
async fn silent_cloud() -> (String, Arc<AtomicU32>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let opened = Arc::new(AtomicU32::new(0));
    let count = Arc::clone(&opened);
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            if !request.starts_with(b"GET /api/v1/live ") {
                let _ = socket
                    .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    .await;
                continue;
            }
            count.fetch_add(1, Ordering::SeqCst);
            let hello = keyway_api::live::encode_event(&keyway_api::live::LiveNotice::Hello {
                stream_id: u64::from(count.load(Ordering::SeqCst)),
                renew_by: i64::MAX,
            });
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                        cache-control: no-cache\r\n\r\n";
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(hello.as_bytes()).await.unwrap();
            // Never written to again, never closed.
            held.push(socket);
        }
    });
    (url, opened)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_silent_connection_is_taken_for_dead_and_reopened() {
    let world = World::start().await;
    let (url, opened) = silent_cloud().await;
    // A phone logged in as far as it knows (its tokens fresh for an hour), on the silent cloud.
    let dir = world.phone_dir("silent");
    std::fs::create_dir_all(&dir).unwrap();
    let store = FileSecureStore::new(dir.join("secure-store.json"));
    let now = chrono::Utc::now().timestamp();
    let tokens = serde_json::json!({
        "access_token": "not a real token",
        "refresh_token": "nor this",
        "expires_at": now + 3_600,
        "issued_at": now,
    });
    store
        .put("keyway.tokens".into(), serde_json::to_vec(&tokens).unwrap())
        .unwrap();
    let store: Arc<dyn SecureStore> = Arc::new(store);
    let config = keyway_core::KeywayConfig {
        server_url: url,
        data_dir: dir.display().to_string(),
        device_name: "silent".into(),
        platform: "cli".into(),
    };
    let signer = keyway_core::platform::software_device_signer(Arc::clone(&store)).unwrap();
    let phone = Keyway::new(config, store, signer, None).unwrap();
    let recorder = Arc::new(Recorder::default());
    phone.live().set_idle_timeout(Duration::from_millis(300));
    phone
        .live()
        .start(Arc::clone(&recorder) as Arc<dyn ChangeObserver>)
        .unwrap();

    until("the first stream", async || {
        opened.load(Ordering::SeqCst) >= 1
    })
    .await;
    until("the silence noticed and the stream reopened", async || {
        opened.load(Ordering::SeqCst) >= 3
    })
    .await;
    // Each connection told the app to reload (the wallet sync itself fails: no device).
    assert!(recorder.pods.load(Ordering::SeqCst) >= 2);
    assert_eq!(recorder.ended.load(Ordering::SeqCst), 0);
    phone.live().stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_logout_closes_the_channel_at_once() {
    let world = World::start().await;
    let site = world.site("owner@logout.test", &["Door"]).await;
    let (phone, recorder, _) = connected(&world, &site, "tenant@logout.test").await;
    phone.auth().logout().await.unwrap();
    until("the channel closed", async || {
        !phone.live().is_running() && world.cloud.state.live.stream_count() == 0
    })
    .await;
    assert_eq!(recorder.ended.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_joining_and_leaving_a_pod_tells_the_observer_and_moves_the_key() {
    use keyway_core::pods::PodMemberInput;
    let world = World::start().await;
    let site = world.site("owner@pod.test", &["Apartment door"]).await;
    let (phone, recorder, _) = connected(&world, &site, "member@pod.test").await;
    let before = recorder.counts();

    let pods = site.owner.pods();
    let pod = pods
        .create_pod(
            site.info.site_id,
            "Apartment 201".into(),
            vec![PodMemberInput {
                name: "Mia Member".into(),
                email: "member@pod.test".into(),
            }],
            vec![site.locks[0].lock_id],
        )
        .await
        .unwrap();
    until("the pod's key and pods_changed", async || {
        keys(&phone).await == 1 && recorder.pods.load(Ordering::SeqCst) > before[1]
    })
    .await;
    assert_eq!(phone.pods().my_pods().await.unwrap().len(), 1);

    let joined = recorder.counts();
    pods.remove_member(pod.pod_id, pod.members[0].member_id)
        .await
        .unwrap();
    until("the key gone and pods_changed", async || {
        keys(&phone).await == 0 && recorder.pods.load(Ordering::SeqCst) > joined[1]
    })
    .await;
    assert!(phone.pods().my_pods().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_a_remote_right_granted_tells_the_observer() {
    let world = World::start().await;
    let site = world.site("owner@remote.test", &["Door"]).await;
    let (_phone, recorder, user_id) = connected(&world, &site, "tenant@remote.test").await;
    let before = recorder.counts();
    site.owner
        .admin()
        .set_remote_rights(site.info.site_id, user_id, true, false)
        .await
        .unwrap();
    until("remote_locks_changed", async || {
        recorder.remote.load(Ordering::SeqCst) > before[2]
    })
    .await;
    assert_eq!(
        recorder.pods.load(Ordering::SeqCst),
        before[1],
        "no pod changed"
    );
}
