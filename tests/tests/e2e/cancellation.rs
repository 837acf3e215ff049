//! Cancelling a call stops its work: an unlock dropped mid-handshake (the app cancelled it)
//! closes the BLE link, leaves nothing half-written on the phone, and a later unlock works.

use std::time::Duration;

use keyway_core::admin::Role;
use keyway_e2e::{log_in, slow_radio, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlock_cancelled_mid_handshake_closes_the_link_and_writes_nothing() {
    let world = World::start().await;
    let site = world.site("owner@cancel.test", &["Front"]).await;
    let tenant_id = site.add("tenant@cancel.test", Role::User).await;
    site.grant_first_lock(tenant_id).await;
    let lock = &site.locks[0];
    let phone = world.phone("tenant", Some(slow_radio(lock)));
    world.sign_up_verified(&phone, "tenant@cancel.test").await;
    log_in(&phone, "tenant@cancel.test").await;
    phone.devices().register().await.unwrap();
    phone.wallet().sync().await.unwrap();
    let events_before = lock.lock.lock().unwrap().events().len();

    // The app gives up after 300 ms: the call's future is dropped mid-handshake.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(300),
        phone.wallet().unlock(lock.lock_id),
    )
    .await;
    assert!(
        cancelled.is_err(),
        "still running after 300 ms: {cancelled:?}"
    );
    // The lock sees the phone go away.
    let mut connected = true;
    for _ in 0..100 {
        connected = lock.lock.lock().unwrap().connection_id().is_some();
        if !connected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !connected,
        "the link was closed when the unlock was cancelled"
    );
    // Nothing was half-done: no answer, no event at the lock, none queued on the phone.
    assert_eq!(lock.lock.lock().unwrap().events().len(), events_before);
    assert_eq!(phone.events().pending().await.unwrap(), 0);
    // And the next unlock works from a clean start.
    let report = phone.wallet().unlock(lock.lock_id).await.unwrap();
    assert!(report.granted, "{report:?}");
    assert_eq!(phone.events().pending().await.unwrap(), 1);
}
