//! An IQ logs in by signing the cloud's nonce with the key registered for it: another key
//! (or an id it was not given) gets no session, and a new login replaces the old one.

use std::time::Duration;

use keyway_protocol::SigningKey;
use keyway_sim::iq::{IqConnection, IqHub, LockSet, SimulatedIq};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iq_with_the_wrong_key_gets_no_session() {
    let world = keyway_e2e::World::start().await;
    let site = world.site("owner@iq.test", &[]).await;
    let rng = ring::rand::SystemRandom::new();
    let (registered, pkcs8) = SigningKey::generate(&rng).unwrap();
    let iq_id = site
        .owner
        .admin()
        .add_iq(
            site.info.site_id,
            "IQ".into(),
            registered.public_key().as_bytes().to_vec(),
        )
        .await
        .unwrap();
    let connect = |key, iq_id| {
        SimulatedIq::start(
            IqHub::new(iq_id, key),
            LockSet::new(),
            IqConnection::to_cloud(&world.cloud.base_url()),
        )
    };
    let impostor = connect(SigningKey::generate(&rng).unwrap().0, iq_id);
    let unknown = connect(SigningKey::from_pkcs8(&pkcs8, &rng).unwrap(), iq_id + 100);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for refused in [&impostor, &unknown] {
        assert!(!refused.is_connected() && refused.sessions() == 0);
        assert!(refused.last_error().is_some());
    }
    assert!(!world.cloud.state.iqs.is_online(iq_id));
    impostor.stop().await;

    let genuine = connect(registered, iq_id);
    assert!(genuine.wait_for_session(1, Duration::from_secs(5)).await);
    assert!(world.cloud.state.iqs.is_online(iq_id));
    genuine.stop().await;
    unknown.stop().await;
}
