//! Diagnostics: the core logs with `tracing`, and [`init_logging`] forwards the records to the
//! app through its [`LogSink`] (Logcat, `os_log`, a file the support screen can share).
//!
//! No record carries a secret at any level: the core logs identifiers, counts, sizes, timings,
//! verdicts and error variants, never passwords, PINs, tokens, PKCE values, keys, credential
//! bytes, IQ-code secrets or invitation and verification codes. Dependencies that print
//! payloads at debug or trace (HTTP, TLS, WebSocket, BLE stacks) are capped at info
//! ([`filter::CAPPED_TARGETS`]) whatever level the app asks for.

pub mod filter;
mod layer;
mod sink;

pub use sink::{LogLevel, LogRecord, LogSink};

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use tracing_subscriber::layer::SubscriberExt;

use crate::KeywayError;

/// The sink records go to (replaced by a later [`init_logging`]).
static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);
/// The most verbose level forwarded, as [`LogLevel::rank`].
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
/// Whether the core's subscriber became the process's global one (decided by the first call).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Forwards the core's logs to `sink`, up to `max_level` (dependencies stay at info or
/// quieter). Call it once at app start, before creating [`Keyway`](crate::Keyway).
///
/// Idempotent: a later call replaces the sink and the level (the last call wins), so an app
/// may raise the level from a debug screen. The first call installs the core's subscriber as
/// the process's global `tracing` subscriber; if the process already has one (a Rust host
/// that set its own), that one keeps the records and this call returns `false`. Returns
/// `true` when the records reach `sink`.
#[uniffi::export]
pub fn init_logging(sink: Arc<dyn LogSink>, max_level: LogLevel) -> bool {
    // A sink that panicked while being replaced leaves the lock poisoned, not the slot broken.
    *SINK.write().unwrap_or_else(PoisonError::into_inner) = Some(sink);
    MAX_LEVEL.store(max_level.rank(), Ordering::Relaxed);
    let installed = *INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(layer::SinkLayer);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
    // Callsites cache whether they are enabled: recompute them for the new level.
    tracing::callsite::rebuild_interest_cache();
    tracing::info!(target: "keyway_core::logging", level = ?max_level, installed, "logging to the app's sink");
    installed
}

/// The installed sink, if any (cloned out of the lock: the sink may log or re-install).
fn current_sink() -> Option<Arc<dyn LogSink>> {
    SINK.read().unwrap_or_else(PoisonError::into_inner).clone()
}

/// The level asked for in [`init_logging`].
fn max_level() -> LogLevel {
    LogLevel::from_rank(MAX_LEVEL.load(Ordering::Relaxed))
}

/// Logs an error the core is about to hand the app: its variant, and its detail only when
/// that detail is the core's own words ([`KeywayError::loggable_detail`]).
pub(crate) fn error(what: &str, error: &KeywayError) {
    match error.loggable_detail() {
        Some(detail) => {
            tracing::warn!(target: "keyway_core::error", variant = error.variant(), detail, "{what} failed")
        }
        None => {
            tracing::warn!(target: "keyway_core::error", variant = error.variant(), "{what} failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<LogRecord>>);

    impl LogSink for Collect {
        fn log(&self, record: LogRecord) {
            self.0.lock().unwrap().push(record);
        }
    }

    impl Collect {
        fn messages(&self) -> Vec<String> {
            self.0
                .lock()
                .unwrap()
                .iter()
                .map(|r| format!("{:?} {} {}", r.level, r.target, r.message))
                .collect()
        }
    }

    /// The only test in this crate that installs the global subscriber.
    #[test]
    fn records_reach_the_sink_formatted_capped_and_replaceable() {
        let first = Arc::new(Collect::default());
        assert!(init_logging(first.clone(), LogLevel::Debug));
        tracing::debug!(target: "keyway_core::unlock", mtu = 185, step = "connect", "BLE: connected");
        tracing::trace!(target: "keyway_core::unlock", "too verbose");
        tracing::info!(target: "hyper::proto", "capped crate at info");
        tracing::debug!(target: "hyper::proto", "capped crate at debug");
        error(
            "unlock",
            &KeywayError::OutOfRange {
                detail: "lock 7 is out of range".into(),
            },
        );
        error(
            "sign-up",
            &KeywayError::invalid("the code 12345678 is wrong"),
        );
        let messages = first.messages();
        assert!(messages
            .contains(&"Debug keyway_core::unlock BLE: connected mtu=185 step=connect".into()));
        assert!(messages.contains(&"Info hyper::proto capped crate at info".into()));
        assert!(!messages.iter().any(|m| m.contains("too verbose")));
        assert!(!messages.iter().any(|m| m.contains("capped crate at debug")));
        assert!(messages.contains(
            &"Warn keyway_core::error unlock failed variant=OutOfRange detail=lock 7 is out of range"
                .into()
        ));
        assert!(messages
            .iter()
            .any(|m| m.contains("sign-up failed variant=InvalidInput")));
        assert!(!messages.iter().any(|m| m.contains("12345678")));

        let second = Arc::new(Collect::default());
        assert!(init_logging(second.clone(), LogLevel::Trace));
        tracing::trace!(target: "keyway_core::unlock", "now on");
        tracing::debug!(target: "hyper::proto", "still capped");
        assert!(second.messages().iter().any(|m| m.contains("now on")));
        assert!(!second.messages().iter().any(|m| m.contains("still capped")));
        assert!(!first.messages().iter().any(|m| m.contains("now on")));
    }
}
