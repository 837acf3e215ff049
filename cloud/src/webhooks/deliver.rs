//! The delivery task: woken by every queued message, by every finished try (and every
//! second), it sends each endpoint its oldest due message, endpoints side by side, one try
//! under way per endpoint. A failed message waits [`backoff`] and blocks the endpoint's later
//! ones (in order per endpoint); after a day of tries it becomes a dead letter and the next
//! message goes. A receiver down for an hour gets everything, in order, when it is back; a
//! slow one delays nobody else.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::ApiResult;
use crate::AppState;

use super::sign::signature;
use super::store::{delivered, due_heads, failed, private, Due};

/// Resolves endpoint host names, keeping only public addresses: a name that points into a
/// private network (or at the cloud itself) is not reached, whatever its DNS says at delivery
/// time. IP literals were checked when the endpoint was made.
struct PublicAddressesOnly;

impl reqwest::dns::Resolve for PublicAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| !private(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// How long a message is tried before it is a dead letter.
pub const RETRY_FOR_SECONDS: i64 = 86_400;
/// Tries under way at once, at most (each to another endpoint).
const MAX_IN_FLIGHT: usize = 32;
/// Tries under way at once for one site's endpoints: a site's silent receivers cannot take
/// every slot.
const MAX_IN_FLIGHT_PER_SITE: usize = 4;
/// One try's limit.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Reaching a receiver's port: a host that drops packets fails fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the task looks for due retries when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Seconds to wait after the `attempts`-th failed try: 5 s, 30 s, 2 min, 10 min, 30 min, then
/// hourly.
pub fn backoff(attempts: u32) -> i64 {
    match attempts {
        0 | 1 => 5,
        2 => 30,
        3 => 120,
        4 => 600,
        5 => 1800,
        _ => 3600,
    }
}

/// The client every try goes through: no redirects followed, no proxy from the environment
/// (it could reach what the resolver keeps out), only public addresses resolved.
fn client() -> reqwest::Result<reqwest::Client> {
    // reqwest is built without a TLS provider of its own: ring's, as everywhere else.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(PublicAddressesOnly))
        .build()
}

/// Runs until the cloud stops (the task is aborted then, and its tries with it). Each
/// endpoint has at most one try under way; endpoints are tried side by side, so a slow or
/// silent receiver delays only its own messages.
pub async fn run(state: AppState) {
    let client = match client() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhooks: no HTTP client; nothing will be delivered");
            return;
        }
    };
    let wake = state.store.webhooks_wake();
    let mut tries = tokio::task::JoinSet::new();
    // Each try under way: its endpoint and site.
    let mut busy: HashMap<tokio::task::Id, (u32, u32)> = HashMap::new();
    loop {
        if tries.len() < MAX_IN_FLIGHT {
            let now = state.clock.now();
            let skip: Vec<u32> = busy.values().map(|(endpoint_id, _)| *endpoint_id).collect();
            match state.store.run(move |db| due_heads(db, now, &skip)).await {
                Ok(heads) => {
                    for due in heads {
                        let site_busy = busy
                            .values()
                            .filter(|(_, site)| *site == due.site_id)
                            .count();
                        if tries.len() >= MAX_IN_FLIGHT || site_busy >= MAX_IN_FLIGHT_PER_SITE {
                            continue;
                        }
                        let (endpoint_id, site_id) = (due.endpoint_id, due.site_id);
                        let (state, client) = (state.clone(), client.clone());
                        let handle = tries.spawn(async move {
                            if let Err(error) = send(&state, &client, due).await {
                                tracing::warn!(%error, endpoint_id, "webhooks: a try was not recorded");
                                // Not recorded, the message is due again at once: the endpoint
                                // rests a moment rather than being tried in a tight loop.
                                tokio::time::sleep(POLL).await;
                            }
                        });
                        busy.insert(handle.id(), (endpoint_id, site_id));
                    }
                }
                Err(error) => tracing::warn!(%error, "webhooks: no due messages read; retrying"),
            }
        }
        tokio::select! {
            Some(done) = tries.join_next_with_id(), if !tries.is_empty() => {
                let id = done.map_or_else(|error| error.id(), |(id, ())| id);
                busy.remove(&id);
            }
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn send(state: &AppState, client: &reqwest::Client, due: Due) -> ApiResult<()> {
    let now = state.clock.now();
    let timestamp = chrono::DateTime::from_timestamp(due.created_at, 0)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let body = format!(
        r#"{{"type":{},"timestamp":{},"data":{}}}"#,
        serde_json::Value::String(due.event_type.clone()),
        serde_json::Value::String(timestamp),
        due.payload
    );
    let Some(secret) = due.secret.as_deref() else {
        let error = "the endpoint's signing secret cannot be opened".to_string();
        return record_failure(state, &due, error, now).await;
    };
    let signed = match signature(secret, &due.message_id, now, &body) {
        Ok(signed) => signed,
        Err(_) => {
            let error = "the message could not be signed".to_string();
            return record_failure(state, &due, error, now).await;
        }
    };
    let sent = client
        .post(&due.url)
        .header("content-type", "application/json")
        .header("webhook-id", &due.message_id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signed)
        .body(body)
        .send()
        .await;
    let outcome = match sent {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("HTTP {}", response.status().as_u16())),
        Err(error) => Err(if error.is_timeout() {
            "timed out".to_string()
        } else {
            "could not connect".to_string()
        }),
    };
    match outcome {
        Ok(()) => {
            let delivery_id = due.delivery_id;
            state
                .store
                .run(move |db| delivered(db, delivery_id, now))
                .await
        }
        Err(error) => record_failure(state, &due, error, now).await,
    }
}

/// Records a failed try: another after [`backoff`], or a dead letter once a day of tries
/// (from the event, or its last replay) is over.
async fn record_failure(state: &AppState, due: &Due, error: String, now: i64) -> ApiResult<()> {
    let attempts = due.attempts.saturating_add(1);
    let dead = now.saturating_sub(due.retry_from) >= RETRY_FOR_SECONDS;
    let retry_at = now.saturating_add(backoff(attempts));
    let delivery_id = due.delivery_id;
    tracing::info!(
        endpoint_id = due.endpoint_id,
        attempts,
        dead,
        error = %error,
        "webhooks: a delivery failed"
    );
    state
        .store
        .run(move |db| failed(db, delivery_id, &error, retry_at, dead, now))
        .await
}
