//! A simulated NFC tag: its id (UID) and the P-256 key made on the card. A copy of the id onto
//! another card ([`SimulatedTag::copy_id`]) has a key of its own, as a real clone would.

use keyway_protocol::keys::SIGNATURE_LEN;
use keyway_protocol::tag::{answer_challenge, TAG_NONCE_LEN};
use keyway_protocol::{PublicKey, SigningKey};
use ring::rand::SystemRandom;

use crate::SimError;

/// A physical tag.
pub struct SimulatedTag {
    tag_id: u64,
    key: SigningKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SimulatedTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedTag")
            .field("tag_id", &format_args!("{:014x}", self.tag_id))
            .finish_non_exhaustive()
    }
}

/// Tag UIDs are 7 bytes.
const TAG_ID_MASK: u64 = (1 << 56) - 1;

impl SimulatedTag {
    /// A new card with a random 7-byte id and its own key.
    pub fn new() -> Result<Self, SimError> {
        let rng = SystemRandom::new();
        let mut id = [0u8; 8];
        ring::rand::SecureRandom::fill(&rng, &mut id)
            .map_err(|_| SimError::Protocol(keyway_protocol::ProtocolError::Random))?;
        Self::with_id(u64::from_be_bytes(id) & TAG_ID_MASK | 1)
    }

    /// A new card with this id and a fresh key of its own.
    pub fn with_id(tag_id: u64) -> Result<Self, SimError> {
        if tag_id == 0 || tag_id & !TAG_ID_MASK != 0 {
            return Err(SimError::InvalidConfig("a tag id is a non-zero 7-byte UID"));
        }
        let rng = SystemRandom::new();
        let (key, _pkcs8) = SigningKey::generate(&rng)?;
        Ok(Self { tag_id, key, rng })
    }

    /// What an attacker makes: another card carrying this tag's id (the key stays on the
    /// original card).
    pub fn copy_id(&self) -> Result<Self, SimError> {
        Self::with_id(self.tag_id)
    }

    /// The tag's id, as read by any reader.
    pub fn tag_id(&self) -> u64 {
        self.tag_id
    }

    /// The public half of the card's key, registered with the cloud.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// Answers a lock's challenge.
    pub(crate) fn answer(
        &self,
        site_id: u32,
        lock_id: u32,
        nonce: &[u8; TAG_NONCE_LEN],
    ) -> Result<[u8; SIGNATURE_LEN], SimError> {
        Ok(answer_challenge(
            &self.key,
            site_id,
            lock_id,
            self.tag_id,
            nonce,
            &self.rng,
        )?)
    }
}
