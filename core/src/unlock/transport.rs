//! The BLE link the unlock runs over. The apps provide it with the platform BLE stack; the
//! simulator provides an in-process one. The shape is one connection at a time, so that it
//! maps onto a UniFFI foreign trait.

use async_trait::async_trait;

/// Why the BLE link failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No lock with this id answered the scan or the connect.
    #[error("lock {lock_id} is out of range")]
    OutOfRange {
        /// The lock searched for.
        lock_id: u32,
    },
    /// The connection dropped or a write failed.
    #[error("BLE link failed: {0}")]
    LinkLost(String),
    /// Nothing arrived in time.
    #[error("the lock did not answer within {0} ms")]
    Timeout(u32),
}

/// A BLE central connection to one lock at a time.
#[async_trait]
pub trait BleTransport: Send + Sync {
    /// Connects to the lock advertising `lock_id`, subscribes to its notifications and
    /// returns the negotiated ATT MTU.
    async fn connect(&self, lock_id: u32) -> Result<u32, TransportError>;
    /// Writes one fragment to the lock's write characteristic.
    async fn write(&self, fragment: Vec<u8>) -> Result<(), TransportError>;
    /// Waits for the next notification fragment, at most `timeout_ms`.
    async fn receive(&self, timeout_ms: u32) -> Result<Vec<u8>, TransportError>;
    /// Closes the connection (never fails; a dead link is already closed).
    async fn disconnect(&self);
}
