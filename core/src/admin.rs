//! Site administration from the app or the CLI: sites, people and roles, locks, access
//! groups. The cloud enforces who may do what; a refusal comes back as `NotAllowed`.
//!
//! People, their pages and access groups reach the app as keyway-api's own types (re-exported
//! here), not as copies.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::endpoints::{
    AddPerson, AttachLockToIq, CreateAccessGroup, CreateIq, CreateLock, CreateSite, Endpoint,
    ListPeople, NoBody, NoContent, RemovePerson, SetGroupMembers, UpdatePerson,
};
use keyway_api::{
    AddPersonRequest, AttachIqRequest, CreateAccessGroupRequest, CreateIqRequest,
    CreateLockRequest, CreateSiteRequest, LockView, PeopleQuery, ScheduleWindow,
    SetGroupMembersRequest, UpdatePersonRequest,
};

pub use keyway_api::{AccessGroupView, PeoplePage, PersonStatus, PersonView, Profile, Role};

use crate::client::Context;
use crate::runtime::on_core_runtime;
use crate::KeywayError;

/// A site. A view of keyway-api's `SiteView` rather than the type itself: the app gets the
/// authority public key as its bytes (to provision locks), not as the base64 text of the wire,
/// and not the UTC offset it just chose.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SiteInfo {
    /// Site id.
    pub site_id: u32,
    /// Name.
    pub name: String,
    /// The authority public key locks are provisioned with (65 bytes).
    pub authority_public_key: Vec<u8>,
}

/// Which people to list, and from where: every field may be left out. The core's own record
/// rather than keyway-api's `PeopleQuery`: that one is the URL's query, with the URL's names
/// (`q`) and the cloud's filter values; the app asks yes-or-no questions (`invited`,
/// `tag_profiles`) and the core turns them into that query.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct PeopleListRequest {
    /// People on the page: 1 to 500 (the cloud's default, 50, when absent).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`; absent for the first page. Keep the same filters
    /// while following it.
    pub cursor: Option<String>,
    /// Only people whose name or e-mail contains this text, ignoring case.
    pub search: Option<String>,
    /// Only people with this role.
    pub role: Option<Role>,
    /// Only those invited who have not used Keyway yet (`true`), or only the others (`false`).
    pub invited: Option<bool>,
    /// Only tag profiles (`true`), or only user profiles (`false`).
    pub tag_profiles: Option<bool>,
}

impl PeopleListRequest {
    /// The query of `GET /api/v1/sites/{site_id}/people`.
    fn query(&self) -> PeopleQuery {
        PeopleQuery {
            limit: self.limit,
            cursor: self.cursor.clone(),
            q: self.search.clone(),
            role: self.role,
            status: self.invited.map(|invited| {
                if invited {
                    PersonStatus::Invited
                } else {
                    PersonStatus::Active
                }
            }),
            profile: self
                .tag_profiles
                .map(|tags| if tags { Profile::Tag } else { Profile::User }),
        }
    }
}

/// Administration of sites.
#[derive(uniffi::Object)]
pub struct AdminClient {
    pub(crate) context: Arc<Context>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminClient(..)")
    }
}

impl AdminClient {
    pub(crate) fn new(context: Arc<Context>) -> Self {
        Self { context }
    }

    /// Calls `endpoint` with `body` on the core's runtime.
    pub(crate) async fn call<E: Endpoint + 'static>(
        &self,
        endpoint: E,
        body: E::Request,
    ) -> Result<E::Response, KeywayError>
    where
        E::Request: 'static,
        E::Response: 'static,
    {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { context.call(&endpoint, &body).await }).await
    }
}

#[uniffi::export]
impl AdminClient {
    /// Creates a site; the caller becomes its owner.
    pub async fn create_site(
        &self,
        name: String,
        utc_offset_minutes: i32,
    ) -> Result<SiteInfo, KeywayError> {
        let request = CreateSiteRequest {
            name,
            utc_offset_minutes,
        };
        let site = self.call(CreateSite {}, request).await?;
        let authority_public_key =
            STANDARD
                .decode(&site.authority_public_key)
                .map_err(|_| KeywayError::Retry {
                    detail: "the cloud sent a malformed authority key".into(),
                })?;
        Ok(SiteInfo {
            site_id: site.site_id,
            name: site.name,
            authority_public_key,
        })
    }

