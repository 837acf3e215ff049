//! Which records reach the sink: the core's at the level the app asked for, while libraries
//! that print payloads at debug or trace are capped at info whatever that level is (the same
//! rule and list as the cloud's log filter: [`keyway_protocol::log_policy`]). At trace,
//! tungstenite prints whole WebSocket frames, hyper and h2 print headers (bearer tokens),
//! reqwest and rustls print connection internals, and the BLE stacks print the bytes of GATT
//! writes and notifications.

use tracing::Metadata;

use super::LogLevel;

pub use keyway_protocol::log_policy::{is_capped, CAPPED_TARGETS};

/// The most these crates may log.
pub const CAPPED_LEVEL: LogLevel = LogLevel::Info;

/// Whether a record described by `metadata` is forwarded when the app asked for `max_level`.
pub fn allows(metadata: &Metadata<'_>, max_level: LogLevel) -> bool {
    let level = LogLevel::from_tracing(*metadata.level());
    let limit = if is_capped(metadata.target()) {
        max_level.min(CAPPED_LEVEL)
    } else {
        max_level
    };
    level <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_levels_order_from_error_to_trace() {
        assert!(LogLevel::Error < LogLevel::Info);
        assert!(LogLevel::Debug < LogLevel::Trace);
        assert_eq!(LogLevel::Trace.min(CAPPED_LEVEL), LogLevel::Info);
        assert_eq!(LogLevel::Warn.min(CAPPED_LEVEL), LogLevel::Warn);
    }
}
