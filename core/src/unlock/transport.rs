//! The BLE link the unlock runs over: a foreign trait the apps implement with the platform
//! BLE stack (CoreBluetooth, Android BLE); the simulator and btleplug implement it in Rust.
//! One connection at a time.

use async_trait::async_trait;

/// Why the BLE link failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// No lock with this id answered the scan or the connect.
    #[error("lock {lock_id} is out of range")]
    OutOfRange {
        /// The lock searched for.
        lock_id: u32,
    },
    /// The connection dropped or a write failed.
    #[error("BLE link failed: {detail}")]
    LinkLost {
        /// What failed.
        detail: String,
    },
    /// Nothing arrived in time.
    #[error("the lock did not answer within {timeout_ms} ms")]
    Timeout {
        /// How long we waited.
        timeout_ms: u32,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::LinkLost {
            detail: error.reason,
        }
    }
}

/// A BLE central connection to one lock at a time.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait BleTransport: Send + Sync {
    /// Scans for the lock advertising `lock_id` (service data), connects, subscribes to its
    /// notify characteristic and returns the negotiated ATT MTU.
    async fn connect(&self, lock_id: u32) -> Result<u32, TransportError>;
    /// Writes one fragment to the lock's write characteristic.
    async fn write(&self, fragment: Vec<u8>) -> Result<(), TransportError>;
    /// Waits for the next notification fragment, at most `timeout_ms`.
    async fn receive(&self, timeout_ms: u32) -> Result<Vec<u8>, TransportError>;
    /// Closes the connection (a dead link is already closed).
    async fn disconnect(&self);
    /// The connected lock's signal strength as this phone's radio last measured it (RSSI, in
    /// dBm), if the radio reports one. Near Detection Mode locks refuse a weak one.
    async fn signal_dbm(&self) -> Option<i16>;
}
