//! Sealing: AES-256-GCM (through `ring`) under the cloud's key-encryption key (KEK).
//!
//! A sealed value is `VERSION || nonce (96 random bits) || ciphertext || tag`. The associated
//! data names what is sealed — its table, column and row (see [`aad`]) — so a sealed value
//! copied to another row or column does not open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

/// Bytes of a key-encryption key.
pub const KEY_LEN: usize = 32;
/// The format byte that starts every sealed value.
pub const VERSION: u8 = 1;
/// Bytes a sealed value has beyond its plaintext.
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
const TAG_LEN: usize = 16;

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Not a sealed value of a format this build knows.
    #[error("not a sealed value")]
    Malformed,
    /// The value does not open under this key for this place: another key, another row or
    /// column, or altered bytes.
    #[error("the sealed value does not open with this key here")]
    DoesNotOpen,
    /// The system random generator failed.
    #[error("random generator failed")]
    Random,
}

/// The key-encryption key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Kek {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    /// The KEK made of these key bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Result<Self, SealError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::Malformed)?;
        Ok(Self {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// New random key bytes.
    pub fn random_bytes() -> Result<[u8; KEY_LEN], SealError> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealError::Random)?;
        Ok(bytes)
    }

    /// A random key kept nowhere (in-memory stores).
    pub fn ephemeral() -> Result<Self, SealError> {
        Self::from_bytes(&Self::random_bytes()?)
    }

    /// Seals `plaintext` for the place `aad` names.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut sealed = Vec::with_capacity(plaintext.len() + OVERHEAD);
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut sealed[1 + NONCE_LEN..],
            )
            .map_err(|_| SealError::Malformed)?;
        sealed.extend_from_slice(tag.as_ref());
        Ok(sealed)
    }

    /// Opens a value sealed for the place `aad` names.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < OVERHEAD || sealed.first() != Some(&VERSION) {
            return Err(SealError::Malformed);
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
            .map_err(|_| SealError::Malformed)?;
        let mut buffer = sealed[1 + NONCE_LEN..].to_vec();
        let length = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buffer)
            .map_err(|_| SealError::DoesNotOpen)?
            .len();
        buffer.truncate(length);
        Ok(buffer)
    }
}

/// The associated data of a sealed value: `table.column:` and the row's key parts joined by
/// `/` (`sites.authority_pkcs8:7`, `iq_code_secrets.secret:3/12`). Every part but the last
/// is an integer, so the joined form names one row only.
pub fn aad(column: &str, row: &[String]) -> Vec<u8> {
    format!("{column}:{}", row.join("/")).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> Kek {
        Kek::ephemeral().unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_at_its_place() {
        let (kek, other) = (kek(), kek());
        let here = aad("sites.authority_pkcs8", &["1".into()]);
        let sealed = kek.seal(&here, b"the site's private key").unwrap();
        assert_eq!(kek.open(&here, &sealed).unwrap(), b"the site's private key");
        assert_eq!(other.open(&here, &sealed), Err(SealError::DoesNotOpen));
        let other_row = aad("sites.authority_pkcs8", &["2".into()]);
        assert_eq!(kek.open(&other_row, &sealed), Err(SealError::DoesNotOpen));
        let other_column = aad("site_keypad.key", &["1".into()]);
        assert_eq!(
            kek.open(&other_column, &sealed),
            Err(SealError::DoesNotOpen)
        );
    }

    #[test]
    fn a_flipped_bit_or_a_cut_value_does_not_open() {
        let kek = kek();
        let here = aad("t.c", &["1".into()]);
        let sealed = kek.seal(&here, b"secret").unwrap();
        for index in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[index] ^= 1;
            assert!(kek.open(&here, &altered).is_err(), "byte {index}");
        }
        assert_eq!(
            kek.open(&here, &sealed[..OVERHEAD - 1]),
            Err(SealError::Malformed)
        );
        assert_eq!(kek.open(&here, &[]), Err(SealError::Malformed));
    }

    #[test]
    fn the_same_secret_seals_differently_each_time_and_hides_its_bytes() {
        let kek = kek();
        let here = aad("t.c", &["1".into()]);
        let secret = b"0123456789abcdef0123456789abcdef";
        let (one, two) = (
            kek.seal(&here, secret).unwrap(),
            kek.seal(&here, secret).unwrap(),
        );
        assert_ne!(one, two, "random nonces");
        assert_eq!(one.len(), secret.len() + OVERHEAD);
        assert!(!one.windows(8).any(|w| secret.windows(8).any(|s| s == w)));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let bytes = [0x5a; KEY_LEN];
        let kek = Kek::from_bytes(&bytes).unwrap();
        let shown = format!("{kek:?}");
        assert_eq!(shown, "Kek(..)");
    }
}
