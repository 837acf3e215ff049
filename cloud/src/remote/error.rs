//! The errors of remote opening, each with its own machine code so the apps can tell a
//! wrong PIN from a locked one, and an offline IQ from a refusing lock.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyway_api::ApiErrorBody;
use keyway_api::ErrorCode;

use crate::error::{set_retry_after, ApiError};
use crate::iq::RelayError;
use crate::store::StoreError;

/// Why a remote-opening request failed. A lock *refusing* is not an error: the answer says
/// `granted: false` with the lock's reason.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// Any other API error (input, rights, not found, internal).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// 503 `iq_offline`: the lock's IQ is not connected; nothing was queued.
    #[error("the IQ of this lock is offline: nothing was sent and nothing is queued; try again when it is back")]
    IqOffline,
    /// 504 `iq_timeout`: the IQ took the command but did not answer in time.
    #[error("the IQ did not answer in time")]
    IqTimeout,
    /// 409 `no_iq`: the lock is not attached to an IQ, so it cannot be opened remotely.
    #[error("this lock is not attached to an IQ")]
    NoIq,
    /// 409 `pin_not_set`: set an app PIN first.
    #[error("no app PIN is set: set one with your account password")]
    PinNotSet,
    /// 403 `wrong_pin`.
    #[error("wrong PIN; {attempts_left} tries left before the PIN locks")]
    WrongPin {
        /// Wrong tries left before the lockout.
        attempts_left: u32,
    },
    /// 429 `pin_delay`: after 5 wrong PINs each further try waits longer.
    #[error("too many wrong PINs: wait {0} s before the next try")]
    PinDelay(u64),
    /// 403 `pin_locked`: 10 wrong PINs; set it again with the account password.
    #[error("the PIN is locked after 10 wrong tries: set it again with your account password")]
    PinLocked,
    /// 403 `gate_refused`: the biometric answer does not verify.
    #[error("the biometric check was refused: {0}")]
    GateRefused(&'static str),
    /// 403 `code_rejected`: the IQ code is wrong, expired or used before.
    #[error("the code is wrong, expired or already used: type the code the app shows now")]
    CodeRejected,
    /// 502 `lock_unreachable`: the IQ is online but cannot reach the lock; nothing opened.
    #[error("the lock is out of the IQ's range or not answering: nothing opened; try again near the door or open it with the app over Bluetooth")]
    LockUnreachable,
}

impl From<StoreError> for RemoteError {
    fn from(error: StoreError) -> Self {
        Self::Api(error.into())
    }
}

impl From<RelayError> for RemoteError {
    fn from(error: RelayError) -> Self {
        match error {
            RelayError::Offline => Self::IqOffline,
            RelayError::Timeout => Self::IqTimeout,
        }
    }
}

impl RemoteError {
    /// The machine code in the body.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Api(error) => error.code(),
            Self::IqOffline => ErrorCode::IqOffline,
            Self::IqTimeout => ErrorCode::IqTimeout,
            Self::NoIq => ErrorCode::NoIq,
            Self::PinNotSet => ErrorCode::PinNotSet,
            Self::WrongPin { .. } => ErrorCode::WrongPin,
            Self::PinDelay(_) => ErrorCode::PinDelay,
            Self::PinLocked => ErrorCode::PinLocked,
            Self::GateRefused(_) => ErrorCode::GateRefused,
            Self::CodeRejected => ErrorCode::CodeRejected,
            Self::LockUnreachable => ErrorCode::LockUnreachable,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Api(error) => error.status(),
            Self::IqOffline => StatusCode::SERVICE_UNAVAILABLE,
            Self::IqTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::LockUnreachable => StatusCode::BAD_GATEWAY,
            Self::NoIq | Self::PinNotSet => StatusCode::CONFLICT,
            Self::PinDelay(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::WrongPin { .. } | Self::PinLocked | Self::GateRefused(_) | Self::CodeRejected => {
                StatusCode::FORBIDDEN
            }
        }
    }
}

impl IntoResponse for RemoteError {
    fn into_response(self) -> Response {
        if let Self::Api(error) = self {
            return error.into_response();
        }
        let body = ApiErrorBody {
            error: self.code().as_str().to_string(),
            message: self.to_string(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::PinDelay(seconds) = self {
            set_retry_after(&mut response, seconds);
        }
        response
    }
}

/// The result type of remote-opening handlers.
pub type RemoteResult<T> = Result<T, RemoteError>;
