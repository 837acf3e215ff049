//! Lock event records: phones upload what locks signed; the cloud verifies each record with the
//! lock's key and its place in the lock's hash chain, and stores it once.

use axum::extract::State;
use axum::Json;
use keyway_api::{
    ApiErrorBody, EventRejection, LockEventView, RejectedEvent, UploadEventsRequest,
    UploadEventsResponse,
};
use keyway_protocol::event::GENESIS_HASH;
use keyway_protocol::{ProtocolError, PublicKey, SignedEvent};
use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use utoipa::IntoParams;

use super::access::VIEWING_EVENTS;
use super::codec;
use super::extract::{Body, Ids, Params};
use super::hardware::Hardware;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::store::rows;
use crate::AppState;

/// Most records one upload may carry.
pub(crate) const MAX_RECORDS_PER_UPLOAD: usize = 1000;
/// Most records one page of the event log holds.
pub(crate) const MAX_EVENTS_PER_PAGE: u32 = 1000;
const BROKEN_CHAIN: &str = "breaks the lock's hash chain";

/// What became of one uploaded record.
enum Outcome {
    Stored,
    Duplicate,
    Rejected(EventRejection, String),
}

/// The registered key of a lock, `None` for an unknown lock.
pub(crate) fn lock_key(db: &Connection, lock_id: u32) -> ApiResult<Option<PublicKey>> {
    codec::stored_public_key(
        db,
        "SELECT public_key FROM locks WHERE id = ?1",
        lock_id,
        &format!("lock {lock_id} key"),
    )
}

fn stored_column(
    db: &Connection,
    column: &str,
    lock_id: u32,
    seq: i64,
) -> ApiResult<Option<Vec<u8>>> {
    Ok(db
        .query_row(
            &format!("SELECT {column} FROM lock_events WHERE lock_id = ?1 AND seq = ?2"),
            rusqlite::params![lock_id, seq],
            |row| row.get(0),
        )
        .optional()?)
}

/// Checks one decoded record against the lock's key and its stored neighbours, and stores it.
fn store_record(db: &Connection, record: &SignedEvent, now: i64) -> ApiResult<Outcome> {
    let event = record.event();
    let Some(key) = lock_key(db, event.lock_id)? else {
        return Ok(Outcome::Rejected(
            EventRejection::UnknownLock,
            format!("unknown lock {}", event.lock_id),
        ));
    };
    if !record.verify(&key) {
        return Ok(Outcome::Rejected(
            EventRejection::BadSignature,
            "not signed by the lock's key".into(),
        ));
    }
    let Some(seq) = i64::try_from(event.seq).ok().filter(|seq| *seq >= 1) else {
        return Ok(Outcome::Rejected(
            EventRejection::SequenceOutOfRange,
            format!("sequence number {} is out of range", event.seq),
        ));
    };
    if let Some(stored) = stored_column(db, "record", event.lock_id, seq)? {
        return Ok(if stored == record.as_bytes().as_slice() {
            Outcome::Duplicate
        } else {
            Outcome::Rejected(
                EventRejection::ConflictingRecord,
                format!("conflicts with the record already stored for sequence number {seq}"),
            )
        });
    }
    let previous = if seq == 1 {
        Some(GENESIS_HASH.to_vec())
    } else {
        stored_column(db, "record_hash", event.lock_id, seq - 1)?
    };
    let hash = record.hash();
    let next_link = stored_column(db, "prev_hash", event.lock_id, seq + 1)?;
    if previous.is_some_and(|previous| previous != event.prev_hash)
        || next_link.is_some_and(|link| link != hash)
    {
        return Ok(Outcome::Rejected(
            EventRejection::BrokenChain,
            BROKEN_CHAIN.into(),
        ));
    }
    let inserted = db.execute(
        "INSERT OR IGNORE INTO lock_events (lock_id, seq, time, user_id, credential_id, command,
           granted, reason, record_hash, prev_hash, record, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        rusqlite::params![
            event.lock_id,
            seq,
            event.time,
            event.user_id,
            // The u64 id's bit pattern (SQLite integers are signed), read back the same way.
            i64::from_be_bytes(event.credential_id.to_be_bytes()),
            event.command,
            event.refusal.is_none(),
            event.refusal.map_or(0, |reason| reason.code()),
            hash.as_slice(),
            event.prev_hash.as_slice(),
            record.as_bytes().as_slice(),
            now
        ],
    )?;
    if inserted == 0 {
        return Ok(Outcome::Duplicate);
    }
    crate::lock_rules::reports::on_stored_event(db, event, now)?;
    Ok(Outcome::Stored)
}

/// A refused record at `index`.
pub(crate) fn rejected(index: usize, code: EventRejection, reason: String) -> RejectedEvent {
    RejectedEvent {
        index: u32::try_from(index).unwrap_or(u32::MAX),
        code,
        reason,
    }
}

