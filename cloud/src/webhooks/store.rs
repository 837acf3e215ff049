//! Webhook endpoints and their messages in the store. An endpoint's URL must be `https://`,
//! or plain `http://` to a loopback host when the cloud allows it (development and tests); IP
//! literals of private networks are refused, so an API key cannot aim the cloud at the
//! operator's internal services.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use keyway_api::integrations::{
    CreateWebhookRequest, CreatedWebhook, DeadLetterView, WebhookView, WEBHOOK_EVENT_TYPES,
};
use rusqlite::{Connection, OptionalExtension};

use super::sign::new_secret;
use crate::error::{ApiError, ApiResult};
use crate::store::rows;

/// Endpoints one site may have.
pub const MAX_ENDPOINTS_PER_SITE: i64 = 10;

/// Whether a webhook may not reach `ip`: anything but a public unicast address. Refused:
/// loopback, private (RFC 1918), shared (100.64.0.0/10), link-local, unspecified and
/// "this network" (0.0.0.0/8), IETF protocol assignments (192.0.0.0/24), benchmarking
/// (198.18.0.0/15), documentation, reserved (240.0.0.0/4), broadcast and multicast; in IPv6
/// also unique-local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10), multicast,
/// documentation (2001:db8::/32), Teredo (2001::/32, whose IPv4 is hidden), and the IPv4 a
/// mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48) or
/// 6to4 (2002::/16) address carries, judged as that IPv4.
pub(crate) fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

fn private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b & 0xfe) == 18)
        || a >= 240
}

fn private_v6(v6: Ipv6Addr) -> bool {
    let segments = v6.segments();
    let embedded =
        |high: u16, low: u16| private_v4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
    if let Some(v4) = v6.to_ipv4_mapped() {
        return private_v4(v4);
    }
    match segments {
        // ::a.b.c.d (IPv4-compatible, deprecated), :: and ::1 among them.
        [0, 0, 0, 0, 0, 0, high, low] => {
            v6.is_loopback() || v6.is_unspecified() || embedded(high, low)
        }
        // NAT64, well-known prefix: the IPv4 is the last 32 bits.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => embedded(high, low),
        // NAT64, local-use prefix: a network of the operator's own.
        [0x64, 0xff9b, 1, ..] => true,
        // 6to4: the IPv4 is bits 16 to 48.
        [0x2002, high, low, ..] => embedded(high, low),
        // Teredo (its IPv4 is obfuscated) and documentation.
        [0x2001, 0, ..] | [0x2001, 0xdb8, ..] => true,
        [first, ..] => {
            (first & 0xfe00) == 0xfc00 // unique-local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local
                || (first & 0xff00) == 0xff00 // multicast
        }
    }
}

fn host_is_local_name(url: &url::Url) -> bool {
    url.host_str().is_some_and(|host| {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host == "localhost" || host.ends_with(".localhost")
    })
}

/// Checks an endpoint URL (see the module's rules).
pub fn check_url(text: &str, allow_loopback_http: bool) -> ApiResult<url::Url> {
    let url = url::Url::parse(text)
        .map_err(|_| ApiError::InvalidInput("the webhook url is not a URL".into()))?;
    let host = url
        .host()
        .ok_or_else(|| ApiError::InvalidInput("the webhook url has no host".into()))?;
    let ip = match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        url::Host::Domain(_) => None,
    };
    let loopback = ip.is_some_and(|ip| ip.is_loopback());
    match url.scheme() {
        "http" if loopback && allow_loopback_http => Ok(url),
        "https" if ip.is_none_or(|ip| !private(ip)) && !host_is_local_name(&url) => Ok(url),
        "https" => Err(ApiError::InvalidInput(
            "the webhook url points into a private network".into(),
        )),
        _ => Err(ApiError::InvalidInput(
            "a webhook url must be https://".into(),
        )),
    }
}

/// Whether an endpoint asking for `requested` gets lock events (no type named: every type).
pub fn carries_lock_events(requested: &[String]) -> bool {
    requested.is_empty()
        || requested
            .iter()
            .any(|event_type| matches!(event_type.as_str(), "lock.event" | "lock.alert"))
}

fn event_types(requested: &[String]) -> ApiResult<String> {
    for event_type in requested {
        if !WEBHOOK_EVENT_TYPES.contains(&event_type.as_str()) {
            return Err(ApiError::InvalidInput(format!(
                "unknown event type {event_type:?}: one of {}",
                WEBHOOK_EVENT_TYPES.join(", ")
            )));
        }
    }
    let mut names: Vec<&str> = requested.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    Ok(names.join(" "))
}

