//! The pods part of `keyway demo` (a child module of `demo`, whose step printer and helpers it
//! uses): the admin makes the tenant a pod member; the member invites a guest by e-mail; the
//! guest reads the e-mail the cloud really delivered, signs up, accepts and opens the pod's
//! door; the guest is refused outside the pod and after check-out (on the lock's clock); the
//! member blocks the guest, and the block reaches the door, which never talks to the cloud,
//! through the member's phone.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context};
use keyway_cloud::pods::invitations::find_code;
use keyway_cloud::RunningCloud;
use keyway_core::pods::PodMemberInput;
use keyway_core::simulator::{log_in_with_password, InstalledLock, SimulatedRadio};
use keyway_core::unlock::BleTransport;
use keyway_core::Keyway;
use keyway_sim::{LinkConfig, SimulatedLink};

use super::demo_mail::{sign_up_verified, wait_for_mail};
use super::{describe, force_key, last_event, ms, phone, Steps};
use crate::mail_cmd::render;

const GUEST: (&str, &str, &str) = ("gus@guest.example", "Gus Guest", "guest passphrase 7");
/// The stay: checked in a minute ago, checking out in two hours.
const STAY_SECONDS: i64 = 2 * 3_600;

/// What the pods part needs from the rest of the demo.
pub struct PodsDemo<'a> {
    /// The running cloud.
    pub cloud: &'a RunningCloud,
    /// The site admin's phone (logged in).
    pub admin: &'a Arc<Keyway>,
    /// The tenant's phone (logged in, device registered), who becomes a pod member.
    pub member: &'a Arc<Keyway>,
    /// The tenant's e-mail.
    pub member_email: &'a str,
    /// The site.
    pub site_id: u32,
    /// The site's locks: the first goes in the pod, the second stays outside.
    pub locks: &'a [InstalledLock],
    /// The simulated BLE link the guest's radio uses.
    pub link: &'a LinkConfig,
    /// A scratch directory for the guest's phone.
    pub scratch: &'a Path,
}

