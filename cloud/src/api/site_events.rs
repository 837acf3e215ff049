//! The events of every lock of a site, newest first, filtered by lock, person, outcome and
//! time, a page at a time (the console's Events page and its CSV export). The records are
//! those `POST /api/v1/events` verified and stored; who may read them is the lock logs' rule
//! (everyone but users).

use keyway_protocol::event::GENESIS_HASH;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::access::VIEWING_EVENTS;
use super::hardware::Hardware;
use crate::error::{ApiError, ApiResult};
use crate::store::rows;
use crate::AppState;

/// Which of a site's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SiteEventsFilter {
    /// Only this lock's.
    pub(crate) lock_id: Option<u32>,
    /// Only this person's.
    pub(crate) user_id: Option<u32>,
    /// Only granted (`true`) or refused (`false`) ones.
    pub(crate) granted: Option<bool>,
    /// Only from this time on (Unix seconds, the lock's clock).
    pub(crate) from: Option<i64>,
    /// Only before this time.
    pub(crate) until: Option<i64>,
}

/// Where a page starts: just older than this event (the order is time, then lock, then
/// position in the lock's log, all descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventCursor {
    /// The event's time.
    pub(crate) time: i64,
    /// Its lock.
    pub(crate) lock_id: u32,
    /// Its position in the lock's log.
    pub(crate) seq: u64,
}

impl EventCursor {
    /// `time.lock.seq`, for a link.
    pub(crate) fn encode(&self) -> String {
        format!("{}.{}.{}", self.time, self.lock_id, self.seq)
    }

    /// Reads [`Self::encode`]'s text; 400 for anything else.
    pub(crate) fn decode(text: &str) -> ApiResult<Self> {
        let mut parts = text.split('.');
        let cursor = (|| {
            let cursor = Self {
                time: parts.next()?.parse().ok()?,
                lock_id: parts.next()?.parse().ok()?,
                seq: parts.next()?.parse().ok()?,
            };
            parts.next().is_none().then_some(cursor)
        })();
        cursor.ok_or_else(|| ApiError::InvalidInput("this page link is not valid".into()))
    }
}

/// One event of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SiteEvent {
    /// The lock.
    pub(crate) lock_id: u32,
    /// Its name.
    pub(crate) lock_name: String,
    /// Position in the lock's log.
    pub(crate) seq: u64,
    /// The lock's clock when it happened (Unix seconds).
    pub(crate) time: i64,
    /// The person, 0 when unknown.
    pub(crate) user_id: u32,
    /// Their name as the site lists them, while they are on the site.
    pub(crate) person: Option<String>,
    /// The command code asked for.
    pub(crate) command: u8,
    /// Whether the lock granted it.
    pub(crate) granted: bool,
    /// The refusal reason code (0 when granted).
    pub(crate) reason_code: u8,
}

impl SiteEvent {
    fn cursor(&self) -> EventCursor {
        EventCursor {
            time: self.time,
            lock_id: self.lock_id,
            seq: self.seq,
        }
    }
}

/// One page of events, and where the next starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SiteEventsPage {
    /// Newest first.
    pub(crate) events: Vec<SiteEvent>,
    /// The next (older) page, if there is one.
    pub(crate) next: Option<EventCursor>,
}

/// The most events one page (or one CSV export) holds.
pub(crate) const MAX_SITE_EVENTS: u32 = 10_000;

fn page(
    db: &Connection,
    site_id: u32,
    filter: &SiteEventsFilter,
    before: Option<EventCursor>,
    limit: u32,
) -> ApiResult<SiteEventsPage> {
    let mut values = vec![SqlValue::Integer(site_id.into())];
    let mut sql = String::from(
        "SELECT e.lock_id, l.name, e.seq, e.time, e.user_id, m.listed_name, e.command,
         e.granted, e.reason
         FROM lock_events e JOIN locks l ON l.id = e.lock_id
         LEFT JOIN memberships m ON m.site_id = l.site_id AND m.user_id = e.user_id
         WHERE l.site_id = ?1",
    );
    let mut condition = |sql_part: &str, value: SqlValue| {
        values.push(value);
        sql.push_str(&sql_part.replace('?', &format!("?{}", values.len())));
    };
    if let Some(lock_id) = filter.lock_id {
        condition(" AND e.lock_id = ?", SqlValue::Integer(lock_id.into()));
    }
    if let Some(user_id) = filter.user_id {
        condition(" AND e.user_id = ?", SqlValue::Integer(user_id.into()));
    }
    if let Some(granted) = filter.granted {
        condition(" AND e.granted = ?", SqlValue::Integer(granted.into()));
    }
    if let Some(from) = filter.from {
        condition(" AND e.time >= ?", SqlValue::Integer(from));
    }
    if let Some(until) = filter.until {
        condition(" AND e.time < ?", SqlValue::Integer(until));
    }
    if let Some(before) = before {
        let seq = i64::try_from(before.seq).unwrap_or(i64::MAX);
        values.extend([
            SqlValue::Integer(before.time),
            SqlValue::Integer(before.lock_id.into()),
            SqlValue::Integer(seq),
        ]);
        let n = values.len();
        sql.push_str(&format!(
            " AND (e.time, e.lock_id, e.seq) < (?{}, ?{}, ?{n})",
            n - 2,
            n - 1
        ));
    }
    // One more than the page: whether there is a next page at all.
    values.push(SqlValue::Integer(i64::from(limit) + 1));
    sql.push_str(&format!(
        " ORDER BY e.time DESC, e.lock_id DESC, e.seq DESC LIMIT ?{}",
        values.len()
    ));
    let mut events = rows(db, &sql, params_from_iter(&values), |row| {
        Ok(SiteEvent {
            lock_id: row.get(0)?,
            lock_name: row.get(1)?,
            seq: row.get::<_, i64>(2)?.unsigned_abs(), // stored seqs are ≥ 1
            time: row.get(3)?,
            user_id: row.get(4)?,
            person: row.get(5)?,
            command: row.get(6)?,
            granted: row.get(7)?,
            reason_code: row.get(8)?,
        })
    })?;
    let next = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(SiteEvent::cursor)
    } else {
        None
    };
    Ok(SiteEventsPage { events, next })
}

