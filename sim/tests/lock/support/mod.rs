//! A test site: a site authority, one simulated lock behind a zero-latency link, and a phone
//! built on `PhoneHandshake` with a software device key. Helpers assert what a user or an
//! attacker would notice: whether the lock opened, and what it logged.

// Helpers run outside `#[test]` functions, where clippy's test allowances do not reach.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use keyway_protocol::event::{verify_chain, GENESIS_HASH};
use keyway_protocol::frame::{self, Reassembler};
use keyway_protocol::iq::keypad::keypad_verifier;
use keyway_protocol::iq::{KeypadEntry, KeypadTable};
use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate};
use keyway_protocol::tag::{TagEntry, TagFlags, TagList, TagListKind};
use keyway_protocol::{
    Command, Credential, CredentialFlags, LockAnswer, LockSettings, PhoneHandshake, PhoneOutcome,
    RefusalReason, ScheduleWindow, SignedEvent, SigningKey,
};
use keyway_sim::lock::DEFAULT_OFFLINE_CAPACITY;
use keyway_sim::{LinkConfig, LinkSession, LockConfig, SimulatedLink, SimulatedLock, SimulatedTag};
use ring::rand::SystemRandom;

pub const SITE_ID: u32 = 7;
pub const LOCK_ID: u32 = 1001;
pub const CREDENTIAL_ID: u64 = 0x5eed;
pub const USER_ID: u32 = 42;
/// Monday 2026-11-30, 10:00 UTC.
pub const MONDAY_10_UTC: i64 = 1_796_032_800;
pub const DAY: i64 = 86_400;
/// Monday to Friday, 08:00 to 18:00 site time.
pub const OFFICE_HOURS: ScheduleWindow = ScheduleWindow {
    days: 0b0001_1111,
    start_minute: 8 * 60,
    end_minute: 18 * 60,
};

/// Zero latency: tests assert behaviour, not time.
pub fn instant_link() -> LinkConfig {
    LinkConfig {
        connect_latency: Duration::ZERO,
        packet_latency: Duration::ZERO,
        ..LinkConfig::default()
    }
}

pub struct Site {
    pub rng: SystemRandom,
    pub authority: SigningKey,
    /// The legitimate phone's device key.
    pub device: SigningKey,
    pub lock: Arc<Mutex<SimulatedLock>>,
    pub link: SimulatedLink,
}

/// What the lock showed before an attempt.
#[derive(Debug, Clone, Copy)]
pub struct Before {
    unlock_count: u64,
    events: usize,
}

impl Before {
    /// How many records the lock had logged.
    pub fn events(&self) -> usize {
        self.events
    }
}

impl Site {
    /// A site whose lock runs on UTC, set to Monday 10:00.
    pub fn new() -> Self {
        Self::build(0, Duration::ZERO, instant_link())
    }

    pub fn build(utc_offset_minutes: i32, actuation: Duration, link: LinkConfig) -> Self {
        Self::build_lock(
            utc_offset_minutes,
            actuation,
            link,
            false,
            DEFAULT_OFFLINE_CAPACITY,
        )
    }

    /// A site whose lock is paired with an IQ that has just spoken, cloud connected, and
    /// stores `offline_capacity` offline entries.
    pub fn paired(offline_capacity: usize) -> Self {
        let site = Self::build_lock(0, Duration::ZERO, instant_link(), true, offline_capacity);
        assert!(site.lock().iq_heartbeat(true).unwrap());
        site
    }

