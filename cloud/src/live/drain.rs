//! Draining the `live_outbox` table into notices once the writes that filled it committed.

use std::collections::{BTreeMap, BTreeSet};

use keyway_api::live::LiveNotice;
use rusqlite::Connection;

use super::NoticeBus;
use crate::error::ApiError;
use crate::iq::push_site_config;
use crate::store::rows;
use crate::AppState;

/// Rows one pass takes at most (a site-wide change writes one row per revoked key).
const ROWS_PER_PASS: u32 = 10_000;

/// What one pass found: each person once per kind, the sites whose denylist changed, and the
/// sites whose IQs need a fresh configuration.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Person → the kinds of change that concern them.
    pub people: BTreeMap<u32, BTreeSet<Kind>>,
    /// Sites whose denylist changed.
    pub denylists: BTreeSet<u32>,
    /// Sites where something an IQ holds may have changed (every kind: IQs also hand the
    /// site's revocations to their locks).
    pub iq_sites: BTreeSet<u32>,
    /// Accounts with a login revoked: their streams close.
    pub revoked_logins: BTreeSet<u32>,
}

/// A kind of change, as the outbox's `kind` column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Digital keys.
    Keys,
    /// Pods.
    Pods,
    /// Remote opening rights.
    Remote,
}

impl Kind {
    /// The notice that tells a person of this kind of change.
    pub fn notice(self) -> LiveNotice {
        match self {
            Self::Keys => LiveNotice::KeysChanged,
            Self::Pods => LiveNotice::PodsChanged,
            Self::Remote => LiveNotice::RemoteRightsChanged,
        }
    }
}

/// Takes (and deletes) what the outbox holds, merged.
pub fn take(db: &Connection) -> Result<Drained, ApiError> {
    let taken = rows(
        db,
        "SELECT id, user_id, site_id, kind FROM live_outbox ORDER BY id LIMIT ?1",
        [ROWS_PER_PASS],
        |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<u32>>(1)?,
                row.get::<_, Option<u32>>(2)?,
                row.get::<_, String>(3)?,
            ))
        },
    )?;
    let mut drained = Drained::default();
    let Some(last) = taken.last().map(|(id, ..)| *id) else {
        return Ok(drained);
    };
    db.prepare_cached("DELETE FROM live_outbox WHERE id <= ?1")?
        .execute([last])?;
    for (_, user_id, site_id, kind) in taken {
        let kind = match kind.as_str() {
            "keys" => Kind::Keys,
            "pods" => Kind::Pods,
            "remote" => Kind::Remote,
            "denylist" => {
                drained.denylists.extend(site_id);
                drained.iq_sites.extend(site_id);
                continue;
            }
            "session" => {
                drained.revoked_logins.extend(user_id);
                continue;
            }
            _ => {
                drained.iq_sites.extend(site_id);
                continue;
            }
        };
        drained.iq_sites.extend(site_id);
        if let Some(user_id) = user_id {
            drained.people.entry(user_id).or_default().insert(kind);
        }
    }
    Ok(drained)
}

/// Of `connected`, those with a claimed place on `site_id`.
fn connected_on_site(
    db: &Connection,
    site_id: u32,
    connected: &[u32],
) -> Result<Vec<u32>, ApiError> {
    let mut statement = db.prepare_cached(
        "SELECT 1 FROM memberships WHERE site_id = ?1 AND user_id = ?2 AND claimed_at IS NOT NULL",
    )?;
    let mut found = Vec::new();
    for user_id in connected {
        if statement.exists(rusqlite::params![site_id, user_id])? {
            found.push(*user_id);
        }
    }
    Ok(found)
}

/// One pass: takes the outbox, pushes a fresh configuration to the connected IQs of every site
/// it names, and publishes its notices; a site-wide denylist notice goes to the people of the
/// site who have a stream open on this instance. Returns whether it took anything (the next
/// pass then runs at once: a pass takes at most a bounded number of rows).
pub async fn pass(state: &AppState) -> Result<bool, ApiError> {
    let hub = &state.live;
    // One pass at a time: a pass that finds nothing has waited for the one before it, whose
    // pushes and notices are then out.
    let _one_pass = hub.passes.lock().await;
    let wake = state.store.live_wake();
    let counted = std::sync::Arc::clone(&wake);
    let connected = hub.connected_accounts();
    // One transaction: rows are deleted only with a pass that read everything it needs.
    let (upto, drained, denylist_audiences) = state
        .store
        .transaction(move |db| {
            let upto = counted.written();
            let drained = take(db)?;
            let mut audiences = Vec::new();
            for site_id in &drained.denylists {
                audiences.push((*site_id, connected_on_site(db, *site_id, &connected)?));
            }
            Ok::<_, ApiError>((upto, drained, audiences))
        })
        .await?;
    let took = !drained.people.is_empty()
        || !drained.denylists.is_empty()
        || !drained.iq_sites.is_empty()
        || !drained.revoked_logins.is_empty();
    for user_id in &drained.revoked_logins {
        hub.close_account(*user_id);
    }
    for site_id in &drained.iq_sites {
        push_site_config(state, *site_id).await;
    }
    let bus: &dyn NoticeBus = hub.as_ref();
    for (user_id, kinds) in &drained.people {
        for kind in kinds {
            bus.publish(&[*user_id], &kind.notice());
        }
    }
    for (site_id, people) in denylist_audiences {
        bus.publish(&people, &LiveNotice::DenylistChanged { site_id });
    }
    wake.mark_drained(upto);
    Ok(took)
}

