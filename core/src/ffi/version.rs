//! The version of the core, for the apps' "about" screens and bug reports.

/// The version of this Keyway core build (the crate version).
#[uniffi::export]
pub fn keyway_core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
