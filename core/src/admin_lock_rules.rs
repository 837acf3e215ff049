//! What a lock enforces, managed from the app or the CLI (manuals 000 and 003): tags, offline
//! access, privacy override, master keys, a lock's settings and offline storage, and the
//! locks' reported state. The cloud enforces who may do what; a refusal comes back as
//! `NotAllowed` (`master_key_fixed`, `too_many_master_keys`, `iq_firmware_too_old`, or a role
//! that may not).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::endpoints::{
    GetLockSettings, ListLockers, ListLocks, ListTags, LockOfflineStorage, NoBody, NoContent,
    RegisterTag, RevokeTag, SetLocker, UpdateLockSettings, UpdatePerson, UpdateTag,
};
use keyway_api::lock_rules::{RegisterTagRequest, TagUid};
use keyway_api::UpdatePersonRequest;

pub use keyway_api::lock_rules::{
    LockSettingsView, LockStateView, LockerAssignment, LockerView, OfflineEntryView,
    OfflineStorageView, SetLockerRequest, TagView, UpdateLockSettingsRequest, UpdateTagRequest,
};
pub use keyway_api::LockView;

use crate::admin::{AdminClient, PersonView};
use crate::KeywayError;

fn tag_uid(tag_id: &str) -> Result<TagUid, KeywayError> {
    TagUid::parse(tag_id)
        .ok_or_else(|| KeywayError::invalid(format!("{tag_id:?} is not a tag id (14 hex digits)")))
}

impl AdminClient {
    async fn update_person(
        &self,
        site_id: u32,
        user_id: u32,
        request: UpdatePersonRequest,
    ) -> Result<PersonView, KeywayError> {
        self.call(UpdatePerson { site_id, user_id }, request).await
    }
}

#[uniffi::export]
impl AdminClient {
    /// The site's locks with what each last reported: battery, door, privacy mode.
    pub async fn list_locks(&self, site_id: u32) -> Result<Vec<LockView>, KeywayError> {
        self.call(ListLocks { site_id }, NoBody).await
    }

    /// Registers a tag read at an enrolment reader: its 14-hex-digit id and the public key
    /// made on the card (65 bytes), optionally for a person of the site.
    pub async fn register_tag(
        &self,
        site_id: u32,
        tag_id: String,
        public_key: Vec<u8>,
        user_id: Option<u32>,
    ) -> Result<TagView, KeywayError> {
        let request = RegisterTagRequest {
            tag_id: tag_uid(&tag_id)?.to_hex(),
            public_key: STANDARD.encode(public_key),
            user_id,
        };
        self.call(RegisterTag { site_id }, request).await
    }

    /// The site's tags.
    pub async fn list_tags(&self, site_id: u32) -> Result<Vec<TagView>, KeywayError> {
        self.call(ListTags { site_id }, NoBody).await
    }

    /// Hands a tag over or takes it back; owner and admins also set its offline access and
    /// master key.
    pub async fn update_tag(
        &self,
        site_id: u32,
        tag_id: String,
        change: UpdateTagRequest,
    ) -> Result<TagView, KeywayError> {
        let endpoint = UpdateTag {
            site_id,
            tag_id: tag_uid(&tag_id)?,
        };
        self.call(endpoint, change).await
    }

    /// Revokes a tag: no lock opens for it after the next push to its IQ.
    pub async fn revoke_tag(&self, site_id: u32, tag_id: String) -> Result<(), KeywayError> {
        let endpoint = RevokeTag {
            site_id,
            tag_id: tag_uid(&tag_id)?,
        };
        let _: NoContent = self.call(endpoint, NoBody).await?;
        Ok(())
    }

    /// Offline access on a person's digital keys (owner and admins): their phones get keys
    /// that open locks cut off from their IQ.
    pub async fn set_offline_access(
        &self,
        site_id: u32,
        user_id: u32,
        enabled: bool,
    ) -> Result<PersonView, KeywayError> {
        let request = UpdatePersonRequest {
            offline_access: Some(enabled),
            ..UpdatePersonRequest::default()
        };
        self.update_person(site_id, user_id, request).await
    }

    /// Privacy override (owner and admins): the person opens locks whose privacy mode is
    /// engaged, with a tag, a digital key or remotely. Taking it away takes effect at the next
    /// push to the locks' IQ, and revokes their keys that carry it.
    pub async fn set_privacy_override(
        &self,
        site_id: u32,
        user_id: u32,
        enabled: bool,
    ) -> Result<PersonView, KeywayError> {
        let request = UpdatePersonRequest {
            privacy_override: Some(enabled),
            ..UpdatePersonRequest::default()
        };
        self.update_person(site_id, user_id, request).await
    }

    /// A lock's settings.
    pub async fn lock_settings(
        &self,
        site_id: u32,
        lock_id: u32,
    ) -> Result<LockSettingsView, KeywayError> {
        self.call(GetLockSettings { site_id, lock_id }, NoBody)
            .await
    }

    /// Changes a lock's settings (Near Detection Mode, Easy Office Mode, door-open limit).
    pub async fn update_lock_settings(
        &self,
        site_id: u32,
        lock_id: u32,
        change: UpdateLockSettingsRequest,
    ) -> Result<LockSettingsView, KeywayError> {
        self.call(UpdateLockSettings { site_id, lock_id }, change)
            .await
    }

    /// Makes a lock an XS4 locker used by one person (`Fixed`) or several (`Family`); an
    /// empty list frees it.
    pub async fn set_locker(
        &self,
        site_id: u32,
        lock_id: u32,
        assignment: LockerAssignment,
        user_ids: Vec<u32>,
    ) -> Result<LockerView, KeywayError> {
        let request = SetLockerRequest {
            assignment,
            user_ids,
        };
        self.call(SetLocker { site_id, lock_id }, request).await
    }

    /// The site's lockers: who uses each, door and battery, who opened it last.
    pub async fn list_lockers(&self, site_id: u32) -> Result<Vec<LockerView>, KeywayError> {
        self.call(ListLockers { site_id }, NoBody).await
    }

    /// What a lock stores for offline use, and who is entitled but does not fit.
    pub async fn lock_offline_storage(
        &self,
        site_id: u32,
        lock_id: u32,
    ) -> Result<OfflineStorageView, KeywayError> {
        self.call(LockOfflineStorage { site_id, lock_id }, NoBody)
            .await
    }
}
