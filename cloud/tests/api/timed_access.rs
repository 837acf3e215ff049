//! Access for a time (manual 004): a subscription's membership from its start to its end or
//! cancellation, and room and desk bookings with their 30-minute grace, for the booker and
//! the invitees. The keys carry the times (the lock's own clock enforces them); moving or
//! cancelling revokes the keys that carried the old ones.

use keyway_api::integrations::{BookingView, IntegrationPersonView, MembershipView};
use keyway_api::{DigitalKeyView, ErrorCode, ScheduleWindow};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api_support::integration::{api_key, call, person};
use crate::api_support::{code, typed, Caller, Cloud};

const HOUR: i64 = 3600;

/// A person the system adds, signed in on a phone: their caller and device id.
async fn member(cloud: &Cloud, key: &Caller, external_id: &str) -> (Caller, u32) {
    let email = format!("{external_id}@cowork.test");
    let (status, body, _) = call(
        cloud,
        key,
        Method::PUT,
        &format!("/api/v1/integrations/people/{external_id}"),
        None,
        person("Coworker", &email),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let added: IntegrationPersonView = typed(body);
    cloud.mark_verified(added.user_id).await;
    let caller = cloud.token_for(added.user_id).await;
    let (device, _) = cloud.device(&caller).await;
    (caller, device.device_id)
}

async fn keys(cloud: &Cloud, caller: &Caller, device_id: u32) -> Vec<DigitalKeyView> {
    cloud.sync(caller, device_id).await.keys
}

#[tokio::test]
async fn a_subscription_opens_from_its_start_to_its_end_and_a_cancellation_shortens_it() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(
        &cloud,
        &owner,
        site.site_id,
        &["people:write", "access:write"],
    )
    .await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Coworking floor").await;
    let weekdays = ScheduleWindow {
        days: 0b0001_1111,
        start_minute: 8 * 60,
        end_minute: 20 * 60,
    };
    let plan = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[weekdays])
        .await;
    let (caller, device_id) = member(&cloud, &key, "sub-1").await;
    let now = cloud.running.state.clock.now();
    let (start, end) = (now + 2 * HOUR, now + 30 * 86_400);
    let grant = format!(
        "/api/v1/integrations/people/sub-1/access-groups/{}",
        plan.group_id
    );
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::PUT,
        &grant,
        None,
        Some(json!({ "from": start, "until": end })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: MembershipView = typed(body);
    assert_eq!((view.from, view.until), (Some(start), Some(end)));
    let held = keys(&cloud, &caller, device_id).await;
    assert_eq!(
        held.len(),
        1,
        "the key comes ahead, for the phone to hold offline"
    );
    assert_eq!(
        held[0].not_before, start,
        "it opens nothing before the start"
    );
    assert!(held[0].not_after <= end);

    // Cancelled: the end moves to tomorrow; the key that carried the old end is revoked.
    let cancelled = now + 86_400;
    let (status, _, _) = call(
        &cloud,
        &key,
        Method::PUT,
        &grant,
        None,
        Some(json!({ "from": start, "until": cancelled })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Revoked by the call itself, before any phone syncs.
    assert_eq!(
        cloud
            .count(format!(
                "SELECT COUNT(*) FROM credentials WHERE id = {} AND revoked_at IS NOT NULL",
                held[0].credential_id
            ))
            .await,
        1,
        "the old key is on the denylist"
    );
    let after = keys(&cloud, &caller, device_id).await;
    assert_eq!(after.len(), 1);
    assert_ne!(after[0].credential_id, held[0].credential_id, "a new key");
    assert_eq!(after[0].not_after, cancelled);

    // Past the end, nothing is issued.
    cloud.running.state.clock.advance(86_400 + 60);
    assert!(keys(&cloud, &caller, device_id).await.is_empty());

    // Dates that make no sense are refused.
    let later = cloud.running.state.clock.now();
    for window in [
        json!({ "from": later + HOUR, "until": later + HOUR }),
        json!({ "until": later - 1 }),
    ] {
        let (status, body, _) = call(
            &cloud,
            &key,
            Method::PUT,
            &grant,
            None,
            Some(window.clone()),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
            "{window}"
        );
    }
}

#[tokio::test]
async fn a_room_booking_opens_with_its_grace_for_the_booker_and_the_invitees() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let key = api_key(
        &cloud,
        &owner,
        site.site_id,
        &["people:write", "access:write"],
    )
    .await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Meeting room").await;
    // The room's group is open on weekdays only; a booking is not bound by that.
    let weekdays = ScheduleWindow {
        days: 0b0001_1111,
        start_minute: 9 * 60,
        end_minute: 17 * 60,
    };
    let room = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[weekdays])
        .await;
    let (booker, booker_device) = member(&cloud, &key, "m-1").await;
    let (invitee, invitee_device) = member(&cloud, &key, "m-2").await;
    let (outsider, outsider_device) = member(&cloud, &key, "m-3").await;
    let now = cloud.running.state.clock.now();
    let (start, end) = (now + 3 * HOUR, now + 7 * HOUR);
    let path = "/api/v1/integrations/bookings/bk-100";
    let booking = json!({
        "kind": "room", "group_id": room.group_id, "people": ["m-1", "m-2"],
        "start": start, "end": end,
    });
    let (status, body, _) = call(&cloud, &key, Method::PUT, path, None, Some(booking)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: BookingView = typed(body);
    assert_eq!(
        (view.access_from, view.access_until),
        (start - 30 * 60, end + 30 * 60),
        "the manual: 12:00-16:00 opens 11:30-16:30"
    );
    for (caller, device) in [(&booker, booker_device), (&invitee, invitee_device)] {
        let held = keys(&cloud, caller, device).await;
        assert_eq!(held.len(), 1);
        assert_eq!(
            (held[0].not_before, held[0].not_after),
            (start - 30 * 60, end + 30 * 60)
        );
        let credential = keyway_protocol::SignedCredential::decode(&crate::api_support::unb64(
            &held[0].credential,
        ))
        .unwrap();
        assert!(
            credential.credential().schedule.is_empty(),
            "the booking's times, not the group's weekdays"
        );
    }
    assert!(keys(&cloud, &outsider, outsider_device).await.is_empty());

    // The invitee is taken off: their key is revoked; the booker keeps theirs.
    let booking = json!({
        "kind": "room", "group_id": room.group_id, "people": ["m-1"],
        "start": start, "end": end,
    });
    let invitee_key = keys(&cloud, &invitee, invitee_device).await[0].credential_id;
    call(&cloud, &key, Method::PUT, path, None, Some(booking)).await;
    let revoked = format!(
        "SELECT COUNT(*) FROM credentials WHERE id = {invitee_key} AND revoked_at IS NOT NULL"
    );
    assert_eq!(
        cloud.count(revoked).await,
        1,
        "revoked by the call, before a sync"
    );
    assert!(keys(&cloud, &invitee, invitee_device).await.is_empty());
    assert_eq!(keys(&cloud, &booker, booker_device).await.len(), 1);

    // Cancelled: nobody keeps anything.
    let (status, _, _) = call(&cloud, &key, Method::DELETE, path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(keys(&cloud, &booker, booker_device).await.is_empty());
    let (status, body, _) = call(&cloud, &key, Method::GET, path, None, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn a_desk_booking_lasts_the_location_s_day_with_its_grace_in_site_time() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let (status, body) = cloud
        .post(
            &owner,
            "/api/v1/sites",
            json!({ "name": "Cowork Lisbon", "utc_offset_minutes": 60 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let site_id = body["site_id"].as_u64().unwrap() as u32;
    let key = api_key(&cloud, &owner, site_id, &["people:write", "access:write"]).await;
    let (lock, _) = cloud.lock(&owner, site_id, "Hot desks").await;
    let desks = cloud
        .group(&owner, site_id, &[lock.lock_id], &[], &[])
        .await;
    let (caller, device_id) = member(&cloud, &key, "d-1").await;
    // Tomorrow, in the site's time (UTC+1), 9:00-19:00.
    let now = cloud.running.state.clock.now();
    let tomorrow = chrono::DateTime::from_timestamp(now + 60 * 60 + 86_400, 0)
        .unwrap()
        .date_naive();
    let booking = json!({
        "kind": "desk", "group_id": desks.group_id, "people": ["d-1"],
        "date": tomorrow.format("%Y-%m-%d").to_string(), "opens": "09:00", "closes": "19:00",
    });
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/bookings/desk-5",
        None,
        Some(booking),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: BookingView = typed(body);
    let midnight_utc = tomorrow.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - HOUR;
    assert_eq!(
        (view.access_from, view.access_until),
        (
            midnight_utc + 8 * HOUR + 30 * 60,
            midnight_utc + 19 * HOUR + 30 * 60
        ),
        "the manual: a 9 AM - 7 PM day opens 8:30 AM - 7:30 PM"
    );
    let held = keys(&cloud, &caller, device_id).await;
    assert_eq!(
        (held[0].not_before, held[0].not_after),
        (view.access_from, view.access_until)
    );
    // Somebody the system has not added cannot be booked in; nor a group of another site.
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/bookings/desk-6",
        None,
        Some(json!({
            "kind": "desk", "group_id": desks.group_id, "people": ["stranger"],
            "date": tomorrow.format("%Y-%m-%d").to_string(), "opens": "09:00", "closes": "19:00",
        })),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
    let other_site = cloud.site(&owner).await;
    let (other_lock, _) = cloud.lock(&owner, other_site.site_id, "Elsewhere").await;
    let other_group = cloud
        .group(&owner, other_site.site_id, &[other_lock.lock_id], &[], &[])
        .await;
    let (status, body, _) = call(
        &cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/bookings/desk-7",
        None,
        Some(json!({
            "kind": "room", "group_id": other_group.group_id, "people": ["d-1"],
            "start": now + HOUR, "end": now + 2 * HOUR,
        })),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
}
