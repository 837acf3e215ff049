//! Test vectors in `protocol/vectors/`, for other implementations (lock firmware, Kotlin,
//! Swift) to check themselves against.
//!
//! `check_committed_vectors` verifies the committed files with this crate. The generator runs
//! on every test run (its output is checked in memory with the same checker); with
//! `KEYWAY_WRITE_VECTORS=1` it also rewrites the files.
//!
//! ring cannot import an ECDH private key, so the handshake vector records the ECDH shared
//! secret; everything after it (HKDF, AES-GCM, signatures, framing) is checked from bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;

use common::{Keys, TestLock, LOCK, NOW};
use keyway_protocol::credential::SignedCredential;
use keyway_protocol::event::{LockEvent, SignedEvent, GENESIS_HASH};
use keyway_protocol::frame::fragment;
use keyway_protocol::handshake::session::{self, SessionKey};
use keyway_protocol::iq_code::{iq_code_at, IQ_CODE_ALPHABET, IQ_CODE_STEP_SECONDS};
use keyway_protocol::message::{Challenge, Request};
use keyway_protocol::{Command, LockHandshake, PublicKey, ScheduleWindow, SigningKey};
use ring::agreement::{self, EphemeralPrivateKey};
use serde::{Deserialize, Serialize};

const MTU: usize = 185;

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

