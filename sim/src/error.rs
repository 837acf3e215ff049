//! Errors of the simulator.

use keyway_protocol::ProtocolError;

/// Why the simulated lock or link could not do what was asked.
///
/// A request the lock refuses is not an error: the lock answers it with a refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The lock's configuration cannot describe a real lock.
    #[error("invalid lock configuration: {0}")]
    InvalidConfig(&'static str),
    /// The ATT MTU is below what BLE allows.
    #[error("ATT MTU {mtu} is below the BLE minimum of {min}")]
    MtuTooSmall {
        /// The MTU asked for.
        mtu: usize,
        /// The smallest MTU BLE allows.
        min: usize,
    },
    /// A write came in while no phone was connected.
    #[error("the lock has no BLE connection")]
    NotConnected,
    /// Another phone is connected to the lock (a lock serves one connection at a time).
    #[error("the lock is busy with another connection")]
    LockBusy,
    /// This link session's connection was closed or taken over.
    #[error("the BLE connection was closed")]
    Disconnected,
    /// A fragment does not fit one ATT write at the negotiated MTU.
    #[error("a fragment of {len} bytes does not fit one ATT write of {max} bytes")]
    FragmentTooLong {
        /// The fragment's length.
        len: usize,
        /// What one write carries at this MTU.
        max: usize,
    },
    /// An offline list longer than the lock's storage holds.
    #[error("an offline list of {entries} entries does not fit the lock's {capacity}")]
    OfflineStorageFull {
        /// Entries in the list.
        entries: usize,
        /// What the lock stores.
        capacity: usize,
    },
    /// A thread panicked while holding the lock's state.
    #[error("the lock's state is poisoned by an earlier panic")]
    Poisoned,
    /// Encoding, signing or random generation failed in the protocol crate.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}
