//! `cargo xtask bench live`, first line: how long an access change takes to reach a phone's
//! wallet through the real core. An admin's phone puts the tenant in and out of an access
//! group, 100 times; the tenant's phone holds the live channel (`Keyway::live()`), and each
//! change is timed from the admin's call returning to the tenant's core having synced its
//! wallet (its `ChangeObserver::keys_changed`) with the key there, or gone. Prints
//! `propagation: median X ms, p99 Y ms over 100 changes`. A benchmark, not a test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyway_core::admin::Role;
use keyway_e2e::bench::{percentile, WalletWatcher};
use keyway_e2e::World;
use tokio::sync::mpsc;

/// Changes timed.
const CHANGES: usize = 100;

#[tokio::main]
async fn main() {
    let world = World::start().await;
    let site = world.site("owner@bench.test", &["Front"]).await;
    let email = "tenant@bench.test";
    let tenant_id = site.add(email, Role::User).await;
    let phone = world.person(email, None).await;
    phone.devices().register().await.unwrap();
    let admin = site.owner.admin();
    let group = admin
        .create_access_group(
            site.info.site_id,
            "Bench".into(),
            vec![site.locks[0].lock_id],
            vec![],
            vec![],
        )
        .await
        .unwrap();
    let (sender, mut synced) = mpsc::unbounded_channel();
    phone.live().start(Arc::new(WalletWatcher(sender))).unwrap();
    // The connection's first sync.
    synced.recv().await.unwrap();

    let mut samples = Vec::with_capacity(CHANGES);
    for change in 0..CHANGES {
        let joins = change % 2 == 0;
        let members = if joins { vec![tenant_id] } else { vec![] };
        admin
            .set_group_members(site.info.site_id, group.group_id, members)
            .await
            .unwrap();
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
        // A revocation says "keys changed" and "denylist changed": both sync; let the second
        // land before the next change is timed.
        tokio::time::sleep(Duration::from_millis(20)).await;
        while synced.try_recv().is_ok() {}
    }
    phone.live().stop();
    samples.sort_by(f64::total_cmp);
    println!(
        "propagation: median {:.1} ms, p99 {:.1} ms over {CHANGES} changes",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
}
