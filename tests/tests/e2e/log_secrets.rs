//! No secret reaches the log, even at `RUST_LOG=trace`: a full remote opening (app PIN, IQ
//! code on the web page, keypad PIN through the IQ) under a trace-level subscriber built by
//! `keyway_cloud::log_filter`, then every secret the test knows is looked for in what was
//! logged.

use crate::remote_support;
use crate::secrets_support::{assert_search_finds, encodings, occurs};

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyway_core::remote::RemoteGate;
use keyway_core::simulator::SimulatedWebBrowser;
use keyway_e2e::PASSWORD;
use remote_support::{eventually, remote_site, Remote, OWNER};
use tracing_subscriber::util::SubscriberInitExt;

/// What the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Every string of 12 characters or more in a phone's secure store (tokens, keys).
fn stored_strings(r: &Remote, phone: &str) -> Vec<String> {
    let path = r.world.phone_dir(phone).join("secure-store.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found = Vec::new();
    let mut stack = vec![json];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::String(text) if text.len() >= 12 => found.push(text),
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => stack.extend(map.into_values()),
            _ => {}
        }
    }
    found
}

async fn blob(r: &Remote, sql: &'static str, param: u32) -> Vec<u8> {
    r.query(sql, param).await
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_remote_opening_at_trace_level_logs_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let _guard = tracing_subscriber::fmt()
        .with_env_filter(keyway_cloud::log_filter("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .set_default();
    tracing::trace!(target: "keyway_e2e", "trace level is on");

    let r = remote_site(&["Front"]).await;
    let app_pin = "86420713";
    let tenant = r.tenant.remote();
    tenant
        .set_pin(PASSWORD.into(), app_pin.into())
        .await
        .unwrap();

    // The app PIN.
    let gate = RemoteGate::Pin {
        pin: app_pin.into(),
    };
    let report = tenant.open(r.site_id(), r.lock(0), gate).await.unwrap();
    assert!(report.granted);

    // A keypad PIN, through the IQ to the lock.
    let lock = &r.site.locks[0].lock;
    assert!(eventually(|| lock.lock().unwrap().keypad_serial().is_some()).await);
    let serial = lock.lock().unwrap().keypad_serial();
    let keypad_pin = r.owner_makes_tenant_pin().await;
    let owner = r.site.owner.remote();
    assert!(eventually(|| lock.lock().unwrap().keypad_serial() > serial).await);
    assert_eq!(r.iq.keypad(r.lock(0), keypad_pin.clone()).unwrap(), None);

    // The IQ code, typed on the web page.
    r.site.owner.devices().register().await.unwrap();
    assert_eq!(owner.sync_code_secrets().await.unwrap(), 1);
    let shown = owner.iq_code(r.iq.iq_id()).await.unwrap();
    if shown.seconds_left < 12 {
        tokio::time::sleep(Duration::from_secs(u64::from(shown.seconds_left) + 1)).await;
    }
    let code = owner.iq_code(r.iq.iq_id()).await.unwrap().code;
    let browser = SimulatedWebBrowser::sign_in(&r.world.cloud.base_url(), OWNER, PASSWORD)
        .await
        .unwrap();
    let opened = browser.open(r.site_id(), r.lock(0), &code).await.unwrap();
    assert_eq!(opened.status, 200, "{:?}", opened.message);
    assert_eq!(r.unlocks(0), 3, "PIN, keypad and code each opened");

    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        app_pin.into(),
        keypad_pin,
        code,
        browser.cookie().split('=').nth(1).unwrap().to_string(),
    ];
    secrets.extend(stored_strings(&r, "tenant"));
    secrets.extend(stored_strings(&r, OWNER));
    for bytes in [
        blob(
            &r,
            "SELECT keyway_open('iq_code_secrets.secret', secret, user_id, iq_id)
         FROM iq_code_secrets WHERE user_id = ?1",
            r.owner_id,
        )
        .await,
        blob(
            &r,
            "SELECT verifier FROM keypad_pins WHERE user_id = ?1",
            r.tenant_id,
        )
        .await,
        blob(
            &r,
            "SELECT keyway_open('sites.authority_pkcs8', authority_pkcs8, id)
         FROM sites WHERE id = ?1",
            r.site_id(),
        )
        .await,
    ] {
        secrets.extend(encodings(&bytes));
    }
    assert!(secrets.len() > 20, "the test knows its secrets");

    assert_search_finds(&secrets, "frame {} sent");
    let log = captured.text();
    assert!(log.contains("TRACE"), "the log is at trace level");
    assert!(
        log.contains("IQ connected"),
        "the cloud's own lines are captured"
    );
    let leaked: Vec<&String> = secrets.iter().filter(|s| occurs(&log, s)).collect();
    assert!(
        leaked.is_empty(),
        "{} secrets in a {}-byte log, e.g. {:?}",
        leaked.len(),
        log.len(),
        leaked
            .iter()
            .map(|s| s.chars().take(6).collect::<String>())
            .collect::<Vec<_>>()
    );
}
