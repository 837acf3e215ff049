//! What each IQ is told: the IQ-code secrets of the people who may open its locks remotely
//! (so it checks a typed code again before relaying), and one signed keypad table per lock
//! (so keypad PINs keep working when the IQ or the cloud is offline: manual 003).

use keyway_protocol::iq::messages::IqConfig;
use keyway_protocol::iq::CloudToIq;
use rusqlite::Connection;

use crate::error::{ApiError, ApiResult};
use crate::lock_rules::lists;
use crate::remote::{code, keypad};
use crate::store::rows;
use crate::AppState;

/// The locks attached to an IQ, by id.
pub(crate) fn iq_lock_ids(db: &Connection, iq_id: u32) -> ApiResult<Vec<u32>> {
    let sql = "SELECT id FROM locks WHERE iq_id = ?1 ORDER BY id";
    Ok(rows(db, sql, [iq_id], |row| row.get(0))?)
}

/// The configuration of `iq_id` now, under the IQ's next configuration serial (call it inside
/// the transaction that sends it). Keypad tables get a new serial each time too.
pub(crate) fn iq_config(db: &Connection, iq_id: u32, now: i64) -> ApiResult<IqConfig> {
    let sql = "UPDATE iqs SET config_serial = config_serial + 1 WHERE id = ?1 \
               RETURNING site_id, config_serial";
    let (site_id, serial): (u32, i64) =
        db.query_row(sql, [iq_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let lock_ids = iq_lock_ids(db, iq_id)?;
    let (tag_lists, lock_settings) = lists::for_locks(db, site_id, &lock_ids)?;
    Ok(IqConfig {
        serial: u64::try_from(serial)
            .map_err(|_| ApiError::Internal(format!("IQ {iq_id} config serial {serial}")))?,
        lock_ids,
        code_secrets: code::secrets_for_iq(db, site_id, iq_id)?,
        keypad_tables: keypad::tables_for_iq(db, site_id, iq_id)?,
        tag_lists,
        lock_settings,
        revocations: lists::revocations(db, site_id, now)?,
    })
}

/// Sends a fresh configuration to every connected IQ of the site. Call it after a change to
/// who may open what there (people's rights, access groups, keypad PINs, code secrets); an
/// IQ that is offline gets its configuration when it connects.
pub async fn push_site_config(state: &AppState, site_id: u32) {
    // The change that triggered the push is already committed: a failed push must not turn
    // it into an error for the client. The IQ gets the full configuration at its next login.
    if let Err(error) = try_push_site_config(state, site_id).await {
        tracing::warn!(site_id, %error, "could not push the new configuration to the site's IQs");
    }
}

async fn try_push_site_config(state: &AppState, site_id: u32) -> ApiResult<()> {
    let now = state.clock.now();
    for iq_id in state.iqs.online_of_site(site_id) {
        let config = state
            .store
            .transaction(move |tx| iq_config(tx, iq_id, now))
            .await?;
        if !state.iqs.push(iq_id, CloudToIq::Config(config)) {
            tracing::info!(
                iq_id,
                "IQ went offline before its new configuration was sent"
            );
        }
    }
    Ok::<_, ApiError>(())
}
