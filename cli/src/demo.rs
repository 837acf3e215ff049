//! `keyway demo`: the whole product in one process on loopback. A cloud with a temporary
//! SQLite store; an admin who creates a site, registers two simulated locks and gives a tenant
//! a key; the tenant's phone logs in through the real login form with PKCE, registers its
//! device key, syncs, and unlocks over simulated BLE; then the refusals a lock enforces on its
//! own, and the lock's events travelling back to the cloud. Every step is timed.

#[path = "demo_import.rs"]
mod demo_import;
#[path = "demo_integrations.rs"]
mod demo_integrations;
#[path = "demo_live.rs"]
mod demo_live;
#[path = "demo_mail.rs"]
mod demo_mail;
#[path = "demo_lock_rules.rs"]
mod lock_rules;
#[path = "demo_pods.rs"]
mod pods;
#[path = "demo_remote.rs"]
mod remote;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::Args;
use keyway_cloud::{CloudConfig, RunningCloud};
use keyway_core::admin::Role;
use keyway_core::platform::{file_secure_store, software_device_signer};
use keyway_core::simulator::{
    install_simulated_lock, log_in_with_password, InstalledLock, SimulatedRadio,
    SIMULATED_ACTUATION,
};
use keyway_core::unlock::BleTransport;
use keyway_core::{Keyway, KeywayConfig};
use keyway_protocol::event::{verify_chain, GENESIS_HASH};
use keyway_protocol::frame::Reassembler;
use keyway_protocol::{Command, SignedEvent};
use keyway_sim::{LinkConfig, SimulatedLink};

const ADMIN: (&str, &str, &str) = ("alex@keyway.example", "Alex Admin", "correct horse battery");
const TENANT: (&str, &str, &str) = ("tess@keyway.example", "Tess Tenant", "tenant passphrase 42");
/// The password of somebody who signs up with the tenant's address before the tenant does.
const IMPOSTOR_PASSWORD: &str = "impostor passphrase";

/// The impostor's login with the tenant's address is refused (their sign-up was never
/// confirmed: the code went to the tenant's mailbox).
async fn impostor_refused(impostor: &Arc<Keyway>) -> anyhow::Result<()> {
    let login = log_in_with_password(
        Arc::clone(impostor),
        TENANT.0.into(),
        IMPOSTOR_PASSWORD.into(),
    );
    match login.await {
        Ok(()) => Err(anyhow!("the impostor logged in with the tenant's address")),
        Err(error) => {
            println!("    the impostor's login: {error}");
            Ok(())
        }
    }
}

/// Options of `keyway demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// ATT MTU of the simulated BLE link.
    #[arg(long, default_value_t = 185)]
    mtu: usize,
    /// One-way latency of each simulated BLE packet, in milliseconds.
    #[arg(long, default_value_t = 8)]
    packet_latency_ms: u64,
    /// At the end, keep the cloud up (until Ctrl-C) and print the admin console's address, to
    /// look around the demo's site in a browser.
    #[arg(long)]
    keep: bool,
}

/// Prints numbered steps with the time each took and the HTTP requests it cost.
struct Steps {
    number: u32,
    started: Instant,
    metrics: Option<Arc<keyway_cloud::Metrics>>,
}

impl Steps {
    fn new() -> Self {
        Self {
            number: 0,
            started: Instant::now(),
            metrics: None,
        }
    }

    fn requests(&self) -> u64 {
        self.metrics.as_ref().map_or(0, |m| m.requests())
    }

