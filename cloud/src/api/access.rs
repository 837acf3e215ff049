//! Who the caller is on a site: sites and their contents are invisible (404) to outsiders, and
//! a member whose role says no gets 403.

use keyway_protocol::api::Role;
use rusqlite::{Connection, OptionalExtension};

use crate::error::ApiError;
use crate::roles::parse_role;

/// The role of `user_id` on `site_id`, or 404 when they are not a member.
pub fn role_on_site(db: &Connection, site_id: u32, user_id: u32) -> Result<Role, ApiError> {
    db.query_row(
        "SELECT role FROM memberships WHERE site_id = ?1 AND user_id = ?2",
        [site_id, user_id],
        |row| role_column(row, 0),
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no site {site_id}")))
}

/// Reads a stored role column.
pub fn role_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Role> {
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
pub fn require(allowed: bool, what: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "your role on this site does not allow {what}"
        )))
    }
}

/// The caller's role on the site, checked with `rule` (403 when it says no).
pub fn role_allowing(
    db: &Connection,
    site_id: u32,
    user_id: u32,
    rule: fn(Role) -> bool,
    what: &str,
) -> Result<Role, ApiError> {
    let role = role_on_site(db, site_id, user_id)?;
    require(rule(role), what)?;
    Ok(role)
}
