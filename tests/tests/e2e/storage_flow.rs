//! A self-storage system drives a site through its API key (manual 001), end to end through
//! the cloud, the IQ and the locks' keypads: move-in grants the unit's group and the front
//! door with one PIN for every unit; an overlock on an overdue payment takes the unit only
//! (the same PIN still opens the front door and the customer's other unit, and the other
//! people of the unit's group keep theirs); lifting it restores the unit; move-out ends all.

use keyway_api::integrations::Scope;
use keyway_cloud::remote::keypad::find_pin;
use keyway_core::simulator::InstalledLock;
use reqwest::Method;
use serde_json::{json, Value};

use crate::integration_support;
use crate::remote_support::{eventually, remote_site, Remote};

async fn api_key(r: &Remote) -> String {
    let scopes = vec![Scope::PeopleWrite, Scope::AccessWrite, Scope::PinsWrite];
    integration_support::api_key(&r.world, r.site_id(), r.owner_id, scopes).await
}

async fn call(r: &Remote, key: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    integration_support::call(&r.world, key, method, path, body).await
}

fn keypad_serial(lock: &InstalledLock) -> Option<u32> {
    lock.lock.lock().unwrap().keypad_serial()
}

/// Waits until every lock took a keypad table newer than `before`, then types `pin` at `lock`.
async fn opens(r: &Remote, before: &[Option<u32>], index: usize, pin: &str) -> bool {
    let locks = &r.site.locks;
    assert!(
        eventually(|| locks
            .iter()
            .zip(before)
            .all(|(lock, was)| keypad_serial(lock) > *was))
        .await,
        "the IQ pushed new keypad tables"
    );
    r.iq.keypad(r.lock(index), pin.to_string())
        .unwrap()
        .is_none()
}

fn serials(r: &Remote) -> Vec<Option<u32>> {
    r.site.locks.iter().map(keypad_serial).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_in_overlock_lift_and_move_out() {
    let r = remote_site(&["Front door", "Unit 1", "Unit 2"]).await;
    let key = api_key(&r).await;
    let admin = r.site.owner.admin();
    let mut groups = Vec::new();
    for (index, name) in ["Front door", "Unit 1", "Unit 2"].iter().enumerate() {
        let group = admin
            .create_access_group(
                r.site_id(),
                (*name).into(),
                vec![r.lock(index)],
                vec![],
                vec![],
            )
            .await
            .unwrap();
        groups.push(group.group_id);
    }
    let grant = |external: &str, group: u32| {
        format!("/api/v1/integrations/people/{external}/access-groups/{group}")
    };

    // Move-in: the customer rents units 1 and 2; a neighbour shares unit 1.
    for (external, email) in [
        ("cust-1", "casey@storage.test"),
        ("cust-2", "nel@storage.test"),
    ] {
        let person = json!({ "name": external, "email": email });
        call(
            &r,
            &key,
            Method::PUT,
            &format!("/api/v1/integrations/people/{external}"),
            Some(person),
        )
        .await;
    }
    let before = serials(&r);
    for group in [groups[0], groups[1], groups[2]] {
        call(&r, &key, Method::PUT, &grant("cust-1", group), None).await;
    }
    for group in [groups[0], groups[1]] {
        call(&r, &key, Method::PUT, &grant("cust-2", group), None).await;
    }
    let mut pins = Vec::new();
    for (external, email) in [
        ("cust-1", "casey@storage.test"),
        ("cust-2", "nel@storage.test"),
    ] {
        let made = call(
            &r,
            &key,
            Method::POST,
            &format!("/api/v1/integrations/people/{external}/keypad-pin"),
            None,
        )
        .await;
        assert_eq!(made["created"], true);
        pins.push(r.world.wait_for_mail(email, find_pin).await.1);
    }
    let again = call(
        &r,
        &key,
        Method::POST,
        "/api/v1/integrations/people/cust-1/keypad-pin",
        None,
    )
    .await;
    assert_eq!(
        again["created"], false,
        "one PIN for both units: it is kept"
    );
    let (casey, nel) = (&pins[0], &pins[1]);
    assert!(opens(&r, &before, 1, casey).await, "unit 1");
    for index in [0, 2] {
        assert!(
            r.iq.keypad(r.lock(index), casey.clone()).unwrap().is_none(),
            "lock {index}, the same PIN"
        );
    }

    // Overdue payment: unit 1 is overlocked for the customer only.
    let before = serials(&r);
    call(&r, &key, Method::DELETE, &grant("cust-1", groups[1]), None).await;
    assert!(!opens(&r, &before, 1, casey).await, "overlocked");
    assert!(
        r.iq.keypad(r.lock(0), casey.clone()).unwrap().is_none(),
        "the front door still opens"
    );
    assert!(
        r.iq.keypad(r.lock(2), casey.clone()).unwrap().is_none(),
        "the other unit still opens"
    );
    assert!(
        r.iq.keypad(r.lock(1), nel.clone()).unwrap().is_none(),
        "the neighbour keeps unit 1"
    );

    // Paid: the overlock is lifted, with the same PIN.
    let before = serials(&r);
    call(&r, &key, Method::PUT, &grant("cust-1", groups[1]), None).await;
    assert!(opens(&r, &before, 1, casey).await, "lifted");

    // Move-out: off the site, no door opens for the PIN.
    let before = serials(&r);
    call(
        &r,
        &key,
        Method::DELETE,
        "/api/v1/integrations/people/cust-1",
        None,
    )
    .await;
    assert!(!opens(&r, &before, 0, casey).await, "moved out");
}
