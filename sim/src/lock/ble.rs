//! The lock's BLE entry points: a challenge on connect, request fragments in, answer
//! fragments out. Every complete request, and every fragment the lock cannot reassemble,
//! gets an answer and an event.

use std::time::{Duration, Instant};

use keyway_protocol::frame::{self, Reassembler, MIN_ATT_MTU};
use keyway_protocol::handshake::lock::Requester;
use keyway_protocol::{Command, LockAnswer, LockHandshake, RefusalReason, SignedEvent};

use super::{LockTiming, SimulatedLock};
use crate::event_log::Occurrence;
use crate::SimError;

/// One phone's connection: its MTU, the open challenge and the request being reassembled.
#[derive(Debug)]
pub(super) struct Connection {
    id: u64,
    mtu: usize,
    handshake: LockHandshake,
    reassembler: Reassembler,
    /// The phone's signal strength, in dBm, as the lock's radio measured it.
    rssi_dbm: i8,
    /// Records in answers sent on this connection whose delivery is not confirmed yet.
    in_flight: Vec<SignedEvent>,
}

/// How many undelivered records a lock keeps for later answers (its log keeps them all).
const MAX_UNDELIVERED: usize = 16;

impl SimulatedLock {
    /// A phone at the door connected and subscribed (see [`Self::on_connect_at`]).
    pub fn on_connect(&mut self, mtu: usize) -> Result<Vec<Vec<u8>>, SimError> {
        self.on_connect_at(mtu, crate::link::NEAR_RSSI_DBM)
    }

    /// A phone whose signal reaches the lock at `rssi_dbm` connected and subscribed: starts a
    /// handshake (fresh nonce and ephemeral key on the lock's clock) and returns the challenge
    /// fragments. Replaces any earlier connection. With Near Detection Mode on, a request from
    /// a phone weaker than the lock's threshold is refused ([`RefusalReason::TooFar`]).
    pub fn on_connect_at(&mut self, mtu: usize, rssi_dbm: i8) -> Result<Vec<Vec<u8>>, SimError> {
        if mtu < MIN_ATT_MTU {
            return Err(SimError::MtuTooSmall {
                mtu,
                min: MIN_ATT_MTU,
            });
        }
        let (handshake, challenge) =
            LockHandshake::start(self.config.lock_id, self.clock.now(), &self.rng)?;
        let fragments = frame::fragment(&challenge, mtu)?;
        self.connections_made = self.connections_made.saturating_add(1);
        self.connection = Some(Connection {
            id: self.connections_made,
            mtu,
            handshake,
            reassembler: Reassembler::new(),
            rssi_dbm,
            in_flight: Vec::new(),
        });
        Ok(fragments)
    }

    /// A fragment written by the phone. Returns the answer fragments once a request is
    /// complete, or none while more fragments are due.
    ///
    /// A fragment that cannot be reassembled is answered with a clear `MalformedFrame` abort
    /// and logged; the reassembler restarts and the challenge stays open, since no request
    /// was read. Errors are only for a write without connection or a failing signer.
    pub fn on_write(&mut self, fragment: &[u8]) -> Result<Vec<Vec<u8>>, SimError> {
        let mut connection = self.connection.take().ok_or(SimError::NotConnected)?;
        let answer = self.answer(&mut connection, fragment);
        self.connection = Some(connection);
        answer
    }

    /// The link layer confirmed that the phone received the answer notifications (a GATT
    /// indication's confirmation): their records no longer need re-sending.
    pub fn on_delivered(&mut self) {
        let Some(connection) = self.connection.as_mut() else {
            return;
        };
        let delivered = std::mem::take(&mut connection.in_flight);
        self.undelivered
            .retain(|record| !delivered.contains(record));
    }

    /// The phone went away: the open challenge and any partial request are dropped. Records of
    /// answers it never confirmed are kept, to ride along with the next answer to anyone.
    pub fn on_disconnect(&mut self) {
        if let Some(connection) = self.connection.take() {
            for record in connection.in_flight {
                if !self.undelivered.contains(&record) {
                    self.undelivered.push(record);
                }
            }
            self.undelivered.sort_by_key(|record| record.event().seq);
            let excess = self.undelivered.len().saturating_sub(MAX_UNDELIVERED);
            self.undelivered.drain(..excess);
        }
    }

    /// Records whose answers never reached a phone, oldest first.
    pub fn undelivered(&self) -> &[SignedEvent] {
        &self.undelivered
    }

    /// An id of the current connection (increasing with each connect), if a phone is connected.
    pub fn connection_id(&self) -> Option<u64> {
        self.connection.as_ref().map(|connection| connection.id)
    }

    fn answer(
        &mut self,
        connection: &mut Connection,
        fragment: &[u8],
    ) -> Result<Vec<Vec<u8>>, SimError> {
        let started = Instant::now();
        self.run_timers()?;
        let mut verdict = match connection.reassembler.push(fragment) {
            Ok(None) => return Ok(Vec::new()),
            Ok(Some(message)) => Some(connection.handshake.on_request(&message, self)),
            // Unreadable frames: no request was read, so the handshake is not consulted.
            Err(_) => None,
        };
        let too_far = self
            .settings
            .near_detection_min_rssi
            .is_some_and(|min| connection.rssi_dbm < min);
        if let Some(verdict) = verdict.as_mut().filter(|_| too_far) {
            verdict.decision = Err(RefusalReason::TooFar);
        }
        let (requester, decision) = verdict.as_ref().map_or(
            (Requester::default(), Err(RefusalReason::MalformedFrame)),
            |verdict| (verdict.requester, verdict.decision),
        );
        let verify = started.elapsed();
        let actuate = self.actuate(decision);
        let recording = Instant::now();
        let time = self.clock.now();
        let occurrence = Occurrence {
            lock_id: self.config.lock_id,
            time,
            requester,
            refusal: decision.err(),
        };
        let event = self.log.append(occurrence, &self.lock_key, &self.rng)?;
        let backlog: Vec<SignedEvent> = self
            .undelivered
            .iter()
            .filter(|record| !connection.in_flight.contains(record))
            .take(keyway_protocol::handshake::session::MAX_BACKLOG)
            .cloned()
            .collect();
        let answer = match &verdict {
            Some(verdict) => verdict.answer(time, &event, &backlog)?,
            None => LockAnswer::encode_abort(RefusalReason::MalformedFrame, &event),
        };
        connection.in_flight.push(event);
        if verdict.as_ref().is_some_and(|v| v.is_sealed()) {
            connection.in_flight.extend(backlog);
        }
        let fragments = frame::fragment(&answer, connection.mtu)?;
        self.last_timing = Some(LockTiming {
            verify,
            actuate,
            record: recording.elapsed(),
        });
        Ok(fragments)
    }

    /// Runs the motor for a granted command; a refused one does not move it.
    pub(super) fn actuate(&mut self, decision: Result<Command, RefusalReason>) -> Duration {
        let Ok(command) = decision else {
            return Duration::ZERO;
        };
        let started = Instant::now();
        std::thread::sleep(self.config.actuation);
        let now = self.clock.now();
        self.state.carry_out(command, now);
        started.elapsed()
    }
}
