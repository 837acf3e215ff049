//! The locks a person may open remotely, for the app and the web page.

use axum::extract::State;
use axum::Json;
use keyway_api::remote::RemoteLockView;
use rusqlite::Connection;

use super::rights::lock_schedules;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::iq::IqRegistry;
use crate::store::rows;
use crate::AppState;

/// Every lock with an IQ on the sites where `user_id` has a remote right and an access
/// group on that lock (schedules are checked when opening), with the IQ's state now.
pub(crate) fn remote_locks(
    db: &Connection,
    user_id: u32,
    iqs: &IqRegistry,
    now: i64,
) -> ApiResult<Vec<RemoteLockView>> {
    let candidates = rows(
        db,
        "SELECT s.id, s.name, l.id, l.name, l.iq_id, m.office_mode FROM memberships m
         JOIN sites s ON s.id = m.site_id
         JOIN locks l ON l.site_id = m.site_id AND l.iq_id IS NOT NULL
         WHERE m.user_id = ?1 AND (m.remote_opening = 1 OR m.office_mode = 1)
           AND m.suspended_at IS NULL
         ORDER BY s.id, l.id",
        [user_id],
        |row| {
            Ok(RemoteLockView {
                site_id: row.get(0)?,
                site_name: row.get(1)?,
                lock_id: row.get(2)?,
                name: row.get(3)?,
                iq_id: row.get(4)?,
                iq_online: false,
                office_mode: row.get(5)?,
            })
        },
    )?;
    let mut locks = Vec::with_capacity(candidates.len());
    for mut lock in candidates {
        let pod_member = matches!(
            crate::pods::remote_opening_right(db, lock.site_id, user_id, lock.lock_id),
            Ok(crate::pods::RemoteOpening::PodMember)
        );
        if pod_member || lock_schedules(db, lock.lock_id, Some(now))?.contains_key(&user_id) {
            lock.iq_online = iqs.is_online(lock.iq_id);
            locks.push(lock);
        }
    }
    Ok(locks)
}

/// The locks the caller may open remotely.
#[utoipa::path(
    get,
    path = "/api/v1/me/remote-locks",
    tag = "remote",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<RemoteLockView>))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<Json<Vec<RemoteLockView>>> {
    let iqs = std::sync::Arc::clone(&state.iqs);
    let now = state.clock.now();
    let locks = state
        .store
        .run(move |db| remote_locks(db, caller.user_id, &iqs, now))
        .await?;
    Ok(Json(locks))
}
