//! What the log tests look for: every way a secret could be printed, and whether it occurs.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every way a binary secret could be printed: hex in both cases, base64 (padded, unpadded,
/// URL-safe) and Rust's byte-list `Debug`.
pub fn encodings(bytes: &[u8]) -> Vec<String> {
    let hex = hex(bytes);
    vec![
        hex.to_uppercase(),
        hex,
        STANDARD.encode(bytes),
        STANDARD.encode(bytes).trim_end_matches('=').to_string(),
        URL_SAFE_NO_PAD.encode(bytes),
        format!("{bytes:?}").replace(' ', ""),
        format!("{bytes:?}"),
    ]
}

/// Whether `secret` occurs in `log` as a whole word (short codes and PINs must not match
/// inside longer numbers or identifiers).
pub fn occurs(log: &str, secret: &str) -> bool {
    log.match_indices(secret).any(|(at, _)| {
        let before = log[..at].chars().next_back();
        let after = log[at + secret.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        secret.len() >= 12 || (!word(before) && !word(after))
    })
}

/// Checks the search itself: each secret is found when it does stand in a line shaped like
/// the logs' (`template` with `{}` where the secret goes), so a log without any can be trusted.
pub fn assert_search_finds(secrets: &[String], template: &str) {
    for secret in secrets {
        assert!(
            occurs(&template.replace("{}", secret), secret),
            "the search works"
        );
    }
}
