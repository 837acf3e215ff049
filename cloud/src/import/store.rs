//! The `imports` and `import_failures` tables: a job's state and counts, and its failed rows.

use std::collections::HashSet;

use keyway_api::import::{FailedRow, ImportReport, ImportState};
use rusqlite::{params, Connection, OptionalExtension};

use super::parse::RowFailure;
use crate::error::{ApiError, ApiResult};
use crate::store::rows;

fn state_name(state: ImportState) -> &'static str {
    match state {
        ImportState::Queued => "queued",
        ImportState::Running => "running",
        ImportState::Done => "done",
        ImportState::Failed => "failed",
    }
}

fn parse_state(text: &str) -> rusqlite::Result<ImportState> {
    match text {
        "queued" => Ok(ImportState::Queued),
        "running" => Ok(ImportState::Running),
        "done" => Ok(ImportState::Done),
        "failed" => Ok(ImportState::Failed),
        other => Err(rusqlite::Error::InvalidColumnType(
            0,
            format!("import state {other:?}"),
            rusqlite::types::Type::Text,
        )),
    }
}

fn last_id(db: &Connection) -> ApiResult<u32> {
    u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("import id out of range".into()))
}

/// Records a new job (`queued`) with its failed rows, and returns its id.
pub fn create(
    db: &Connection,
    site_id: u32,
    requested_by: u32,
    total_rows: u32,
    failures: &[RowFailure],
    now: i64,
) -> ApiResult<u32> {
    db.execute(
        "INSERT INTO imports (site_id, requested_by, state, total_rows, created_at)
         VALUES (?1, ?2, 'queued', ?3, ?4)",
        params![site_id, requested_by, total_rows, now],
    )?;
    let id = last_id(db)?;
    let mut insert = db.prepare_cached(
        "INSERT INTO import_failures (import_id, row, email, reason) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for failure in failures {
        insert.execute(params![
            id,
            failure.row,
            failure.email(),
            failure.reason.code()
        ])?;
    }
    // Failed rows are handled as soon as they are known.
    db.execute(
        "UPDATE imports SET processed_rows = ?1 WHERE id = ?2",
        params![i64::try_from(failures.len()).unwrap_or(i64::MAX), id],
    )?;
    Ok(id)
}

/// Records a file refused whole (`failed` with its machine code), and returns the job's id.
pub fn create_refused(
    db: &Connection,
    site_id: u32,
    requested_by: u32,
    code: &str,
    now: i64,
) -> ApiResult<u32> {
    db.execute(
        "INSERT INTO imports (site_id, requested_by, state, error, created_at, finished_at)
         VALUES (?1, ?2, 'failed', ?3, ?4, ?4)",
        params![site_id, requested_by, code, now],
    )?;
    last_id(db)
}

/// Marks the job running.
pub fn start(db: &Connection, id: u32) -> ApiResult<()> {
    db.execute(
        "UPDATE imports SET state = 'running' WHERE id = ?1 AND state = 'queued'",
        [id],
    )?;
    Ok(())
}

/// Adds one committed batch to the job's counts (in the batch's transaction).
pub fn add_batch(db: &Connection, id: u32, imported: u32, skipped_existing: u32) -> ApiResult<()> {
    db.prepare_cached(
        "UPDATE imports SET processed_rows = processed_rows + ?1 + ?2, imported = imported + ?1,
         skipped_existing = skipped_existing + ?2 WHERE id = ?3",
    )?
    .execute(params![imported, skipped_existing, id])?;
    Ok(())
}

/// Ends the job: `done`, or `failed` with a machine code.
pub fn finish(db: &Connection, id: u32, error: Option<&str>, now: i64) -> ApiResult<()> {
    let state = if error.is_some() {
        ImportState::Failed
    } else {
        ImportState::Done
    };
    db.execute(
        "UPDATE imports SET state = ?1, error = ?2, finished_at = ?3 WHERE id = ?4",
        params![state_name(state), error, now, id],
    )?;
    Ok(())
}

/// Jobs a stopped cloud left `queued` or `running` are `failed` with `interrupted` (the
/// file is not kept: running it again adds who is missing). Returns how many.
pub fn fail_interrupted(db: &Connection, now: i64) -> ApiResult<usize> {
    Ok(db.execute(
        "UPDATE imports SET state = 'failed', error = 'interrupted', finished_at = ?1
         WHERE state IN ('queued', 'running')",
        [now],
    )?)
}

/// The report of job `id` on `site_id`, or `None` when there is no such job there.
pub fn report(db: &Connection, site_id: u32, id: u32) -> ApiResult<Option<ImportReport>> {
    let found = db
        .query_row(
            "SELECT state, total_rows, processed_rows, imported, skipped_existing, error
             FROM imports WHERE id = ?1 AND site_id = ?2",
            [id, site_id],
            |row| {
                Ok(ImportReport {
                    import_id: id,
                    state: parse_state(&row.get::<_, String>(0)?)?,
                    dry_run: false,
                    total_rows: row.get(1)?,
                    processed_rows: row.get(2)?,
                    imported: row.get(3)?,
                    skipped_existing: row.get(4)?,
                    failed_rows: Vec::new(),
                    error: row.get(5)?,
                })
            },
        )
        .optional()?;
    let Some(mut report) = found else {
        return Ok(None);
    };
    report.failed_rows = rows(
        db,
        "SELECT row, email, reason FROM import_failures WHERE import_id = ?1 ORDER BY row",
        [id],
        |row| {
            Ok(FailedRow {
                row: row.get(0)?,
                email: row.get(1)?,
                reason: row.get(2)?,
            })
        },
    )?;
    Ok(Some(report))
}

/// The (normalised) addresses of everyone on `site_id` who has one (tag profiles have none).
pub fn addresses_on_site(db: &Connection, site_id: u32) -> ApiResult<HashSet<String>> {
    let mut statement = db.prepare(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.site_id = ?1 AND u.email IS NOT NULL",
    )?;
    let addresses = statement
        .query_map([site_id], |row| row.get(0))?
        .collect::<rusqlite::Result<HashSet<String>>>()?;
    Ok(addresses)
}

/// The address and name of an account.
pub fn account(db: &Connection, user_id: u32) -> ApiResult<(String, String)> {
    Ok(db.query_row(
        "SELECT email, name FROM users WHERE id = ?1",
        [user_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?)
}