/// Runs the pods steps, numbered after the demo's.
pub async fn run(steps: &mut Steps, demo: PodsDemo<'_>) -> anyhow::Result<()> {
    let [door, outside, ..] = demo.locks else {
        return Err(anyhow!("the pods demo needs two locks"));
    };
    let pod = steps
        .run(
            "the admin creates a pod: the tenant as member, the front door as its lock",
            async {
                let member = PodMemberInput {
                    name: "Tess Tenant".into(),
                    email: demo.member_email.into(),
                };
                let pods = demo.admin.pods();
                let pod = pods.create_pod(
                    demo.site_id,
                    "Apartment 201".into(),
                    vec![member],
                    vec![door.lock_id],
                );
                Ok(pod.await?)
            },
        )
        .await?;
    println!(
        "    pod {} \"{}\": {} member(s), lock \"{}\"",
        pod.pod_id,
        pod.name,
        pod.members.len(),
        door.name
    );
    let mine = demo.member.pods().my_pods().await?;
    let rights = mine.first().context("the tenant is in no pod")?;
    println!(
        "    the tenant's rights there: digital key {}, remote opening {}",
        rights.digital_key, rights.remote_opening
    );

    let check_in = chrono::Utc::now().timestamp() - 60;
    let check_out = check_in + 60 + STAY_SECONDS;
    let guest = steps
        .run("the member invites a guest by e-mail from the app", async {
            let pods = demo.member.pods();
            let invite = pods.invite_guest(
                pod.pod_id,
                GUEST.0.into(),
                vec![door.lock_id],
                check_in,
                check_out,
            );
            Ok(invite.await?)
        })
        .await?;
    println!(
        "    guest {} {}: {:?}, digital key only, \"{}\" until check-out",
        guest.guest_id, guest.email, guest.status, door.name
    );

    let (email, code) = steps
        .run(
            "the cloud's outbox delivers the invitation (the local mailbox stands in for SMTP)",
            async { wait_for_mail(demo.cloud, GUEST.0, find_code).await },
        )
        .await?;
    print!("{}", render(&email));

    let started = Instant::now();
    let requests_before = demo.cloud.state.metrics.requests();
    let guest_radio = radio(demo.locks, demo.link);
    let guest_phone = phone(
        demo.cloud,
        &demo.scratch.join("guest-phone"),
        Some(Arc::clone(&guest_radio) as Arc<dyn BleTransport>),
    )?;
    steps
        .run(
            "the guest signs up with the invited address, confirms it with the e-mailed code, \
             and logs in",
            async {
                sign_up_verified(demo.cloud, &guest_phone, GUEST).await?;
                let login =
                    log_in_with_password(Arc::clone(&guest_phone), GUEST.0.into(), GUEST.2.into());
                Ok(login.await?)
            },
        )
        .await?;
    let accepted = steps
        .run(
            "the guest's app accepts the code (redeem, register the device, sync)",
            async { Ok(guest_phone.pods().accept_invitation(code).await?) },
        )
        .await?;
    println!(
        "    {} key(s); remote opening {}",
        accepted.sync.keys, accepted.pod.remote_opening
    );
    let report = steps
        .run("the guest opens the front door", async {
            Ok(guest_phone.wallet().unlock(door.lock_id).await?)
        })
        .await?;
    println!("    {}", describe(&last_event(door)?));
    println!(
        "    from the e-mail to an open door: 5 steps for the guest (read the e-mail, sign up, \
         log in, accept, open), {} of machine time, {} HTTP request(s)",
        ms(started.elapsed()),
        demo.cloud.state.metrics.requests() - requests_before
    );
    if !report.granted {
        return Err(anyhow!(
            "the guest was refused: {:?}",
            report.refusal_message
        ));
    }

    steps
        .run(
            "the guest tries the storage room (outside the pod)",
            async {
                if let Err(error) = guest_phone.wallet().unlock(outside.lock_id).await {
                    println!("    the phone says: {error}");
                }
                force_key(&guest_phone, &guest_radio, outside.lock_id).await?;
                println!(
                    "    a tampered app tries anyway; lock says: {}",
                    describe(&last_event(outside)?)
                );
                Ok(())
            },
        )
        .await?;

    steps
        .run("after check-out on the door's own clock", async {
            set_clock(door, Some(check_out + 60))?;
            guest_phone.wallet().unlock(door.lock_id).await?;
            println!("    lock says: {}", describe(&last_event(door)?));
            set_clock(door, None)
        })
        .await?;

    steps
        .run(
            "the member blocks the guest (the guest's phone stays offline, key in hand)",
            async {
                let pods = demo.member.pods();
                let blocked = pods.block_guest(pod.pod_id, guest.guest_id).await?;
                println!("    guest {:?}", blocked.status);
                Ok(())
            },
        )
        .await?;
    steps
        .run(
            "the member's phone syncs and opens the door, carrying the denylist update",
            async {
                let synced = demo.member.wallet().sync().await?;
                demo.member.wallet().unlock(door.lock_id).await?;
                println!(
                    "    {} update(s) carried; lock says: {}",
                    synced.mailbox_updates,
                    describe(&last_event(door)?)
                );
                Ok(())
            },
        )
        .await?;
    steps
        .run(
            "the blocked guest tries the door, which never talked to the cloud",
            async {
                guest_phone.wallet().unlock(door.lock_id).await?;
                println!("    lock says: {}", describe(&last_event(door)?));
                let synced = guest_phone.wallet().sync().await?;
                println!(
                    "    at its next sync the guest's phone drops {} key(s)",
                    synced.removed
                );
                Ok(())
            },
        )
        .await?;
    Ok(())
}

/// A radio of its own for the guest's phone, reaching every lock.
fn radio(locks: &[InstalledLock], link: &LinkConfig) -> Arc<SimulatedRadio> {
    let links: HashMap<u32, SimulatedLink> = locks
        .iter()
        .map(|l| {
            (
                l.lock_id,
                SimulatedLink::new(Arc::clone(&l.lock), link.clone()),
            )
        })
        .collect();
    Arc::new(SimulatedRadio::new(links))
}

/// Sets a lock's clock, or puts it back on the system clock.
fn set_clock(lock: &InstalledLock, unix_seconds: Option<i64>) -> anyhow::Result<()> {
    let mut guard = lock
        .lock
        .lock()
        .map_err(|_| anyhow!("lock state poisoned"))?;
    match unix_seconds {
        Some(seconds) => guard.clock_mut().set(seconds),
        None => *guard.clock_mut() = keyway_sim::LockClock::system(),
    }
    Ok(())
}
