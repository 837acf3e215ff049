//! The two state machines against each other, in memory: the round trip works, the answer is
//! authenticated, and the sizes meet the BLE budget.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Keys, TestLock, LOCK};
use keyway_protocol::event::{LockEvent, GENESIS_HASH};
use keyway_protocol::frame::{fragment, framed_len, Reassembler};
use keyway_protocol::{
    Command, LockHandshake, PhoneHandshake, PhoneOutcome, ProtocolError, RefusalReason,
};

struct RoundTrip {
    challenge: Vec<u8>,
    request: Vec<u8>,
    answer: Vec<u8>,
    outcome: Result<PhoneOutcome, ProtocolError>,
}

fn round_trip(
    keys: &Keys,
    credential: &[u8],
    lock: &mut TestLock,
    tamper_answer: bool,
) -> RoundTrip {
    let (mut lock_side, challenge) = LockHandshake::start(LOCK, lock.now, &keys.rng).unwrap();
    let mut phone = PhoneHandshake::new(credential.to_vec(), Command::Unlock, Vec::new());
    let to_sign = phone.on_challenge(&challenge, &keys.rng).unwrap();
    let signature = keys.device.sign(&to_sign, &keys.rng).unwrap();
    let request = phone.request(&signature).unwrap();
    let verdict = lock_side.on_request(&request, lock);
    let event = LockEvent {
        lock_id: LOCK,
        seq: 1,
        time: lock.now,
        user_id: verdict.requester.user_id,
        credential_id: verdict.requester.credential_id,
        command: verdict.requester.command,
        refusal: verdict.decision.err(),
        prev_hash: GENESIS_HASH,
    }
    .sign(&keys.lock, &keys.rng)
    .unwrap();
    let mut answer = verdict.answer(lock.now, &event, &[]).unwrap();
    if tamper_answer {
        let last = answer.len() - 1;
        answer[last] ^= 1;
    }
    let outcome = phone.on_answer(&answer);
    RoundTrip {
        challenge,
        request,
        answer,
        outcome,
    }
}

#[test]
fn granted_round_trip_and_sizes() {
    let keys = Keys::new();
    let credential = keys.credential().sign(&keys.authority, &keys.rng).unwrap();
    let mut lock = TestLock::new(keys.authority.public_key());
    let trip = round_trip(&keys, credential.as_bytes(), &mut lock, false);
    let Ok(PhoneOutcome::Answer(answer)) = trip.outcome else {
        panic!("{:?}", trip.outcome)
    };
    assert!(answer.granted());
    assert!(answer.event.verify(&keys.lock.public_key()));
    assert_eq!(answer.event.event().user_id, 42);
    // The BLE budget: everything the phone writes after connect fits in 2 writes at MTU 185,
    // and each lock message fits one notification.
    assert_eq!(fragment(&trip.request, 185).unwrap().len(), 2);
    assert_eq!(fragment(&trip.challenge, 185).unwrap().len(), 1);
    assert_eq!(fragment(&trip.answer, 185).unwrap().len(), 1);
    let over_the_air = framed_len(trip.challenge.len(), 185).unwrap()
        + framed_len(trip.request.len(), 185).unwrap()
        + framed_len(trip.answer.len(), 185).unwrap();
    println!(
        "credential {} B, challenge {} B, request {} B, answer {} B, over the air {} B",
        credential.as_bytes().len(),
        trip.challenge.len(),
        trip.request.len(),
        trip.answer.len(),
        over_the_air
    );
    // Fragments survive reassembly.
    let mut reassembler = Reassembler::new();
    let pieces = fragment(&trip.request, 185).unwrap();
    assert_eq!(reassembler.push(&pieces[0]).unwrap(), None);
    assert_eq!(reassembler.push(&pieces[1]).unwrap(), Some(trip.request));
}

#[test]
fn a_tampered_answer_is_rejected_by_the_phone() {
    let keys = Keys::new();
    let credential = keys.credential().sign(&keys.authority, &keys.rng).unwrap();
    let mut lock = TestLock::new(keys.authority.public_key());
    let trip = round_trip(&keys, credential.as_bytes(), &mut lock, true);
    assert_eq!(trip.outcome, Err(ProtocolError::SealBroken));
}

