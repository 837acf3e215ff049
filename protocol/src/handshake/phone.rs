//! The phone side of the handshake, as a state machine that does no I/O and holds no key:
//! the app signs the transcript with its device key (Keystore, Secure Enclave, or software).
//!
//! 1. [`PhoneHandshake::new`] with the credential, the command and any mailbox updates.
//! 2. [`PhoneHandshake::on_challenge`] with the lock's challenge: returns the bytes to sign.
//! 3. [`PhoneHandshake::request`] with the signature: returns the request message to send.
//! 4. [`PhoneHandshake::on_answer`] with the lock's response: returns the lock's answer.

use ring::agreement::{self, EphemeralPrivateKey};
use ring::rand::SecureRandom;

use super::session::{self, LockAnswer, SessionKey};
use crate::command::Command;
use crate::keys::{PUBLIC_KEY_LEN, SIGNATURE_LEN};
use crate::message::{kind, Challenge, Request};
use crate::ProtocolError;

struct PendingSignature {
    challenge: Challenge,
    challenge_bytes: Vec<u8>,
    unsigned: Vec<u8>,
    private: EphemeralPrivateKey,
}

enum State {
    AwaitingChallenge,
    AwaitingSignature(Box<PendingSignature>),
    AwaitingAnswer(Box<SessionKey>),
    Done,
}

/// The phone's half of one unlock session.
pub struct PhoneHandshake {
    credential: Vec<u8>,
    command: Command,
    mailbox: Vec<Vec<u8>>,
    state: State,
}

impl std::fmt::Debug for PhoneHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::AwaitingChallenge => "awaiting challenge",
            State::AwaitingSignature(_) => "awaiting signature",
            State::AwaitingAnswer(_) => "awaiting answer",
            State::Done => "done",
        };
        f.debug_struct("PhoneHandshake")
            .field("command", &self.command)
            .field("state", &state)
            .finish()
    }
}

/// What the lock said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneOutcome {
    /// A sealed answer (granted or refused), opened with the session key.
    Answer(LockAnswer),
    /// The lock could not read the request and said why in clear.
    Aborted {
        /// The reason.
        reason: crate::refusal::RefusalReason,
        /// The event the lock recorded.
        event: crate::event::SignedEvent,
    },
}

impl PhoneHandshake {
    /// Prepares a session that will present `credential` and ask for `command`.
    pub fn new(credential: Vec<u8>, command: Command, mailbox: Vec<Vec<u8>>) -> Self {
        Self {
            credential,
            command,
            mailbox,
            state: State::AwaitingChallenge,
        }
    }

    /// Takes the lock's challenge and returns the transcript the device key must sign.
    pub fn on_challenge(
        &mut self,
        message: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, ProtocolError> {
        if !matches!(self.state, State::AwaitingChallenge) {
            return Err(ProtocolError::UnexpectedMessage("challenge"));
        }
        let challenge = Challenge::decode(message)?;
        let private = EphemeralPrivateKey::generate(&agreement::ECDH_P256, rng)
            .map_err(|_| ProtocolError::Random)?;
        let public = private
            .compute_public_key()
            .map_err(|_| ProtocolError::Random)?;
        let ephemeral: [u8; PUBLIC_KEY_LEN] = public
            .as_ref()
            .try_into()
            .map_err(|_| ProtocolError::Key("ephemeral key length"))?;
        let unsigned = Request::encode_unsigned(
            &challenge.nonce,
            &ephemeral,
            self.command,
            &self.credential,
            &self.mailbox,
        )?;
        let to_sign = session::signing_transcript(message, &unsigned);
        self.state = State::AwaitingSignature(Box::new(PendingSignature {
            challenge,
            challenge_bytes: message.to_vec(),
            unsigned,
            private,
        }));
        Ok(to_sign)
    }

    /// The lock id from the challenge, once it arrived.
    pub fn lock_id(&self) -> Option<u32> {
        match &self.state {
            State::AwaitingSignature(pending) => Some(pending.challenge.lock_id),
            _ => None,
        }
    }

    /// Takes the device signature (64 bytes, `r || s`) and returns the request message.
    pub fn request(&mut self, signature: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        if signature.len() != SIGNATURE_LEN {
            return Err(ProtocolError::Invalid("device signature must be 64 bytes"));
        }
        let State::AwaitingSignature(pending) = std::mem::replace(&mut self.state, State::Done)
        else {
            return Err(ProtocolError::UnexpectedMessage(
                "signature before challenge",
            ));
        };
        let PendingSignature {
            challenge,
            challenge_bytes,
            unsigned,
            private,
        } = *pending;
        let request = [unsigned.as_slice(), signature].concat();
        let shared = session::ecdh(private, &challenge.ephemeral_key)?;
        let hash = session::transcript_hash(&challenge_bytes, &request);
        let key = SessionKey::new(&session::derive_session_key(
            &shared,
            &challenge.nonce,
            &hash,
        )?)?;
        self.state = State::AwaitingAnswer(Box::new(key));
        Ok(request)
    }

    /// Takes the lock's response (sealed answer or clear abort).
    pub fn on_answer(&mut self, message: &[u8]) -> Result<PhoneOutcome, ProtocolError> {
        let State::AwaitingAnswer(key) = std::mem::replace(&mut self.state, State::Done) else {
            return Err(ProtocolError::UnexpectedMessage("answer before request"));
        };
        match message.first() {
            Some(&kind::RESPONSE) => key.open_response(message).map(PhoneOutcome::Answer),
            Some(&kind::ABORT) => {
                let (reason, event) = LockAnswer::decode_abort(message)?;
                Ok(PhoneOutcome::Aborted { reason, event })
            }
            _ => Err(ProtocolError::UnexpectedMessage("answer")),
        }
    }
}
