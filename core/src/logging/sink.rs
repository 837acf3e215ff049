//! What the app implements to receive the core's logs.

/// How much a record matters, most to least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something went wrong and the core coped, or an error was handed to the app.
    Warn,
    /// One line per operation: login, sync, unlock verdict, remote opening.
    Info,
    /// Each step of an operation: BLE connect, MTU, frames, cloud calls.
    Debug,
    /// Every fragment and decision.
    Trace,
}

impl LogLevel {
    /// 1 (error) to 5 (trace).
    pub(super) fn rank(self) -> u8 {
        match self {
            Self::Error => 1,
            Self::Warn => 2,
            Self::Info => 3,
            Self::Debug => 4,
            Self::Trace => 5,
        }
    }

    /// The level of a rank (0, nothing installed yet, reads as error).
    pub(super) fn from_rank(rank: u8) -> Self {
        match rank {
            0 | 1 => Self::Error,
            2 => Self::Warn,
            3 => Self::Info,
            4 => Self::Debug,
            _ => Self::Trace,
        }
    }

    /// The `tracing` level.
    pub(super) fn from_tracing(level: tracing::Level) -> Self {
        match level {
            tracing::Level::ERROR => Self::Error,
            tracing::Level::WARN => Self::Warn,
            tracing::Level::INFO => Self::Info,
            tracing::Level::DEBUG => Self::Debug,
            _ => Self::Trace,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    /// How much it matters.
    pub level: LogLevel,
    /// Where it comes from: the Rust module path (`keyway_core::unlock`) or a dependency.
    pub target: String,
    /// The message followed by its fields, `connected mtu=185 connect_ms=12`.
    pub message: String,
}

/// The app's end of the core's logs: Logcat on Android, `os_log` on iOS. Called on the core's
/// threads, synchronously, so it should hand the record off quickly, never throw, and never
/// call back into the core (a record its own work causes is dropped, as is one it throws on).
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    /// Receives one record.
    fn log(&self, record: LogRecord);
}
