//! The lock's IQ-side entry points: relayed remote grants and the keypad. The lock checks
//! everything itself, so an IQ can neither invent nor replay an order, and keypad PINs work
//! with the IQ gone.

use crate::support;

use keyway_protocol::iq::grant::RemoteGrantFlags;
use keyway_protocol::iq::keypad::keypad_verifier;
use keyway_protocol::iq::{KeypadEntry, KeypadTable, RemoteGrant};
use keyway_protocol::{Command, RefusalReason};
use support::{Site, LOCK_ID, MONDAY_10_UTC, OFFICE_HOURS, SITE_ID, USER_ID};

fn grant(grant_id: u64, command: Command, flags: RemoteGrantFlags) -> RemoteGrant {
    RemoteGrant {
        site_id: SITE_ID,
        lock_id: LOCK_ID,
        user_id: USER_ID,
        grant_id,
        command,
        flags,
        not_before: MONDAY_10_UTC - 60,
        not_after: MONDAY_10_UTC + 60,
    }
}

#[test]
fn a_relayed_grant_opens_once_and_is_logged_with_the_person() {
    let site = Site::new();
    let bytes = grant(1, Command::Unlock, RemoteGrantFlags::default())
        .sign(&site.authority, &site.rng)
        .unwrap();
    let before = site.before();
    let reply = site.lock().on_remote_grant(&bytes).unwrap();
    assert!(reply.granted());
    let event = site.assert_granted(before);
    assert_eq!(event, reply.event);
    assert_eq!(event.event().user_id, USER_ID);
    assert_eq!(site.lock().unlock_count(), 1);
    let before = site.before();
    site.lock().on_remote_grant(&bytes).unwrap();
    site.assert_refused(before, RefusalReason::Replayed);
}

#[test]
fn a_grant_from_another_authority_or_past_its_time_is_refused() {
    let site = Site::new();
    let forged = grant(2, Command::Unlock, RemoteGrantFlags::default())
        .sign(&site.stranger_key(), &site.rng)
        .unwrap();
    let before = site.before();
    site.lock().on_remote_grant(&forged).unwrap();
    let event = site.assert_refused(before, RefusalReason::BadAuthoritySignature);
    assert_eq!(event.event().user_id, 0, "a forgery names no one");
    let late = grant(3, Command::Unlock, RemoteGrantFlags::default())
        .sign(&site.authority, &site.rng)
        .unwrap();
    site.lock().clock_mut().advance(120);
    let before = site.before();
    site.lock().on_remote_grant(&late).unwrap();
    site.assert_refused(before, RefusalReason::Expired);
}

#[test]
fn remote_office_mode_needs_the_right_and_privacy_mode_holds() {
    let site = Site::new();
    let sign = |g: RemoteGrant| g.sign(&site.authority, &site.rng).unwrap();
    let before = site.before();
    site.lock()
        .on_remote_grant(&sign(grant(
            4,
            Command::OfficeModeOn,
            RemoteGrantFlags::default(),
        )))
        .unwrap();
    site.assert_refused(before, RefusalReason::CommandNotAllowed);
    let office = RemoteGrantFlags {
        office_mode: true,
        privacy_override: false,
    };
    site.lock()
        .on_remote_grant(&sign(grant(5, Command::OfficeModeOn, office)))
        .unwrap();
    assert!(site.lock().office_mode());
    site.lock().set_privacy(true).unwrap();
    let before = site.before();
    site.lock()
        .on_remote_grant(&sign(grant(
            6,
            Command::Unlock,
            RemoteGrantFlags::default(),
        )))
        .unwrap();
    site.assert_refused(before, RefusalReason::PrivacyMode);
}

#[test]
fn keypad_pins_open_within_the_persons_schedule() {
    let site = Site::new();
    site.keypad_table("246810", vec![OFFICE_HOURS]);
    let before = site.before();
    let reply = site.lock().keypad("246810").unwrap();
    assert!(reply.granted(), "{:?}", reply.refusal);
    assert_eq!(site.assert_granted(before).event().user_id, USER_ID);
    // Saturday: outside office hours on the lock's own clock.
    site.lock().clock_mut().advance(5 * 86_400);
    let before = site.before();
    site.lock().keypad("246810").unwrap();
    site.assert_refused(before, RefusalReason::OutsideSchedule);
    site.lock().clock_mut().advance(-5 * 86_400);
    site.lock().set_privacy(true).unwrap();
    let before = site.before();
    site.lock().keypad("246810").unwrap();
    site.assert_refused(before, RefusalReason::PrivacyMode);
}

#[test]
fn only_newer_authentic_tables_for_this_lock_are_taken() {
    let site = Site::new();
    site.keypad_table("111111", Vec::new());
    let table = |serial, lock_id, pin: &str| KeypadTable {
        site_id: SITE_ID,
        lock_id,
        serial,
        key: [9; 32],
        entries: vec![KeypadEntry {
            user_id: USER_ID,
            verifier: keypad_verifier(&[9; 32], pin),
            privacy_override: false,
            schedule: Vec::new(),
        }],
    };
    let forged = table(5, LOCK_ID, "222222")
        .sign(&site.stranger_key(), &site.rng)
        .unwrap();
    assert!(site.lock().apply_keypad_table(&forged).is_err());
    let older = table(1, LOCK_ID, "333333")
        .sign(&site.authority, &site.rng)
        .unwrap();
    assert!(!site.lock().apply_keypad_table(&older).unwrap());
    let other_lock = table(6, LOCK_ID + 1, "444444")
        .sign(&site.authority, &site.rng)
        .unwrap();
    assert!(!site.lock().apply_keypad_table(&other_lock).unwrap());
    assert_eq!(site.lock().keypad_serial(), Some(1));
    assert!(site.lock().keypad("111111").unwrap().granted());
    let newer = table(2, LOCK_ID, "555555")
        .sign(&site.authority, &site.rng)
        .unwrap();
    assert!(site.lock().apply_keypad_table(&newer).unwrap());
    assert_eq!(
        site.lock().keypad("111111").unwrap().refusal,
        Some(RefusalReason::WrongPin),
        "the new table replaces the old one"
    );
    assert!(site.lock().keypad("555555").unwrap().granted());
}
