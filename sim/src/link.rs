//! An in-process BLE link to a simulated lock, with an ATT MTU and latencies. It is
//! synchronous (it sleeps); async callers run it on a blocking thread.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use keyway_protocol::ble::TYPICAL_ATT_MTU;
use keyway_protocol::frame::ATT_HEADER_LEN;

use crate::{SimError, SimulatedLock};

/// How the simulated radio behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// The negotiated ATT MTU; one write or notification carries `mtu - 3` bytes.
    pub mtu: usize,
    /// Time from connect to the lock's challenge being ready.
    pub connect_latency: Duration,
    /// One-way time of one ATT packet (roughly a BLE connection interval).
    pub packet_latency: Duration,
    /// The phone's signal strength at the lock, in dBm (Near Detection Mode reads it).
    pub rssi_dbm: i8,
}

/// A phone held at a door: -50 dBm.
pub const NEAR_RSSI_DBM: i8 = -50;

impl Default for LinkConfig {
    /// MTU 185, 30 ms to connect, 8 ms a packet, a phone at the door.
    fn default() -> Self {
        Self {
            mtu: TYPICAL_ATT_MTU,
            connect_latency: Duration::from_millis(30),
            packet_latency: Duration::from_millis(8),
            rssi_dbm: NEAR_RSSI_DBM,
        }
    }
}

/// Traffic counters of a link session (or of every session of a link).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// ATT writes the phone made.
    pub writes: u64,
    /// Bytes in those writes.
    pub bytes_written: u64,
    /// Notifications the phone received.
    pub notifications: u64,
    /// Bytes in those notifications.
    pub bytes_notified: u64,
}

impl LinkStats {
    fn add(&mut self, other: Self) {
        self.writes += other.writes;
        self.bytes_written += other.bytes_written;
        self.notifications += other.notifications;
        self.bytes_notified += other.bytes_notified;
    }
}

/// A phone's radio path to one simulated lock. Clones share the lock and the counters.
#[derive(Debug, Clone)]
pub struct SimulatedLink {
    lock: Arc<Mutex<SimulatedLock>>,
    config: LinkConfig,
    totals: Arc<Mutex<LinkStats>>,
}

impl SimulatedLink {
    /// A link to `lock` behaving as `config` says.
    pub fn new(lock: Arc<Mutex<SimulatedLock>>, config: LinkConfig) -> Self {
        Self {
            lock,
            config,
            totals: Arc::default(),
        }
    }

    /// How the link behaves.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// The lock at the other end.
    pub fn lock(&self) -> &Arc<Mutex<SimulatedLock>> {
        &self.lock
    }

    /// Traffic over every session of this link (and its clones) so far.
    pub fn stats(&self) -> LinkStats {
        self.totals.lock().map(|totals| *totals).unwrap_or_default()
    }

    /// Connects and subscribes (after `connect_latency`); the lock's challenge is then pending
    /// as notifications. Refused while another phone is connected to the lock.
    pub fn connect(&self) -> Result<LinkSession, SimError> {
        thread::sleep(self.config.connect_latency);
        let mut lock = guard(&self.lock)?;
        if lock.connection_id().is_some() {
            return Err(SimError::LockBusy);
        }
        let pending = lock.on_connect_at(self.config.mtu, self.config.rssi_dbm)?;
        let connection = lock.connection_id().ok_or(SimError::NotConnected)?;
        drop(lock);
        Ok(LinkSession {
            lock: Arc::clone(&self.lock),
            config: self.config.clone(),
            connection,
            pending,
            stats: LinkStats::default(),
            totals: Arc::clone(&self.totals),
        })
    }
}

/// One connection to the lock. Dropping it disconnects.
#[derive(Debug)]
pub struct LinkSession {
    lock: Arc<Mutex<SimulatedLock>>,
    config: LinkConfig,
    connection: u64,
    pending: Vec<Vec<u8>>,
    stats: LinkStats,
    totals: Arc<Mutex<LinkStats>>,
}

impl LinkSession {
    /// The phone's signal at the lock, in dBm.
    pub fn rssi_dbm(&self) -> i8 {
        self.config.rssi_dbm
    }

    /// The negotiated ATT MTU.
    pub fn mtu(&self) -> usize {
        self.config.mtu
    }

    /// The most bytes one write carries: `mtu - 3`.
    pub fn max_write_len(&self) -> usize {
        self.config.mtu.saturating_sub(ATT_HEADER_LEN)
    }

    /// Takes the notification fragments the lock sent (the challenge first), waiting
    /// `packet_latency` for each.
    pub fn notifications(&mut self) -> Vec<Vec<u8>> {
        let delivered = std::mem::take(&mut self.pending);
        if !delivered.is_empty() {
            // The phone took them: like an indication's confirmation, the lock learns it.
            if let Ok(mut lock) = guard(&self.lock) {
                if lock.connection_id() == Some(self.connection) {
                    lock.on_delivered();
                }
            }
        }
        let count = u32::try_from(delivered.len()).unwrap_or(u32::MAX);
        thread::sleep(self.config.packet_latency.saturating_mul(count));
        self.count(LinkStats {
            notifications: u64::from(count),
            bytes_notified: delivered.iter().map(|f| f.len() as u64).sum(),
            ..LinkStats::default()
        });
        delivered
    }

    /// Writes one fragment (after `packet_latency`) and queues whatever the lock answers.
    /// A fragment longer than one ATT write is refused before it reaches the lock.
    pub fn write(&mut self, fragment: &[u8]) -> Result<(), SimError> {
        let max = self.max_write_len();
        if fragment.len() > max {
            return Err(SimError::FragmentTooLong {
                len: fragment.len(),
                max,
            });
        }
        thread::sleep(self.config.packet_latency);
        let answer = {
            let mut lock = guard(&self.lock)?;
            if lock.connection_id() != Some(self.connection) {
                return Err(SimError::Disconnected);
            }
            lock.on_write(fragment)?
        };
        self.count(LinkStats {
            writes: 1,
            bytes_written: fragment.len() as u64,
            ..LinkStats::default()
        });
        self.pending.extend(answer);
        Ok(())
    }

    /// Traffic of this session so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Disconnects: the lock drops its open challenge.
    pub fn disconnect(self) {
        drop(self);
    }

    fn count(&mut self, delta: LinkStats) {
        self.stats.add(delta);
        if let Ok(mut totals) = self.totals.lock() {
            totals.add(delta);
        }
    }
}

impl Drop for LinkSession {
    fn drop(&mut self) {
        if let Ok(mut lock) = self.lock.lock() {
            if lock.connection_id() == Some(self.connection) {
                lock.on_disconnect();
            }
        }
    }
}

fn guard(lock: &Mutex<SimulatedLock>) -> Result<MutexGuard<'_, SimulatedLock>, SimError> {
    lock.lock().map_err(|_| SimError::Poisoned)
}
