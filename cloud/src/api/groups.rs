//! Access groups: which people open which locks when (owner and admins). Taking someone out of
//! a group, or deleting the group, revokes the keys it gave them at once.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::{
    AccessGroupView, ApiErrorBody, CreateAccessGroupRequest, SetGroupMembersRequest,
    UpdateAccessGroupRequest,
};
use keyway_protocol::credential::MAX_WINDOWS_PER_CREDENTIAL;
use keyway_protocol::ScheduleWindow;
use rusqlite::{Connection, OptionalExtension};

use super::access::MANAGING_ACCESS_GROUPS;
use super::codec;
use super::extract::{Body, Ids};
use super::hardware::Hardware;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::issuing::reconcile_person;
use crate::lock_rules::tags::check_master_key_room;
use crate::store::rows;
use crate::AppState;

fn windows(schedule: &[ScheduleWindow]) -> ApiResult<Vec<ScheduleWindow>> {
    if schedule.len() > MAX_WINDOWS_PER_CREDENTIAL {
        return Err(ApiError::InvalidInput(format!(
            "schedule may have at most {MAX_WINDOWS_PER_CREDENTIAL} windows"
        )));
    }
    schedule
        .iter()
        .enumerate()
        .map(|(index, window)| {
            ScheduleWindow::new(window.days, window.start_minute, window.end_minute).map_err(
                |error| ApiError::InvalidInput(format!("schedule window {index}: {error}")),
            )
        })
        .collect()
}

