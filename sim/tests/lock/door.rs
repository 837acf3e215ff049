//! The door, the battery and Near Detection Mode: a forced door, a door left open past the
//! lock's limit and a low battery are reported in the signed log; a far phone is refused at a
//! near-detection lock.

use keyway_protocol::report::LOW_BATTERY_PERCENT;
use keyway_protocol::{LockReport, LockSettings, RefusalReason};
use keyway_sim::lock::RELOCK_SECONDS;
use keyway_sim::LinkConfig;

use crate::support::{instant_link, Site, LOCK_ID, SITE_ID};

fn reports(site: &Site, from: usize) -> Vec<(LockReport, u64)> {
    site.lock().events()[from..]
        .iter()
        .filter_map(|record| LockReport::of_event(record.event()))
        .collect()
}

#[test]
fn a_door_opened_without_a_grant_is_forced_and_one_left_open_is_reported_once() {
    let site = Site::new();
    let mut credential = site.credential();
    credential.schedule = Vec::new();
    let start = site.lock().events().len();
    site.lock().open_door().unwrap();
    site.lock().close_door().unwrap();
    crate::support::assert_granted(&site.unlock(site.sign(&credential)));
    site.lock().clock_mut().advance(RELOCK_SECONDS - 1);
    site.lock().open_door().unwrap();
    site.lock().clock_mut().advance(30);
    site.lock().run_timers().unwrap();
    site.lock().clock_mut().advance(1);
    site.lock().run_timers().unwrap();
    site.lock().run_timers().unwrap();
    site.lock().close_door().unwrap();
    assert_eq!(
        reports(&site, start),
        [
            (LockReport::DoorForced, 0),
            (LockReport::DoorClosed, 0),
            (LockReport::DoorOpened, 0),
            (LockReport::DoorLeftOpen, 0),
            (LockReport::DoorClosed, 0),
        ]
    );
}

#[test]
fn the_door_limit_comes_from_the_locks_settings() {
    let site = Site::paired(10);
    site.settings(LockSettings {
        serial: 1,
        door_open_limit_seconds: 5,
        ..LockSettings::defaults(SITE_ID, LOCK_ID)
    });
    let start = site.lock().events().len();
    site.lock().open_door().unwrap();
    site.lock().clock_mut().advance(6);
    site.lock().iq_heartbeat(true).unwrap();
    assert_eq!(
        reports(&site, start),
        [(LockReport::DoorForced, 0), (LockReport::DoorLeftOpen, 0)]
    );
}

#[test]
fn a_low_battery_is_reported_once_as_it_falls() {
    let site = Site::new();
    let start = site.lock().events().len();
    // A gauge hovering at the threshold reports low once; a new battery re-arms it.
    for percent in [
        40,
        LOW_BATTERY_PERCENT,
        16,
        LOW_BATTERY_PERCENT,
        10,
        100,
        12,
    ] {
        site.lock().set_battery(percent).unwrap();
    }
    assert_eq!(site.lock().battery(), 12);
    let low = u64::from(LOW_BATTERY_PERCENT);
    assert_eq!(
        reports(&site, start),
        [
            (LockReport::Battery, 40),
            (LockReport::Battery, low),
            (LockReport::BatteryLow, low),
            (LockReport::Battery, 16),
            (LockReport::Battery, low),
            (LockReport::Battery, 10),
            (LockReport::Battery, 100),
            (LockReport::Battery, 12),
            (LockReport::BatteryLow, 12),
        ]
    );
}

#[test]
pub fn near_detection_refuses_a_far_phone() {
    let far = LinkConfig {
        rssi_dbm: -80,
        ..instant_link()
    };
    let site = Site::build_lock(0, std::time::Duration::ZERO, far, true, 10);
    site.lock().iq_heartbeat(true).unwrap();
    let mut credential = site.credential();
    credential.schedule = Vec::new();
    crate::support::assert_granted(&site.unlock(site.sign(&credential)));
    site.settings(LockSettings {
        serial: 1,
        near_detection_min_rssi: Some(-60),
        ..LockSettings::defaults(SITE_ID, LOCK_ID)
    });
    let before = site.before();
    let outcome = site.unlock(site.sign(&credential));
    site.assert_refusal(before, &outcome, RefusalReason::TooFar);

    let near = Site::build_lock(0, std::time::Duration::ZERO, instant_link(), true, 10);
    near.lock().iq_heartbeat(true).unwrap();
    near.settings(LockSettings {
        serial: 1,
        near_detection_min_rssi: Some(-60),
        ..LockSettings::defaults(SITE_ID, LOCK_ID)
    });
    let mut credential = near.credential();
    credential.schedule = Vec::new();
    crate::support::assert_granted(&near.unlock(near.sign(&credential)));
}
