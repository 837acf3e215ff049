//! Reading a digital key for display: who, which locks, when.

use keyway_protocol::{ScheduleWindow, SignedCredential};

use crate::KeywayError;

/// What a digital key grants, for the wallet screen. A view of the protocol's [`Credential`]
/// rather than the type itself: the apps get the flags as plain fields and the key's size,
/// and not the device public key or the signature, which only the lock checks.
///
/// [`Credential`]: keyway_protocol::Credential
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialInfo {
    /// The key's id.
    pub credential_id: u64,
    /// The site that signed it.
    pub site_id: u32,
    /// The person it belongs to.
    pub user_id: u32,
    /// The locks it opens.
    pub lock_ids: Vec<u32>,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// Valid until (Unix seconds, exclusive).
    pub not_after: i64,
    /// Weekly windows; empty means at any time.
    pub schedule: Vec<ScheduleWindow>,
    /// Master key: 24/7, schedules ignored.
    pub master_key: bool,
    /// Opens locks in privacy mode.
    pub privacy_override: bool,
    /// May set and unset office mode.
    pub office_mode: bool,
    /// Offline access: opens a lock that cannot reach its IQ.
    pub offline_access: bool,
    /// The revocation epoch it was issued in.
    pub revocation_epoch: u32,
    /// Its size in bytes.
    pub size_bytes: u32,
}

impl From<&SignedCredential> for CredentialInfo {
    fn from(signed: &SignedCredential) -> Self {
        let c = signed.credential();
        Self {
            credential_id: c.credential_id,
            site_id: c.site_id,
            user_id: c.user_id,
            lock_ids: c.lock_ids.clone(),
            not_before: c.not_before,
            not_after: c.not_after,
            schedule: c.schedule.clone(),
            master_key: c.flags.master_key,
            privacy_override: c.flags.privacy_override,
            office_mode: c.flags.office_mode,
            offline_access: c.flags.offline_access,
            revocation_epoch: c.revocation_epoch,
            size_bytes: u32::try_from(signed.as_bytes().len()).unwrap_or(u32::MAX),
        }
    }
}

/// Reads a digital key's fields. The signature is not checked here: only locks hold the
/// site authority key that matters, and they check it.
#[uniffi::export]
pub fn inspect_credential(bytes: Vec<u8>) -> Result<CredentialInfo, KeywayError> {
    Ok(CredentialInfo::from(&SignedCredential::decode(&bytes)?))
}
