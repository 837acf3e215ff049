//! The lock firmware model. It runs [`keyway_protocol::LockHandshake`] on its own clock and
//! storage (it implements [`keyway_protocol::LockPolicy`]), acts on what the handshake grants, and signs a
//! chained event for every answer, refusals included.

mod ble;
mod iq_link;
mod policy;
mod remote;
mod reports;
mod tags;

use std::time::Duration;

use keyway_protocol::mailbox::ALL_LOCKS;
use keyway_protocol::{LockSettings, PublicKey, SignedEvent, SigningKey};
use ring::rand::SystemRandom;

use self::ble::Connection;
pub use self::iq_link::{
    DEFAULT_OFFLINE_CAPACITY, IQ_LINK_TIMEOUT_SECONDS, REVOCATION_FRESH_SECONDS,
};
pub use self::remote::{LockReply, KEYPAD_ATTEMPTS, KEYPAD_BLOCK_SECONDS};
pub use self::reports::{BATTERY_REARM_PERCENT, RELOCK_SECONDS};
use crate::clock::LockClock;
use crate::event_log::EventLog;
use crate::state::LockState;
use crate::SimError;

/// UTC offsets in use on Earth, in minutes: −12:00 to +14:00.
const UTC_OFFSET_RANGE_MINUTES: std::ops::RangeInclusive<i32> = -720..=840;

/// What an installer provisions into a lock.
#[derive(Debug, Clone)]
pub struct LockConfig {
    /// The lock's id (also advertised over BLE); 0 is reserved for "every lock".
    pub lock_id: u32,
    /// The site the lock belongs to.
    pub site_id: u32,
    /// The site authority public key credentials and mailbox updates must verify against.
    pub authority_key: PublicKey,
    /// The site's offset from UTC, in minutes, for weekly schedules.
    pub utc_offset_minutes: i32,
    /// How long the motor takes when the lock acts (150 ms in the demo, zero in tests).
    pub actuation: Duration,
    /// Whether the lock is paired with an IQ. A standalone lock (`false`) treats every key as
    /// offline-capable; a paired one opens keys without offline access only while its
    /// revocation state is fresh (see [`SimulatedLock::revocation_is_fresh`]).
    pub paired_with_iq: bool,
    /// Offline tag list entries the lock model stores ([`DEFAULT_OFFLINE_CAPACITY`]).
    pub offline_capacity: usize,
}

/// Where the lock spent its time on the last request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockTiming {
    /// Reassembly, parsing, ECDH, signature and rule checks.
    pub verify: Duration,
    /// The motor (zero when the request was refused).
    pub actuate: Duration,
    /// Signing the event record, sealing and fragmenting the answer.
    pub record: Duration,
}

impl LockTiming {
    /// The whole time the lock spent on the request.
    pub fn total(&self) -> Duration {
        self.verify + self.actuate + self.record
    }
}

/// A simulated lock: its key, clock, storage, event log and current BLE connection.
///
/// Its revocation state, clock and privacy knob are also readable through
/// [`LockPolicy`](keyway_protocol::LockPolicy).
pub struct SimulatedLock {
    config: LockConfig,
    lock_key: SigningKey,
    rng: SystemRandom,
    clock: LockClock,
    state: LockState,
    log: EventLog,
    connection: Option<Connection>,
    connections_made: u64,
    last_timing: Option<LockTiming>,
    remote: remote::RemoteMemory,
    iq: iq_link::IqLink,
    settings: LockSettings,
    undelivered: Vec<SignedEvent>,
}

impl std::fmt::Debug for SimulatedLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedLock")
            .field("lock_id", &self.config.lock_id)
            .field("site_id", &self.config.site_id)
            .field("public_key", &self.lock_key.public_key())
            .field("clock", &self.clock.now())
            .field("state", &self.state)
            .field("events", &self.log.records().len())
            .field("connection", &self.connection_id())
            .finish_non_exhaustive()
    }
}

impl SimulatedLock {
    /// Installs a lock: checks the configuration and generates its own P-256 lock key.
    /// Its clock follows the system clock until set.
    pub fn new(config: LockConfig) -> Result<Self, SimError> {
        let rng = SystemRandom::new();
        let (lock_key, _pkcs8) = SigningKey::generate(&rng)?;
        Self::with_key(config, lock_key)
    }

    /// A lock whose key was made at the factory (before it was registered with the cloud,
    /// which assigned its id): the installer provisions it with `config`.
    pub fn with_key(config: LockConfig, lock_key: SigningKey) -> Result<Self, SimError> {
        if config.lock_id == ALL_LOCKS {
            return Err(SimError::InvalidConfig("lock id 0 addresses every lock"));
        }
        if !UTC_OFFSET_RANGE_MINUTES.contains(&config.utc_offset_minutes) {
            return Err(SimError::InvalidConfig(
                "UTC offset outside -12:00..=+14:00",
            ));
        }
        let settings = LockSettings::defaults(config.site_id, config.lock_id);
        Ok(Self {
            config,
            lock_key,
            rng: SystemRandom::new(),
            clock: LockClock::system(),
            state: LockState::default(),
            log: EventLog::default(),
            connection: None,
            connections_made: 0,
            last_timing: None,
            remote: remote::RemoteMemory::default(),
            iq: iq_link::IqLink::default(),
            settings,
            undelivered: Vec::new(),
        })
    }

    /// The lock's id.
    pub fn lock_id(&self) -> u32 {
        self.config.lock_id
    }

    /// What the lock was provisioned with.
    pub fn config(&self) -> &LockConfig {
        &self.config
    }

    /// The public half of the lock key (the cloud holds it to verify events).
    pub fn public_key(&self) -> PublicKey {
        self.lock_key.public_key()
    }

    /// The lock's clock.
    pub fn clock(&self) -> &LockClock {
        &self.clock
    }

    /// The lock's clock, to set it or move it forward.
    pub fn clock_mut(&mut self) -> &mut LockClock {
        &mut self.clock
    }

    /// Whether the lock is in office mode (stays open) now, on its own clock: office mode set
    /// by an easy office mode window is over once the window is, whether or not anything
    /// has called into the lock since (its timer relocks it; [`Self::run_timers`] logs it).
    pub fn office_mode(&self) -> bool {
        let window_over = self.state.office_mode_by_schedule() && !self.in_easy_office_window();
        self.state.office_mode() && !window_over
    }

    /// How many times the lock actually opened for an `Unlock`.
    pub fn unlock_count(&self) -> u64 {
        self.state.unlock_count()
    }

    /// Adds a credential to the denylist, as an installer would on site.
    pub fn deny(&mut self, credential_id: u64) {
        self.state.deny(credential_id);
    }

    /// Sets the revocation epoch, as an installer would on site.
    pub fn set_revocation_epoch(&mut self, epoch: u32) {
        self.state.set_revocation_epoch(epoch);
    }

    /// The event log, oldest first: sequence numbers from 1, chained, signed by the lock key.
    pub fn events(&self) -> &[SignedEvent] {
        self.log.records()
    }

    /// Where the lock spent its time on the last answered request.
    pub fn last_timing(&self) -> Option<LockTiming> {
        self.last_timing
    }
}
