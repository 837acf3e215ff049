//! The live-changes part of `keyway demo` (a child module of `demo`): the tenant's app comes
//! to the foreground and holds the live channel; the admin gives the tenant the storage room,
//! then takes it back, and the tenant's wallet follows within milliseconds with no sync call
//! from the app.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use keyway_core::live::ChangeObserver;
use keyway_core::Keyway;
use tokio::sync::mpsc;

use super::Steps;

/// Tells the demo each time the core says the wallet changed (it synced it already).
struct WalletWatcher(mpsc::UnboundedSender<Instant>);

impl ChangeObserver for WalletWatcher {
    fn keys_changed(&self) {
        let _ = self.0.send(Instant::now());
    }
    fn pods_changed(&self) {}
    fn remote_locks_changed(&self) {}
    fn session_ended(&self) {}
}

/// The demo's people and the lock the change is about.
#[derive(Debug, Clone, Copy)]
pub struct LiveDemo<'a> {
    /// The admin's phone.
    pub admin: &'a Arc<Keyway>,
    /// The tenant's phone (logged in, device registered).
    pub tenant: &'a Arc<Keyway>,
    /// The tenant's account.
    pub tenant_id: u32,
    /// The site.
    pub site_id: u32,
    /// The lock the tenant gets, then loses.
    pub lock_id: u32,
}

/// Waits for the next "keys changed" (at most five seconds).
async fn next_change(changes: &mut mpsc::UnboundedReceiver<Instant>) -> anyhow::Result<Instant> {
    tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .map_err(|_| anyhow!("the wallet heard of no change within five seconds"))?
        .ok_or_else(|| anyhow!("the live channel stopped"))
}

/// Whether the tenant's wallet holds a key for `lock_id`.
async fn holds(tenant: &Keyway, lock_id: u32) -> anyhow::Result<bool> {
    let keys = tenant.wallet().keys().await?;
    Ok(keys
        .iter()
        .any(|key| key.locks.iter().any(|lock| lock.lock_id == lock_id)))
}

/// Runs the live-changes steps.
pub async fn run(steps: &mut Steps, demo: LiveDemo<'_>) -> anyhow::Result<()> {
    let (sender, mut changes) = mpsc::unbounded_channel();
    let live = demo.tenant.live();
    steps
        .run(
            "the tenant's app comes to the foreground and opens the live channel",
            async {
                live.start(Arc::new(WalletWatcher(sender)))?;
                // On every (re)connect the core syncs once: nothing missed while away.
                next_change(&mut changes).await?;
                Ok(())
            },
        )
        .await?;
    let admin = demo.admin.admin();
    let group = steps
        .run(
            "the admin gives the tenant the storage room: the tenant's wallet holds the key \
             without any sync from the app",
            async {
                let group = admin
                    .create_access_group(
                        demo.site_id,
                        "Storage".into(),
                        vec![demo.lock_id],
                        vec![demo.tenant_id],
                        vec![],
                    )
                    .await?;
                let answered = Instant::now();
                let heard = next_change(&mut changes).await?;
                if !holds(demo.tenant, demo.lock_id).await? {
                    return Err(anyhow!("the wallet has no key for the storage room"));
                }
                println!(
                    "    the wallet held the new key {:.1} ms after the admin's answer",
                    heard.saturating_duration_since(answered).as_secs_f64() * 1000.0
                );
                Ok(group)
            },
        )
        .await?;
    steps
        .run(
            "the admin takes it back: the key leaves the wallet the same way",
            async {
                admin
                    .set_group_members(demo.site_id, group.group_id, vec![])
                    .await?;
                let answered = Instant::now();
                let deadline = answered + Duration::from_secs(5);
                // A revocation says "keys changed" and "denylist changed": both sync.
                while holds(demo.tenant, demo.lock_id).await? {
                    if Instant::now() > deadline {
                        return Err(anyhow!("the revoked key is still in the wallet"));
                    }
                    next_change(&mut changes).await?;
                }
                println!(
                    "    the key left the wallet {:.1} ms after the admin's answer",
                    answered.elapsed().as_secs_f64() * 1000.0
                );
                live.stop();
                Ok(())
            },
        )
        .await?;
    Ok(())
}
