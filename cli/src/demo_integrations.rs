//! The connected-system part of `keyway demo` (a child module of `demo`): the admin makes an
//! API key for a coworking system (manual 004); the system, over HTTP with that key, names
//! the tenant by its own id (matched by e-mail, not duplicated) and books them the storage
//! room for tomorrow 12:00–16:00; the tenant's phone gets a key for 11:30–16:30 (the
//! 30-minute grace, carried by the key so the lock's clock enforces it); the system cancels
//! and the key is gone.

use std::sync::Arc;

use anyhow::{anyhow, Context};
use keyway_api::integrations::{BookingView, CreateApiKeyRequest, Scope};
use keyway_cloud::integrations::keys;
use keyway_cloud::RunningCloud;
use keyway_core::Keyway;
use serde_json::{json, Value};

use super::Steps;

/// The demo's people and places the booking is about.
#[derive(Clone, Copy)]
pub struct IntegrationsDemo<'a> {
    /// The cloud (the admin's key is made in it, as the console does).
    pub cloud: &'a RunningCloud,
    /// The admin's phone.
    pub admin: &'a Arc<Keyway>,
    /// The admin's account.
    pub admin_id: u32,
    /// The tenant's phone (device registered).
    pub tenant: &'a Arc<Keyway>,
    /// The tenant's e-mail and name.
    pub tenant_email: &'a str,
    /// The site (UTC+1).
    pub site_id: u32,
    /// The meeting room the system books (the storage room here).
    pub lock_id: u32,
    /// The site's offset from UTC, in minutes.
    pub utc_offset_minutes: i64,
}

/// One call of the coworking system; its JSON answer.
async fn call(
    cloud: &RunningCloud,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", cloud.base_url()))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(anyhow!("{path}: {status} {body}"));
    }
    Ok(body)
}

fn local_time(unix: i64, utc_offset_minutes: i64) -> String {
    chrono::DateTime::from_timestamp(unix + utc_offset_minutes * 60, 0)
        .map(|time| time.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Runs the connected-system steps.
pub async fn run(steps: &mut Steps, demo: IntegrationsDemo<'_>) -> anyhow::Result<()> {
    let (site_id, admin_id) = (demo.site_id, demo.admin_id);
    let key = steps
        .run(
            "the admin makes an API key for a coworking system (shown once, kept hashed)",
            async {
                let request = CreateApiKeyRequest {
                    name: "Coworking system".into(),
                    scopes: vec![Scope::PeopleWrite, Scope::AccessWrite],
                };
                let now = demo.cloud.state.clock.now();
                let created = demo
                    .cloud
                    .state
                    .store
                    .run(move |db| {
                        keys::create(db, site_id, admin_id, "Coworking system", &request, now)
                    })
                    .await?;
                println!(
                    "    key {} with {}",
                    created.key.key_id,
                    created
                        .key
                        .scopes
                        .iter()
                        .map(|scope| scope.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                Ok(created.secret)
            },
        )
        .await?;
    let room = demo
        .admin
        .admin()
        .create_access_group(
            site_id,
            "Meeting room bookings".into(),
            vec![demo.lock_id],
            vec![],
            vec![],
        )
        .await?;
    let offset = demo.utc_offset_minutes;
    let booking: BookingView = steps
        .run(
            "the system names the tenant by its own id (matched by e-mail, not duplicated) and \
             books them the room tomorrow 12:00-16:00",
            async {
                let person = json!({ "name": "Tess Tenant", "email": demo.tenant_email });
                let path = "/api/v1/integrations/people/cw-42";
                let matched =
                    call(demo.cloud, &key, reqwest::Method::PUT, path, Some(person)).await?;
                println!(
                    "    cw-42 is user {} (new: {})",
                    matched["user_id"], matched["created"]
                );
                let now = demo.cloud.state.clock.now();
                let local_day = (now + offset * 60) / 86_400 + 1;
                let noon = local_day * 86_400 + 12 * 3600 - offset * 60;
                let body = json!({
                    "kind": "room", "group_id": room.group_id, "people": ["cw-42"],
                    "start": noon, "end": noon + 4 * 3600,
                });
                let path = "/api/v1/integrations/bookings/meeting-7";
                let answer = call(demo.cloud, &key, reqwest::Method::PUT, path, Some(body)).await?;
                serde_json::from_value(answer).context("the booking's answer")
            },
        )
        .await?;
    println!(
        "    access {} to {} (site time: the 30-minute grace on each side)",
        local_time(booking.access_from, offset),
        local_time(booking.access_until, offset)
    );
    steps
        .run(
            "the tenant's phone syncs: a key for the room that starts then, held ahead for \
             the lock's own clock to open",
            async {
                demo.tenant.wallet().sync().await?;
                let keys = demo.tenant.wallet().keys().await?;
                let booked = keys
                    .iter()
                    .find(|key| key.locks.iter().any(|lock| lock.lock_id == demo.lock_id))
                    .ok_or_else(|| anyhow!("no key for the booked room"))?;
                println!(
                    "    key #{}: from {} until {} (valid now: {})",
                    booked.credential_id,
                    local_time(booked.not_before, offset),
                    local_time(booked.not_after, offset),
                    booked.valid_now
                );
                Ok(())
            },
        )
        .await?;
    steps
        .run(
            "the system cancels the booking; the phone's key for it is revoked",
            async {
                let path = "/api/v1/integrations/bookings/meeting-7";
                call(demo.cloud, &key, reqwest::Method::DELETE, path, None).await?;
                demo.tenant.wallet().sync().await?;
                let left = demo
                    .tenant
                    .wallet()
                    .keys()
                    .await?
                    .iter()
                    .filter(|key| key.locks.iter().any(|lock| lock.lock_id == demo.lock_id))
                    .count();
                println!("    keys for the room left: {left}");
                Ok(())
            },
        )
        .await
}
