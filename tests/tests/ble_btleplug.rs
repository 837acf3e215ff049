//! The phone core's real BLE central stack, btleplug, against a mocked BlueZ on a private
//! D-Bus whose GATT peripherals are `keyway sim lock --stdio` processes (`tests/ble/`).
//!
//! Nothing here is simulated on the phone side: `keyway_core::unlock::unlock` drives
//! [`BtleplugTransport`], which scans through BlueZ's D-Bus API, picks the lock by its
//! advertised service data, connects, resolves GATT services, subscribes, writes fragments
//! without response and reads notifications. The mock stands in for bluetoothd and the radio.
//!
//! Build with `--features ble` (needs `dbus-daemon`, and a Python with `dbus` and `dbusmock`,
//! see [`find_python`]); `cargo xtask test` installs them and sets `KEYWAY_BIN`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use keyway_core::platform::SoftwareDeviceSigner;
use keyway_core::unlock::{self, BleTransport, BtleplugTransport, UnlockOutcome};
use keyway_core::KeywayError;
use keyway_protocol::frame::Reassembler;
use keyway_protocol::message::{Challenge, Request};
use keyway_protocol::{
    Command, Credential, CredentialFlags, PublicKey, RefusalReason, SignedEvent, SigningKey,
};
use ring::rand::SystemRandom;

const SITE_ID: u32 = 1;
/// The locks the mock puts on the air at [`MTU`] (plus a decoy with malformed service data).
const LOCKS: [u32; 2] = [1, 2];
const MTU: u32 = 185;
/// A lock on a link whose MTU BlueZ does not publish (BlueZ < 5.62): btleplug says 23.
const LEGACY_LOCK: u32 = 3;
const SCAN_TIMEOUT: Duration = Duration::from_secs(10);

/// The mocked BlueZ, shared by every test of this binary (one private bus, one set of locks).
/// It lives until this process exits: the harness tears down at the end of its stdin.
struct MockBluez {
    control: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
    run_dir: PathBuf,
    lock_keys: HashMap<u32, PublicKey>,
    authority: SigningKey,
    phone: SoftwareDeviceSigner,
    _harness: Child,
}

static MOCK: OnceLock<MockBluez> = OnceLock::new();
/// One BLE central at a time: the tests share the adapter and the locks.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn mock() -> &'static MockBluez {
    MOCK.get_or_init(MockBluez::start)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A Python that imports `dbus` and `dbusmock`: `$KEYWAY_BLE_PYTHON`, the system
