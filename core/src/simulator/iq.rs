//! A simulated IQ installed against a real cloud, for the demo, the end-to-end tests and the
//! binding tests: made at the "factory" with its own key, registered and given its locks by
//! an admin, then connected to the cloud's IQ WebSocket.

use std::sync::Arc;
use std::time::Duration;

use keyway_protocol::SigningKey;
use keyway_sim::iq::{IqConnection, IqHub, LockSet, SimulatedIq, DEFAULT_IQ_FIRMWARE};

use super::provisioning::{install_instant_locks, InstalledLock};
use crate::ffi::records::LockEventInfo;
use crate::ffi::RefusalReason;
use crate::runtime::on_core_runtime;
use crate::{Keyway, KeywayError};

/// How long installing waits for the IQ's first session.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A simulated IQ and the locks attached to it.
#[derive(uniffi::Object)]
pub struct SimulatedRemoteSite {
    iq_id: u32,
    iq: Arc<SimulatedIq>,
    locks: Vec<InstalledLock>,
}

impl std::fmt::Debug for SimulatedRemoteSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedRemoteSite")
            .field("iq_id", &self.iq_id)
            .field("iq", &self.iq)
            .finish_non_exhaustive()
    }
}

/// Registers a new simulated IQ on the site as `admin`, attaches `locks` to it, and starts
/// its connection to the cloud at `cloud_url` (on the caller's tokio runtime); waits until it
/// is logged in.
pub async fn install_simulated_iq(
    admin: &Keyway,
    cloud_url: &str,
    site_id: u32,
    name: &str,
    locks: &[InstalledLock],
) -> Result<SimulatedRemoteSite, KeywayError> {
    install_simulated_iq_with_firmware(admin, cloud_url, site_id, name, locks, DEFAULT_IQ_FIRMWARE)
        .await
}

/// [`install_simulated_iq`] with an IQ reporting `firmware` (`major.minor.patch`). The locks
/// are paired with it: keys without offline access then open only while it is in reach.
pub async fn install_simulated_iq_with_firmware(
    admin: &Keyway,
    cloud_url: &str,
    site_id: u32,
    name: &str,
    locks: &[InstalledLock],
    firmware: &str,
) -> Result<SimulatedRemoteSite, KeywayError> {
    let (key, _) = SigningKey::generate(&ring::rand::SystemRandom::new())?;
    let iq_id = admin
        .admin()
        .add_iq(
            site_id,
            name.to_string(),
            key.public_key().as_bytes().to_vec(),
        )
        .await?;
    let mut set = LockSet::new();
    for lock in locks {
        admin
            .admin()
            .attach_lock_to_iq(site_id, lock.lock_id, iq_id)
            .await?;
        lock.lock
            .lock()
            .map_err(|_| KeywayError::internal("a simulated lock is poisoned"))?
            .pair_with_iq();
        set.insert(lock.lock_id, Arc::clone(&lock.lock));
    }
    let iq = SimulatedIq::start(
        IqHub::new(iq_id, key).with_firmware(firmware),
        set,
        IqConnection::to_cloud(cloud_url),
    );
    if !iq.wait_for_session(1, CONNECT_TIMEOUT).await {
        return Err(KeywayError::Retry {
            detail: format!(
                "the simulated IQ could not log in: {}",
                iq.last_error().unwrap_or_default()
            ),
        });
    }
    Ok(SimulatedRemoteSite {
        iq_id,
        iq: Arc::new(iq),
        locks: locks.to_vec(),
    })
}

/// Installs `lock_names.len()` simulated locks (no motor delay) and one IQ for them on the
/// site as `admin`, connected to the cloud at `cloud_url`.
#[uniffi::export]
pub async fn install_simulated_remote_site(
    admin: Arc<Keyway>,
    cloud_url: String,
    site_id: u32,
    authority_public_key: Vec<u8>,
    lock_names: Vec<String>,
) -> Result<Arc<SimulatedRemoteSite>, KeywayError> {
    on_core_runtime(async move {
        let locks =
            install_instant_locks(&admin, site_id, &authority_public_key, &lock_names).await?;
        let site = install_simulated_iq(&admin, &cloud_url, site_id, "IQ", &locks).await?;
        Ok(Arc::new(site))
    })
    .await
}

impl SimulatedRemoteSite {
    fn lock(&self, lock_id: u32) -> Result<&InstalledLock, KeywayError> {
        self.locks
            .iter()
            .find(|lock| lock.lock_id == lock_id)
            .ok_or_else(|| KeywayError::invalid(format!("no simulated lock {lock_id}")))
    }

    fn with_lock<T>(
        &self,
        lock_id: u32,
        work: impl FnOnce(&mut keyway_sim::SimulatedLock) -> Result<T, KeywayError>,
    ) -> Result<T, KeywayError> {
        let lock = self.lock(lock_id)?;
        let mut guard = lock
            .lock
            .lock()
            .map_err(|_| KeywayError::internal("lock state poisoned"))?;
        work(&mut guard)
    }

    /// The IQ itself (tests stop it, or wait for its uploads).
    pub fn iq(&self) -> &SimulatedIq {
        &self.iq
    }

    /// The locks.
    pub fn locks(&self) -> &[InstalledLock] {
        &self.locks
    }
}

#[uniffi::export]
impl SimulatedRemoteSite {
    /// The IQ's id at the cloud.
    pub fn iq_id(&self) -> u32 {
        self.iq_id
    }

    /// The locks' ids, in installation order.
    pub fn lock_ids(&self) -> Vec<u32> {
        self.locks.iter().map(|lock| lock.lock_id).collect()
    }

    /// Whether the IQ is logged in to the cloud now.
    pub fn iq_connected(&self) -> bool {
        self.iq.is_connected()
    }

    /// How many times the lock opened.
    pub fn unlock_count(&self, lock_id: u32) -> Result<u64, KeywayError> {
        self.with_lock(lock_id, |lock| Ok(lock.unlock_count()))
    }

    /// Whether the lock is in office mode.
    pub fn office_mode(&self, lock_id: u32) -> Result<bool, KeywayError> {
        self.with_lock(lock_id, |lock| Ok(lock.office_mode()))
    }

    /// The lock's event log, oldest first.
    pub fn lock_events(&self, lock_id: u32) -> Result<Vec<LockEventInfo>, KeywayError> {
        self.with_lock(lock_id, |lock| {
            Ok(lock
                .events()
                .iter()
                .map(|record| LockEventInfo::from(record.event()))
                .collect())
        })
    }

    /// Types `digits` on the lock's keypad; `None` when it opened, else why not.
    pub fn keypad(
        &self,
        lock_id: u32,
        digits: String,
    ) -> Result<Option<RefusalReason>, KeywayError> {
        self.with_lock(lock_id, |lock| {
            let reply = lock.keypad(&digits).map_err(KeywayError::internal)?;
            Ok(reply.refusal)
        })
    }

    /// Stops the IQ (its connection closes; the locks keep working on their own).
    pub async fn stop(&self) {
        let iq = Arc::clone(&self.iq);
        let stopped = on_core_runtime(async move {
            iq.stop().await;
            Ok(())
        })
        .await;
        if let Err(error) = stopped {
            // The IQ still stops when it is dropped.
            crate::logging::error("stopping the simulated IQ", &error);
        }
    }
}