    /// Adds a person by e-mail. An address without a verified account is sent an invitation;
    /// the person's rights take effect once they sign up and verify it (`status` says so).
    pub async fn add_person(
        &self,
        site_id: u32,
        email: String,
        name: String,
        role: Role,
    ) -> Result<PersonView, KeywayError> {
        let request = AddPersonRequest {
            email: Some(email),
            name,
            role,
            phone: None,
        };
        self.call(AddPerson { site_id }, request).await
    }

    /// Adds a person without an e-mail (a tag profile): no account and no app; they open with
    /// a tag or a keypad PIN, which goes by text message to `phone` when given. Always a user.
    pub async fn add_tag_profile(
        &self,
        site_id: u32,
        name: String,
        phone: Option<String>,
    ) -> Result<PersonView, KeywayError> {
        let request = AddPersonRequest {
            email: None,
            name,
            role: Role::User,
            phone,
        };
        self.call(AddPerson { site_id }, request).await
    }

    /// One page of the site's people (owner, admins and super users may list them), ordered
    /// by name. Follow `next_cursor` with the same filters for the next page; people added or
    /// removed meanwhile make nobody else appear twice or go missing. A cursor from another
    /// site or other filters is refused (`InvalidInput`).
    pub async fn list_people(
        &self,
        site_id: u32,
        request: PeopleListRequest,
    ) -> Result<PeoplePage, KeywayError> {
        let endpoint = ListPeople {
            site_id,
            query: request.query(),
        };
        self.call(endpoint, NoBody).await
    }

    /// Removes a person from the site; their keys there are revoked.
    pub async fn remove_person(&self, site_id: u32, user_id: u32) -> Result<(), KeywayError> {
        let NoContent = self.call(RemovePerson { site_id, user_id }, NoBody).await?;
        Ok(())
    }

    /// Registers an installed lock by its public key; returns its lock id.
    pub async fn add_lock(
        &self,
        site_id: u32,
        name: String,
        public_key: Vec<u8>,
    ) -> Result<u32, KeywayError> {
        let request = CreateLockRequest {
            name,
            public_key: STANDARD.encode(public_key),
        };
        let lock = self.call(CreateLock { site_id }, request).await?;
        Ok(lock.lock_id)
    }

    /// Registers an installed IQ (hub) by its public key; returns its IQ id.
    pub async fn add_iq(
        &self,
        site_id: u32,
        name: String,
        public_key: Vec<u8>,
    ) -> Result<u32, KeywayError> {
        let request = CreateIqRequest {
            name,
            public_key: STANDARD.encode(public_key),
        };
        let iq = self.call(CreateIq { site_id }, request).await?;
        Ok(iq.iq_id)
    }

    /// Attaches a lock to an IQ of its site: remote opening of the lock goes through it.
    pub async fn attach_lock_to_iq(
        &self,
        site_id: u32,
        lock_id: u32,
        iq_id: u32,
    ) -> Result<(), KeywayError> {
        let endpoint = AttachLockToIq { site_id, lock_id };
        let _: LockView = self.call(endpoint, AttachIqRequest { iq_id }).await?;
        Ok(())
    }

    /// Sets a person's lock options (manual 000): remote opening, and remote office mode
    /// (which implies remote opening).
    pub async fn set_remote_rights(
        &self,
        site_id: u32,
        user_id: u32,
        remote_opening: bool,
        office_mode: bool,
    ) -> Result<(), KeywayError> {
        let request = UpdatePersonRequest {
            remote_opening: Some(remote_opening),
            office_mode: Some(office_mode),
            ..UpdatePersonRequest::default()
        };
        let _: PersonView = self
            .call(UpdatePerson { site_id, user_id }, request)
            .await?;
        Ok(())
    }

    /// Creates an access group: these people open these locks within `schedule` (empty: always).
    pub async fn create_access_group(
        &self,
        site_id: u32,
        name: String,
        lock_ids: Vec<u32>,
        user_ids: Vec<u32>,
        schedule: Vec<ScheduleWindow>,
    ) -> Result<AccessGroupView, KeywayError> {
        let request = CreateAccessGroupRequest {
            name,
            lock_ids,
            user_ids,
            schedule,
        };
        self.call(CreateAccessGroup { site_id }, request).await
    }

    /// Replaces the people of an access group; those removed lose their keys at once.
    pub async fn set_group_members(
        &self,
        site_id: u32,
        group_id: u32,
        user_ids: Vec<u32>,
    ) -> Result<(), KeywayError> {
        let endpoint = SetGroupMembers { site_id, group_id };
        let _: AccessGroupView = self
            .call(endpoint, SetGroupMembersRequest { user_ids })
            .await?;
        Ok(())
    }
}
