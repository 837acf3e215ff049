//! A site ready for remote opening: a cloud, an owner, simulated locks behind one simulated
//! IQ, and a tenant's phone with the remote opening right on the first lock.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use keyway_cloud::remote::keypad::find_pin;
use keyway_cloud::StoreError;
use keyway_core::admin::Role;
use keyway_core::remote::PinDelivery;
use keyway_core::simulator::{install_simulated_iq, SimulatedRemoteSite};
use keyway_core::Keyway;
use keyway_e2e::{log_in, Site, World};

pub const OWNER: &str = "owner@remote.test";
pub const TENANT: &str = "tenant@remote.test";
pub const PIN: &str = "4711";

pub struct Remote {
    pub world: World,
    pub site: Site,
    pub iq: SimulatedRemoteSite,
    pub tenant: Arc<Keyway>,
    pub tenant_id: u32,
    pub owner_id: u32,
    /// The access group that opens the first lock.
    pub group_id: u32,
}

impl Remote {
    /// The owner makes the tenant a keypad PIN: the owner is not shown it, the tenant reads it
    /// in the e-mail the cloud delivered. Returns the PIN.
    pub async fn owner_makes_tenant_pin(&self) -> String {
        let made = self
            .site
            .owner
            .remote()
            .new_keypad_pin(self.site_id(), self.tenant_id)
            .await
            .unwrap();
        assert_eq!(made.pin, None, "an admin never sees someone else's PIN");
        assert_eq!(made.delivery, PinDelivery::Emailed);
        self.world.wait_for_mail(TENANT, find_pin).await.1
    }

    /// The site id.
    pub fn site_id(&self) -> u32 {
        self.site.info.site_id
    }

    /// The id of the n-th lock.
    pub fn lock(&self, index: usize) -> u32 {
        self.site.locks[index].lock_id
    }

    /// How many times the n-th lock opened.
    pub fn unlocks(&self, index: usize) -> u64 {
        self.site.locks[index].lock.lock().unwrap().unlock_count()
    }

    /// Moves the cloud's clock and every lock's clock forward together.
    pub fn advance(&self, seconds: i64) {
        self.world.cloud.state.clock.advance(seconds);
        for lock in &self.site.locks {
            lock.lock.lock().unwrap().clock_mut().advance(seconds);
        }
    }

    /// A one-row query on the cloud's store.
    pub async fn query<T: rusqlite::types::FromSql + Send + 'static>(
        &self,
        sql: &'static str,
        param: u32,
    ) -> T {
        self.world
            .cloud
            .state
            .store
            .run(move |db| Ok::<_, StoreError>(db.query_row(sql, [param], |row| row.get(0))?))
            .await
            .unwrap()
    }
}

/// The account id for an e-mail.
pub async fn user_id(world: &World, email: &'static str) -> u32 {
    world
        .cloud
        .state
        .store
        .run(move |db| {
            Ok::<_, StoreError>(db.query_row(
                "SELECT id FROM users WHERE email = ?1",
                [email],
                |row| row.get(0),
            )?)
        })
        .await
        .unwrap()
}

/// The world: `lock_names` behind one IQ; the tenant (remote opening, no office mode) and
/// the owner in a group that opens the first lock at any time; the tenant's phone logged in
/// and registered, with the app PIN [`PIN`].
pub async fn remote_site(lock_names: &[&str]) -> Remote {
    let world = World::start().await;
    let site = world.site(OWNER, lock_names).await;
    let site_id = site.info.site_id;
    let tenant_id = site.add(TENANT, Role::User).await;
    let owner_id = user_id(&world, OWNER).await;
    let admin = site.owner.admin();
    let group = admin
        .create_access_group(
            site_id,
            "Remote".into(),
            vec![site.locks[0].lock_id],
            vec![tenant_id, owner_id],
            vec![],
        )
        .await
        .unwrap();
    admin
        .set_remote_rights(site_id, tenant_id, true, false)
        .await
        .unwrap();
    let iq = install_simulated_iq(
        &site.owner,
        &world.cloud.base_url(),
        site_id,
        "Ground floor IQ",
        &site.locks,
    )
    .await
    .unwrap();
    let tenant = world.phone("tenant", None);
    world.sign_up_verified(&tenant, TENANT).await;
    log_in(&tenant, TENANT).await;
    tenant.devices().register().await.unwrap();
    tenant
        .remote()
        .set_pin(keyway_e2e::PASSWORD.into(), PIN.into())
        .await
        .unwrap();
    Remote {
        world,
        site,
        iq,
        tenant,
        tenant_id,
        owner_id,
        group_id: group.group_id,
    }
}

/// Retries `check` until it holds, for up to two seconds (the IQ applies what the cloud
/// pushes asynchronously).
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}
