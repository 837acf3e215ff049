//! Adding a person to a site by e-mail: the one place its rules live, called by the API's
//! `POST /sites/{id}/people` and by the CSV import alike.
//!
//! The caller's role must allow the person's role ([`check_add`]); the address gets an
//! account row if it has none (no password, unverified: nobody but its owner ever sets one);
//! the place holds the name the admin typed until its person claims it; and the address is
//! told by e-mail, within the hourly cap of [`email::MAILS_PER_HOUR`]: an address without a
//! verified account is invited to sign up with it, a verified one is told it was added.

use keyway_api::Role;
use rusqlite::Connection;

use crate::auth::verification::{account_for_address, added_to_site_email};
use crate::email;
use crate::error::ApiResult;
use crate::issuing::reconcile_person;
use crate::lock_rules::tags::release_tags;
use crate::pods::people::remove_from_site_pods;
use crate::roles::{check_add, role_name};

/// The site a person is added to, as the e-mail names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TargetSite<'a> {
    /// Site id.
    pub site_id: u32,
    /// Its name, for the e-mail.
    pub name: &'a str,
    /// The cloud's address, for the e-mail's link.
    pub public_url: &'a str,
}

/// A person to add: e-mail and name already normalised
/// ([`crate::auth::accounts::normalize_email`], [`crate::auth::accounts::normalize_name`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Newcomer<'a> {
    /// Normalised e-mail.
    pub email: &'a str,
    /// Normalised name, shown until the person claims the place.
    pub name: &'a str,
    /// What the site calls them (import files' Alias column), if anything.
    pub alias: Option<&'a str>,
    /// Their role on the site.
    pub role: Role,
    /// The phone number typed for them (E.164), kept on the place until they claim it.
    pub phone: Option<&'a str>,
}

/// Adds `person` to `site` as `actor` (whose role must allow theirs) and queues the e-mail
/// that tells them. Returns their account id, or `None` when they are already on the site
/// (nothing is changed or sent then).
pub(crate) fn add_by_email(
    db: &Connection,
    actor: Role,
    site: TargetSite<'_>,
    person: Newcomer<'_>,
    now: i64,
) -> ApiResult<Option<u32>> {
    check_add(actor, person.role)?;
    let (user_id, verified) = account_for_address(db, person.email, person.name, now)?;
    let added = db
        .prepare_cached(
            // A new place is unclaimed: it lists the typed name (migration 0011).
            "INSERT OR IGNORE INTO memberships (site_id, user_id, role, created_at,
             invited_name, alias, listed_name, invited_phone)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7)",
        )?
        .execute(rusqlite::params![
            site.site_id,
            user_id,
            role_name(person.role),
            now,
            person.name,
            person.alias,
            person.phone
        ])?;
    if added == 0 {
        return Ok(None);
    }
    let note = added_to_site_email(
        person.email,
        person.name,
        site.name,
        role_label(person.role),
        !verified,
        site.public_url,
    );
    email::queue_capped(db, &note, now, email::MAILS_PER_HOUR)?;
    Ok(Some(user_id))
}

/// A connected system adds `email` to the site as a user, as an admin would (an invitation
/// e-mail names the site); `None` when they were on the site already.
pub(crate) fn add_user_for_system(
    db: &Connection,
    site_id: u32,
    (email, name, alias): (&str, &str, Option<&str>),
    public_url: &str,
    now: i64,
) -> ApiResult<Option<u32>> {
    let site_name: String =
        db.query_row("SELECT name FROM sites WHERE id = ?1", [site_id], |row| {
            row.get(0)
        })?;
    let site = TargetSite {
        site_id,
        name: &site_name,
        public_url,
    };
    let newcomer = Newcomer {
        email,
        name,
        alias,
        role: Role::User,
        phone: None,
    };
    add_by_email(db, Role::Admin, site, newcomer, now)
}

/// Removes a person from the site (the caller checked who may), with everything that hangs
/// on them: their access groups and bookings, their keypad PIN, their pod memberships and the guests they invited (told by
/// e-mail), their tags (released to the site), and their keys (revoked through the denylist).
/// A tag profile left with no place is deleted.
pub(crate) fn remove(db: &Connection, site_id: u32, user_id: u32, now: i64) -> ApiResult<()> {
    db.execute(
        "DELETE FROM access_group_members WHERE user_id = ?1
         AND group_id IN (SELECT id FROM access_groups WHERE site_id = ?2)",
        [user_id, site_id],
    )?;
    db.execute(
        "DELETE FROM booking_people WHERE user_id = ?1
         AND booking_id IN (SELECT id FROM bookings WHERE site_id = ?2)",
        [user_id, site_id],
    )?;
    // A connected system's name for them goes with the place.
    db.execute(
        "DELETE FROM integration_people WHERE site_id = ?1 AND user_id = ?2",
        [site_id, user_id],
    )?;
    // A PIN is the place's: back on the site one day, the person gets a new one.
    db.execute(
        "DELETE FROM keypad_pins WHERE site_id = ?1 AND user_id = ?2",
        [site_id, user_id],
    )?;
    db.execute(
        "DELETE FROM memberships WHERE site_id = ?1 AND user_id = ?2",
        [site_id, user_id],
    )?;
    remove_from_site_pods(db, site_id, user_id, None, now)?;
    release_tags(db, site_id, user_id)?;
    reconcile_person(db, site_id, user_id, now)?;
    // A tag profile is nobody's account: with its only place gone, nothing is kept.
    db.execute(
        "DELETE FROM users WHERE id = ?1 AND email IS NULL
         AND NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = ?1)",
        [user_id],
    )?;
    Ok(())
}

/// Suspends a person's place on the site (`active: false` from an identity provider) or
/// lifts the suspension. Suspended, they stay on the site and in their groups but open
/// nothing: their keys are revoked at once (the denylist tells the locks; migration 0017's
/// trigger tells their phones and the IQs), and none is issued until they are reactivated.
pub(crate) fn set_suspended(
    db: &Connection,
    site_id: u32,
    user_id: u32,
    suspended: bool,
    now: i64,
) -> ApiResult<()> {
    db.execute(
        "UPDATE memberships
         SET suspended_at = CASE WHEN ?1 THEN COALESCE(suspended_at, ?2) END
         WHERE site_id = ?3 AND user_id = ?4",
        rusqlite::params![suspended, now, site_id, user_id],
    )?;
    reconcile_person(db, site_id, user_id, now)
}

/// A role as the manuals name it.
pub(crate) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "the owner",
        Role::Admin => "a site admin",
        Role::SuperUser => "a super user",
        Role::User => "a user",
    }
}
