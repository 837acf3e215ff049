//! The 5-character IQ code the app shows for web remote opening.

use keyway_protocol::iq_code::{self, IqCode};

use crate::KeywayError;

/// The code current at `unix_seconds` for this person-and-IQ secret.
#[uniffi::export]
pub fn iq_code_at(secret: Vec<u8>, unix_seconds: i64) -> Result<IqCode, KeywayError> {
    Ok(iq_code::iq_code_at(&secret, unix_seconds)?)
}

/// The code current now on this phone's clock.
#[uniffi::export]
pub fn iq_code_now(secret: Vec<u8>) -> Result<IqCode, KeywayError> {
    iq_code_at(secret, chrono::Utc::now().timestamp())
}

/// The step whose code is `typed` (previous, current or next step at `unix_seconds`), or
/// `None` when it matches none.
#[uniffi::export]
pub fn iq_code_matching_step(
    secret: Vec<u8>,
    typed: String,
    unix_seconds: i64,
) -> Result<Option<u64>, KeywayError> {
    Ok(iq_code::iq_code_matching_step(
        &secret,
        &typed,
        unix_seconds,
    )?)
}