fn view_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<WebhookView> {
    let types: String = row.get(2)?;
    Ok(WebhookView {
        webhook_id: row.get(0)?,
        url: row.get(1)?,
        event_types: types.split_whitespace().map(str::to_string).collect(),
        created_at: row.get(3)?,
    })
}

/// Makes an endpoint for the site; its secret is in the answer only (sealed at rest).
pub fn create(
    db: &Connection,
    site_id: u32,
    api_key_id: u32,
    request: &CreateWebhookRequest,
    allow_loopback_http: bool,
    now: i64,
) -> ApiResult<CreatedWebhook> {
    let url = check_url(&request.url, allow_loopback_http)?;
    let types = event_types(&request.event_types)?;
    let count: i64 = db.query_row(
        "SELECT COUNT(*) FROM webhook_endpoints WHERE site_id = ?1 AND deleted_at IS NULL",
        [site_id],
        |row| row.get(0),
    )?;
    if count >= MAX_ENDPOINTS_PER_SITE {
        return Err(ApiError::Conflict(format!(
            "a site has at most {MAX_ENDPOINTS_PER_SITE} webhook endpoints"
        )));
    }
    let secret = new_secret()?;
    // The id is chosen in the statement itself, before sealing: the sealed secret is bound to
    // its row.
    db.execute(
        "INSERT INTO webhook_endpoints (id, site_id, api_key_id, url, secret, event_types,
                                        created_at)
         SELECT n, ?1, ?2, ?3, keyway_seal('webhook_endpoints.secret', ?4, n, ?1), ?5, ?6
         FROM (SELECT COALESCE(MAX(id), 0) + 1 AS n FROM webhook_endpoints)",
        rusqlite::params![
            site_id,
            api_key_id,
            url.as_str(),
            secret.as_bytes(),
            types,
            now
        ],
    )?;
    let webhook_id = u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("webhook id out of range".into()))?;
    Ok(CreatedWebhook {
        webhook: view(db, site_id, webhook_id)?,
        secret,
    })
}

