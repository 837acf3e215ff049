//! Tags as an attacker would try them: a copied tag id, a master key outside its schedule
//! online and on fallback, a tag list or settings message not signed by the site; and a key
//! without offline access at a lock that cannot confirm revocations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Keys, TestLock, LOCK, NOW, SITE};
use keyway_protocol::lock_settings::LockSettings;
use keyway_protocol::tag::{
    answer_challenge, check_tag, tag_of_event_credential, TagEntry, TagFlags, TagList, TagListKind,
    TagPresentation, TagSource, TAG_NONCE_LEN,
};
use keyway_protocol::{
    Command, LockHandshake, PhoneHandshake, ProtocolError, RefusalReason, ScheduleWindow,
    SigningKey,
};

const TAG_ID: u64 = 0x04_a2_19_7c_33_80_01;
const NONCE: [u8; TAG_NONCE_LEN] = [7; TAG_NONCE_LEN];

fn card(keys: &Keys) -> SigningKey {
    SigningKey::generate(&keys.rng).unwrap().0
}

fn entry(card: &SigningKey, flags: TagFlags, schedule: Vec<ScheduleWindow>) -> TagEntry {
    TagEntry {
        tag_id: TAG_ID,
        user_id: 42,
        tag_key: card.public_key(),
        flags,
        schedule,
    }
}

fn present(
    keys: &Keys,
    card: &SigningKey,
    entry: &TagEntry,
    source: TagSource,
    lock: &TestLock,
) -> Result<Command, RefusalReason> {
    let answer = answer_challenge(card, SITE, LOCK, TAG_ID, &NONCE, &keys.rng).unwrap();
    let presented = TagPresentation {
        tag_id: TAG_ID,
        nonce: &NONCE,
        answer: &answer,
        command: Command::Unlock,
    };
    let (requester, decision) = check_tag(Some(entry), source, &presented, lock);
    assert_eq!(
        tag_of_event_credential(requester.credential_id),
        Some(TAG_ID)
    );
    decision
}

/// A window that is never open at `NOW`'s local time (a minute long, twelve hours away).
fn window_away_from_now() -> Vec<ScheduleWindow> {
    let local = keyway_protocol::schedule::LocalMinute::from_unix(NOW, 0);
    let start = (local.minute + 720) % 1439;
    vec![ScheduleWindow::new(ScheduleWindow::ALL_DAYS, start, start + 1).unwrap()]
}

#[test]
fn the_registered_card_opens_and_a_card_with_its_copied_id_does_not() {
    let keys = Keys::new();
    let lock = TestLock::new(keys.authority.public_key());
    let genuine = card(&keys);
    let listed = entry(&genuine, TagFlags::default(), Vec::new());
    assert_eq!(
        present(&keys, &genuine, &listed, TagSource::Online, &lock),
        Ok(Command::Unlock)
    );
    let clone = card(&keys);
    assert_eq!(
        present(&keys, &clone, &listed, TagSource::Online, &lock),
        Err(RefusalReason::TagNotAuthentic)
    );
    // A recorded answer to another challenge does not open either.
    let recorded = answer_challenge(&genuine, SITE, LOCK, TAG_ID, &[9; 16], &keys.rng).unwrap();
    let replayed = TagPresentation {
        tag_id: TAG_ID,
        nonce: &NONCE,
        answer: &recorded,
        command: Command::Unlock,
    };
    let (_, decision) = check_tag(Some(&listed), TagSource::Online, &replayed, &lock);
    assert_eq!(decision, Err(RefusalReason::TagNotAuthentic));
    let (requester, unknown) = check_tag(None, TagSource::Online, &replayed, &lock);
    assert_eq!(
        (requester.user_id, unknown),
        (0, Err(RefusalReason::UnknownTag))
    );
}

#[test]
fn a_master_key_ignores_its_schedule_only_on_fallback() {
    let keys = Keys::new();
    let lock = TestLock::new(keys.authority.public_key());
    let genuine = card(&keys);
    let master = TagFlags {
        master_key: true,
        ..TagFlags::default()
    };
    let listed = entry(&genuine, master, window_away_from_now());
    assert_eq!(
        present(&keys, &genuine, &listed, TagSource::Online, &lock),
        Err(RefusalReason::OutsideSchedule),
        "online, the access group's schedule applies"
    );
    assert_eq!(
        present(&keys, &genuine, &listed, TagSource::Fallback, &lock),
        Ok(Command::Unlock),
        "on fallback a master key opens 24/7"
    );
    let plain = entry(&genuine, TagFlags::default(), window_away_from_now());
    assert_eq!(
        present(&keys, &genuine, &plain, TagSource::Fallback, &lock),
        Err(RefusalReason::OutsideSchedule)
    );
}

