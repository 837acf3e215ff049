//! The IQ hub model: a hub that authenticates to the cloud with its own P-256 key, relays
//! remote commands to its locks, hands them their keypad tables, and carries their events
//! back, buffering them while the cloud is unreachable.
//!
//! - [`hub`]: the decisions, sans-IO (unit-tested without sockets);
//! - [`radio`]: how the IQ reaches its locks (in process here);
//! - [`driver`]: the WebSocket to the cloud, with reconnection and backoff.

pub mod driver;
pub mod hub;
pub mod radio;

pub use driver::{IqConnection, SimulatedIq};
pub use hub::{IqHub, DEFAULT_IQ_FIRMWARE};
pub use radio::{LockRadio, LockSet};
