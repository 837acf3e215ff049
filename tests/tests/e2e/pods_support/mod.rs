//! Shared steps of the pod end-to-end tests: a pod with a member's phone, a guest's phone, the
//! invitation e-mail the cloud really delivered to its mailbox, and presenting a wallet key to
//! a lock as a tampered app would (to see what the lock itself decides).

use std::sync::Arc;

use keyway_cloud::email::MailboxMessage;
use keyway_cloud::pods::invitations::find_code;
use keyway_core::ffi::RefusalReason;
use keyway_core::pods::{PodMemberInput, PodView};
use keyway_core::simulator::SimulatedRadio;
use keyway_core::unlock::BleTransport;
use keyway_core::Keyway;
use keyway_e2e::{Site, World};
use keyway_protocol::Command;

/// Now on the test machine's clock (Unix seconds).
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The latest e-mail to `to` carrying an invitation code, and the code, once delivered.
pub async fn invitation_for(world: &World, to: &str) -> (MailboxMessage, String) {
    world.wait_for_mail(to, find_code).await
}

/// A logged-in phone with a registered device, reaching the site's locks over its own radio.
pub async fn phone_on_site(
    world: &World,
    site: &Site,
    email: &str,
) -> (Arc<Keyway>, Arc<SimulatedRadio>) {
    let radio = site.radio();
    let phone = world
        .person(email, Some(Arc::clone(&radio) as Arc<dyn BleTransport>))
        .await;
    (phone, radio)
}

/// A pod created by the site owner on the locks at `lock_indexes`, with one member who
/// already has an account (so they join at once); returns the pod and the member's phone
/// (device registered, wallet synced).
pub async fn pod_with_member(
    world: &World,
    site: &Site,
    member_email: &str,
    lock_indexes: &[usize],
) -> (PodView, Arc<Keyway>, Arc<SimulatedRadio>) {
    let (member, radio) = phone_on_site(world, site, member_email).await;
    let lock_ids = lock_indexes
        .iter()
        .map(|i| site.locks[*i].lock_id)
        .collect();
    let pod = site
        .owner
        .pods()
        .create_pod(
            site.info.site_id,
            "Apartment 201".into(),
            vec![PodMemberInput {
                name: "Mia Member".into(),
                email: member_email.into(),
            }],
            lock_ids,
        )
        .await
        .unwrap();
    member.devices().register().await.unwrap();
    member.wallet().sync().await.unwrap();
    (pod, member, radio)
}

/// The signed bytes of a wallet key.
pub async fn key_bytes(phone: &Keyway, credential_id: u64) -> Vec<u8> {
    phone
        .wallet()
        .credential_bytes(credential_id)
        .await
        .unwrap()
}

/// Presents `credential` to `lock_id` whatever the app would say (a tampered app, a key the
/// wallet dropped, or a phone whose clock disagrees with the lock's), carrying `mailbox`.
pub async fn present(
    phone: &Keyway,
    radio: &SimulatedRadio,
    lock_id: u32,
    credential: Vec<u8>,
    mailbox: Vec<Vec<u8>>,
) -> Option<RefusalReason> {
    let signer = phone.device_signer();
    let outcome = keyway_core::unlock::unlock(
        radio,
        signer.as_ref(),
        lock_id,
        credential,
        Command::Unlock,
        mailbox,
    )
    .await
    .unwrap();
    outcome.refusal
}

/// The site's signed mailbox updates, as the cloud hands them to every phone of the site.
pub async fn site_mailbox(world: &World, site_id: u32) -> Vec<Vec<u8>> {
    world
        .cloud
        .state
        .store
        .run(move |db| {
            let mut statement =
                db.prepare("SELECT bytes FROM mailbox_updates WHERE site_id = ?1 ORDER BY serial")?;
            let rows = statement
                .query_map([site_id], |row| row.get(0))?
                .collect::<Result<Vec<Vec<u8>>, _>>()?;
            Ok::<_, keyway_cloud::StoreError>(rows)
        })
        .await
        .unwrap()
}

/// Sets a simulated lock's own clock.
pub fn set_lock_clock(site: &Site, index: usize, unix_seconds: i64) {
    site.locks[index]
        .lock
        .lock()
        .unwrap()
        .clock_mut()
        .set(unix_seconds);
}
