//! The end-to-end test harness: a real cloud on a loopback port with a temporary store,
//! phones made of the real core, and simulated locks registered at the cloud. The tests are
//! in `tests/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keyway_cloud::auth::verification;
use keyway_cloud::email::MailboxMessage;
use keyway_cloud::{CloudConfig, RunningCloud};
use keyway_core::admin::{AccessGroupView, Role, SiteInfo};
use keyway_core::platform::{file_secure_store, software_device_signer};
use keyway_core::simulator::{
    install_simulated_lock, log_in_with_password, InstalledLock, SimulatedRadio,
};
use keyway_core::unlock::BleTransport;
use keyway_core::{Keyway, KeywayConfig};
use keyway_sim::{LinkConfig, SimulatedLink};

/// A password every test account uses.
pub const PASSWORD: &str = "a long enough password";

/// A cloud and a scratch directory for phones.
pub struct World {
    /// The cloud under test.
    pub cloud: RunningCloud,
    dir: tempfile::TempDir,
}

/// A site with an owner phone and simulated locks.
pub struct Site {
    /// The site.
    pub info: SiteInfo,
    /// The owner's phone (logged in).
    pub owner: Arc<Keyway>,
    /// The locks, registered at the cloud.
    pub locks: Vec<InstalledLock>,
}