/// The refusal of a record whose bytes are not a lock event record.
pub(crate) fn malformed(index: usize, error: &ProtocolError) -> RejectedEvent {
    rejected(
        index,
        EventRejection::Malformed,
        format!("not a lock event record: {error}"),
    )
}

/// Stores lock event records carried by a phone (any authenticated caller: phones carry the
/// events of every lock they talked to). Uploading a record again is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    security(("bearer" = [])),
    request_body = UploadEventsRequest,
    responses(
        (status = 200, body = UploadEventsResponse),
        (status = 400, body = ApiErrorBody),
    )
)]
pub(crate) async fn upload_events(
    State(state): State<AppState>,
    _caller: Authenticated,
    Body(request): Body<UploadEventsRequest>,
) -> ApiResult<Json<UploadEventsResponse>> {
    if request.records.len() > MAX_RECORDS_PER_UPLOAD {
        return Err(ApiError::InvalidInput(format!(
            "at most {MAX_RECORDS_PER_UPLOAD} records per upload"
        )));
    }
    let mut refused = Vec::new();
    let mut records = Vec::new();
    for (index, text) in request.records.iter().enumerate() {
        let record = codec::decode("record", text)
            .map_err(|error| rejected(index, EventRejection::NotBase64, error.to_string()))
            .and_then(|bytes| {
                SignedEvent::decode(&bytes).map_err(|error| malformed(index, &error))
            });
        match record {
            Ok(record) => records.push((index, record)),
            Err(refusal) => refused.push(refusal),
        }
    }
    Ok(Json(store_records(&state, records, refused).await?))
}

/// Verifies and stores decoded records (phones' uploads and IQs' relays alike), each with
/// its position in the request; `refused` are those that did not even decode.
pub(crate) async fn store_records(
    state: &AppState,
    mut records: Vec<(usize, SignedEvent)>,
    refused: Vec<RejectedEvent>,
) -> ApiResult<UploadEventsResponse> {
    // Oldest first per lock, so a run of new records chains onto the ones just stored.
    records.sort_by_key(|(_, record)| (record.event().lock_id, record.event().seq));
    let now = state.clock.now();
    let mut response = state
        .store
        .transaction(move |tx| {
            let mut response = UploadEventsResponse {
                stored: 0,
                duplicates: 0,
                rejected: refused,
            };
            for (index, record) in &records {
                match store_record(tx, record, now)? {
                    Outcome::Stored => response.stored += 1,
                    Outcome::Duplicate => response.duplicates += 1,
                    Outcome::Rejected(code, reason) => {
                        response.rejected.push(rejected(*index, code, reason))
                    }
                }
            }
            Ok::<_, ApiError>(response)
        })
        .await?;
    response.rejected.sort_by_key(|entry| entry.index);
    Ok(response)
}

/// Which page of a lock's event log.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Only records after this sequence number (default 0: from the start).
    pub after_seq: Option<u64>,
    /// At most this many records (default and maximum 1000).
    pub limit: Option<u32>,
}

/// A lock's verified event records, oldest first (owner, admins and super users).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/locks/{lock_id}/events",
    tag = "events",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("lock_id" = u32, Path, description = "Lock id"),
        EventsQuery,
    ),
    responses(
        (status = 200, body = Vec<LockEventView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, lock_id)): Ids<(u32, u32)>,
    Params(query): Params<EventsQuery>,
) -> ApiResult<Json<Vec<LockEventView>>> {
    let after = i64::try_from(query.after_seq.unwrap_or(0)).unwrap_or(i64::MAX);
    let limit = query
        .limit
        .unwrap_or(MAX_EVENTS_PER_PAGE)
        .min(MAX_EVENTS_PER_PAGE);
    let events = VIEWING_EVENTS
        .read(&state, site_id, caller.user_id, move |db| {
            if !Hardware::Lock.belongs_to(db, site_id, lock_id)? {
                return Err(ApiError::NotFound(format!(
                    "no lock {lock_id} on this site"
                )));
            }
            let events = rows(
                db,
                "SELECT seq, time, user_id, credential_id, command, granted, reason, record
                 FROM lock_events WHERE lock_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                rusqlite::params![lock_id, after, limit],
                |row| {
                    Ok(LockEventView {
                        seq: row.get::<_, i64>(0)?.unsigned_abs(), // stored seqs are ≥ 1
                        time: row.get(1)?,
                        user_id: row.get(2)?,
                        // The bit pattern, see above.
                        credential_id: u64::from_be_bytes(row.get::<_, i64>(3)?.to_be_bytes()),
                        command: row.get(4)?,
                        granted: row.get(5)?,
                        reason_code: row.get(6)?,
                        record: codec::encode(&row.get::<_, Vec<u8>>(7)?),
                    })
                },
            )?;
            Ok(events)
        })
        .await?;
    Ok(Json(events))
}
