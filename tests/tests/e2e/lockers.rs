//! XS4 locker locks (manual 000): a fixed locker for one person, a family locker for several;
//! the admin sees who uses it, its door and battery, who opened it last; an admin-only
//! emergency opening through the IQ, logged, that privacy mode does not stop.

use keyway_core::admin::Role;
use keyway_core::admin_lock_rules::LockerAssignment;
use keyway_core::remote::RemoteGate;
use keyway_core::KeywayError;
use keyway_sim::SimulatedTag;

use crate::remote_support::{eventually, remote_site, PIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locker_is_assigned_monitored_and_opened_in_an_emergency() {
    let r = remote_site(&["Lobby", "Locker 12"]).await;
    let admin = r.site.owner.admin();
    let site_id = r.site_id();
    let locker = r.lock(1);
    let neighbour = r.site.add("neighbour@lockers.test", Role::User).await;

    let two = admin
        .set_locker(
            site_id,
            locker,
            LockerAssignment::Fixed,
            vec![r.tenant_id, neighbour],
        )
        .await;
    assert!(
        matches!(two, Err(KeywayError::InvalidInput { .. })),
        "{two:?}"
    );
    let view = admin
        .set_locker(site_id, locker, LockerAssignment::Fixed, vec![r.tenant_id])
        .await
        .unwrap();
    assert_eq!(
        (view.occupied, view.user_ids.clone()),
        (true, vec![r.tenant_id])
    );

    // The assignment is the locker's own group: the groups API cannot change it.
    let groups = r
        .world
        .cloud
        .state
        .store
        .run(|db| {
            Ok::<_, keyway_cloud::StoreError>(db.query_row(
                "SELECT id FROM access_groups WHERE locker_lock_id IS NOT NULL",
                [],
                |row| row.get::<_, u32>(0),
            )?)
        })
        .await
        .unwrap();
    let changed = admin
        .set_group_members(site_id, groups, vec![neighbour])
        .await;
    assert!(
        matches!(changed, Err(KeywayError::InvalidInput { .. })),
        "{changed:?}"
    );

    // The tenant's tag opens the locker; the admin sees who opened it.
    let tag = SimulatedTag::new().unwrap();
    admin
        .register_tag(
            site_id,
            format!("{:014x}", tag.tag_id()),
            tag.public_key().as_bytes().to_vec(),
            Some(r.tenant_id),
        )
        .await
        .unwrap();
    let lock = std::sync::Arc::clone(&r.site.locks[1].lock);
    assert!(eventually(|| lock.lock().unwrap().present_tag(&tag, 0).unwrap().granted()).await);
    lock.lock().unwrap().set_battery(64).unwrap();
    let mut seen = None;
    for _ in 0..200 {
        let lockers = admin.list_lockers(site_id).await.unwrap();
        if lockers[0].last_opened_by.is_some() && lockers[0].state.battery_percent.is_some() {
            seen = Some(lockers[0].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seen = seen.expect("the IQ carried the locker's events");
    assert_eq!(
        (seen.last_opened_by, seen.state.battery_percent),
        (Some(r.tenant_id), Some(64))
    );

    // A family locker for both.
    let family = admin
        .set_locker(
            site_id,
            locker,
            LockerAssignment::Family,
            vec![r.tenant_id, neighbour],
        )
        .await
        .unwrap();
    assert_eq!(family.user_ids.len(), 2);

    // Emergency opening: the owner, with their app PIN, even in privacy mode.
    lock.lock().unwrap().set_privacy(true).unwrap();
    r.site
        .owner
        .remote()
        .set_pin(keyway_e2e::PASSWORD.into(), PIN.into())
        .await
        .unwrap();
    let before = r.unlocks(1);
    let opened = r
        .site
        .owner
        .remote()
        .emergency_open_locker(site_id, locker, RemoteGate::Pin { pin: PIN.into() })
        .await
        .unwrap();
    assert!(opened.granted, "{opened:?}");
    assert_eq!(r.unlocks(1), before + 1);
    let logged: i64 = r
        .query(
            "SELECT COUNT(*) FROM remote_openings WHERE emergency = 1 AND lock_id = ?1",
            locker,
        )
        .await;
    assert_eq!(logged, 1);
    // The tenant (no admin) may not, even with the remote opening right.
    let refused = r
        .tenant
        .remote()
        .emergency_open_locker(site_id, locker, RemoteGate::Pin { pin: PIN.into() })
        .await;
    assert!(
        matches!(refused, Err(KeywayError::NotAllowed { .. })),
        "{refused:?}"
    );
    // Nor is the lobby door a locker.
    let lobby = r
        .site
        .owner
        .remote()
        .emergency_open_locker(site_id, r.lock(0), RemoteGate::Pin { pin: PIN.into() })
        .await;
    assert!(
        matches!(lobby, Err(KeywayError::InvalidInput { .. })),
        "{lobby:?}"
    );
}
