//! Lock-side handshake cost against the crypto primitives it is made of.
//!
//! Measures, in one run:
//! - `lock_side`: what a lock does per request — parse, check the credential and the device
//!   signature, derive the session key, sign the event record and seal the answer;
//! - each primitive that work uses: ECDSA verify (×2), ECDH, HKDF, AES-GCM seal, ECDSA sign;
//!
//! then prints `lock_side / sum(primitives)`. Goal: ≤ 1.10 (the protocol adds little beyond
//! the crypto a lock cannot avoid).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use criterion::{criterion_group, BatchSize, Criterion};
use keyway_protocol::event::{LockEvent, GENESIS_HASH};
use keyway_protocol::handshake::session::{self, LockAnswer, SessionKey};
use keyway_protocol::mailbox::MailboxUpdate;
use keyway_protocol::{
    Command, Credential, CredentialFlags, LockHandshake, LockPolicy, PhoneHandshake, PublicKey,
    RefusalReason, SigningKey,
};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::rand::SystemRandom;

const LOCK: u32 = 1001;
const NOW: i64 = 1_796_040_000;

struct BenchLock {
    authority: PublicKey,
}

impl LockPolicy for BenchLock {
    fn lock_id(&self) -> u32 {
        LOCK
    }
    fn site_id(&self) -> u32 {
        7
    }
    fn authority_key(&self) -> &PublicKey {
        &self.authority
    }
    fn now(&self) -> i64 {
        NOW
    }
    fn utc_offset_minutes(&self) -> i32 {
        0
    }
    fn revocation_epoch(&self) -> u32 {
        0
    }
    fn is_denied(&self, _: u64) -> bool {
        false
    }
    fn privacy_engaged(&self) -> bool {
        false
    }
    fn revocation_fresh(&self) -> bool {
        true
    }
    fn apply_mailbox(&mut self, _: &MailboxUpdate) {}
}

struct Fixture {
    rng: SystemRandom,
    device: SigningKey,
    lock_key: SigningKey,
    credential: Vec<u8>,
    lock: BenchLock,
}

impl Fixture {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let (device, _) = SigningKey::generate(&rng).unwrap();
        let (lock_key, _) = SigningKey::generate(&rng).unwrap();
        let credential = Credential {
            credential_id: 1,
            site_id: 7,
            user_id: 42,
            device_key: device.public_key(),
            lock_ids: vec![LOCK],
            not_before: NOW - 10,
            not_after: NOW + 10,
            schedule: Vec::new(),
            flags: CredentialFlags::default(),
            revocation_epoch: 0,
        }
        .sign(&authority, &rng)
        .unwrap()
        .as_bytes()
        .to_vec();
        let lock = BenchLock {
            authority: authority.public_key(),
        };
        Self {
            rng,
            device,
            lock_key,
            credential,
            lock,
        }
    }

    /// A fresh lock session and the phone's request for it (not timed).
    fn session(&self) -> (LockHandshake, Vec<u8>) {
        let (lock_side, challenge) = LockHandshake::start(LOCK, NOW, &self.rng).unwrap();
        let mut phone = PhoneHandshake::new(self.credential.clone(), Command::Unlock, Vec::new());
        let to_sign = phone.on_challenge(&challenge, &self.rng).unwrap();
        let request = phone
            .request(&self.device.sign(&to_sign, &self.rng).unwrap())
            .unwrap();
        (lock_side, request)
    }

    fn event(&self) -> LockEvent {
        LockEvent {
            lock_id: LOCK,
            seq: 1,
            time: NOW,
            user_id: 42,
            credential_id: 1,
            command: 1,
            refusal: None::<RefusalReason>,
            prev_hash: GENESIS_HASH,
        }
    }
}

fn lock_side(c: &mut Criterion) {
    let fixture = Fixture::new();
    let mut lock = BenchLock {
        authority: fixture.lock.authority,
    };
    c.bench_function("lock_side", |b| {
        b.iter_batched(
            || fixture.session(),
            |(mut handshake, request)| {
                let verdict = handshake.on_request(&request, &mut lock);
                assert!(verdict.decision.is_ok());
                let event = fixture
                    .event()
                    .sign(&fixture.lock_key, &fixture.rng)
                    .unwrap();
                verdict.answer(NOW, &event, &[]).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
}

fn primitives(c: &mut Criterion) {
    let fixture = Fixture::new();
    let message = vec![7u8; 250];
    let signature = fixture.device.sign(&message, &fixture.rng).unwrap();
    let public = fixture.device.public_key();
    c.bench_function("primitive_ecdsa_verify", |b| {
        b.iter(|| assert!(public.verify(&message, &signature)))
    });
    c.bench_function("primitive_ecdsa_sign", |b| {
        b.iter(|| fixture.lock_key.sign(&message, &fixture.rng).unwrap())
    });
    let peer = EphemeralPrivateKey::generate(&agreement::ECDH_P256, &fixture.rng).unwrap();
    let peer_public = peer.compute_public_key().unwrap().as_ref().to_vec();
    c.bench_function("primitive_ecdh", |b| {
        b.iter_batched(
            || EphemeralPrivateKey::generate(&agreement::ECDH_P256, &fixture.rng).unwrap(),
            |private| {
                agreement::agree_ephemeral(
                    private,
                    &UnparsedPublicKey::new(&agreement::ECDH_P256, &peer_public),
                    |s| s[0],
                )
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("primitive_hkdf", |b| {
        b.iter(|| session::derive_session_key(&[1; 32], &[2; 16], &[3; 32]).unwrap())
    });
    let event = fixture
        .event()
        .sign(&fixture.lock_key, &fixture.rng)
        .unwrap();
    let answer = LockAnswer {
        refusal: None,
        lock_time: NOW,
        event,
        backlog: Vec::new(),
    };
    c.bench_function("primitive_aes_gcm_seal", |b| {
        b.iter_batched(
            || SessionKey::new(&[9; 32]).unwrap(),
            |key| key.seal_response(&answer).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(60).measurement_time(std::time::Duration::from_secs(4));
    targets = lock_side, primitives
}

fn mean_ns(name: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let text = std::fs::read_to_string(dir.join("criterion").join(name).join("new/estimates.json"))
        .ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let parts = [
        ("primitive_ecdsa_verify", 2.0),
        ("primitive_ecdh", 1.0),
        ("primitive_hkdf", 1.0),
        ("primitive_aes_gcm_seal", 1.0),
        ("primitive_ecdsa_sign", 1.0),
    ];
    let (Some(lock), Some(sum)) = (
        mean_ns("lock_side"),
        parts.iter().try_fold(0.0, |sum, (name, times)| {
            mean_ns(name).map(|ns| sum + ns * times)
        }),
    ) else {
        println!("(filtered run: ratio not computed)");
        return;
    };
    println!();
    println!("lock-side handshake      {:>9.1} µs", lock / 1000.0);
    for (name, times) in parts {
        println!(
            "  {name:<24}{:>9.1} µs × {times}",
            mean_ns(name).unwrap_or(0.0) / 1000.0
        );
    }
    println!("sum of primitives        {:>9.1} µs", sum / 1000.0);
    println!(
        "ratio handshake/primitives = {:.3} (goal ≤ 1.10)",
        lock / sum
    );
}
