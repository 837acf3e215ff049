//! Web remote opening with the 5-character code: the app shows the code of the current step,
//! the cloud's web page takes codes of the previous, current and next step, each once, never
//! an older one, and throttles wrong codes; the IQ checks the code again before relaying.

use crate::remote_support;

use std::time::Duration;

use keyway_api::ErrorCode;
use keyway_core::simulator::SimulatedWebBrowser;
use keyway_e2e::PASSWORD;
use keyway_protocol::iq_code::{iq_code_at, iq_code_for_step, iq_time_step};
use remote_support::{remote_site, Remote, OWNER};
use reqwest::StatusCode;

async fn sign_in(r: &Remote) -> SimulatedWebBrowser {
    let browser = SimulatedWebBrowser::sign_in(&r.world.cloud.base_url(), OWNER, PASSWORD)
        .await
        .unwrap();
    assert!(browser.page().await.unwrap().contains("Front"));
    browser
}

/// The page's status, the machine code of its error (none when the lock answered), and the
/// message it shows.
async fn open(
    r: &Remote,
    browser: &SimulatedWebBrowser,
    code: &str,
) -> (StatusCode, Option<ErrorCode>, String) {
    let answer = browser.open(r.site_id(), r.lock(0), code).await.unwrap();
    (
        StatusCode::from_u16(answer.status).unwrap(),
        answer.error,
        answer.message.unwrap_or_default(),
    )
}

/// The owner's phone, registered, with its code secrets synced; waits until the current
/// step has at least 12 seconds left so the test stays inside it.
async fn owner_with_codes(r: &Remote) -> (u64, Vec<u8>) {
    r.site.owner.devices().register().await.unwrap();
    assert_eq!(r.site.owner.remote().sync_code_secrets().await.unwrap(), 1);
    let shown = r.site.owner.remote().iq_code(r.iq.iq_id()).await.unwrap();
    if shown.seconds_left < 12 {
        tokio::time::sleep(Duration::from_secs(u64::from(shown.seconds_left) + 1)).await;
    }
    let shown = r.site.owner.remote().iq_code(r.iq.iq_id()).await.unwrap();
    let secret: Vec<u8> = r
        .query(
            "SELECT keyway_open('iq_code_secrets.secret', secret, user_id, iq_id)
             FROM iq_code_secrets WHERE user_id = ?1",
            r.owner_id,
        )
        .await;
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        iq_code_at(&secret, now).unwrap().code,
        shown.code,
        "the app and the cloud compute the same code"
    );
    (shown.step, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_of_the_previous_and_next_step_open_once_and_older_ones_never() {
    let r = remote_site(&["Front"]).await;
    let (step, secret) = owner_with_codes(&r).await;
    let browser = sign_in(&r).await;
    let code = |step: u64| iq_code_for_step(&secret, step).unwrap();

    let (status, error, page) = open(&r, &browser, &code(step - 1).to_lowercase()).await;
    assert_eq!((status, error), (StatusCode::OK, None), "{page}");
    assert_eq!(r.unlocks(0), 1);
    for accepted in [step + 1, step] {
        let (status, error, page) = open(&r, &browser, &code(accepted)).await;
        assert_eq!((status, error), (StatusCode::OK, None), "{page}");
    }
    assert_eq!(r.unlocks(0), 3);

    let (status, error, page) = open(&r, &browser, &code(step)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a code used twice: {page}");
    assert_eq!(error, Some(ErrorCode::CodeRejected), "{page}");
    let (status, error, _) = open(&r, &browser, &code(step - 2)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "two steps old");
    assert_eq!(error, Some(ErrorCode::CodeRejected));
    assert_eq!(r.unlocks(0), 3);
    assert_eq!(iq_time_step(chrono::Utc::now().timestamp()).unwrap(), step);

    let forged = browser
        .open_with_token(r.site_id(), r.lock(0), &code(step + 1), "forged")
        .await
        .unwrap();
    assert_eq!(forged.status, 403, "a form without the session's token");
    assert!(browser.cookie().starts_with("keyway_web="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_throttled_even_before_the_right_one() {
    let r = remote_site(&["Front"]).await;
    let (step, secret) = owner_with_codes(&r).await;
    let browser = sign_in(&r).await;
    let right = iq_code_for_step(&secret, step).unwrap();
    let wrong = if right == "22222" { "33333" } else { "22222" };
    for attempt in 1..=5 {
        let (status, error, _) = open(&r, &browser, wrong).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "wrong code {attempt}");
        assert_eq!(error, Some(ErrorCode::CodeRejected), "wrong code {attempt}");
    }
    let (status, error, page) = open(&r, &browser, &right).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert_eq!(error, Some(ErrorCode::RateLimited), "{page}");
    assert_eq!(r.unlocks(0), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_page_reports_an_offline_iq_and_queues_nothing() {
    let r = remote_site(&["Front"]).await;
    let (step, secret) = owner_with_codes(&r).await;
    let browser = sign_in(&r).await;
    r.iq.stop().await;
    let iqs = &r.world.cloud.state.iqs;
    assert!(remote_support::eventually(|| !iqs.is_online(r.iq.iq_id())).await);
    let (status, error, page) = open(&r, &browser, &iq_code_for_step(&secret, step).unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert_eq!(error, Some(ErrorCode::IqOffline), "{page}");
    assert!(
        browser.page().await.unwrap().contains("(IQ offline)"),
        "the picker shows it too"
    );
    assert_eq!(r.unlocks(0), 0);
}
