//! What a legitimate user sees: the lock opens once, answers with its own signed event, and
//! spends motor time only when it acts.

use crate::support;

use std::time::Duration;

use keyway_protocol::{Command, PhoneOutcome, PublicKey, RefusalReason};
use keyway_sim::{LockConfig, SimError, SimulatedLock};
use support::{Site, CREDENTIAL_ID, LOCK_ID, MONDAY_10_UTC, SITE_ID, USER_ID};

#[test]
fn granted_unlock_opens_once_and_returns_the_logged_event() {
    let site = Site::new();
    let before = site.before();
    let PhoneOutcome::Answer(answer) = site.unlock(site.sign(&site.credential())) else {
        panic!("a valid request is answered sealed");
    };
    assert!(answer.granted());
    assert!((MONDAY_10_UTC..MONDAY_10_UTC + 5).contains(&answer.lock_time));
    let logged = site.assert_granted(before);
    assert_eq!(answer.event, logged);
    let event = logged.event();
    assert_eq!(
        (event.seq, event.lock_id, event.user_id, event.credential_id),
        (1, LOCK_ID, USER_ID, CREDENTIAL_ID)
    );
    assert_eq!(event.command, Command::Unlock.code());
    assert_eq!(event.time, answer.lock_time);
    assert_eq!(site.lock().unlock_count(), 1);
}

#[test]
fn many_sessions_extend_one_chain() {
    let site = Site::new();
    let credential = site.sign(&site.credential());
    for _ in 0..3 {
        let before = site.before();
        site.unlock(credential.clone());
        site.assert_granted(before);
    }
    site.lock().deny(CREDENTIAL_ID);
    let before = site.before();
    site.unlock(credential);
    let refused = site.assert_refused(before, RefusalReason::Revoked);
    assert_eq!(refused.event().seq, 4);
    assert_eq!(site.lock().unlock_count(), 3);
}

#[test]
fn the_motor_runs_only_when_the_lock_acts() {
    let actuation = Duration::from_millis(20);
    let site = Site::build(0, actuation, support::instant_link());
    let credential = site.sign(&site.credential());
    site.unlock(credential.clone());
    let granted = site.lock().last_timing().unwrap();
    assert!(granted.actuate >= actuation, "{granted:?}");
    assert!(granted.total() >= granted.actuate);

    site.lock().deny(CREDENTIAL_ID);
    site.unlock(credential);
    let refused = site.lock().last_timing().unwrap();
    assert_eq!(refused.actuate, Duration::ZERO);
}

#[test]
fn a_lock_cannot_be_installed_with_an_impossible_configuration() {
    let site = Site::new();
    let config = |lock_id, utc_offset_minutes| LockConfig {
        lock_id,
        site_id: SITE_ID,
        authority_key: site.authority.public_key(),
        utc_offset_minutes,
        actuation: Duration::ZERO,
        paired_with_iq: false,
        offline_capacity: keyway_sim::lock::DEFAULT_OFFLINE_CAPACITY,
    };
    assert!(matches!(
        SimulatedLock::new(config(0, 0)),
        Err(SimError::InvalidConfig(_))
    ));
    assert!(matches!(
        SimulatedLock::new(config(LOCK_ID, 15 * 60)),
        Err(SimError::InvalidConfig(_))
    ));
    assert!(SimulatedLock::new(config(LOCK_ID, -12 * 60)).is_ok());
}

#[test]
fn each_lock_has_its_own_key_and_debug_shows_only_the_public_half() {
    let first = Site::new();
    let second = Site::new();
    let key: PublicKey = first.lock().public_key();
    assert_ne!(key, second.lock().public_key());
    let debug = format!("{:?}", *first.lock());
    assert!(debug.contains(&format!("{key:?}")), "{debug}");
    assert!(
        !debug.contains("pkcs8") && !debug.contains("private"),
        "{debug}"
    );
}

#[test]
fn an_answer_lost_with_the_link_rides_along_with_the_next_one() {
    let site = Site::new();
    let credential = site.sign(&site.credential());
    // The phone's request arrives, the door opens, and the link drops before the answer does.
    let mut phone = site.connect(credential.clone(), Command::Unlock, Vec::new());
    let request = phone.sign(&site.device);
    for fragment in phone.fragments(&request) {
        phone.session.write(&fragment).unwrap();
    }
    drop(phone);
    assert_eq!(site.lock().unlock_count(), 1);
    let lost = site.lock().events()[0].clone();
    assert_eq!(site.lock().undelivered(), std::slice::from_ref(&lost));

    // Whoever comes next carries it back, inside the sealed answer.
    let PhoneOutcome::Answer(answer) = site.unlock(credential.clone()) else {
        panic!("sealed answer expected");
    };
    assert_eq!(answer.backlog, vec![lost]);
    assert!(
        site.lock().undelivered().is_empty(),
        "delivered answers clear the backlog"
    );

    // And only once.
    let PhoneOutcome::Answer(answer) = site.unlock(credential) else {
        panic!("sealed answer expected");
    };
    assert!(answer.backlog.is_empty());
}
