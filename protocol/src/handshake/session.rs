//! The session crypto shared by both sides: the transcript the device key signs, the ECDH +
//! HKDF session key, and the AES-GCM seal of the lock's answer.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::{digest, hkdf};

use crate::event::{SignedEvent, EVENT_RECORD_LEN};
use crate::message::{kind, NONCE_LEN, PROTOCOL_VERSION};
use crate::refusal::RefusalReason;
use crate::wire::{Reader, Writer};
use crate::ProtocolError;

const TRANSCRIPT_LABEL: &[u8] = b"KEYWAY-UNLOCK-V1";
const SESSION_KEY_LABEL: &[u8] = b"KEYWAY-SESSION-KEY-V1";
/// Length of the AES-256-GCM session key.
pub const SESSION_KEY_LEN: usize = 32;
/// Length of the lock's answer before sealing, without backlog records.
pub const ANSWER_LEN: usize = 2 + 8 + EVENT_RECORD_LEN + 1;
/// Most earlier, undelivered event records one answer carries.
pub const MAX_BACKLOG: usize = 2;

/// What the device key signs: a label, the whole challenge and the unsigned request.
pub fn signing_transcript(challenge: &[u8], unsigned_request: &[u8]) -> Vec<u8> {
    [TRANSCRIPT_LABEL, challenge, unsigned_request].concat()
}

/// SHA-256 over the challenge and the full (signed) request: binds the session key to both.
pub fn transcript_hash(challenge: &[u8], request: &[u8]) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(challenge);
    context.update(request);
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// ECDH with our ephemeral key and the peer's public key; returns the shared secret.
pub fn ecdh(private: EphemeralPrivateKey, peer_public: &[u8]) -> Result<[u8; 32], ProtocolError> {
    agreement::agree_ephemeral(
        private,
        &UnparsedPublicKey::new(&agreement::ECDH_P256, peer_public),
        |shared| {
            let mut out = [0u8; 32];
            out.copy_from_slice(shared);
            out
        },
    )
    .map_err(|_| ProtocolError::Key("ephemeral key is not a valid P-256 point"))
}

struct KeyLength(usize);

impl hkdf::KeyType for KeyLength {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA256: salt = the lock nonce, input = the ECDH secret, info = label || transcript hash.
pub fn derive_session_key(
    shared_secret: &[u8; 32],
    lock_nonce: &[u8; NONCE_LEN],
    transcript_hash: &[u8; 32],
) -> Result<[u8; SESSION_KEY_LEN], ProtocolError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, lock_nonce).extract(shared_secret);
    let info = [SESSION_KEY_LABEL, transcript_hash.as_slice()];
    let okm = prk
        .expand(&info, KeyLength(SESSION_KEY_LEN))
        .map_err(|_| ProtocolError::Key("hkdf"))?;
    let mut key = [0u8; SESSION_KEY_LEN];
    okm.fill(&mut key).map_err(|_| ProtocolError::Key("hkdf"))?;
    Ok(key)
}

/// The AES-256-GCM key of one session. It seals exactly one message, so the nonce is fixed.
pub struct SessionKey(LessSafeKey);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

const RESPONSE_AAD: [u8; 2] = [kind::RESPONSE, PROTOCOL_VERSION];

impl SessionKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: &[u8; SESSION_KEY_LEN]) -> Result<Self, ProtocolError> {
        let unbound =
            UnboundKey::new(&aead::AES_256_GCM, bytes).map_err(|_| ProtocolError::Key("aes"))?;
        Ok(Self(LessSafeKey::new(unbound)))
    }

    /// Seals the lock's answer into a `Response` message.
    pub fn seal_response(&self, answer: &LockAnswer) -> Result<Vec<u8>, ProtocolError> {
        let mut in_out = answer.encode();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::from(RESPONSE_AAD),
                &mut in_out,
            )
            .map_err(|_| ProtocolError::SealBroken)?;
        Ok([&[kind::RESPONSE][..], &in_out].concat())
    }

    /// Opens a `Response` message; fails if it was altered or sealed with another key.
    pub fn open_response(&self, message: &[u8]) -> Result<LockAnswer, ProtocolError> {
        let (&message_kind, sealed) = message
            .split_first()
            .ok_or(ProtocolError::Truncated("response"))?;
        if message_kind != kind::RESPONSE {
            return Err(ProtocolError::UnexpectedMessage("response"));
        }
        let mut in_out = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::from(RESPONSE_AAD),
                &mut in_out,
            )
            .map_err(|_| ProtocolError::SealBroken)?;
        LockAnswer::decode(plain)
    }
}

