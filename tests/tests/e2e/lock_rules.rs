//! What a lock enforces, end to end: the cloud, a simulated IQ over its WebSocket, simulated
//! locks, tags and a phone core. A tag opens online; with the IQ gone the lock falls back on
//! what it stores (offline tags, master keys), a key without offline access stops and one with
//! it opens; privacy mode engaged at the lock reaches the admin and lets only the override in;
//! Near Detection Mode needs IQ firmware 2.3 and refuses a far phone; a forced door alerts the
//! owner.

use std::sync::Arc;
use std::time::Duration;

use keyway_core::admin::Role;
use keyway_core::admin_lock_rules::{UpdateLockSettingsRequest, UpdateTagRequest};
use keyway_core::ffi::{RefusalAdvice, RefusalReason};
use keyway_core::simulator::install_simulated_iq_with_firmware;
use keyway_core::{Keyway, KeywayError};
use keyway_e2e::World;
use keyway_protocol::RefusalReason as LockRefusal;
use keyway_sim::lock::IQ_LINK_TIMEOUT_SECONDS;
use keyway_sim::{LinkConfig, SimulatedLink, SimulatedTag};

use crate::remote_support::{eventually, remote_site, Remote};

const RESIDENT: &str = "resident@rules.test";

/// A resident with a phone that reaches the first lock over a link with this signal.
async fn resident(r: &Remote, rssi_dbm: i8) -> (Arc<Keyway>, u32) {
    let user_id = r.site.add(RESIDENT, Role::User).await;
    let admin = r.site.owner.admin();
    admin
        .set_group_members(
            r.site_id(),
            r.group_id,
            vec![r.tenant_id, r.owner_id, user_id],
        )
        .await
        .unwrap();
    let link = LinkConfig {
        connect_latency: Duration::ZERO,
        packet_latency: Duration::ZERO,
        rssi_dbm,
        ..LinkConfig::default()
    };
    let lock = &r.site.locks[0];
    let links = [(
        lock.lock_id,
        SimulatedLink::new(Arc::clone(&lock.lock), link),
    )];
    let radio = Arc::new(keyway_core::simulator::SimulatedRadio::new(
        links.into_iter().collect(),
    ));
    let phone = r.world.person(RESIDENT, Some(radio)).await;
    phone.devices().register().await.unwrap();
    phone.wallet().sync().await.unwrap();
    (phone, user_id)
}

fn tag_grants(r: &Remote, tag: &SimulatedTag) -> Option<LockRefusal> {
    r.site.locks[0]
        .lock
        .lock()
        .unwrap()
        .present_tag(tag, 0)
        .unwrap()
        .refusal
}

