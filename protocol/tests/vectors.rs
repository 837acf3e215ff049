//! Test vectors in `protocol/vectors/`, for other implementations (lock firmware, Kotlin,
//! Swift, the Python checker in `bindings/tests/python/test_protocol_vectors.py`) to check
//! themselves against, step by step.
//!
//! Every key, nonce and clock is fixed, so the generator is deterministic: regenerating gives
//! the same bytes. Private scalars are fixed 32-byte values handed to `ring` through its
//! deterministic test random sources (ring imports no raw ECDH key otherwise); ECDSA
//! signatures are made with a fixed random input, so they are reproducible too.
//!
//! `check_committed_vectors` verifies the committed files with this crate and asserts they are
//! exactly what the generator writes. The generator runs on every test run (its output is
//! checked in memory with the same checker); with `KEYWAY_WRITE_VECTORS=1` it also rewrites
//! the files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    deprecated
)]

mod common;

use std::cell::UnsafeCell;
use std::path::PathBuf;

use common::{TestLock, LOCK, NOW, SITE};
use keyway_protocol::credential::SignedCredential;
use keyway_protocol::event::{verify_chain, LockEvent, SignedEvent, GENESIS_HASH};
use keyway_protocol::frame::{fragment, Reassembler, FRAME_VERSION};
use keyway_protocol::handshake::lock::Requester;
use keyway_protocol::handshake::session::{self, SessionKey};
use keyway_protocol::iq_code::{iq_code_at, IQ_CODE_ALPHABET, IQ_CODE_STEP_SECONDS};
use keyway_protocol::mailbox::{MailboxChange, MailboxUpdate, ALL_LOCKS};
use keyway_protocol::message::{kind, Challenge, Request, PROTOCOL_VERSION};
use keyway_protocol::{
    Command, Credential, CredentialFlags, LockHandshake, PhoneHandshake, PhoneOutcome, PublicKey,
    RefusalReason, ScheduleWindow, SigningKey,
};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement::{self, EphemeralPrivateKey};
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use ring::test::rand::{FixedByteRandom, FixedSliceRandom, FixedSliceSequenceRandom};
use serde::{Deserialize, Serialize};

const MTU: usize = 185;
/// The MTUs the framing vector cuts one message at.
const FRAME_MTUS: [usize; 5] = [23, 100, 185, 247, 517];
/// The random input of every ECDSA signature in the vectors (ring hedges its nonce with it).
const SIGNING_RANDOM: FixedByteRandom = FixedByteRandom { byte: 0x5a };

