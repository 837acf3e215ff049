//! How the IQ reaches its locks. A real IQ uses its radio; the simulated one calls the
//! in-process [`SimulatedLock`]s directly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use keyway_protocol::SignedEvent;

use crate::{LockReply, SimError, SimulatedLock};

/// The IQ's side of its locks.
pub trait LockRadio {
    /// The ids of the locks the IQ reaches.
    fn lock_ids(&self) -> Vec<u32>;
    /// Relays a remote grant; `None` when the lock is not reachable. Returns the lock's reply
    /// and the time it spent, in microseconds.
    fn relay(&self, lock_id: u32, grant: &[u8]) -> Result<Option<(LockReply, u64)>, SimError>;
    /// Hands a keypad table to a lock; whether it took it.
    fn keypad_table(&self, lock_id: u32, table: &[u8]) -> Result<bool, SimError>;
    /// The lock's event records after `seq`, oldest first.
    fn events_after(&self, lock_id: u32, seq: u64) -> Result<Vec<SignedEvent>, SimError>;
    /// Hands a tag list to a lock; whether it took it.
    fn tag_list(&self, lock_id: u32, list: &[u8]) -> Result<bool, SimError>;
    /// Hands settings to a lock; whether it took them.
    fn settings(&self, lock_id: u32, settings: &[u8]) -> Result<bool, SimError>;
    /// Hands a revocation update to a lock; whether it applied.
    fn revocation(&self, lock_id: u32, update: &[u8]) -> Result<bool, SimError>;
    /// The IQ's periodic word to a lock: it is there, and whether the cloud is.
    fn heartbeat(&self, lock_id: u32, cloud_connected: bool) -> Result<bool, SimError>;
}

/// The simulated locks an IQ reaches, by id.
pub type LockSet = BTreeMap<u32, Arc<Mutex<SimulatedLock>>>;

fn with_lock<T>(
    locks: &LockSet,
    lock_id: u32,
    work: impl FnOnce(&mut SimulatedLock) -> Result<T, SimError>,
) -> Result<Option<T>, SimError> {
    let Some(lock) = locks.get(&lock_id) else {
        return Ok(None);
    };
    let mut guard = lock.lock().map_err(|_| SimError::Poisoned)?;
    if !guard.iq_radio_works() {
        return Ok(None);
    }
    work(&mut guard).map(Some)
}

impl LockRadio for LockSet {
    fn lock_ids(&self) -> Vec<u32> {
        self.keys().copied().collect()
    }

    fn relay(&self, lock_id: u32, grant: &[u8]) -> Result<Option<(LockReply, u64)>, SimError> {
        with_lock(self, lock_id, |lock| {
            let reply = lock.on_remote_grant(grant)?;
            let micros = u64::try_from(lock.last_total().as_micros()).unwrap_or(u64::MAX);
            Ok((reply, micros))
        })
    }

    fn keypad_table(&self, lock_id: u32, table: &[u8]) -> Result<bool, SimError> {
        Ok(with_lock(self, lock_id, |lock| lock.apply_keypad_table(table))?.unwrap_or(false))
    }

    fn tag_list(&self, lock_id: u32, list: &[u8]) -> Result<bool, SimError> {
        Ok(with_lock(self, lock_id, |lock| lock.apply_tag_list(list))?.unwrap_or(false))
    }

    fn settings(&self, lock_id: u32, settings: &[u8]) -> Result<bool, SimError> {
        Ok(with_lock(self, lock_id, |lock| lock.apply_settings(settings))?.unwrap_or(false))
    }

    fn revocation(&self, lock_id: u32, update: &[u8]) -> Result<bool, SimError> {
        Ok(with_lock(self, lock_id, |lock| lock.apply_revocation(update))?.unwrap_or(false))
    }

    fn heartbeat(&self, lock_id: u32, cloud_connected: bool) -> Result<bool, SimError> {
        Ok(with_lock(self, lock_id, |lock| lock.iq_heartbeat(cloud_connected))?.unwrap_or(false))
    }

    fn events_after(&self, lock_id: u32, seq: u64) -> Result<Vec<SignedEvent>, SimError> {
        Ok(with_lock(self, lock_id, |lock| {
            Ok(lock
                .events()
                .iter()
                .filter(|record| record.event().seq > seq)
                .cloned()
                .collect())
        })?
        .unwrap_or_default())
    }
}