impl World {
    /// Starts a cloud with default settings.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a cloud after `adjust` changed its settings.
    pub async fn start_with(adjust: impl FnOnce(&mut CloudConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = CloudConfig::new(dir.path().join("cloud"));
        adjust(&mut config);
        let cloud = keyway_cloud::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        Self { cloud, dir }
    }

    /// A phone's data directory.
    pub fn phone_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A phone (not logged in) with the given BLE transport.
    pub fn phone(&self, name: &str, transport: Option<Arc<dyn BleTransport>>) -> Arc<Keyway> {
        let dir = self.phone_dir(name);
        let store = file_secure_store(dir.join("secure-store.json").display().to_string());
        let signer = software_device_signer(Arc::clone(&store)).unwrap();
        let config = KeywayConfig {
            server_url: self.cloud.base_url(),
            data_dir: dir.display().to_string(),
            device_name: format!("{name}'s phone"),
            platform: "cli".into(),
        };
        Keyway::new(config, store, signer, transport).unwrap()
    }

    /// Delivers due mail until an e-mail to `to` holds what `find` looks for; returns the
    /// latest such e-mail and what was found (panics after about five seconds).
    pub async fn wait_for_mail(
        &self,
        to: &str,
        find: fn(&str) -> Option<String>,
    ) -> (MailboxMessage, String) {
        for _ in 0..250 {
            let found = self
                .cloud
                .state
                .delivered_mail()
                .await
                .unwrap()
                .into_iter()
                .rev()
                .filter(|message| message.to == to)
                .find_map(|message| find(&message.body).map(|found| (message, found)));
            if let Some(found) = found {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no such e-mail to {to} in the mailbox");
    }

    /// Signs `email` up on `phone` and verifies it with the code the cloud e-mailed.
    pub async fn sign_up_verified(&self, phone: &Keyway, email: &str) {
        phone
            .auth()
            .sign_up(email.into(), email.into(), PASSWORD.into())
            .await
            .unwrap();
        let (_, code) = self.wait_for_mail(email, verification::find_code).await;
        phone
            .auth()
            .verify_email(email.into(), code, PASSWORD.into())
            .await
            .unwrap();
    }

    /// A new verified account, logged in on a new phone.
    pub async fn person(
        &self,
        email: &str,
        transport: Option<Arc<dyn BleTransport>>,
    ) -> Arc<Keyway> {
        let phone = self.phone(email, transport);
        self.sign_up_verified(&phone, email).await;
        log_in_with_password(Arc::clone(&phone), email.into(), PASSWORD.into())
            .await
            .unwrap();
        phone
    }

    /// A site owned by a new account, with `lock_names.len()` simulated locks (no motor delay).
    pub async fn site(&self, owner_email: &str, lock_names: &[&str]) -> Site {
        let owner = self.person(owner_email, None).await;
        let info = owner
            .admin()
            .create_site("Test site".into(), 0)
            .await
            .unwrap();
        let mut locks = Vec::new();
        for name in lock_names {
            let lock = install_simulated_lock(
                &owner,
                info.site_id,
                &info.authority_public_key,
                name,
                0,
                Duration::ZERO,
            );
            locks.push(lock.await.unwrap());
        }
        Site { info, owner, locks }
    }
}

impl Site {
    /// Adds a person with `role` by e-mail; returns their id. They claim it by signing up
    /// with that address ([`World::person`]).
    pub async fn add(&self, email: &str, role: Role) -> u32 {
        let admin = self.owner.admin();
        let person = admin.add_person(self.info.site_id, email.into(), email.into(), role);
        person.await.unwrap().user_id
    }

    /// An access group opening the first lock of the site to `user_id` at any time.
    pub async fn grant_first_lock(&self, user_id: u32) -> AccessGroupView {
        let admin = self.owner.admin();
        let group = admin.create_access_group(
            self.info.site_id,
            "Granted".into(),
            vec![self.locks[0].lock_id],
            vec![user_id],
            vec![],
        );
        group.await.unwrap()
    }

    /// A zero-latency radio that reaches every lock of the site.
    pub fn radio(&self) -> Arc<SimulatedRadio> {
        let link = LinkConfig {
            mtu: 185,
            connect_latency: Duration::ZERO,
            packet_latency: Duration::ZERO,
            ..LinkConfig::default()
        };
        let links: HashMap<u32, SimulatedLink> = self
            .locks
            .iter()
            .map(|l| {
                (
                    l.lock_id,
                    SimulatedLink::new(Arc::clone(&l.lock), link.clone()),
                )
            })
            .collect();
        Arc::new(SimulatedRadio::new(links))
    }
}

/// Logs a phone in with [`PASSWORD`].
pub async fn log_in(phone: &Arc<Keyway>, email: &str) {
    log_in_with_password(Arc::clone(phone), email.into(), PASSWORD.into())
        .await
        .unwrap();
}

/// A radio with one link to `lock` at the smallest MTU and 60 ms a packet: an unlock's request
/// alone takes about a second to write, so a test can cancel it mid-handshake.
pub fn slow_radio(lock: &InstalledLock) -> Arc<dyn BleTransport> {
    let slow = LinkConfig {
        mtu: keyway_protocol::frame::MIN_ATT_MTU,
        connect_latency: Duration::ZERO,
        packet_latency: Duration::from_millis(60),
        ..LinkConfig::default()
    };
    let links = HashMap::from([(
        lock.lock_id,
        SimulatedLink::new(Arc::clone(&lock.lock), slow),
    )]);
    Arc::new(SimulatedRadio::new(links))
}

/// What the propagation benchmarks share: an observer that reports each wallet sync, and a
/// percentile of sorted samples.
pub mod bench {
    use std::time::Instant;

    use keyway_core::live::ChangeObserver;
    use tokio::sync::mpsc;

    /// Tells a benchmark each time the phone's core synced its wallet after a live notice.
    pub struct WalletWatcher(pub mpsc::UnboundedSender<Instant>);

    impl ChangeObserver for WalletWatcher {
        fn keys_changed(&self) {
            let _ = self.0.send(Instant::now());
        }
        fn pods_changed(&self) {}
        fn remote_locks_changed(&self) {}
        fn session_ended(&self) {}
    }

    /// The `p` quantile (0 to 1) of `sorted`, which must not be empty.
    pub fn percentile(sorted: &[f64], p: f64) -> f64 {
        let last = sorted.len().saturating_sub(1);
        let rank = ((last as f64 * p).round() as usize).min(last);
        sorted.get(rank).copied().unwrap_or(f64::NAN)
    }
}
