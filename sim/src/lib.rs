//! # keyway-sim
//!
//! A model of Keyway lock firmware and of the BLE link that reaches it, for the demo, the
//! binding tests and the end-to-end tests. The lock enforces exactly what a real lock does:
//! it runs [`keyway_protocol::LockHandshake`] on its own clock, denylist and revocation epoch,
//! answers every request (a malformed one too), and signs a hash-chained event for each.
//!
//! - [`clock`]: a lock's own real-time clock, offset from the system clock;
//! - [`lock`]: the lock firmware model, fragments in and notification fragments out;
//! - [`link`]: an in-process BLE link with an ATT MTU and latencies;
//! - [`iq`]: the IQ hub, its WebSocket to the cloud, and its radio to the locks;
//! - [`tag`]: a physical NFC tag with its own key.

#![deny(unreachable_pub)]
#![deny(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

pub mod clock;
mod error;
mod event_log;
pub mod iq;
pub mod link;
pub mod lock;
mod state;
pub mod tag;

pub use clock::LockClock;
pub use error::SimError;
pub use link::{LinkConfig, LinkSession, LinkStats, SimulatedLink};
pub use lock::{LockConfig, LockReply, LockTiming, SimulatedLock};
pub use tag::SimulatedTag;
