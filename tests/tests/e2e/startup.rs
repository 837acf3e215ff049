//! Starting the core does no I/O on the caller's thread (an app builds it on its UI thread):
//! the local store is opened by the first call that needs it, and a store that cannot be
//! opened is that call's error, not a crash at start.

use std::sync::Arc;

use keyway_core::platform::{file_secure_store, software_device_signer};
use keyway_core::{Keyway, KeywayConfig, KeywayError};
use keyway_e2e::World;

fn core_with_data_dir(world: &World, data_dir: &std::path::Path) -> Arc<Keyway> {
    let secrets = world.phone_dir("startup-secrets.json");
    let store = file_secure_store(secrets.display().to_string());
    let signer = software_device_signer(Arc::clone(&store)).unwrap();
    let config = KeywayConfig {
        server_url: world.cloud.base_url(),
        data_dir: data_dir.display().to_string(),
        device_name: "startup".into(),
        platform: "cli".into(),
    };
    Keyway::new(config, store, signer, None).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_starts_without_touching_its_store_and_opens_it_on_first_use() {
    let world = World::start().await;
    let data_dir = world.phone_dir("startup").join("core-data");
    let core = core_with_data_dir(&world, &data_dir);
    assert!(!data_dir.exists(), "nothing was written at start");
    assert_eq!(core.events().pending().await.unwrap(), 0);
    assert!(
        data_dir.join("keyway-core.sqlite3").exists(),
        "opened on first use"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_be_opened_is_the_first_calls_error_not_a_failed_start() {
    let world = World::start().await;
    // The data directory would have to live inside a file.
    let blocker = world.phone_dir("a-file");
    std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    std::fs::write(&blocker, b"not a directory").unwrap();
    let core = core_with_data_dir(&world, &blocker.join("core-data"));
    let first = core.events().pending().await;
    assert!(
        matches!(first, Err(KeywayError::InvalidInput { .. })),
        "{first:?}"
    );
}
