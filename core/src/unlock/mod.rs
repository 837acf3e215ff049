//! Unlocking a lock over BLE with a digital key: the phone side of the handshake driven over
//! a [`BleTransport`], with the time each phase took.

#[cfg(feature = "ble-btleplug")]
mod btleplug;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyway_protocol::frame::{fragment, Reassembler};
use keyway_protocol::{
    Command, PhoneHandshake, PhoneOutcome, ProtocolError, RefusalReason, SignedEvent,
};
use ring::rand::SystemRandom;

#[cfg(feature = "ble-btleplug")]
pub use self::btleplug::{BtleplugTransport, CONNECT_TIMEOUT, DEFAULT_SCAN_TIMEOUT};
pub use transport::{BleTransport, TransportError};

use crate::platform::{signature_to_fixed, DeviceSigner};
use crate::KeywayError;

/// How long to wait for each notification from the lock.
pub const NOTIFICATION_TIMEOUT_MS: u32 = 5_000;

/// What happened, and how long each part took.
#[derive(Debug, Clone)]
pub struct UnlockOutcome {
    /// The lock that answered.
    pub lock_id: u32,
    /// `None` when the lock did it, else its reason for refusing.
    pub refusal: Option<RefusalReason>,
    /// The event record the lock signed; the phone uploads it later.
    pub event: SignedEvent,
    /// Earlier records of this lock whose answers never reached a phone; uploaded too.
    pub backlog: Vec<SignedEvent>,
    /// The lock's clock when it decided (absent when it aborted).
    pub lock_time: Option<i64>,
    /// Connect and challenge.
    pub connect: Duration,
    /// From challenge received to answer received: signing, writes, the lock's work.
    pub exchange: Duration,
    /// Fragments and bytes each way after connect.
    pub traffic: Traffic,
    /// The lock's signal at the phone when connected (dBm), if the radio reports it.
    pub signal_dbm: Option<i16>,
}

/// Bytes over the air after connect, fragment headers included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// ATT writes, phone → lock.
    pub writes: u32,
    /// Bytes in those writes.
    pub bytes_written: u32,
    /// Notifications, lock → phone.
    pub notifications: u32,
    /// Bytes in those notifications.
    pub bytes_notified: u32,
}

impl UnlockOutcome {
    /// Whether the lock did what was asked.
    pub fn granted(&self) -> bool {
        self.refusal.is_none()
    }
}

/// Closes the BLE link when an unlock is dropped before it finished (the app cancelled the
/// call): the lock sees the phone go away, as a person walking off would, instead of a link
/// left open. [`CloseLinkOnCancel::finished`] disarms it once the unlock closed the link itself.
pub struct CloseLinkOnCancel {
    transport: Option<Arc<dyn BleTransport>>,
}

impl CloseLinkOnCancel {
    /// Watches an unlock over `transport`.
    pub fn new(transport: &Arc<dyn BleTransport>) -> Self {
        Self {
            transport: Some(Arc::clone(transport)),
        }
    }

    /// The unlock ran to its end (and closed the link): nothing to do on drop.
    pub fn finished(mut self) {
        self.transport = None;
    }
}

impl Drop for CloseLinkOnCancel {
    fn drop(&mut self) {
        let Some(transport) = self.transport.take() else {
            return;
        };
        // The disconnect runs on the core's runtime, wherever the unlock was dropped.
        crate::runtime::spawn_detached(async move { transport.disconnect().await });
    }
}

/// Connects to `lock_id`, presents `credential` signed by `signer` with any `mailbox` updates
/// to carry, and asks for `command`. The link is closed whatever happens.
pub async fn unlock(
    transport: &dyn BleTransport,
    signer: &dyn DeviceSigner,
    lock_id: u32,
    credential: Vec<u8>,
    command: Command,
    mailbox: Vec<Vec<u8>>,
) -> Result<UnlockOutcome, KeywayError> {
    let started = Instant::now();
    tracing::debug!(lock_id, "BLE: connecting");
    let mtu = transport
        .connect(lock_id)
        .await
        .map_err(|error| link_failed("connect", started, error))?;
    let signal_dbm = transport.signal_dbm().await;
    tracing::debug!(
        lock_id,
        mtu,
        signal_dbm,
        connect_ms = started.elapsed().as_millis(),
        "BLE: connected"
    );
    let mut session = Session {
        transport,
        lock_id,
        mtu: mtu as usize,
        traffic: Traffic::default(),
    };
    let handshake = PhoneHandshake::new(credential, command, mailbox);
    let result = session
        .run(handshake, signer, started)
        .await
        .map(|outcome| UnlockOutcome {
            signal_dbm,
            ..outcome
        });
    transport.disconnect().await;
    let traffic = session.traffic;
    match &result {
        Ok(outcome) => match outcome.refusal {
            None => tracing::info!(
                lock_id,
                lock_time = outcome.lock_time,
                backlog = outcome.backlog.len(),
                connect_ms = outcome.connect.as_millis(),
                exchange_ms = outcome.exchange.as_millis(),
                total_ms = started.elapsed().as_millis(),
                writes = traffic.writes,
                bytes_written = traffic.bytes_written,
                notifications = traffic.notifications,
                bytes_notified = traffic.bytes_notified,
                "BLE: the lock granted"
            ),
            Some(reason) => tracing::info!(
                lock_id,
                reason = ?reason,
                aborted = outcome.lock_time.is_none(),
                connect_ms = outcome.connect.as_millis(),
                exchange_ms = outcome.exchange.as_millis(),
                total_ms = started.elapsed().as_millis(),
                writes = traffic.writes,
                notifications = traffic.notifications,
                "BLE: the lock refused"
            ),
        },
        Err(error) => tracing::warn!(
            lock_id,
            variant = error.variant(),
            total_ms = started.elapsed().as_millis(),
            writes = traffic.writes,
            bytes_written = traffic.bytes_written,
            notifications = traffic.notifications,
            bytes_notified = traffic.bytes_notified,
            "BLE: unlock failed, link closed"
        ),
    }
    result
}

