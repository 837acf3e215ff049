//! The event outbox survives a crash in the middle of an upload: nothing lost, nothing doubled.

use std::path::Path;
use std::sync::Arc;

use keyway_core::admin::Role;
use keyway_core::simulator::SimulatedRadio;
use keyway_core::unlock::BleTransport;
use keyway_e2e::{log_in, Site, World};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn stored_events(world: &World) -> i64 {
    let path = world
        .cloud
        .state
        .config
        .data_dir
        .join(keyway_cloud::store::DATABASE_FILE);
    let db = rusqlite::Connection::open(path).unwrap();
    db.query_row("SELECT COUNT(*) FROM lock_events", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_short_by_a_crash_is_finished_exactly_once() {
    let world = World::start().await;
    let site = world.site("owner@outbox.test", &["Door"]).await;
    let user = site.add("walker@outbox.test", Role::User).await;
    site.grant_first_lock(user).await;
    let radio = site.radio();
    let phone = world.phone("walker", Some(Arc::clone(&radio) as Arc<dyn BleTransport>));
    world.sign_up_verified(&phone, "walker@outbox.test").await;
    log_in(&phone, "walker@outbox.test").await;
    phone.devices().register().await.unwrap();
    phone.wallet().sync().await.unwrap();
    for _ in 0..3 {
        assert!(
            phone
                .wallet()
                .unlock(site.locks[0].lock_id)
                .await
                .unwrap()
                .granted
        );
    }
    drop(phone);
    // What is on disk now is what a phone that crashed right after sending would find.
    let dir = world.phone_dir("walker");
    let snapshot = dir.with_extension("snapshot");
    copy_dir(&dir, &snapshot);

    let phone = world.phone("walker", Some(Arc::clone(&radio) as Arc<dyn BleTransport>));
    let first = phone.events().upload().await.unwrap();
    assert_eq!((first.stored, first.pending), (3, 0));
    drop(phone);

    // The crash: the acknowledgement never reached the disk. Restart and upload again.
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(&snapshot, &dir);
    let phone = world.phone("walker", Some(radio as Arc<dyn BleTransport>));
    assert_eq!(phone.events().pending().await.unwrap(), 3);
    let second = phone.events().upload().await.unwrap();
    assert_eq!(
        (second.stored, second.duplicates, second.pending),
        (0, 3, 0)
    );
    assert_eq!(stored_events(&world), 3, "nothing lost, nothing doubled");
}

/// A radio whose link dies after the request is written, before the lock's answer arrives.
struct DropsBeforeTheAnswer {
    radio: Arc<keyway_core::simulator::SimulatedRadio>,
    wrote: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl BleTransport for DropsBeforeTheAnswer {
    async fn connect(&self, lock_id: u32) -> Result<u32, keyway_core::unlock::TransportError> {
        self.wrote.store(false, std::sync::atomic::Ordering::SeqCst);
        self.radio.connect(lock_id).await
    }
    async fn signal_dbm(&self) -> Option<i16> {
        self.radio.signal_dbm().await
    }
    async fn write(&self, fragment: Vec<u8>) -> Result<(), keyway_core::unlock::TransportError> {
        self.wrote.store(true, std::sync::atomic::Ordering::SeqCst);
        self.radio.write(fragment).await
    }
    async fn receive(
        &self,
        timeout_ms: u32,
    ) -> Result<Vec<u8>, keyway_core::unlock::TransportError> {
        if self.wrote.load(std::sync::atomic::Ordering::SeqCst) {
            self.radio.disconnect().await;
            return Err(keyway_core::unlock::TransportError::LinkLost {
                detail: "out of range".into(),
            });
        }
        self.radio.receive(timeout_ms).await
    }
    async fn disconnect(&self) {
        self.radio.disconnect().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_whose_answer_was_lost_reaches_the_cloud_with_the_next_unlock() {
    let world = World::start().await;
    let site = world.site("owner@lost.test", &["Door"]).await;
    let user = site.add("walker@lost.test", Role::User).await;
    site.grant_first_lock(user).await;
    let flaky = Arc::new(DropsBeforeTheAnswer {
        radio: site.radio(),
        wrote: Default::default(),
    });
    let unlucky = world.phone("unlucky", Some(flaky as Arc<dyn BleTransport>));
    world.sign_up_verified(&unlucky, "walker@lost.test").await;
    log_in(&unlucky, "walker@lost.test").await;
    unlucky.devices().register().await.unwrap();
    unlucky.wallet().sync().await.unwrap();
    let lost = unlucky.wallet().unlock(site.locks[0].lock_id).await;
    assert!(
        matches!(lost, Err(keyway_core::KeywayError::Retry { .. })),
        "{lost:?}"
    );
    assert_eq!(
        site.locks[0].lock.lock().unwrap().unlock_count(),
        1,
        "the door did open"
    );
    assert_eq!(
        unlucky.events().pending().await.unwrap(),
        0,
        "the phone never got the record"
    );

    let lucky = world.phone("lucky", Some(site.radio() as Arc<dyn BleTransport>));
    log_in(&lucky, "walker@lost.test").await;
    lucky.devices().register().await.unwrap();
    lucky.wallet().sync().await.unwrap();
    assert!(
        lucky
            .wallet()
            .unlock(site.locks[0].lock_id)
            .await
            .unwrap()
            .granted
    );
    assert_eq!(
        lucky.events().pending().await.unwrap(),
        2,
        "its own record and the lost one"
    );
    let uploaded = lucky.events().upload().await.unwrap();
    assert_eq!((uploaded.stored, uploaded.rejected), (2, 0));
    assert_eq!(stored_events(&world), 2, "both openings are on record");
}

/// A site with one door at `domain`, and the phone of a walker with a key to it (registered,
/// synced) reaching it over the site's radio.
async fn walker_with_a_key(
    world: &World,
    domain: &str,
) -> (Site, Arc<SimulatedRadio>, Arc<keyway_core::Keyway>) {
    let site = world.site(&format!("owner@{domain}"), &["Door"]).await;
    let email = format!("walker@{domain}");
    let user = site.add(&email, Role::User).await;
    site.grant_first_lock(user).await;
    let radio = site.radio();
    let phone = world.phone("walker", Some(Arc::clone(&radio) as Arc<dyn BleTransport>));
    world.sign_up_verified(&phone, &email).await;
    log_in(&phone, &email).await;
    phone.devices().register().await.unwrap();
    phone.wallet().sync().await.unwrap();
    (site, radio, phone)
}

/// Turns the phone's store into one a newer build left behind (a downgrade).
fn as_if_from_a_newer_build(dir: &Path) {
    let db = rusqlite::Connection::open(dir.join("keyway-core.sqlite3")).unwrap();
    db.pragma_update(None, "user_version", 99).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_kept_through_a_rebuilt_store_are_uploaded_exactly_once() {
    let world = World::start().await;
    let (site, radio, phone) = walker_with_a_key(&world, "heal.test").await;
    let transport = || Some(Arc::clone(&radio) as Arc<dyn BleTransport>);
    let lock = site.locks[0].lock_id;
    for _ in 0..3 {
        assert!(phone.wallet().unlock(lock).await.unwrap().granted);
    }
    drop(phone);
    let dir = world.phone_dir("walker");
    let snapshot = dir.with_extension("snapshot");
    copy_dir(&dir, &snapshot);

    // Uploaded from the healthy store; then the older copy of the store, events still
    // queued, comes back as a file from a newer build.
    let phone = world.phone("walker", transport());
    assert_eq!(phone.events().upload().await.unwrap().stored, 3);
    drop(phone);
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(&snapshot, &dir);
    as_if_from_a_newer_build(&dir);

    let phone = world.phone("walker", transport());
    assert!(
        phone.wallet().keys().await.unwrap().is_empty(),
        "the wallet is rebuilt"
    );
    assert_eq!(
        phone.events().pending().await.unwrap(),
        3,
        "the outbox is kept"
    );
    assert!(phone.devices().current_device_id().await.unwrap().is_some());
    let again = phone.events().upload().await.unwrap();
    assert_eq!((again.stored, again.duplicates, again.pending), (0, 3, 0));
    assert_eq!(stored_events(&world), 3, "nothing doubled");

    // The next sync refills the wallet and the phone opens doors again.
    phone.wallet().sync().await.unwrap();
    assert!(phone.wallet().unlock(lock).await.unwrap().granted);
    assert_eq!(phone.events().upload().await.unwrap().stored, 1);
    assert_eq!(stored_events(&world), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_overwritten_with_garbage_starts_empty_and_works_after_a_sync() {
    let world = World::start().await;
    let (site, radio, phone) = walker_with_a_key(&world, "garbage.test").await;
    let transport = || Some(Arc::clone(&radio) as Arc<dyn BleTransport>);
    drop(phone);
    let dir = world.phone_dir("walker");
    std::fs::write(dir.join("keyway-core.sqlite3"), vec![0xa5; 16384]).unwrap();

    let phone = world.phone("walker", transport());
    assert!(phone.wallet().keys().await.unwrap().is_empty());
    assert_eq!(phone.events().pending().await.unwrap(), 0);
    assert_eq!(phone.devices().current_device_id().await.unwrap(), None);
    // Registering again is harmless; the sync refills the wallet.
    phone.devices().register().await.unwrap();
    phone.wallet().sync().await.unwrap();
    assert!(!phone.wallet().keys().await.unwrap().is_empty());
    assert!(
        phone
            .wallet()
            .unlock(site.locks[0].lock_id)
            .await
            .unwrap()
            .granted
    );
    assert_eq!(phone.events().upload().await.unwrap().stored, 1);
}
