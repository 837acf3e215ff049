//! The one tokio runtime the core owns. The apps' executors (Kotlin coroutines, Swift tasks,
//! Python's asyncio) poll the exported futures themselves; every exported async call runs its
//! work here, so the apps need no runtime of their own and the core's HTTP client, timers and
//! blocking pool always have one. Nothing in this module needs the caller to be inside a tokio
//! runtime: it reaches the core's runtime by its handle, never through the ambient context.

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

/// Runs `work` on the core's runtime and waits for it from any executor (a tokio one or
/// not). Cancelling the call (the app cancels its coroutine or task, so the binding drops
/// this future) aborts `work` at its next await point: nothing runs on behind the app's back.
pub(crate) async fn on_core_runtime<T: Send + 'static>(
    work: impl Future<Output = Result<T, KeywayError>> + Send + 'static,
) -> Result<T, KeywayError> {
    let mut task = AbortOnDrop(runtime()?.spawn(work));
    match (&mut task.0).await {
        Ok(result) => result,
        Err(error) if error.is_cancelled() => Err(KeywayError::Cancelled {
            detail: "the call was cancelled".into(),
        }),
        Err(error) => Err(KeywayError::internal(format!("core task failed: {error}"))),
    }
}

/// A task that is aborted when the future waiting for it is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs blocking work (SQLite, file I/O, the secure store) on the core's blocking pool, off
/// the async threads, and waits for it from any executor.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeywayError> + Send + 'static,
) -> Result<T, KeywayError> {
    runtime()?
        .spawn_blocking(work)
        .await
        .map_err(|e| KeywayError::internal(format!("blocking task failed: {e}")))?
}

/// Runs `work` on the core's blocking pool and waits for its result from any executor;
/// `None` when the pool cannot run it (the runtime failed to start, or the task panicked).
/// For callers whose errors are not [`KeywayError`] (the simulated radio's).
#[cfg(feature = "simulator")]
pub(crate) async fn blocking_task<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    runtime().ok()?.spawn_blocking(work).await.ok()
}

/// Starts `work` on the core's runtime and lets it run to its end unwatched (a link closed
/// after its unlock was cancelled). Does nothing if the runtime cannot start.
pub(crate) fn spawn_detached(work: impl Future<Output = ()> + Send + 'static) {
    if let Ok(runtime) = runtime() {
        drop(runtime.spawn(work));
    }
}

/// Starts `work` on the core's runtime and hands back its handle, so the caller can abort it
/// (the live channel: stopped by the app, or dropped with its client).
pub(crate) fn spawn_task(
    work: impl Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::JoinHandle<()>, KeywayError> {
    Ok(runtime()?.spawn(work))
}
