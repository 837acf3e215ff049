//! The 5-character IQ code for web remote opening: derived from a per-person, per-IQ secret
//! and the current time step, the same way by the app, the IQ and the cloud.
//!
//! `code = alphabet[HMAC-SHA256(secret, label || step)]`, five 5-bit groups from the first
//! 25 bits. The alphabet has 32 symbols without 0/O and 1/I, so a code read off a screen is
//! typed right. A verifier accepts the previous, current and next step.

use ring::hmac;

use crate::ProtocolError;

/// Seconds a code stays current.
pub const IQ_CODE_STEP_SECONDS: i64 = 30;
/// Characters in a code.
pub const IQ_CODE_LEN: usize = 5;
/// The 32 symbols a code is written with.
pub const IQ_CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Shortest secret accepted.
pub const MIN_IQ_SECRET_LEN: usize = 16;
const LABEL: &[u8] = b"KEYWAY-IQ-CODE-V1";

/// A code, the time step it belongs to, and how long it stays current (the apps see it as
/// it is, feature `uniffi`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct IqCode {
    /// The five characters.
    pub code: String,
    /// The time step (Unix seconds / step length).
    pub step: u64,
    /// Seconds until the next step starts, from the time asked about.
    pub seconds_left: u32,
}

/// The time step containing `unix_seconds`.
pub fn iq_time_step(unix_seconds: i64) -> Result<u64, ProtocolError> {
    u64::try_from(unix_seconds.div_euclid(IQ_CODE_STEP_SECONDS))
        .map_err(|_| ProtocolError::Invalid("time before 1970"))
}

/// The code for a given step.
pub fn iq_code_for_step(secret: &[u8], step: u64) -> Result<String, ProtocolError> {
    if secret.len() < MIN_IQ_SECRET_LEN {
        return Err(ProtocolError::Invalid(
            "IQ code secret shorter than 16 bytes",
        ));
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, &[LABEL, &step.to_be_bytes()].concat());
    let head = tag
        .as_ref()
        .get(..4)
        .ok_or(ProtocolError::Invalid("hmac output"))?;
    let bits = u32::from_be_bytes(
        head.try_into()
            .map_err(|_| ProtocolError::Invalid("hmac output"))?,
    );
    let code = (0..IQ_CODE_LEN)
        .map(|position| {
            let shift = u32::try_from(position).map_or(0, |position| 27 - 5 * position);
            let index = ((bits >> shift) & 0x1f) as usize;
            char::from(*IQ_CODE_ALPHABET.get(index).unwrap_or(&b'?'))
        })
        .collect();
    Ok(code)
}

/// The code current at `unix_seconds`, with the seconds it has left.
pub fn iq_code_at(secret: &[u8], unix_seconds: i64) -> Result<IqCode, ProtocolError> {
    let step = iq_time_step(unix_seconds)?;
    let code = iq_code_for_step(secret, step)?;
    // rem_euclid is in 0..step, so this is in 1..=step and fits.
    let seconds_left =
        u32::try_from(IQ_CODE_STEP_SECONDS - unix_seconds.rem_euclid(IQ_CODE_STEP_SECONDS))
            .map_err(|_| ProtocolError::Invalid("time step"))?;
    Ok(IqCode {
        code,
        step,
        seconds_left,
    })
}

/// Normalises what a person typed: trims spaces, upper-cases, and checks the alphabet.
pub fn normalize_iq_code(typed: &str) -> Result<String, ProtocolError> {
    let code: String = typed.trim().to_ascii_uppercase();
    if code.len() != IQ_CODE_LEN || !code.bytes().all(|b| IQ_CODE_ALPHABET.contains(&b)) {
        return Err(ProtocolError::Invalid(
            "IQ code must be 5 characters of the code alphabet",
        ));
    }
    Ok(code)
}

/// The step whose code equals `typed`, among the previous, current and next step at
/// `unix_seconds`; `None` if none matches. Comparison is constant-time.
pub fn iq_code_matching_step(
    secret: &[u8],
    typed: &str,
    unix_seconds: i64,
) -> Result<Option<u64>, ProtocolError> {
    let typed = normalize_iq_code(typed)?;
    let current = iq_time_step(unix_seconds)?;
    let mut matched = None;
    for step in [
        current.saturating_sub(1),
        current,
        current.saturating_add(1),
    ] {
        let expected = iq_code_for_step(secret, step)?;
        if ring_constant_time_eq(expected.as_bytes(), typed.as_bytes()) && matched.is_none() {
            matched = Some(step);
        }
    }
    Ok(matched)
}

fn ring_constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // HMAC verification is ring's constant-time comparison: compare tags of both inputs.
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"keyway-compare");
    let tag = hmac::sign(&key, a);
    hmac::verify(&key, b, tag.as_ref()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn codes_use_the_alphabet_and_change_with_the_step() {
        let a = iq_code_at(SECRET, 1_796_000_000).unwrap();
        let b = iq_code_at(SECRET, 1_796_000_000 + IQ_CODE_STEP_SECONDS).unwrap();
        assert_eq!(a.code.len(), 5);
        assert!(a.code.bytes().all(|c| IQ_CODE_ALPHABET.contains(&c)));
        assert_eq!(b.step, a.step + 1);
        assert_ne!(a.code, b.code);
    }

    #[test]
    fn seconds_left_counts_down_to_the_next_step() {
        let start = 1_796_000_010; // a multiple of 30
        assert_eq!(start % IQ_CODE_STEP_SECONDS, 0);
        assert_eq!(iq_code_at(SECRET, start).unwrap().seconds_left, 30);
        assert_eq!(iq_code_at(SECRET, start + 29).unwrap().seconds_left, 1);
    }

    #[test]
    fn one_step_of_skew_is_accepted_two_are_not() {
        let now = 1_796_000_000;
        let step = iq_time_step(now).unwrap();
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = iq_code_for_step(SECRET, step.checked_add_signed(offset).unwrap()).unwrap();
            let matched = iq_code_matching_step(SECRET, &code, now).unwrap();
            assert_eq!(matched.is_some(), accepted, "offset {offset}");
            if accepted {
                assert_eq!(matched, step.checked_add_signed(offset));
            }
        }
    }

    #[test]
    fn typing_is_forgiving_but_the_alphabet_is_not() {
        let now = 1_796_000_000;
        let code = iq_code_at(SECRET, now).unwrap().code;
        let typed = format!("  {} ", code.to_ascii_lowercase());
        assert!(iq_code_matching_step(SECRET, &typed, now)
            .unwrap()
            .is_some());
        assert!(iq_code_matching_step(SECRET, "O0I1L", now).is_err());
        assert!(iq_code_matching_step(SECRET, "ABCD", now).is_err());
    }

    #[test]
    fn another_secret_gives_other_codes() {
        let other = b"fedcba9876543210fedcba9876543210";
        let now = 1_796_000_000;
        let code = iq_code_at(SECRET, now).unwrap().code;
        assert_eq!(iq_code_matching_step(other, &code, now).unwrap(), None);
        assert!(iq_code_at(b"short", now).is_err());
    }
}
