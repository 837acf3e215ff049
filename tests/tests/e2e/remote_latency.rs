//! Remote-open latency on loopback, split into cloud, IQ and lock (median of 100 each with
//! the PIN gate and the biometric gate). Run with `--nocapture` to see the table:
//! `cargo test -p keyway-e2e --test e2e remote_latency -- --nocapture`.

use crate::remote_support;

use std::sync::Arc;
use std::time::Instant;

use keyway_core::remote::{RemoteGate, RemoteReport};
use keyway_core::simulator::simulated_biometric;
use remote_support::{remote_site, PIN};

const RUNS: usize = 100;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn summary(label: &str, reports: &[(f64, RemoteReport)]) -> f64 {
    let column = |pick: fn(&(f64, RemoteReport)) -> f64| median(reports.iter().map(pick).collect());
    let app = column(|(app, _)| *app);
    println!(
        "{label:<10} app {app:6.2} ms | at the cloud {:6.2} = cloud {:6.2} + WebSocket {:5.2} \
         + IQ {:5.2} + lock {:5.2} ms",
        column(|(_, r)| r.total_ms),
        column(|(_, r)| r.cloud_ms),
        column(|(_, r)| r.link_ms),
        column(|(_, r)| r.iq_ms),
        column(|(_, r)| r.lock_ms),
    );
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_open_latency_on_loopback() {
    let r = remote_site(&["Front"]).await;
    let remote = r.tenant.remote();
    let (sensor, signer) = simulated_biometric().unwrap();
    remote
        .enroll_biometric(sensor, Arc::clone(&signer))
        .await
        .unwrap();
    let mut results = Vec::new();
    for (label, gate) in [
        ("PIN", RemoteGate::Pin { pin: PIN.into() }),
        ("biometric", RemoteGate::Biometric),
    ] {
        let mut reports = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            let report = remote
                .open(r.site_id(), r.lock(0), gate.clone())
                .await
                .unwrap();
            let app = started.elapsed().as_secs_f64() * 1000.0;
            assert!(report.granted, "{report:?}");
            reports.push((app, report));
        }
        results.push((label, reports));
    }
    println!("\nremote open on loopback, median of {RUNS} (lock motor time zero):");
    for (label, reports) in &results {
        let app = summary(label, reports);
        assert!(app < 2_000.0, "{label}: {app} ms");
    }
    assert_eq!(r.unlocks(0), 2 * RUNS as u64);
}
