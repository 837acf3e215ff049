//! Platform services the apps provide as foreign traits: the secure store for secrets and the
//! device key. The CLI and the tests use the file store and software key implemented here.

use async_trait::async_trait;

use crate::KeywayError;

/// A platform service failed (Keychain locked, Keystore key invalidated, user cancelled).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    /// The service failed; `detail` says how (never a secret).
    #[error("platform service failed: {detail}")]
    Failed {
        /// What failed.
        detail: String,
    },
    /// The user cancelled a prompt.
    #[error("cancelled by the user")]
    Cancelled,
    /// The key is gone (new biometric enrolment, app reinstalled): register the device again.
    #[error("the device key is no longer available")]
    KeyInvalidated,
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed {
            detail: error.reason,
        }
    }
}

impl From<PlatformError> for KeywayError {
    fn from(error: PlatformError) -> Self {
        match error {
            PlatformError::Cancelled => KeywayError::Cancelled {
                detail: error.to_string(),
            },
            PlatformError::KeyInvalidated => KeywayError::RegisterDevice {
                detail: error.to_string(),
            },
            PlatformError::Failed { .. } => KeywayError::internal(error),
        }
    }
}

/// Secrets at rest: the Keychain on iOS, the Keystore-backed encrypted prefs on Android.
#[uniffi::export(with_foreign)]
pub trait SecureStore: Send + Sync {
    /// The value stored under `key`, if any.
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, PlatformError>;
    /// Stores `value` under `key`, replacing any previous one.
    fn put(&self, key: String, value: Vec<u8>) -> Result<(), PlatformError>;
    /// Removes `key` (no error when absent).
    fn delete(&self, key: String) -> Result<(), PlatformError>;
}

/// The device key: Android Keystore or iOS Secure Enclave on phones.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait DeviceSigner: Send + Sync {
    /// The P-256 public key, 65-byte uncompressed point.
    async fn public_key(&self) -> Result<Vec<u8>, PlatformError>;
    /// Signs `message` with ECDSA P-256 SHA-256: 64-byte `r || s` (or DER, which the core
    /// converts).
    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
}

#[cfg(feature = "desktop")]
pub use crate::desktop::{
    file_secure_store, software_device_signer, FileSecureStore, SoftwareDeviceSigner,
};

/// Normalises a platform signature to the 64-byte `r || s` form (Keystore and Secure Enclave
/// produce DER).
pub fn signature_to_fixed(signature: &[u8]) -> Result<Vec<u8>, KeywayError> {
    if signature.len() == 64 {
        return Ok(signature.to_vec());
    }
    let bad = || KeywayError::internal("the device signer returned a malformed signature");
    // SEQUENCE { INTEGER r, INTEGER s }
    let (&tag, rest) = signature.split_first().ok_or_else(bad)?;
    let (&len, mut body) = rest.split_first().ok_or_else(bad)?;
    if tag != 0x30 || usize::from(len) != body.len() {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(64);
    for _ in 0..2 {
        let (&int_tag, rest) = body.split_first().ok_or_else(bad)?;
        let (&int_len, rest) = rest.split_first().ok_or_else(bad)?;
        let (value, tail) = rest
            .split_at_checked(usize::from(int_len))
            .ok_or_else(bad)?;
        if int_tag != 0x02 {
            return Err(bad());
        }
        let trimmed: Vec<u8> = value.iter().copied().skip_while(|b| *b == 0).collect();
        if trimmed.len() > 32 {
            return Err(bad());
        }
        out.extend(std::iter::repeat_n(0, 32 - trimmed.len()));
        out.extend(trimmed);
        body = tail;
    }
    if body.is_empty() {
        Ok(out)
    } else {
        Err(bad())
    }
}

/// The platform's user-verification prompt (BiometricPrompt on Android, LocalAuthentication
/// on iOS) that gates the biometric-bound key for remote opening.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait UserVerifier: Send + Sync {
    /// Asks the person to verify, showing `reason`. `Ok(true)` when verified, `Ok(false)` when
    /// the check failed, `Err(Cancelled)` when they cancelled.
    async fn verify(&self, reason: String) -> Result<bool, PlatformError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_and_fixed_signatures_normalise_to_the_same_bytes() {
        let r = [0x80u8; 32];
        let s = [0x01u8; 32];
        let mut der = vec![0x30, 0];
        der.extend([0x02, 33, 0x00]);
        der.extend(r);
        der.extend([0x02, 32]);
        der.extend(s);
        der[1] = u8::try_from(der.len() - 2).unwrap();
        let fixed = signature_to_fixed(&der).unwrap();
        assert_eq!(&fixed[..32], &r);
        assert_eq!(&fixed[32..], &s);
        assert_eq!(signature_to_fixed(&fixed).unwrap(), fixed);
        assert!(signature_to_fixed(&der[..der.len() - 1]).is_err());
        assert!(signature_to_fixed(&[0x31, 0]).is_err());
    }
}