/// Drains until the outbox is empty (the API runs it after each write, before answering, so
/// that a change has reached the IQs and the open streams when its request returns).
pub async fn drain_now(state: &AppState) {
    loop {
        match pass(state).await {
            Ok(true) => continue,
            Ok(false) => return,
            Err(error) => {
                tracing::error!(%error, "live notices could not be drained");
                return;
            }
        }
    }
}

/// The drain task, for writes made outside a request (background jobs): a pass whenever a
/// write left notices, until aborted.
pub async fn run(state: AppState) {
    let wake = state.store.live_wake();
    loop {
        wake.notified().await;
        drain_now(&state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::store::Store;

    const SITE_WITH_TWO_PEOPLE: &str =
        "INSERT INTO users (id, email, name, created_at) VALUES (1, 'a@x', 'A', 0), (2, 'b@x', 'B', 0);
         INSERT INTO sites (id, name, authority_pkcs8, created_at) VALUES (1, 'S', x'00', 0);
         INSERT INTO memberships (site_id, user_id, role, created_at, claimed_at)
             VALUES (1, 1, 'owner', 0, 0), (1, 2, 'user', 0, 0);
         INSERT INTO access_groups (id, site_id, name, created_at) VALUES (1, 1, 'G', 0);";

    #[tokio::test]
    async fn a_committed_change_leaves_one_notice_per_kind_and_a_rolled_back_one_none() {
        let store = Store::open_in_memory().unwrap();
        store
            .run(|db| Ok::<_, ApiError>(db.execute_batch(SITE_WITH_TWO_PEOPLE)?))
            .await
            .unwrap();
        store.run(|db| take(db)).await.unwrap();
        let refused: Result<(), ApiError> = store
            .transaction(|tx| {
                tx.execute(
                    "INSERT INTO access_group_members (group_id, user_id) VALUES (1, 2)",
                    [],
                )?;
                Err(ApiError::Conflict("changed my mind".into()))
            })
            .await;
        assert!(refused.is_err());
        assert_eq!(store.run(|db| take(db)).await.unwrap(), Drained::default());

        store
            .transaction(|tx| {
                tx.execute(
                    "INSERT INTO access_group_members (group_id, user_id) VALUES (1, 2)",
                    [],
                )?;
                tx.execute(
                    "UPDATE memberships SET remote_opening = 1 WHERE user_id = 2",
                    [],
                )?;
                tx.execute(
                    "UPDATE memberships SET remote_opening = 1 WHERE user_id = 2",
                    [],
                )?;
                Ok::<_, ApiError>(())
            })
            .await
            .unwrap();
        let drained = store.run(|db| take(db)).await.unwrap();
        assert_eq!(
            drained.people,
            BTreeMap::from([(2, BTreeSet::from([Kind::Keys, Kind::Remote]))]),
            "merged, and only the person concerned"
        );
        assert_eq!(
            store.run(|db| take(db)).await.unwrap(),
            Drained::default(),
            "taken once"
        );

        // Deleting the group (its members go by cascade) still tells the member and the IQs.
        store
            .run(|db| Ok::<_, ApiError>(db.execute("DELETE FROM access_groups WHERE id = 1", [])?))
            .await
            .unwrap();
        let drained = store.run(|db| take(db)).await.unwrap();
        assert_eq!(
            drained.people,
            BTreeMap::from([(2, BTreeSet::from([Kind::Keys]))])
        );
        assert_eq!(drained.iq_sites, BTreeSet::from([1]));

        // A login revoked: the account's streams are to close.
        store
            .run(|db| {
                db.execute_batch(
                    "INSERT INTO token_families (id, user_id, created_at) VALUES (9, 2, 0);
                     UPDATE token_families SET revoked_at = 5 WHERE id = 9;",
                )?;
                Ok::<_, ApiError>(())
            })
            .await
            .unwrap();
        let drained = store.run(|db| take(db)).await.unwrap();
        assert_eq!(drained.revoked_logins, BTreeSet::from([2]));
    }
}
