//! A coworking system drives a site through its API key (manual 004), end to end through the
//! cloud, phones made of the real core and simulated locks whose own clocks decide: a
//! subscription opens the floor from its start to its end; a company's subscription covers
//! every person of the company and its cancellation ends it for all; a room booking opens the
//! room to the booker and the invitees from 30 minutes before to 30 minutes after, on the
//! lock's clock, with no network at the door.

use std::sync::Arc;

use keyway_api::integrations::Scope;
use keyway_core::ffi::RefusalReason;
use keyway_core::{Keyway, KeywayError};
use keyway_e2e::{Site, World};
use reqwest::Method;
use serde_json::json;

use crate::integration_support::{api_key, call};
use crate::remote_support::user_id;

const OWNER: &str = "owner@cowork.test";
const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

struct Space {
    world: World,
    site: Site,
    key: String,
    /// The floor's group (a plan's) and the meeting room's.
    floor: u32,
    room: u32,
}

async fn space() -> Space {
    let world = World::start().await;
    let site = world.site(OWNER, &["Floor", "Meeting room"]).await;
    let owner_id = user_id(&world, OWNER).await;
    let scopes = vec![Scope::PeopleWrite, Scope::AccessWrite];
    let key = api_key(&world, site.info.site_id, owner_id, scopes).await;
    let admin = site.owner.admin();
    let mut groups = Vec::new();
    for (index, name) in ["Hot desk plan", "Meeting room"].into_iter().enumerate() {
        let lock = vec![site.locks[index].lock_id];
        let group = admin.create_access_group(site.info.site_id, name.into(), lock, vec![], vec![]);
        groups.push(group.await.unwrap().group_id);
    }
    Space {
        world,
        site,
        key,
        floor: groups[0],
        room: groups[1],
    }
}

impl Space {
    /// The system adds a member (invited by e-mail), who then signs up on a phone.
    async fn member(&self, external_id: &str, email: &str) -> Arc<Keyway> {
        let person = json!({ "name": format!("Member {external_id}"), "email": email });
        let path = format!("/api/v1/integrations/people/{external_id}");
        call(&self.world, &self.key, Method::PUT, &path, Some(person)).await;
        let phone = self.world.person(email, Some(self.site.radio())).await;
        phone.devices().register().await.unwrap();
        phone
    }

    async fn grant(&self, external_id: &str, group: u32, window: Option<serde_json::Value>) {
        let path = format!("/api/v1/integrations/people/{external_id}/access-groups/{group}");
        call(&self.world, &self.key, Method::PUT, &path, window).await;
    }

    /// Sets the lock's own clock, then tries the phone there: `Ok(None)` when the door
    /// opened, the lock's refusal, or the wallet's error (no key for that lock).
    async fn at(
        &self,
        phone: &Keyway,
        index: usize,
        time: i64,
    ) -> Result<Option<RefusalReason>, KeywayError> {
        let lock = &self.site.locks[index];
        lock.lock.lock().unwrap().clock_mut().set(time);
        let report = phone.wallet().unlock(lock.lock_id).await?;
        Ok(if report.granted { None } else { report.refusal })
    }

    fn now(&self) -> i64 {
        self.world.cloud.state.clock.now()
    }
}

