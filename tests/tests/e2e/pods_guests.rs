//! A pod guest's whole life over real HTTP on loopback, with simulated locks: a member invites
//! by e-mail, the guest redeems the code from the e-mail the cloud really delivered, syncs and
//! opens a pod lock; refusals outside the pod, before check-in and after check-out (on the
//! lock's own clock); blocking that reaches an offline lock through another member's phone;
//! unblocking and deletion.

use crate::pods_support;

use std::time::Instant;

use keyway_core::ffi::{inspect_credential, RefusalAdvice, RefusalReason};
use keyway_core::pods::{PodPersonStatus, PodRole};
use keyway_core::KeywayError;
use keyway_e2e::World;
use pods_support::{
    invitation_for, key_bytes, now, phone_on_site, pod_with_member, present, set_lock_clock,
};

const APARTMENT: usize = 0;
const GATE: usize = 1;
const STORAGE: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_goes_from_the_e_mail_to_an_open_door_within_the_pod_and_the_stay() {
    let world = World::start().await;
    let site = world
        .site(
            "owner@pods.test",
            &["Apartment 201", "Front gate", "Storage"],
        )
        .await;
    let (pod, member, _) =
        pod_with_member(&world, &site, "mia@pods.test", &[APARTMENT, GATE]).await;
    let member_pods = member.pods().my_pods().await.unwrap();
    assert_eq!(member_pods.len(), 1);
    assert_eq!(member_pods[0].role, PodRole::Member);
    assert!(member_pods[0].digital_key && member_pods[0].remote_opening);
    assert_eq!(member.wallet().keys().await.unwrap()[0].locks.len(), 2);

    let (from, until) = (now() - 60, now() + 3_600);
    let apartment = site.locks[APARTMENT].lock_id;
    let invited = member
        .pods()
        .invite_guest(
            pod.pod_id,
            "gus@pods.test".into(),
            vec![apartment],
            from,
            until,
        )
        .await
        .unwrap();
    assert_eq!(invited.status, PodPersonStatus::Invited);
    assert!(invited.digital_key && !invited.remote_opening);

    // From here on, what the guest does: read the e-mail, sign up, sign in, accept, open.
    let started = Instant::now();
    let requests_before = world.cloud.state.metrics.requests();
    let (email, code) = invitation_for(&world, "gus@pods.test").await;
    assert!(
        email.subject.contains("invited you to Apartment 201"),
        "{}",
        email.subject
    );
    assert!(email.body.contains("Apartment 201") && !email.body.contains("Storage"));
    assert!(email
        .body
        .contains(&format!("keyway://invitation?code={code}")));
    let (guest, radio) = phone_on_site(&world, &site, "gus@pods.test").await;
    let accepted = guest.pods().accept_invitation(code).await.unwrap();
    assert_eq!(accepted.pod.role, PodRole::Guest);
    assert!(accepted.pod.digital_key && !accepted.pod.remote_opening);
    assert_eq!(
        (accepted.pod.from, accepted.pod.until),
        (Some(from), Some(until))
    );
    assert_eq!(accepted.sync.keys, 1);
    let report = guest.wallet().unlock(apartment).await.unwrap();
    assert!(report.granted, "{report:?}");
    let elapsed = started.elapsed();
    let requests = world.cloud.state.metrics.requests() - requests_before;
    println!(
        "guest, e-mail to open door: 5 steps (read e-mail, sign up, sign in, accept, open), \
         {:.0} ms, {requests} HTTP requests",
        elapsed.as_secs_f64() * 1000.0
    );

    // The key is the stay: the lock enforces check-out on its own clock.
    let keys = guest.wallet().keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].not_after, until, "the key ends at check-out");
    let credential = guest
        .wallet()
        .credential_bytes(keys[0].credential_id)
        .await
        .unwrap();
    let info = inspect_credential(credential).unwrap();
    assert_eq!(info.lock_ids, vec![apartment]);
    assert_eq!(info.not_after, until);

    // Outside the pod, and pod locks not given to the guest: the app has no key, and a
    // tampered app is refused by the lock itself.
    for index in [GATE, STORAGE] {
        let lock_id = site.locks[index].lock_id;
        assert!(matches!(
            guest.wallet().unlock(lock_id).await,
            Err(KeywayError::NotAllowed { .. })
        ));
        let credential = key_bytes(&guest, keys[0].credential_id).await;
        let refusal = present(&guest, &radio, lock_id, credential, vec![]).await;
        assert_eq!(refusal, Some(RefusalReason::NotInScope));
    }

    // After check-out on the lock's clock (the phone's clock still says it is valid).
    set_lock_clock(&site, APARTMENT, until + 1);
    let late = guest.wallet().unlock(apartment).await.unwrap();
    assert_eq!(late.refusal, Some(RefusalReason::Expired));

    let seen = member.pods().guests(pod.pod_id).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, PodPersonStatus::Active);
    assert_eq!(seen[0].locks[0].name, "Apartment 201");
    assert_eq!((seen[0].from, seen[0].until), (from, until));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_tomorrow_gives_a_key_the_lock_opens_only_from_check_in_to_check_out() {
    let world = World::start().await;
    let site = world.site("owner@stay.test", &["Room 12"]).await;
    let (pod, member, _) = pod_with_member(&world, &site, "host@stay.test", &[0]).await;
    let check_in = now() + 86_400;
    let check_out = check_in + 2 * 86_400;
    let room = site.locks[0].lock_id;
    member
        .pods()
        .invite_guest(
            pod.pod_id,
            "traveller@stay.test".into(),
            vec![room],
            check_in,
            check_out,
        )
        .await
        .unwrap();
    let (_, code) = invitation_for(&world, "traveller@stay.test").await;
    let (guest, radio) = phone_on_site(&world, &site, "traveller@stay.test").await;
    let accepted = guest.pods().accept_invitation(code).await.unwrap();
    assert_eq!(
        accepted.sync.keys, 1,
        "the key arrives before check-in (offline use)"
    );
    let key = guest.wallet().keys().await.unwrap().remove(0);
    assert_eq!((key.not_before, key.not_after), (check_in, check_out));
    assert!(!key.valid_now);
    assert!(matches!(
        guest.wallet().unlock(room).await,
        Err(KeywayError::NotAllowed { .. })
    ));
    let credential = key_bytes(&guest, key.credential_id).await;
    let early = present(&guest, &radio, room, credential.clone(), vec![]).await;
    assert_eq!(
        early,
        Some(RefusalReason::NotYetValid),
        "the lock's clock says too early"
    );
    set_lock_clock(&site, 0, check_in + 60);
    assert_eq!(
        present(&guest, &radio, room, credential.clone(), vec![]).await,
        None
    );
    set_lock_clock(&site, 0, check_out);
    let after = present(&guest, &radio, room, credential, vec![]).await;
    assert_eq!(after, Some(RefusalReason::Expired));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_guest_is_refused_even_by_a_lock_that_never_talked_to_the_cloud() {
    let world = World::start().await;
    let site = world.site("owner@block.test", &["Apartment 7"]).await;
    let (pod, member, _) = pod_with_member(&world, &site, "tenant@block.test", &[0]).await;
    let door = site.locks[0].lock_id;
    let guest_view = member
        .pods()
        .invite_guest(
            pod.pod_id,
            "friend@block.test".into(),
            vec![door],
            now() - 60,
            now() + 86_400,
        )
        .await
        .unwrap();
    let (_, code) = invitation_for(&world, "friend@block.test").await;
    let (guest, guest_radio) = phone_on_site(&world, &site, "friend@block.test").await;
    guest.pods().accept_invitation(code).await.unwrap();
    assert!(guest.wallet().unlock(door).await.unwrap().granted);
    let old_key = guest.wallet().keys().await.unwrap()[0].credential_id;

    let blocked = member
        .pods()
        .block_guest(pod.pod_id, guest_view.guest_id)
        .await
        .unwrap();
    assert_eq!(blocked.status, PodPersonStatus::Blocked);
    // The guest's phone stays offline and keeps its old key; the lock has heard nothing yet.
    // The member's phone syncs (the denylist update comes with it) and opens the door,
    // carrying the update to the lock in its unlock request.
    let synced = member.wallet().sync().await.unwrap();
    assert!(synced.mailbox_updates >= 1);
    assert!(member.wallet().unlock(door).await.unwrap().granted);
    let refused = guest.wallet().unlock(door).await.unwrap();
    assert_eq!(refused.refusal, Some(RefusalReason::Revoked));
    assert_eq!(
        refused.advice,
        Some(RefusalAdvice::SyncKeys),
        "the app is told to sync, which removes the key"
    );
    // Once the guest's phone syncs, the key is gone.
    let synced = guest.wallet().sync().await.unwrap();
    assert_eq!((synced.keys, synced.removed), (0, 1));
    assert!(matches!(
        guest.wallet().unlock(door).await,
        Err(KeywayError::NotAllowed { .. })
    ));

    let unblocked = member
        .pods()
        .unblock_guest(pod.pod_id, guest_view.guest_id)
        .await
        .unwrap();
    assert_eq!(unblocked.status, PodPersonStatus::Active);
    assert_eq!(guest.wallet().sync().await.unwrap().keys, 1);
    let new_key = guest.wallet().keys().await.unwrap()[0].credential_id;
    assert_ne!(new_key, old_key, "a new key; the blocked one stays denied");
    assert!(guest.wallet().unlock(door).await.unwrap().granted);
    let new_key = key_bytes(&guest, new_key).await;

    // Deleting the guest revokes the new key the same way.
    let deleted = member
        .pods()
        .delete_guest(pod.pod_id, guest_view.guest_id)
        .await
        .unwrap();
    assert_eq!(deleted.email, "friend@block.test");
    assert!(member.pods().guests(pod.pod_id).await.unwrap().is_empty());
    member.wallet().sync().await.unwrap();
    assert!(member.wallet().unlock(door).await.unwrap().granted);
    let gone = present(&guest, &guest_radio, door, new_key, vec![]).await;
    assert_eq!(gone, Some(RefusalReason::Revoked));
    assert_eq!(guest.wallet().sync().await.unwrap().keys, 0);
    assert!(guest.pods().my_pods().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_never_open_remotely_and_members_do() {
    let world = World::start().await;
    let site = world.site("owner@remote.test", &["Door"]).await;
    let (pod, member, _) = pod_with_member(&world, &site, "m@remote.test", &[0]).await;
    let door = site.locks[0].lock_id;
    member
        .pods()
        .invite_guest(
            pod.pod_id,
            "g@remote.test".into(),
            vec![door],
            now() - 60,
            now() + 600,
        )
        .await
        .unwrap();
    let (_, code) = invitation_for(&world, "g@remote.test").await;
    let (guest, _) = phone_on_site(&world, &site, "g@remote.test").await;
    let joined = guest.pods().accept_invitation(code).await.unwrap();
    assert!(!joined.pod.remote_opening);

    let site_id = site.info.site_id;
    let store = world.cloud.state.store.clone();
    let (member_id, guest_id) = store
        .run(|db| {
            let id = |email: &str| -> u32 {
                db.query_row("SELECT id FROM users WHERE email = ?1", [email], |r| {
                    r.get(0)
                })
                .unwrap()
            };
            Ok::<_, keyway_cloud::StoreError>((id("m@remote.test"), id("g@remote.test")))
        })
        .await
        .unwrap();
    let (member_right, guest_right, flags) = store
        .run(move |db| {
            let flag = |user_id: u32| -> bool {
                db.query_row(
                    "SELECT remote_opening FROM memberships WHERE site_id = ?1 AND user_id = ?2",
                    [site_id, user_id],
                    |r| r.get(0),
                )
                .unwrap()
            };
            Ok::<_, keyway_cloud::StoreError>((
                keyway_cloud::pods::remote_opening_right(db, site_id, member_id, door),
                keyway_cloud::pods::remote_opening_right(db, site_id, guest_id, door),
                (flag(member_id), flag(guest_id)),
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        member_right.unwrap(),
        keyway_cloud::pods::RemoteOpening::PodMember
    );
    match guest_right {
        Err(keyway_cloud::ApiError::Forbidden(message)) => {
            assert_eq!(message, keyway_cloud::pods::GUEST_REMOTE_REFUSAL);
        }
        other => panic!("a guest must be refused remote opening: {other:?}"),
    }
    assert_eq!(
        flags,
        (true, false),
        "memberships.remote_opening: member on, guest off"
    );
    assert!(!guest.pods().my_pods().await.unwrap()[0].remote_opening);
}
