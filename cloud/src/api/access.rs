//! Who the caller is on a site: sites and their contents are invisible (404) to outsiders, and
//! a member whose role says no gets 403.

use keyway_api::Role;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{ApiError, ApiResult};
use crate::roles::{may_manage_site, may_view_events, may_view_people, parse_role};
use crate::AppState;

/// The role of `user_id` on `site_id`, or 404 when they are not a member.
pub(crate) fn role_on_site(db: &Connection, site_id: u32, user_id: u32) -> Result<Role, ApiError> {
    db.query_row(
        "SELECT role FROM memberships WHERE site_id = ?1 AND user_id = ?2",
        [site_id, user_id],
        |row| role_column(row, 0),
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no site {site_id}")))
}

/// Reads a stored role column.
pub(crate) fn role_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Role> {
    let text: String = row.get(index)?;
    parse_role(&text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            Box::new(error),
        )
    })
}

/// 403 unless `allowed`; `what` completes "your role on this site does not allow …".
pub(crate) fn require(allowed: bool, what: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "your role on this site does not allow {what}"
        )))
    }
}

/// What a caller's role must allow for one kind of work on a site, and how a refusal reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SiteRule {
    /// Whether a role may do the work.
    pub allows: fn(Role) -> bool,
    /// Completes "your role on this site does not allow …".
    pub what: &'static str,
}

/// Locks and IQs: the owner and admins.
pub(crate) const MANAGING_HARDWARE: SiteRule = SiteRule::new(may_manage_site, "managing hardware");
/// Access groups: the owner and admins.
pub(crate) const MANAGING_ACCESS_GROUPS: SiteRule =
    SiteRule::new(may_manage_site, "managing access groups");
/// API keys of connected systems: the owner and admins.
pub(crate) const MANAGING_SITE: SiteRule =
    SiteRule::new(may_manage_site, "managing the site's API keys");
/// Webhook endpoints of the site's connected systems, from the console: the owner and admins.
pub(crate) const MANAGING_WEBHOOKS: SiteRule =
    SiteRule::new(may_manage_site, "managing the site's webhooks");
/// Pods: the owner and admins.
pub(crate) const MANAGING_PODS: SiteRule = SiteRule::new(may_manage_site, "managing pods");
/// The list of people: everyone but users.
pub(crate) const VIEWING_PEOPLE: SiteRule = SiteRule::new(may_view_people, "viewing people");
/// Importing people from a CSV file: everyone who may add people (the owner, admins and
/// super users; each row's role is checked like an added person's).
pub(crate) const IMPORTING_PEOPLE: SiteRule =
    SiteRule::new(super::imports::may_import, "importing people");
/// Lock event logs: everyone but users.
pub(crate) const VIEWING_EVENTS: SiteRule = SiteRule::new(may_view_events, "viewing lock events");

impl SiteRule {
    const fn new(allows: fn(Role) -> bool, what: &'static str) -> Self {
        Self { allows, what }
    }

    /// The caller's role on the site: 404 when they are not a member, 403 when the rule says
    /// no.
    pub(crate) fn check(
        self,
        db: &Connection,
        site_id: u32,
        user_id: u32,
    ) -> Result<Role, ApiError> {
        let role = role_on_site(db, site_id, user_id)?;
        require((self.allows)(role), self.what)?;
        Ok(role)
    }

    /// `work`, run only once the caller passes the rule.
    fn guard<T>(
        self,
        site_id: u32,
        user_id: u32,
        work: impl FnOnce(&Connection) -> ApiResult<T>,
    ) -> impl FnOnce(&Connection) -> ApiResult<T> {
        move |db| {
            self.check(db, site_id, user_id)?;
            work(db)
        }
    }

    /// Runs `work` on the store once the caller passes the rule.
    pub(crate) async fn read<T: Send + 'static>(
        self,
        state: &AppState,
        site_id: u32,
        user_id: u32,
        work: impl FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let work = self.guard(site_id, user_id, work);
        state.store.run(move |db| work(db)).await
    }

    /// Runs `work` in one transaction once the caller passes the rule: refused or failed
    /// work changes nothing.
    pub(crate) async fn write<T: Send + 'static>(
        self,
        state: &AppState,
        site_id: u32,
        user_id: u32,
        work: impl FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let work = self.guard(site_id, user_id, work);
        state.store.transaction(move |tx| work(tx)).await
    }
}
