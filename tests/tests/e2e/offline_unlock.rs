//! The phone core unlocks simulated locks over the simulated BLE link, through the same API
//! the apps and the demo use.

use std::time::Duration;

use keyway_core::ffi::{inspect_credential, RefusalAdvice, RefusalReason};
use keyway_core::simulator::SimulatedSite;
use keyway_core::KeywayError;
use keyway_protocol::event::{verify_chain, GENESIS_HASH};
use keyway_protocol::{Command, Credential, CredentialFlags};
use keyway_sim::LinkConfig;

fn fast_site() -> SimulatedSite {
    let link = LinkConfig {
        mtu: 185,
        connect_latency: Duration::ZERO,
        packet_latency: Duration::ZERO,
        ..LinkConfig::default()
    };
    SimulatedSite::with_link(vec![1, 2], link, Duration::ZERO).unwrap()
}

#[tokio::test]
async fn a_key_opens_its_lock_and_only_its_lock() {
    let site = fast_site();
    let key = site.issue_key(vec![1], 600).unwrap();
    let opened = site.unlock(1, key.clone()).await.unwrap();
    assert!(opened.granted, "{opened:?}");
    assert_eq!(
        opened.writes, 2,
        "a single-lock request takes 2 writes at MTU 185"
    );
    let refused = site.unlock(2, key).await.unwrap();
    assert_eq!(refused.refusal, Some(RefusalReason::NotInScope));
    assert_eq!(refused.advice, Some(RefusalAdvice::NotAllowed));
    assert_eq!(
        opened.advice, None,
        "nothing to advise when the door opened"
    );
    assert_eq!(site.lock(1).unwrap().lock().unwrap().unlock_count(), 1);
    assert_eq!(site.lock(2).unwrap().lock().unwrap().unlock_count(), 0);
}

#[tokio::test]
async fn the_lock_clock_decides_validity() {
    let site = fast_site();
    let key = site.issue_key(vec![1], 600).unwrap();
    let not_after = inspect_credential(key.clone()).unwrap().not_after;
    site.set_lock_clock(1, not_after).unwrap();
    let report = site.unlock(1, key).await.unwrap();
    assert_eq!(report.refusal, Some(RefusalReason::Expired));
    assert_eq!(report.advice, Some(RefusalAdvice::SyncKeys));
}

#[tokio::test]
async fn an_unknown_lock_is_out_of_range() {
    let site = fast_site();
    let key = site.issue_key(vec![9], 600).unwrap();
    assert!(matches!(
        site.unlock(9, key).await,
        Err(KeywayError::OutOfRange { .. })
    ));
}

#[tokio::test]
async fn office_mode_needs_the_right() {
    let site = fast_site();
    let without = site.issue_key(vec![1], 600).unwrap();
    let outcome = site.run(1, without, Command::OfficeModeOn).await.unwrap();
    assert_eq!(
        outcome.refusal,
        Some(keyway_protocol::RefusalReason::CommandNotAllowed)
    );
    let now = chrono::Utc::now().timestamp();
    let with = site
        .sign(&Credential {
            credential_id: 99,
            site_id: keyway_core::simulator::SIMULATED_SITE_ID,
            user_id: 5,
            device_key: site.device().verifying_key(),
            lock_ids: vec![1],
            not_before: now - 10,
            not_after: now + 600,
            schedule: Vec::new(),
            flags: CredentialFlags {
                office_mode: true,
                ..Default::default()
            },
            revocation_epoch: 0,
        })
        .unwrap();
    let outcome = site.run(1, with, Command::OfficeModeOn).await.unwrap();
    assert!(outcome.granted());
    assert!(site.lock(1).unwrap().lock().unwrap().office_mode());
}

#[tokio::test]
async fn every_attempt_is_logged_in_a_verifiable_chain() {
    let site = fast_site();
    let key = site.issue_key(vec![2], 600).unwrap();
    for _ in 0..3 {
        site.unlock(1, key.clone()).await.unwrap();
    }
    let events = site.lock_events(1).unwrap();
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| e.refusal == Some(RefusalReason::NotInScope)));
    let lock = site.lock(1).unwrap();
    let guard = lock.lock().unwrap();
    let head = verify_chain(1, &guard.public_key(), (0, GENESIS_HASH), guard.events()).unwrap();
    assert_eq!(head.0, 3);
}
