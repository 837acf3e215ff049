//! Every machine code the cloud answers in [`super::ApiErrorBody::error`], in one enum that the
//! cloud builds its answers from and the core maps to what the app should do, so a new code
//! cannot be forgotten on one side: both match on it exhaustively.

use serde::{Deserialize, Serialize};

/// A cloud error code, and what it tells the client to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the input is wrong; fix it, do not retry as is.
    InvalidInput,
    /// 401: no valid access token; refresh it or log in again.
    Unauthorized,
    /// 403: the caller's role or rights do not allow this.
    Forbidden,
    /// 404: no such thing, or not visible to the caller.
    NotFound,
    /// 409: clashes with what exists.
    Conflict,
    /// 429 with `Retry-After`: too many attempts; wait that long.
    RateLimited,
    /// 500: the server failed; retry later.
    Internal,
    /// 400: the e-mail verification code is wrong, expired or used, or the password is not
    /// the one of its sign-up; check it, or sign up again for a new code.
    VerificationFailed,
    /// 503: the lock's IQ is not connected; nothing was queued. Try again later.
    IqOffline,
    /// 504: the IQ took the command but did not answer in time.
    IqTimeout,
    /// 502: the IQ is online but cannot reach the lock (out of radio range, no power). Try
    /// again near the door, or open with the app over Bluetooth.
    LockUnreachable,
    /// 409: the lock is not attached to an IQ, so it cannot be opened remotely.
    NoIq,
    /// 409: set an app PIN (with the account password) first.
    PinNotSet,
    /// 403: wrong app PIN; the message says how many tries are left.
    WrongPin,
    /// 429 with `Retry-After`: wait before the next PIN try.
    PinDelay,
    /// 403: the app PIN is locked; set it again with the account password.
    PinLocked,
    /// 403: the biometric answer does not verify.
    GateRefused,
    /// 403: the IQ code is wrong, expired or used before; type the one the app shows now.
    CodeRejected,
    /// 400: an import file is separated by semicolons or tabs: save it comma-separated.
    NotCommaSeparated,
    /// 400: an import file is not UTF-8 text (UTF-16, binary): save it as CSV UTF-8.
    NotUtf8Csv,
    /// 400: an import file's header is not the template's five columns in order.
    WrongColumns,
    /// 400: an import file is empty.
    EmptyFile,
    /// 400: an import file has the header and no people.
    NoRows,
    /// 413: the body is larger than allowed (an import file: 2 MB); split it.
    FileTooLarge,
    /// 415: the body is not of the content type the route takes (`text/csv` for an import).
    UnsupportedMediaType,
    /// 403: the person claimed their place and owns their name, e-mail and phone: the site
    /// may not change them.
    ProfileOwnedByPerson,
    /// 409: the person has a tag profile (no account, no app): digital keys and remote
    /// opening need a user profile.
    ProfileIncomplete,
    /// 400: not a phone number in international form (`+` and 8 to 15 digits).
    InvalidPhone,
    /// 409: a site owner's tag is their master key (manual 000): nobody changes that while
    /// they own a site; it moves only with the ownership.
    MasterKeyFixed,
    /// 409: a lock already has the most master-key users it stores (39); the message names
    /// the lock. Take the master key from someone else first, or leave this person out.
    TooManyMasterKeys,
    /// 409: the lock's IQ runs firmware too old for this (Near Detection Mode needs 2.3 or
    /// later), or the lock has no IQ; update the IQ first.
    IqFirmwareTooOld,
    /// 403: the API key lacks the scope this call needs; the message names it.
    InsufficientScope,
    /// 422: this `Idempotency-Key` was used with another request; use a new key.
    IdempotencyKeyReused,
    /// 409: the access group belongs to another connected system (manual 004: groups are
    /// made for one app); make a group for this system.
    GroupOfAnotherIntegration,
    /// A code this build does not know (a newer cloud): act on the HTTP status.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code the cloud may send (all but [`ErrorCode::Unknown`]).
    pub const ALL: &'static [ErrorCode] = &[
        Self::InvalidInput,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::RateLimited,
        Self::Internal,
        Self::VerificationFailed,
        Self::IqOffline,
        Self::IqTimeout,
        Self::LockUnreachable,
        Self::NoIq,
        Self::PinNotSet,
        Self::WrongPin,
        Self::PinDelay,
        Self::PinLocked,
        Self::GateRefused,
        Self::CodeRejected,
        Self::NotCommaSeparated,
        Self::NotUtf8Csv,
        Self::WrongColumns,
        Self::EmptyFile,
        Self::NoRows,
        Self::FileTooLarge,
        Self::UnsupportedMediaType,
        Self::ProfileOwnedByPerson,
        Self::ProfileIncomplete,
        Self::InvalidPhone,
        Self::MasterKeyFixed,
        Self::TooManyMasterKeys,
        Self::IqFirmwareTooOld,
        Self::InsufficientScope,
        Self::IdempotencyKeyReused,
        Self::GroupOfAnotherIntegration,
    ];

    /// The code as it travels (`"pin_not_set"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::VerificationFailed => "verification_failed",
            Self::IqOffline => "iq_offline",
            Self::IqTimeout => "iq_timeout",
            Self::LockUnreachable => "lock_unreachable",
            Self::NoIq => "no_iq",
            Self::PinNotSet => "pin_not_set",
            Self::WrongPin => "wrong_pin",
            Self::PinDelay => "pin_delay",
            Self::PinLocked => "pin_locked",
            Self::GateRefused => "gate_refused",
            Self::CodeRejected => "code_rejected",
            Self::NotCommaSeparated => "not_comma_separated",
            Self::NotUtf8Csv => "not_utf8_csv",
            Self::WrongColumns => "wrong_columns",
            Self::EmptyFile => "empty_file",
            Self::NoRows => "no_rows",
            Self::FileTooLarge => "file_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ProfileOwnedByPerson => "profile_owned_by_person",
            Self::ProfileIncomplete => "profile_incomplete",
            Self::InvalidPhone => "invalid_phone",
            Self::MasterKeyFixed => "master_key_fixed",
            Self::TooManyMasterKeys => "too_many_master_keys",
            Self::IqFirmwareTooOld => "iq_firmware_too_old",
            Self::InsufficientScope => "insufficient_scope",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::GroupOfAnotherIntegration => "group_of_another_integration",
            Self::Unknown => "unknown",
        }
    }

    /// The code of a body's `error` text ([`ErrorCode::Unknown`] when this build does not
    /// know it).
    pub fn parse(text: &str) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == text)
            .unwrap_or(Self::Unknown)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_text_and_serde() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), *code);
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
        assert_eq!(ErrorCode::parse("from_a_newer_cloud"), ErrorCode::Unknown);
        assert_eq!(
            serde_json::from_str::<ErrorCode>("\"from_a_newer_cloud\"").unwrap(),
            ErrorCode::Unknown
        );
    }
}
