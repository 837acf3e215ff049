//! `cargo xtask bench live`, second line (the first is the core's propagation,
//! `tests/benches/live_propagation.rs`): the cloud's side of 10,000 open live streams.
//!
//! - `connections: 10000 idle live connections, Z KiB per connection, fan-out of one site-wide
//!   change to all of them in W ms`: the cloud's resident memory grown per open stream (the
//!   listeners run in a child process, so only the server's side is counted), and the time from
//!   a revocation's API call returning to the last of the 10,000 streams holding its
//!   `denylist_changed`.
//!
//! A benchmark, not a test: nothing here fails on a slow machine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
#[path = "../tests/api/api_support/mod.rs"]
mod api_support;

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api_support::Cloud;
use keyway_api::live::{LiveNotice, SseDecoder};
use keyway_api::Role;
use keyway_cloud::auth::tokens::new_token;
use keyway_cloud::StoreError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Idle streams held open.
const CONNECTIONS: usize = 10_000;
/// What a child listener prints once every stream said hello.
const READY: &str = "ready";

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// `VmRSS` of this process, KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A live stream read straight off a socket: what a phone's connection costs the client is
/// not what is measured, so it is kept minimal.
async fn open_stream(addr: &str, token: &str) -> (TcpStream, SseDecoder) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /api/v1/live HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: text/event-stream\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut decoder = SseDecoder::new();
    // The headers, then the hello.
    let mut buffer = vec![0u8; 2048];
    let mut head = Vec::new();
    loop {
        let n = socket.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the cloud closed a live stream");
        head.extend_from_slice(&buffer[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(
                head.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&head)
            );
            // Chunked framing: chunk-size lines never parse as SSE fields, and the event
            // lines pass through whole at these sizes.
            let notices = decoder.feed(&head[end + 4..]).unwrap();
            if notices
                .iter()
                .any(|n| matches!(n, LiveNotice::Hello { .. }))
            {
                return (socket, decoder);
            }
            break;
        }
    }
    loop {
        let n = socket.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the cloud closed a live stream");
        let notices = decoder.feed(&buffer[..n]).unwrap();
        if notices
            .iter()
            .any(|n| matches!(n, LiveNotice::Hello { .. }))
        {
            return (socket, decoder);
        }
    }
}

/// The child process: opens one stream per token read from stdin, prints `ready`, then
/// prints the time (Unix nanoseconds) the last stream received a `denylist_changed`.
async fn listeners(addr: String) {
    let tokens: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.is_empty())
        .collect();
    let mut streams = Vec::with_capacity(tokens.len());
    for chunk in tokens.chunks(500) {
        let opened =
            futures_util::future::join_all(chunk.iter().map(|token| open_stream(&addr, token)))
                .await;
        streams.extend(opened);
    }
    let left = Arc::new(AtomicUsize::new(streams.len()));
    let (done, mut all_done) = tokio::sync::mpsc::channel::<u128>(1);
    for (mut socket, mut decoder) in streams {
        let left = Arc::clone(&left);
        let done = done.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 512];
            loop {
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                let notices = decoder.feed(&buffer[..n]).unwrap_or_default();
                if notices
                    .iter()
                    .any(|n| matches!(n, LiveNotice::DenylistChanged { .. }))
                {
                    if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                        let _ = done.send(now_nanos()).await;
                    }
                    // Keep the socket open until the parent is done.
                    let _ = socket.read(&mut buffer).await;
                    return;
                }
            }
        });
    }
    println!("{READY}");
    std::io::stdout().flush().unwrap();
    let at = all_done.recv().await.unwrap();
    println!("{at}");
    std::io::stdout().flush().unwrap();
    // Wait for the parent to close our stdin.
    let _ = std::io::stdin().lock().lines().next();
}

/// `n` people with claimed places on `site_id` and an access token each.
async fn crowd(cloud: &Cloud, site_id: u32, n: usize) -> Vec<String> {
    let tokens: Vec<(String, Vec<u8>)> = (0..n)
        .map(|_| {
            let (token, hash) = new_token().unwrap();
            (token, hash.to_vec())
        })
        .collect();
    let hashes: Vec<Vec<u8>> = tokens.iter().map(|(_, hash)| hash.clone()).collect();
    cloud
        .running
        .state
        .store
        .transaction(move |tx| {
            for (index, hash) in hashes.iter().enumerate() {
                tx.execute(
                    "INSERT INTO users (email, name, created_at, email_verified_at)
                     VALUES (?1, 'Listener', 0, 0)",
                    [format!("listener{index}@example.com")],
                )?;
                let user_id = tx.last_insert_rowid();
                tx.execute(
                    "INSERT INTO memberships (site_id, user_id, role, created_at, claimed_at)
                     VALUES (?1, ?2, 'user', 0, 0)",
                    rusqlite::params![site_id, user_id],
                )?;
                tx.execute(
                    "INSERT INTO token_families (user_id, created_at) VALUES (?1, 0)",
                    [user_id],
                )?;
                tx.execute(
                    "INSERT INTO access_tokens (token_hash, family_id, user_id, expires_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![hash, tx.last_insert_rowid(), user_id, i64::MAX],
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    tokens.into_iter().map(|(token, _)| token).collect()
}

async fn parent() {
    let cloud = Cloud::start().await;
    let addr = cloud.running.addr.to_string();
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let tenant = cloud.member(&owner, site.site_id, Role::User).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let group = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await;
    let (device, _) = cloud.device(&tenant).await;

    // Connections: 10,000 people of the site listening from a child process.
    let tokens = crowd(&cloud, site.site_id, CONNECTIONS).await;
    // The tenant holds a key again: removing it is the site-wide change.
    cloud
        .set_group_members(&owner, site.site_id, group.group_id, &[tenant.user_id])
        .await;
    cloud.sync(&tenant, device.device_id).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_kib = rss_kib();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--listeners", &addr])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut input = tokens.join("\n");
    input.push_str("\n\n");
    stdin.write_all(input.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::task::spawn_blocking(move || {
        let first = lines.next();
        (first, lines)
    })
    .await
    .unwrap();
    let (first, mut lines) = ready;
    assert_eq!(first.unwrap().unwrap(), READY);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = cloud.running.state.live.stream_count();
    let per_connection_kib = rss_kib().saturating_sub(idle_kib) as f64 / held as f64;
    cloud
        .set_group_members(&owner, site.site_id, group.group_id, &[])
        .await;
    let returned = now_nanos();
    let last: u128 = tokio::task::spawn_blocking(move || lines.next().unwrap().unwrap())
        .await
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let fan_out_ms = last.saturating_sub(returned) as f64 / 1e6;
    println!(
        "connections: {held} idle live connections, {per_connection_kib:.1} KiB per connection, \
         fan-out of one site-wide change to all of them in {fan_out_ms:.0} ms"
    );
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--listeners") {
        listeners(args[at + 1].clone()).await;
        return;
    }
    parent().await;
}
