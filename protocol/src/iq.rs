//! The IQ (hub): what it says to the cloud, how it proves who it is, and the two things it
//! hands to its locks on the cloud's behalf.
//!
//! - [`auth`]: the IQ signs a fresh cloud nonce with its own P-256 key;
//! - [`messages`]: the JSON messages on the IQ's WebSocket, both ways;
//! - [`grant`]: a short-lived, authority-signed order for one remote command at one lock,
//!   and the lock's check of it (the same rules a BLE request meets where they apply);
//! - [`keypad`]: the authority-signed keypad table a lock checks typed PINs against.
//!
//! No I/O here: the simulator's IQ, a real IQ and the cloud drive these with their own
//! sockets, clocks and storage.

pub mod auth;
pub mod grant;
mod hex;
pub mod keypad;
pub mod messages;

pub use grant::{RemoteGrant, RemoteGrantFlags};
pub use hex::HexBytes;
pub use keypad::{KeypadEntry, KeypadTable};
pub use messages::{CloudToIq, IqToCloud};
