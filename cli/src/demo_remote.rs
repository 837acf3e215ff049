//! The remote-opening part of `keyway demo` (manual 000: remote opening, the Code, PIN), a
//! child module of `demo` (`#[path = "demo_remote.rs"] mod remote;`) sharing its steps:
//! the admin installs an IQ for the locks; the tenant opens remotely with the app PIN, then
//! with the (simulated) biometric key; the admin opens from the web page with the code the
//! app shows; five wrong PINs show the delay; tags and privacy mode (`demo_lock_rules.rs`); a
//! keypad PIN opens the door with the IQ gone, and so do the master key and, once granted
//! offline access, the tenant's key.

use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use keyway_cloud::remote::keypad::find_pin;
use keyway_cloud::RunningCloud;
use keyway_core::remote::{PinDelivery, RemoteGate, RemoteReport};
use keyway_core::simulator::{
    install_simulated_iq, simulated_biometric, InstalledLock, SimulatedWebBrowser,
};
use keyway_core::Keyway;

use super::demo_mail::{wait_for_mail, wait_for_text_message};
use super::Steps;

/// The night cleaner's phone (a tag profile's, kept by the site).
const CLEANER_PHONE: &str = "+44 20 7946 0958";

/// Someone in the demo: their phone and their account.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    /// Their phone (logged in; for the tenant, device registered).
    pub phone: &'a Arc<Keyway>,
    /// Account id.
    pub user_id: u32,
    /// Login e-mail.
    pub email: &'a str,
    /// Password.
    pub password: &'a str,
}

fn outcome(report: &RemoteReport) -> String {
    let verdict = if report.granted {
        "GRANTED: the door opened".to_string()
    } else {
        format!(
            "REFUSED: {}",
            report.refusal_message.clone().unwrap_or_default()
        )
    };
    format!(
        "{verdict}\n    cloud {:.1} ms | cloud⇄IQ {:.1} ms | IQ {:.2} ms | lock {:.1} ms (motor included)",
        report.cloud_ms, report.link_ms, report.iq_ms, report.lock_ms
    )
}

