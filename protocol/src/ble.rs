//! The Keyway GATT service: UUIDs and what a lock advertises.
//!
//! A lock advertises [`SERVICE_UUID`] with its lock id (`u32`, big-endian) as service data.
//! The phone writes request fragments to [`WRITE_CHARACTERISTIC_UUID`] and receives the
//! challenge and answer fragments as notifications on [`NOTIFY_CHARACTERISTIC_UUID`].

/// The Keyway primary service.
pub const SERVICE_UUID: &str = "6b657977-6179-4c6b-8000-000000000001";
/// Phone → lock frames (write without response).
pub const WRITE_CHARACTERISTIC_UUID: &str = "6b657977-6179-4c6b-8000-000000000002";
/// Lock → phone frames (notify).
pub const NOTIFY_CHARACTERISTIC_UUID: &str = "6b657977-6179-4c6b-8000-000000000003";
/// The ATT MTU most phones negotiate with a lock.
pub const TYPICAL_ATT_MTU: usize = 185;

/// The lock id in advertised service data, if well-formed.
pub fn lock_id_from_service_data(data: &[u8]) -> Option<u32> {
    data.try_into().ok().map(u32::from_be_bytes)
}
