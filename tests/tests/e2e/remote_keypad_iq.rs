//! Keypad PINs reach the locks through the IQ and keep working without it (manual 003), and
//! an IQ that loses the cloud keeps its locks' events until the cloud is back.

use crate::remote_support;

use std::time::Duration;

use keyway_cloud::{CloudConfig, RunningCloud, StoreError};
use keyway_core::ffi::RefusalReason;
use keyway_core::remote::PinDelivery;
use keyway_core::KeywayError;
use keyway_protocol::SigningKey;
use remote_support::{eventually, remote_site, Remote};
use ring::rand::SystemRandom;

/// Waits until the lock holds a keypad table newer than `serial`.
async fn table_after(r: &Remote, index: usize, serial: Option<u32>) -> Option<u32> {
    let lock = &r.site.locks[index].lock;
    assert!(
        eventually(|| lock.lock().unwrap().keypad_serial() > serial).await,
        "the IQ handed the lock a new table"
    );
    lock.lock().unwrap().keypad_serial()
}

/// The owner makes the tenant a keypad PIN; returns it with the serial of the lock's first
/// table that holds it.
async fn tenant_pin(r: &Remote) -> (String, Option<u32>) {
    let first = table_after(r, 0, None).await;
    let pin = r.owner_makes_tenant_pin().await;
    (pin, table_after(r, 0, first).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keypad_pin_reaches_only_its_person_once_and_opens_within_their_rights() {
    let r = remote_site(&["Front", "Back"]).await;
    let first = table_after(&r, 0, None).await;
    let pin = r.owner_makes_tenant_pin().await;
    assert!(
        pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()),
        "{pin}"
    );
    let serial = table_after(&r, 0, first).await;
    assert_eq!(r.iq.keypad(r.lock(0), pin.clone()).unwrap(), None, "opens");
    assert_eq!(r.unlocks(0), 1);
    assert_eq!(
        r.iq.keypad(r.lock(1), pin.clone()).unwrap(),
        Some(RefusalReason::WrongPin),
        "no right on the back door"
    );
    let stored: Vec<u8> = r
        .query(
            "SELECT verifier FROM keypad_pins WHERE user_id = ?1",
            r.tenant_id,
        )
        .await;
    assert_eq!(stored.len(), 32, "only a verifier is kept, never the PIN");

    let again = r
        .tenant
        .remote()
        .new_keypad_pin(r.site_id(), r.tenant_id)
        .await
        .unwrap();
    assert_eq!(
        again.delivery,
        PinDelivery::Shown,
        "the tenant asked for their own: shown to them"
    );
    let again = again.pin.unwrap();
    assert_ne!(again, pin, "regenerated, never recovered");
    table_after(&r, 0, serial).await;
    assert_eq!(
        r.iq.keypad(r.lock(0), pin).unwrap(),
        Some(RefusalReason::WrongPin)
    );
    assert_eq!(r.iq.keypad(r.lock(0), again).unwrap(), None);
    let someone_else = r
        .tenant
        .remote()
        .new_keypad_pin(r.site_id(), r.owner_id)
        .await;
    assert!(matches!(someone_else, Err(KeywayError::NotAllowed { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_attached_while_the_iq_is_connected_reaches_its_configuration() {
    let r = remote_site(&["Front"]).await;
    let iq = r.iq.iq();
    assert_eq!(iq.assigned_lock_ids(), vec![r.lock(0)]);
    let serial = iq.config_serial();
    assert!(serial > 0, "the login's configuration has a serial");
    let sessions = iq.sessions();

    let owner = r.site.owner.admin();
    let (key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
    let lock_id = owner
        .add_lock(
            r.site_id(),
            "Back".into(),
            key.public_key().as_bytes().to_vec(),
        )
        .await
        .unwrap();
    owner
        .attach_lock_to_iq(r.site_id(), lock_id, r.iq.iq_id())
        .await
        .unwrap();
    assert!(
        eventually(|| iq.assigned_lock_ids() == vec![r.lock(0), lock_id]).await,
        "the pushed configuration lists the new lock: {:?}",
        iq.assigned_lock_ids()
    );
    assert!(iq.config_serial() > serial, "each push has a higher serial");
    assert_eq!(iq.sessions(), sessions, "no reconnection was needed");
}

#[tokio::test]
async fn rights_taken_away_reach_the_connected_iq_at_once() {
    let r = remote_site(&["Front"]).await;
    let owner = r.site.owner.admin();
    let (pin, serial) = tenant_pin(&r).await;
    assert_eq!(r.iq.keypad(r.lock(0), pin.clone()).unwrap(), None, "opens");
    let sessions = r.iq.iq().sessions();

    // Out of the group that opens the door: the IQ hands the lock a table without the PIN.
    owner
        .set_group_members(r.site_id(), r.group_id, vec![r.owner_id])
        .await
        .unwrap();
    let serial = table_after(&r, 0, serial).await;
    assert_eq!(
        r.iq.keypad(r.lock(0), pin.clone()).unwrap(),
        Some(RefusalReason::WrongPin),
        "no group, no keypad access"
    );

    // Back in the group, then off the site.
    owner
        .set_group_members(r.site_id(), r.group_id, vec![r.tenant_id, r.owner_id])
        .await
        .unwrap();
    let serial = table_after(&r, 0, serial).await;
    assert_eq!(r.iq.keypad(r.lock(0), pin.clone()).unwrap(), None);
    owner.remove_person(r.site_id(), r.tenant_id).await.unwrap();
    table_after(&r, 0, serial).await;
    assert_eq!(
        r.iq.keypad(r.lock(0), pin).unwrap(),
        Some(RefusalReason::WrongPin),
        "off the site, no keypad access"
    );
    assert!(r.iq.iq_connected());
    assert_eq!(
        r.iq.iq().sessions(),
        sessions,
        "the IQ stayed connected: the changes were pushed, not picked up at a reconnection"
    );
}

async fn stored_seqs(cloud: &RunningCloud, lock_id: u32) -> Vec<i64> {
    cloud
        .state
        .store
        .run(move |db| {
            let mut statement =
                db.prepare("SELECT seq FROM lock_events WHERE lock_id = ?1 ORDER BY seq")?;
            let seqs = statement
                .query_map([lock_id], |row| row.get::<_, i64>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>(seqs)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_made_while_the_cloud_is_gone_reach_it_when_it_returns() {
    let mut r = remote_site(&["Front"]).await;
    let (pin, _) = tenant_pin(&r).await;
    assert!(r.iq.iq().wait_for_upload(Duration::from_secs(5)).await);

    let config: CloudConfig = (*r.world.cloud.state.config).clone();
    let addr = r.world.cloud.addr;
    let scratch = tempfile::tempdir().unwrap();
    let placeholder = keyway_cloud::start(
        CloudConfig::new(scratch.path().join("cloud")),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    std::mem::replace(&mut r.world.cloud, placeholder)
        .shutdown()
        .await;
    assert!(
        eventually(|| !r.iq.iq_connected()).await,
        "the IQ lost the cloud"
    );

    // Offline access: the lock checks PINs against the table it holds.
    assert_eq!(r.iq.keypad(r.lock(0), pin.clone()).unwrap(), None);
    assert_eq!(
        r.iq.keypad(r.lock(0), "000000".into()).unwrap(),
        Some(RefusalReason::WrongPin)
    );
    assert_eq!(r.iq.keypad(r.lock(0), pin).unwrap(), None);
    let iq = r.iq.iq();
    assert!(
        eventually(|| iq.pending_events() >= 3).await,
        "the IQ holds the records while the cloud is gone"
    );

    let back = keyway_cloud::start(config, addr).await.unwrap();
    std::mem::replace(&mut r.world.cloud, back).shutdown().await;
    assert!(
        iq.wait_for_session(2, Duration::from_secs(10)).await,
        "reconnected"
    );
    assert!(iq.wait_for_upload(Duration::from_secs(10)).await);
    let logged = r.site.locks[0].lock.lock().unwrap().events().len() as i64;
    assert_eq!(
        stored_seqs(&r.world.cloud, r.lock(0)).await,
        (1..=logged).collect::<Vec<_>>(),
        "every record, once, none lost"
    );
}
