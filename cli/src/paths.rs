//! Where the CLI keeps its files: `$KEYWAY_HOME`, else `$XDG_DATA_HOME/keyway`, else
//! `~/.local/share/keyway`.

use std::path::PathBuf;

/// The CLI's base directory.
pub fn keyway_home() -> PathBuf {
    if let Some(home) = std::env::var_os("KEYWAY_HOME") {
        return PathBuf::from(home);
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(data).join("keyway");
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/keyway"))
        .unwrap_or_else(|| PathBuf::from(".keyway"))
}

/// The cloud's default data directory.
pub fn cloud_data_dir() -> PathBuf {
    keyway_home().join("cloud")
}

/// The phone-side state of the CLI (local store, secure store, settings).
pub fn phone_dir() -> PathBuf {
    keyway_home().join("phone")
}
