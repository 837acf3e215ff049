//! `keyway demo`: a site authority, two simulated locks and a phone, then an offline BLE
//! unlock, a refusal out of scope, and a replayed request — each step timed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::Args;
use keyway_core::ffi::{inspect_credential, UnlockReport};
use keyway_core::simulator::{SimulatedSite, SIMULATED_ACTUATION};
use keyway_protocol::event::{verify_chain, GENESIS_HASH};
use keyway_protocol::frame::Reassembler;
use keyway_protocol::SignedEvent;
use keyway_sim::{LinkConfig, SimulatedLink};

const FRONT_DOOR: u32 = 1001;
const STORAGE_ROOM: u32 = 1002;

/// Options of `keyway demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// ATT MTU of the simulated BLE link.
    #[arg(long, default_value_t = 185)]
    mtu: usize,
    /// One-way latency of each BLE packet, in milliseconds.
    #[arg(long, default_value_t = 8)]
    packet_latency_ms: u64,
}

/// Runs the demo and prints what happened.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    println!("Keyway demo: a phone opens simulated locks over BLE with a cloud-signed key.");
    println!("The locks have no network: they check everything on their own.");

    let started = Instant::now();
    let link = LinkConfig {
        mtu: args.mtu,
        connect_latency: Duration::from_millis(30),
        packet_latency: Duration::from_millis(args.packet_latency_ms),
    };
    let site = SimulatedSite::with_link(vec![FRONT_DOOR, STORAGE_ROOM], link, SIMULATED_ACTUATION)?;
    let key = site.issue_key(vec![FRONT_DOOR], 3600)?;
    let info = inspect_credential(key.clone())?;
    step(1, "provision", started.elapsed());
    println!("    site authority key, locks {FRONT_DOOR} (front door) and {STORAGE_ROOM} (storage room),");
    println!("    a phone device key, and a digital key for the front door only:");
    println!(
        "    key #{} for user {}, locks {:?}, {} bytes, valid for 1 h",
        info.credential_id, info.user_id, info.lock_ids, info.size_bytes
    );

    let report = site.unlock(FRONT_DOOR, key.clone()).await?;
    let captured = site.radio().captured_writes();
    print_unlock(2, "unlock the front door", &report);

    let report = site.unlock(STORAGE_ROOM, key).await?;
    print_unlock(3, "try the storage room with the same key", &report);

    let started = Instant::now();
    let answer_len = replay(&site, FRONT_DOOR, &captured)?;
    step(
        4,
        "an eavesdropper replays the captured front-door request",
        started.elapsed(),
    );
    let last = last_event(&site, FRONT_DOOR)?;
    println!(
        "    {} fragments replayed, {answer_len} sealed bytes back (unreadable without the session key)",
        captured.len()
    );
    println!("    lock says: {}", describe(&last));

    print_log(&site, FRONT_DOOR)?;
    Ok(())
}

fn step(number: u32, title: &str, took: Duration) {
    println!(
        "\n[{number}] {title}  ({:.1} ms)",
        took.as_secs_f64() * 1000.0
    );
}

fn print_unlock(number: u32, title: &str, report: &UnlockReport) {
    let total = report.connect_ms + report.handshake_ms + report.actuate_ms;
    println!("\n[{number}] {title}  ({total:.1} ms)");
    match &report.refusal_message {
        None => println!("    GRANTED: lock {} opened", report.lock_id),
        Some(message) => println!("    REFUSED by lock {}: {message}", report.lock_id),
    }
    println!(
        "    connect {:.1} ms | handshake {:.1} ms | actuate {:.1} ms",
        report.connect_ms, report.handshake_ms, report.actuate_ms
    );
    println!(
        "    phone wrote {} B in {} writes; lock notified {} B",
        report.bytes_written, report.writes, report.bytes_notified
    );
}

/// Plays captured request fragments into a new session with the lock, as an attacker's own
/// radio would, and returns the length of what the lock answered.
fn replay(site: &SimulatedSite, lock_id: u32, captured: &[Vec<u8>]) -> anyhow::Result<usize> {
    let lock = site.lock(lock_id)?;
    let link = SimulatedLink::new(Arc::clone(&lock), LinkConfig::default());
    let mut session = link.connect()?;
    let _challenge = session.notifications();
    for fragment in captured {
        session.write(fragment)?;
    }
    let mut reassembler = Reassembler::new();
    let mut answer = None;
    for fragment in session.notifications() {
        answer = reassembler.push(&fragment)?.or(answer);
    }
    session.disconnect();
    answer
        .map(|bytes| bytes.len())
        .ok_or_else(|| anyhow!("the lock did not answer the replay"))
}

fn last_event(site: &SimulatedSite, lock_id: u32) -> anyhow::Result<SignedEvent> {
    let lock = site.lock(lock_id)?;
    let guard = lock.lock().map_err(|_| anyhow!("lock state poisoned"))?;
    guard
        .events()
        .last()
        .cloned()
        .context("the lock logged nothing")
}

fn describe(record: &SignedEvent) -> String {
    match record.event().refusal {
        None => "GRANTED".to_string(),
        Some(reason) => format!("REFUSED: {reason} ({reason:?})"),
    }
}

fn print_log(site: &SimulatedSite, lock_id: u32) -> anyhow::Result<()> {
    let lock = site.lock(lock_id)?;
    let guard = lock.lock().map_err(|_| anyhow!("lock state poisoned"))?;
    let records = guard.events();
    let head = verify_chain(lock_id, &guard.public_key(), (0, GENESIS_HASH), records)?;
    println!(
        "\nEvent log of lock {lock_id} ({} records, signatures and hash chain verified):",
        head.0
    );
    for record in records {
        let event = record.event();
        let time = chrono::DateTime::from_timestamp(event.time, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| event.time.to_string());
        println!(
            "    #{} {time}  user {} key #{}  {}",
            event.seq,
            event.user_id,
            event.credential_id,
            describe(record)
        );
    }
    Ok(())
}
