//! # keyway-core
//!
//! The library the Keyway phone apps embed. Android and iOS reach it through the UniFFI
//! bindings generated from this crate; the `keyway` CLI and the tests use it directly.
//!
//! - [`ffi`]: everything exported to the apps;
//! - [`unlock`]: the phone side of a BLE unlock over a [`unlock::BleTransport`];
//! - [`simulator`] (feature `simulator`): simulated locks for the demo and binding tests.

mod error;
pub mod ffi;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod unlock;

pub use error::KeywayError;

uniffi::setup_scaffolding!();
