//! How an IQ proves who it is: the cloud sends a fresh random nonce on every connection, and
//! the IQ signs `label || iq_id || nonce` with its own P-256 key (registered at install). A
//! signature answers one nonce only, so a recorded login cannot be replayed.

use ring::rand::SecureRandom;

use crate::keys::{PublicKey, SigningKey, SIGNATURE_LEN};
use crate::ProtocolError;

/// Length of the cloud's nonce.
pub const IQ_NONCE_LEN: usize = 32;
const LABEL: &[u8] = b"KEYWAY-IQ-AUTH-V1";

/// The bytes the IQ signs for `nonce`.
pub fn auth_message(iq_id: u32, nonce: &[u8]) -> Vec<u8> {
    [LABEL, &iq_id.to_be_bytes(), nonce].concat()
}

/// A fresh nonce for one connection.
pub fn new_nonce(rng: &dyn SecureRandom) -> Result<[u8; IQ_NONCE_LEN], ProtocolError> {
    let mut nonce = [0u8; IQ_NONCE_LEN];
    rng.fill(&mut nonce).map_err(|_| ProtocolError::Random)?;
    Ok(nonce)
}

/// The IQ's answer to `nonce`.
pub fn sign_auth(
    iq_key: &SigningKey,
    iq_id: u32,
    nonce: &[u8],
    rng: &dyn SecureRandom,
) -> Result<[u8; SIGNATURE_LEN], ProtocolError> {
    iq_key.sign(&auth_message(iq_id, nonce), rng)
}

/// Whether `signature` is the IQ's answer to `nonce` (the nonce must be the full length).
pub fn verify_auth(iq_key: &PublicKey, iq_id: u32, nonce: &[u8], signature: &[u8]) -> bool {
    nonce.len() == IQ_NONCE_LEN && iq_key.verify(&auth_message(iq_id, nonce), signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn the_answer_binds_the_key_the_iq_and_the_nonce() {
        let rng = SystemRandom::new();
        let (key, _) = SigningKey::generate(&rng).unwrap();
        let (other, _) = SigningKey::generate(&rng).unwrap();
        let nonce = new_nonce(&rng).unwrap();
        let signature = sign_auth(&key, 7, &nonce, &rng).unwrap();
        assert!(verify_auth(&key.public_key(), 7, &nonce, &signature));
        assert!(!verify_auth(&key.public_key(), 8, &nonce, &signature));
        assert!(!verify_auth(&other.public_key(), 7, &nonce, &signature));
        let fresh = new_nonce(&rng).unwrap();
        assert!(!verify_auth(&key.public_key(), 7, &fresh, &signature));
        assert!(!verify_auth(&key.public_key(), 7, &nonce[..16], &signature));
    }
}