    pub fn build_lock(
        utc_offset_minutes: i32,
        actuation: Duration,
        link: LinkConfig,
        paired_with_iq: bool,
        offline_capacity: usize,
    ) -> Self {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (device, _) = SigningKey::generate(&rng).unwrap();
        let mut lock = SimulatedLock::new(LockConfig {
            lock_id: LOCK_ID,
            site_id: SITE_ID,
            authority_key: authority.public_key(),
            utc_offset_minutes,
            actuation,
            paired_with_iq,
            offline_capacity,
        })
        .unwrap();
        lock.clock_mut().set(MONDAY_10_UTC);
        let lock = Arc::new(Mutex::new(lock));
        let link = SimulatedLink::new(Arc::clone(&lock), link);
        Self {
            rng,
            authority,
            device,
            lock,
            link,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, SimulatedLock> {
        self.lock.lock().unwrap()
    }

    /// A key for the legitimate phone: this lock, office hours, valid for a month, epoch 1.
    pub fn credential(&self) -> Credential {
        Credential {
            credential_id: CREDENTIAL_ID,
            site_id: SITE_ID,
            user_id: USER_ID,
            device_key: self.device.public_key(),
            lock_ids: vec![LOCK_ID],
            not_before: MONDAY_10_UTC - DAY,
            not_after: MONDAY_10_UTC + 30 * DAY,
            schedule: vec![OFFICE_HOURS],
            flags: CredentialFlags::default(),
            revocation_epoch: 1,
        }
    }

    /// A key nobody at this site trusts: another site's authority, a thief's phone.
    pub fn stranger_key(&self) -> SigningKey {
        SigningKey::generate(&self.rng).unwrap().0
    }

    /// Signs with this site's authority.
    pub fn sign(&self, credential: &Credential) -> Vec<u8> {
        self.sign_with(&self.authority, credential)
    }

    pub fn sign_with(&self, authority: &SigningKey, credential: &Credential) -> Vec<u8> {
        credential
            .sign(authority, &self.rng)
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    /// A mailbox update for this lock, signed by `authority`.
    pub fn mailbox(&self, authority: &SigningKey, serial: u32, change: MailboxChange) -> Vec<u8> {
        MailboxUpdate {
            site_id: SITE_ID,
            lock_id: LOCK_ID,
            serial,
            change,
        }
        .sign(authority, &self.rng)
        .unwrap()
    }

    /// Hands the lock a keypad table (serial 1) where [`USER_ID`] has `pin` within
    /// `schedule`, as its IQ would.
    pub fn keypad_table(&self, pin: &str, schedule: Vec<ScheduleWindow>) {
        let key = [7u8; 32];
        let table = KeypadTable {
            site_id: SITE_ID,
            lock_id: LOCK_ID,
            serial: 1,
            key,
            entries: vec![KeypadEntry {
                user_id: USER_ID,
                verifier: keypad_verifier(&key, pin),
                privacy_override: false,
                schedule,
            }],
        };
        let bytes = table.sign(&self.authority, &self.rng).unwrap();
        assert!(self.lock().apply_keypad_table(&bytes).unwrap());
    }

    /// A list entry for `tag`, held by [`USER_ID`].
    pub fn tag_entry(
        &self,
        tag: &SimulatedTag,
        flags: TagFlags,
        schedule: Vec<ScheduleWindow>,
    ) -> TagEntry {
        TagEntry {
            tag_id: tag.tag_id(),
            user_id: USER_ID,
            tag_key: tag.public_key(),
            flags,
            schedule,
        }
    }

    /// Signs a tag list for this lock; the lock takes it, as from its IQ.
    pub fn tag_list(&self, kind: TagListKind, serial: u32, entries: Vec<TagEntry>) -> Vec<u8> {
        let list = TagList {
            kind,
            site_id: SITE_ID,
            lock_id: LOCK_ID,
            serial,
            entries,
        };
        list.sign(&self.authority, &self.rng).unwrap()
    }

    /// Hands the lock both tag lists, as its IQ would.
    pub fn tag_lists(&self, serial: u32, online: Vec<TagEntry>, offline: Vec<TagEntry>) {
        let mut lock = self.lock();
        let online = self.tag_list(TagListKind::Online, serial, online);
        assert!(lock.apply_tag_list(&online).unwrap());
        let offline = self.tag_list(TagListKind::Offline, serial, offline);
        assert!(lock.apply_tag_list(&offline).unwrap());
    }

    /// Hands the lock settings (serial taken from `settings`), as its IQ would.
    pub fn settings(&self, settings: LockSettings) {
        let bytes = settings.sign(&self.authority, &self.rng).unwrap();
        assert!(self.lock().apply_settings(&bytes).unwrap());
    }

    /// Connects a phone that will present `credential` for `command`, carrying `mailbox`.
    pub fn connect(&self, credential: Vec<u8>, command: Command, mailbox: Vec<Vec<u8>>) -> Phone {
        Phone::connect(
            &self.link,
            PhoneHandshake::new(credential, command, mailbox),
        )
    }

    /// The whole round trip with the legitimate device key.
    pub fn attempt(
        &self,
        credential: Vec<u8>,
        command: Command,
        mailbox: Vec<Vec<u8>>,
    ) -> PhoneOutcome {
        let mut phone = self.connect(credential, command, mailbox);
        let request = phone.sign(&self.device);
        phone.send(&request)
    }

    pub fn unlock(&self, credential: Vec<u8>) -> PhoneOutcome {
        self.attempt(credential, Command::Unlock, Vec::new())
    }

    pub fn before(&self) -> Before {
        let lock = self.lock();
        Before {
            unlock_count: lock.unlock_count(),
            events: lock.events().len(),
        }
    }

    /// The lock did not open, logged exactly one event with `reason`, and its whole log is a
    /// chain signed by its key.
    pub fn assert_refused(&self, before: Before, reason: RefusalReason) -> SignedEvent {
        let lock = self.lock();
        assert_eq!(lock.unlock_count(), before.unlock_count, "the lock opened");
        let event = self.assert_one_event(&lock, before);
        assert_eq!(event.event().refusal, Some(reason), "logged reason");
        event
    }

    /// The phone was told `reason`, with the very event the lock logged, and the lock did not
    /// open.
    pub fn assert_refusal(&self, before: Before, outcome: &PhoneOutcome, reason: RefusalReason) {
        let (answered, event) = refusal(outcome);
        assert_eq!(answered, Some(reason), "answered reason");
        assert_eq!(
            event,
            &self.assert_refused(before, reason),
            "answered event"
        );
    }

    /// The lock logged exactly one granted event, and its whole log verifies.
    pub fn assert_granted(&self, before: Before) -> SignedEvent {
        let lock = self.lock();
        let event = self.assert_one_event(&lock, before);
        assert_eq!(event.event().refusal, None, "logged refusal");
        event
    }

    fn assert_one_event(&self, lock: &SimulatedLock, before: Before) -> SignedEvent {
        let events = lock.events();
        assert_eq!(events.len(), before.events + 1, "one event per answer");
        let head = verify_chain(LOCK_ID, &lock.public_key(), (0, GENESIS_HASH), events).unwrap();
        assert_eq!(head.0, events.len() as u64);
        events.last().unwrap().clone()
    }
}

/// A phone (or an attacker's radio) on one connection.
pub struct Phone {
    pub session: LinkSession,
    handshake: PhoneHandshake,
    transcript: Vec<u8>,
    rng: SystemRandom,
}

impl Phone {
    /// Connects, takes the challenge, and prepares the transcript to sign.
    pub fn connect(link: &SimulatedLink, mut handshake: PhoneHandshake) -> Self {
        let mut session = link.connect().unwrap();
        let challenge = reassemble(session.notifications());
        let rng = SystemRandom::new();
        let transcript = handshake.on_challenge(&challenge, &rng).unwrap();
        Self {
            session,
            handshake,
            transcript,
            rng,
        }
    }

    /// The request message, signed by `device`.
    pub fn sign(&mut self, device: &SigningKey) -> Vec<u8> {
        let signature = self.signature_by(device);
        self.request_with(&signature)
    }

    /// `device`'s signature over this session's transcript.
    pub fn signature_by(&self, device: &SigningKey) -> Vec<u8> {
        device.sign(&self.transcript, &self.rng).unwrap().to_vec()
    }

    /// The request message with any 64-byte signature.
    pub fn request_with(&mut self, signature: &[u8]) -> Vec<u8> {
        self.handshake.request(signature).unwrap()
    }

    /// The request cut to fragments at this session's MTU.
    pub fn fragments(&self, message: &[u8]) -> Vec<Vec<u8>> {
        frame::fragment(message, self.session.mtu()).unwrap()
    }

    /// Sends a message and opens the lock's answer with this session's key.
    pub fn send(&mut self, message: &[u8]) -> PhoneOutcome {
        let fragments = self.fragments(message);
        let answer = self.write_all(&fragments);
        self.open(&answer)
    }

    /// Writes raw fragments and returns the lock's answer message (sealed or abort).
    pub fn write_all(&mut self, fragments: &[Vec<u8>]) -> Vec<u8> {
        for fragment in fragments {
            self.session.write(fragment).unwrap();
        }
        reassemble(self.session.notifications())
    }

    pub fn open(&mut self, answer: &[u8]) -> PhoneOutcome {
        self.handshake.on_answer(answer).unwrap()
    }
}

pub fn reassemble(fragments: Vec<Vec<u8>>) -> Vec<u8> {
    let mut reassembler = Reassembler::new();
    let mut message = None;
    for fragment in &fragments {
        message = reassembler.push(fragment).unwrap();
    }
    message.expect("a complete message from the lock")
}

/// The phone was let in.
pub fn assert_granted(outcome: &PhoneOutcome) {
    assert_eq!(refusal(outcome).0, None, "refused");
}

/// The reason the lock gave, sealed or in clear, and the event it returned.
pub fn refusal(outcome: &PhoneOutcome) -> (Option<RefusalReason>, &SignedEvent) {
    match outcome {
        PhoneOutcome::Answer(answer) => (answer.refusal, &answer.event),
        PhoneOutcome::Aborted { reason, event } => (Some(*reason), event),
    }
}

/// The lock's clear abort, for answers the attacker's phone cannot relate to a request.
pub fn abort(answer: &[u8]) -> (RefusalReason, SignedEvent) {
    LockAnswer::decode_abort(answer).unwrap()
}

/// Flips one bit of the authority signature (the last 64 bytes of a credential).
pub fn flip_signature_bit(credential: &mut [u8]) {
    let last = credential.len() - 1;
    credential[last - 10] ^= 0x01;
}