/// Runs the remote-opening steps on the demo's site: `locks` are the site's installed
/// locks (the tenant must be in an access group of the first one).
pub async fn run(
    steps: &mut Steps,
    cloud: &RunningCloud,
    site_id: u32,
    admin: Person<'_>,
    tenant: Person<'_>,
    locks: &[InstalledLock],
) -> anyhow::Result<()> {
    let front = locks
        .first()
        .ok_or_else(|| anyhow!("the demo site has no lock"))?;
    let iq = steps
        .run(
            "the admin installs an IQ for both locks; it logs in with its own key",
            async {
                Ok(install_simulated_iq(
                    admin.phone,
                    &cloud.base_url(),
                    site_id,
                    "Ground floor IQ",
                    locks,
                )
                .await?)
            },
        )
        .await?;
    println!("    IQ {} online over its WebSocket", iq.iq_id());
    steps
        .run(
            "the admin gives the tenant remote opening and joins a staff group",
            async {
                let admin_client = admin.phone.admin();
                admin_client
                    .set_remote_rights(site_id, tenant.user_id, true, false)
                    .await?;
                let all = locks.iter().map(|lock| lock.lock_id).collect();
                admin_client
                    .create_access_group(site_id, "Staff".into(), all, vec![admin.user_id], vec![])
                    .await?;
                Ok(())
            },
        )
        .await?;
    let remote = tenant.phone.remote();
    steps
        .run(
            "the tenant sets an app PIN, confirmed with the password",
            async {
                Ok(remote
                    .set_pin(tenant.password.into(), "4711".into())
                    .await?)
            },
        )
        .await?;
    let pin = || RemoteGate::Pin { pin: "4711".into() };
    steps
        .run(
            "the tenant opens the front door remotely with the PIN",
            async {
                let report = remote.open(site_id, front.lock_id, pin()).await?;
                println!("    {}", outcome(&report));
                Ok(())
            },
        )
        .await?;
    steps
        .run(
            "the tenant enrols the biometric key and opens with a fingerprint",
            async {
                let (sensor, key) = simulated_biometric()?;
                remote.enroll_biometric(sensor, key).await?;
                let report = remote
                    .open(site_id, front.lock_id, RemoteGate::Biometric)
                    .await?;
                println!("    {}", outcome(&report));
                Ok(())
            },
        )
        .await?;
    steps
        .run("someone tries wrong PINs on the tenant's phone", async {
            for attempt in 1..=6 {
                let gate = RemoteGate::Pin { pin: "0000".into() };
                match remote.open(site_id, front.lock_id, gate).await {
                    Err(error) => println!("    try {attempt}: {error}"),
                    Ok(report) => println!("    try {attempt}: unexpected {report:?}"),
                }
            }
            Ok(())
        })
        .await?;
    let code = steps
        .run(
            "the admin's phone shows the 5-character code of the IQ",
            async {
                let admin_remote = admin.phone.remote();
                admin.phone.devices().register().await?;
                admin_remote.sync_code_secrets().await?;
                let code = admin_remote.iq_code(iq.iq_id()).await?;
                println!("    code {} ({} s left)", code.code, code.seconds_left);
                Ok(code.code)
            },
        )
        .await?;
    steps
        .run(
            "the admin opens the front door from the web page with it",
            async {
                let browser =
                    SimulatedWebBrowser::sign_in(&cloud.base_url(), admin.email, admin.password)
                        .await?;
                let first = browser.open(site_id, front.lock_id, &code).await?;
                println!(
                    "    {}: {}",
                    first.status,
                    first.message.unwrap_or_default()
                );
                let again = browser.open(site_id, front.lock_id, &code).await?;
                println!(
                    "    the same code again → {}: {}",
                    again.status,
                    again.message.unwrap_or_default()
                );
                Ok(())
            },
        )
        .await?;
    steps
        .run(
            "the admin adds the night cleaner as a tag profile (no e-mail, no app) with a phone, \
             in a group of the front door; their keypad PIN arrives by text message and opens",
            async {
                let admin_client = admin.phone.admin();
                let cleaner = admin_client
                    .add_tag_profile(site_id, "Night cleaner".into(), Some(CLEANER_PHONE.into()))
                    .await?;
                admin_client
                    .create_access_group(
                        site_id,
                        "Cleaning".into(),
                        vec![front.lock_id],
                        vec![cleaner.user_id],
                        vec![],
                    )
                    .await?;
                let made = admin
                    .phone
                    .remote()
                    .new_keypad_pin(site_id, cleaner.user_id)
                    .await?;
                if made.pin.is_some() || made.delivery != PinDelivery::TextMessage {
                    return Err(anyhow!("the cleaner's PIN did not go to their phone"));
                }
                let phone = cleaner.phone.unwrap_or_default();
                let (_, keypad) = wait_for_text_message(cloud, &phone, find_pin).await?;
                println!("    text message to {phone}: keypad PIN {keypad}");
                // The IQ pushes the new PIN table to the lock within milliseconds.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let refusal = iq.keypad(front.lock_id, keypad)?;
                println!(
                    "    the front door's keypad says: {}",
                    refusal.map_or("GRANTED".into(), |reason| format!("REFUSED {reason:?}"))
                );
                Ok(())
            },
        )
        .await?;
    let tags = super::lock_rules::online(steps, site_id, admin, tenant, front).await?;
    steps
        .run(
            "the admin makes the tenant a keypad PIN (e-mailed to the tenant, never shown to the \
             admin); the IQ goes offline; the PIN still opens",
            async {
                let made = admin
                    .phone
                    .remote()
                    .new_keypad_pin(site_id, tenant.user_id)
                    .await?;
                if made.pin.is_some() || made.delivery != PinDelivery::Emailed {
                    return Err(anyhow!("the admin was shown the tenant's PIN"));
                }
                let (_, keypad) = wait_for_mail(cloud, tenant.email, find_pin).await?;
                println!("    the tenant's e-mail: keypad PIN {keypad} (shown once, never again)");
                tokio::time::sleep(Duration::from_millis(200)).await;
                iq.stop().await;
                let refusal = iq.keypad(front.lock_id, keypad)?;
                println!(
                    "    IQ offline; the keypad says: {}",
                    refusal.map_or("GRANTED".into(), |reason| format!("REFUSED {reason:?}"))
                );
                match remote.open(site_id, front.lock_id, pin()).await {
                    Err(error) => println!("    remote opening now: {error}"),
                    Ok(report) => println!("    unexpected: {report:?}"),
                }
                Ok(())
            },
        )
        .await?;
    super::lock_rules::iq_gone(steps, site_id, admin, tenant, front, &tags).await?;
    Ok(())
}
