//! P-256 keys: signing key pairs (site authority, lock, software device key) and public keys.
//!
//! Signatures are the fixed 64-byte `r || s` form; public keys the 65-byte uncompressed point.

use ring::rand::SecureRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};

use crate::ProtocolError;

/// Length of an uncompressed P-256 public key.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a fixed-size P-256 ECDSA signature.
pub const SIGNATURE_LEN: usize = 64;

/// A P-256 public key in uncompressed form (`0x04 || x || y`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// Wraps 65 bytes; checks the uncompressed-point prefix (the curve check happens on use).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let array: [u8; PUBLIC_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| ProtocolError::Key("public key must be 65 bytes"))?;
        if array[0] != 0x04 {
            return Err(ProtocolError::Key(
                "public key must be an uncompressed point",
            ));
        }
        Ok(Self(array))
    }

    /// The 65 bytes of the key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }

    /// Checks an ECDSA P-256 SHA-256 signature made over `message` by this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = self.0.get(1..9).unwrap_or_default();
        write!(f, "PublicKey(")?;
        for byte in tail {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "…)")
    }
}

/// A P-256 signing key pair held in memory (site authority, lock key, software device key).
///
/// Its `Debug` output never shows the private part.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    public: PublicKey,
}

impl SigningKey {
    /// Creates a new random key and returns it with its PKCS#8 document (to store it).
    pub fn generate(rng: &dyn SecureRandom) -> Result<(Self, Vec<u8>), ProtocolError> {
        let document =
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, rng)
                .map_err(|_| ProtocolError::Random)?;
        let pkcs8 = document.as_ref().to_vec();
        Ok((Self::from_pkcs8(&pkcs8, rng)?, pkcs8))
    }

    /// Loads a key from its PKCS#8 document.
    pub fn from_pkcs8(pkcs8: &[u8], rng: &dyn SecureRandom) -> Result<Self, ProtocolError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, rng)
                .map_err(|_| ProtocolError::Key("not a P-256 PKCS#8 key"))?;
        let public = PublicKey::from_bytes(pair.public_key().as_ref())?;
        Ok(Self { pair, public })
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Signs `message` (ECDSA P-256 with SHA-256), returning the 64-byte signature.
    pub fn sign(
        &self,
        message: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<[u8; SIGNATURE_LEN], ProtocolError> {
        let signature = self
            .pair
            .sign(rng, message)
            .map_err(|_| ProtocolError::Random)?;
        signature
            .as_ref()
            .try_into()
            .map_err(|_| ProtocolError::Key("unexpected signature length"))
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}
