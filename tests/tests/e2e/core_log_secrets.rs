//! No secret reaches the app's log sink, even at trace: a sink installed with
//! `init_logging` collects every record while an account signs up and logs in, a phone syncs
//! its keys, unlocks over the simulated radio and uploads the event, holds the live channel
//! open, another opens remotely with the app PIN, the owner computes an IQ code and a token
//! is refreshed (the live stream renewed with it); then every secret the test knows is
//! looked for in every record, as text, hex and base64.

use crate::remote_support;
use crate::secrets_support::{assert_search_finds, encodings, occurs};

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_cloud::auth::verification;
use keyway_core::live::ChangeObserver;
use keyway_core::logging::{init_logging, LogLevel, LogRecord, LogSink};
use keyway_core::remote::RemoteGate;
use keyway_core::simulator::simulated_browser_login;
use keyway_core::unlock::BleTransport;
use keyway_e2e::PASSWORD;
use remote_support::{remote_site, OWNER, TENANT};

/// Every record the sink received.
#[derive(Default)]
struct Collected(Mutex<Vec<LogRecord>>);

impl LogSink for Collected {
    fn log(&self, record: LogRecord) {
        self.0.lock().unwrap().push(record);
    }
}

impl Collected {
    fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|r| format!("{:?} {} {}", r.level, r.target, r.message))
            .collect()
    }
}

/// An observer of live changes that does nothing.
struct Quiet;

impl ChangeObserver for Quiet {
    fn keys_changed(&self) {}
    fn pods_changed(&self) {}
    fn remote_locks_changed(&self) {}
    fn session_ended(&self) {}
}

/// Waits (five seconds at most) until a record holds `text`.
async fn wait_for_line(sink: &Collected, text: &str) {
    for _ in 0..500 {
        if sink.lines().iter().any(|line| line.contains(text)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no record with {text:?}");
}

/// A text secret, and the binary forms of its value when it is base64 (keys, IQ secrets).
fn text_secret(text: &str) -> Vec<String> {
    let mut found = vec![text.to_string()];
    if let Ok(bytes) = STANDARD.decode(text) {
        found.extend(encodings(&bytes));
    }
    found
}

/// Every value in a phone's secure store (tokens, the device key, IQ-code secrets): each
/// value's bytes, and the strings of 12 characters or more inside JSON values.
fn stored_secrets(world: &keyway_e2e::World, phone: &str) -> Vec<String> {
    let path = world.phone_dir(phone).join("secure-store.json");
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found = Vec::new();
    for value in map.values() {
        let bytes: Vec<u8> = (0..value.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&value[i..i + 2], 16).unwrap())
            .collect();
        found.extend(encodings(&bytes));
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let mut stack = vec![json];
        while let Some(value) = stack.pop() {
            match value {
                serde_json::Value::String(text) if text.len() >= 12 => {
                    found.extend(text_secret(&text))
                }
                serde_json::Value::Array(items) => stack.extend(items),
                serde_json::Value::Object(map) => stack.extend(map.into_values()),
                _ => {}
            }
        }
    }
    found
}

/// A query parameter of `url`.
fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .unwrap()
        .1
        .into_owned()
}