#[derive(Debug, Serialize, Deserialize)]
struct CredentialVector {
    description: String,
    authority_public_key_hex: String,
    credential_hex: String,
    size_bytes: usize,
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

#[derive(Debug, Serialize, Deserialize)]
struct HandshakeVector {
    description: String,
    mtu: usize,
    authority_pkcs8_hex: String,
    device_pkcs8_hex: String,
    lock_pkcs8_hex: String,
    lock_time: i64,
    credential_hex: String,
    challenge_hex: String,
    challenge_fragments_hex: Vec<String>,
    request_hex: String,
    request_fragments_hex: Vec<String>,
    signing_transcript_hex: String,
    transcript_hash_hex: String,
    ecdh_shared_secret_hex: String,
    session_key_hex: String,
    response_hex: String,
    response_fragments_hex: Vec<String>,
    granted: bool,
    event_hex: String,
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn h(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn unh(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn fragments_hex(message: &[u8]) -> Vec<String> {
    fragment(message, MTU)
        .unwrap()
        .iter()
        .map(|f| h(f))
        .collect()
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

fn generate_credential(keys: &Keys) -> CredentialVector {
    let mut credential = keys.credential();
    credential.schedule = vec![ScheduleWindow::new(0b0001_1111, 8 * 60, 18 * 60).unwrap()];
    credential.flags.privacy_override = true;
    credential.revocation_epoch = 2;
    let signed = credential.sign(&keys.authority, &keys.rng).unwrap();
    CredentialVector {
        description: "Single-lock credential, version 1, one weekday window, privacy override"
            .into(),
        authority_public_key_hex: h(keys.authority.public_key().as_bytes()),
        credential_hex: h(signed.as_bytes()),
        size_bytes: signed.as_bytes().len(),
        fields: fields_of(&signed),
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

/// Runs the real lock state machine against a phone built from the public session pieces, so
/// the shared secret can be recorded.
fn generate_handshake() -> HandshakeVector {
    let rng = ring::rand::SystemRandom::new();
    let (authority, authority_pkcs8) = SigningKey::generate(&rng).unwrap();
    let (device, device_pkcs8) = SigningKey::generate(&rng).unwrap();
    let (lock_key, lock_pkcs8) = SigningKey::generate(&rng).unwrap();
    let keys = Keys {
        rng,
        authority,
        device,
        lock: lock_key,
    };
    let credential = keys.credential().sign(&keys.authority, &keys.rng).unwrap();
    let mut lock = TestLock::new(keys.authority.public_key());

    let (mut lock_side, challenge_bytes) = LockHandshake::start(LOCK, NOW, &keys.rng).unwrap();
    let challenge = Challenge::decode(&challenge_bytes).unwrap();
    let phone_private = EphemeralPrivateKey::generate(&agreement::ECDH_P256, &keys.rng).unwrap();
    let phone_public: [u8; 65] = phone_private
        .compute_public_key()
        .unwrap()
        .as_ref()
        .try_into()
        .unwrap();
    let unsigned = Request::encode_unsigned(
        &challenge.nonce,
        &phone_public,
        Command::Unlock,
        credential.as_bytes(),
        &[],
    )
    .unwrap();
    let transcript = session::signing_transcript(&challenge_bytes, &unsigned);
    let signature = keys.device.sign(&transcript, &keys.rng).unwrap();
    let request = [unsigned.as_slice(), &signature].concat();
    let shared = session::ecdh(phone_private, &challenge.ephemeral_key).unwrap();
    let hash = session::transcript_hash(&challenge_bytes, &request);
    let session_key = session::derive_session_key(&shared, &challenge.nonce, &hash).unwrap();

    let verdict = lock_side.on_request(&request, &mut lock);
    assert!(verdict.decision.is_ok(), "{:?}", verdict.decision);
    let event = LockEvent {
        lock_id: LOCK,
        seq: 1,
        time: NOW,
        user_id: verdict.requester.user_id,
        credential_id: verdict.requester.credential_id,
        command: verdict.requester.command,
        refusal: None,
        prev_hash: GENESIS_HASH,
    }
    .sign(&keys.lock, &keys.rng)
    .unwrap();
    let response = verdict.answer(NOW, &event, &[]).unwrap();
    HandshakeVector {
        description: "One granted unlock at MTU 185: lock 1001, site 7, lock clock = lock_time"
            .into(),
        mtu: MTU,
        authority_pkcs8_hex: h(&authority_pkcs8),
        device_pkcs8_hex: h(&device_pkcs8),
        lock_pkcs8_hex: h(&lock_pkcs8),
        lock_time: NOW,
        credential_hex: h(credential.as_bytes()),
        challenge_fragments_hex: fragments_hex(&challenge_bytes),
        challenge_hex: h(&challenge_bytes),
        request_fragments_hex: fragments_hex(&request),
        request_hex: h(&request),
        signing_transcript_hex: h(&transcript),
        transcript_hash_hex: h(&hash),
        ecdh_shared_secret_hex: h(&shared),
        session_key_hex: h(&session_key),
        response_fragments_hex: fragments_hex(&response),
        response_hex: h(&response),
        granted: true,
        event_hex: h(event.as_bytes()),
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

fn check_credential(vector: &CredentialVector) {
    let authority = PublicKey::from_bytes(&unh(&vector.authority_public_key_hex)).unwrap();
    let bytes = unh(&vector.credential_hex);
    assert_eq!(bytes.len(), vector.size_bytes);
    assert!(vector.size_bytes <= 200);
    let signed = SignedCredential::decode_verified(&bytes, &authority).unwrap();
    assert_eq!(fields_of(&signed), vector.fields);
}

fn check_handshake(v: &HandshakeVector) {
    let rng = ring::rand::SystemRandom::new();
    let authority = SigningKey::from_pkcs8(&unh(&v.authority_pkcs8_hex), &rng)
        .unwrap()
        .public_key();
    let device = SigningKey::from_pkcs8(&unh(&v.device_pkcs8_hex), &rng)
        .unwrap()
        .public_key();
    let lock_key = SigningKey::from_pkcs8(&unh(&v.lock_pkcs8_hex), &rng)
        .unwrap()
        .public_key();
    let challenge_bytes = unh(&v.challenge_hex);
    let request_bytes = unh(&v.request_hex);
    let response_bytes = unh(&v.response_hex);
    // Framing is deterministic.
    assert_eq!(fragments_hex(&challenge_bytes), v.challenge_fragments_hex);
    assert_eq!(fragments_hex(&request_bytes), v.request_fragments_hex);
    assert_eq!(fragments_hex(&response_bytes), v.response_fragments_hex);
    assert_eq!(
        v.request_fragments_hex.len(),
        2,
        "the request fits 2 writes at MTU 185"
    );
    // Messages parse; the credential and the device signature verify.
    let challenge = Challenge::decode(&challenge_bytes).unwrap();
    let (request, unsigned_len) = Request::decode(&request_bytes).unwrap();
    assert_eq!(request.echoed_nonce, challenge.nonce);
    let credential = SignedCredential::decode_verified(&request.credential, &authority).unwrap();
    assert_eq!(credential.as_bytes(), unh(&v.credential_hex).as_slice());
    assert_eq!(credential.credential().device_key, device);
    let transcript = session::signing_transcript(&challenge_bytes, &request_bytes[..unsigned_len]);
    assert_eq!(h(&transcript), v.signing_transcript_hex);
    assert!(device.verify(&transcript, &request.signature));
    // Key schedule from the recorded ECDH secret.
    let hash = session::transcript_hash(&challenge_bytes, &request_bytes);
    assert_eq!(h(&hash), v.transcript_hash_hex);
    let shared: [u8; 32] = unh(&v.ecdh_shared_secret_hex).try_into().unwrap();
    let key = session::derive_session_key(&shared, &challenge.nonce, &hash).unwrap();
    assert_eq!(h(&key), v.session_key_hex);
    // The sealed answer opens with it and carries the lock-signed event.
    let answer = SessionKey::new(&key)
        .unwrap()
        .open_response(&response_bytes)
        .unwrap();
    assert_eq!(answer.granted(), v.granted);
    assert_eq!(answer.lock_time, v.lock_time);
    assert_eq!(h(answer.event.as_bytes()), v.event_hex);
    let event = SignedEvent::decode(&unh(&v.event_hex)).unwrap();
    assert!(event.verify(&lock_key));
    assert_eq!(event.event().prev_hash, GENESIS_HASH);
}

fn read<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn write<T: Serialize>(name: &str, value: &T) {
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    std::fs::write(vectors_dir().join(name), text).unwrap();
}

#[test]
fn generator_output_passes_the_checker() {
    let keys = Keys::new();
    let (iq, credential, handshake) = (
        generate_iq(),
        generate_credential(&keys),
        generate_handshake(),
    );
    check_iq(&iq);
    check_credential(&credential);
    check_handshake(&handshake);
    if std::env::var_os("KEYWAY_WRITE_VECTORS").is_some() {
        write("iq_code.json", &iq);
        write("credential.json", &credential);
        write("handshake.json", &handshake);
    }
}

#[test]
fn check_committed_vectors() {
    if std::env::var_os("KEYWAY_WRITE_VECTORS").is_some() {
        return; // the generator is rewriting them in this run; the next run checks them
    }
    let iq: IqVectors = read("iq_code.json");
    check_iq(&iq);
    // The IQ code is deterministic: the committed file is exactly what the generator makes.
    assert_eq!(iq, generate_iq());
    check_credential(&read("credential.json"));
    check_handshake(&read("handshake.json"));
}

#[test]
fn tampered_vectors_fail_the_checker() {
    let mut handshake = generate_handshake();
    handshake.session_key_hex = h(&[0u8; 32]);
    assert!(std::panic::catch_unwind(|| check_handshake(&handshake)).is_err());
    let keys = Keys::new();
    let mut credential = generate_credential(&keys);
    credential.fields.user_id += 1;
    assert!(std::panic::catch_unwind(|| check_credential(&credential)).is_err());
}
