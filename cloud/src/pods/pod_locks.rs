//! Changing a pod's locks: members follow the pod; a guest keeps only the locks still in it.
//! Keys for removed locks are revoked at once.

use std::collections::BTreeSet;

use rusqlite::Connection;

use super::store::{lock_ids, pod_people, Pod};
use crate::error::ApiResult;
use crate::issuing::reconcile_person;

/// Makes `wanted` the pod's locks (they must be the site's: the caller checks).
pub fn set_locks(db: &Connection, pod: &Pod, wanted: &BTreeSet<u32>, now: i64) -> ApiResult<()> {
    let before: BTreeSet<u32> = lock_ids(db, pod.pod_id)?.into_iter().collect();
    for lock_id in wanted.difference(&before) {
        db.execute(
            "INSERT INTO pod_locks (pod_id, lock_id) VALUES (?1, ?2)",
            [pod.pod_id, *lock_id],
        )?;
    }
    let removed: Vec<u32> = before.difference(wanted).copied().collect();
    for lock_id in &removed {
        db.execute(
            "DELETE FROM pod_locks WHERE pod_id = ?1 AND lock_id = ?2",
            [pod.pod_id, *lock_id],
        )?;
        db.execute(
            "DELETE FROM pod_guest_locks WHERE lock_id = ?1
             AND person_id IN (SELECT id FROM pod_people WHERE pod_id = ?2)",
            [*lock_id, pod.pod_id],
        )?;
    }
    if !removed.is_empty() {
        for person in pod_people(db, pod.pod_id)? {
            if let Some(user_id) = person.user_id {
                reconcile_person(db, pod.site_id, user_id, now)?;
            }
        }
    }
    Ok(())
}