    async fn run<T, F>(&mut self, title: &str, work: F) -> anyhow::Result<T>
    where
        F: std::future::Future<Output = anyhow::Result<T>>,
    {
        self.number += 1;
        println!("\n[{}] {title}", self.number);
        let (started, requests) = (Instant::now(), self.requests());
        let value = work
            .await
            .with_context(|| format!("step {}: {title}", self.number))?;
        let requests = self.requests() - requests;
        let cost = if requests > 0 {
            format!(", {requests} HTTP request(s)")
        } else {
            String::new()
        };
        println!("    ({}{cost})", ms(started.elapsed()));
        Ok(value)
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// Keeps the cloud up until Ctrl-C, saying where its admin console is and who signs in.
async fn keep_up(cloud: &RunningCloud) -> anyhow::Result<()> {
    println!(
        "\nThe admin console: {}/web/console\n    sign in as {} with the password {:?}\n    the cloud stays up until Ctrl-C",
        cloud.base_url(),
        ADMIN.0,
        ADMIN.2
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}

/// Runs the demo and prints what happened.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    println!("Keyway demo: cloud, admin, tenant phone and two simulated locks, on loopback.");
    let mut steps = Steps::new();
    let scratch = tempfile::tempdir()?;
    let link = LinkConfig {
        mtu: args.mtu,
        connect_latency: Duration::from_millis(30),
        packet_latency: Duration::from_millis(args.packet_latency_ms),
        ..LinkConfig::default()
    };

    let cloud = steps
        .run("start the cloud (SQLite in a temporary directory)", async {
            let config = CloudConfig::new(scratch.path().join("cloud"));
            Ok(keyway_cloud::start(config, "127.0.0.1:0".parse()?).await?)
        })
        .await?;
    println!("    {} (OpenAPI at /openapi.json)", cloud.base_url());
    steps.metrics = Some(Arc::clone(&cloud.state.metrics));

    let admin = phone(&cloud, &scratch.path().join("admin-phone"), None)?;
    let admin_id = steps
        .run(
            "the admin signs up, confirms the address with the e-mailed code, and logs in \
             (authorize form + PKCE)",
            async {
                let user_id = demo_mail::sign_up_verified(&cloud, &admin, ADMIN).await?;
                log_in_with_password(Arc::clone(&admin), ADMIN.0.into(), ADMIN.2.into()).await?;
                Ok(user_id)
            },
        )
        .await?;

    let impostor = phone(&cloud, &scratch.path().join("impostor-phone"), None)?;
    steps
        .run(
            "an impostor signs up first with the tenant's address: the code goes to the \
             tenant's mailbox, so the impostor can neither confirm it nor log in",
            async {
                impostor
                    .auth()
                    .sign_up(TENANT.0.into(), "Not Tess".into(), IMPOSTOR_PASSWORD.into())
                    .await?;
                impostor_refused(&impostor).await
            },
        )
        .await?;

    let (site_id, locks, tenant_id) = steps
        .run(
            "the admin creates a site, installs two locks and gives the tenant a key",
            async {
                let site = admin.admin().create_site("Keyway HQ".into(), 60).await?;
                let mut locks = Vec::new();
                for name in ["Front door", "Storage room"] {
                    let authority = &site.authority_public_key;
                    let lock = install_simulated_lock(
                        &admin,
                        site.site_id,
                        authority,
                        name,
                        60,
                        SIMULATED_ACTUATION,
                    );
                    locks.push(lock.await?);
                }
                let tenant = admin
                    .admin()
                    .add_person(site.site_id, TENANT.0.into(), TENANT.1.into(), Role::User)
                    .await?;
                admin
                    .admin()
                    .create_access_group(
                        site.site_id,
                        "Tenants".into(),
                        vec![locks[0].lock_id],
                        vec![tenant.user_id],
                        vec![],
                    )
                    .await?;
                Ok((site.site_id, locks, tenant.user_id))
            },
        )
        .await?;
    println!(
        "    site {site_id}: lock {} \"{}\", lock {} \"{}\"; tenant user {tenant_id} may open the front door",
        locks[0].lock_id, locks[0].name, locks[1].lock_id, locks[1].name
    );

    demo_import::run(
        &mut steps,
        demo_import::ImportDemo {
            cloud: &cloud,
            admin: &admin,
            admin_email: ADMIN.0,
            tenant_email: TENANT.0,
            site_id,
        },
    )
    .await?;

    let links: HashMap<u32, SimulatedLink> = locks
        .iter()
        .map(|l| {
            (
                l.lock_id,
                SimulatedLink::new(Arc::clone(&l.lock), link.clone()),
            )
        })
        .collect();
    let radio = Arc::new(SimulatedRadio::new(links));
    let tenant = phone(
        &cloud,
        &scratch.path().join("tenant-phone"),
        Some(Arc::clone(&radio) as Arc<dyn BleTransport>),
    )?;
    steps
        .run(
            "the tenant, invited by e-mail, signs up with that address, confirms it with their own \
             code and logs in; the impostor still cannot",
            async {
                demo_mail::sign_up_verified(&cloud, &tenant, TENANT).await?;
                log_in_with_password(Arc::clone(&tenant), TENANT.0.into(), TENANT.2.into())
                    .await?;
                impostor_refused(&impostor).await
            },
        )
        .await?;
    let device = steps
        .run("it registers its device key", async {
            Ok(tenant.devices().register().await?)
        })
        .await?;
    println!("    device {} \"{}\"", device.device_id, device.name);
    let synced = steps
        .run("it syncs its wallet", async {
            Ok(tenant.wallet().sync().await?)
        })
        .await?;
    for key in tenant.wallet().keys().await? {
        let names: Vec<_> = key
            .locks
            .iter()
            .map(|l| format!("{} \"{}\"", l.lock_id, l.name))
            .collect();
        println!(
            "    key #{} at {}: {} (valid {})",
            key.credential_id,
            key.site_name,
            names.join(", "),
            key.valid_now
        );
    }
    println!("    {} key(s), {} new", synced.keys, synced.added);

    let front = &locks[0];
    let report = steps
        .run(
            "the tenant unlocks the front door over BLE (the lock is offline)",
            async { Ok(tenant.wallet().unlock(front.lock_id).await?) },
        )
        .await?;
    let captured = radio.captured_writes();
    let actuate = last_timing(front)?.map(|t| t.actuate).unwrap_or_default();
    println!(
        "    {}",
        if report.granted {
            "GRANTED: the door opened".to_string()
        } else {
            format!("REFUSED: {:?}", report.refusal_message)
        }
    );
    println!(
        "    connect {:.1} ms | handshake {} | actuate {} | {} writes, {} B up, {} B down",
        report.connect_ms,
        ms(Duration::from_secs_f64(report.handshake_ms / 1000.0).saturating_sub(actuate)),
        ms(actuate),
        report.writes,
        report.bytes_written,
        report.bytes_notified
    );

    let storage = &locks[1];
    steps
        .run("the tenant tries the storage room", async {
            match tenant.wallet().unlock(storage.lock_id).await {
                Err(error) => println!("    the phone says: {error}"),
                Ok(report) => println!("    unexpected: {report:?}"),
            }
            Ok(())
        })
        .await?;
    steps
        .run(
            "a tampered app presents the front-door key to the storage room",
            async {
                force_key(&tenant, &radio, storage.lock_id).await?;
                println!("    lock says: {}", describe(&last_event(storage)?));
                Ok(())
            },
        )
        .await?;
    steps
        .run(
            "an eavesdropper replays the captured front-door request",
            async {
                let answer = replay(front, &captured)?;
                println!(
                    "    {} fragments replayed; {answer} sealed bytes back, unreadable",
                    captured.len()
                );
                println!("    lock says: {}", describe(&last_event(front)?));
                Ok(())
            },
        )
        .await?;
    let uploaded = steps
        .run("the phone uploads the lock events it carried", async {
            Ok(tenant.events().upload().await?)
        })
        .await?;
    println!(
        "    stored {}, duplicates {}, rejected {}",
        uploaded.stored, uploaded.duplicates, uploaded.rejected
    );

    demo_live::run(
        &mut steps,
        demo_live::LiveDemo {
            admin: &admin,
            tenant: &tenant,
            tenant_id,
            site_id,
            lock_id: storage.lock_id,
        },
    )
    .await?;

    demo_integrations::run(
        &mut steps,
        demo_integrations::IntegrationsDemo {
            cloud: &cloud,
            admin: &admin,
            admin_id,
            tenant: &tenant,
            tenant_email: TENANT.0,
            site_id,
            lock_id: storage.lock_id,
            utc_offset_minutes: 60,
        },
    )
    .await?;

    pods::run(
        &mut steps,
        pods::PodsDemo {
            cloud: &cloud,
            admin: &admin,
            member: &tenant,
            member_email: TENANT.0,
            site_id,
            locks: &locks,
            link: &link,
            scratch: scratch.path(),
        },
    )
    .await?;

    let person =
        |phone, user_id, (email, _, password): (&'static str, &str, &'static str)| remote::Person {
            phone,
            user_id,
            email,
            password,
        };
    remote::run(
        &mut steps,
        &cloud,
        site_id,
        person(&admin, admin_id, ADMIN),
        person(&tenant, tenant_id, TENANT),
        &locks,
    )
    .await?;

    print_log(front)?;
    println!("\nDone in {}.", ms(steps.started.elapsed()));
    if args.keep {
        keep_up(&cloud).await?;
    }
    cloud.shutdown().await;
    Ok(())
}

fn phone(
    cloud: &RunningCloud,
    dir: &Path,
    transport: Option<Arc<dyn BleTransport>>,
) -> anyhow::Result<Arc<Keyway>> {
    let store = file_secure_store(dir.join("secure-store.json").display().to_string());
    let signer = software_device_signer(Arc::clone(&store))?;
    let config = KeywayConfig {
        server_url: cloud.base_url(),
        data_dir: dir.display().to_string(),
        device_name: "Demo phone".into(),
        platform: "cli".into(),
    };
    Ok(Keyway::new(config, store, signer, transport)?)
}

/// Runs the handshake with the first wallet key against a lock it does not name.
async fn force_key(phone: &Keyway, radio: &SimulatedRadio, lock_id: u32) -> anyhow::Result<()> {
    let key = phone
        .wallet()
        .keys()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("the wallet is empty"))?;
    let credential = phone.wallet().credential_bytes(key.credential_id).await?;
    let signer = phone.device_signer();
    keyway_core::unlock::unlock(
        radio,
        signer.as_ref(),
        lock_id,
        credential,
        Command::Unlock,
        Vec::new(),
    )
    .await?;
    Ok(())
}

fn last_timing(lock: &InstalledLock) -> anyhow::Result<Option<keyway_sim::LockTiming>> {
    Ok(lock
        .lock
        .lock()
        .map_err(|_| anyhow!("lock state poisoned"))?
        .last_timing())
}

/// Plays captured request fragments into a new session, as an attacker's own radio would.
fn replay(lock: &InstalledLock, captured: &[Vec<u8>]) -> anyhow::Result<usize> {
    let link = SimulatedLink::new(Arc::clone(&lock.lock), LinkConfig::default());
    let mut session = link.connect()?;
    let _challenge = session.notifications();
    for fragment in captured {
        session.write(fragment)?;
    }
    let mut reassembler = Reassembler::new();
    let mut answer = None;
    for fragment in session.notifications() {
        answer = reassembler.push(&fragment)?.or(answer);
    }
    session.disconnect();
    answer
        .map(|bytes| bytes.len())
        .ok_or_else(|| anyhow!("the lock did not answer the replay"))
}

fn last_event(lock: &InstalledLock) -> anyhow::Result<SignedEvent> {
    let guard = lock
        .lock
        .lock()
        .map_err(|_| anyhow!("lock state poisoned"))?;
    guard
        .events()
        .last()
        .cloned()
        .context("the lock logged nothing")
}

fn describe(record: &SignedEvent) -> String {
    match record.event().refusal {
        None => "GRANTED".to_string(),
        Some(reason) => format!("REFUSED: {reason} ({reason:?})"),
    }
}

fn print_log(lock: &InstalledLock) -> anyhow::Result<()> {
    let guard = lock
        .lock
        .lock()
        .map_err(|_| anyhow!("lock state poisoned"))?;
    let records = guard.events();
    let head = verify_chain(
        lock.lock_id,
        &guard.public_key(),
        (0, GENESIS_HASH),
        records,
    )?;
    println!(
        "\nEvent log of lock {} \"{}\" ({} records, signatures and hash chain verified):",
        lock.lock_id, lock.name, head.0
    );
    for record in records {
        let event = record.event();
        let time = chrono::DateTime::from_timestamp(event.time, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| event.time.to_string());
        let what = if let Some((report, value)) = keyway_protocol::LockReport::of_event(event) {
            format!("the lock reports {} ({value})", report.name())
        } else if let Some(tag) = keyway_protocol::tag::tag_of_event_credential(event.credential_id)
        {
            format!(
                "user {} tag {tag:014x}  {}",
                event.user_id,
                describe(record)
            )
        } else {
            format!(
                "user {} key #{}  {}",
                event.user_id,
                event.credential_id,
                describe(record)
            )
        };
        println!("    #{} {time}  {what}", event.seq);
    }
    Ok(())
}
