//! `keyway sim lock --stdio`: one simulated lock ([`SimulatedLock`]) speaking raw BLE frames
//! over stdin/stdout, so that any BLE peripheral front-end (a mocked BlueZ, a real GATT server,
//! a test) can put it on the air.
//!
//! # The stdio framing
//!
//! Text lines, one event per line, bytes as lowercase hex. Input (front-end → lock):
//!
//! | line | meaning |
//! | --- | --- |
//! | `C <mtu>` | a phone connected and subscribed to the notify characteristic, at this ATT MTU |
//! | `W <hex>` | the phone wrote one fragment to the write characteristic |
//! | `A` | the phone confirmed every notification sent so far (an indication's confirmation) |
//! | `D` | the phone disconnected (or the link dropped) |
//!
//! Empty lines and lines starting with `#` are ignored. Output (lock → front-end):
//!
//! | line | meaning |
//! | --- | --- |
//! | `R <lock id> <lock public key, hex>` | once, at start: the lock is ready |
//! | `N <hex>` | send this fragment as a notification on the notify characteristic |
//! | `OK` | the answer to the input line is complete |
//! | `E <text>` | the input line failed (bad line, write without connection…); nothing to send |
//!
//! An answer whose notifications are never confirmed (`D` before `A`) was lost with the link:
//! the lock keeps its record and appends it to the next sealed answer, to whoever connects.
//!
//! Every input line gets zero or more `N` lines followed by exactly one `OK` or `E` line, so a
//! front-end can treat the lock as a synchronous request/answer service. The lock keeps its own
//! state and hash-chained event log for the life of the process (and appends each signed event
//! record, hex, to `--event-log` when given). Stdout carries nothing but these lines;
//! diagnostics go to stderr. The process ends at the end of stdin.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use clap::{Args, Subcommand};
use keyway_protocol::{PublicKey, SigningKey};
use keyway_sim::{LockConfig, SimulatedLock};
use ring::rand::SystemRandom;

/// `keyway sim …`: simulated hardware.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Run one simulated lock speaking raw BLE frames (see `--stdio`).
    Lock(LockArgs),
    /// Install a simulated IQ and its locks on a site (with the session of `keyway login`)
    /// and keep it connected to the cloud until stdin ends; prints what the locks do.
    Iq(crate::sim_iq::IqArgs),
}

/// Options of `keyway sim lock`.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Speak the line framing on stdin/stdout: in `C <mtu>`, `W <hex>`, `A`, `D`; out `R …` once,
    /// then `N <hex>`… followed by `OK` or `E <text>` for each input line.
    #[arg(long)]
    stdio: bool,
    /// The lock's id (advertised in the service data).
    #[arg(long)]
    lock_id: u32,
    /// The site the lock belongs to.
    #[arg(long)]
    site_id: u32,
    /// The site authority public key, base64 of the 65-byte uncompressed P-256 point.
    #[arg(long)]
    authority_key: String,
    /// A file holding the lock key as PKCS#8 (DER); a fresh key is made when absent.
    #[arg(long)]
    lock_key_pkcs8: Option<PathBuf>,
    /// The site's offset from UTC, in minutes, for weekly schedules.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    utc_offset_minutes: i32,
    /// How long the motor takes when the lock acts, in milliseconds.
    #[arg(long, default_value_t = 0)]
    actuation_ms: u64,
    /// Append each signed event record (hex, one a line) to this file.
    #[arg(long)]
    event_log: Option<PathBuf>,
}

/// Runs a `keyway sim` command.
pub async fn run(command: SimCommand) -> anyhow::Result<()> {
    match command {
        SimCommand::Lock(args) => tokio::task::spawn_blocking(move || serve_lock(args))
            .await
            .context("the lock task failed")?,
        SimCommand::Iq(args) => crate::sim_iq::run(args).await,
    }
}

