//! # keyway-core
//!
//! The library the Keyway phone apps embed. Android and iOS reach it through the UniFFI
//! bindings generated from this crate; the `keyway` CLI and the tests use it directly.
//!
//! Everything exported to the apps lives in [`ffi`].

pub mod ffi;

uniffi::setup_scaffolding!();