struct Session<'a> {
    transport: &'a dyn BleTransport,
    lock_id: u32,
    mtu: usize,
    traffic: Traffic,
}

impl Session<'_> {
    async fn run(
        &mut self,
        mut handshake: PhoneHandshake,
        signer: &dyn DeviceSigner,
        started: Instant,
    ) -> Result<UnlockOutcome, KeywayError> {
        let challenge = self.receive_message("challenge", started).await?;
        let connect = started.elapsed();
        tracing::debug!(
            lock_id = self.lock_id,
            bytes = challenge.len(),
            notifications = self.traffic.notifications,
            "BLE: challenge received"
        );
        let exchange_started = Instant::now();
        let to_sign = handshake
            .on_challenge(&challenge, &SystemRandom::new())
            .map_err(garbled)?;
        if handshake.lock_id() != Some(self.lock_id) {
            tracing::warn!(
                expected = self.lock_id,
                answered = handshake.lock_id(),
                "BLE: another lock answered the challenge"
            );
            return Err(KeywayError::Retry {
                detail: format!("connected to another lock than {}", self.lock_id),
            });
        }
        let signing = Instant::now();
        let signature = signature_to_fixed(&signer.sign(to_sign).await?)?;
        tracing::debug!(
            sign_ms = signing.elapsed().as_millis(),
            "BLE: challenge signed with the device key"
        );
        let request = handshake
            .request(&signature)
            .map_err(KeywayError::internal)?;
        let pieces = fragment(&request, self.mtu).map_err(KeywayError::internal)?;
        let fragments = pieces.len();
        for piece in pieces {
            self.traffic.writes += 1;
            self.traffic.bytes_written += crate::convert::count(piece.len());
            tracing::trace!(bytes = piece.len(), "BLE: fragment written");
            self.transport
                .write(piece)
                .await
                .map_err(|error| link_failed("write", started, error))?;
        }
        tracing::debug!(
            lock_id = self.lock_id,
            bytes = request.len(),
            fragments,
            mtu = self.mtu,
            "BLE: request sent"
        );
        let answer = self.receive_message("answer", started).await?;
        let exchange = exchange_started.elapsed();
        tracing::debug!(
            lock_id = self.lock_id,
            bytes = answer.len(),
            exchange_ms = exchange.as_millis(),
            "BLE: answer received"
        );
        let (refusal, event, lock_time, backlog) =
            match handshake.on_answer(&answer).map_err(garbled)? {
                PhoneOutcome::Answer(answer) => (
                    answer.refusal,
                    answer.event,
                    Some(answer.lock_time),
                    answer.backlog,
                ),
                PhoneOutcome::Aborted { reason, event } => (Some(reason), event, None, Vec::new()),
            };
        Ok(UnlockOutcome {
            lock_id: self.lock_id,
            refusal,
            event,
            backlog,
            lock_time,
            connect,
            exchange,
            traffic: self.traffic,
            signal_dbm: None,
        })
    }

    async fn receive_message(
        &mut self,
        waiting_for: &'static str,
        started: Instant,
    ) -> Result<Vec<u8>, KeywayError> {
        let mut reassembler = Reassembler::new();
        loop {
            let piece = self
                .transport
                .receive(NOTIFICATION_TIMEOUT_MS)
                .await
                .map_err(|error| link_failed(waiting_for, started, error))?;
            self.traffic.notifications += 1;
            self.traffic.bytes_notified += crate::convert::count(piece.len());
            tracing::trace!(
                bytes = piece.len(),
                waiting_for,
                "BLE: notification received"
            );
            if let Some(message) = reassembler.push(&piece).map_err(garbled)? {
                return Ok(message);
            }
        }
    }
}

/// The lock's bytes could not be read or authenticated: a bad link or an impostor; retry.
fn garbled(error: ProtocolError) -> KeywayError {
    tracing::warn!(error = %error, "BLE: the lock's bytes could not be read or authenticated");
    KeywayError::Retry {
        detail: format!("unreadable answer from the lock: {error}"),
    }
}

/// Logs a link failure during `step` and maps it.
fn link_failed(step: &'static str, started: Instant, error: TransportError) -> KeywayError {
    tracing::warn!(
        step,
        error = %error,
        after_ms = started.elapsed().as_millis(),
        "BLE: link failed"
    );
    transport_error(error)
}

fn transport_error(error: TransportError) -> KeywayError {
    match error {
        TransportError::OutOfRange { .. } => KeywayError::OutOfRange {
            detail: error.to_string(),
        },
        TransportError::LinkLost { .. } | TransportError::Timeout { .. } => KeywayError::Retry {
            detail: error.to_string(),
        },
    }
}
