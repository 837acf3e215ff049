//! The device key that signs unlock requests. On phones it lives in the Android Keystore or
//! the iOS Secure Enclave; the CLI and the tests use the software signer here.

use keyway_protocol::{PublicKey, SigningKey};
use ring::rand::SystemRandom;

use crate::KeywayError;

/// Signs with the device key: ECDSA P-256 SHA-256, 64-byte `r || s` signatures.
pub trait DeviceSigner: Send + Sync {
    /// The device public key (65-byte uncompressed point) the credential names.
    fn public_key(&self) -> Result<Vec<u8>, KeywayError>;
    /// Signs `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeywayError>;
}

/// A device key held in memory, for the CLI, the demo and the tests.
#[derive(Debug)]
pub struct SoftwareDeviceSigner {
    key: SigningKey,
    rng: SystemRandom,
}

impl SoftwareDeviceSigner {
    /// A fresh random device key.
    pub fn generate() -> Result<Self, KeywayError> {
        let rng = SystemRandom::new();
        let (key, _) = SigningKey::generate(&rng)?;
        Ok(Self { key, rng })
    }

    /// Loads a device key from its PKCS#8 document.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeywayError> {
        let rng = SystemRandom::new();
        Ok(Self {
            key: SigningKey::from_pkcs8(pkcs8, &rng)?,
            rng,
        })
    }

    /// The public key, typed.
    pub fn verifying_key(&self) -> PublicKey {
        self.key.public_key()
    }
}

impl DeviceSigner for SoftwareDeviceSigner {
    fn public_key(&self) -> Result<Vec<u8>, KeywayError> {
        Ok(self.key.public_key().as_bytes().to_vec())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeywayError> {
        Ok(self.key.sign(message, &self.rng)?.to_vec())
    }
}