#[test]
fn a_refusal_is_sealed_and_carries_its_reason() {
    let keys = Keys::new();
    let mut credential = keys.credential();
    credential.lock_ids = vec![LOCK + 1];
    let credential = credential.sign(&keys.authority, &keys.rng).unwrap();
    let mut lock = TestLock::new(keys.authority.public_key());
    let trip = round_trip(&keys, credential.as_bytes(), &mut lock, false);
    let Ok(PhoneOutcome::Answer(answer)) = trip.outcome else {
        panic!("{:?}", trip.outcome)
    };
    assert_eq!(answer.refusal, Some(RefusalReason::NotInScope));
    assert_eq!(
        answer.event.event().refusal,
        Some(RefusalReason::NotInScope)
    );
}

#[test]
fn the_phone_refuses_messages_out_of_order() {
    let keys = Keys::new();
    let mut phone = PhoneHandshake::new(vec![1, 2, 3], Command::Unlock, Vec::new());
    assert!(phone.request(&[0; 64]).is_err());
    assert!(phone.on_answer(&[3, 0]).is_err());
    let mut phone = PhoneHandshake::new(vec![1, 2, 3], Command::Unlock, Vec::new());
    assert!(
        phone.on_challenge(&[1, 1, 0], &keys.rng).is_err(),
        "truncated challenge"
    );
}

#[test]
fn a_forged_credential_cannot_name_someone_in_the_log() {
    let keys = Keys::new();
    let (forger, _) = keyway_protocol::SigningKey::generate(&keys.rng).unwrap();
    let credential = keys.credential().sign(&forger, &keys.rng).unwrap();
    let mut lock = TestLock::new(keys.authority.public_key());
    let trip = round_trip(&keys, credential.as_bytes(), &mut lock, false);
    let Ok(PhoneOutcome::Answer(answer)) = trip.outcome else {
        panic!("{:?}", trip.outcome)
    };
    assert_eq!(answer.refusal, Some(RefusalReason::BadAuthoritySignature));
    assert_eq!(
        (
            answer.event.event().user_id,
            answer.event.event().credential_id
        ),
        (0, 0)
    );
}

#[test]
fn a_lock_clock_that_went_backwards_makes_the_challenge_stale() {
    let keys = Keys::new();
    let credential = keys.credential().sign(&keys.authority, &keys.rng).unwrap();
    let mut lock = TestLock::new(keys.authority.public_key());
    let (mut lock_side, challenge) = LockHandshake::start(LOCK, lock.now, &keys.rng).unwrap();
    let mut phone =
        PhoneHandshake::new(credential.as_bytes().to_vec(), Command::Unlock, Vec::new());
    let to_sign = phone.on_challenge(&challenge, &keys.rng).unwrap();
    let request = phone
        .request(&keys.device.sign(&to_sign, &keys.rng).unwrap())
        .unwrap();
    lock.now -= 120;
    assert_eq!(
        lock_side.on_request(&request, &mut lock).decision,
        Err(RefusalReason::StaleChallenge)
    );
}

#[test]
fn undelivered_records_ride_along_and_are_authenticated() {
    use keyway_protocol::handshake::session::{SessionKey, MAX_BACKLOG};
    use keyway_protocol::LockAnswer;
    let keys = Keys::new();
    let record = |seq| {
        LockEvent {
            lock_id: LOCK,
            seq,
            time: 1,
            user_id: 1,
            credential_id: 1,
            command: 1,
            refusal: None,
            prev_hash: GENESIS_HASH,
        }
        .sign(&keys.lock, &keys.rng)
        .unwrap()
    };
    let key = SessionKey::new(&[7; 32]).unwrap();
    let answer = LockAnswer {
        refusal: None,
        lock_time: 5,
        event: record(3),
        backlog: vec![record(1), record(2)],
    };
    let sealed = key.seal_response(&answer).unwrap();
    assert_eq!(key.open_response(&sealed).unwrap(), answer);
    // More than the cap are not sent.
    let crowded = LockAnswer {
        backlog: vec![record(1), record(2), record(4)],
        ..answer.clone()
    };
    let opened = key
        .open_response(&key.seal_response(&crowded).unwrap())
        .unwrap();
    assert_eq!(opened.backlog.len(), MAX_BACKLOG);
}
