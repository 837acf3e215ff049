//! The lock side of the handshake: issue a challenge, check a request against everything a
//! real lock enforces, and seal the answer. No I/O, no clock, no storage: those come from the
//! lock through [`LockPolicy`].

use ring::agreement::{self, EphemeralPrivateKey};
use ring::rand::SecureRandom;

use super::session::{self, LockAnswer, SessionKey};
use crate::command::Command;
use crate::credential::SignedCredential;
use crate::event::SignedEvent;
use crate::keys::PublicKey;
use crate::mailbox::MailboxUpdate;
use crate::message::{Challenge, Request, NONCE_LEN};
use crate::refusal::RefusalReason;
use crate::schedule::{schedule_allows, LocalMinute};
use crate::ProtocolError;

/// Seconds a challenge stays answerable on the lock's clock.
pub const CHALLENGE_LIFETIME_SECONDS: i64 = 30;

/// What the handshake needs to know about the lock, and the one thing it may change:
/// the revocation state carried in by mailbox updates.
pub trait LockPolicy {
    /// This lock's id.
    fn lock_id(&self) -> u32;
    /// The site the lock belongs to.
    fn site_id(&self) -> u32;
    /// The site authority public key provisioned at install.
    fn authority_key(&self) -> &PublicKey;
    /// The lock's clock (Unix seconds).
    fn now(&self) -> i64;
    /// The site's offset from UTC, in minutes, for schedules.
    fn utc_offset_minutes(&self) -> i32;
    /// Credentials issued in an epoch below this are refused.
    fn revocation_epoch(&self) -> u32;
    /// Whether this credential id is on the lock's denylist.
    fn is_denied(&self, credential_id: u64) -> bool;
    /// Whether privacy mode is engaged (from inside the room).
    fn privacy_engaged(&self) -> bool;
    /// Whether the lock knows its revocation state is current: always for a standalone lock,
    /// and for one paired with an IQ while the IQ is in reach and confirmed the site's
    /// revocations recently. Keys without offline access open only then.
    fn revocation_fresh(&self) -> bool;
    /// Applies a verified mailbox update addressed to this lock (idempotent: the same update
    /// may arrive again with another phone).
    fn apply_mailbox(&mut self, update: &MailboxUpdate);
}

/// The lock's half of one connection.
pub struct LockHandshake {
    challenge: Challenge,
    challenge_bytes: Vec<u8>,
    issued_at: i64,
    private: Option<EphemeralPrivateKey>,
}

impl std::fmt::Debug for LockHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockHandshake")
            .field("lock_id", &self.challenge.lock_id)
            .field("issued_at", &self.issued_at)
            .field("answered", &self.private.is_none())
            .finish()
    }
}

/// Who asked for what, as far as the lock could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requester {
    /// The credential's user, or 0 if unreadable.
    pub user_id: u32,
    /// The credential id, or 0 if unreadable.
    pub credential_id: u64,
    /// The command code, or 0 if unreadable.
    pub command: u8,
}

/// The lock's decision on a request, and how to answer it.
#[derive(Debug)]
pub struct Verdict {
    /// The command to carry out, or why not.
    pub decision: Result<Command, RefusalReason>,
    /// Who asked, for the event record.
    pub requester: Requester,
    key: Option<SessionKey>,
}

impl Verdict {
    /// Whether the answer will be sealed (and so may carry backlog records).
    pub fn is_sealed(&self) -> bool {
        self.key.is_some()
    }

    /// The answer message once the lock has acted and recorded `event`: sealed when a
    /// session key could be derived (carrying up to `MAX_BACKLOG` earlier records from
    /// `backlog` that never reached a phone), otherwise a clear abort.
    pub fn answer(
        &self,
        lock_time: i64,
        event: &SignedEvent,
        backlog: &[SignedEvent],
    ) -> Result<Vec<u8>, ProtocolError> {
        let refusal = self.decision.err();
        let backlog = backlog.iter().take(session::MAX_BACKLOG).cloned().collect();
        match (&self.key, refusal) {
            (Some(key), _) => key.seal_response(&LockAnswer {
                refusal,
                lock_time,
                event: event.clone(),
                backlog,
            }),
            (None, Some(reason)) => Ok(LockAnswer::encode_abort(reason, event)),
            (None, None) => Err(ProtocolError::Invalid("granted without a session")),
        }
    }
}

