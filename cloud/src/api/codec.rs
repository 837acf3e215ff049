//! Checking and converting input fields: names, base64, public keys. (E-mails, people's
//! names and passwords follow the account rules in [`crate::auth::accounts`].)

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_protocol::PublicKey;
use ring::agreement;
use ring::rand::SystemRandom;
use rusqlite::{Connection, OptionalExtension};

use crate::error::ApiError;

/// Longest name accepted (site, person, lock, group, device).
pub(crate) const MAX_NAME_CHARS: usize = 100;

/// A trimmed, non-empty single-line text of at most `max_chars` characters.
fn text(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::InvalidInput(format!("{field} must not be empty")));
    }
    if value.chars().count() > max_chars {
        return Err(ApiError::InvalidInput(format!(
            "{field} must be at most {max_chars} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::InvalidInput(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(value.to_string())
}

/// A name: see [`text`] with [`MAX_NAME_CHARS`].
pub(crate) fn name(field: &str, value: &str) -> Result<String, ApiError> {
    text(field, value, MAX_NAME_CHARS)
}

/// Standard base64 for binary values in JSON.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes a standard base64 field.
pub(crate) fn decode(field: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD
        .decode(value.trim())
        .map_err(|_| ApiError::InvalidInput(format!("{field} must be standard base64")))
}

/// A P-256 public key (base64 of the 65-byte uncompressed point), checked to lie on the curve.
pub(crate) fn public_key(field: &str, value: &str) -> Result<PublicKey, ApiError> {
    let key = PublicKey::from_bytes(&decode(field, value)?)
        .map_err(|error| ApiError::InvalidInput(format!("{field}: {error}")))?;
    // `from_bytes` checks the form; an ECDH agreement makes ring check the point itself.
    let rng = SystemRandom::new();
    let ephemeral = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| ApiError::Internal("random generator failed".into()))?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, key.as_bytes());
    agreement::agree_ephemeral(ephemeral, &peer, |_| ()).map_err(|_| {
        ApiError::InvalidInput(format!("{field} is not a point on the P-256 curve"))
    })?;
    Ok(key)
}

/// The stored public key `sql` selects for `id` (one `BLOB` column, `?1` the id), `None`
/// when there is no such row; `what` names the key in the error when the stored bytes are not
/// a key.
pub(crate) fn stored_public_key(
    db: &Connection,
    sql: &str,
    id: u32,
    what: &str,
) -> Result<Option<PublicKey>, ApiError> {
    let bytes: Option<Vec<u8>> = db.query_row(sql, [id], |row| row.get(0)).optional()?;
    bytes
        .map(|bytes| {
            PublicKey::from_bytes(&bytes)
                .map_err(|error| ApiError::Internal(format!("{what}: {error}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_protocol::SigningKey;

    #[test]
    fn real_keys_pass_and_off_curve_points_fail() {
        let (key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
        let good = encode(key.public_key().as_bytes());
        assert_eq!(public_key("k", &good).unwrap(), key.public_key());
        let mut off_curve = key.public_key().as_bytes().to_vec();
        off_curve[64] ^= 1;
        assert!(matches!(
            public_key("k", &encode(&off_curve)),
            Err(ApiError::InvalidInput(_))
        ));
        assert!(public_key("k", &encode(&[4; 33])).is_err());
        assert!(public_key("k", "not base64!").is_err());
    }

    #[test]
    fn name_rules() {
        assert_eq!(name("name", "  Front door ").unwrap(), "Front door");
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(name("name", "a\nb").is_err());
    }
}
