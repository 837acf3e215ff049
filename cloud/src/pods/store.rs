//! Pod rows (`pods`, `pod_locks`, `pod_people`, `pod_guest_locks`) and the API views built
//! from them.

use keyway_api::pods::{GuestView, MyPodView, PodMemberView, PodPersonStatus, PodRole, PodView};
use keyway_api::LockRef;
use rusqlite::{Connection, OptionalExtension, Params};

use crate::error::{ApiError, ApiResult};
use crate::issuing::plan::Stay;
use crate::store::rows;

/// A pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// Pod id.
    pub pod_id: u32,
    /// Its site.
    pub site_id: u32,
    /// Name.
    pub name: String,
}

/// A pod by id, or 404.
pub fn pod(db: &Connection, pod_id: u32) -> ApiResult<Pod> {
    db.query_row(
        "SELECT id, site_id, name FROM pods WHERE id = ?1",
        [pod_id],
        |row| {
            Ok(Pod {
                pod_id: row.get(0)?,
                site_id: row.get(1)?,
                name: row.get(2)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no pod {pod_id}")))
}

/// Member or guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A member.
    Member,
    /// A guest.
    Guest,
}

impl Kind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Guest => "guest",
        }
    }
}

/// One row of `pod_people`: a member or guest, invited or joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodPerson {
    /// Row id (the member or guest id in the API).
    pub id: u32,
    /// The pod.
    pub pod_id: u32,
    /// The pod's site.
    pub site_id: u32,
    /// Member or guest.
    pub kind: Kind,
    /// E-mail (normalised).
    pub email: String,
    /// Name.
    pub name: String,
    /// The account, once joined.
    pub user_id: Option<u32>,
    /// Who invited them (a member for guests, an admin for members).
    pub invited_by: Option<u32>,
    /// A guest's check-in/check-out.
    pub stay: Option<Stay>,
    /// When a guest was blocked.
    pub blocked_at: Option<i64>,
    /// Joining created their site membership.
    pub owns_membership: bool,
    /// Joining as a member turned their remote opening on.
    pub granted_remote: bool,
}

const PERSON_COLUMNS: &str = "SELECT id, pod_id, site_id, kind, email, name, user_id, \
     invited_by, valid_from, valid_until, blocked_at, owns_membership, granted_remote \
     FROM pod_people";

fn person_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PodPerson> {
    let kind: String = row.get(3)?;
    let from: Option<i64> = row.get(8)?;
    let until: Option<i64> = row.get(9)?;
    Ok(PodPerson {
        id: row.get(0)?,
        pod_id: row.get(1)?,
        site_id: row.get(2)?,
        kind: if kind == "guest" {
            Kind::Guest
        } else {
            Kind::Member
        },
        email: row.get(4)?,
        name: row.get(5)?,
        user_id: row.get(6)?,
        invited_by: row.get(7)?,
        stay: from.zip(until).map(|(from, until)| Stay { from, until }),
        blocked_at: row.get(10)?,
        owns_membership: row.get(11)?,
        granted_remote: row.get(12)?,
    })
}

/// The people matching `condition`, a fixed `WHERE` clause over `pod_people` written in this
/// crate (values always go in `params`, never into the clause), by id.
pub fn people_where(
    db: &Connection,
    condition: &str,
    params: impl Params,
) -> ApiResult<Vec<PodPerson>> {
    let sql = format!("{PERSON_COLUMNS} WHERE {condition} ORDER BY id");
    Ok(rows(db, &sql, params, person_from_row)?)
}

/// A member or guest of `pod_id` by id, or 404.
pub fn person_in_pod(db: &Connection, pod_id: u32, id: u32, kind: Kind) -> ApiResult<PodPerson> {
    people_where(
        db,
        "pod_id = ?1 AND id = ?2 AND kind = ?3",
        rusqlite::params![pod_id, id, kind.as_str()],
    )?
    .into_iter()
    .next()
    .ok_or_else(|| ApiError::NotFound(format!("no {} {id} in this pod", kind.as_str())))
}

/// Everyone in a pod, invited or joined.
pub fn pod_people(db: &Connection, pod_id: u32) -> ApiResult<Vec<PodPerson>> {
    people_where(db, "pod_id = ?1", [pod_id])
}

