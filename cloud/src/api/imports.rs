//! The CSV user import's routes (manual 000, "User Import Service"; the job is in
//! [`crate::import`]): the template, starting an import (or a dry run), and its progress.
//!
//! The owner, admins and super users import (super users only the roles they may create:
//! a row asking for more fails with `role_not_allowed`). The body is read up to
//! [`MAX_FILE_BYTES`]: a larger one is refused with `413 file_too_large` from its
//! `Content-Length`, or as soon as more than that arrived, never read whole.

use axum::body::Body as RawBody;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyway_api::import::{FailedRow, ImportQuery, ImportReport, ImportStarted, ImportState};
use keyway_api::{ApiErrorBody, Role};

use super::access::IMPORTING_PEOPLE;
use super::extract::{Ids, Params};
use crate::auth::Authenticated;
use crate::email;
use crate::error::{ApiError, ApiResult};
use crate::import::job::{self, Job};
use crate::import::parse::{parse, FileProblem, ParsedFile};
use crate::import::{mail, store, template, MAX_FILE_BYTES};
use crate::pods::mail::site_info;
use crate::AppState;

/// The template's file name.
const TEMPLATE_FILE: &str = "keyway-import-template.csv";

/// The CSV template: the header `First name,Last name,Email,Alias,User role` and one example.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/imports/template",
    tag = "imports",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = String, content_type = "text/csv"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn import_template(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Response> {
    importer_role(&state, site_id, caller.user_id).await?;
    Ok(template_download())
}

/// The template as a file download (the JSON API's route and the console's link).
pub(crate) fn template_download() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{TEMPLATE_FILE}\""),
            ),
        ],
        template(),
    )
        .into_response()
}

/// Imports people from a CSV file (the body, `Content-Type: text/csv`, at most 2 MB):
/// `202` with the job to follow, or with `?dry_run=true` `200` with the report and nothing
/// written. A file refused whole answers its machine code (`not_comma_separated`,
/// `not_utf8_csv`, `wrong_columns`, `empty_file`, `no_rows`) and the requester is e-mailed why.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/imports",
    tag = "imports",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id"), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 202, body = ImportStarted),
        (status = 200, body = ImportReport, description = "Dry run"),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 413, body = ApiErrorBody),
        (status = 415, body = ApiErrorBody),
    )
)]
pub(super) async fn start_import(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Params(query): Params<ImportQuery>,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    require_csv(&headers)?;
    let actor = importer_role(&state, site_id, caller.user_id).await?;
    let bytes = read_limited(&headers, body).await?;
    let file = ImportFile {
        site_id,
        user_id: caller.user_id,
        actor,
        bytes,
    };
    Ok(match import_file(&state, file, query.dry_run).await? {
        ImportOutcome::DryRun(report) => Json(report).into_response(),
        ImportOutcome::Started(import_id) => {
            (StatusCode::ACCEPTED, Json(ImportStarted { import_id })).into_response()
        }
    })
}

/// The role of `user_id` on `site_id` when it may import (404 or 403 otherwise): checked
/// before a file is read.
pub(crate) async fn importer_role(state: &AppState, site_id: u32, user_id: u32) -> ApiResult<Role> {
    state
        .store
        .run(move |db| IMPORTING_PEOPLE.check(db, site_id, user_id))
        .await
}

/// A file to import, and who imports it where.
pub(crate) struct ImportFile {
    /// The site.
    pub(crate) site_id: u32,
    /// Who imports.
    pub(crate) user_id: u32,
    /// Their role there, from [`importer_role`].
    pub(crate) actor: Role,
    /// The file, at most [`MAX_FILE_BYTES`].
    pub(crate) bytes: Vec<u8>,
}

/// What [`import_file`] did.
#[derive(Debug)]
pub(crate) enum ImportOutcome {
    /// A dry run: what importing would do, written nowhere.
    DryRun(ImportReport),
    /// The import runs: follow it by its id.
    Started(u32),
}

