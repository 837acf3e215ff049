//! The UniFFI surface: the functions, records and errors the apps see.

mod version;

pub use version::keyway_core_version;
