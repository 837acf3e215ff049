//! Cloud + core + simulated locks over real HTTP on loopback: login, keys, unlock, revocation,
//! events.

use std::sync::Arc;

use keyway_core::admin::{PeopleListRequest, PersonStatus, Role};
use keyway_core::simulator::{log_in_with_password, simulated_browser_login};
use keyway_core::unlock::BleTransport;
use keyway_core::KeywayError;
use keyway_e2e::{log_in, World, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_logs_in_syncs_and_unlocks_and_the_event_reaches_the_cloud() {
    let world = World::start().await;
    let site = world.site("owner@e2e.test", &["Front", "Back"]).await;
    let tenant_id = site.add("tenant@e2e.test", Role::User).await;
    site.grant_first_lock(tenant_id).await;
    let radio = site.radio();
    let tenant = world.phone("tenant", Some(radio as Arc<dyn BleTransport>));
    world.sign_up_verified(&tenant, "tenant@e2e.test").await;
    log_in(&tenant, "tenant@e2e.test").await;
    tenant.devices().register().await.unwrap();
    let synced = tenant.wallet().sync().await.unwrap();
    assert_eq!((synced.keys, synced.added), (1, 1));
    let keys = tenant.wallet().keys().await.unwrap();
    assert_eq!(keys[0].locks[0].name, "Front");
    assert!(keys[0].valid_now);

    let report = tenant.wallet().unlock(site.locks[0].lock_id).await.unwrap();
    assert!(report.granted, "{report:?}");
    assert!(matches!(
        tenant.wallet().unlock(site.locks[1].lock_id).await,
        Err(KeywayError::NotAllowed { .. })
    ));
    assert_eq!(tenant.events().pending().await.unwrap(), 1);
    let uploaded = tenant.events().upload().await.unwrap();
    assert_eq!(
        (uploaded.stored, uploaded.duplicates, uploaded.pending),
        (1, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_gets_no_session() {
    let world = World::start().await;
    let phone = world.person("someone@e2e.test", None).await;
    phone.auth().logout().await.unwrap();
    assert!(!phone.auth().is_logged_in().await.unwrap());
    let request = phone
        .auth()
        .start_login(keyway_api::APP_REDIRECT_URI.into())
        .unwrap();
    let refused = simulated_browser_login(
        request.authorize_url,
        "someone@e2e.test".into(),
        "not the password".into(),
    )
    .await;
    assert!(
        matches!(refused, Err(KeywayError::NotAllowed { .. })),
        "{refused:?}"
    );
    assert!(!phone.auth().is_logged_in().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_another_login_is_refused() {
    let world = World::start().await;
    let first = world.person("first@e2e.test", None).await;
    let second = world.phone("second", None);
    let request = first
        .auth()
        .start_login(keyway_api::APP_REDIRECT_URI.into())
        .unwrap();
    second
        .auth()
        .start_login(keyway_api::APP_REDIRECT_URI.into())
        .unwrap();
    let redirect = simulated_browser_login(
        request.authorize_url,
        "first@e2e.test".into(),
        PASSWORD.into(),
    )
    .await
    .unwrap();
    assert!(matches!(
        second.auth().finish_login(redirect).await,
        Err(KeywayError::InvalidInput { .. })
    ));
    assert!(!second.auth().is_logged_in().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_from_the_group_reaches_the_phone_at_the_next_sync() {
    let world = World::start().await;
    let site = world.site("owner2@e2e.test", &["Door"]).await;
    let tenant_id = site.add("leaver@e2e.test", Role::User).await;
    let group = site.grant_first_lock(tenant_id).await;
    let tenant = world.phone("leaver", Some(site.radio() as Arc<dyn BleTransport>));
    world.sign_up_verified(&tenant, "leaver@e2e.test").await;
    log_in(&tenant, "leaver@e2e.test").await;
    tenant.devices().register().await.unwrap();
    assert_eq!(tenant.wallet().sync().await.unwrap().keys, 1);
    site.owner
        .admin()
        .set_group_members(site.info.site_id, group.group_id, vec![])
        .await
        .unwrap();
    let synced = tenant.wallet().sync().await.unwrap();
    assert_eq!((synced.keys, synced.removed), (0, 1));
    assert!(
        synced.mailbox_updates >= 1,
        "the revocation travels to offline locks"
    );
    assert!(matches!(
        tenant.wallet().unlock(site.locks[0].lock_id).await,
        Err(KeywayError::NotAllowed { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced_through_the_core() {
    let world = World::start().await;
    let site = world.site("owner3@e2e.test", &["Door"]).await;
    site.add("plain@e2e.test", Role::User).await;
    site.add("super@e2e.test", Role::SuperUser).await;
    let plain = world.phone("plain", None);
    world.sign_up_verified(&plain, "plain@e2e.test").await;
    log_in(&plain, "plain@e2e.test").await;
    let denied = plain
        .admin()
        .add_person(
            site.info.site_id,
            "x@e2e.test".into(),
            "X".into(),
            Role::User,
        )
        .await;
    assert!(
        matches!(denied, Err(KeywayError::NotAllowed { .. })),
        "{denied:?}"
    );
    let superuser = world.phone("super", None);
    world.sign_up_verified(&superuser, "super@e2e.test").await;
    log_in(&superuser, "super@e2e.test").await;
    let denied = superuser
        .admin()
        .add_person(
            site.info.site_id,
            "a@e2e.test".into(),
            "A".into(),
            Role::Admin,
        )
        .await;
    assert!(
        matches!(denied, Err(KeywayError::NotAllowed { .. })),
        "{denied:?}"
    );
    let allowed = superuser
        .admin()
        .add_person(
            site.info.site_id,
            "u@e2e.test".into(),
            "U".into(),
            Role::User,
        )
        .await;
    assert!(allowed.is_ok(), "{allowed:?}");

    // The people list pages through the core: one person a page, each once, then no cursor.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = superuser
            .admin()
            .list_people(
                site.info.site_id,
                PeopleListRequest {
                    limit: Some(1),
                    cursor,
                    ..PeopleListRequest::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 4, "the owner, plain, super and u");
        seen.extend(page.people);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut emails: Vec<String> = seen.into_iter().filter_map(|person| person.email).collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "owner3@e2e.test",
            "plain@e2e.test",
            "super@e2e.test",
            "u@e2e.test"
        ]
    );
    let invited = superuser
        .admin()
        .list_people(
            site.info.site_id,
            PeopleListRequest {
                invited: Some(true),
                search: Some("U@E2E".into()),
                ..PeopleListRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(invited.people.len(), 1);
    assert_eq!(invited.people[0].status, PersonStatus::Invited);
    let tampered = superuser
        .admin()
        .list_people(
            site.info.site_id,
            PeopleListRequest {
                cursor: Some("not-a-cursor".into()),
                ..PeopleListRequest::default()
            },
        )
        .await;
    assert!(
        matches!(tampered, Err(KeywayError::InvalidInput { .. })),
        "{tampered:?}"
    );
    let denied = plain
        .admin()
        .list_people(site.info.site_id, PeopleListRequest::default())
        .await;
    assert!(
        matches!(denied, Err(KeywayError::NotAllowed { .. })),
        "{denied:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_again_after_logout_works() {
    let world = World::start().await;
    let phone = world.person("again@e2e.test", None).await;
    phone.auth().logout().await.unwrap();
    log_in_with_password(Arc::clone(&phone), "again@e2e.test".into(), PASSWORD.into())
        .await
        .unwrap();
    assert!(phone.auth().is_logged_in().await.unwrap());
}