async fn register(r: &Remote, tag: &SimulatedTag, holder: u32) {
    r.site
        .owner
        .admin()
        .register_tag(
            r.site_id(),
            format!("{:014x}", tag.tag_id()),
            tag.public_key().as_bytes().to_vec(),
            Some(holder),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_iq_down_only_what_the_lock_stores_opens() {
    let r = remote_site(&["Front"]).await;
    let (phone, resident_id) = resident(&r, -50).await;
    let resident_tag = SimulatedTag::new().unwrap();
    let owner_tag = SimulatedTag::new().unwrap();
    register(&r, &resident_tag, resident_id).await;
    register(&r, &owner_tag, r.owner_id).await;
    assert!(
        eventually(|| tag_grants(&r, &resident_tag).is_none()).await,
        "online, the IQ's list"
    );
    let cloned = resident_tag.copy_id().unwrap();
    assert_eq!(tag_grants(&r, &cloned), Some(LockRefusal::TagNotAuthentic));
    let lock_id = r.lock(0);
    assert!(phone.wallet().unlock(lock_id).await.unwrap().granted);
    let keys = phone.wallet().keys().await.unwrap();
    assert!(!keys[0].works_offline, "no offline access yet");

    // The IQ loses power: the lock stops hearing it.
    r.iq.iq().stop().await;
    r.site.locks[0]
        .lock
        .lock()
        .unwrap()
        .clock_mut()
        .advance(IQ_LINK_TIMEOUT_SECONDS + 1);
    assert_eq!(tag_grants(&r, &resident_tag), Some(LockRefusal::UnknownTag));
    assert_eq!(
        tag_grants(&r, &owner_tag),
        None,
        "the owner's master key is stored in the lock"
    );
    let refused = phone.wallet().unlock(lock_id).await.unwrap();
    assert_eq!(refused.refusal, Some(RefusalReason::RevocationStale));
    assert_eq!(refused.advice, Some(RefusalAdvice::LockOffline));

    // An admin grants offline access to the resident's key (the cloud is up; the IQ is not).
    let view = r
        .site
        .owner
        .admin()
        .set_offline_access(r.site_id(), resident_id, true)
        .await
        .unwrap();
    assert!(view.offline_access);
    phone.wallet().sync().await.unwrap();
    assert!(phone.wallet().keys().await.unwrap()[0].works_offline);
    assert!(
        phone.wallet().unlock(lock_id).await.unwrap().granted,
        "offline access opens"
    );
    // The tag got offline access too, but the lock learns it only from its IQ.
    r.site
        .owner
        .admin()
        .update_tag(
            r.site_id(),
            format!("{:014x}", resident_tag.tag_id()),
            UpdateTagRequest {
                offline_access: Some(true),
                ..UpdateTagRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tag_grants(&r, &resident_tag), Some(LockRefusal::UnknownTag));
    let storage = r
        .site
        .owner
        .admin()
        .lock_offline_storage(r.site_id(), lock_id)
        .await
        .unwrap();
    assert_eq!(storage.stored.len(), 2);
    assert!(storage.stored[0].master_key, "master keys are synced first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_mode_reaches_the_admin_and_lets_only_the_override_in() {
    let r = remote_site(&["Bathroom"]).await;
    let (_, resident_id) = resident(&r, -50).await;
    let tag = SimulatedTag::new().unwrap();
    register(&r, &tag, resident_id).await;
    assert!(eventually(|| tag_grants(&r, &tag).is_none()).await);
    r.site.locks[0]
        .lock
        .lock()
        .unwrap()
        .set_privacy(true)
        .unwrap();
    let admin = r.site.owner.admin();
    let mut engaged = false;
    for _ in 0..200 {
        let locks = admin.list_locks(r.site_id()).await.unwrap();
        if locks[0].state.privacy_engaged {
            engaged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(engaged, "the IQ carried the lock's report to the cloud");
    assert_eq!(tag_grants(&r, &tag), Some(LockRefusal::PrivacyMode));
    admin
        .set_privacy_override(r.site_id(), resident_id, true)
        .await
        .unwrap();
    assert!(
        eventually(|| tag_grants(&r, &tag).is_none()).await,
        "at the next push"
    );
    admin
        .set_privacy_override(r.site_id(), resident_id, false)
        .await
        .unwrap();
    assert!(
        eventually(|| tag_grants(&r, &tag) == Some(LockRefusal::PrivacyMode)).await,
        "taking it away takes effect at the next push"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_detection_needs_iq_firmware_2_3_and_refuses_a_far_phone() {
    let world = World::start().await;
    let site = world.site("old@rules.test", &["Wall reader"]).await;
    let old = install_simulated_iq_with_firmware(
        &site.owner,
        &world.cloud.base_url(),
        site.info.site_id,
        "Old IQ",
        &site.locks,
        "2.2.7",
    )
    .await
    .unwrap();
    let near = UpdateLockSettingsRequest {
        near_detection: Some(true),
        ..UpdateLockSettingsRequest::default()
    };
    let refused = site
        .owner
        .admin()
        .update_lock_settings(site.info.site_id, site.locks[0].lock_id, near.clone())
        .await;
    assert!(
        matches!(refused, Err(KeywayError::NotAllowed { .. })),
        "{refused:?}"
    );
    old.iq().stop().await;
    drop(world);

    let r = remote_site(&["Wall reader"]).await;
    let (phone, _) = resident(&r, -80).await;
    let lock_id = r.lock(0);
    assert!(phone.wallet().unlock(lock_id).await.unwrap().granted);
    let settings = r
        .site
        .owner
        .admin()
        .update_lock_settings(r.site_id(), lock_id, near)
        .await
        .unwrap();
    assert!(settings.near_detection);
    let lock = Arc::clone(&r.site.locks[0].lock);
    assert!(
        eventually(|| lock
            .lock()
            .unwrap()
            .settings()
            .near_detection_min_rssi
            .is_some())
        .await
    );
    let far = phone.wallet().unlock(lock_id).await.unwrap();
    assert_eq!(far.refusal, Some(RefusalReason::TooFar));
    assert_eq!(far.advice, Some(RefusalAdvice::MoveCloser));
    assert_eq!(
        far.signal_dbm,
        Some(-80),
        "the phone says how weak the signal was"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_door_alerts_the_owner_through_the_iq() {
    let r = remote_site(&["Back door"]).await;
    r.site.locks[0].lock.lock().unwrap().open_door().unwrap();
    let (message, _) = r
        .world
        .wait_for_mail(crate::remote_support::OWNER, |body| {
            body.contains("opened while it was locked")
                .then(|| body.to_string())
        })
        .await;
    assert!(
        message.subject.contains("Door forced: Back door"),
        "{}",
        message.subject
    );
}