impl LockHandshake {
    /// Starts a connection: a fresh nonce and ephemeral key, and the challenge message.
    pub fn start(
        lock_id: u32,
        now: i64,
        rng: &dyn SecureRandom,
    ) -> Result<(Self, Vec<u8>), ProtocolError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce).map_err(|_| ProtocolError::Random)?;
        let private = EphemeralPrivateKey::generate(&agreement::ECDH_P256, rng)
            .map_err(|_| ProtocolError::Random)?;
        let public = private
            .compute_public_key()
            .map_err(|_| ProtocolError::Random)?;
        let ephemeral_key = public
            .as_ref()
            .try_into()
            .map_err(|_| ProtocolError::Key("ephemeral key length"))?;
        let challenge = Challenge {
            lock_id,
            nonce,
            ephemeral_key,
        };
        let challenge_bytes = challenge.encode();
        let message = challenge_bytes.clone();
        Ok((
            Self {
                challenge,
                challenge_bytes,
                issued_at: now,
                private: Some(private),
            },
            message,
        ))
    }

    /// Checks a request message. A challenge answers one request: any later one is a replay.
    pub fn on_request(&mut self, message: &[u8], lock: &mut impl LockPolicy) -> Verdict {
        let refuse = |reason, requester, key| Verdict {
            decision: Err(reason),
            requester,
            key,
        };
        let Some(private) = self.private.take() else {
            return refuse(RefusalReason::Replayed, Requester::default(), None);
        };
        let (request, unsigned_len) = match Request::decode(message) {
            Ok(parsed) => parsed,
            Err(error) => return refuse(malformed_reason(&error), Requester::default(), None),
        };
        let mut requester = Requester {
            command: request.command.code(),
            ..Requester::default()
        };
        let key = match self.session_key(private, &request.ephemeral_key, message) {
            Ok(key) => key,
            Err(_) => return refuse(RefusalReason::MalformedFrame, requester, None),
        };
        let credential = match SignedCredential::decode(&request.credential) {
            Ok(credential) => credential,
            Err(error) => return refuse(malformed_reason(&error), requester, Some(key)),
        };
        // The ids are only the credential's claims until its signature verifies: the event
        // names a person only then.
        let authentic = credential.verify(lock.authority_key());
        if authentic {
            requester.user_id = credential.credential().user_id;
            requester.credential_id = credential.credential().credential_id;
        }
        let unsigned = message.get(..unsigned_len).unwrap_or_default();
        let decision = self
            .check(&request, unsigned, &credential, authentic, lock)
            .map(|()| request.command);
        Verdict {
            decision,
            requester,
            key: Some(key),
        }
    }

    fn session_key(
        &self,
        private: EphemeralPrivateKey,
        phone_ephemeral_key: &[u8],
        message: &[u8],
    ) -> Result<SessionKey, ProtocolError> {
        let shared = session::ecdh(private, phone_ephemeral_key)?;
        let hash = session::transcript_hash(&self.challenge_bytes, message);
        SessionKey::new(&session::derive_session_key(
            &shared,
            &self.challenge.nonce,
            &hash,
        )?)
    }

    fn check(
        &self,
        request: &Request,
        unsigned: &[u8],
        signed: &SignedCredential,
        authentic: bool,
        lock: &mut impl LockPolicy,
    ) -> Result<(), RefusalReason> {
        let now = lock.now();
        if request.echoed_nonce != self.challenge.nonce {
            return Err(RefusalReason::Replayed);
        }
        // A clock that went backwards since the challenge also makes it stale.
        if !(0..=CHALLENGE_LIFETIME_SECONDS).contains(&now.saturating_sub(self.issued_at)) {
            return Err(RefusalReason::StaleChallenge);
        }
        if !authentic {
            return Err(RefusalReason::BadAuthoritySignature);
        }
        let credential = signed.credential();
        if credential.site_id != lock.site_id() {
            return Err(RefusalReason::WrongSite);
        }
        let transcript = session::signing_transcript(&self.challenge_bytes, unsigned);
        if !credential
            .device_key
            .verify(&transcript, &request.signature)
        {
            return Err(RefusalReason::BadDeviceSignature);
        }
        apply_mailbox(&request.mailbox, lock)?;
        if !credential.covers_lock(lock.lock_id()) {
            return Err(RefusalReason::NotInScope);
        }
        if credential.revocation_epoch < lock.revocation_epoch()
            || lock.is_denied(credential.credential_id)
        {
            return Err(RefusalReason::Revoked);
        }
        if !credential.flags.offline_access && !lock.revocation_fresh() {
            return Err(RefusalReason::RevocationStale);
        }
        if now < credential.not_before {
            return Err(RefusalReason::NotYetValid);
        }
        if now >= credential.not_after {
            return Err(RefusalReason::Expired);
        }
        let local = LocalMinute::from_unix(now, lock.utc_offset_minutes());
        if !credential.flags.master_key && !schedule_allows(&credential.schedule, local) {
            return Err(RefusalReason::OutsideSchedule);
        }
        if request.command.is_office_mode() && !credential.flags.office_mode {
            return Err(RefusalReason::CommandNotAllowed);
        }
        if lock.privacy_engaged() && !credential.flags.privacy_override {
            return Err(RefusalReason::PrivacyMode);
        }
        Ok(())
    }
}

/// Verifies every carried update before applying any: a forged or garbled one refuses the
/// request. Updates of a newer format version are skipped, so an old lock still opens for a
/// phone carrying them. Updates are idempotent (denylist additions, epoch raises), so every
/// verified one addressed to this lock is applied, in whatever order phones bring them.
fn apply_mailbox(updates: &[Vec<u8>], lock: &mut impl LockPolicy) -> Result<(), RefusalReason> {
    let mut verified = Vec::with_capacity(updates.len());
    for bytes in updates {
        match MailboxUpdate::decode_verified(bytes, lock.authority_key()) {
            Ok(update) => verified.push(update),
            Err(ProtocolError::UnsupportedVersion { .. }) => {}
            Err(_) => return Err(RefusalReason::BadMailboxSignature),
        }
    }
    let (site_id, lock_id) = (lock.site_id(), lock.lock_id());
    for update in verified.iter().filter(|u| u.addresses(site_id, lock_id)) {
        lock.apply_mailbox(update);
    }
    Ok(())
}

fn malformed_reason(error: &ProtocolError) -> RefusalReason {
    match error {
        ProtocolError::UnsupportedVersion { .. } => RefusalReason::UnsupportedVersion,
        _ => RefusalReason::MalformedFrame,
    }
}
