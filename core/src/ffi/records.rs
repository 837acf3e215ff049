//! Records the unlock reports to the apps.

use std::time::Duration;

use keyway_protocol::{LockEvent, RefusalReason};

use crate::unlock::UnlockOutcome;

/// What the app should do after a refusal, so each app does not map the lock's reasons itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RefusalAdvice {
    /// The key is out of date (expired, revoked, or of an older revocation epoch): sync the
    /// keys; try again if the sync brings a new key for this lock, else access was taken away.
    SyncKeys,
    /// Nothing is wrong with the key: try again (a garbled frame, a challenge gone stale).
    Retry,
    /// The key is good but not now: its validity has not started, it is outside its schedule,
    /// the lock is in privacy mode, or its keypad waits after wrong PINs.
    NotNow,
    /// The key does not give this: another lock, site or command, or a wrong PIN.
    NotAllowed,
    /// The lock speaks a newer protocol: update the app.
    UpdateApp,
    /// The key works only while the lock can confirm it with its IQ, and it cannot now (the
    /// IQ is out of reach or offline): try again later, or ask the site's admin for offline
    /// access on this key.
    LockOffline,
    /// Near Detection Mode: the phone is too far from the lock; hold it closer.
    MoveCloser,
    /// Signatures do not match what the lock trusts: a device or site set-up problem that the
    /// site's administrator has to look at.
    ContactAdmin,
}

impl From<RefusalReason> for RefusalAdvice {
    fn from(reason: RefusalReason) -> Self {
        match reason {
            RefusalReason::Expired | RefusalReason::Revoked => Self::SyncKeys,
            RefusalReason::MalformedFrame
            | RefusalReason::StaleChallenge
            | RefusalReason::Replayed => Self::Retry,
            RefusalReason::NotYetValid
            | RefusalReason::OutsideSchedule
            | RefusalReason::PrivacyMode
            | RefusalReason::KeypadBlocked => Self::NotNow,
            RefusalReason::WrongSite
            | RefusalReason::NotInScope
            | RefusalReason::CommandNotAllowed
            | RefusalReason::WrongPin
            | RefusalReason::TagNotAuthentic
            | RefusalReason::UnknownTag => Self::NotAllowed,
            RefusalReason::RevocationStale => Self::LockOffline,
            RefusalReason::TooFar => Self::MoveCloser,
            RefusalReason::UnsupportedVersion => Self::UpdateApp,
            RefusalReason::BadAuthoritySignature
            | RefusalReason::BadDeviceSignature
            | RefusalReason::BadMailboxSignature => Self::ContactAdmin,
        }
    }
}

/// The result of one BLE unlock and how long each part took.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct UnlockReport {
    /// The lock.
    pub lock_id: u32,
    /// Whether it opened.
    pub granted: bool,
    /// Why not, when it did not.
    pub refusal: Option<RefusalReason>,
    /// The refusal in words, for the user.
    pub refusal_message: Option<String>,
    /// What to do about the refusal.
    pub advice: Option<RefusalAdvice>,
    /// Connecting and receiving the lock's challenge.
    pub connect_ms: f64,
    /// Signing, sending, the lock's checks and its answer (motor time excluded).
    pub handshake_ms: f64,
    /// The lock's motor.
    pub actuate_ms: f64,
    /// Bytes the phone wrote after connect (fragment headers included).
    pub bytes_written: u32,
    /// ATT writes the phone made.
    pub writes: u32,
    /// Bytes the lock notified.
    pub bytes_notified: u32,
    /// The lock's signal at the phone (RSSI, dBm), if the radio reports it: with a
    /// `MoveCloser` refusal, how far off the phone was.
    pub signal_dbm: Option<i16>,
}

impl UnlockReport {
    /// Builds the report; `actuate` is the lock's motor time, taken out of the exchange.
    pub fn new(outcome: &UnlockOutcome, actuate: Duration) -> Self {
        let millis = |d: Duration| d.as_secs_f64() * 1000.0;
        Self {
            lock_id: outcome.lock_id,
            granted: outcome.granted(),
            refusal: outcome.refusal,
            refusal_message: outcome.refusal.map(|reason| reason.describe().to_string()),
            advice: outcome.refusal.map(RefusalAdvice::from),
            connect_ms: millis(outcome.connect),
            handshake_ms: millis(outcome.exchange.saturating_sub(actuate)),
            actuate_ms: millis(actuate),
            bytes_written: outcome.traffic.bytes_written,
            writes: outcome.traffic.writes,
            bytes_notified: outcome.traffic.bytes_notified,
            signal_dbm: outcome.signal_dbm,
        }
    }
}

/// One record of a lock's event log. A view of the protocol's [`LockEvent`]: the apps get
/// whether it was granted, and not the lock id, the command code or the hash chain's
/// 32-byte links, which only the cloud checks.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LockEventInfo {
    /// Position in the log, from 1.
    pub seq: u64,
    /// The lock's clock (Unix seconds).
    pub time: i64,
    /// The person, 0 if unknown.
    pub user_id: u32,
    /// The key, 0 if unknown.
    pub credential_id: u64,
    /// Whether the lock did it.
    pub granted: bool,
    /// Why not.
    pub refusal: Option<RefusalReason>,
}

impl From<&LockEvent> for LockEventInfo {
    fn from(event: &LockEvent) -> Self {
        Self {
            seq: event.seq,
            time: event.time,
            user_id: event.user_id,
            credential_id: event.credential_id,
            granted: event.refusal.is_none(),
            refusal: event.refusal,
        }
    }
}
