//! The apps' executors (Kotlin coroutines, Swift tasks, Python's asyncio) poll the exported
//! futures themselves, on threads where no tokio runtime runs. Here a plain executor
//! (`futures::executor::block_on` on the test's own thread) drives the phone's calls the same
//! way: sign-up, login, device registration, sync, an unlock over the simulated radio, the
//! event upload, logout. None may need a tokio context of its caller, and dropping a call
//! mid-way still aborts its work on the core's runtime. The cloud and the simulators run on a
//! runtime of their own, as a server elsewhere would.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures::executor::block_on;
use futures::future::{select, Either};
use keyway_cloud::auth::verification;
use keyway_core::admin::{PeopleListRequest, Role};
use keyway_core::simulator::{log_in_with_password, SimulatedSite};
use keyway_core::unlock::BleTransport;
use keyway_core::KeywayError;
use keyway_e2e::{slow_radio, World, PASSWORD};
use keyway_sim::LinkConfig;

/// The cloud's own runtime: it serves while the test's thread is outside it.
fn cloud_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The test's thread is an app's thread: no tokio runtime is current on it.
fn assert_no_tokio_context() {
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "the caller must not be inside a tokio runtime"
    );
}

/// A future that completes after `delay`, timed by a plain thread (no tokio timer).
fn after(delay: Duration) -> oneshot::Receiver<()> {
    let (fire, fired) = oneshot::channel();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let _ = fire.send(());
    });
    fired
}

#[test]
fn exported_calls_run_when_a_plain_executor_polls_them() {
    let cloud = cloud_runtime();
    let world = cloud.block_on(World::start());
    let site = cloud.block_on(world.site("owner@foreign.test", &["Front"]));
    let tenant_id = cloud.block_on(site.add("tenant@foreign.test", Role::User));
    cloud.block_on(site.grant_first_lock(tenant_id));
    let lock_id = site.locks[0].lock_id;
    let phone = world.phone("tenant", Some(site.radio() as Arc<dyn BleTransport>));

    assert_no_tokio_context();
    let email = "tenant@foreign.test";
    let auth = phone.auth();
    block_on(auth.sign_up(email.into(), "Tenant".into(), PASSWORD.into())).unwrap();
    let (_, code) = cloud.block_on(world.wait_for_mail(email, verification::find_code));
    assert_no_tokio_context();
    block_on(auth.verify_email(email.into(), code, PASSWORD.into())).unwrap();
    block_on(log_in_with_password(
        Arc::clone(&phone),
        email.into(),
        PASSWORD.into(),
    ))
    .unwrap();
    assert!(block_on(auth.is_logged_in()).unwrap());
    block_on(phone.devices().register()).unwrap();
    let synced = block_on(phone.wallet().sync()).unwrap();
    assert_eq!(synced.keys, 1, "{synced:?}");
    assert_eq!(block_on(phone.wallet().keys()).unwrap().len(), 1);

    let report = block_on(phone.wallet().unlock(lock_id)).unwrap();
    assert!(report.granted, "{report:?}");
    assert_eq!(block_on(phone.events().pending()).unwrap(), 1);
    let uploaded = block_on(phone.events().upload()).unwrap();
    assert_eq!((uploaded.stored, uploaded.pending), (1, 0), "{uploaded:?}");
    assert!(block_on(phone.remote().iq_codes()).unwrap().is_empty());
    assert!(block_on(phone.pods().my_pods()).unwrap().is_empty());
    let people = block_on(
        site.owner
            .admin()
            .list_people(site.info.site_id, PeopleListRequest::default()),
    )
    .unwrap();
    assert_eq!(people.total, 2, "{people:?}");

    block_on(auth.logout()).unwrap();
    assert!(!block_on(auth.is_logged_in()).unwrap());
    assert!(matches!(
        block_on(phone.wallet().sync()),
        Err(KeywayError::ReLogin { .. })
    ));
}

#[test]
fn a_simulated_site_unlocks_when_a_plain_executor_polls_it() {
    let link = LinkConfig {
        mtu: 185,
        connect_latency: Duration::ZERO,
        packet_latency: Duration::ZERO,
        ..LinkConfig::default()
    };
    let site = SimulatedSite::with_link(vec![1], link, Duration::ZERO).unwrap();
    let key = site.issue_key(vec![1], 3600).unwrap();
    assert_no_tokio_context();
    let report = block_on(site.unlock(1, key)).unwrap();
    assert!(report.granted, "{report:?}");
}

#[test]
fn dropping_a_call_a_plain_executor_polls_aborts_its_work() {
    let cloud = cloud_runtime();
    let world = cloud.block_on(World::start());
    let site = cloud.block_on(world.site("owner@foreign-cancel.test", &["Front"]));
    let email = "tenant@foreign-cancel.test";
    let tenant_id = cloud.block_on(site.add(email, Role::User));
    cloud.block_on(site.grant_first_lock(tenant_id));
    let lock = &site.locks[0];
    let phone = world.phone("tenant", Some(slow_radio(lock)));
    cloud.block_on(world.sign_up_verified(&phone, email));
    assert_no_tokio_context();
    block_on(log_in_with_password(
        Arc::clone(&phone),
        email.into(),
        PASSWORD.into(),
    ))
    .unwrap();
    block_on(phone.devices().register()).unwrap();
    block_on(phone.wallet().sync()).unwrap();
    let events_before = lock.lock.lock().unwrap().events().len();

    // The app gives up after 300 ms: the executor drops the call's future mid-handshake.
    let wallet = phone.wallet();
    let unlock = Box::pin(wallet.unlock(lock.lock_id));
    match block_on(select(unlock, after(Duration::from_millis(300)))) {
        Either::Left((finished, _)) => panic!("still running after 300 ms: {finished:?}"),
        Either::Right((_, unlock)) => drop(unlock),
    }
    // The lock sees the phone go away.
    let deadline = Instant::now() + Duration::from_secs(2);
    while lock.lock.lock().unwrap().connection_id().is_some() {
        assert!(
            Instant::now() < deadline,
            "the link was closed when the unlock was dropped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Nothing was half-done: no event at the lock, none queued on the phone.
    assert_eq!(lock.lock.lock().unwrap().events().len(), events_before);
    assert_eq!(block_on(phone.events().pending()).unwrap(), 0);
    // And the next unlock, polled the same way, works from a clean start.
    let report = block_on(phone.wallet().unlock(lock.lock_id)).unwrap();
    assert!(report.granted, "{report:?}");
    assert_eq!(block_on(phone.events().pending()).unwrap(), 1);
}
