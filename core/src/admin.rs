//! Site administration from the app or the CLI: sites, people and roles, locks, access
//! groups. The cloud enforces who may do what; a refusal comes back as `NotAllowed`.
//!
//! People, their pages and access groups reach the app as keyway-api's own types (re-exported
//! here), not as copies.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::{
    AddPersonRequest, AttachIqRequest, CreateAccessGroupRequest, CreateIqRequest,
    CreateLockRequest, CreateSiteRequest, IqView, LockView, ScheduleWindow, SiteView,
    UpdatePersonRequest,
};
use reqwest::Method;
use serde::Serialize;

pub use keyway_api::{AccessGroupView, PeoplePage, PersonStatus, PersonView, Role};

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

/// Which people to list, and from where: every field may be left out.
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
}

impl PeopleListRequest {
    /// The query string of `GET /api/v1/sites/{site_id}/people`, empty when nothing is set.
    fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(limit) = self.limit {
            query.append_pair("limit", &limit.to_string());
        }
        if let Some(cursor) = &self.cursor {
            query.append_pair("cursor", cursor);
        }
        if let Some(search) = &self.search {
            query.append_pair("q", search);
        }
        if let Some(role) = self.role {
            let role = match role {
                Role::Owner => "owner",
                Role::Admin => "admin",
                Role::SuperUser => "super_user",
                Role::User => "user",
            };
            query.append_pair("role", role);
        }
        if let Some(invited) = self.invited {
            query.append_pair("status", if invited { "invited" } else { "active" });
        }
        let query = query.finish();
        if query.is_empty() {
            query
        } else {
            format!("?{query}")
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

    async fn post<B, T>(&self, path: String, body: B) -> Result<T, KeywayError>
    where
        B: Serialize + Send + Sync + 'static,
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        self.send(Method::POST, path, body).await
    }

    async fn send<B, T>(&self, method: Method, path: String, body: B) -> Result<T, KeywayError>
    where
        B: Serialize + Send + Sync + 'static,
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { context.call(method, &path, Some(&body)).await }).await
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl AdminClient {
    /// Creates a site; the caller becomes its owner.
    pub async fn create_site(
        &self,
        name: String,
        utc_offset_minutes: i32,
    ) -> Result<SiteInfo, KeywayError> {
        let site: SiteView = self
            .post(
                "/api/v1/sites".into(),
                CreateSiteRequest {
                    name,
                    utc_offset_minutes,
                },
            )
            .await?;
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
        let request = AddPersonRequest { email, name, role };
        self.post(format!("/api/v1/sites/{site_id}/people"), request)
            .await
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
        let path = format!("/api/v1/sites/{site_id}/people{}", request.query());
        let context = Arc::clone(&self.context);
        on_core_runtime(async move { context.call::<(), _>(Method::GET, &path, None).await }).await
    }

    /// Removes a person from the site; their keys there are revoked.
    pub async fn remove_person(&self, site_id: u32, user_id: u32) -> Result<(), KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            context
                .call::<(), serde_json::Value>(
                    Method::DELETE,
                    &format!("/api/v1/sites/{site_id}/people/{user_id}"),
                    None,
                )
                .await
                .map(drop)
        })
        .await
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
        let lock: LockView = self
            .post(format!("/api/v1/sites/{site_id}/locks"), request)
            .await?;
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
        let iq: IqView = self
            .post(format!("/api/v1/sites/{site_id}/iqs"), request)
            .await?;
        Ok(iq.iq_id)
    }

    /// Attaches a lock to an IQ of its site: remote opening of the lock goes through it.
    pub async fn attach_lock_to_iq(
        &self,
        site_id: u32,
        lock_id: u32,
        iq_id: u32,
    ) -> Result<(), KeywayError> {
        let _: LockView = self
            .send(
                Method::PUT,
                format!("/api/v1/sites/{site_id}/locks/{lock_id}/iq"),
                AttachIqRequest { iq_id },
            )
            .await?;
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
            .send(
                Method::PATCH,
                format!("/api/v1/sites/{site_id}/people/{user_id}"),
                request,
            )
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
        self.post(format!("/api/v1/sites/{site_id}/access-groups"), request)
            .await
    }

    /// Replaces the people of an access group; those removed lose their keys at once.
    pub async fn set_group_members(
        &self,
        site_id: u32,
        group_id: u32,
        user_ids: Vec<u32>,
    ) -> Result<(), KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let body = serde_json::json!({ "user_ids": user_ids });
            context
                .call::<_, serde_json::Value>(
                    Method::PUT,
                    &format!("/api/v1/sites/{site_id}/access-groups/{group_id}/members"),
                    Some(&body),
                )
                .await
                .map(drop)
        })
        .await
    }
}
