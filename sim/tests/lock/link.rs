//! The simulated BLE link: MTU limits, write counts, one connection at a time, latency.

use crate::support;

use std::time::{Duration, Instant};

use keyway_protocol::frame::MIN_ATT_MTU;
use keyway_protocol::{Command, RefusalReason};
use keyway_sim::{LinkConfig, SimError};
use support::{instant_link, refusal, Site};

#[test]
fn fragments_longer_than_the_mtu_never_reach_the_lock() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let max = phone.session.max_write_len();
    assert_eq!(max, 182);
    assert_eq!(
        phone.session.write(&vec![1; max + 1]),
        Err(SimError::FragmentTooLong { len: max + 1, max })
    );
    assert!(site.lock().events().is_empty(), "the lock saw nothing");
    let request = phone.sign(&site.device);
    assert_eq!(refusal(&phone.send(&request)).0, None);
}

#[test]
fn a_single_lock_request_takes_exactly_two_writes_at_mtu_185() {
    let site = Site::new();
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    assert_eq!(phone.session.mtu(), 185);
    let request = phone.sign(&site.device);
    assert_eq!(refusal(&phone.send(&request)).0, None);
    let stats = phone.session.stats();
    assert_eq!(stats.writes, 2, "{stats:?}");
    assert_eq!(stats.bytes_written, request.len() as u64 + 4 + 2);
    assert_eq!(stats.notifications, 2, "challenge and answer: {stats:?}");
}

#[test]
fn the_smallest_mtu_still_works_with_more_writes() {
    let link = LinkConfig {
        mtu: MIN_ATT_MTU,
        ..instant_link()
    };
    let site = Site::build(0, Duration::ZERO, link);
    let mut phone = site.connect(site.sign(&site.credential()), Command::Unlock, Vec::new());
    let request = phone.sign(&site.device);
    assert_eq!(refusal(&phone.send(&request)).0, None);
    assert!(phone.session.stats().writes > 15);
}

#[test]
fn an_mtu_below_the_ble_minimum_is_refused() {
    let link = LinkConfig {
        mtu: MIN_ATT_MTU - 1,
        ..instant_link()
    };
    let site = Site::build(0, Duration::ZERO, link);
    assert!(matches!(
        site.link.connect(),
        Err(SimError::MtuTooSmall { mtu: 22, .. })
    ));
}

#[test]
fn one_phone_at_a_time_and_disconnect_frees_the_lock() {
    let site = Site::new();
    let first = site.link.connect().unwrap();
    assert!(matches!(
        site.link.clone().connect(),
        Err(SimError::LockBusy)
    ));
    first.disconnect();
    assert_eq!(site.lock().connection_id(), None);
    assert_eq!(
        site.lock().on_write(&[1, 0x80, 0, 1, 0]),
        Err(SimError::NotConnected)
    );
    let second = site.link.connect().unwrap();
    drop(second);
    assert!(site.link.connect().is_ok());
}

#[test]
fn a_session_taken_over_at_the_lock_cannot_write_into_the_new_connection() {
    let site = Site::new();
    let mut stale = site.link.connect().unwrap();
    site.lock().on_connect(185).unwrap();
    let taken_over = site.lock().connection_id();
    assert_eq!(
        stale.write(&[1, 0x80, 0, 1, 0]),
        Err(SimError::Disconnected)
    );
    drop(stale);
    assert_eq!(
        site.lock().connection_id(),
        taken_over,
        "the new connection stays"
    );
}

#[test]
fn latency_adds_up_over_connect_and_each_packet() {
    let link = LinkConfig {
        mtu: 185,
        connect_latency: Duration::from_millis(6),
        packet_latency: Duration::from_millis(3),
        ..LinkConfig::default()
    };
    let site = Site::build(0, Duration::ZERO, link);
    let started = Instant::now();
    let outcome = site.unlock(site.sign(&site.credential()));
    let elapsed = started.elapsed();
    assert_eq!(refusal(&outcome).0, None);
    // Connect, then challenge + 2 writes + answer, one packet latency each.
    assert!(elapsed >= Duration::from_millis(6 + 4 * 3), "{elapsed:?}");
    let totals = site.link.stats();
    assert_eq!((totals.writes, totals.notifications), (2, 2));
}

#[test]
fn a_refused_request_is_still_answered_over_the_link() {
    let site = Site::new();
    site.lock().set_privacy(true).unwrap();
    let outcome = site.unlock(site.sign(&site.credential()));
    assert_eq!(refusal(&outcome).0, Some(RefusalReason::PrivacyMode));
    assert_eq!(site.link.stats().notifications, 2);
}
