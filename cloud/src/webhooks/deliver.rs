//! The delivery task: woken by every queued message (and every second), it sends each
//! endpoint its oldest due message, then the next, until one fails or none is due. A failed
//! message waits [`backoff`] and blocks the endpoint's later ones (in order per endpoint);
//! after a day of tries it becomes a dead letter and the next message goes. A receiver down
//! for an hour gets everything, in order, when it is back.

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
/// Messages one endpoint gets in one pass, at most (then the others' turn).
const PER_ENDPOINT_PER_PASS: usize = 100;
/// One try's limit.
const TIMEOUT: Duration = Duration::from_secs(10);
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

/// Runs until the cloud stops (the task is aborted then).
pub async fn run(state: AppState) {
    // reqwest is built without a TLS provider of its own: ring's, as everywhere else.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(PublicAddressesOnly))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhooks: no HTTP client; nothing will be delivered");
            return;
        }
    };
    let wake = state.store.webhooks_wake();
    loop {
        if let Err(error) = pass(&state, &client).await {
            tracing::warn!(%error, "webhooks: a delivery pass failed; retrying");
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One pass over every endpoint with a due message.
pub async fn pass(state: &AppState, client: &reqwest::Client) -> ApiResult<()> {
    for _ in 0..PER_ENDPOINT_PER_PASS {
        let now = state.clock.now();
        let heads = state.store.run(move |db| due_heads(db, now)).await?;
        if heads.is_empty() {
            return Ok(());
        }
        for due in heads {
            send(state, client, due).await?;
        }
    }
    Ok(())
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
    let signed = signature(&due.secret, &due.message_id, now, &body)?;
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
    let delivery_id = due.delivery_id;
    match outcome {
        Ok(()) => {
            state
                .store
                .run(move |db| delivered(db, delivery_id, now))
                .await
        }
        Err(error) => {
            let attempts = due.attempts.saturating_add(1);
            let dead = now.saturating_sub(due.created_at) >= RETRY_FOR_SECONDS;
            let retry_at = now.saturating_add(backoff(attempts));
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
    }
}
