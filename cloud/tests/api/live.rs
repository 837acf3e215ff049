//! The live channel as a phone (or an attacker) holding it open sees it: who gets which
//! notice, within how long, and what happens when the token runs out.

use std::time::Duration;

use keyway_api::live::{LiveNotice, SseDecoder};
use keyway_api::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::api_support::{Caller, Cloud};

/// An open live stream, read with the same decoder the core uses.
struct Listener {
    /// The stream id its hello named.
    stream_id: u64,
    response: reqwest::Response,
    decoder: SseDecoder,
    seen: Vec<LiveNotice>,
}

impl Listener {
    async fn open(cloud: &Cloud, caller: &Caller) -> Self {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/live", cloud.running.base_url()))
            .bearer_auth(&caller.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut listener = Self {
            stream_id: 0,
            response,
            decoder: SseDecoder::new(),
            seen: Vec::new(),
        };
        match listener.next(Duration::from_secs(5)).await {
            Some(LiveNotice::Hello { stream_id, .. }) => listener.stream_id = stream_id,
            other => panic!("no hello: {other:?}"),
        }
        listener
    }

    /// The next notice within `wait`, or `None` (nothing came, or the stream ended).
    async fn next(&mut self, wait: Duration) -> Option<LiveNotice> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if !self.seen.is_empty() {
                return Some(self.seen.remove(0));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.seen.extend(self.decoder.feed(&bytes).unwrap()),
                _ => return None,
            }
        }
    }

    /// Waits (at most five seconds) for `wanted`, skipping other notices.
    async fn expect(&mut self, wanted: &LiveNotice) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while let Some(notice) = self
            .next(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await
        {
            if &notice == wanted {
                return;
            }
        }
        panic!("no {wanted:?} within five seconds");
    }
}

#[tokio::test]
async fn a_grant_and_a_revocation_reach_the_person_and_nobody_on_another_site() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let tenant = cloud.member(&owner, site.site_id, Role::User).await;
    let (lock, _) = cloud.lock(&owner, site.site_id, "Front door").await;
    let group = cloud
        .group(&owner, site.site_id, &[lock.lock_id], &[], &[])
        .await;
    let (device, _) = cloud.device(&tenant).await;
    // Someone on another site, listening.
    let outsider_owner = cloud.account().await;
    let other_site = cloud.site(&outsider_owner).await;
    let outsider = cloud
        .member(&outsider_owner, other_site.site_id, Role::User)
        .await;

    let mut tenant_live = Listener::open(&cloud, &tenant).await;
    let mut outsider_live = Listener::open(&cloud, &outsider).await;

    let started = std::time::Instant::now();
    cloud
        .set_group_members(&owner, site.site_id, group.group_id, &[tenant.user_id])
        .await;
    tenant_live.expect(&LiveNotice::KeysChanged).await;
    let granted_after = started.elapsed();
    assert!(granted_after < Duration::from_secs(1), "{granted_after:?}");
    assert_eq!(cloud.sync(&tenant, device.device_id).await.keys.len(), 1);

    cloud
        .set_group_members(&owner, site.site_id, group.group_id, &[])
        .await;
    tenant_live.expect(&LiveNotice::KeysChanged).await;
    tenant_live
        .expect(&LiveNotice::DenylistChanged {
            site_id: site.site_id,
        })
        .await;
    assert!(cloud.sync(&tenant, device.device_id).await.keys.is_empty());

    assert_eq!(
        outsider_live.next(Duration::from_millis(300)).await,
        None,
        "site A's changes say nothing to a person of site B"
    );
}

#[tokio::test]
async fn without_a_valid_token_there_is_no_stream_and_streams_are_renewed_only_by_their_owner() {
    let cloud = Cloud::start().await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/live", cloud.running.base_url()))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let owner = cloud.account().await;
    let mut listener = Listener::open(&cloud, &owner).await;
    let stranger = cloud.account().await;
    // Stream ids are small numbers: a stranger trying them gets 404 for every one.
    for stream_id in 1..=3 {
        let (status, _) = cloud
            .post(
                &stranger,
                &format!("/api/v1/live/{stream_id}/renew"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    assert_eq!(listener.next(Duration::from_millis(100)).await, None);
}

/// A second access token of `user_id`'s that expires `seconds` from now on the cloud's clock.
async fn short_token(cloud: &Cloud, user_id: u32, seconds: i64) -> Caller {
    let expires_at = cloud.running.state.clock.now() + seconds;
    cloud.token_until(user_id, expires_at).await
}

#[tokio::test]
async fn a_stream_ends_with_its_token_unless_renewed_in_place() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let expiring = short_token(&cloud, owner.user_id, 2).await;
    let mut ends = Listener::open(&cloud, &expiring).await;
    assert_eq!(
        ends.next(Duration::from_secs(4)).await,
        Some(LiveNotice::TokenExpired)
    );
    assert_eq!(
        ends.next(Duration::from_secs(1)).await,
        None,
        "and then it ends"
    );

    // The same, renewed with a fresh token before it runs out: the stream stays open.
    let expiring = short_token(&cloud, owner.user_id, 2).await;
    let mut renewed = Listener::open(&cloud, &expiring).await;
    let stream_id = renewed.stream_id;
    let (status, _) = cloud
        .post(
            &owner,
            &format!("/api/v1/live/{stream_id}/renew"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        renewed.next(Duration::from_secs(4)).await,
        None,
        "still open, nothing sent"
    );
}

#[tokio::test]
async fn revoking_a_login_closes_the_account_streams_at_once() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let mut live = Listener::open(&cloud, &owner).await;
    let user_id = owner.user_id;
    cloud
        .running
        .state
        .store
        .run(move |db| {
            db.execute(
                "UPDATE token_families SET revoked_at = 1 WHERE user_id = ?1",
                [user_id],
            )
            .map_err(keyway_cloud::StoreError::from)
        })
        .await
        .unwrap();
    let waited = std::time::Instant::now();
    assert_eq!(live.next(Duration::from_secs(5)).await, None);
    assert!(
        waited.elapsed() < Duration::from_secs(2),
        "the stream ended with the login, not at the timeout"
    );
    assert_eq!(cloud.running.state.live.stream_count(), 0);
}
