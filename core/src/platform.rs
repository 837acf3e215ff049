//! Platform services the apps provide as foreign traits: the secure store for secrets and the
//! device key. The CLI and the tests use the file store and software key implemented here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use keyway_protocol::{PublicKey, SigningKey};
use ring::rand::SystemRandom;

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

/// A secure store in a file readable by its owner only (0600), for the CLI and tests.
pub struct FileSecureStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl std::fmt::Debug for FileSecureStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSecureStore")
            .field("path", &self.path)
            .finish()
    }
}

impl FileSecureStore {
    /// A store backed by `path` (created on first write).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    fn read_all(&self) -> Result<BTreeMap<String, String>, PlatformError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PlatformError::Failed {
                detail: format!("secure store file is corrupt: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(PlatformError::Failed {
                detail: format!("secure store unreadable: {e}"),
            }),
        }
    }

    fn write_all(&self, map: &BTreeMap<String, String>) -> Result<(), PlatformError> {
        let failed = |e: std::io::Error| PlatformError::Failed {
            detail: format!("secure store unwritable: {e}"),
        };
        let bytes = serde_json::to_vec(map).map_err(|e| PlatformError::Failed {
            detail: e.to_string(),
        })?;
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        let temporary = self.path.with_extension("tmp");
        write_private(&temporary, &bytes).map_err(failed)?;
        std::fs::rename(&temporary, &self.path).map_err(failed)
    }

    fn update(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), PlatformError> {
        let _guard = self.lock.lock().map_err(|_| PlatformError::Failed {
            detail: "store lock poisoned".into(),
        })?;
        let mut map = self.read_all()?;
        change(&mut map);
        self.write_all(&map)
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

impl SecureStore for FileSecureStore {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, PlatformError> {
        let _guard = self.lock.lock().map_err(|_| PlatformError::Failed {
            detail: "store lock poisoned".into(),
        })?;
        let map = self.read_all()?;
        map.get(&key)
            .map(|hex| {
                decode_hex(hex).ok_or_else(|| PlatformError::Failed {
                    detail: "secure store entry corrupt".into(),
                })
            })
            .transpose()
    }

    fn put(&self, key: String, value: Vec<u8>) -> Result<(), PlatformError> {
        self.update(|map| {
            map.insert(key, encode_hex(&value));
        })
    }

    fn delete(&self, key: String) -> Result<(), PlatformError> {
        self.update(|map| {
            map.remove(&key);
        })
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// A device key held in memory (PKCS#8 kept in the secure store by the CLI).
#[derive(Debug)]
pub struct SoftwareDeviceSigner {
    key: SigningKey,
    rng: SystemRandom,
}

impl SoftwareDeviceSigner {
    /// A fresh random key and its PKCS#8 document.
    pub fn generate() -> Result<(Self, Vec<u8>), KeywayError> {
        let rng = SystemRandom::new();
        let (key, pkcs8) = SigningKey::generate(&rng)?;
        Ok((Self { key, rng }, pkcs8))
    }

    /// Loads a key from its PKCS#8 document.
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

#[async_trait]
impl DeviceSigner for SoftwareDeviceSigner {
    async fn public_key(&self) -> Result<Vec<u8>, PlatformError> {
        Ok(self.key.public_key().as_bytes().to_vec())
    }

    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
        self.key
            .sign(&message, &self.rng)
            .map(|signature| signature.to_vec())
            .map_err(|e| PlatformError::Failed {
                detail: e.to_string(),
            })
    }
}

/// A software device key for tests and desktop tools, kept in `store` under
/// `keyway.device-key` (created on first use).
#[uniffi::export]
pub fn software_device_signer(
    store: Arc<dyn SecureStore>,
) -> Result<Arc<dyn DeviceSigner>, KeywayError> {
    const KEY: &str = "keyway.device-key";
    let signer = match store.get(KEY.into())? {
        Some(pkcs8) => SoftwareDeviceSigner::from_pkcs8(&pkcs8)?,
        None => {
            let (signer, pkcs8) = SoftwareDeviceSigner::generate()?;
            store.put(KEY.into(), pkcs8)?;
            signer
        }
    };
    Ok(Arc::new(signer))
}

/// A secure store in a 0600 file at `path`, for desktop tools and tests.
#[uniffi::export]
pub fn file_secure_store(path: String) -> Arc<dyn SecureStore> {
    Arc::new(FileSecureStore::new(PathBuf::from(path)))
}

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
        der[1] = (der.len() - 2) as u8;
        let fixed = signature_to_fixed(&der).unwrap();
        assert_eq!(&fixed[..32], &r);
        assert_eq!(&fixed[32..], &s);
        assert_eq!(signature_to_fixed(&fixed).unwrap(), fixed);
        assert!(signature_to_fixed(&der[..der.len() - 1]).is_err());
        assert!(signature_to_fixed(&[0x31, 0]).is_err());
    }

    #[test]
    fn the_file_store_keeps_values_private_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let store = FileSecureStore::new(path.clone());
        store.put("a".into(), vec![1, 2, 3]).unwrap();
        assert_eq!(
            FileSecureStore::new(path.clone()).get("a".into()).unwrap(),
            Some(vec![1, 2, 3])
        );
        store.delete("a".into()).unwrap();
        assert_eq!(store.get("a".into()).unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
