//! Mobile remote opening through the IQ, over real HTTP and a real WebSocket on loopback:
//! the app PIN (right, wrong, delayed, locked), the biometric gate (and a key that does not
//! match), the rights, remote office mode, and an offline IQ.

use crate::remote_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyway_core::platform::SoftwareDeviceSigner;
use keyway_core::remote::RemoteGate;
use keyway_core::simulator::simulated_biometric;
use keyway_core::KeywayError;
use keyway_protocol::SigningKey;
use keyway_sim::iq::{IqConnection, IqHub, LockSet, SimulatedIq};
use remote_support::{eventually, remote_site, PIN};

fn pin(pin: &str) -> RemoteGate {
    RemoteGate::Pin { pin: pin.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_pin_opens_and_a_wrong_one_does_not() {
    let r = remote_site(&["Front", "Back"]).await;
    let remote = r.tenant.remote();
    let report = remote.open(r.site_id(), r.lock(0), pin(PIN)).await.unwrap();
    assert!(report.granted, "{report:?}");
    assert_eq!(r.unlocks(0), 1);
    assert!(report.lock_ms >= 0.0 && report.cloud_ms > 0.0 && report.iq_ms >= 0.0);
    let seq = report.event_seq.unwrap();
    let stored: u32 = r
        .query(
            "SELECT user_id FROM lock_events WHERE lock_id = ?1 AND seq = 1",
            r.lock(0),
        )
        .await;
    assert_eq!(
        (seq, stored),
        (1, r.tenant_id),
        "the lock's event is stored"
    );

    let wrong = remote.open(r.site_id(), r.lock(0), pin("0000")).await;
    let error = wrong.unwrap_err();
    assert!(matches!(error, KeywayError::WrongPin { .. }), "{error:?}");
    assert_eq!(r.unlocks(0), 1, "a wrong PIN never reaches the lock");
    let status = remote.pin_status().await.unwrap();
    assert!(status.set && !status.locked);
    assert_eq!(status.failures, 1);
    remote.open(r.site_id(), r.lock(0), pin(PIN)).await.unwrap();
    assert_eq!(
        remote.pin_status().await.unwrap().failures,
        0,
        "a right PIN clears"
    );

    // The rights: no group on the second lock; no office-mode right.
    let refused = remote.open(r.site_id(), r.lock(1), pin(PIN)).await;
    assert!(
        matches!(refused, Err(KeywayError::NotAllowed { .. })),
        "{refused:?}"
    );
    let office = remote
        .set_office_mode(r.site_id(), r.lock(0), true, pin(PIN))
        .await;
    assert!(
        matches!(office, Err(KeywayError::NotAllowed { .. })),
        "{office:?}"
    );
    r.site
        .owner
        .admin()
        .set_remote_rights(r.site_id(), r.tenant_id, true, true)
        .await
        .unwrap();
    let on = remote
        .set_office_mode(r.site_id(), r.lock(0), true, pin(PIN))
        .await
        .unwrap();
    assert!(on.granted && r.iq.office_mode(r.lock(0)).unwrap());
    let locks = remote.locks().await.unwrap();
    assert_eq!(locks.len(), 1);
    assert!(locks[0].iq_online && locks[0].office_mode);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_five_wrong_pins_tries_wait_longer_and_ten_lock_the_pin() {
    let r = remote_site(&["Front"]).await;
    let remote = r.tenant.remote();
    let open = |gate: RemoteGate| remote.open(r.site_id(), r.lock(0), gate);
    for attempt in 1..=5 {
        let error = open(pin("9999")).await.unwrap_err();
        assert!(
            matches!(error, KeywayError::WrongPin { .. }),
            "try {attempt}: {error:?}"
        );
    }
    // Now even the right PIN waits: the cloud does not check it before the delay is over, and
    // the app is told how long.
    let waiting = open(pin(PIN)).await.unwrap_err();
    assert!(
        matches!(&waiting, KeywayError::RetryAfter { retry_after_seconds, .. }
            if (27..=30).contains(retry_after_seconds)),
        "{waiting:?}"
    );
    // 30 s from the fifth failure, on the cloud's wall clock (a busy machine may have spent a
    // second or two since).
    let wait = remote.pin_status().await.unwrap().retry_after;
    assert!(wait.is_some_and(|s| (27..=30).contains(&s)), "{wait:?}");
    for (attempt, delay) in [(6, 30), (7, 60), (8, 120), (9, 240)] {
        r.advance(delay);
        let error = open(pin("9999")).await.unwrap_err();
        assert!(
            matches!(error, KeywayError::WrongPin { .. }),
            "try {attempt}: {error:?}"
        );
        let early = open(pin(PIN)).await.unwrap_err();
        assert!(matches!(early, KeywayError::RetryAfter { .. }), "{early:?}");
    }
    r.advance(480);
    let tenth = open(pin("9999")).await.unwrap_err();
    assert!(matches!(tenth, KeywayError::PinLocked { .. }), "{tenth:?}");
    r.advance(3600);
    let locked = open(pin(PIN)).await.unwrap_err();
    assert!(
        matches!(&locked, KeywayError::PinLocked { .. }),
        "the right PIN does not unlock a locked PIN: {locked:?}"
    );
    assert!(remote.pin_status().await.unwrap().locked);
    assert_eq!(r.unlocks(0), 0);

    let bad_password = remote
        .set_pin("not the password".into(), "1234".into())
        .await;
    assert!(matches!(bad_password, Err(KeywayError::NotAllowed { .. })));
    remote
        .set_pin(keyway_e2e::PASSWORD.into(), "1234".into())
        .await
        .unwrap();
    assert!(open(pin("1234")).await.unwrap().granted);
    assert!(!remote.pin_status().await.unwrap().locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_biometric_key_opens_and_another_key_is_refused() {
    let r = remote_site(&["Front"]).await;
    let remote = r.tenant.remote();
    let not_enrolled = remote
        .open(r.site_id(), r.lock(0), RemoteGate::Biometric)
        .await;
    assert!(matches!(not_enrolled, Err(KeywayError::NotAllowed { .. })));

    let (sensor, signer) = simulated_biometric().unwrap();
    remote
        .enroll_biometric(sensor.clone(), Arc::clone(&signer))
        .await
        .unwrap();
    let report = remote
        .open(r.site_id(), r.lock(0), RemoteGate::Biometric)
        .await
        .unwrap();
    assert!(report.granted, "{report:?}");
    assert_eq!(sensor.prompts(), 2, "once to enrol, once to open");

    sensor.set_matches(false);
    let unverified = remote
        .open(r.site_id(), r.lock(0), RemoteGate::Biometric)
        .await;
    assert!(matches!(unverified, Err(KeywayError::NotAllowed { .. })));
    sensor.set_matches(true);

    // A new enrolment on the phone makes a new key: until it is registered, it is refused.
    let (other, _) = SoftwareDeviceSigner::generate().unwrap();
    remote
        .use_biometric(sensor.clone(), Arc::new(other))
        .unwrap();
    let mismatch = remote
        .open(r.site_id(), r.lock(0), RemoteGate::Biometric)
        .await
        .unwrap_err();
    assert!(
        matches!(&mismatch, KeywayError::NotAllowed { .. }),
        "{mismatch:?}"
    );
    assert_eq!(r.unlocks(0), 1, "only the matching key opened");
    remote.use_biometric(sensor, signer).unwrap();
    assert!(
        remote
            .open(r.site_id(), r.lock(0), RemoteGate::Biometric)
            .await
            .unwrap()
            .granted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_iq_fails_fast_and_the_command_is_not_queued() {
    let r = remote_site(&["Front"]).await;
    // A second IQ for the same lock, whose key the test keeps, to power it off and on.
    let rng = ring::rand::SystemRandom::new();
    let (key, pkcs8) = SigningKey::generate(&rng).unwrap();
    let admin = r.site.owner.admin();
    let iq_id = admin
        .add_iq(
            r.site_id(),
            "Spare IQ".into(),
            key.public_key().as_bytes().to_vec(),
        )
        .await
        .unwrap();
    admin
        .attach_lock_to_iq(r.site_id(), r.lock(0), iq_id)
        .await
        .unwrap();
    let locks: LockSet = [(r.lock(0), Arc::clone(&r.site.locks[0].lock))].into();
    let start = |key| {
        SimulatedIq::start(
            IqHub::new(iq_id, key),
            locks.clone(),
            IqConnection::to_cloud(&r.world.cloud.base_url()),
        )
    };
    let spare = start(key);
    assert!(spare.wait_for_session(1, Duration::from_secs(10)).await);
    assert!(
        r.tenant
            .remote()
            .open(r.site_id(), r.lock(0), pin(PIN))
            .await
            .unwrap()
            .granted
    );
    spare.stop().await;
    let iqs = &r.world.cloud.state.iqs;
    assert!(
        eventually(|| !iqs.is_online(iq_id)).await,
        "the cloud saw it go"
    );

    let started = Instant::now();
    let offline = r
        .tenant
        .remote()
        .open(r.site_id(), r.lock(0), pin(PIN))
        .await;
    let elapsed = started.elapsed();
    let error = offline.unwrap_err();
    assert!(matches!(&error, KeywayError::Retry { .. }), "{error:?}");
    assert!(elapsed < Duration::from_secs(2), "failed fast: {elapsed:?}");
    assert_eq!(
        r.tenant.remote().pin_status().await.unwrap().failures,
        0,
        "an offline IQ costs no PIN try"
    );
    let back = start(SigningKey::from_pkcs8(&pkcs8, &rng).unwrap());
    assert!(back.wait_for_session(1, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        r.unlocks(0),
        1,
        "nothing was queued for when the IQ came back"
    );
    let outcome: String = r
        .query(
            "SELECT outcome FROM remote_openings WHERE id = (SELECT MAX(id) FROM remote_openings WHERE user_id = ?1)",
            r.tenant_id,
        )
        .await;
    assert_eq!(
        outcome, "granted",
        "the offline request was never recorded as sent"
    );
}
