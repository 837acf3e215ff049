//! The event outbox: lock event records the phone carried back, uploaded to the cloud with
//! idempotency. A record leaves the phone only once the cloud acknowledged it; uploading it
//! again after a crash is harmless (the cloud keeps each lock and sequence number once).

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::endpoints::UploadEvents;
use keyway_api::UploadEventsRequest;

use crate::client::Context;
use crate::runtime::on_core_runtime;
use crate::KeywayError;

/// Records per upload request.
pub const UPLOAD_BATCH: u32 = 100;

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct UploadSummary {
    /// Records the cloud stored now.
    pub stored: u32,
    /// Records it already had.
    pub duplicates: u32,
    /// Records it refused (kept on the phone).
    pub rejected: u32,
    /// Records still waiting.
    pub pending: u32,
}

/// The event outbox.
#[derive(uniffi::Object)]
pub struct EventsClient {
    context: Arc<Context>,
}

impl std::fmt::Debug for EventsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventsClient(..)")
    }
}

impl EventsClient {
    pub(crate) fn new(context: Arc<Context>) -> Self {
        Self { context }
    }
}

#[uniffi::export]
impl EventsClient {
    /// Records waiting for upload.
    pub async fn pending(&self) -> Result<u32, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { context.store.pending_count().await }).await
    }

    /// Uploads every waiting record, batch by batch.
    pub async fn upload(&self) -> Result<UploadSummary, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { upload_all(&context).await })
            .await
            .inspect_err(|error| crate::logging::error("event upload", error))
    }
}

async fn upload_all(context: &Context) -> Result<UploadSummary, KeywayError> {
    let mut summary = UploadSummary::default();
    let mut offset_rejected = 0u32;
    loop {
        // Rejected records stay at the front of the outbox: skip them, in SQL.
        let batch = context
            .store
            .pending_events(offset_rejected, UPLOAD_BATCH)
            .await?;
        if batch.is_empty() {
            break;
        }
        let request = UploadEventsRequest {
            records: batch
                .iter()
                .map(|(_, _, record)| STANDARD.encode(record))
                .collect(),
        };
        let response = context.call(&UploadEvents {}, &request).await?;
        tracing::debug!(
            records = batch.len(),
            stored = response.stored,
            duplicates = response.duplicates,
            rejected = response.rejected.len(),
            "event batch uploaded"
        );
        let rejected: Vec<u32> = response.rejected.iter().map(|r| r.index).collect();
        let acknowledged = batch
            .iter()
            .enumerate()
            .filter(|(index, _)| !rejected.contains(&crate::convert::count(*index)))
            .map(|(_, (lock_id, seq, _))| (*lock_id, *seq))
            .collect();
        context.store.remove_events(acknowledged).await?;
        summary.stored += response.stored;
        summary.duplicates += response.duplicates;
        summary.rejected += crate::convert::count(rejected.len());
        offset_rejected += crate::convert::count(rejected.len());
    }
    summary.pending = context.store.pending_count().await?;
    tracing::info!(
        stored = summary.stored,
        duplicates = summary.duplicates,
        rejected = summary.rejected,
        pending = summary.pending,
        "events uploaded"
    );
    Ok(summary)
}