#[tokio::test]
async fn a_subscription_opens_the_floor_from_its_start_to_its_end() {
    let s = space().await;
    let phone = s.member("sub-1", "mia@cowork.test").await;
    // It started two minutes ago (the phone holds a key valid now) and runs three more days.
    let now = s.now();
    let (start, end) = (now - 2 * MINUTE, now + 3 * 86_400);
    s.grant(
        "sub-1",
        s.floor,
        Some(json!({ "from": start, "until": end })),
    )
    .await;
    phone.wallet().sync().await.unwrap();
    let keys = phone.wallet().keys().await.unwrap();
    assert_eq!(
        (keys[0].not_before, keys[0].not_after),
        (start, end),
        "the key carries the subscription's dates"
    );
    // The lock's own clock decides, whatever the phone's says.
    assert_eq!(
        s.at(&phone, 0, start - MINUTE).await.unwrap(),
        Some(RefusalReason::NotYetValid),
        "before the subscription starts"
    );
    assert_eq!(
        s.at(&phone, 0, start + MINUTE).await.unwrap(),
        None,
        "once it runs"
    );
    assert_eq!(
        s.at(&phone, 0, end + MINUTE).await.unwrap(),
        Some(RefusalReason::Expired),
        "after it ends"
    );
    assert!(
        !matches!(s.at(&phone, 1, start + MINUTE).await, Ok(None)),
        "the plan's group only"
    );
}

#[tokio::test]
async fn a_company_subscription_covers_everyone_and_its_cancellation_ends_it_for_all() {
    let s = space().await;
    let company = [("acme-1", "ana@acme.test"), ("acme-2", "bo@acme.test")];
    let mut phones = Vec::new();
    for (external_id, email) in company {
        phones.push(s.member(external_id, email).await);
    }
    let until = s.now() + 30 * 86_400;
    for (external_id, _) in company {
        s.grant(external_id, s.floor, Some(json!({ "until": until })))
            .await;
    }
    for phone in &phones {
        phone.wallet().sync().await.unwrap();
        assert_eq!(
            s.at(phone, 0, s.now()).await.unwrap(),
            None,
            "every person of the company"
        );
    }
    // Cancelled: the system ends every membership; each phone's key is revoked.
    for (external_id, _) in company {
        let path = format!(
            "/api/v1/integrations/people/{external_id}/access-groups/{}",
            s.floor
        );
        call(&s.world, &s.key, Method::DELETE, &path, None).await;
    }
    for phone in &phones {
        phone.wallet().sync().await.unwrap();
        assert!(phone.wallet().keys().await.unwrap().is_empty());
        assert!(
            !matches!(s.at(phone, 0, s.now()).await, Ok(None)),
            "no key opens the floor"
        );
    }
}

#[tokio::test]
async fn a_room_booking_opens_with_the_grace_for_the_booker_and_the_invitee_only() {
    let s = space().await;
    let booker = s.member("m-1", "booker@cowork.test").await;
    let invitee = s.member("m-2", "invitee@cowork.test").await;
    let other = s.member("m-3", "other@cowork.test").await;
    // A four-hour meeting starting in 28 minutes: with the grace, its key is valid from two
    // minutes ago (the phone holds a key valid now).
    let start = s.now() + 28 * MINUTE;
    let booking = json!({
        "kind": "room", "group_id": s.room, "people": ["m-1", "m-2"],
        "start": start, "end": start + 4 * HOUR,
    });
    let path = "/api/v1/integrations/bookings/room-42";
    call(&s.world, &s.key, Method::PUT, path, Some(booking)).await;
    for phone in [&booker, &invitee, &other] {
        phone.wallet().sync().await.unwrap();
    }
    for phone in [&booker, &invitee] {
        // As the manual's 12:00-16:00 opens 11:30-16:30, on the lock's clock: 31 minutes
        // early no, 29 yes; 29 minutes late yes, 31 no.
        let at = |time| s.at(phone, 1, time);
        assert_eq!(
            at(start - 31 * MINUTE).await.unwrap(),
            Some(RefusalReason::NotYetValid)
        );
        assert_eq!(at(start - 29 * MINUTE).await.unwrap(), None);
        assert_eq!(at(start + 4 * HOUR + 29 * MINUTE).await.unwrap(), None);
        assert_eq!(
            at(start + 4 * HOUR + 31 * MINUTE).await.unwrap(),
            Some(RefusalReason::Expired)
        );
    }
    assert!(
        !matches!(s.at(&other, 1, start).await, Ok(None)),
        "someone not on the booking"
    );
}