/// The pod rows of a person who joined, on one site.
pub fn joined_rows(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<Vec<PodPerson>> {
    people_where(db, "site_id = ?1 AND user_id = ?2", [site_id, user_id])
}

/// The pod's lock ids, ascending.
pub fn lock_ids(db: &Connection, pod_id: u32) -> ApiResult<Vec<u32>> {
    ids(
        db,
        "SELECT lock_id FROM pod_locks WHERE pod_id = ?1 ORDER BY lock_id",
        pod_id,
    )
}

/// A guest's lock ids, ascending.
pub fn guest_lock_ids(db: &Connection, guest_id: u32) -> ApiResult<Vec<u32>> {
    ids(
        db,
        "SELECT lock_id FROM pod_guest_locks WHERE person_id = ?1 ORDER BY lock_id",
        guest_id,
    )
}

fn ids(db: &Connection, sql: &str, id: u32) -> ApiResult<Vec<u32>> {
    Ok(rows(db, sql, [id], |row| row.get(0))?)
}

/// Locks with their names, in the order given (unknown ids are skipped).
pub fn lock_refs(db: &Connection, lock_ids: &[u32]) -> ApiResult<Vec<LockRef>> {
    let mut statement = db.prepare("SELECT name FROM locks WHERE id = ?1")?;
    let mut refs = Vec::with_capacity(lock_ids.len());
    for lock_id in lock_ids {
        let name: Option<String> = statement
            .query_row([lock_id], |row| row.get(0))
            .optional()?;
        if let Some(name) = name {
            refs.push(LockRef {
                lock_id: *lock_id,
                name,
            });
        }
    }
    Ok(refs)
}

/// When the person's unredeemed invitation expires (none once redeemed).
pub fn invitation_expiry(db: &Connection, person_id: u32) -> ApiResult<Option<i64>> {
    Ok(db
        .query_row(
            "SELECT MAX(expires_at) FROM pod_invitations WHERE person_id = ?1 AND used_at IS NULL",
            [person_id],
            |row| row.get(0),
        )
        .optional()?
        .flatten())
}

/// Where a member or guest stands at `now`.
pub fn status(person: &PodPerson, invitation_expires_at: Option<i64>, now: i64) -> PodPersonStatus {
    if person.blocked_at.is_some() {
        return PodPersonStatus::Blocked;
    }
    if person.stay.is_some_and(|stay| stay.until <= now) {
        return PodPersonStatus::Expired;
    }
    match (person.user_id, invitation_expires_at) {
        (Some(_), _) => PodPersonStatus::Active,
        (None, Some(expires_at)) if expires_at > now => PodPersonStatus::Invited,
        (None, _) => PodPersonStatus::Expired,
    }
}

/// Whether a joined person has used Keyway since (their site membership is claimed). Until
/// then a member added with an existing account looks like one invited by e-mail, so adding
/// an address to a pod tells nobody whether it has an account.
fn claimed(db: &Connection, person: &PodPerson) -> ApiResult<bool> {
    let Some(user_id) = person.user_id else {
        return Ok(false);
    };
    Ok(db
        .query_row(
            "SELECT claimed_at IS NOT NULL FROM memberships WHERE site_id = ?1 AND user_id = ?2",
            [person.site_id, user_id],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// The pod as its admins and members see it.
pub fn pod_view(db: &Connection, pod: &Pod, now: i64) -> ApiResult<PodView> {
    let mut members = Vec::new();
    let (mut guests_invited, mut guests_active) = (0, 0);
    for person in pod_people(db, pod.pod_id)? {
        let status = status(&person, invitation_expiry(db, person.id)?, now);
        match person.kind {
            Kind::Member if person.user_id.is_some() && !claimed(db, &person)? => {
                members.push(PodMemberView {
                    member_id: person.id,
                    user_id: None,
                    email: person.email,
                    name: person.name,
                    status: PodPersonStatus::Invited,
                })
            }
            Kind::Member => members.push(PodMemberView {
                member_id: person.id,
                user_id: person.user_id,
                email: person.email,
                name: person.name,
                status,
            }),
            Kind::Guest => match status {
                PodPersonStatus::Invited => guests_invited += 1,
                PodPersonStatus::Active => guests_active += 1,
                PodPersonStatus::Blocked | PodPersonStatus::Expired => {}
            },
        }
    }
    Ok(PodView {
        pod_id: pod.pod_id,
        site_id: pod.site_id,
        name: pod.name.clone(),
        locks: lock_refs(db, &lock_ids(db, pod.pod_id)?)?,
        members,
        guests_invited,
        guests_active,
    })
}

/// A guest and their rights.
pub fn guest_view(db: &Connection, guest: &PodPerson, now: i64) -> ApiResult<GuestView> {
    let expiry = invitation_expiry(db, guest.id)?;
    let stay = guest
        .stay
        .ok_or_else(|| ApiError::Internal(format!("guest {} has no timeframe", guest.id)))?;
    Ok(GuestView {
        guest_id: guest.id,
        pod_id: guest.pod_id,
        email: guest.email.clone(),
        name: guest.name.clone(),
        user_id: guest.user_id,
        invited_by: guest.invited_by,
        locks: lock_refs(db, &guest_lock_ids(db, guest.id)?)?,
        from: stay.from,
        until: stay.until,
        status: status(guest, expiry, now),
        digital_key: true,
        remote_opening: false,
        invitation_expires_at: expiry,
    })
}

/// A joined person's pod and rights there.
pub fn my_pod_view(db: &Connection, person: &PodPerson, now: i64) -> ApiResult<MyPodView> {
    let (pod_name, site_name): (String, String) = db.query_row(
        "SELECT p.name, s.name FROM pods p JOIN sites s ON s.id = p.site_id WHERE p.id = ?1",
        [person.pod_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let (role, lock_ids) = match person.kind {
        Kind::Member => (PodRole::Member, lock_ids(db, person.pod_id)?),
        Kind::Guest => (PodRole::Guest, guest_lock_ids(db, person.id)?),
    };
    Ok(MyPodView {
        pod_id: person.pod_id,
        pod_name,
        site_id: person.site_id,
        site_name,
        role,
        locks: lock_refs(db, &lock_ids)?,
        digital_key: true,
        remote_opening: role == PodRole::Member,
        from: person.stay.map(|stay| stay.from),
        until: person.stay.map(|stay| stay.until),
        status: status(person, None, now),
    })
}
