//! The event outbox survives a crash in the middle of an upload: nothing lost, nothing doubled.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::Arc;

use keyway_core::admin::SiteRole;
use keyway_core::unlock::BleTransport;
use keyway_e2e::{log_in, World};

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
    let user = site.add("walker@outbox.test", SiteRole::User).await;
    site.owner
        .admin()
        .create_access_group(
            site.info.site_id,
            "G".into(),
            vec![site.locks[0].lock_id],
            vec![user],
            vec![],
        )
        .await
        .unwrap();
    let radio = site.radio();
    let phone = world.phone("walker", Some(Arc::clone(&radio) as Arc<dyn BleTransport>));
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
