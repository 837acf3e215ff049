//! What no Keyway component lets reach a log: the libraries that print payloads at debug or
//! trace (whole WebSocket frames with IQ-code secrets and keypad tables, HTTP headers with
//! bearer tokens, SMTP `AUTH` commands, GATT bytes) are capped at info, whatever level the
//! operator or the app asks for. The cloud's log filter and the core's log sink both follow
//! this one list, so a crate added here is capped on both sides.

/// The crates (log targets) capped at info.
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

/// Whether `target` is a capped crate or a module inside one (`hyper::proto::h1`), and not
/// a crate that merely starts with the same letters (`hyperion`).
pub fn is_capped(target: &str) -> bool {
    CAPPED_TARGETS.iter().any(|capped| {
        target == *capped
            || target
                .strip_prefix(capped)
                .is_some_and(|rest| rest.starts_with("::"))
    })
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
            "tungstenite::protocol",
        ] {
            assert!(is_capped(capped), "{capped}");
        }
        for other in ["keyway_core::unlock", "hyperion", "tung", "reqwestish"] {
            assert!(!is_capped(other), "{other}");
        }
    }
}
