//! The error the apps see. Each variant tells the app what to do next.

use keyway_protocol::ProtocolError;

/// What went wrong, phrased as what the app should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum KeywayError {
    /// The input is wrong (a malformed key, a too-short secret): fix the input, do not retry.
    #[error("invalid input: {detail}")]
    InvalidInput {
        /// What is wrong with it.
        detail: String,
    },
    /// The rules refuse this (no key for this lock, no right): tell the user, do not retry.
    #[error("not allowed: {detail}")]
    NotAllowed {
        /// Why.
        detail: String,
    },
    /// The lock is not reachable over BLE: ask the user to move closer, then retry.
    #[error("lock out of range: {detail}")]
    OutOfRange {
        /// What failed.
        detail: String,
    },
    /// A transient failure (link dropped mid-way): retrying may work.
    #[error("temporary failure, retry: {detail}")]
    Retry {
        /// What failed.
        detail: String,
    },
    /// The session ended (refresh token expired or revoked): log in again.
    #[error("log in again: {detail}")]
    ReLogin {
        /// Why.
        detail: String,
    },
    /// This device is not (or no longer) registered: register it again.
    #[error("register this device: {detail}")]
    RegisterDevice {
        /// Why.
        detail: String,
    },
    /// Too many tries: wait `retry_after_seconds`, then try again (show a countdown).
    #[error("wait {retry_after_seconds} s and try again: {detail}")]
    RetryAfter {
        /// Why.
        detail: String,
        /// Seconds to wait before the next try.
        retry_after_seconds: u64,
    },
    /// No app PIN is set: offer to set one (with the account password).
    #[error("set an app PIN first: {detail}")]
    PinNotSet {
        /// Why.
        detail: String,
    },
    /// The app PIN was wrong: ask for it again (the detail says how many tries are left).
    #[error("wrong PIN: {detail}")]
    WrongPin {
        /// Tries left, in words.
        detail: String,
    },
    /// The app PIN is locked after too many wrong tries: set it again with the account password.
    #[error("the PIN is locked: {detail}")]
    PinLocked {
        /// Why.
        detail: String,
    },
    /// The IQ is online but cannot reach the lock: go to the door and open it over Bluetooth,
    /// or try again later.
    #[error("the IQ cannot reach the lock: {detail}")]
    LockUnreachable {
        /// What the cloud said.
        detail: String,
    },
    /// The person cancelled (dismissed the biometric prompt): nothing happened, show nothing.
    #[error("cancelled: {detail}")]
    Cancelled {
        /// What was cancelled.
        detail: String,
    },
    /// A bug or a broken platform service: report it.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl KeywayError {
    /// An [`KeywayError::InvalidInput`] from anything printable.
    pub fn invalid(detail: impl std::fmt::Display) -> Self {
        Self::InvalidInput {
            detail: detail.to_string(),
        }
    }

    /// An [`KeywayError::Internal`] from anything printable.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal {
            detail: detail.to_string(),
        }
    }

    /// The variant's name, for logs.
    pub fn variant(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "InvalidInput",
            Self::NotAllowed { .. } => "NotAllowed",
            Self::OutOfRange { .. } => "OutOfRange",
            Self::Retry { .. } => "Retry",
            Self::ReLogin { .. } => "ReLogin",
            Self::RegisterDevice { .. } => "RegisterDevice",
            Self::RetryAfter { .. } => "RetryAfter",
            Self::PinNotSet { .. } => "PinNotSet",
            Self::WrongPin { .. } => "WrongPin",
            Self::PinLocked { .. } => "PinLocked",
            Self::LockUnreachable { .. } => "LockUnreachable",
            Self::Cancelled { .. } => "Cancelled",
            Self::Internal { .. } => "Internal",
        }
    }

    /// The detail when it may be logged: for the variants whose detail is the core's own
    /// account of a link, a local state or a bug. Not for those whose detail answers what
    /// the person typed or the cloud's verdict on it (input, rights, PINs, the session),
    /// which may echo the input.
    pub fn loggable_detail(&self) -> Option<&str> {
        match self {
            Self::OutOfRange { detail }
            | Self::Retry { detail }
            | Self::RegisterDevice { detail }
            | Self::RetryAfter { detail, .. }
            | Self::LockUnreachable { detail }
            | Self::Cancelled { detail }
            | Self::Internal { detail } => Some(detail),
            Self::InvalidInput { .. }
            | Self::NotAllowed { .. }
            | Self::ReLogin { .. }
            | Self::PinNotSet { .. }
            | Self::WrongPin { .. }
            | Self::PinLocked { .. } => None,
        }
    }
}

impl From<ProtocolError> for KeywayError {
    fn from(error: ProtocolError) -> Self {
        match error {
            ProtocolError::Random | ProtocolError::Key(_) => Self::internal(error),
            _ => Self::invalid(error),
        }
    }
}