pub(super) fn check_locks(
    db: &Connection,
    site_id: u32,
    lock_ids: &BTreeSet<u32>,
) -> ApiResult<()> {
    for lock_id in lock_ids {
        if !Hardware::Lock.belongs_to(db, site_id, *lock_id)? {
            return Err(ApiError::InvalidInput(format!(
                "lock {lock_id} is not a lock of this site"
            )));
        }
        if crate::lock_rules::lockers::is_locker(db, *lock_id)? {
            return Err(ApiError::InvalidInput(format!(
                "lock {lock_id} is a locker: who opens it is its assignment"
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_people(
    db: &Connection,
    site_id: u32,
    user_ids: &BTreeSet<u32>,
) -> ApiResult<()> {
    for user_id in user_ids {
        let member = db
            .query_row(
                "SELECT 1 FROM memberships WHERE site_id = ?1 AND user_id = ?2",
                [site_id, *user_id],
                |_| Ok(()),
            )
            .optional()?;
        if member.is_none() {
            return Err(ApiError::InvalidInput(format!(
                "user {user_id} is not a person of this site"
            )));
        }
    }
    Ok(())
}

/// An access group of the site, or 404.
pub(crate) fn group(db: &Connection, site_id: u32, group_id: u32) -> ApiResult<AccessGroupView> {
    let name: String = db
        .query_row(
            "SELECT name FROM access_groups WHERE id = ?1 AND site_id = ?2",
            [group_id, site_id],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no access group {group_id} on this site")))?;
    let schedule = rows(
        db,
        "SELECT days, start_minute, end_minute FROM access_group_windows
         WHERE group_id = ?1 ORDER BY rowid",
        [group_id],
        |row| {
            Ok(ScheduleWindow {
                days: row.get(0)?,
                start_minute: row.get(1)?,
                end_minute: row.get(2)?,
            })
        },
    )?;
    Ok(AccessGroupView {
        group_id,
        site_id,
        name,
        lock_ids: rows(
            db,
            "SELECT lock_id FROM access_group_locks WHERE group_id = ?1 ORDER BY lock_id",
            [group_id],
            |row| row.get(0),
        )?,
        user_ids: rows(
            db,
            "SELECT user_id FROM access_group_members WHERE group_id = ?1 ORDER BY user_id",
            [group_id],
            |row| row.get(0),
        )?,
        schedule,
    })
}

/// The site's access groups.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/access-groups",
    tag = "access",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<AccessGroupView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_groups(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<AccessGroupView>>> {
    Ok(Json(site_groups(&state, caller.user_id, site_id).await?))
}

/// The access groups of `site_id`, for its owner and admins (the JSON list and the
/// console's Access groups page).
pub(crate) async fn site_groups(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<AccessGroupView>> {
    MANAGING_ACCESS_GROUPS
        .read(state, site_id, user_id, move |db| {
            rows(
                db,
                "SELECT id FROM access_groups WHERE site_id = ?1 ORDER BY id",
                [site_id],
                |row| row.get(0),
            )?
            .into_iter()
            .map(|group_id| group(db, site_id, group_id))
            .collect()
        })
        .await
}

/// One access group of `site_id`, for its owner and admins.
pub(crate) async fn one_group(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    group_id: u32,
) -> ApiResult<AccessGroupView> {
    MANAGING_ACCESS_GROUPS
        .read(state, site_id, user_id, move |db| {
            group(db, site_id, group_id)
        })
        .await
}

/// Creates an access group; its locks and people must be the site's.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/access-groups",
    tag = "access",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = CreateAccessGroupRequest,
    responses(
        (status = 201, body = AccessGroupView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn create_group(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<CreateAccessGroupRequest>,
) -> ApiResult<(StatusCode, Json<AccessGroupView>)> {
    let view = create(&state, caller.user_id, site_id, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `user_id` makes an access group on `site_id` (the JSON API and the console's form).
pub(crate) async fn create(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    request: CreateAccessGroupRequest,
) -> ApiResult<AccessGroupView> {
    let name = codec::name("name", &request.name)?;
    let schedule = windows(&request.schedule)?;
    let lock_ids: BTreeSet<u32> = request.lock_ids.into_iter().collect();
    let user_ids: BTreeSet<u32> = request.user_ids.into_iter().collect();
    let now = state.clock.now();
    MANAGING_ACCESS_GROUPS
        .write(state, site_id, user_id, move |tx| {
            let group = NewGroup {
                name: &name,
                lock_ids: &lock_ids,
                user_ids: &user_ids,
                schedule: &schedule,
            };
            insert_group(tx, site_id, group, now)
        })
        .await
}

/// Renames an access group (the caller checked the name and who may).
pub(crate) fn rename(tx: &Connection, group_id: u32, name: &str) -> ApiResult<()> {
    tx.execute(
        "UPDATE access_groups SET name = ?1 WHERE id = ?2",
        rusqlite::params![name, group_id],
    )?;
    Ok(())
}

fn insert_locks(tx: &Connection, group_id: u32, lock_ids: &BTreeSet<u32>) -> ApiResult<()> {
    for lock_id in lock_ids {
        tx.execute(
            "INSERT INTO access_group_locks (group_id, lock_id) VALUES (?1, ?2)",
            [group_id, *lock_id],
        )?;
    }
    Ok(())
}

fn insert_windows(tx: &Connection, group_id: u32, schedule: &[ScheduleWindow]) -> ApiResult<()> {
    for window in schedule {
        tx.execute(
            "INSERT INTO access_group_windows (group_id, days, start_minute, end_minute)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                group_id,
                window.days,
                window.start_minute,
                window.end_minute
            ],
        )?;
    }
    Ok(())
}

/// Changes an access group's name, locks or weekly schedule; its people lose at once the
/// keys that granted a lock or an hour it no longer gives, and get the new ones at their
/// next sync (the live channel tells their phones).
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site_id}/access-groups/{group_id}",
    tag = "access",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("group_id" = u32, Path, description = "Access group id"),
    ),
    request_body = UpdateAccessGroupRequest,
    responses(
        (status = 200, body = AccessGroupView),
        (status = 400, body = ApiErrorBody, description = "A bad name or window, a lock of another site or a locker"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "A locker's assignment (`conflict`), or a lock would hold more than 39 master keys (`too_many_master_keys`)"),
    )
)]
pub(super) async fn update_group(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, group_id)): Ids<(u32, u32)>,
    Body(request): Body<UpdateAccessGroupRequest>,
) -> ApiResult<Json<AccessGroupView>> {
    Ok(Json(
        update(&state, caller.user_id, (site_id, group_id), request).await?,
    ))
}

/// `user_id` changes an access group (the JSON API and the console's group page): fields
/// left out stay; its people's keys follow the change as a membership change's do.
pub(crate) async fn update(
    state: &AppState,
    user_id: u32,
    (site_id, group_id): (u32, u32),
    request: UpdateAccessGroupRequest,
) -> ApiResult<AccessGroupView> {
    let name = request
        .name
        .as_deref()
        .map(|name| codec::name("name", name))
        .transpose()?;
    let schedule = request.schedule.as_deref().map(windows).transpose()?;
    let lock_ids: Option<BTreeSet<u32>> = request
        .lock_ids
        .map(|lock_ids| lock_ids.into_iter().collect());
    let now = state.clock.now();
    MANAGING_ACCESS_GROUPS
        .write(state, site_id, user_id, move |tx| {
            let people = holders(tx, site_id, group_id)?;
            check_not_a_locker(tx, group_id)?;
            if let Some(name) = &name {
                rename(tx, group_id, name)?;
            }
            if let Some(lock_ids) = &lock_ids {
                check_locks(tx, site_id, lock_ids)?;
                tx.execute(
                    "DELETE FROM access_group_locks WHERE group_id = ?1",
                    [group_id],
                )?;
                insert_locks(tx, group_id, lock_ids)?;
            }
            if let Some(schedule) = &schedule {
                tx.execute(
                    "DELETE FROM access_group_windows WHERE group_id = ?1",
                    [group_id],
                )?;
                insert_windows(tx, group_id, schedule)?;
            }
            check_master_key_room(tx, site_id)?;
            for user_id in &people {
                reconcile_person(tx, site_id, *user_id, now)?;
            }
            group(tx, site_id, group_id)
        })
        .await
}

/// An access group to make: name, locks, people and weekly windows, already checked for form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewGroup<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its locks (the site's, not lockers).
    pub lock_ids: &'a BTreeSet<u32>,
    /// Its people (the site's).
    pub user_ids: &'a BTreeSet<u32>,
    /// When it opens.
    pub schedule: &'a [ScheduleWindow],
}

/// Makes an access group on `site_id` in the caller's transaction (the caller checked who may):
/// its locks and people must be the site's; refused when a lock would hold more than 39
/// master keys.
pub(crate) fn insert_group(
    tx: &Connection,
    site_id: u32,
    new: NewGroup<'_>,
    now: i64,
) -> ApiResult<AccessGroupView> {
    check_locks(tx, site_id, new.lock_ids)?;
    check_people(tx, site_id, new.user_ids)?;
    tx.execute(
        "INSERT INTO access_groups (site_id, name, created_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![site_id, new.name, now],
    )?;
    let group_id = u32::try_from(tx.last_insert_rowid())
        .map_err(|_| ApiError::Internal("group id out of range".into()))?;
    insert_locks(tx, group_id, new.lock_ids)?;
    for user_id in new.user_ids {
        tx.execute(
            "INSERT INTO access_group_members (group_id, user_id) VALUES (?1, ?2)",
            [group_id, *user_id],
        )?;
    }
    insert_windows(tx, group_id, new.schedule)?;
    check_master_key_room(tx, site_id)?;
    group(tx, site_id, group_id)
}

/// Replaces the group's people; those left out lose its keys at once.
#[utoipa::path(
    put,
    path = "/api/v1/sites/{site_id}/access-groups/{group_id}/members",
    tag = "access",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("group_id" = u32, Path, description = "Access group id"),
    ),
    request_body = SetGroupMembersRequest,
    responses(
        (status = 200, body = AccessGroupView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "A locker's assignment (`conflict`)"),
    )
)]
pub(super) async fn set_members(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, group_id)): Ids<(u32, u32)>,
    Body(request): Body<SetGroupMembersRequest>,
) -> ApiResult<Json<AccessGroupView>> {
    Ok(Json(
        set_group_members(&state, caller.user_id, (site_id, group_id), request).await?,
    ))
}

/// `caller_id` sets who is in an access group (the JSON API and the console's forms): those
/// taken out lose the keys it gave them at once.
pub(crate) async fn set_group_members(
    state: &AppState,
    caller_id: u32,
    (site_id, group_id): (u32, u32),
    request: SetGroupMembersRequest,
) -> ApiResult<AccessGroupView> {
    let user_ids: BTreeSet<u32> = request.user_ids.into_iter().collect();
    let now = state.clock.now();
    MANAGING_ACCESS_GROUPS
        .write(state, site_id, caller_id, move |tx| {
            check_not_a_locker(tx, group_id)?;
            replace_members(tx, site_id, group_id, &user_ids, now)
        })
        .await
}

/// 409 for the group a locker owns: its people are the locker's assignment.
fn check_not_a_locker(db: &Connection, group_id: u32) -> ApiResult<()> {
    let locker: Option<u32> = db
        .query_row(
            "SELECT locker_lock_id FROM access_groups WHERE id = ?1",
            [group_id],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    match locker {
        None => Ok(()),
        Some(lock_id) => Err(ApiError::Conflict(format!(
            "this group is locker {lock_id}'s assignment: change the locker instead"
        ))),
    }
}

/// Replaces a group's people (who must be people of the site); those left out lose its keys
/// at once. Refused when a lock would hold more than 39 master keys.
pub(crate) fn replace_members(
    tx: &Connection,
    site_id: u32,
    group_id: u32,
    user_ids: &BTreeSet<u32>,
    now: i64,
) -> ApiResult<AccessGroupView> {
    let before: BTreeSet<u32> = group(tx, site_id, group_id)?.user_ids.into_iter().collect();
    check_people(tx, site_id, user_ids)?;
    for user_id in before.difference(user_ids) {
        tx.execute(
            "DELETE FROM access_group_members WHERE group_id = ?1 AND user_id = ?2",
            [group_id, *user_id],
        )?;
    }
    for user_id in user_ids.difference(&before) {
        tx.execute(
            "INSERT INTO access_group_members (group_id, user_id) VALUES (?1, ?2)",
            [group_id, *user_id],
        )?;
    }
    check_master_key_room(tx, site_id)?;
    for user_id in before.difference(user_ids) {
        reconcile_person(tx, site_id, *user_id, now)?;
    }
    group(tx, site_id, group_id)
}

/// Deletes an access group; its people lose its keys at once.
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site_id}/access-groups/{group_id}",
    tag = "access",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("group_id" = u32, Path, description = "Access group id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "A locker's assignment (`conflict`)"),
    )
)]
pub(super) async fn delete_group(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, group_id)): Ids<(u32, u32)>,
) -> ApiResult<StatusCode> {
    delete(&state, caller.user_id, site_id, group_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `user_id` deletes an access group (the JSON API and the console's form): its members lose
/// the keys it gave them at once.
pub(crate) async fn delete(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    group_id: u32,
) -> ApiResult<()> {
    let now = state.clock.now();
    MANAGING_ACCESS_GROUPS
        .write(state, site_id, user_id, move |tx| {
            delete_group_in(tx, site_id, group_id, now)
        })
        .await
}

/// Deletes an access group of `site_id` in the caller's transaction (the caller checked who
/// may): 404 when it is not the site's, 409 for a locker's; its members lose its keys at once.
pub(crate) fn delete_group_in(
    tx: &Connection,
    site_id: u32,
    group_id: u32,
    now: i64,
) -> ApiResult<()> {
    let people = holders(tx, site_id, group_id)?;
    check_not_a_locker(tx, group_id)?;
    // Bookings of the group go first, their people one by one (each tells their phones).
    tx.execute(
        "DELETE FROM booking_people WHERE booking_id IN
         (SELECT id FROM bookings WHERE group_id = ?1)",
        [group_id],
    )?;
    tx.execute("DELETE FROM access_groups WHERE id = ?1", [group_id])?;
    people
        .into_iter()
        .try_for_each(|user_id| reconcile_person(tx, site_id, user_id, now))
}

/// Everybody whose keys come from the group (404 when it is not the site's): its members and
/// the people of its bookings.
fn holders(tx: &Connection, site_id: u32, group_id: u32) -> ApiResult<BTreeSet<u32>> {
    let mut people: BTreeSet<u32> = group(tx, site_id, group_id)?.user_ids.into_iter().collect();
    people.extend(rows(
        tx,
        "SELECT p.user_id FROM booking_people p JOIN bookings b ON b.id = p.booking_id
         WHERE b.group_id = ?1",
        [group_id],
        |row| row.get::<_, u32>(0),
    )?);
    Ok(people)
}