#[test]
fn privacy_mode_and_office_mode_need_their_rights() {
    let keys = Keys::new();
    let mut lock = TestLock::new(keys.authority.public_key());
    lock.privacy = true;
    let genuine = card(&keys);
    let plain = entry(&genuine, TagFlags::default(), Vec::new());
    assert_eq!(
        present(&keys, &genuine, &plain, TagSource::Online, &lock),
        Err(RefusalReason::PrivacyMode)
    );
    let overriding = entry(
        &genuine,
        TagFlags {
            privacy_override: true,
            ..TagFlags::default()
        },
        Vec::new(),
    );
    assert_eq!(
        present(&keys, &genuine, &overriding, TagSource::Online, &lock),
        Ok(Command::Unlock)
    );
    lock.privacy = false;
    let answer = answer_challenge(&genuine, SITE, LOCK, TAG_ID, &NONCE, &keys.rng).unwrap();
    let held = TagPresentation {
        tag_id: TAG_ID,
        nonce: &NONCE,
        answer: &answer,
        command: Command::OfficeModeOn,
    };
    let (_, decision) = check_tag(Some(&plain), TagSource::Online, &held, &lock);
    assert_eq!(decision, Err(RefusalReason::CommandNotAllowed));
}

#[test]
fn tag_lists_and_settings_must_be_signed_by_the_site() {
    let keys = Keys::new();
    let genuine = card(&keys);
    let list = TagList {
        kind: TagListKind::Offline,
        site_id: SITE,
        lock_id: LOCK,
        serial: 3,
        entries: vec![entry(&genuine, TagFlags::default(), window_away_from_now())],
    };
    let signed = list.sign(&keys.authority, &keys.rng).unwrap();
    assert_eq!(TagList::addressed_lock(&signed), Some(LOCK));
    let decoded = TagList::decode_verified(&signed, &keys.authority.public_key()).unwrap();
    assert_eq!(decoded, list);
    assert_eq!(decoded.stored_bytes(), 79 + 5);
    let impostor = card(&keys);
    let forged = list.sign(&impostor, &keys.rng).unwrap();
    assert!(matches!(
        TagList::decode_verified(&forged, &keys.authority.public_key()),
        Err(ProtocolError::BadSignature(_))
    ));
    let mut flipped = signed.clone();
    flipped[12] ^= 1;
    assert!(TagList::decode_verified(&flipped, &keys.authority.public_key()).is_err());

    let settings = LockSettings {
        near_detection_min_rssi: Some(-60),
        easy_office_schedule: window_away_from_now(),
        serial: 2,
        ..LockSettings::defaults(SITE, LOCK)
    };
    let signed = settings.sign(&keys.authority, &keys.rng).unwrap();
    assert_eq!(LockSettings::addressed_lock(&signed), Some(LOCK));
    assert_eq!(
        LockSettings::decode_verified(&signed, &keys.authority.public_key()).unwrap(),
        settings
    );
    assert!(LockSettings::decode_verified(&signed, &impostor.public_key()).is_err());
}

fn unlock(keys: &Keys, credential: &[u8], lock: &mut TestLock) -> Result<Command, RefusalReason> {
    let (mut lock_side, challenge) = LockHandshake::start(LOCK, lock.now, &keys.rng).unwrap();
    let mut phone = PhoneHandshake::new(credential.to_vec(), Command::Unlock, Vec::new());
    let to_sign = phone.on_challenge(&challenge, &keys.rng).unwrap();
    let signature = keys.device.sign(&to_sign, &keys.rng).unwrap();
    let request = phone.request(&signature).unwrap();
    lock_side.on_request(&request, lock).decision
}

#[test]
fn a_key_without_offline_access_needs_fresh_revocations() {
    let keys = Keys::new();
    let mut lock = TestLock::new(keys.authority.public_key());
    let online_only = keys.credential().sign(&keys.authority, &keys.rng).unwrap();
    let mut offline = keys.credential();
    offline.flags.offline_access = true;
    let offline = offline.sign(&keys.authority, &keys.rng).unwrap();
    assert_eq!(
        unlock(&keys, online_only.as_bytes(), &mut lock),
        Ok(Command::Unlock)
    );
    lock.revocation_fresh = false;
    assert_eq!(
        unlock(&keys, online_only.as_bytes(), &mut lock),
        Err(RefusalReason::RevocationStale)
    );
    assert_eq!(
        unlock(&keys, offline.as_bytes(), &mut lock),
        Ok(Command::Unlock)
    );
    lock.denied.insert(555);
    assert_eq!(
        unlock(&keys, offline.as_bytes(), &mut lock),
        Err(RefusalReason::Revoked),
        "offline access never outlives a revocation the lock knows"
    );
}