/// `/usr/bin/python3` (Debian's python3-dbusmock lives there even when another python3 comes
/// first on `PATH`), then `python3`.
fn find_python() -> String {
    let mut candidates: Vec<String> = std::env::var("KEYWAY_BLE_PYTHON").into_iter().collect();
    candidates.extend(["/usr/bin/python3".to_string(), "python3".to_string()]);
    candidates
        .iter()
        .find(|python| {
            Process::new(python)
                .args(["-c", "import dbus, dbusmock"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no Python with the `dbus` and `dbusmock` modules (tried {candidates:?}): \
                 install python3-dbusmock (Debian) or run `cargo xtask test`"
            )
        })
}

/// `$KEYWAY_BIN`, else builds the `keyway` binary (a no-op when fresh) and asks cargo where
/// it is.
fn keyway_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("KEYWAY_BIN") {
        return PathBuf::from(bin);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Process::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "keyway-cli",
            "--bin",
            "keyway",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo build -p keyway-cli");
    assert!(output.status.success(), "building the keyway binary failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "keyway")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no keyway executable")
}

impl MockBluez {
    fn start() -> Self {
        assert!(
            Process::new("dbus-daemon")
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            "dbus-daemon is missing: install the Debian package `dbus` or run `cargo xtask test`"
        );
        let python = find_python();
        let keyway = keyway_binary();
        let rng = SystemRandom::new();
        let (authority, _) = SigningKey::generate(&rng).unwrap();
        let authority_b64 =
            base64::engine::general_purpose::STANDARD.encode(authority.public_key().as_bytes());
        let mut command = Process::new(&python);
        command
            .arg(workspace_root().join("tests/ble/harness.py"))
            .arg("--keyway")
            .arg(&keyway)
            .args(["--authority-key", &authority_b64])
            .args(["--site-id", &SITE_ID.to_string()])
            .args(["--mtu", &MTU.to_string()])
            .args(["--legacy-lock", &LEGACY_LOCK.to_string()])
            .args(["--decoy", "--max-seconds", "900"]);
        for lock in LOCKS {
            command.args(["--lock", &lock.to_string()]);
        }
        let mut harness = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/ble/harness.py");
        let stdin = harness.stdin.take().unwrap();
        let mut stdout = BufReader::new(harness.stdout.take().unwrap());
        let mut lock_keys = HashMap::new();
        let (bus, run_dir) = loop {
            let mut line = String::new();
            let read = stdout.read_line(&mut line).unwrap();
            assert!(
                read > 0,
                "the BLE harness ended before READY (see its stderr)"
            );
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["LOCK", id, _address, key] => {
                    let key = PublicKey::from_bytes(&hex_decode(key)).unwrap();
                    lock_keys.insert(id.parse::<u32>().unwrap(), key);
                }
                ["READY", bus, run_dir] => break (bus.to_string(), PathBuf::from(run_dir)),
                _ => panic!("unexpected harness line {line:?}"),
            }
        };
        // btleplug (through the dbus crate) finds "the system bus" here. Set once, before any
        // D-Bus connection, and never changed: every test talks to this bus.
        std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &bus);
        eprintln!(
            "mocked BlueZ on {bus} (run directory {})",
            run_dir.display()
        );
        Self {
            control: Mutex::new((stdin, stdout)),
            run_dir,
            lock_keys,
            authority,
            phone: SoftwareDeviceSigner::generate().unwrap().0,
            _harness: harness,
        }
    }

    /// Sends one command to the harness and checks it answered `OK`.
    fn command(&self, line: &str) {
        let mut control = self.control.lock().unwrap();
        let (stdin, stdout) = &mut *control;
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut answer = String::new();
        stdout.read_line(&mut answer).unwrap();
        assert_eq!(answer.trim(), "OK", "harness answer to {line:?}");
    }

    /// A digital key for this phone's device key, signed by the site authority.
    fn key_for(&self, lock_ids: Vec<u32>) -> Vec<u8> {
        let now = chrono::Utc::now().timestamp();
        let credential = Credential {
            credential_id: 1_000 + u64::from(lock_ids[0]),
            site_id: SITE_ID,
            user_id: 7,
            device_key: self.phone.verifying_key(),
            lock_ids,
            not_before: now - 60,
            not_after: now + 3_600,
            schedule: Vec::new(),
            flags: CredentialFlags::default(),
            revocation_epoch: 0,
        };
        credential
            .sign(&self.authority, &SystemRandom::new())
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    /// The link events the mock recorded so far (`trace.log`).
    fn trace(&self) -> Vec<TraceLine> {
        let text = std::fs::read_to_string(self.run_dir.join("trace.log")).unwrap_or_default();
        text.lines().map(TraceLine::parse).collect()
    }

    /// The signed events lock `lock_id` recorded, oldest first (its `--event-log`).
    fn lock_events(&self, lock_id: u32) -> Vec<SignedEvent> {
        let path = self.run_dir.join(format!("events-{lock_id}.hex"));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .map(|line| SignedEvent::decode(&hex_decode(line)).unwrap())
            .collect()
    }
}

/// One line of the mock's trace: `<monotonic s> <lock id> <event> [detail…]`.
#[derive(Debug, Clone)]
struct TraceLine {
    lock_id: u32,
    event: String,
    detail: Vec<String>,
}

impl TraceLine {
    fn parse(line: &str) -> Self {
        let mut words = line.split_whitespace().skip(1);
        Self {
            lock_id: words.next().unwrap().parse().unwrap(),
            event: words.next().unwrap().to_string(),
            detail: words.map(str::to_string).collect(),
        }
    }