/// The verification codes mailed to `email`, grouped as mailed and as digits only.
async fn verification_codes(world: &keyway_e2e::World, email: &str) -> Vec<String> {
    let (_, code) = world.wait_for_mail(email, verification::find_code).await;
    vec![code.replace(|c: char| !c.is_ascii_digit(), ""), code]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_sink_receives_every_area_at_trace_and_no_secret() {
    let sink = Arc::new(Collected::default());
    init_logging(sink.clone(), LogLevel::Trace);

    // Sign-up, verification and login (owner and tenant), registration, the app PIN.
    let r = remote_site(&["Front"]).await;
    let app_pin = "86420713";
    let tenant = r.tenant.remote();
    tenant
        .set_pin(PASSWORD.into(), app_pin.into())
        .await
        .unwrap();

    // A second phone of the tenant's: its own login, whose code and state the test sees.
    let radio = r.site.radio() as Arc<dyn BleTransport>;
    let phone = r.world.phone("tenant-ble", Some(radio));
    let login = phone
        .auth()
        .start_login(keyway_api::APP_REDIRECT_URI.into())
        .unwrap();
    let redirect =
        simulated_browser_login(login.authorize_url.clone(), TENANT.into(), PASSWORD.into())
            .await
            .unwrap();
    phone.auth().finish_login(redirect.clone()).await.unwrap();

    // Key sync, a BLE unlock, the event upload.
    phone.devices().register().await.unwrap();
    let synced = phone.wallet().sync().await.unwrap();
    assert_eq!(synced.keys, 1);
    let report = phone.wallet().unlock(r.lock(0)).await.unwrap();
    assert!(report.granted, "{report:?}");
    // The lock's IQ collects the same record every 100 ms: whichever carries it first stores
    // it, and the other's copy is a duplicate.
    let uploaded = phone.events().upload().await.unwrap();
    assert_eq!(
        (uploaded.stored + uploaded.duplicates, uploaded.rejected),
        (1, 0)
    );
    let credential_id = phone.wallet().keys().await.unwrap()[0].credential_id;
    let credential = phone
        .wallet()
        .credential_bytes(credential_id)
        .await
        .unwrap();

    // The live channel, open for the rest of the flow (renewed with the refreshed token below).
    phone.live().start(Arc::new(Quiet)).unwrap();
    wait_for_line(&sink, "live channel open stream_id=").await;

    // A remote opening with the app PIN; the owner's IQ code.
    let gate = RemoteGate::Pin {
        pin: app_pin.into(),
    };
    let opened = tenant.open(r.site_id(), r.lock(0), gate).await.unwrap();
    assert!(opened.granted);
    let owner = r.site.owner.remote();
    r.site.owner.devices().register().await.unwrap();
    assert_eq!(owner.sync_code_secrets().await.unwrap(), 1);
    let code = owner.iq_code(r.iq.iq_id()).await.unwrap().code;

    // A refresh: the cloud's clock passes the access token's life, the phone's does not.
    let before_refresh = stored_secrets(&r.world, "tenant-ble");
    r.advance(3600);
    phone.wallet().sync().await.unwrap();
    assert_eq!(phone.refresh_count(), 1);
    wait_for_line(&sink, "live stream renewed").await;
    phone.live().stop();

    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        app_pin.into(),
        remote_support::PIN.into(),
        code,
        param(&redirect, "code"),
        param(&redirect, "state"),
        param(&login.authorize_url, "code_challenge"),
    ];
    secrets.extend(verification_codes(&r.world, OWNER).await);
    secrets.extend(verification_codes(&r.world, TENANT).await);
    for phone in ["tenant", "tenant-ble", OWNER] {
        secrets.extend(stored_secrets(&r.world, phone));
    }
    secrets.extend(before_refresh);
    secrets.extend(encodings(&credential));
    for sql in [
        "SELECT keyway_open('iq_code_secrets.secret', secret, user_id, iq_id)
         FROM iq_code_secrets WHERE user_id = ?1",
        "SELECT keyway_open('sites.authority_pkcs8', authority_pkcs8, id)
         FROM sites WHERE id = ?1",
    ] {
        let param = if sql.contains("sites") {
            r.site_id()
        } else {
            r.owner_id
        };
        let bytes: Vec<u8> = r.query(sql, param).await;
        secrets.extend(encodings(&bytes));
    }
    assert!(secrets.len() > 40, "the test knows its secrets");
    assert_search_finds(&secrets, "pin={} sent");

    let lines = sink.lines();
    let from = |target: &str, text: &str| {
        lines
            .iter()
            .any(|line| line.contains(target) && line.contains(text))
    };
    for (target, text) in [
        ("keyway_core::auth", "login started"),
        ("keyway_core::auth", "login finished"),
        ("keyway_core::auth", "e-mail address verified"),
        ("keyway_core::devices", "device registered"),
        ("keyway_core::wallet", "wallet synced device_id="),
        ("keyway_core::wallet", "keys=1 added=1"),
        ("keyway_core::wallet", "unlock started"),
        ("keyway_core::unlock", "BLE: connected"),
        ("keyway_core::unlock", "mtu=185"),
        ("keyway_core::unlock", "BLE: request sent"),
        ("keyway_core::unlock", "BLE: fragment written bytes="),
        ("keyway_core::unlock", "BLE: the lock granted"),
        ("keyway_core::events", "events uploaded stored=1"),
        ("keyway_core::remote", "gate=pin"),
        ("keyway_core::remote", "remote opening: the lock granted"),
        ("keyway_core::remote", "IQ-code secrets synced"),
        ("keyway_core::client", "cloud call"),
        ("keyway_core::client", "access token rejected (401)"),
        ("keyway_core::auth::session", "access token refreshed"),
        ("keyway_core::live", "live channel open stream_id="),
        ("keyway_core::live", "live notice notice=hello"),
        ("keyway_core::live", "live stream renewed"),
    ] {
        assert!(from(target, text), "no {target} record with {text:?}");
    }
    assert!(
        lines.iter().any(|line| line.starts_with("Trace ")),
        "trace records are forwarded"
    );

    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|secret| lines.iter().any(|line| occurs(line, secret)))
        .collect();
    assert!(
        leaked.is_empty(),
        "{} secrets in {} records, e.g. {:?}",
        leaked.len(),
        lines.len(),
        leaked
            .iter()
            .map(|s| s.chars().take(6).collect::<String>())
            .collect::<Vec<_>>()
    );
}
