//! The log filter every Keyway server uses: `RUST_LOG`'s directives, except that libraries
//! which print payloads at debug or trace ([`keyway_protocol::log_policy`]) are capped at
//! info whatever the directives say.
//! At trace, tungstenite prints whole WebSocket frames (IQ-code secrets, keypad tables,
//! typed codes, signed grants); lettre prints SMTP commands at debug (`AUTH` credentials,
//! messages with invitation codes); axum prints rejected bodies' parse errors; hyper, h2,
//! reqwest and rustls print connection internals. No secret may reach a log at any level.

use keyway_protocol::log_policy::is_capped;
use tracing_subscriber::EnvFilter;

pub use keyway_protocol::log_policy::CAPPED_TARGETS;

/// The most these crates may log.
pub const CAPPED_LEVEL: &str = "info";

/// Whether a `RUST_LOG` directive could enable a capped crate beyond the cap: it names one
/// of them (or a module inside), or filters on spans or fields (which match any target).
fn reaches_capped(directive: &str) -> bool {
    let target = directive.split('=').next().unwrap_or_default().trim();
    directive.contains('[') || is_capped(target)
}

/// The filter for `env_directives` (`RUST_LOG` syntax; empty: `info`). Directives that name
/// a capped crate or filter on spans are dropped, and the capped crates are held at
/// [`CAPPED_LEVEL`]; everything else is as written.
pub fn log_filter(env_directives: &str) -> EnvFilter {
    let mut kept: Vec<String> = env_directives
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty() && !reaches_capped(directive))
        .map(str::to_string)
        .collect();
    if kept.is_empty() {
        kept.push("info".to_string());
    }
    kept.extend(
        CAPPED_TARGETS
            .iter()
            .map(|target| format!("{target}={CAPPED_LEVEL}")),
    );
    EnvFilter::builder().parse_lossy(kept.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn directives_that_reach_capped_crates_are_dropped() {
        for reaching in [
            "tungstenite=trace",
            "tungstenite::protocol=trace",
            "lettre::transport=debug",
            "[request]=trace",
            "[{pin}]=trace",
        ] {
            assert!(reaches_capped(reaching), "{reaching}");
        }
        for other in [
            "trace",
            "keyway_cloud=trace",
            "tung=trace",
            "hyperion=debug",
        ] {
            assert!(!reaches_capped(other), "{other}");
        }
    }

    #[test]
    fn the_global_level_stays_as_asked() {
        assert_eq!(
            log_filter("trace").max_level_hint(),
            Some(LevelFilter::TRACE)
        );
        assert_eq!(log_filter("").max_level_hint(), Some(LevelFilter::INFO));
    }
}
