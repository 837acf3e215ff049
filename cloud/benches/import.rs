//! `cargo xtask bench import`: a 40,000-row, ≈ 2 MB import file with realistic names and
//! e-mails (some invalid and some duplicate rows) imported over HTTP into a fresh cloud (its
//! store on disk, e-mail to the local mailbox), first as a dry run, then for real, timed from
//! the upload to the job's `done` (every batch committed, every invitation queued). Prints one
//! line on stdout:
//!
//! `import: 40000 rows (N bytes) in X ms (dry run Y ms), peak RSS Z MiB`
//!
//! Peak RSS is the process's `VmHWM` (the cloud runs in this process), reset after the idle
//! cloud started (`/proc/self/clear_refs`). On stderr: the idle RSS, when the `202` came,
//! and the slowest of the health requests another client made during the import (the job
//! leaves the store to other requests between batches).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::error::Error;
use std::time::{Duration, Instant};

use keyway_cloud::import::MAX_FILE_BYTES;
use serde_json::{json, Value};

use api_support::Cloud;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const ROWS: usize = 40_000;
const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Ken",
    "Dennis",
    "Donald",
    "Margaret",
    "Linus",
    "Frances",
    "John",
    "Radia",
    "Tim",
    "Katherine",
    "Niklaus",
    "Sophie",
    "Guido",
    "Hedy",
    "Claude",
    "Mary",
    "Anita",
    "Bjarne",
    "Lynn",
    "Jean",
    "Fernando",
    "Ivan",
    "Shafi",
    "Leslie",
    "Yukihiro",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Thompson",
    "Ritchie",
    "Knuth",
    "Hamilton",
    "Torvalds",
    "Allen",
    "McCarthy",
    "Perlman",
    "Berners-Lee",
    "Johnson",
    "Wirth",
    "Wilson",
    "van Rossum",
    "Lamarr",
    "Shannon",
    "Kenyon",
    "Borg",
    "Stroustrup",
    "Conway",
    "Sammet",
    "Corbató",
    "Sutherland",
    "Goldwasser",
    "Lamport",
    "Matsumoto",
];
const DOMAINS: &[&str] = &["example.com", "acme.io", "mail.co", "corp.example"];

/// The benchmark's file: every 400th row has a bad e-mail, every 500th repeats an earlier
/// address, and the alias column is filled up to just under the 2 MB limit.
fn file() -> Result<Vec<u8>> {
    let mut rows = Vec::with_capacity(ROWS);
    for n in 0..ROWS {
        let first = FIRST[n % FIRST.len()];
        let last = LAST[(n / FIRST.len()) % LAST.len()];
        let domain = DOMAINS[n % DOMAINS.len()];
        let initial = first.chars().next().unwrap_or('x');
        let local = format!("{initial}{}{n}", last.replace([' ', 'ó'], "")).to_lowercase();
        let email = if n % 400 == 399 {
            format!("{local}.{domain}")
        } else if n % 500 == 499 {
            format!("{}.{}{}@{}", FIRST[0], LAST[0], 0, DOMAINS[0]).to_lowercase()
        } else {
            format!("{local}@{domain}")
        };
        let role = match n % 50 {
            0 => "Site admin",
            1..=4 => "Super user",
            _ => "User",
        };
        rows.push((first, last, email, role));
    }
    let bare: usize = rows
        .iter()
        .map(|(f, l, e, r)| f.len() + l.len() + e.len() + r.len() + 5)
        .sum();
    let header = "First name,Last name,Email,Alias,User role\n";
    // Spread what room is left under the limit over the aliases.
    let room = MAX_FILE_BYTES
        .checked_sub(4_096 + header.len() + bare)
        .ok_or("the rows alone are larger than the limit")?;
    let alias_len = (room / ROWS).min(16);
    let mut out = header.as_bytes().to_vec();
    for (n, (first, last, email, role)) in rows.iter().enumerate() {
        let alias: String = format!("{first}{n}").chars().take(alias_len).collect();
        out.extend_from_slice(format!("{first},{last},{email},{alias},{role}\n").as_bytes());
    }
    Ok(out)
}

/// A `VmRSS`/`VmHWM`-style line of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| format!("malformed {field}"))?;
    Ok(kib.parse()?)
}

// The integration tests' helpers: this benchmark uses a few of them.
#[allow(dead_code)]
#[path = "../tests/api/api_support/mod.rs"]
mod api_support;

#[tokio::main]
async fn main() -> Result<()> {
    let cloud = Cloud::start().await;
    let base = cloud.running.base_url();
    let token = cloud.account_with_email("owner@example.com").await.token;
    let http = reqwest::Client::new();
    let site: Value = http
        .post(format!("{base}/api/v1/sites"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Tower", "utc_offset_minutes": 0 }))
        .send()
        .await?
        .json()
        .await?;
    let site_id = site["site_id"].as_u64().ok_or("no site id")?;
    let file = file()?;
    let bytes = file.len();
    let imports = format!("{base}/api/v1/sites/{site_id}/imports");

    let idle_kib = status_kib("VmRSS:")?;
    // Peak RSS from here on (Linux: writing 5 resets VmHWM to the current RSS).
    std::fs::write("/proc/self/clear_refs", "5")?;

    let started = Instant::now();
    let preview: Value = http
        .post(format!("{imports}?dry_run=true"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(file.clone())
        .send()
        .await?
        .json()
        .await?;
    let dry_ms = started.elapsed().as_millis();
    if preview["total_rows"].as_u64() != Some(ROWS as u64) {
        return Err(format!("dry run: {preview}").into());
    }

    // Another client asks the cloud's health (a store read) every 10 ms during the import.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let prober = {
        let (http, health) = (http.clone(), format!("{base}/health"));
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut answered = 0u32;
            while !*stopped.borrow_and_update() {
                let asked = Instant::now();
                if http.get(&health).send().await.is_ok() {
                    answered += 1;
                    slowest = slowest.max(asked.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (answered, slowest)
        })
    };
    let started = Instant::now();
    let accepted: Value = http
        .post(&imports)
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await?
        .json()
        .await?;
    let accepted_ms = started.elapsed().as_millis();
    let id = accepted["import_id"].as_u64().ok_or("no import id")?;
    let report = loop {
        let report: Value = http
            .get(format!("{imports}/{id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if report["state"] != "queued" && report["state"] != "running" {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let import_ms = started.elapsed().as_millis();
    stop.send(true)?;
    let (answered, slowest) = prober.await?;
    if report["state"] != "done" || report["imported"] != preview["imported"] {
        return Err(format!("import: {report}").into());
    }
    let peak_mib = status_kib("VmHWM:")? / 1024;
    eprintln!(
        "idle RSS {} MiB; accepted (202) after {accepted_ms} ms; {answered} health requests \
         during the import, the slowest {} ms; imported {}, failed {}, skipped {}",
        idle_kib / 1024,
        slowest.as_millis(),
        report["imported"],
        report["failed_rows"].as_array().map_or(0, Vec::len),
        report["skipped_existing"]
    );
    println!(
        "import: {ROWS} rows ({bytes} bytes) in {import_ms} ms (dry run {dry_ms} ms), peak RSS \
         {peak_mib} MiB"
    );
    cloud.stop().await;
    Ok(())
}
