//! A whole simulated site in one object, for the demo and the binding tests: a site
//! authority, simulated locks on a simulated radio, and this phone's software device key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyway_protocol::{Command, Credential, CredentialFlags, SigningKey};
use keyway_sim::{LinkConfig, LockConfig, SimulatedLink, SimulatedLock};
use ring::rand::SystemRandom;

use super::radio::SimulatedRadio;
use crate::ffi::records::{LockEventInfo, UnlockReport};
use crate::platform::SoftwareDeviceSigner;
use crate::runtime::on_core_runtime;
use crate::unlock::{self, UnlockOutcome};
use crate::KeywayError;

/// The site id simulated sites use.
pub const SIMULATED_SITE_ID: u32 = 1;
/// How long a simulated lock's motor takes to open.
pub const SIMULATED_ACTUATION: Duration = Duration::from_millis(120);

/// A site authority, its simulated locks, and this phone's device key.
#[derive(uniffi::Object)]
pub struct SimulatedSite {
    authority: SigningKey,
    locks: HashMap<u32, Arc<Mutex<SimulatedLock>>>,
    radio: Arc<SimulatedRadio>,
    device: Arc<SoftwareDeviceSigner>,
    next_credential_id: AtomicU64,
    rng: SystemRandom,
}

impl std::fmt::Debug for SimulatedSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut lock_ids: Vec<_> = self.locks.keys().collect();
        lock_ids.sort();
        f.debug_struct("SimulatedSite")
            .field("lock_ids", &lock_ids)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl SimulatedSite {
    /// A site with one simulated lock per id, reachable over a simulated BLE link.
    #[uniffi::constructor]
    pub fn new(lock_ids: Vec<u32>) -> Result<Arc<Self>, KeywayError> {
        Self::with_link(lock_ids, LinkConfig::default(), SIMULATED_ACTUATION).map(Arc::new)
    }

    /// Issues a digital key for this phone's device key, valid from now for
    /// `valid_for_seconds`, opening `lock_ids` at any time.
    pub fn issue_key(
        &self,
        lock_ids: Vec<u32>,
        valid_for_seconds: i64,
    ) -> Result<Vec<u8>, KeywayError> {
        let now = chrono::Utc::now().timestamp();
        let credential = Credential {
            credential_id: self.next_credential_id.fetch_add(1, Ordering::Relaxed),
            site_id: SIMULATED_SITE_ID,
            user_id: 1,
            device_key: self.device.verifying_key(),
            lock_ids,
            not_before: now - 60,
            not_after: now.saturating_add(valid_for_seconds),
            schedule: Vec::new(),
            flags: CredentialFlags::default(),
            revocation_epoch: 0,
        };
        self.sign(&credential)
    }

    /// Opens `lock_id` over the simulated BLE link with `credential` (on the core's runtime).
    pub async fn unlock(
        &self,
        lock_id: u32,
        credential: Vec<u8>,
    ) -> Result<UnlockReport, KeywayError> {
        let radio = Arc::clone(&self.radio);
        let device = Arc::clone(&self.device);
        let outcome = on_core_runtime(async move {
            handshake(&radio, &device, lock_id, credential, Command::Unlock).await
        })
        .await?;
        Ok(self.report(&outcome))
    }

    /// The lock's event log, oldest first.
    pub fn lock_events(&self, lock_id: u32) -> Result<Vec<LockEventInfo>, KeywayError> {
        let lock = self.lock(lock_id)?;
        let guard = lock
            .lock()
            .map_err(|_| KeywayError::internal("lock state poisoned"))?;
        Ok(guard
            .events()
            .iter()
            .map(|record| LockEventInfo::from(record.event()))
            .collect())
    }

    /// Sets the lock's own clock (Unix seconds), as if its RTC drifted or time passed.
    pub fn set_lock_clock(&self, lock_id: u32, unix_seconds: i64) -> Result<(), KeywayError> {
        let lock = self.lock(lock_id)?;
        let mut guard = lock
            .lock()
            .map_err(|_| KeywayError::internal("lock state poisoned"))?;
        guard.clock_mut().set(unix_seconds);
        Ok(())
    }
}

impl SimulatedSite {
    /// A site whose links and motors behave as configured.
    pub fn with_link(
        lock_ids: Vec<u32>,
        link: LinkConfig,
        actuation: Duration,
    ) -> Result<Self, KeywayError> {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng)?;
        let mut locks = HashMap::new();
        let mut links = HashMap::new();
        for lock_id in lock_ids {
            let config = LockConfig {
                lock_id,
                site_id: SIMULATED_SITE_ID,
                authority_key: authority.public_key(),
                utc_offset_minutes: 0,
                actuation,
                paired_with_iq: false,
                offline_capacity: keyway_sim::lock::DEFAULT_OFFLINE_CAPACITY,
            };
            let lock = Arc::new(Mutex::new(
                SimulatedLock::new(config).map_err(KeywayError::internal)?,
            ));
            links.insert(lock_id, SimulatedLink::new(Arc::clone(&lock), link.clone()));
            locks.insert(lock_id, lock);
        }
        Ok(Self {
            authority,
            locks,
            radio: Arc::new(SimulatedRadio::new(links)),
            device: Arc::new(SoftwareDeviceSigner::generate()?.0),
            next_credential_id: AtomicU64::new(1),
            rng,
        })
    }

    /// Signs any credential with the site authority (tests and demo build unusual keys).
    pub fn sign(&self, credential: &Credential) -> Result<Vec<u8>, KeywayError> {
        Ok(credential
            .sign(&self.authority, &self.rng)?
            .as_bytes()
            .to_vec())
    }

    /// This phone's device key.
    pub fn device(&self) -> &SoftwareDeviceSigner {
        &self.device
    }

    /// A simulated lock, to inspect or change its state.
    pub fn lock(&self, lock_id: u32) -> Result<Arc<Mutex<SimulatedLock>>, KeywayError> {
        self.locks
            .get(&lock_id)
            .cloned()
            .ok_or_else(|| KeywayError::invalid(format!("no simulated lock {lock_id}")))
    }

    /// The phone's radio (it also holds the last session's captured writes).
    pub fn radio(&self) -> &SimulatedRadio {
        &self.radio
    }

    /// Runs one handshake with `command`.
    pub async fn run(
        &self,
        lock_id: u32,
        credential: Vec<u8>,
        command: Command,
    ) -> Result<UnlockOutcome, KeywayError> {
        handshake(&self.radio, &self.device, lock_id, credential, command).await
    }

    /// The FFI report of an outcome, with the lock's own actuation time split out.
    pub fn report(&self, outcome: &UnlockOutcome) -> UnlockReport {
        let actuate = self
            .lock(outcome.lock_id)
            .ok()
            .and_then(|lock| lock.lock().ok().and_then(|guard| guard.last_timing()))
            .map(|timing| timing.actuate)
            .unwrap_or_default();
        UnlockReport::new(outcome, actuate)
    }
}

/// One handshake over `radio` with this phone's `device` key, carrying no mailbox updates.
async fn handshake(
    radio: &SimulatedRadio,
    device: &SoftwareDeviceSigner,
    lock_id: u32,
    credential: Vec<u8>,
    command: Command,
) -> Result<UnlockOutcome, KeywayError> {
    unlock::unlock(radio, device, lock_id, credential, command, Vec::new()).await
}
