//! The one tokio runtime the core owns. Every exported async call runs its work here, so the
//! apps need no runtime of their own and the core's HTTP client and timers always have one.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

use crate::KeywayError;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

fn runtime() -> Result<&'static Runtime, KeywayError> {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("keyway-core")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| KeywayError::internal(format!("cannot start the core runtime: {e}")))
}

/// Runs `work` on the core's runtime and waits for it from any executor.
pub async fn on_core_runtime<T: Send + 'static>(
    work: impl Future<Output = Result<T, KeywayError>> + Send + 'static,
) -> Result<T, KeywayError> {
    runtime()?
        .spawn(work)
        .await
        .map_err(|e| KeywayError::internal(format!("core task failed: {e}")))?
}

/// Runs blocking work (SQLite, file I/O) off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeywayError> + Send + 'static,
) -> Result<T, KeywayError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| KeywayError::internal(format!("blocking task failed: {e}")))?
}
