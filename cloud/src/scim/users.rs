//! The site's people as SCIM Users: found by id, `userName` or `externalId`; created (matched
//! to an existing Keyway account by e-mail, never duplicated; invited as the API's add
//! does); replaced; suspended and reactivated through `active`; removed from the site. The
//! owner and admins are read-only here. Every change is audited with the key that made it.

use keyway_api::Role;
use rusqlite::{Connection, OptionalExtension};

use super::error::{ScimError, ScimResult, ScimType};
use super::filter::{Equality, Paging};
use super::patch::UserDraft;
use super::resources::{NameParts, UserRecord};
use crate::auth::accounts::{normalize_email, normalize_name};
use crate::integrations::caller::IntegrationCaller;
use crate::integrations::people::audit;
use crate::membership::{add_user_for_system, remove, set_suspended};
use crate::roles::parse_role;
use crate::store::rows;

/// The attributes `GET /Users?filter=` compares.
pub const FILTERABLE: [&str; 2] = ["userName", "externalId"];
/// The longest `externalId`.
pub const MAX_EXTERNAL_ID_CHARS: usize = 255;

/// A person with an e-mail on the site (`m`), their account (`u`) and what the identity
/// provider sent (`s`).
const USER_ROWS: &str = "FROM memberships m JOIN users u ON u.id = m.user_id
     LEFT JOIN scim_users s ON s.site_id = m.site_id AND s.user_id = m.user_id
     WHERE m.site_id = ?1 AND u.email IS NOT NULL";
const USER_COLUMNS: &str = "SELECT m.user_id, u.email, COALESCE(m.listed_name, u.name),
     m.suspended_at IS NULL, s.external_id, s.formatted, s.given_name, s.family_name,
     s.display_name, m.role";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(UserRecord, String)> {
    Ok((
        UserRecord {
            user_id: row.get(0)?,
            email: row.get(1)?,
            listed_name: row.get(2)?,
            active: row.get(3)?,
            external_id: row.get(4)?,
            name: NameParts {
                formatted: row.get(5)?,
                given: row.get(6)?,
                family: row.get(7)?,
                display: row.get(8)?,
            },
        },
        row.get(9)?,
    ))
}

/// A person of the site and their role, or `404` (another site's people included).
fn user_and_role(db: &Connection, site_id: u32, user_id: u32) -> ScimResult<(UserRecord, Role)> {
    let found = db
        .query_row(
            &format!("{USER_COLUMNS} {USER_ROWS} AND m.user_id = ?2"),
            [site_id, user_id],
            user_from_row,
        )
        .optional()?
        .ok_or_else(|| ScimError::not_found(format!("no user {user_id} on this site")))?;
    Ok((found.0, parse_role(&found.1)?))
}

/// A person of the site, or `404`.
pub fn user(db: &Connection, site_id: u32, user_id: u32) -> ScimResult<UserRecord> {
    Ok(user_and_role(db, site_id, user_id)?.0)
}

/// One page of the site's people, those matching `filter` only, in account order.
pub fn list(
    db: &Connection,
    site_id: u32,
    filter: Option<&Equality>,
    paging: Paging,
) -> ScimResult<(u32, Vec<UserRecord>)> {
    // `?2` is the compared value (NULL without a filter).
    let (condition, value) = match filter {
        None => (" AND ?2 IS NULL", None),
        // userName is not case-exact: e-mails are kept in lower case.
        Some(Equality {
            attribute: "userName",
            value,
        }) => (
            " AND u.email = ?2",
            Some(normalize_email(value).unwrap_or_default()),
        ),
        Some(Equality { value, .. }) => (" AND s.external_id = ?2", Some(value.clone())),
    };
    let total: u32 = db.query_row(
        &format!("SELECT COUNT(*) {USER_ROWS}{condition}"),
        rusqlite::params![site_id, value],
        |row| row.get(0),
    )?;
    let page = rows(
        db,
        &format!("{USER_COLUMNS} {USER_ROWS}{condition} ORDER BY m.user_id LIMIT ?3 OFFSET ?4"),
        rusqlite::params![site_id, value, paging.count, paging.offset()],
        user_from_row,
    )?;
    Ok((total, page.into_iter().map(|(user, _)| user).collect()))
}

fn check_external_id(external_id: Option<&str>) -> ScimResult<()> {
    match external_id {
        Some(id)
            if id.trim().is_empty()
                || id.chars().count() > MAX_EXTERNAL_ID_CHARS
                || id.chars().any(char::is_control) =>
        {
            Err(ScimError::bad_request(
                ScimType::InvalidValue,
                format!("externalId must be 1 to {MAX_EXTERNAL_ID_CHARS} printable characters"),
            ))
        }
        _ => Ok(()),
    }
}

/// `409 uniqueness` when another person of the site has `external_id`.
fn check_external_id_free(
    db: &Connection,
    site_id: u32,
    user_id: Option<u32>,
    external_id: Option<&str>,
) -> ScimResult<()> {
    let Some(external_id) = external_id else {
        return Ok(());
    };
    let holder: Option<u32> = db
        .query_row(
            "SELECT user_id FROM scim_users WHERE site_id = ?1 AND external_id = ?2",
            rusqlite::params![site_id, external_id],
            |row| row.get(0),
        )
        .optional()?;
    match holder {
        Some(holder) if Some(holder) != user_id => Err(ScimError::uniqueness(
            "another user of this site has this externalId",
        )),
        _ => Ok(()),
    }
}