/// Parses `file` and starts its import, or with `dry_run` reports what it would do (the
/// JSON API and the console's upload form). A file refused whole answers its machine code
/// and, unless a dry run, its requester is e-mailed why.
pub(crate) async fn import_file(
    state: &AppState,
    file: ImportFile,
    dry_run_only: bool,
) -> ApiResult<ImportOutcome> {
    let ImportFile {
        site_id,
        user_id,
        actor,
        bytes,
    } = file;
    let parsed = tokio::task::spawn_blocking(move || parse(&bytes, actor))
        .await
        .map_err(|_| ApiError::Internal("import parsing task failed".into()))?;
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(problem) if dry_run_only => return Err(problem.into()),
        Err(problem) => return Err(refuse(state, site_id, user_id, problem).await),
    };
    if dry_run_only {
        return Ok(ImportOutcome::DryRun(
            dry_run(state, site_id, parsed).await?,
        ));
    }
    let total = parsed.total_rows();
    let failures = parsed.failures.clone();
    let now = state.clock.now();
    let import_id = state
        .store
        .transaction(move |tx| {
            IMPORTING_PEOPLE.check(tx, site_id, user_id)?;
            store::create(tx, site_id, user_id, total, &failures, now)
        })
        .await?;
    tokio::spawn(job::run(
        state.clone(),
        Job {
            import_id,
            site_id,
            requested_by: user_id,
            people: parsed.people,
            failures: parsed.failures,
        },
    ));
    Ok(ImportOutcome::Started(import_id))
}

/// An import's progress and report (as soon as it ends: the counts and every failed row).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/imports/{import_id}",
    tag = "imports",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("import_id" = u32, Path, description = "Import id"),
    ),
    responses(
        (status = 200, body = ImportReport),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn get_import(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, import_id)): Ids<(u32, u32)>,
) -> ApiResult<Json<ImportReport>> {
    Ok(Json(
        import_report(&state, caller.user_id, site_id, import_id).await?,
    ))
}

/// An import's progress and report, for someone who may import on its site.
pub(crate) async fn import_report(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    import_id: u32,
) -> ApiResult<ImportReport> {
    IMPORTING_PEOPLE
        .read(state, site_id, user_id, move |db| {
            store::report(db, site_id, import_id)
        })
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no import {import_id} on this site")))
}

/// 415 unless the body is declared `text/csv`.
fn require_csv(headers: &HeaderMap) -> ApiResult<()> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("text/csv"));
    if is_csv {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the file as the body with Content-Type: text/csv".into(),
        ))
    }
}

/// The refusal of a file over [`MAX_FILE_BYTES`].
pub(crate) fn too_large() -> ApiError {
    ApiError::FileTooLarge(format!(
        "the file is larger than {} MB (about 40,000 people): split it and import each part",
        MAX_FILE_BYTES / (1024 * 1024)
    ))
}

/// The body, at most [`MAX_FILE_BYTES`]: refused from its `Content-Length`, or as soon as
/// more than that arrived.
async fn read_limited(headers: &HeaderMap, body: RawBody) -> ApiResult<Vec<u8>> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_FILE_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_FILE_BYTES)
        .await
        .map_err(|_| too_large())?;
    Ok(bytes.to_vec())
}

/// Records a file refused whole and e-mails its requester why; returns the refusal.
async fn refuse(state: &AppState, site_id: u32, user_id: u32, problem: FileProblem) -> ApiError {
    let now = state.clock.now();
    let recorded = state
        .store
        .transaction(move |tx| {
            store::create_refused(tx, site_id, user_id, problem.code(), now)?;
            let (to, name) = store::account(tx, user_id)?;
            let site = site_info(tx, site_id)?;
            email::queue(
                tx,
                &mail::refused_email(&to, &name, &site.name, problem),
                now,
            )?;
            Ok::<_, ApiError>(())
        })
        .await;
    match recorded {
        Ok(()) => {
            state.mail.wake();
            problem.into()
        }
        Err(error) => error,
    }
}

/// What importing `parsed` would do now, written nowhere.
async fn dry_run(state: &AppState, site_id: u32, parsed: ParsedFile) -> ApiResult<ImportReport> {
    let total_rows = parsed.total_rows();
    let on_site = state
        .store
        .run(move |db| store::addresses_on_site(db, site_id))
        .await?;
    let skipped_existing = parsed
        .people
        .iter()
        .filter(|person| on_site.contains(&person.email))
        .count();
    let skipped_existing = u32::try_from(skipped_existing).unwrap_or(u32::MAX);
    let failed_rows: Vec<FailedRow> = parsed
        .failures
        .iter()
        .map(|failure| FailedRow {
            row: failure.row,
            email: failure.email(),
            reason: failure.reason.code().into(),
        })
        .collect();
    let failed = u32::try_from(failed_rows.len()).unwrap_or(u32::MAX);
    Ok(ImportReport {
        import_id: 0,
        state: ImportState::Done,
        dry_run: true,
        total_rows,
        processed_rows: total_rows,
        imported: total_rows - failed - skipped_existing,
        skipped_existing,
        failed_rows,
        error: None,
    })
}

/// The roles that may import (everyone who may add people).
pub(crate) fn may_import(role: Role) -> bool {
    role != Role::User
}
