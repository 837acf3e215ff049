//! Opaque random tokens (authorization codes, access and refresh tokens). Only their SHA-256
//! is stored, so a copy of the database does not hold usable tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::ApiError;

/// A new token: the text to hand out and the hash to store.
pub fn new_token() -> Result<(String, Vec<u8>), ApiError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("random generator failed".into()))?;
    let text = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&text);
    Ok((text, hash))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}
