//! Tenant commands for a real person at a terminal: `keyway login`, `keyway keys`,
//! `keyway watch`, `keyway codes`, `keyway unlock`. The CLI is a phone like any other: same core, a 0600 file as secure
//! store, a software device key.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use clap::Args;
use keyway_core::platform::{file_secure_store, software_device_signer};
use keyway_core::unlock::BleTransport;
use keyway_core::{Keyway, KeywayConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::paths;

/// Options of `keyway login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The Keyway cloud, e.g. https://cloud.example (http only on loopback).
    #[arg(long)]
    server: String,
}

/// Options of `keyway unlock`.
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The lock id.
    lock_id: u32,
    /// Use this machine's Bluetooth adapter (btleplug; needs a build with `--features ble`).
    #[arg(long)]
    ble: bool,
    /// How long to scan for the lock, in seconds.
    #[arg(long, default_value_t = 10)]
    scan_timeout_secs: u64,
}

fn settings_path() -> PathBuf {
    paths::phone_dir().join("settings.json")
}

/// The cloud `keyway login` logged in to.
pub(crate) fn logged_in_server() -> anyhow::Result<String> {
    let text = std::fs::read_to_string(settings_path())
        .context("not logged in: run `keyway login --server URL`")?;
    let settings: serde_json::Value = serde_json::from_str(&text)?;
    Ok(settings["server"]
        .as_str()
        .ok_or_else(|| anyhow!("settings.json has no server"))?
        .to_string())
}

/// The CLI's phone: the session of `keyway login` (or a new one for `server`).
pub(crate) fn open_phone(
    server: Option<&str>,
    transport: Option<Arc<dyn BleTransport>>,
) -> anyhow::Result<Arc<Keyway>> {
    let dir = paths::phone_dir();
    let server = match server {
        Some(server) => server.to_string(),
        None => logged_in_server()?,
    };
    let store = file_secure_store(dir.join("secure-store.json").display().to_string());
    let signer = software_device_signer(Arc::clone(&store))?;
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "terminal".into());
    let config = KeywayConfig {
        server_url: server,
        data_dir: dir.display().to_string(),
        device_name: format!("keyway CLI on {host}"),
        platform: "cli".into(),
    };
    Ok(Keyway::new(config, store, signer, transport)?)
}

/// `keyway login`: opens the cloud's login page in your browser and waits for its redirect
/// on a loopback port (RFC 8252 §7.3), then registers this device.
pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let phone = open_phone(Some(&args.server), None)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let redirect_uri = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr()?.port()
    );
    let request = phone.auth().start_login(redirect_uri)?;
    println!(
        "Open this address in your browser and log in:\n\n  {}\n",
        request.authorize_url
    );
    println!("Waiting for the browser to come back…");
    let (mut socket, _) = listener.accept().await?;
    let mut buffer = vec![0u8; 8192];
    let read = socket.read(&mut buffer).await?;
    let head = String::from_utf8_lossy(buffer.get(..read).unwrap_or_default()).to_string();
    let path = head
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow!("the browser sent no request line"))?;
    let page =
        "<!doctype html><title>Keyway</title><p>You are logged in. You can close this tab.</p>";
    let response = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len());
    socket.write_all(response.as_bytes()).await?;
    phone
        .auth()
        .finish_login(format!(
            "{}{}",
            request.redirect_uri.trim_end_matches("/callback"),
            path
        ))
        .await?;
    std::fs::create_dir_all(paths::phone_dir())?;
    std::fs::write(
        settings_path(),
        serde_json::to_vec_pretty(&json!({ "server": args.server }))?,
    )?;
    let device = phone.devices().register().await?;
    println!(
        "Logged in. This terminal is device {} (\"{}\").",
        device.device_id, device.name
    );
    Ok(())
}