/// One page (at most `limit`, capped at [`MAX_SITE_EVENTS`]) of the events of `site_id`
/// that `user_id` may read, newest first, starting just older than `before`.
pub(crate) async fn site_events(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    filter: SiteEventsFilter,
    before: Option<EventCursor>,
    limit: u32,
) -> ApiResult<SiteEventsPage> {
    let limit = limit.clamp(1, MAX_SITE_EVENTS);
    VIEWING_EVENTS
        .read(state, site_id, user_id, move |db| {
            page(db, site_id, &filter, before, limit)
        })
        .await
}

/// The id and name of every lock of `site_id`, for someone who may read its events (the
/// Events page's lock filter).
pub(crate) async fn event_locks(
    state: &AppState,
    user_id: u32,
    site_id: u32,
) -> ApiResult<Vec<(u32, String)>> {
    VIEWING_EVENTS
        .read(state, site_id, user_id, move |db| {
            Ok(rows(
                db,
                "SELECT id, name FROM locks WHERE site_id = ?1 ORDER BY name, id",
                [site_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?)
        })
        .await
}

/// How much of a lock's stored log links up, record by record, from the lock's first record
/// (each record's `prev_hash` is the hash of the one before it; the first one's is the
/// genesis hash).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChainStatus {
    /// Records stored.
    pub(crate) records: u64,
    /// The newest record's position, if any.
    pub(crate) latest: Option<u64>,
    /// Every record from the first up to this position links to the one before it (0:
    /// none does).
    pub(crate) verified_through: u64,
    /// The first record that does not link to a stored predecessor (one is missing, or its
    /// hash differs), if any.
    pub(crate) first_break: Option<u64>,
}

fn chain_status_of(db: &Connection, lock_id: u32) -> ApiResult<ChainStatus> {
    let (records, latest): (i64, Option<i64>) = db.query_row(
        "SELECT COUNT(*), MAX(seq) FROM lock_events WHERE lock_id = ?1",
        [lock_id],
        |row| row.try_into(),
    )?;
    // In the log's order, so the walk stops at the first break.
    let first_break: Option<i64> = db
        .query_row(
            "SELECT e.seq FROM lock_events e LEFT JOIN lock_events p
               ON p.lock_id = e.lock_id AND p.seq = e.seq - 1
             WHERE e.lock_id = ?1 AND CASE WHEN e.seq = 1 THEN e.prev_hash != ?2
               ELSE p.record_hash IS NULL OR p.record_hash != e.prev_hash END
             ORDER BY e.seq LIMIT 1",
            rusqlite::params![lock_id, GENESIS_HASH.as_slice()],
            |row| row.get(0),
        )
        .optional()?;
    let position = |seq: i64| seq.unsigned_abs(); // stored seqs are ≥ 1
                                                  // Up to the break, every record links to the one before it, down to the first.
    let through = match first_break {
        None => latest,
        Some(at) => db.query_row(
            "SELECT MAX(seq) FROM lock_events WHERE lock_id = ?1 AND seq < ?2",
            rusqlite::params![lock_id, at],
            |row| row.get(0),
        )?,
    };
    let verified_through = through.map_or(0, position);
    Ok(ChainStatus {
        records: records.unsigned_abs(),
        latest: latest.map(position),
        verified_through,
        first_break: first_break.map(position),
    })
}

/// How far the stored log of `lock_id` (a lock of `site_id`) links up from its first record,
/// for someone who may read its events; 404 for a lock of another site.
pub(crate) async fn chain_status(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    lock_id: u32,
) -> ApiResult<ChainStatus> {
    VIEWING_EVENTS
        .read(state, site_id, user_id, move |db| {
            if !Hardware::Lock.belongs_to(db, site_id, lock_id)? {
                return Err(ApiError::NotFound(format!(
                    "no lock {lock_id} on this site"
                )));
            }
            chain_status_of(db, lock_id)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_nothing_else_does() {
        let cursor = EventCursor {
            time: 1_796_000_000,
            lock_id: 3,
            seq: 42,
        };
        assert_eq!(EventCursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "1.2", "1.2.3.4", "a.b.c", "1.-2.3", "1.2.-3"] {
            assert!(EventCursor::decode(bad).is_err(), "{bad}");
        }
    }
}
