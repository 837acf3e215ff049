//! `keyway sim iq`: a simulated IQ hub and its simulated locks, installed on a site with the
//! session of `keyway login` (an owner or admin of the site, as an installer's phone would)
//! and connected to that cloud's IQ WebSocket, as long as the process runs. The locks run
//! their motor for `--actuation-ms` on every granted command, and report on stdout what they
//! did, so a test (the browser tests, `web-tests/phone.test.mjs`) can see a door open.
//!
//! # Output
//!
//! Text lines on stdout, nothing else there; diagnostics go to stderr.
//!
//! | line | meaning |
//! | --- | --- |
//! | `LOCK <lock id> <name>` | a lock is registered at the cloud (one line per `--lock`) |
//! | `IQ <iq id> online` | the IQ is registered, has the locks and is logged in to the cloud |
//! | `EVENT <lock id> <seq> granted <user id>` | the lock did what it was asked (motor run) |
//! | `EVENT <lock id> <seq> refused <user id> <reason>` | the lock refused |
//!
//! The process ends at the end of stdin or on Ctrl-C, stopping the IQ; the locks' records
//! reach the cloud through the IQ (every 100 ms) while it runs.

use std::time::Duration;

use anyhow::bail;
use base64::Engine as _;
use clap::Args;
use keyway_core::simulator::{install_simulated_iq, install_simulated_lock, SimulatedRemoteSite};

use crate::tenant::{logged_in_server, open_phone};

/// How often the locks' logs are read for new records.
const POLL: Duration = Duration::from_millis(50);

/// Options of `keyway sim iq`.
#[derive(Debug, Args)]
pub struct IqArgs {
    /// The site to install on (you must be its owner or an admin).
    #[arg(long)]
    site_id: u32,
    /// The site authority public key, base64 of the 65-byte uncompressed P-256 point (the
    /// site's `authority_public_key`).
    #[arg(long)]
    authority_key: String,
    /// A lock to install behind the IQ, by name (repeat for more).
    #[arg(long = "lock", required = true)]
    locks: Vec<String>,
    /// The IQ's name at the cloud.
    #[arg(long, default_value = "Simulated IQ")]
    name: String,
    /// The site's offset from UTC, in minutes, for weekly schedules.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    utc_offset_minutes: i32,
    /// How long each lock's motor runs when it acts, in milliseconds.
    #[arg(long, default_value_t = 300)]
    actuation_ms: u64,
}

/// Runs `keyway sim iq` until stdin ends or Ctrl-C.
pub async fn run(args: IqArgs) -> anyhow::Result<()> {
    let authority = base64::engine::general_purpose::STANDARD
        .decode(args.authority_key.trim())
        .map_err(|_| anyhow::anyhow!("--authority-key is not base64"))?;
    let admin = open_phone(None, None)?;
    let server = logged_in_server()?;
    let mut locks = Vec::with_capacity(args.locks.len());
    for name in &args.locks {
        let lock = install_simulated_lock(
            &admin,
            args.site_id,
            &authority,
            name,
            args.utc_offset_minutes,
            Duration::from_millis(args.actuation_ms),
        )
        .await?;
        println!("LOCK {} {}", lock.lock_id, lock.name);
        locks.push(lock);
    }
    let site = install_simulated_iq(&admin, &server, args.site_id, &args.name, &locks).await?;
    println!("IQ {} online", site.iq_id());
    eprintln!(
        "keyway sim iq {}: {} lock(s) on site {}, connected to {server}; stdin's end stops it",
        site.iq_id(),
        locks.len(),
        args.site_id
    );
    let result = report_until_stopped(&site).await;
    site.stop().await;
    result
}

/// Resolves when stdin ends (read on a thread of its own: std's stdin blocks).
fn end_of_stdin() -> tokio::sync::oneshot::Receiver<()> {
    let (ended, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut sink = std::io::sink();
        // An error reading stdin ends it too.
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut sink);
        let _ = ended.send(());
    });
    receiver
}

/// Prints each lock's new records until stdin ends or Ctrl-C.
async fn report_until_stopped(site: &SimulatedRemoteSite) -> anyhow::Result<()> {
    let mut stdin_ended = end_of_stdin();
    let mut printed = vec![0usize; site.lock_ids().len()];
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = &mut stdin_ended => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tick.tick() => print_new_events(site, &mut printed)?,
        }
    }
}

fn print_new_events(site: &SimulatedRemoteSite, printed: &mut [usize]) -> anyhow::Result<()> {
    for (lock_id, seen) in site.lock_ids().into_iter().zip(printed.iter_mut()) {
        let events = site.lock_events(lock_id)?;
        let Some(new) = events.get(*seen..) else {
            bail!("lock {lock_id}'s log shrank");
        };
        for event in new {
            match event.refusal {
                None => println!("EVENT {lock_id} {} granted {}", event.seq, event.user_id),
                Some(reason) => println!(
                    "EVENT {lock_id} {} refused {} {reason:?}",
                    event.seq, event.user_id
                ),
            }
        }
        *seen = events.len();
    }
    Ok(())
}
