//! `cargo xtask bench people`: the people list of a site of 40,000 over HTTP. Fills a fresh
//! store, then times the first page and page 400 (50 a page), and prints one line.
//! A benchmark, not a test: nothing here fails on a slow machine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// The integration tests' helpers: this benchmark uses a few of them.
#[allow(dead_code)]
#[path = "../tests/api/api_support/mod.rs"]
mod api_support;

use std::time::{Duration, Instant};

use api_support::{Caller, Cloud};
use seed::{fill, PEOPLE};

/// The 40,000 people (shared with the console's benchmark).
mod seed;

/// People on a page.
const PAGE: u32 = 50;
/// The deep page timed.
const DEEP_PAGE: u32 = 400;
/// Requests timed for each of the two pages.
const REQUESTS: usize = 200;

/// The milliseconds of `quantile` (0 to 1) of sorted durations.
fn millis(sorted: &[Duration], quantile: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Times `REQUESTS` gets of `path`, sorted.
async fn time(cloud: &Cloud, owner: &Caller, path: &str) -> Vec<Duration> {
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let page = cloud.people_page(owner, path).await;
        times.push(started.elapsed());
        assert_eq!(page.people.len(), PAGE as usize);
    }
    times.sort();
    times
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cloud = Cloud::start().await;
        let owner = cloud.account().await;
        let site = cloud.site(&owner).await;
        let site_id = site.site_id;
        fill(&cloud, site_id).await;
        let first_path = format!("/api/v1/sites/{site_id}/people?limit={PAGE}");
        let first = cloud.people_page(&owner, &first_path).await;
        assert_eq!(first.total, u64::from(PEOPLE));

        // The cursor that opens page 400, by walking there once.
        let mut cursor = first.next_cursor.unwrap();
        for _ in 2..DEEP_PAGE {
            let page = cloud
                .people_page(&owner, &format!("{first_path}&cursor={cursor}"))
                .await;
            cursor = page.next_cursor.unwrap();
        }
        let deep_path = format!("{first_path}&cursor={cursor}");

        let first_times = time(&cloud, &owner, &first_path).await;
        let deep_times = time(&cloud, &owner, &deep_path).await;
        println!(
            "people: {PEOPLE} on the site, page of {PAGE}: p50 {:.2} ms, p99 {:.2} ms (first \
             page), p50 {:.2} ms (page {DEEP_PAGE})",
            millis(&first_times, 0.5),
            millis(&first_times, 0.99),
            millis(&deep_times, 0.5),
        );
        cloud.stop().await;
    });
}