fn serve_lock(args: LockArgs) -> anyhow::Result<()> {
    if !args.stdio {
        bail!("only --stdio is supported: `keyway sim lock --stdio --lock-id …`");
    }
    let mut lock = build_lock(&args)?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "R {} {}",
        lock.lock_id(),
        hex::encode(lock.public_key().as_bytes())
    )?;
    out.flush()?;
    eprintln!(
        "keyway sim lock {}: ready (site {}), reading frames on stdin",
        lock.lock_id(),
        lock.config().site_id
    );
    let mut logged = 0;
    for line in stdin.lock().lines() {
        let line = line.context("reading stdin")?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match handle(&mut lock, line) {
            Ok(notifications) => {
                for fragment in notifications {
                    writeln!(out, "N {}", hex::encode(fragment))?;
                }
                writeln!(out, "OK")?;
            }
            Err(error) => {
                let text = error.to_string().replace(['\r', '\n'], " ");
                eprintln!("keyway sim lock {}: {text}", lock.lock_id());
                writeln!(out, "E {text}")?;
            }
        }
        out.flush()?;
        logged = record_new_events(&lock, logged, args.event_log.as_deref())?;
    }
    eprintln!(
        "keyway sim lock {}: stdin closed after {} event(s), {} unlock(s)",
        lock.lock_id(),
        lock.events().len(),
        lock.unlock_count()
    );
    Ok(())
}

fn build_lock(args: &LockArgs) -> anyhow::Result<SimulatedLock> {
    let authority = base64::engine::general_purpose::STANDARD
        .decode(args.authority_key.trim())
        .context("--authority-key is not base64")?;
    let authority_key = PublicKey::from_bytes(&authority)
        .map_err(|e| anyhow!("--authority-key is not a P-256 public key: {e}"))?;
    let config = LockConfig {
        lock_id: args.lock_id,
        site_id: args.site_id,
        authority_key,
        utc_offset_minutes: args.utc_offset_minutes,
        actuation: Duration::from_millis(args.actuation_ms),
        // The `keyway sim lock` process has no IQ: a standalone lock.
        paired_with_iq: false,
        offline_capacity: keyway_sim::lock::DEFAULT_OFFLINE_CAPACITY,
    };
    let lock = match &args.lock_key_pkcs8 {
        Some(path) => {
            let pkcs8 = std::fs::read(path)
                .with_context(|| format!("reading the lock key {}", path.display()))?;
            let key = SigningKey::from_pkcs8(&pkcs8, &SystemRandom::new())
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            SimulatedLock::with_key(config, key)?
        }
        None => SimulatedLock::new(config)?,
    };
    Ok(lock)
}

/// One input line: the notification fragments to send.
fn handle(lock: &mut SimulatedLock, line: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    match verb {
        "C" => {
            let mtu: usize = rest
                .parse()
                .map_err(|_| anyhow!("`C` takes the ATT MTU, got {rest:?}"))?;
            if lock.connection_id().is_some() {
                eprintln!(
                    "keyway sim lock {}: new connection replaces the open one",
                    lock.lock_id()
                );
            }
            Ok(lock.on_connect(mtu)?)
        }
        "W" => {
            let fragment = hex::decode(rest).map_err(|e| anyhow!("`W` takes hex bytes: {e}"))?;
            if fragment.is_empty() {
                bail!("`W` with no bytes");
            }
            Ok(lock.on_write(&fragment)?)
        }
        "A" => {
            lock.on_delivered();
            Ok(Vec::new())
        }
        "D" => {
            lock.on_disconnect();
            Ok(Vec::new())
        }
        other => bail!("unknown line `{other}` (expected C, W, A or D)"),
    }
}

/// Reports (stderr) and appends (`event_log`) the events recorded since `logged`.
fn record_new_events(
    lock: &SimulatedLock,
    logged: usize,
    event_log: Option<&std::path::Path>,
) -> anyhow::Result<usize> {
    let events = lock.events();
    let new = events.get(logged..).unwrap_or_default();
    if new.is_empty() {
        return Ok(events.len());
    }
    let mut file = match event_log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening the event log {}", path.display()))?,
        ),
        None => None,
    };
    for record in new {
        let event = record.event();
        let verdict = event.refusal.map_or_else(
            || "granted".to_string(),
            |reason| format!("refused {reason}"),
        );
        eprintln!(
            "keyway sim lock {}: event #{} {verdict} (credential {}, command {})",
            event.lock_id, event.seq, event.credential_id, event.command
        );
        if let Some(file) = file.as_mut() {
            writeln!(file, "{}", hex::encode(record.as_bytes()))?;
        }
    }
    Ok(events.len())
}