/// The lock's answer: the decision, the lock's clock and the signed event it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockAnswer {
    /// `None` when granted, else why the lock refused.
    pub refusal: Option<RefusalReason>,
    /// The lock's clock when it decided (Unix seconds).
    pub lock_time: i64,
    /// The event record the lock appended to its log.
    pub event: SignedEvent,
    /// Earlier records whose answers never reached a phone (the link dropped), oldest first;
    /// at most [`MAX_BACKLOG`]. The phone uploads them with its own.
    pub backlog: Vec<SignedEvent>,
}

impl LockAnswer {
    /// Whether the lock did what was asked.
    pub fn granted(&self) -> bool {
        self.refusal.is_none()
    }

    fn encode(&self) -> Vec<u8> {
        let backlog = self
            .backlog
            .get(..MAX_BACKLOG.min(self.backlog.len()))
            .unwrap_or_default();
        let mut w = Writer::with_capacity(ANSWER_LEN + backlog.len() * EVENT_RECORD_LEN + 16);
        w.u8(u8::from(self.granted()))
            .u8(self.refusal.map_or(0, RefusalReason::code))
            .i64(self.lock_time)
            .bytes(self.event.as_bytes())
            // At most MAX_BACKLOG records were taken above.
            .u8(u8::try_from(backlog.len()).unwrap_or(u8::MAX));
        for record in backlog {
            w.bytes(record.as_bytes());
        }
        w.into_vec()
    }

    fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        let granted = r.u8("outcome")?;
        let reason = r.u8("reason")?;
        let refusal = decode_outcome(granted, reason)?;
        let lock_time = r.i64("lock time")?;
        let event = SignedEvent::decode(r.take(EVENT_RECORD_LEN, "event")?)?;
        let count = usize::from(r.u8("backlog count")?);
        if count > MAX_BACKLOG {
            return Err(ProtocolError::TooLong("answer backlog"));
        }
        let backlog = (0..count)
            .map(|_| SignedEvent::decode(r.take(EVENT_RECORD_LEN, "backlog event")?))
            .collect::<Result<Vec<_>, _>>()?;
        r.finish("answer")?;
        Ok(Self {
            refusal,
            lock_time,
            event,
            backlog,
        })
    }

    /// An `Abort` message: the refusal in clear, for a request the lock could not read.
    pub fn encode_abort(reason: RefusalReason, event: &SignedEvent) -> Vec<u8> {
        let mut w = Writer::with_capacity(2 + EVENT_RECORD_LEN);
        w.u8(kind::ABORT).u8(reason.code()).bytes(event.as_bytes());
        w.into_vec()
    }

    /// Decodes an `Abort` message.
    pub fn decode_abort(message: &[u8]) -> Result<(RefusalReason, SignedEvent), ProtocolError> {
        let mut r = Reader::new(message);
        if r.u8("message type")? != kind::ABORT {
            return Err(ProtocolError::UnexpectedMessage("abort"));
        }
        let reason =
            RefusalReason::from_code(r.u8("reason")?).ok_or(ProtocolError::Invalid("reason"))?;
        let event = SignedEvent::decode(r.take(EVENT_RECORD_LEN, "event")?)?;
        r.finish("abort")?;
        Ok((reason, event))
    }
}

fn decode_outcome(granted: u8, reason: u8) -> Result<Option<RefusalReason>, ProtocolError> {
    match (granted, reason) {
        (1, 0) => Ok(None),
        (0, code) => RefusalReason::from_code(code)
            .map(Some)
            .ok_or(ProtocolError::Invalid("reason")),
        _ => Err(ProtocolError::Invalid("outcome")),
    }
}
