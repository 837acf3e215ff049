//! Which records reach the sink: the core's at the level the app asked for, while libraries
//! that print payloads at debug or trace are capped at info whatever that level is (the same
//! rule as the cloud's log filter). At trace, tungstenite prints whole WebSocket frames, hyper
//! and h2 print headers (bearer tokens), reqwest and rustls print connection internals, and
//! the BLE stacks print the bytes of GATT writes and notifications.

use tracing::Metadata;

use super::LogLevel;

/// The crates (log targets) capped at [`CAPPED_LEVEL`].
pub const CAPPED_TARGETS: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "lettre",
    "axum",
    "tower",
    "tower_http",
    "btleplug",
    "bluez_async",
    "bluez_generated",
    "dbus",
    "zbus",
];

/// The most these crates may log.
pub const CAPPED_LEVEL: LogLevel = LogLevel::Info;

/// Whether `target` is a capped crate or a module inside one.
pub fn is_capped(target: &str) -> bool {
    CAPPED_TARGETS.iter().any(|capped| {
        target == *capped
            || target
                .strip_prefix(capped)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

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
    fn capped_crates_and_their_modules_are_recognised() {
        for capped in [
            "hyper",
            "hyper::proto::h1",
            "rustls::client",
            "btleplug::bluez",
        ] {
            assert!(is_capped(capped), "{capped}");
        }
        for other in ["keyway_core::unlock", "hyperion", "tung", "reqwestish"] {
            assert!(!is_capped(other), "{other}");
        }
    }

    #[test]
    fn the_levels_order_from_error_to_trace() {
        assert!(LogLevel::Error < LogLevel::Info);
        assert!(LogLevel::Debug < LogLevel::Trace);
        assert_eq!(LogLevel::Trace.min(CAPPED_LEVEL), LogLevel::Info);
        assert_eq!(LogLevel::Warn.min(CAPPED_LEVEL), LogLevel::Warn);
    }
}
