//! The manual resync (manuals 001 and 004: "manually trigger a data synchronization"): the
//! system sends everybody it knows and the groups it manages; the cloud works out the
//! difference with what it holds (people the system added, their alias, their membership of
//! those groups), reports it, and, unless it is a dry run, applies it through the same calls
//! one by one would make, in one transaction.

use std::collections::{BTreeMap, BTreeSet};

use keyway_api::integrations::{
    GrantAccessRequest, ResyncReport, ResyncRequest, UpsertPersonRequest,
};
use rusqlite::Connection;

use super::caller::IntegrationCaller;
use super::people::{
    check_external_id, check_system_group, remove_person, set_membership, upsert_person,
};
use crate::auth::accounts::normalize_name;
use crate::error::{ApiError, ApiResult};
use crate::store::rows;

/// The most people one resync carries.
pub const MAX_RESYNC_PEOPLE: usize = 10_000;

fn check_groups(db: &Connection, site_id: u32, groups: &BTreeSet<u32>) -> ApiResult<()> {
    groups
        .iter()
        .try_for_each(|group_id| check_system_group(db, site_id, *group_id))
}

/// Works out, and unless `dry_run` applies, the difference between the system's list and the
/// site.
pub fn resync(
    db: &Connection,
    caller: &IntegrationCaller,
    request: &ResyncRequest,
    public_url: &str,
    now: i64,
) -> ApiResult<ResyncReport> {
    if request.people.len() > MAX_RESYNC_PEOPLE {
        return Err(ApiError::InvalidInput(format!(
            "a resync carries at most {MAX_RESYNC_PEOPLE} people"
        )));
    }
    let managed: BTreeSet<u32> = request.groups.iter().copied().collect();
    check_groups(db, caller.site_id, &managed)?;
    let mut listed: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for person in &request.people {
        check_external_id(&person.external_id)?;
        let groups: BTreeSet<u32> = person.groups.iter().copied().collect();
        if let Some(outside) = groups.difference(&managed).next() {
            return Err(ApiError::InvalidInput(format!(
                "{} is listed in group {outside}, which the resync does not manage",
                person.external_id
            )));
        }
        if listed.insert(&person.external_id, groups).is_some() {
            return Err(ApiError::InvalidInput(format!(
                "{} is listed twice",
                person.external_id
            )));
        }
    }
    // What the site holds: the people the system added, their alias and managed groups.
    let held: Vec<(String, u32, Option<String>)> = rows(
        db,
        "SELECT i.external_id, i.user_id, m.alias FROM integration_people i
         JOIN memberships m ON m.site_id = i.site_id AND m.user_id = i.user_id
         WHERE i.site_id = ?1",
        [caller.site_id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let mut report = ResyncReport {
        dry_run: request.dry_run,
        ..ResyncReport::default()
    };
    let mut current: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (external_id, user_id, alias) in &held {
        let groups: BTreeSet<u32> = rows(
            db,
            "SELECT group_id FROM access_group_members WHERE user_id = ?1",
            [*user_id],
            |row| row.get(0),
        )?
        .into_iter()
        .filter(|group| managed.contains(group))
        .collect();
        current.insert(external_id, groups);
        if !listed.contains_key(external_id.as_str()) {
            report.removed.push(external_id.clone());
            continue;
        }
        if let Some(person) = request
            .people
            .iter()
            .find(|p| &p.external_id == external_id)
        {
            let wanted = format!("{} {external_id}", normalize_name(&person.name)?);
            if alias.as_deref() != Some(wanted.as_str()) {
                report.updated.push(external_id.clone());
            }
        }
    }
    let empty = BTreeSet::new();
    for (external_id, wanted) in &listed {
        let had = current.get(external_id).unwrap_or(&empty);
        if !current.contains_key(external_id) {
            report.added.push((*external_id).to_string());
        }
        report.granted.extend(
            wanted
                .difference(had)
                .map(|g| ((*external_id).to_string(), *g)),
        );
        report.revoked.extend(
            had.difference(wanted)
                .map(|g| ((*external_id).to_string(), *g)),
        );
    }
    if request.dry_run {
        return Ok(report);
    }
    for person in &request.people {
        if report.added.contains(&person.external_id)
            || report.updated.contains(&person.external_id)
        {
            let upsert = UpsertPersonRequest {
                name: person.name.clone(),
                email: person.email.clone(),
            };
            upsert_person(db, caller, &person.external_id, &upsert, public_url, now)?;
        }
    }
    for (external_id, group_id) in &report.revoked {
        set_membership(db, caller, external_id, *group_id, None, now)?;
    }
    for (external_id, group_id) in &report.granted {
        let for_good = GrantAccessRequest::default();
        set_membership(db, caller, external_id, *group_id, Some(&for_good), now)?;
    }
    for external_id in &report.removed {
        remove_person(db, caller, external_id, now)?;
    }
    Ok(report)
}