fn save_attributes(
    db: &Connection,
    site_id: u32,
    user_id: u32,
    draft: &UserDraft,
) -> ScimResult<()> {
    db.execute(
        "INSERT INTO scim_users (site_id, user_id, external_id, formatted, given_name,
             family_name, display_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (site_id, user_id) DO UPDATE SET external_id = excluded.external_id,
             formatted = excluded.formatted, given_name = excluded.given_name,
             family_name = excluded.family_name, display_name = excluded.display_name",
        rusqlite::params![
            site_id,
            user_id,
            draft.external_id,
            draft.name.formatted,
            draft.name.given,
            draft.name.family,
            draft.name.display
        ],
    )?;
    Ok(())
}

/// The one name Keyway keeps for the draft (its e-mail when the provider sent none).
fn keyway_name(draft: &UserDraft, email: &str) -> ScimResult<String> {
    let name = draft.name.full_name().unwrap_or_else(|| email.to_string());
    normalize_name(&name).map_err(ScimError::typed_as(ScimType::InvalidValue))
}

fn email_of(draft: &UserDraft) -> ScimResult<String> {
    normalize_email(&draft.user_name).map_err(ScimError::typed_as(ScimType::InvalidValue))
}

/// Creates the person `draft` describes: `409 uniqueness` when the e-mail is already one of
/// the site's people; an existing Keyway account with that e-mail is matched, never
/// duplicated; the address is told as when an admin adds someone.
pub fn create(
    db: &Connection,
    caller: &IntegrationCaller,
    draft: &UserDraft,
    public_url: &str,
    now: i64,
) -> ScimResult<UserRecord> {
    let email = email_of(draft)?;
    let name = keyway_name(draft, &email)?;
    check_external_id(draft.external_id.as_deref())?;
    let site_id = caller.site_id;
    let taken: Option<u32> = db
        .query_row(
            "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.site_id = ?1 AND u.email = ?2",
            rusqlite::params![site_id, email],
            |row| row.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(ScimError::uniqueness(
            "a user with this userName is already on this site",
        ));
    }
    check_external_id_free(db, site_id, None, draft.external_id.as_deref())?;
    let person = (email.as_str(), name.as_str(), None);
    let user_id = add_user_for_system(db, site_id, person, public_url, now)?.ok_or_else(|| {
        ScimError::uniqueness("a user with this userName is already on this site")
    })?;
    save_attributes(db, site_id, user_id, draft)?;
    if !draft.active {
        set_suspended(db, site_id, user_id, true, now)?;
    }
    let state = if draft.active { "" } else { ", inactive" };
    audit(
        db,
        caller,
        "scim_create_user",
        &format!("user {user_id} added{state}"),
        now,
    )?;
    user(db, site_id, user_id)
}

/// `403 mutability` for the site's owner and admins: an identity provider's mistake must
/// never lock them out.
fn check_not_protected(role: Role) -> ScimResult<()> {
    if matches!(role, Role::Owner | Role::Admin) {
        return Err(ScimError::protected(
            "the site's owner and admins are never changed through SCIM",
        ));
    }
    Ok(())
}

/// Makes the person what `draft` says (`PUT`, and `PATCH` after its operations): the name
/// while the person has not claimed their place, `externalId`, and `active` (suspending or
/// reactivating them). `userName` cannot change (`400 mutability`).
pub fn replace(
    db: &Connection,
    caller: &IntegrationCaller,
    user_id: u32,
    draft: &UserDraft,
    now: i64,
) -> ScimResult<UserRecord> {
    let site_id = caller.site_id;
    let (current, role) = user_and_role(db, site_id, user_id)?;
    check_not_protected(role)?;
    if email_of(draft)? != current.email {
        return Err(ScimError::bad_request(
            ScimType::Mutability,
            "userName is the person's e-mail and cannot change",
        ));
    }
    check_external_id(draft.external_id.as_deref())?;
    check_external_id_free(db, site_id, Some(user_id), draft.external_id.as_deref())?;
    let name = keyway_name(draft, &current.email)?;
    // The typed name is the site's only until the person claims the place.
    db.execute(
        "UPDATE memberships SET
            invited_name = CASE WHEN claimed_at IS NULL THEN ?1 ELSE invited_name END,
            listed_name = CASE WHEN claimed_at IS NULL THEN ?1 ELSE listed_name END
         WHERE site_id = ?2 AND user_id = ?3",
        rusqlite::params![name, site_id, user_id],
    )?;
    save_attributes(db, site_id, user_id, draft)?;
    let mut change = format!("user {user_id} updated");
    if draft.active != current.active {
        set_suspended(db, site_id, user_id, !draft.active, now)?;
        change = if draft.active {
            format!("user {user_id} reactivated")
        } else {
            format!("user {user_id} deactivated: keys revoked")
        };
    }
    audit(db, caller, "scim_replace_user", &change, now)?;
    user(db, site_id, user_id)
}

/// Removes the person from the site as an admin would (keys revoked at once, tags released).
pub fn delete(
    db: &Connection,
    caller: &IntegrationCaller,
    user_id: u32,
    now: i64,
) -> ScimResult<()> {
    let (_, role) = user_and_role(db, caller.site_id, user_id)?;
    check_not_protected(role)?;
    remove(db, caller.site_id, user_id, now)?;
    audit(
        db,
        caller,
        "scim_delete_user",
        &format!("user {user_id} removed"),
        now,
    )?;
    Ok(())
}
