//! Pods run by the site's admins, through the core over real HTTP on loopback: a member with
//! no account joins from the invitation e-mail and opens the pod's locks; changing the pod's
//! locks and cleaning the pod take keys away; roles are enforced; the core turns every
//! refusal into an error the app can act on.

use crate::pods_support;

use keyway_core::admin::Role;
use keyway_core::ffi::RefusalReason;
use keyway_core::pods::{GuestView, PodMemberInput, PodPersonStatus, PodRole};
use keyway_core::{Keyway, KeywayError};
use keyway_e2e::{log_in, World};
use pods_support::{
    invitation_for, key_bytes, now, phone_on_site, pod_with_member, present, site_mailbox,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_an_account_joins_from_the_e_mail_and_loses_keys_with_the_pod() {
    let world = World::start().await;
    let site = world
        .site("owner@admin.test", &["Unit door", "Bike room", "Lobby"])
        .await;
    let (unit, bikes, lobby) = (
        site.locks[0].lock_id,
        site.locks[1].lock_id,
        site.locks[2].lock_id,
    );
    let pod = site
        .owner
        .pods()
        .create_pod(
            site.info.site_id,
            "Unit 4".into(),
            vec![PodMemberInput {
                name: "Noa New".into(),
                email: "noa@admin.test".into(),
            }],
            vec![unit, bikes],
        )
        .await
        .unwrap();
    assert_eq!(pod.members[0].status, PodPersonStatus::Invited);
    let (email, code) = invitation_for(&world, "noa@admin.test").await;
    assert!(
        email.subject.contains("member of Unit 4"),
        "{}",
        email.subject
    );

    let (noa, radio) = phone_on_site(&world, &site, "noa@admin.test").await;
    let accepted = noa.pods().accept_invitation(code.clone()).await.unwrap();
    assert_eq!(accepted.pod.role, PodRole::Member);
    assert!(accepted.pod.remote_opening);
    assert_eq!(accepted.sync.keys, 1);
    assert!(noa.wallet().unlock(unit).await.unwrap().granted);
    assert!(noa.wallet().unlock(bikes).await.unwrap().granted);
    assert!(matches!(
        noa.wallet().unlock(lobby).await,
        Err(KeywayError::NotAllowed { .. })
    ));
    let again = noa.pods().redeem_invitation(code).await;
    assert!(
        matches!(&again, Err(KeywayError::InvalidInput { .. })),
        "{again:?}"
    );
    assert_eq!(
        site.owner.pods().pod(pod.pod_id).await.unwrap().members[0].status,
        PodPersonStatus::Active
    );

    // The bike room leaves the pod: Noa's key for it is revoked at once.
    let changed = site
        .owner
        .pods()
        .set_pod_locks(pod.pod_id, vec![unit])
        .await
        .unwrap();
    assert_eq!(changed.locks.len(), 1);
    let bike_key = noa.wallet().keys().await.unwrap()[0].credential_id;
    let bike_key = key_bytes(&noa, bike_key).await;
    noa.wallet().sync().await.unwrap();
    assert!(matches!(
        noa.wallet().unlock(bikes).await,
        Err(KeywayError::NotAllowed { .. })
    ));
    // A phone carries the site's mailbox (the revocation) to the bike room.
    let mailbox = site_mailbox(&world, site.info.site_id).await;
    let refused = present(&noa, &radio, bikes, bike_key, mailbox).await;
    assert_eq!(refused, Some(RefusalReason::Revoked));
    assert!(noa.wallet().unlock(unit).await.unwrap().granted);

    // Cleaning the pod when the tenant leaves: people gone, locks kept, keys revoked.
    let cleaned = site.owner.pods().clean_pod(pod.pod_id).await.unwrap();
    assert!(cleaned.members.is_empty());
    assert_eq!(cleaned.locks.len(), 1);
    let synced = noa.wallet().sync().await.unwrap();
    assert_eq!((synced.keys, synced.removed), (0, 1));
    assert!(noa.pods().my_pods().await.unwrap().is_empty());
}

/// `member` invites `email` as a guest on `lock`, from now for a minute.
async fn invite_for_a_minute(
    member: &Keyway,
    pod_id: u32,
    email: &str,
    lock: u32,
) -> Result<GuestView, KeywayError> {
    let pods = member.pods();
    pods.invite_guest(pod_id, email.into(), vec![lock], now(), now() + 60)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_refusals_reach_the_app_as_errors_it_can_act_on() {
    let world = World::start().await;
    let site = world.site("owner@roles.test", &["A", "B"]).await;
    site.add("super@roles.test", Role::SuperUser).await;
    let superuser = world.phone("super", None);
    world.sign_up_verified(&superuser, "super@roles.test").await;
    log_in(&superuser, "super@roles.test").await;
    let denied = superuser
        .pods()
        .create_pod(
            site.info.site_id,
            "P".into(),
            vec![PodMemberInput {
                name: "X".into(),
                email: "x@roles.test".into(),
            }],
            vec![],
        )
        .await;
    assert!(
        matches!(&denied, Err(KeywayError::NotAllowed { .. })),
        "{denied:?}"
    );
    let (pod, member, _) = pod_with_member(&world, &site, "m@roles.test", &[0]).await;
    let (a, b) = (site.locks[0].lock_id, site.locks[1].lock_id);
    let outside = invite_for_a_minute(&member, pod.pod_id, "g@roles.test", b).await;
    assert!(
        matches!(&outside, Err(KeywayError::InvalidInput { .. })),
        "{outside:?}"
    );
    // Somebody already on the site is invited like anybody else: the member learns nothing.
    let on_site = invite_for_a_minute(&member, pod.pod_id, "super@roles.test", a).await;
    assert!(on_site.is_ok(), "{on_site:?}");
    invite_for_a_minute(&member, pod.pod_id, "g@roles.test", a)
        .await
        .unwrap();
    let twice = invite_for_a_minute(&member, pod.pod_id, "g@roles.test", a).await;
    assert!(
        matches!(&twice, Err(KeywayError::InvalidInput { .. })),
        "{twice:?}"
    );
    let not_member = invite_for_a_minute(&superuser, pod.pod_id, "h@roles.test", a).await;
    assert!(
        matches!(&not_member, Err(KeywayError::NotAllowed { .. })),
        "{not_member:?}"
    );
    let (_, code) = invitation_for(&world, "g@roles.test").await;
    let impostor = world.person("impostor@roles.test", None).await;
    let wrong = impostor.pods().accept_invitation(code).await;
    assert!(
        matches!(&wrong, Err(KeywayError::NotAllowed { detail }) if !detail.contains("g@roles.test")),
        "{wrong:?}"
    );
    assert!(impostor.pods().my_pods().await.unwrap().is_empty());
}