// ---- the files --------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct IqVectors {
    description: String,
    alphabet: String,
    step_seconds: i64,
    secret_hex: String,
    cases: Vec<IqCase>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct IqCase {
    unix_seconds: i64,
    step: u64,
    code: String,
    seconds_left: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct CredentialVector {
    description: String,
    authority_public_key_hex: String,
    credential_hex: String,
    size_bytes: usize,
    fields: CredentialFields,
    /// More credentials signed by the same authority (master key, office mode, several
    /// locks and windows).
    variants: Vec<CredentialCase>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct CredentialCase {
    description: String,
    credential_hex: String,
    size_bytes: usize,
    flags_byte: u8,
    fields: CredentialFields,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct CredentialFields {
    credential_id: u64,
    site_id: u32,
    user_id: u32,
    device_public_key_hex: String,
    lock_ids: Vec<u32>,
    not_before: i64,
    not_after: i64,
    revocation_epoch: u32,
    master_key: bool,
    privacy_override: bool,
    office_mode: bool,
    schedule: Vec<WindowFields>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct WindowFields {
    days: u8,
    start_minute: u16,
    end_minute: u16,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct KeyVector {
    private_scalar_hex: String,
    pkcs8_hex: String,
    public_key_hex: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct KeySet {
    authority: KeyVector,
    device: KeyVector,
    lock: KeyVector,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct HandshakeVectors {
    description: String,
    mtu: usize,
    site_id: u32,
    lock_id: u32,
    utc_offset_minutes: i32,
    keys: KeySet,
    cases: Vec<HandshakeCase>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct HandshakeCase {
    name: String,
    description: String,
    /// The lock's clock when it issued the challenge and when it decided.
    lock_time: i64,
    command: u8,
    credential_hex: String,
    mailbox_hex: Vec<String>,
    lock_nonce_hex: String,
    lock_ephemeral_private_hex: String,
    lock_ephemeral_public_hex: String,
    phone_ephemeral_private_hex: String,
    phone_ephemeral_public_hex: String,
    challenge_hex: String,
    challenge_fragments_hex: Vec<String>,
    /// What the device key signed (label, challenge, request without signature).
    signing_transcript_hex: String,
    device_signature_hex: String,
    /// The request as sent to the lock (for the abort case: cut short, so unreadable).
    request_hex: String,
    request_fragments_hex: Vec<String>,
    /// `"response"` (sealed) or `"abort"` (clear).
    answer_kind: String,
    ecdh_shared_secret_hex: Option<String>,
    transcript_hash_hex: Option<String>,
    hkdf_info_hex: Option<String>,
    session_key_hex: Option<String>,
    aead_nonce_hex: Option<String>,
    aead_aad_hex: Option<String>,
    response_plaintext_hex: Option<String>,
    answer_hex: String,
    answer_fragments_hex: Vec<String>,
    granted: bool,
    reason: u8,
    event_hex: String,
    backlog_hex: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct EventVectors {
    description: String,
    lock_id: u32,
    lock_public_key_hex: String,
    records: Vec<EventCase>,
    head_seq: u64,
    head_hash_hex: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct EventCase {
    record_hex: String,
    signed_message_hex: String,
    hash_hex: String,
    seq: u64,
    time: i64,
    user_id: u32,
    credential_id: u64,
    command: u8,
    outcome: u8,
    reason: u8,
    prev_hash_hex: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct MailboxVectors {
    description: String,
    authority_public_key_hex: String,
    updates: Vec<MailboxCase>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct MailboxCase {
    description: String,
    update_hex: String,
    signed_message_hex: String,
    site_id: u32,
    lock_id: u32,
    serial: u32,
    kind: u8,
    denied_credential_ids: Vec<u64>,
    epoch: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct FrameVectors {
    description: String,
    frame_version: u8,
    message_hex: String,
    cases: Vec<FrameCase>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct FrameCase {
    mtu: usize,
    fragments_hex: Vec<String>,
}

// ---- helpers ----------------------------------------------------------------------------

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn h(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn unh(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn fragments_hex_at(message: &[u8], mtu: usize) -> Vec<String> {
    fragment(message, mtu)
        .unwrap()
        .iter()
        .map(|f| h(f))
        .collect()
}

fn fragments_hex(message: &[u8]) -> Vec<String> {
    fragments_hex_at(message, MTU)
}

/// A fixed 32-byte value named by a label (SHA-256 of it): a valid P-256 scalar for every
/// label used here (the generator checks ring accepts it).
fn fixed(label: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, label.as_bytes()).as_ref());
    out
}

/// The ECDH key with this private scalar.
fn ecdh_key(scalar: &[u8]) -> EphemeralPrivateKey {
    EphemeralPrivateKey::generate(&agreement::ECDH_P256, &FixedSliceRandom { bytes: scalar })
        .unwrap()
}

fn ecdh_public(scalar: &[u8]) -> [u8; 65] {
    ecdh_key(scalar)
        .compute_public_key()
        .unwrap()
        .as_ref()
        .try_into()
        .unwrap()
}

/// A signing key with a fixed private scalar, and its vector.
fn signing_key(label: &str) -> (SigningKey, KeyVector) {
    let scalar = fixed(label);
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &FixedSliceRandom { bytes: &scalar },
    )
    .unwrap();
    let key = SigningKey::from_pkcs8(pkcs8.as_ref(), &SIGNING_RANDOM).unwrap();
    let vector = KeyVector {
        private_scalar_hex: h(&scalar),
        pkcs8_hex: h(pkcs8.as_ref()),
        public_key_hex: h(key.public_key().as_bytes()),
    };
    (key, vector)
}

fn key_from(vector: &KeyVector) -> PublicKey {
    let key = SigningKey::from_pkcs8(&unh(&vector.pkcs8_hex), &SIGNING_RANDOM)
        .unwrap()
        .public_key();
    assert_eq!(h(key.as_bytes()), vector.public_key_hex);
    // The scalar is the key in the PKCS#8 document: its public point is the same.
    assert_eq!(
        h(&ecdh_public(&unh(&vector.private_scalar_hex))),
        vector.public_key_hex
    );
    key
}

struct Keys {
    authority: SigningKey,
    device: SigningKey,
    lock: SigningKey,
    set: KeySet,
}

fn fixed_keys() -> Keys {
    let (authority, a) = signing_key("keyway test vector: site authority key");
    let (device, d) = signing_key("keyway test vector: device key");
    let (lock, l) = signing_key("keyway test vector: lock key");
    Keys {
        authority,
        device,
        lock,
        set: KeySet {
            authority: a,
            device: d,
            lock: l,
        },
    }
}

/// The plain key every unlock vector uses unless it needs more rights: no windows, no flags.
fn plain_credential(keys: &Keys) -> Credential {
    Credential {
        credential_id: 555,
        site_id: SITE,
        user_id: 42,
        device_key: keys.device.public_key(),
        lock_ids: vec![LOCK],
        not_before: NOW - 3600,
        not_after: NOW + 3600,
        schedule: Vec::new(),
        flags: CredentialFlags::default(),
        revocation_epoch: 0,
    }
}

/// A master key with the office-mode right, issued in epoch 2, whose one window (Monday to
/// Friday 08:00–10:00 local) the vectors' lock time lies outside.
fn master_credential(keys: &Keys) -> Credential {
    Credential {
        credential_id: 556,
        user_id: 43,
        schedule: vec![ScheduleWindow::new(0b0001_1111, 8 * 60, 10 * 60).unwrap()],
        flags: CredentialFlags {
            master_key: true,
            office_mode: true,
            privacy_override: false,
            offline_access: false,
        },
        revocation_epoch: 2,
        ..plain_credential(keys)
    }
}

fn sign_credential(keys: &Keys, credential: &Credential) -> SignedCredential {
    credential.sign(&keys.authority, &SIGNING_RANDOM).unwrap()
}

fn mailbox_updates(keys: &Keys) -> Vec<(String, MailboxUpdate)> {
    vec![
        (
            "Deny credentials 900 and 901 at lock 1001".into(),
            MailboxUpdate {
                site_id: SITE,
                lock_id: LOCK,
                serial: 5,
                change: MailboxChange::DenyCredentials(vec![900, 901]),
            },
        ),
        (
            "Raise the revocation epoch to 2 at every lock of site 7".into(),
            MailboxUpdate {
                site_id: SITE,
                lock_id: ALL_LOCKS,
                serial: 6,
                change: MailboxChange::RaiseEpoch(2),
            },
        ),
    ]
    .into_iter()
    .inspect(|(_, update)| assert!(update.sign(&keys.authority, &SIGNING_RANDOM).is_ok()))
    .collect()
}

/// The lock's log: signs each record and links it to the one before.
struct Log<'a> {
    key: &'a SigningKey,
    records: Vec<SignedEvent>,
}

impl Log<'_> {
    fn record(&mut self, time: i64, requester: Requester, refusal: Option<RefusalReason>) {
        let (seq, prev_hash) = self
            .records
            .last()
            .map_or((1, GENESIS_HASH), |r| (r.event().seq + 1, r.hash()));
        let event = LockEvent {
            lock_id: LOCK,
            seq,
            time,
            user_id: requester.user_id,
            credential_id: requester.credential_id,
            command: requester.command,
            refusal,
            prev_hash,
        };
        self.records
            .push(event.sign(self.key, &SIGNING_RANDOM).unwrap());
    }

    fn last(&self) -> SignedEvent {
        self.records.last().unwrap().clone()
    }
}

// ---- generation -------------------------------------------------------------------------

fn generate_iq() -> IqVectors {
    let secret = b"keyway-iq-code-test-secret-32by!";
    let times = [
        0,
        29,
        30,
        1_796_040_000,
        1_796_040_029,
        1_796_040_031,
        4_102_444_800,
    ];
    IqVectors {
        description: "IQ code: HMAC-SHA256(secret, 'KEYWAY-IQ-CODE-V1' || step u64 BE), first 25 bits as five 5-bit alphabet indexes, most significant first".into(),
        alphabet: String::from_utf8(IQ_CODE_ALPHABET.to_vec()).unwrap(),
        step_seconds: IQ_CODE_STEP_SECONDS,
        secret_hex: h(secret),
        cases: times
            .iter()
            .map(|&t| {
                let code = iq_code_at(secret, t).unwrap();
                IqCase { unix_seconds: t, step: code.step, code: code.code, seconds_left: code.seconds_left }
            })
            .collect(),
    }
}

fn credential_case(description: &str, signed: &SignedCredential) -> CredentialCase {
    CredentialCase {
        description: description.into(),
        credential_hex: h(signed.as_bytes()),
        size_bytes: signed.as_bytes().len(),
        flags_byte: signed.as_bytes()[1],
        fields: fields_of(signed),
    }
}

fn generate_credential(keys: &Keys) -> CredentialVector {
    let mut credential = plain_credential(keys);
    credential.schedule = vec![ScheduleWindow::new(0b0001_1111, 8 * 60, 18 * 60).unwrap()];
    credential.flags.privacy_override = true;
    credential.revocation_epoch = 2;
    let signed = sign_credential(keys, &credential);
    let master = sign_credential(keys, &master_credential(keys));
    let mut everything = plain_credential(keys);
    everything.credential_id = 0x0102_0304_0506_0708;
    everything.user_id = 0x0a0b_0c0d;
    everything.lock_ids = vec![LOCK, 1002, 0xdead_beef];
    everything.schedule = vec![
        ScheduleWindow::new(0b0110_0000, 0, 24 * 60).unwrap(),
        ScheduleWindow::new(0b0000_0001, 7 * 60 + 30, 12 * 60 + 15).unwrap(),
    ];
    everything.flags = CredentialFlags {
        master_key: true,
        privacy_override: true,
        office_mode: true,
        offline_access: false,
    };
    everything.not_before = -1;
    everything.revocation_epoch = 0xffff_fffe;
    let everything = sign_credential(keys, &everything);
    CredentialVector {
        description: "Single-lock credential, version 1, one weekday window, privacy override"
            .into(),
        authority_public_key_hex: h(keys.authority.public_key().as_bytes()),
        credential_hex: h(signed.as_bytes()),
        size_bytes: signed.as_bytes().len(),
        fields: fields_of(&signed),
        variants: vec![
            credential_case(
                "Plain single-lock key: no flags, no windows (the handshake vectors' key)",
                &sign_credential(keys, &plain_credential(keys)),
            ),
            credential_case(
                "Master key with the office-mode right (flags 0x05), one window Mon-Fri 08:00-10:00",
                &master,
            ),
            credential_case(
                "Every flag (0x07), three locks, a weekend all-day window and a Monday morning window, not_before -1",
                &everything,
            ),
        ],
    }
}

fn fields_of(signed: &SignedCredential) -> CredentialFields {
    let c = signed.credential();
    CredentialFields {
        credential_id: c.credential_id,
        site_id: c.site_id,
        user_id: c.user_id,
        device_public_key_hex: h(c.device_key.as_bytes()),
        lock_ids: c.lock_ids.clone(),
        not_before: c.not_before,
        not_after: c.not_after,
        revocation_epoch: c.revocation_epoch,
        master_key: c.flags.master_key,
        privacy_override: c.flags.privacy_override,
        office_mode: c.flags.office_mode,
        schedule: c
            .schedule
            .iter()
            .map(|w| WindowFields {
                days: w.days,
                start_minute: w.start_minute,
                end_minute: w.end_minute,
            })
            .collect(),
    }
}

/// One session between the real phone and lock state machines, with fixed randomness.
struct Session<'a> {
    name: &'a str,
    description: &'a str,
    time: i64,
    command: Command,
    credential: &'a SignedCredential,
    mailbox: Vec<Vec<u8>>,
    /// Cut the request short by one byte before the lock reads it (so it answers `Abort`).
    truncate_request: bool,
    /// Earlier records whose answers never reached a phone.
    backlog: Vec<SignedEvent>,
}

fn run_session(
    s: Session<'_>,
    keys: &Keys,
    lock: &mut TestLock,
    log: &mut Log<'_>,
) -> HandshakeCase {
    let nonce_full = fixed(&format!("keyway test vector: {} lock nonce", s.name));
    let nonce = &nonce_full[..16];
    let lock_scalar = fixed(&format!("keyway test vector: {} lock ephemeral", s.name));
    let phone_scalar = fixed(&format!("keyway test vector: {} phone ephemeral", s.name));
    lock.now = s.time;
    let lock_random = FixedSliceSequenceRandom {
        bytes: &[nonce, &lock_scalar],
        current: UnsafeCell::new(0),
    };
    let (mut lock_side, challenge) = LockHandshake::start(LOCK, s.time, &lock_random).unwrap();
    drop(lock_random); // asserts both values were used, in this order

    let mut phone = PhoneHandshake::new(
        s.credential.as_bytes().to_vec(),
        s.command,
        s.mailbox.clone(),
    );
    let transcript = phone
        .on_challenge(
            &challenge,
            &FixedSliceRandom {
                bytes: &phone_scalar,
            },
        )
        .unwrap();
    let signature = keys.device.sign(&transcript, &SIGNING_RANDOM).unwrap();
    let full_request = phone.request(&signature).unwrap();
    let request = if s.truncate_request {
        full_request[..full_request.len() - 1].to_vec()
    } else {
        full_request.clone()
    };

    let verdict = lock_side.on_request(&request, lock);
    log.record(s.time, verdict.requester, verdict.decision.err());
    let event = log.last();
    let answer = verdict.answer(s.time, &event, &s.backlog).unwrap();

    let (sealed_fields, plaintext) = if verdict.is_sealed() {
        let shared = session::ecdh(ecdh_key(&phone_scalar), &ecdh_public(&lock_scalar)).unwrap();
        let hash = session::transcript_hash(&challenge, &full_request);
        let key = session::derive_session_key(&shared, nonce.try_into().unwrap(), &hash).unwrap();
        let aad = [kind::RESPONSE, PROTOCOL_VERSION];
        let plaintext = open_raw(&key, &aad, &answer[1..]);
        let info = [b"KEYWAY-SESSION-KEY-V1".as_slice(), &hash].concat();
        (
            Some((h(&shared), h(&hash), h(&info), h(&key), h(&aad))),
            Some(h(&plaintext)),
        )
    } else {
        (None, None)
    };
    // The phone's state machine reads the answer the same way.
    let outcome = phone.on_answer(&answer).unwrap();
    let (granted, reason) = match &outcome {
        PhoneOutcome::Answer(a) => (a.granted(), a.refusal.map_or(0, RefusalReason::code)),
        PhoneOutcome::Aborted { reason, .. } => (false, reason.code()),
    };
    assert_eq!(
        verdict.decision.err().map_or(0, RefusalReason::code),
        reason
    );
    let (shared, hash, info, key, aad) = match sealed_fields {
        Some((a, b, c, d, e)) => (Some(a), Some(b), Some(c), Some(d), Some(e)),
        None => (None, None, None, None, None),
    };
    HandshakeCase {
        name: s.name.into(),
        description: s.description.into(),
        lock_time: s.time,
        command: s.command.code(),
        credential_hex: h(s.credential.as_bytes()),
        mailbox_hex: s.mailbox.iter().map(|m| h(m)).collect(),
        lock_nonce_hex: h(nonce),
        lock_ephemeral_private_hex: h(&lock_scalar),
        lock_ephemeral_public_hex: h(&ecdh_public(&lock_scalar)),
        phone_ephemeral_private_hex: h(&phone_scalar),
        phone_ephemeral_public_hex: h(&ecdh_public(&phone_scalar)),
        challenge_fragments_hex: fragments_hex(&challenge),
        challenge_hex: h(&challenge),
        signing_transcript_hex: h(&transcript),
        device_signature_hex: h(&signature),
        request_fragments_hex: fragments_hex(&request),
        request_hex: h(&request),
        answer_kind: if verdict.is_sealed() {
            "response"
        } else {
            "abort"
        }
        .into(),
        aead_nonce_hex: key.as_ref().map(|_| h(&[0u8; 12])),
        ecdh_shared_secret_hex: shared,
        transcript_hash_hex: hash,
        hkdf_info_hex: info,
        session_key_hex: key,
        aead_aad_hex: aad,
        response_plaintext_hex: plaintext,
        answer_fragments_hex: fragments_hex(&answer),
        answer_hex: h(&answer),
        granted,
        reason,
        event_hex: h(event.as_bytes()),
        backlog_hex: s
            .backlog
            .iter()
            .take(session::MAX_BACKLOG)
            .map(|r| h(r.as_bytes()))
            .collect(),
    }
}

fn open_raw(key: &[u8], aad: &[u8; 2], sealed: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&aead::AES_256_GCM, key).unwrap());
    let mut in_out = sealed.to_vec();
    key.open_in_place(
        Nonce::assume_unique_for_key([0; 12]),
        Aad::from(*aad),
        &mut in_out,
    )
    .unwrap()
    .to_vec()
}

fn session<'a>(
    name: &'a str,
    description: &'a str,
    time: i64,
    command: Command,
    credential: &'a SignedCredential,
) -> Session<'a> {
    Session {
        name,
        description,
        time,
        command,
        credential,
        mailbox: Vec::new(),
        truncate_request: false,
        backlog: Vec::new(),
    }
}

struct Generated {
    iq: IqVectors,
    credential: CredentialVector,
    handshake: HandshakeVectors,
    events: EventVectors,
    mailbox: MailboxVectors,
    frames: FrameVectors,
}

fn generate() -> Generated {
    let keys = fixed_keys();
    let credential = generate_credential(&keys);
    let plain = sign_credential(&keys, &plain_credential(&keys));
    let master = sign_credential(&keys, &master_credential(&keys));
    let updates = mailbox_updates(&keys);
    let update_bytes: Vec<Vec<u8>> = updates
        .iter()
        .map(|(_, u)| u.sign(&keys.authority, &SIGNING_RANDOM).unwrap())
        .collect();
    let mut lock = TestLock::new(keys.authority.public_key());
    let mut log = Log {
        key: &keys.lock,
        records: Vec::new(),
    };
    let mut cases = Vec::new();
    cases.push(run_session(
        session(
            "granted_unlock",
            "Plain key, Unlock, granted: the request takes 2 writes, the answer 1 notification",
            NOW,
            Command::Unlock,
            &plain,
        ),
        &keys,
        &mut lock,
        &mut log,
    ));
    cases.push(run_session(
        session(
            "refused_office_mode",
            "Plain key asks OfficeModeOn without the right: sealed refusal CommandNotAllowed (14)",
            NOW + 60,
            Command::OfficeModeOn,
            &plain,
        ),
        &keys,
        &mut lock,
        &mut log,
    ));
    cases.push(run_session(
        Session {
            mailbox: update_bytes.clone(),
            ..session(
                "mailbox_master_office_mode",
                "Master key with the office-mode right, outside its window, asks OfficeModeOn and carries two mailbox updates (deny 900, 901; epoch 2): granted; the request takes 3 writes",
                NOW + 120,
                Command::OfficeModeOn,
                &master,
            )
        },
        &keys,
        &mut lock,
        &mut log,
    ));
    // Two sessions whose answers never reached a phone: the lock keeps their records.
    let requester = Requester {
        user_id: 43,
        credential_id: 556,
        command: Command::Unlock.code(),
    };
    log.record(NOW + 180, requester, None);
    log.record(
        NOW + 190,
        Requester {
            command: Command::OfficeModeOff.code(),
            ..requester
        },
        None,
    );
    let backlog = log.records[log.records.len() - 2..].to_vec();
    cases.push(run_session(
        Session {
            backlog,
            ..session(
                "granted_with_backlog",
                "Master key, Unlock, granted; the answer carries the two earlier records (seq 4 and 5) whose answers were lost: 424 bytes, 3 notifications at MTU 185",
                NOW + 240,
                Command::Unlock,
                &master,
            )
        },
        &keys,
        &mut lock,
        &mut log,
    ));
    cases.push(run_session(
        Session {
            truncate_request: true,
            ..session(
                "abort_malformed",
                "The request arrives one byte short: the lock cannot read it and answers a clear Abort, MalformedFrame (1); the event names nobody",
                NOW + 300,
                Command::Unlock,
                &plain,
            )
        },
        &keys,
        &mut lock,
        &mut log,
    ));

    let backlog_answer = unh(&cases[3].answer_hex);
    let frames = FrameVectors {
        description: "The granted_with_backlog answer (424 bytes) cut into frames at several ATT MTUs: one frame per write or notification".into(),
        frame_version: FRAME_VERSION,
        message_hex: h(&backlog_answer),
        cases: FRAME_MTUS
            .iter()
            .map(|&mtu| FrameCase {
                mtu,
                fragments_hex: fragments_hex_at(&backlog_answer, mtu),
            })
            .collect(),
    };
    let head = log.last();
    let events = EventVectors {
        description: "Lock 1001's log after the handshake vectors: seven records, one hash chain from the genesis hash".into(),
        lock_id: LOCK,
        lock_public_key_hex: h(keys.lock.public_key().as_bytes()),
        records: log.records.iter().map(event_case).collect(),
        head_seq: head.event().seq,
        head_hash_hex: h(&head.hash()),
    };
    let mailbox = MailboxVectors {
        description:
            "Cloud-signed mailbox updates (version 1), as carried by mailbox_master_office_mode"
                .into(),
        authority_public_key_hex: h(keys.authority.public_key().as_bytes()),
        updates: updates
            .iter()
            .zip(&update_bytes)
            .map(|((description, update), bytes)| mailbox_case(description, update, bytes))
            .collect(),
    };
    let handshake = HandshakeVectors {
        description: "Sessions between the phone and lock 1001 of site 7 (UTC offset +60 min) at MTU 185, in order, on one lock: each session's event continues the same chain".into(),
        mtu: MTU,
        site_id: SITE,
        lock_id: LOCK,
        utc_offset_minutes: 60,
        keys: keys.set,
        cases,
    };
    Generated {
        iq: generate_iq(),
        credential,
        handshake,
        events,
        mailbox,
        frames,
    }
}

fn event_case(record: &SignedEvent) -> EventCase {
    let e = record.event();
    let bytes = record.as_bytes();
    EventCase {
        record_hex: h(bytes),
        signed_message_hex: h(&[b"KEYWAY-EVENT-V1".as_slice(), &bytes[..68]].concat()),
        hash_hex: h(&record.hash()),
        seq: e.seq,
        time: e.time,
        user_id: e.user_id,
        credential_id: e.credential_id,
        command: e.command,
        outcome: u8::from(e.refusal.is_none()),
        reason: e.refusal.map_or(0, RefusalReason::code),
        prev_hash_hex: h(&e.prev_hash),
    }
}

fn mailbox_case(description: &str, update: &MailboxUpdate, bytes: &[u8]) -> MailboxCase {
    let (kind, denied, epoch) = match &update.change {
        MailboxChange::DenyCredentials(ids) => (1, ids.clone(), None),
        MailboxChange::RaiseEpoch(epoch) => (2, Vec::new(), Some(*epoch)),
    };
    MailboxCase {
        description: description.into(),
        update_hex: h(bytes),
        signed_message_hex: h(
            &[b"KEYWAY-MAILBOX-V1".as_slice(), &bytes[..bytes.len() - 64]].concat(),
        ),
        site_id: update.site_id,
        lock_id: update.lock_id,
        serial: update.serial,
        kind,
        denied_credential_ids: denied,
        epoch,
    }
}

// ---- checking ---------------------------------------------------------------------------

fn check_iq(vectors: &IqVectors) {
    assert_eq!(vectors.alphabet.as_bytes(), IQ_CODE_ALPHABET);
    assert_eq!(vectors.step_seconds, IQ_CODE_STEP_SECONDS);
    let secret = unh(&vectors.secret_hex);
    assert!(!vectors.cases.is_empty());
    for case in &vectors.cases {
        let code = iq_code_at(&secret, case.unix_seconds).unwrap();
        assert_eq!(
            (code.step, code.code.as_str(), code.seconds_left),
            (case.step, case.code.as_str(), case.seconds_left)
        );
    }
}

fn check_one_credential(authority: &PublicKey, hex: &str, size: usize, fields: &CredentialFields) {
    let bytes = unh(hex);
    assert_eq!(bytes.len(), size);
    let signed = SignedCredential::decode_verified(&bytes, authority).unwrap();
    assert_eq!(&fields_of(&signed), fields);
}

fn check_credential(vector: &CredentialVector) {
    let authority = PublicKey::from_bytes(&unh(&vector.authority_public_key_hex)).unwrap();
    assert!(vector.size_bytes <= 200);
    check_one_credential(
        &authority,
        &vector.credential_hex,
        vector.size_bytes,
        &vector.fields,
    );
    assert!(vector.variants.iter().any(|v| v.fields.master_key));
    assert!(vector.variants.iter().any(|v| v.fields.office_mode));
    for v in &vector.variants {
        check_one_credential(&authority, &v.credential_hex, v.size_bytes, &v.fields);
        let flags = u8::from(v.fields.master_key)
            | u8::from(v.fields.privacy_override) << 1
            | u8::from(v.fields.office_mode) << 2;
        assert_eq!(v.flags_byte, flags);
        assert_eq!(unh(&v.credential_hex)[1], flags);
    }
}

fn check_case(v: &HandshakeVectors, c: &HandshakeCase, authority: &PublicKey, device: &PublicKey) {
    let challenge_bytes = unh(&c.challenge_hex);
    let request_bytes = unh(&c.request_hex);
    let answer_bytes = unh(&c.answer_hex);
    assert_eq!(fragments_hex(&challenge_bytes), c.challenge_fragments_hex);
    assert_eq!(fragments_hex(&request_bytes), c.request_fragments_hex);
    assert_eq!(fragments_hex(&answer_bytes), c.answer_fragments_hex);
    let lock_scalar = unh(&c.lock_ephemeral_private_hex);
    let phone_scalar = unh(&c.phone_ephemeral_private_hex);
    assert_eq!(h(&ecdh_public(&lock_scalar)), c.lock_ephemeral_public_hex);
    assert_eq!(h(&ecdh_public(&phone_scalar)), c.phone_ephemeral_public_hex);

    let challenge = Challenge::decode(&challenge_bytes).unwrap();
    assert_eq!(challenge.lock_id, v.lock_id);
    assert_eq!(h(&challenge.nonce), c.lock_nonce_hex);
    assert_eq!(h(&challenge.ephemeral_key), c.lock_ephemeral_public_hex);
    let credential = SignedCredential::decode_verified(&unh(&c.credential_hex), authority).unwrap();
    assert_eq!(&credential.credential().device_key, device);
    let transcript = unh(&c.signing_transcript_hex);
    assert!(transcript.starts_with(b"KEYWAY-UNLOCK-V1"));
    assert!(device.verify(&transcript, &unh(&c.device_signature_hex)));
    for update in &c.mailbox_hex {
        MailboxUpdate::decode_verified(&unh(update), authority).unwrap();
    }

    if c.answer_kind == "abort" {
        assert!(Request::decode(&request_bytes).is_err());
        let (reason, event) = session::LockAnswer::decode_abort(&answer_bytes).unwrap();
        assert_eq!((false, reason.code()), (c.granted, c.reason));
        assert_eq!(h(event.as_bytes()), c.event_hex);
        assert!(c.session_key_hex.is_none() && c.backlog_hex.is_empty());
        return;
    }
    assert_eq!(c.answer_kind, "response");
    let (request, unsigned_len) = Request::decode(&request_bytes).unwrap();
    assert_eq!(request.echoed_nonce, challenge.nonce);
    assert_eq!(h(&request.ephemeral_key), c.phone_ephemeral_public_hex);
    assert_eq!(request.command.code(), c.command);
    assert_eq!(h(&request.credential), c.credential_hex);
    assert_eq!(
        request.mailbox.iter().map(|m| h(m)).collect::<Vec<_>>(),
        c.mailbox_hex
    );
    assert_eq!(h(&request.signature), c.device_signature_hex);
    let signed_part = &request_bytes[..unsigned_len];
    assert_eq!(
        session::signing_transcript(&challenge_bytes, signed_part),
        transcript
    );
    // ECDH both ways, then the key schedule.
    let shared = session::ecdh(ecdh_key(&phone_scalar), &challenge.ephemeral_key).unwrap();
    let shared_lock = session::ecdh(ecdh_key(&lock_scalar), &request.ephemeral_key).unwrap();
    assert_eq!(shared, shared_lock);
    assert_eq!(Some(h(&shared)), c.ecdh_shared_secret_hex);
    let hash = session::transcript_hash(&challenge_bytes, &request_bytes);
    assert_eq!(Some(h(&hash)), c.transcript_hash_hex);
    assert_eq!(
        Some(h(&[b"KEYWAY-SESSION-KEY-V1".as_slice(), &hash].concat())),
        c.hkdf_info_hex
    );
    let key = session::derive_session_key(&shared, &challenge.nonce, &hash).unwrap();
    assert_eq!(Some(h(&key)), c.session_key_hex);
    assert_eq!(
        c.aead_nonce_hex.as_deref(),
        Some("000000000000000000000000")
    );
    assert_eq!(c.aead_aad_hex.as_deref(), Some("0301"));
    assert_eq!(answer_bytes[0], kind::RESPONSE);
    let plaintext = open_raw(
        &key,
        &[kind::RESPONSE, PROTOCOL_VERSION],
        &answer_bytes[1..],
    );
    assert_eq!(Some(h(&plaintext)), c.response_plaintext_hex);
    let answer = SessionKey::new(&key)
        .unwrap()
        .open_response(&answer_bytes)
        .unwrap();
    assert_eq!(answer.granted(), c.granted);
    assert_eq!(answer.refusal.map_or(0, RefusalReason::code), c.reason);
    assert_eq!(answer.lock_time, c.lock_time);
    assert_eq!(h(answer.event.as_bytes()), c.event_hex);
    assert_eq!(
        answer
            .backlog
            .iter()
            .map(|r| h(r.as_bytes()))
            .collect::<Vec<_>>(),
        c.backlog_hex
    );
}

fn check_handshake(v: &HandshakeVectors) {
    let authority = key_from(&v.keys.authority);
    let device = key_from(&v.keys.device);
    key_from(&v.keys.lock);
    assert_eq!(v.mtu, MTU);
    for c in &v.cases {
        check_case(v, c, &authority, &device);
    }
    let case = |name: &str| v.cases.iter().find(|c| c.name == name).unwrap();
    // The budgets the spec states.
    assert_eq!(case("granted_unlock").request_fragments_hex.len(), 2);
    assert_eq!(case("granted_unlock").answer_fragments_hex.len(), 1);
    assert_eq!(
        case("mailbox_master_office_mode")
            .request_fragments_hex
            .len(),
        3
    );
    assert_eq!(case("granted_with_backlog").backlog_hex.len(), 2);
    assert_eq!(case("granted_with_backlog").answer_fragments_hex.len(), 3);
    assert_eq!(case("refused_office_mode").reason, 14);
    assert_eq!(case("abort_malformed").answer_kind, "abort");
}

fn check_events(v: &EventVectors, handshake: &HandshakeVectors) {
    let lock_key = PublicKey::from_bytes(&unh(&v.lock_public_key_hex)).unwrap();
    assert_eq!(v.lock_public_key_hex, handshake.keys.lock.public_key_hex);
    let records: Vec<SignedEvent> = v
        .records
        .iter()
        .map(|r| SignedEvent::decode(&unh(&r.record_hex)).unwrap())
        .collect();
    for (record, case) in records.iter().zip(&v.records) {
        assert_eq!(event_case(record), *case);
    }
    let head = verify_chain(v.lock_id, &lock_key, (0, GENESIS_HASH), &records).unwrap();
    assert_eq!((head.0, h(&head.1)), (v.head_seq, v.head_hash_hex.clone()));
    // Every record a session answered with, and every backlog record, is in the chain.
    let all: Vec<&str> = v.records.iter().map(|r| r.record_hex.as_str()).collect();
    for c in &handshake.cases {
        assert!(all.contains(&c.event_hex.as_str()));
        assert!(c.backlog_hex.iter().all(|b| all.contains(&b.as_str())));
    }
}

fn check_mailbox(v: &MailboxVectors) {
    let authority = PublicKey::from_bytes(&unh(&v.authority_public_key_hex)).unwrap();
    assert!(!v.updates.is_empty());
    for case in &v.updates {
        let bytes = unh(&case.update_hex);
        let update = MailboxUpdate::decode_verified(&bytes, &authority).unwrap();
        assert_eq!(mailbox_case(&case.description, &update, &bytes), *case);
    }
}

fn check_frames(v: &FrameVectors) {
    assert_eq!(v.frame_version, FRAME_VERSION);
    let message = unh(&v.message_hex);
    for case in &v.cases {
        assert_eq!(fragments_hex_at(&message, case.mtu), case.fragments_hex);
        let mut reassembler = Reassembler::new();
        let mut out = None;
        for f in &case.fragments_hex {
            assert!(unh(f).len() <= case.mtu - 3);
            assert!(out.is_none());
            out = reassembler.push(&unh(f)).unwrap();
        }
        assert_eq!(out, Some(message.clone()));
    }
}

fn check_all(g: &Generated) {
    check_iq(&g.iq);
    check_credential(&g.credential);
    check_handshake(&g.handshake);
    check_events(&g.events, &g.handshake);
    check_mailbox(&g.mailbox);
    check_frames(&g.frames);
}

fn text<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

fn read<T: for<'de> Deserialize<'de>>(name: &str) -> (T, String) {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (serde_json::from_str(&text).unwrap(), text)
}

fn files(g: &Generated) -> [(&'static str, String); 6] {
    [
        ("iq_code.json", text(&g.iq)),
        ("credential.json", text(&g.credential)),
        ("handshake.json", text(&g.handshake)),
        ("events.json", text(&g.events)),
        ("mailbox.json", text(&g.mailbox)),
        ("frames.json", text(&g.frames)),
    ]
}

#[test]
fn generator_output_passes_the_checker() {
    let generated = generate();
    check_all(&generated);
    if std::env::var_os("KEYWAY_WRITE_VECTORS").is_some() {
        for (name, text) in files(&generated) {
            std::fs::write(vectors_dir().join(name), text).unwrap();
        }
    }
}

#[test]
fn the_generator_is_deterministic() {
    let (a, b) = (generate(), generate());
    assert_eq!(files(&a), files(&b));
}

#[test]
fn check_committed_vectors() {
    if std::env::var_os("KEYWAY_WRITE_VECTORS").is_some() {
        return; // the generator is rewriting them in this run; the next run checks them
    }
    let (iq, iq_text) = read("iq_code.json");
    let (credential, credential_text) = read("credential.json");
    let (handshake, handshake_text) = read("handshake.json");
    let (events, events_text) = read("events.json");
    let (mailbox, mailbox_text) = read("mailbox.json");
    let (frames, frames_text) = read("frames.json");
    let committed = Generated {
        iq,
        credential,
        handshake,
        events,
        mailbox,
        frames,
    };
    check_all(&committed);
    // Everything is deterministic: the committed files are exactly what the generator makes.
    let texts = [
        iq_text,
        credential_text,
        handshake_text,
        events_text,
        mailbox_text,
        frames_text,
    ];
    for ((name, want), got) in files(&generate()).iter().zip(&texts) {
        assert_eq!(
            want, got,
            "{name} differs from the generator: rerun with KEYWAY_WRITE_VECTORS=1"
        );
    }
}

#[test]
fn tampered_vectors_fail_the_checker() {
    let fails = |mutate: &dyn Fn(&mut Generated)| {
        let mut g = generate();
        mutate(&mut g);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_all(&g))).is_err()
    };
    assert!(fails(
        &|g| g.handshake.cases[0].session_key_hex = Some(h(&[0u8; 32]))
    ));
    assert!(fails(&|g| g.credential.fields.user_id += 1));
    assert!(fails(&|g| g.events.records[2].time += 1));
    assert!(fails(&|g| g.mailbox.updates[1].epoch = Some(3)));
    assert!(fails(&|g| g.handshake.cases[0]
        .lock_ephemeral_private_hex =
        h(&fixed("another scalar"))));
}