    /// The bytes of a `write` (after its type) or `notify` line.
    fn bytes(&self) -> Vec<u8> {
        hex_decode(self.detail.last().unwrap())
    }
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn reassemble(fragments: &[Vec<u8>]) -> Vec<u8> {
    let mut reassembler = Reassembler::new();
    let (last, init) = fragments.split_last().expect("no fragments");
    for fragment in init {
        assert_eq!(reassembler.push(fragment).unwrap(), None);
    }
    reassembler.push(last).unwrap().expect("incomplete message")
}

async fn transport(scan_timeout: Duration) -> BtleplugTransport {
    BtleplugTransport::new(scan_timeout)
        .await
        .expect("btleplug on the mocked BlueZ")
}

async fn open(
    transport: &BtleplugTransport,
    lock_id: u32,
    credential: Vec<u8>,
) -> Result<UnlockOutcome, KeywayError> {
    unlock::unlock(
        transport,
        &mock().phone,
        lock_id,
        credential,
        Command::Unlock,
        Vec::new(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn btleplug_finds_the_lock_by_service_data_and_unlocks_in_two_writes() {
    let _one_at_a_time = SERIAL.lock().await;
    let mock = mock();
    let transport = transport(SCAN_TIMEOUT).await;
    for lock_id in LOCKS {
        let key = mock.key_for(vec![lock_id]);
        let events_before = mock.lock_events(lock_id).len();
        let trace_before = mock.trace().len();

        let scan_started = Instant::now();
        let outcome = open(&transport, lock_id, key.clone()).await.unwrap();
        let scan_to_granted = scan_started.elapsed();
        assert!(outcome.granted(), "lock {lock_id}: {:?}", outcome.refusal);
        assert_eq!(outcome.lock_id, lock_id);
        println!(
            "BLE over btleplug + mocked BlueZ, lock {lock_id}: scan start → granted {:.1} ms \
             (scan, connect, GATT discovery, subscribe, challenge {:.1} ms; sign, 2 writes, \
             lock, answer {:.1} ms)",
            scan_to_granted.as_secs_f64() * 1e3,
            outcome.connect.as_secs_f64() * 1e3,
            outcome.exchange.as_secs_f64() * 1e3,
        );

        // What went over the air, as the peripheral saw it.
        let session: Vec<TraceLine> = mock.trace()[trace_before..]
            .iter()
            .filter(|line| line.lock_id == lock_id)
            .cloned()
            .collect();
        let kinds: Vec<&str> = session.iter().map(|line| line.event.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "connect",
                "subscribe",
                "notify",
                "write",
                "write",
                "notify",
                "disconnect"
            ],
            "lock {lock_id}: {session:?}"
        );
        assert_eq!(session[0].detail, [format!("mtu={MTU}")]);
        let writes: Vec<&TraceLine> = session.iter().filter(|l| l.event == "write").collect();
        assert!(
            writes.iter().all(|w| w.detail[0] == "command"),
            "write without response: {writes:?}"
        );
        let fragments: Vec<Vec<u8>> = writes.iter().map(|w| w.bytes()).collect();
        let sizes: Vec<usize> = fragments.iter().map(Vec::len).collect();
        let request = reassemble(&fragments);
        assert_eq!(
            sizes,
            [MTU as usize - 3, request.len() + 6 - (MTU as usize - 3)],
            "a single-lock request fills one ATT write at MTU {MTU} and spills into a second"
        );
        assert_eq!(outcome.traffic.writes, 2);
        assert_eq!(
            outcome.traffic.bytes_written as usize,
            sizes.iter().sum::<usize>()
        );
        assert_eq!(outcome.traffic.notifications, 2);

        // The bytes are the framed request answering this connection's challenge.
        let challenge = Challenge::decode(&reassemble(&[session[2].bytes()])).unwrap();
        assert_eq!(challenge.lock_id, lock_id);
        let (request, _) = Request::decode(&request).unwrap();
        assert_eq!(request.credential, key);
        assert_eq!(request.command, Command::Unlock);
        assert_eq!(request.echoed_nonce, challenge.nonce);

        // The lock logged what the phone got, signed with its key.
        assert!(outcome.event.verify(&mock.lock_keys[&lock_id]));
        let events = mock.lock_events(lock_id);
        assert_eq!(events.len(), events_before + 1);
        assert_eq!(events.last().unwrap(), &outcome.event);
        assert_eq!(outcome.event.event().refusal, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_for_another_lock_is_refused_not_in_scope() {
    let _one_at_a_time = SERIAL.lock().await;
    let mock = mock();
    let transport = transport(SCAN_TIMEOUT).await;
    let key_for_lock_2 = mock.key_for(vec![2]);
    let scan_started = Instant::now();
    let outcome = open(&transport, 1, key_for_lock_2).await.unwrap();
    println!(
        "lock 1 refused a key for lock 2: scan start → refusal {:.1} ms",
        scan_started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(outcome.refusal, Some(RefusalReason::NotInScope));
    assert_eq!(outcome.event.event().lock_id, 1);
    assert_eq!(
        outcome.event.event().refusal,
        Some(RefusalReason::NotInScope)
    );
    assert!(outcome.event.verify(&mock.lock_keys[&1]));
    assert_eq!(mock.lock_events(1).last().unwrap(), &outcome.event);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_dropped_mid_handshake_is_a_clear_retry_and_the_retry_opens() {
    let _one_at_a_time = SERIAL.lock().await;
    let mock = mock();
    let transport = transport(SCAN_TIMEOUT).await;
    let key = mock.key_for(vec![1]);
    let events_before = mock.lock_events(1).len();
    let trace_before = mock.trace().len();
    mock.command("drop 1 1");

    let error = open(&transport, 1, key.clone()).await.unwrap_err();
    println!("dropped link mid-handshake: {error}");
    assert!(
        matches!(&error, KeywayError::Retry { .. }),
        "expected Retry after a dropped link, got {error:?}"
    );
    let dropped: Vec<String> = mock.trace()[trace_before..]
        .iter()
        .filter(|l| l.lock_id == 1)
        .map(|l| l.event.clone())
        .collect();
    assert_eq!(
        dropped,
        ["connect", "subscribe", "notify", "write", "drop"],
        "the link dropped after the first fragment; the second never went out"
    );
    assert_eq!(
        mock.lock_events(1).len(),
        events_before,
        "half a request is no request: the lock logged nothing"
    );

    let retry_started = Instant::now();
    let outcome = open(&transport, 1, key.clone()).await.unwrap();
    assert!(outcome.granted(), "{:?}", outcome.refusal);
    println!(
        "immediate retry after the drop: granted in {:.1} ms",
        retry_started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(mock.lock_events(1).len(), events_before + 1);

    // Dropped after the whole request: the lock acted, its answer is lost with the link, and
    // the phone learns it from the disconnection while waiting for the answer, not 5 s later.
    mock.command("drop 1 2");
    let waited = Instant::now();
    let error = open(&transport, 1, key.clone()).await.unwrap_err();
    println!("link dropped before the answer: {error}");
    assert!(matches!(&error, KeywayError::Retry { .. }), "{error:?}");
    assert!(
        waited.elapsed() < Duration::from_secs(2),
        "{:?}",
        waited.elapsed()
    );
    let events = mock.lock_events(1);
    assert_eq!(events.len(), events_before + 2);
    assert_eq!(
        events.last().unwrap().event().refusal,
        None,
        "the lock opened; only its answer was lost"
    );
    let next = open(&transport, 1, key).await.unwrap();
    assert!(next.granted(), "{:?}", next.refusal);
    let carried: Vec<u64> = next
        .backlog
        .iter()
        .map(|record| record.event().seq)
        .collect();
    assert_eq!(
        carried,
        [events.last().unwrap().event().seq],
        "the never-confirmed answer's record rides along with the next answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_nobody_advertises_is_out_of_range_after_the_scan_timeout() {
    let _one_at_a_time = SERIAL.lock().await;
    let mock = mock();
    let scan_timeout = Duration::from_millis(1_500);
    let transport = transport(scan_timeout).await;
    let started = Instant::now();
    let error = open(&transport, 9, mock.key_for(vec![9]))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(error, KeywayError::OutOfRange { .. }),
        "expected OutOfRange, got {error:?}"
    );
    assert!(
        waited >= scan_timeout && waited < scan_timeout + Duration::from_secs(3),
        "scanned {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_reports_the_mtu_bluez_negotiated_and_the_challenge_arrives() {
    let _one_at_a_time = SERIAL.lock().await;
    mock();
    let transport = transport(SCAN_TIMEOUT).await;
    let mtu = transport.connect(2).await.unwrap();
    assert_eq!(mtu, MTU, "btleplug reads BlueZ's characteristic MTU");
    assert_eq!(
        transport.signal_dbm().await,
        Some(-58),
        "the RSSI BlueZ reports for the lock's advertisement"
    );
    let fragment = transport.receive(5_000).await.unwrap();
    let challenge = Challenge::decode(&reassemble(&[fragment])).unwrap();
    assert_eq!(challenge.lock_id, 2);
    assert!(matches!(
        transport.receive(200).await,
        Err(keyway_core::unlock::TransportError::Timeout { timeout_ms: 200 })
    ));
    transport.disconnect().await;
    assert_eq!(transport.signal_dbm().await, None, "no link, no reading");
    assert!(matches!(
        transport.write(vec![1, 0x80, 0, 1, 0]).await,
        Err(keyway_core::unlock::TransportError::LinkLost { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_published_mtu_the_transport_falls_back_to_23_and_still_opens() {
    let _one_at_a_time = SERIAL.lock().await;
    let mock = mock();
    let transport = transport(SCAN_TIMEOUT).await;
    let trace_before = mock.trace().len();
    let outcome = open(&transport, LEGACY_LOCK, mock.key_for(vec![LEGACY_LOCK]))
        .await
        .unwrap();
    assert!(outcome.granted(), "{:?}", outcome.refusal);
    let writes: Vec<usize> = mock.trace()[trace_before..]
        .iter()
        .filter(|l| l.lock_id == LEGACY_LOCK && l.event == "write")
        .map(|l| l.bytes().len())
        .collect();
    println!(
        "MTU not published: {} writes of at most 20 bytes, {:.1} ms from scan start",
        writes.len(),
        (outcome.connect + outcome.exchange).as_secs_f64() * 1e3
    );
    assert!(writes.iter().all(|&len| len <= 20), "{writes:?}");
    assert_eq!(writes.len() as u32, outcome.traffic.writes);
    assert!(writes.len() > 2);
}
