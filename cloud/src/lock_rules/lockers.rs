//! XS4 locker locks (manual 000): a lock of kind `locker`, assigned to one person (`fixed`)
//! or several (`family`). The assignment is an access group the locker owns, so keys, tags,
//! keypad PINs and the IQ follow it like any group's. Admins monitor each locker (door,
//! battery, who opened it last) and may open it in an emergency, through its IQ and logged.

use std::collections::BTreeSet;

use keyway_api::lock_rules::{LockerAssignment, LockerView, SetLockerRequest};
use keyway_api::Role;
use rusqlite::{Connection, OptionalExtension};

use super::reports::{state_from_row, STATE_COLUMNS};
use crate::api::access::role_on_site;
use crate::api::groups::replace_members;
use crate::error::{ApiError, ApiResult};
use crate::remote::error::{RemoteError, RemoteResult};
use crate::remote::rights::RemoteRight;
use crate::store::rows;

fn assignment_name(assignment: LockerAssignment) -> &'static str {
    match assignment {
        LockerAssignment::Fixed => "fixed",
        LockerAssignment::Family => "family",
    }
}

/// Whether the lock is a locker (its assignment alone says who opens it).
pub fn is_locker(db: &Connection, lock_id: u32) -> ApiResult<bool> {
    Ok(db
        .query_row(
            "SELECT kind = 'locker' FROM locks WHERE id = ?1",
            [lock_id],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// Makes the lock a locker and sets who uses it (the caller checked the role). A lock that
/// ordinary access groups or pods open is refused: take it out of them first.
pub fn set_locker(
    tx: &Connection,
    site_id: u32,
    lock_id: u32,
    request: &SetLockerRequest,
    now: i64,
) -> ApiResult<LockerView> {
    let users: BTreeSet<u32> = request.user_ids.iter().copied().collect();
    if request.assignment == LockerAssignment::Fixed && users.len() > 1 {
        return Err(ApiError::InvalidInput(
            "a fixed-assignment locker is for one person: use a family locker for several".into(),
        ));
    }
    let name: String = tx
        .query_row(
            "SELECT name FROM locks WHERE id = ?1 AND site_id = ?2",
            [lock_id, site_id],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no lock {lock_id} on this site")))?;
    let shared: Option<String> = tx
        .query_row(
            "SELECT g.name FROM access_group_locks gl JOIN access_groups g ON g.id = gl.group_id
             WHERE gl.lock_id = ?1 AND g.locker_lock_id IS NULL
             UNION ALL SELECT p.name FROM pod_locks pl JOIN pods p ON p.id = pl.pod_id
             WHERE pl.lock_id = ?1 LIMIT 1",
            [lock_id],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(other) = shared {
        return Err(ApiError::Conflict(format!(
            "lock {lock_id} is opened through \"{other}\": take it out of that group or pod \
             before making it a locker"
        )));
    }
    tx.execute(
        "UPDATE locks SET kind = 'locker', locker_assignment = ?1 WHERE id = ?2",
        rusqlite::params![assignment_name(request.assignment), lock_id],
    )?;
    let existing: Option<u32> = tx
        .query_row(
            "SELECT id FROM access_groups WHERE locker_lock_id = ?1",
            [lock_id],
            |row| row.get(0),
        )
        .optional()?;
    let group_id = match existing {
        Some(group_id) => group_id,
        None => {
            tx.execute(
                "INSERT INTO access_groups (site_id, name, created_at, locker_lock_id)
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![site_id, format!("Locker: {name}"), now, lock_id],
            )?;
            let group_id = u32::try_from(tx.last_insert_rowid())
                .map_err(|_| ApiError::Internal("group id out of range".into()))?;
            tx.execute(
                "INSERT INTO access_group_locks (group_id, lock_id) VALUES (?1, ?2)",
                [group_id, lock_id],
            )?;
            group_id
        }
    };
    replace_members(tx, site_id, group_id, &users, now)?;
    locker(tx, site_id, lock_id)
}

const LOCKER_HEAD: &str = "SELECT l.id, l.name, l.locker_assignment, e.user_id, e.time,
    (SELECT g.id FROM access_groups g WHERE g.locker_lock_id = l.id), ";
const LOCKER_FROM: &str = "FROM locks l LEFT JOIN lock_events e ON e.lock_id = l.id AND e.seq = (
        SELECT MAX(seq) FROM lock_events
        WHERE lock_id = l.id AND granted AND user_id != 0)
    WHERE l.kind = 'locker'";

/// The lockers' query up to its `WHERE l.kind = 'locker'`, for more conditions.
fn lockers_sql(more: &str) -> String {
    format!("{LOCKER_HEAD}{STATE_COLUMNS} {LOCKER_FROM} {more}")
}

fn locker_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(LockerView, Option<u32>)> {
    let assignment: String = row.get(2)?;
    Ok((
        LockerView {
            lock_id: row.get(0)?,
            name: row.get(1)?,
            assignment: if assignment == "fixed" {
                LockerAssignment::Fixed
            } else {
                LockerAssignment::Family
            },
            user_ids: Vec::new(),
            occupied: false,
            state: state_from_row(row, 6)?,
            last_opened_by: row.get(3)?,
            last_opened_at: row.get(4)?,
        },
        row.get(5)?,
    ))
}

fn with_users(db: &Connection, found: (LockerView, Option<u32>)) -> ApiResult<LockerView> {
    let (mut view, group_id) = found;
    if let Some(group_id) = group_id {
        view.user_ids = rows(
            db,
            "SELECT user_id FROM access_group_members WHERE group_id = ?1 ORDER BY user_id",
            [group_id],
            |row| row.get(0),
        )?;
    }
    view.occupied = !view.user_ids.is_empty();
    Ok(view)
}

/// A locker of the site, or 404.
pub fn locker(db: &Connection, site_id: u32, lock_id: u32) -> ApiResult<LockerView> {
    let found = db
        .query_row(
            &lockers_sql("AND l.id = ?1 AND l.site_id = ?2"),
            [lock_id, site_id],
            locker_from_row,
        )
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no locker {lock_id} on this site")))?;
    with_users(db, found)
}

/// The site's lockers, by id.
pub fn list(db: &Connection, site_id: u32) -> ApiResult<Vec<LockerView>> {
    let sql = lockers_sql("AND l.site_id = ?1 ORDER BY l.id");
    rows(db, &sql, [site_id], locker_from_row)?
        .into_iter()
        .map(|found| with_users(db, found))
        .collect()
}

/// Whether `user_id` may open the locker in an emergency: the owner or an admin of the site,
/// a locker there, attached to an IQ. The grant overrides privacy mode.
pub(crate) fn check_emergency_right(
    db: &Connection,
    site_id: u32,
    lock_id: u32,
    user_id: u32,
) -> RemoteResult<RemoteRight> {
    let role = role_on_site(db, site_id, user_id)?;
    if !matches!(role, Role::Owner | Role::Admin) {
        return Err(RemoteError::Api(ApiError::Forbidden(
            "only the site owner and admins may open a locker in an emergency".into(),
        )));
    }
    let iq_id: Option<u32> = db
        .query_row(
            "SELECT iq_id FROM locks WHERE id = ?1 AND site_id = ?2 AND kind = 'locker'",
            [lock_id, site_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("no locker {lock_id} on this site")))?;
    Ok(RemoteRight {
        iq_id: iq_id.ok_or(RemoteError::NoIq)?,
        privacy_override: true,
        office_mode: false,
    })
}
