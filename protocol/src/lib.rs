//! # keyway-protocol
//!
//! Keyway's wire formats and handshake, sans-IO: bytes in, bytes out, no clock, no sockets,
//! no storage. The phone core, the lock firmware (and its simulator), the IQ and the cloud
//! all speak through this crate.
//!
//! - [`credential`]: the digital key the cloud signs;
//! - [`handshake`]: the phone and lock state machines of one unlock;
//! - [`frame`]: fragmentation to the BLE ATT MTU;
//! - [`iq_code`]: the 5-character code for web remote opening;
//! - [`iq`]: the IQ hub's messages, its login, remote grants and keypad tables;
//! - [`event`]: the lock's signed, hash-chained event records;
//! - [`mailbox`]: cloud-signed updates a phone carries to an offline lock;
//! - [`tag`]: physical tags, their challenge-response and the locks' tag lists;
//! - [`lock_settings`]: a lock's admin settings (door limit, near detection, easy office mode);
//! - [`report`]: what a lock reports on its own (door, battery, privacy knob).
//!
//! With the `uniffi` feature (enabled by the phone core), the types the apps see as they are
//! ([`ScheduleWindow`], [`RefusalReason`], [`iq_code::IqCode`]) derive UniFFI's traits, so the
//! core exports them without a copy.
//!
//! Crypto is `ring` only: P-256 ECDSA and ECDH, HKDF-SHA256, AES-256-GCM, HMAC-SHA256.

#![deny(unreachable_pub)]
#![deny(clippy::indexing_slicing)]
#![deny(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

pub mod ble;
pub mod command;
pub mod credential;
mod error;
pub mod event;
pub mod frame;
pub mod handshake;
pub mod iq;
pub mod iq_code;
pub mod keys;
pub mod lock_settings;
pub mod log_policy;
pub mod mailbox;
pub mod message;
pub mod refusal;
pub mod report;
pub mod schedule;
pub mod tag;
mod wire;

pub use command::Command;
pub use credential::{Credential, CredentialFlags, SignedCredential};
pub use error::ProtocolError;
pub use event::{LockEvent, SignedEvent};
pub use handshake::lock::{LockHandshake, LockPolicy, Verdict};
pub use handshake::phone::{PhoneHandshake, PhoneOutcome};
pub use handshake::session::LockAnswer;
pub use keys::{PublicKey, SigningKey};
pub use lock_settings::LockSettings;
pub use refusal::RefusalReason;
pub use report::LockReport;
pub use schedule::ScheduleWindow;

// With the `uniffi` feature, the types that derive UniFFI traits here are this crate's
// namespace in the generated bindings (`keyway_protocol`), used by the core's exports.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
