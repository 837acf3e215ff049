//! # keyway-core
//!
//! The library the Keyway phone apps embed. Android and iOS reach it through the UniFFI
//! bindings generated from this crate; the `keyway` CLI and the tests use it directly.
//!
//! - [`Keyway`]: the client object, with sub-clients [`auth`](Keyway::auth),
//!   [`devices`](Keyway::devices), [`wallet`](Keyway::wallet), [`events`](Keyway::events),
//!   [`pods`](Keyway::pods), [`remote`](Keyway::remote), [`live`](Keyway::live);
//! - [`platform`]: the foreign traits the apps implement (secure store, device key);
//! - [`unlock`]: the phone side of a BLE unlock over a [`unlock::BleTransport`];
//! - [`live`]: the live channel and the [`live::ChangeObserver`] the app implements to hear
//!   of access changes at once;
//! - [`logging`]: the [`logging::LogSink`] the app installs to receive the core's logs;
//! - [`ffi`]: stateless exports (IQ code, credential inspection) and shared records;
//! - [`desktop`] (feature `desktop`): a file secure store and a software device key, for the
//!   CLI and tests;
//! - [`simulator`] (feature `simulator`): simulated locks for the demo and binding tests.
//!
//! Apps build without features: what they ship holds neither.

#![deny(unreachable_pub)]
#![deny(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

pub mod admin;
pub mod admin_lock_rules;
pub mod auth;
mod client;
mod convert;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod devices;
mod error;
pub mod events;
pub mod ffi;
pub mod http;
pub mod import;
pub mod live;
mod local_store;
pub mod logging;
pub mod platform;
pub mod pods;
pub mod remote;
mod runtime;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod unlock;
pub mod wallet;

pub use client::{Keyway, KeywayConfig};
pub use error::KeywayError;

uniffi::setup_scaffolding!();
