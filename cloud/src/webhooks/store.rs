//! Webhook endpoints and their messages in the store. An endpoint's URL must be `https://`,
//! or plain `http://` to a loopback host when the cloud allows it (development and tests); IP
//! literals of private networks are refused, so an API key cannot aim the cloud at the
//! operator's internal services.

use std::net::IpAddr;

use keyway_api::integrations::{
    CreateWebhookRequest, CreatedWebhook, DeadLetterView, WebhookView, WEBHOOK_EVENT_TYPES,
};
use rusqlite::{Connection, OptionalExtension};

use super::sign::new_secret;
use crate::error::{ApiError, ApiResult};
use crate::store::rows;

/// Endpoints one site may have.
pub const MAX_ENDPOINTS_PER_SITE: i64 = 10;

/// Whether a webhook may not reach `ip`: loopback, private, link-local, unspecified or
/// unique-local (and IPv4-mapped forms of those).
pub(crate) fn private(ip: IpAddr) -> bool {
    if let IpAddr::V6(v6) = ip {
        if let Some(v4) = v6.to_ipv4_mapped() {
            return private(IpAddr::V4(v4));
        }
    }
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00
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
            Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
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

/// Queues the endpoint's dead letters again, in their order, for another day of tries.
pub fn replay(db: &Connection, site_id: u32, webhook_id: u32, now: i64) -> ApiResult<u32> {
    view(db, site_id, webhook_id)?;
    let replayed = db.execute(
        "UPDATE webhook_deliveries SET dead_at = NULL, attempts = 0, next_attempt_at = ?1,
            created_at = ?1
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
    /// Where it goes.
    pub url: String,
    /// The endpoint's secret (opened for this delivery only).
    pub secret: String,
    /// `webhook-id`.
    pub message_id: String,
    /// The envelope's `type`.
    pub event_type: String,
    /// The envelope's `data` (JSON).
    pub payload: String,
    /// When the event happened (Unix seconds).
    pub created_at: i64,
    /// Tries so far.
    pub attempts: u32,
}

/// For every endpoint, its oldest undelivered, not dead message, when it is due by `now`: a
/// later message never overtakes an earlier one.
pub fn due_heads(db: &Connection, now: i64) -> ApiResult<Vec<Due>> {
    Ok(rows(
        db,
        "SELECT d.id, e.id, e.url,
                keyway_open('webhook_endpoints.secret', e.secret, e.id, e.site_id),
                d.message_id, d.event_type, d.payload, d.created_at, d.attempts
         FROM webhook_endpoints e
         JOIN webhook_deliveries d ON d.id = (
             SELECT MIN(id) FROM webhook_deliveries
             WHERE endpoint_id = e.id AND delivered_at IS NULL AND dead_at IS NULL)
         WHERE e.deleted_at IS NULL AND d.next_attempt_at <= ?1",
        [now],
        |row| {
            let secret: Vec<u8> = row.get(3)?;
            Ok(Due {
                delivery_id: row.get(0)?,
                endpoint_id: row.get(1)?,
                url: row.get(2)?,
                secret: String::from_utf8(secret).map_err(|error| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Blob,
                        Box::new(error),
                    )
                })?,
                message_id: row.get(4)?,
                event_type: row.get(5)?,
                payload: row.get(6)?,
                created_at: row.get(7)?,
                attempts: row.get(8)?,
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
}
