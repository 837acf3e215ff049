//! `cargo xtask bench console`: the admin console's People page for a site of 40,000 people,
//! rendered by the cloud and fetched over loopback HTTP with a signed-in session. Fills a
//! fresh store, then times the first page and page 400 (50 a page), and prints one line.
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

use api_support::console::{person, Browser};
use api_support::Cloud;
use reqwest::StatusCode;
use seed::{fill, PEOPLE};

/// The 40,000 people (shared with the people list's benchmark).
mod seed;

/// The deep page timed.
const DEEP_PAGE: u32 = 400;
/// Requests timed for each of the two pages.
const REQUESTS: usize = 200;

/// The milliseconds of `quantile` (0 to 1) of sorted durations.
fn millis(sorted: &[Duration], quantile: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The page's *Next page* address.
fn next_page(page: &str) -> String {
    let marker = "rel=\"next\" href=\"";
    let start = page.find(marker).unwrap() + marker.len();
    page[start..][..page[start..].find('"').unwrap()].replace("&amp;", "&")
}

/// Times `REQUESTS` renderings of `path`, sorted.
async fn time(browser: &Browser, path: &str) -> Vec<Duration> {
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let (status, page) = browser.get(path).await;
        times.push(started.elapsed());
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("</table>"));
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
        let (email, owner) = person(&cloud).await;
        let site_id = cloud.site(&owner).await.site_id;
        fill(&cloud, site_id).await;
        let browser = Browser::sign_in(&cloud, &email).await;
        let first_path = format!("/web/console/sites/{site_id}/people");
        let (_, first) = browser.get(&first_path).await;
        assert!(first.contains(&format!("{PEOPLE} people match")), "{first}");

        // The address of page 400, by following Next page there once.
        let mut deep_path = next_page(&first);
        for _ in 2..DEEP_PAGE {
            deep_path = next_page(&browser.get(&deep_path).await.1);
        }

        let first_times = time(&browser, &first_path).await;
        let deep_times = time(&browser, &deep_path).await;
        println!(
            "console: People page of a site of {PEOPLE}, 50 a page, rendered and fetched: p50 \
             {:.2} ms, p99 {:.2} ms (first page), p50 {:.2} ms (page {DEEP_PAGE})",
            millis(&first_times, 0.5),
            millis(&first_times, 0.99),
            millis(&deep_times, 0.5),
        );
        cloud.stop().await;
    });
}
