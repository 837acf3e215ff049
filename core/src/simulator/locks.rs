//! Simulated locks installed against a real cloud, for the binding tests: the Kotlin and
//! Python tests create a site through the generated API, install locks here, and hand
//! [`SimulatedLocks::transport`] to the tenant's `Keyway` as its BLE radio.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use keyway_protocol::ble::TYPICAL_ATT_MTU;
use keyway_sim::{LinkConfig, SimulatedLink, SimulatedLock};

use super::provisioning::{install_instant_locks, InstalledLock};
use super::radio::SimulatedRadio;
use crate::ffi::records::LockEventInfo;
use crate::runtime::on_core_runtime;
use crate::unlock::BleTransport;
use crate::{Keyway, KeywayError};

/// Simulated locks registered at a cloud site, and a zero-latency radio that reaches them.
#[derive(uniffi::Object)]
pub struct SimulatedLocks {
    locks: Vec<InstalledLock>,
    radio: Arc<SimulatedRadio>,
}

impl std::fmt::Debug for SimulatedLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedLocks")
            .field("lock_ids", &self.lock_ids())
            .finish_non_exhaustive()
    }
}

/// Installs one simulated lock per name (no motor delay) on the site as `admin`: each is
/// registered at the cloud and provisioned with the site's `authority_public_key`.
#[uniffi::export]
pub async fn install_simulated_locks(
    admin: Arc<Keyway>,
    site_id: u32,
    authority_public_key: Vec<u8>,
    names: Vec<String>,
) -> Result<Arc<SimulatedLocks>, KeywayError> {
    on_core_runtime(async move {
        let locks = install_instant_locks(&admin, site_id, &authority_public_key, &names).await?;
        Ok(Arc::new(SimulatedLocks::new(locks)))
    })
    .await
}

impl SimulatedLocks {
    /// Wraps installed locks with a zero-latency radio (MTU 185) that reaches each of them.
    pub fn new(locks: Vec<InstalledLock>) -> Self {
        let link = LinkConfig {
            mtu: TYPICAL_ATT_MTU,
            connect_latency: Duration::ZERO,
            packet_latency: Duration::ZERO,
            ..LinkConfig::default()
        };
        let radio = Arc::new(radio_to(&locks, &link));
        Self { locks, radio }
    }

    /// The installed locks.
    pub fn locks(&self) -> &[InstalledLock] {
        &self.locks
    }

    fn with_lock<T>(
        &self,
        lock_id: u32,
        work: impl FnOnce(&mut SimulatedLock) -> T,
    ) -> Result<T, KeywayError> {
        let installed = self
            .locks
            .iter()
            .find(|installed| installed.lock_id == lock_id)
            .ok_or_else(|| KeywayError::invalid(format!("no simulated lock {lock_id}")))?;
        let mut guard = installed
            .lock
            .lock()
            .map_err(|_| KeywayError::internal("lock state poisoned"))?;
        Ok(work(&mut guard))
    }
}

/// A radio that reaches each of `locks` over links like `link`.
fn radio_to(locks: &[InstalledLock], link: &LinkConfig) -> SimulatedRadio {
    let links: HashMap<u32, SimulatedLink> = locks
        .iter()
        .map(|installed| {
            let link = SimulatedLink::new(Arc::clone(&installed.lock), link.clone());
            (installed.lock_id, link)
        })
        .collect();
    SimulatedRadio::new(links)
}

#[uniffi::export]
impl SimulatedLocks {
    /// The locks' ids at the cloud, in installation order.
    pub fn lock_ids(&self) -> Vec<u32> {
        self.locks
            .iter()
            .map(|installed| installed.lock_id)
            .collect()
    }

    /// A phone's BLE radio that reaches these locks (shared: one connection at a time).
    pub fn transport(&self) -> Arc<dyn BleTransport> {
        Arc::clone(&self.radio) as Arc<dyn BleTransport>
    }

    /// A radio of its own with the smallest MTU (23) and `packet_latency_ms` per BLE packet: an
    /// unlock over it takes seconds, long enough to cancel it mid-handshake.
    pub fn slow_transport(&self, packet_latency_ms: u32) -> Arc<dyn BleTransport> {
        let link = LinkConfig {
            mtu: keyway_protocol::frame::MIN_ATT_MTU,
            connect_latency: Duration::ZERO,
            packet_latency: Duration::from_millis(u64::from(packet_latency_ms)),
            ..LinkConfig::default()
        };
        Arc::new(radio_to(&self.locks, &link)) as Arc<dyn BleTransport>
    }

    /// Whether a phone is connected to the lock now.
    pub fn is_connected(&self, lock_id: u32) -> Result<bool, KeywayError> {
        self.with_lock(lock_id, |lock| lock.connection_id().is_some())
    }

    /// Sets the lock's own clock (Unix seconds), as if time passed at the door.
    pub fn set_lock_clock(&self, lock_id: u32, unix_seconds: i64) -> Result<(), KeywayError> {
        self.with_lock(lock_id, |lock| lock.clock_mut().set(unix_seconds))
    }

    /// The lock's event log, oldest first.
    pub fn events(&self, lock_id: u32) -> Result<Vec<LockEventInfo>, KeywayError> {
        self.with_lock(lock_id, |lock| {
            lock.events()
                .iter()
                .map(|record| LockEventInfo::from(record.event()))
                .collect()
        })
    }
}