/// `keyway keys`: syncs and lists the wallet.
pub async fn keys() -> anyhow::Result<()> {
    let phone = open_phone(None, None)?;
    let summary = phone.wallet().sync().await?;
    println!(
        "{} key(s) ({} new, {} removed)",
        summary.keys, summary.added, summary.removed
    );
    for key in phone.wallet().keys().await? {
        let until = chrono::DateTime::from_timestamp(key.not_after, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        for lock in &key.locks {
            println!(
                "  lock {:>6}  {:<24} {}  key #{} until {until}",
                lock.lock_id, lock.name, key.site_name, key.credential_id
            );
        }
    }
    Ok(())
}

/// `keyway codes`: syncs the IQ-code secrets and prints the current 5-character code of
/// every IQ where you may open remotely, as the app shows it (one line each:
/// `IQ <iq id> <code> <seconds left>s <IQ name>`), for the remote-opening web page.
pub async fn codes() -> anyhow::Result<()> {
    let phone = open_phone(None, None)?;
    let remote = phone.remote();
    remote.sync_code_secrets().await?;
    let codes = remote.iq_codes().await?;
    if codes.is_empty() {
        println!("No IQ where you may open remotely.");
    }
    for code in codes {
        println!(
            "IQ {} {} {}s {} (site {})",
            code.iq_id, code.code, code.seconds_left, code.iq_name, code.site_id
        );
    }
    Ok(())
}

/// What the live channel told, for the terminal.
#[derive(Debug, Clone, Copy)]
enum Told {
    Keys,
    Pods,
    Remote,
    SessionEnded,
}

/// Hands the live channel's calls to the terminal's loop.
struct Forward(tokio::sync::mpsc::UnboundedSender<Told>);

impl keyway_core::live::ChangeObserver for Forward {
    fn keys_changed(&self) {
        let _ = self.0.send(Told::Keys);
    }
    fn pods_changed(&self) {
        let _ = self.0.send(Told::Pods);
    }
    fn remote_locks_changed(&self) {
        let _ = self.0.send(Told::Remote);
    }
    fn session_ended(&self) {
        let _ = self.0.send(Told::SessionEnded);
    }
}

/// `keyway watch`: holds the live channel open and prints the wallet whenever it changes,
/// until Ctrl-C or the end of the session.
pub async fn watch() -> anyhow::Result<()> {
    let phone = open_phone(None, None)?;
    let (sender, mut told) = tokio::sync::mpsc::unbounded_channel();
    phone.live().start(Arc::new(Forward(sender)))?;
    println!("Watching for access changes (Ctrl-C to stop).");
    loop {
        let next = tokio::select! {
            next = told.recv() => next,
            _ = tokio::signal::ctrl_c() => None,
        };
        match next {
            Some(Told::Keys) => {
                let keys = phone.wallet().keys().await?;
                let locks: usize = keys.iter().map(|key| key.locks.len()).sum();
                println!("keys: {} key(s), {locks} lock(s)", keys.len());
            }
            Some(Told::Pods) => println!("pods changed"),
            Some(Told::Remote) => println!("remote locks changed"),
            Some(Told::SessionEnded) => {
                phone.live().stop();
                return Err(anyhow!("the session ended: run `keyway login` again"));
            }
            None => break,
        }
    }
    phone.live().stop();
    Ok(())
}

/// `keyway unlock LOCK --ble`: opens a lock over BLE.
pub async fn unlock(args: UnlockArgs) -> anyhow::Result<()> {
    if !args.ble {
        return Err(anyhow!(
            "a terminal has no BLE transport unless asked: run `keyway unlock {} --ble` \
             (with a keyway built with `--features ble`)",
            args.lock_id
        ));
    }
    let transport = ble_transport(Duration::from_secs(args.scan_timeout_secs)).await?;
    let phone = open_phone(None, Some(transport))?;
    let report = phone.wallet().unlock(args.lock_id).await?;
    match report.refusal_message {
        None => println!(
            "Lock {} opened ({:.0} ms).",
            args.lock_id,
            report.connect_ms + report.handshake_ms
        ),
        Some(message) => println!("Lock {} refused: {message}", args.lock_id),
    }
    let uploaded = phone.events().upload().await;
    if let Err(error) = uploaded {
        println!("(the lock's event stays queued for upload: {error})");
    }
    Ok(())
}

/// The machine's Bluetooth adapter through btleplug.
#[cfg(feature = "ble")]
async fn ble_transport(scan_timeout: Duration) -> anyhow::Result<Arc<dyn BleTransport>> {
    let transport = keyway_core::unlock::BtleplugTransport::new(scan_timeout)
        .await
        .context("cannot use this machine's Bluetooth adapter")?;
    Ok(Arc::new(transport))
}

/// Without the `ble` feature there is no BLE stack in this binary.
#[cfg(not(feature = "ble"))]
async fn ble_transport(_scan_timeout: Duration) -> anyhow::Result<Arc<dyn BleTransport>> {
    Err(anyhow!(
        "this keyway was built without BLE: rebuild it with \
         `cargo build -p keyway-cli --features ble` (on Linux it needs BlueZ, \
         and libdbus-1-dev and pkg-config to build)"
    ))
}
