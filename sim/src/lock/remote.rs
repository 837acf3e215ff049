//! The lock's other entry points: commands its IQ relays from the cloud (each carrying a
//! short-lived remote grant signed by the site authority), the keypad table the IQ hands it,
//! and the keypad itself. Every attempt is answered and logged like a BLE request.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use keyway_protocol::handshake::lock::Requester;
use keyway_protocol::iq::grant::check_remote_grant;
use keyway_protocol::iq::keypad::check_keypad;
use keyway_protocol::iq::KeypadTable;
use keyway_protocol::{Command, RefusalReason, SignedEvent};

use super::{LockTiming, SimulatedLock};
use crate::event_log::Occurrence;
use crate::SimError;

/// Wrong PINs in a row before the keypad waits.
pub const KEYPAD_ATTEMPTS: u32 = 5;
/// How long the keypad waits then, on the lock's clock.
pub const KEYPAD_BLOCK_SECONDS: i64 = 60;

/// What the lock keeps for its IQ and keypad.
#[derive(Debug, Default)]
pub(super) struct RemoteMemory {
    /// Grant ids acted on, until their `not_after`.
    used_grants: BTreeMap<u64, i64>,
    keypad: Option<KeypadTable>,
    wrong_pins: u32,
    keypad_blocked_until: i64,
}

/// What the lock answered: its decision and the event it signed for it.
#[derive(Debug, Clone)]
pub struct LockReply {
    /// `None` when the lock did it, else why not.
    pub refusal: Option<RefusalReason>,
    /// The signed event record.
    pub event: SignedEvent,
}

impl LockReply {
    /// Whether the lock did what was asked.
    pub fn granted(&self) -> bool {
        self.refusal.is_none()
    }
}

impl SimulatedLock {
    /// A command relayed by the IQ: the lock checks the remote grant itself (authority
    /// signature, its site and id, the validity on its clock, a grant id not seen before,
    /// office-mode right, privacy mode), acts, and logs a signed event either way.
    pub fn on_remote_grant(&mut self, grant: &[u8]) -> Result<LockReply, SimError> {
        let started = Instant::now();
        self.run_timers()?;
        let now = self.clock.now();
        self.remote
            .used_grants
            .retain(|_, not_after| *not_after > now);
        let used = &self.remote.used_grants;
        let check = check_remote_grant(grant, &*self, |id| used.contains_key(&id));
        if let Some((grant_id, not_after)) = check.consumed {
            self.remote.used_grants.insert(grant_id, not_after);
        }
        self.act_and_record(check.requester, check.decision, started)
    }

    /// A keypad table from the IQ. An authentic table for this lock newer than the one held
    /// replaces it (`Ok(true)`); an older one or one for another lock is ignored
    /// (`Ok(false)`); a table not signed by the site authority is an error.
    pub fn apply_keypad_table(&mut self, bytes: &[u8]) -> Result<bool, SimError> {
        let table = KeypadTable::decode_verified(bytes, &self.config.authority_key)?;
        let newer = self
            .remote
            .keypad
            .as_ref()
            .is_none_or(|held| table.serial > held.serial);
        if table.site_id != self.config.site_id || table.lock_id != self.config.lock_id || !newer {
            return Ok(false);
        }
        self.remote.keypad = Some(table);
        Ok(true)
    }

    /// The serial of the keypad table the lock holds, if any.
    pub fn keypad_serial(&self) -> Option<u32> {
        self.remote.keypad.as_ref().map(|table| table.serial)
    }

    /// Someone typed `digits` on the keypad. The lock checks them against its own table (so
    /// PINs work with the IQ offline), the person's schedule and privacy mode. After
    /// [`KEYPAD_ATTEMPTS`] wrong PINs in a row it refuses every PIN for
    /// [`KEYPAD_BLOCK_SECONDS`].
    pub fn keypad(&mut self, digits: &str) -> Result<LockReply, SimError> {
        let started = Instant::now();
        self.run_timers()?;
        let now = self.clock.now();
        let (requester, decision) = if now < self.remote.keypad_blocked_until {
            let requester = Requester {
                command: Command::Unlock.code(),
                ..Requester::default()
            };
            (requester, Err(RefusalReason::KeypadBlocked))
        } else {
            check_keypad(self.remote.keypad.as_ref(), digits, &*self)
        };
        match decision {
            Err(RefusalReason::WrongPin) => {
                self.remote.wrong_pins = self.remote.wrong_pins.saturating_add(1);
                if self.remote.wrong_pins >= KEYPAD_ATTEMPTS {
                    self.remote.wrong_pins = 0;
                    self.remote.keypad_blocked_until = now.saturating_add(KEYPAD_BLOCK_SECONDS);
                }
            }
            Err(RefusalReason::KeypadBlocked) => {}
            _ => self.remote.wrong_pins = 0,
        }
        self.act_and_record(requester, decision, started)
    }

    pub(super) fn act_and_record(
        &mut self,
        requester: Requester,
        decision: Result<Command, RefusalReason>,
        started: Instant,
    ) -> Result<LockReply, SimError> {
        let verify = started.elapsed();
        let actuate = self.actuate(decision);
        let recording = Instant::now();
        let occurrence = Occurrence {
            lock_id: self.config.lock_id,
            time: self.clock.now(),
            requester,
            refusal: decision.err(),
        };
        let event = self.log.append(occurrence, &self.lock_key, &self.rng)?;
        self.last_timing = Some(LockTiming {
            verify,
            actuate,
            record: recording.elapsed(),
        });
        Ok(LockReply {
            refusal: decision.err(),
            event,
        })
    }

    /// How long the last answered request took the lock, motor included.
    pub fn last_total(&self) -> Duration {
        self.last_timing.map(|t| t.total()).unwrap_or_default()
    }
}