/// An endpoint of the site, or 404.
pub fn view(db: &Connection, site_id: u32, webhook_id: u32) -> ApiResult<WebhookView> {
    db.query_row(
        "SELECT id, url, event_types, created_at FROM webhook_endpoints
         WHERE id = ?1 AND site_id = ?2 AND deleted_at IS NULL",
        [webhook_id, site_id],
        view_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no webhook {webhook_id} on this site")))
}

/// The site's endpoints.
pub fn list(db: &Connection, site_id: u32) -> ApiResult<Vec<WebhookView>> {
    Ok(rows(
        db,
        "SELECT id, url, event_types, created_at FROM webhook_endpoints
         WHERE site_id = ?1 AND deleted_at IS NULL ORDER BY id",
        [site_id],
        view_from_row,
    )?)
}

/// Deletes an endpoint: nothing more is sent to it; its queued messages go.
pub fn delete(db: &Connection, site_id: u32, webhook_id: u32, now: i64) -> ApiResult<()> {
    view(db, site_id, webhook_id)?;
    db.execute(
        "UPDATE webhook_endpoints SET deleted_at = ?1 WHERE id = ?2",
        rusqlite::params![now, webhook_id],
    )?;
    db.execute(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1 AND delivered_at IS NULL",
        [webhook_id],
    )?;
    Ok(())
}

/// The endpoint's dead letters, oldest first.
pub fn dead_letters(
    db: &Connection,
    site_id: u32,
    webhook_id: u32,
) -> ApiResult<Vec<DeadLetterView>> {
    view(db, site_id, webhook_id)?;
    Ok(rows(
        db,
        "SELECT message_id, event_type, attempts, last_error, created_at FROM webhook_deliveries
         WHERE endpoint_id = ?1 AND dead_at IS NOT NULL AND delivered_at IS NULL ORDER BY id",
        [webhook_id],
        |row| {
            Ok(DeadLetterView {
                message_id: row.get(0)?,
                event_type: row.get(1)?,
                attempts: row.get(2)?,
                last_error: row.get(3)?,
                created_at: row.get(4)?,
            })
        },
    )?)
}

/// Queues the endpoint's dead letters again, in their order, for another day of tries (the
/// day counted from now; the event keeps its own time).
pub fn replay(db: &Connection, site_id: u32, webhook_id: u32, now: i64) -> ApiResult<u32> {
    view(db, site_id, webhook_id)?;
    let replayed = db.execute(
        "UPDATE webhook_deliveries SET dead_at = NULL, attempts = 0, next_attempt_at = ?1,
            retry_from = ?1
         WHERE endpoint_id = ?2 AND dead_at IS NOT NULL AND delivered_at IS NULL",
        rusqlite::params![now, webhook_id],
    )?;
    Ok(u32::try_from(replayed).unwrap_or(u32::MAX))
}

/// The next message an endpoint is due, with what signing it needs.
#[derive(Debug, Clone)]
pub struct Due {
    /// The delivery row.
    pub delivery_id: i64,
    /// The endpoint.
    pub endpoint_id: u32,
    /// Its site.
    pub site_id: u32,
    /// Where it goes.
    pub url: String,
    /// The endpoint's secret (opened for this delivery only); `None` when it no longer opens
    /// (a damaged row): the message cannot be signed, so it is not sent.
    pub secret: Option<String>,
    /// `webhook-id`.
    pub message_id: String,
    /// The envelope's `type`.
    pub event_type: String,
    /// The envelope's `data` (JSON).
    pub payload: String,
    /// When the event happened (Unix seconds).
    pub created_at: i64,
    /// Where its day of tries started: the event's time, or its last replay.
    pub retry_from: i64,
    /// Tries so far.
    pub attempts: u32,
}

/// For every endpoint but the `busy` ones (a try of theirs is under way), its oldest
/// undelivered, not dead message, when it is due by `now`: a later message never overtakes an
/// earlier one. The longest due come first.
pub fn due_heads(db: &Connection, now: i64, busy: &[u32]) -> ApiResult<Vec<Due>> {
    Ok(rows(
        db,
        "SELECT d.id, e.id, e.url,
                keyway_try_open('webhook_endpoints.secret', e.secret, e.id, e.site_id),
                d.message_id, d.event_type, d.payload, d.created_at, d.attempts,
                COALESCE(d.retry_from, d.created_at), e.site_id
         FROM webhook_endpoints e
         JOIN webhook_deliveries d ON d.id = (
             SELECT MIN(id) FROM webhook_deliveries
             WHERE endpoint_id = e.id AND delivered_at IS NULL AND dead_at IS NULL)
         WHERE e.deleted_at IS NULL AND d.next_attempt_at <= ?1
           AND e.id NOT IN (SELECT value FROM json_each(?2))
         ORDER BY d.next_attempt_at, d.id",
        rusqlite::params![
            now,
            serde_json::to_string(busy).unwrap_or_else(|_| "[]".into())
        ],
        |row| {
            let secret: Option<Vec<u8>> = row.get(3)?;
            Ok(Due {
                delivery_id: row.get(0)?,
                endpoint_id: row.get(1)?,
                url: row.get(2)?,
                secret: secret.and_then(|bytes| String::from_utf8(bytes).ok()),
                message_id: row.get(4)?,
                event_type: row.get(5)?,
                payload: row.get(6)?,
                created_at: row.get(7)?,
                attempts: row.get(8)?,
                retry_from: row.get(9)?,
                site_id: row.get(10)?,
            })
        },
    )?)
}

/// Records a delivered message.
pub fn delivered(db: &Connection, delivery_id: i64, now: i64) -> ApiResult<()> {
    db.execute(
        "UPDATE webhook_deliveries SET delivered_at = ?1, attempts = attempts + 1,
            last_error = NULL WHERE id = ?2",
        rusqlite::params![now, delivery_id],
    )?;
    Ok(())
}

/// Records a failed try: the next one at `retry_at`, or a dead letter when `dead`.
pub fn failed(
    db: &Connection,
    delivery_id: i64,
    error: &str,
    retry_at: i64,
    dead: bool,
    now: i64,
) -> ApiResult<()> {
    db.execute(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?1,
            next_attempt_at = ?2, dead_at = CASE WHEN ?3 THEN ?4 ELSE NULL END
         WHERE id = ?5",
        rusqlite::params![error, retry_at, dead, now, delivery_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_targets_are_refused() {
        for url in [
            "https://127.0.0.1/h",
            "https://[::ffff:127.0.0.1]/h",
            "https://[::ffff:10.1.2.3]/h",
            "https://0.0.0.0/h",
            "https://169.254.169.254/latest",
            "https://[fd00::1]/h",
            "https://localhost./h",
            "https://api.localhost/h",
            "http://example.com/h",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
        }
        assert!(check_url("https://hooks.example.com/h", false).is_ok());
        assert!(check_url("http://127.0.0.1:9/h", true).is_ok());
        assert!(private("10.0.0.1".parse().unwrap()) && !private("93.184.216.34".parse().unwrap()));
    }

    #[test]
    fn every_non_public_range_is_private_however_it_is_written() {
        for ip in [
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "198.18.0.1",
            "198.19.255.1",
            "240.0.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::",
            "::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "fc00::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "::ffff:169.254.169.254",
        ] {
            assert!(private(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "100.128.0.1",
            "198.20.0.1",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!private(ip.parse().unwrap()), "{ip} is public");
        }
    }
}
