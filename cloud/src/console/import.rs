//! The CSV import (manual 000, "User Import Service"; docs/import.md): the template, the
//! upload form (a preview that writes nothing, or the import itself), a progress bar while
//! the job runs (a small same-origin script polls its status; without scripts, a refresh
//! link), and the report with every failed row and its reason code. The work is the JSON
//! API's own ([`crate::api::imports`]).

use axum::extract::multipart::MultipartError;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyway_api::import::{ImportReport, ImportState};
use maud::{html, Markup};

use super::guard::{
    membership, on_site, posting_session, see_other, stale_form, token_matches, OnSite,
};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, Section,
};
use super::paths;
use crate::api::imports::{
    import_file, import_report, importer_role, template_download, too_large, ImportFile,
    ImportOutcome,
};
use crate::error::ApiError;
use crate::import::parse::Reason;
use crate::import::MAX_FILE_BYTES;
use crate::AppState;

/// The largest upload form the route reads: the file's limit and room for the form's other
/// fields and the multipart framing.
pub(super) const MAX_FORM_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;

fn upload_form(visitor: &OnSite, error: Option<&ApiError>) -> Markup {
    let site_id = visitor.site_id();
    html! {
        form method="post" action=(paths::import(site_id)) enctype="multipart/form-data" {
            (csrf_field(&visitor.session.csrf))
            label for="file" { "CSV file (at most 2 MB, about 40,000 people)" }
            input #file type="file" name="file" accept=".csv,text/csv" required
                aria-describedby=[error.map(|_| "file-error")];
            @if let Some(error) = error {
                (error_alert(error.code(), &public_message(error), Some("file-error")))
            }

            button type="submit" name="mode" value="preview" { "Preview (changes nothing)" }
            " "
            button type="submit" name="mode" value="import" { "Import" }
        }
    }
}

fn import_page(
    visitor: &OnSite,
    preview: Option<&ImportReport>,
    error: Option<&ApiError>,
    status: StatusCode,
) -> Response {
    let site_id = visitor.site_id();
    let body = html! {
        p { "The file has five columns, in this order: First name, Last name, Email, Alias, \
            User role. Start from the template." }
        p { a href=(paths::import_template(site_id)) download { "Download the CSV template" } }
        @if let Some(report) = preview {
            h2 { "Preview" }
            p { "Nothing was written. To import, choose the file again and press Import." }
            (report_details(report))
        }
        h2 { "Upload" }
        (upload_form(visitor, error))
    };
    page(
        status,
        "Import people",
        Some(&visitor.nav(Section::Import)),
        body,
    )
}

/// What a failed row's reason code means, in words.
fn reason_text(code: &str) -> String {
    Reason::from_code(code)
        .map(Reason::text)
        .unwrap_or_else(|| "this row could not be imported".into())
}

fn report_details(report: &ImportReport) -> Markup {
    html! {
        dl {
            dt { "Rows in the file" } dd data-count="total" { (report.total_rows) }
            dt { @if report.dry_run { "Would be added" } @else { "Added" } } dd data-count="imported" { (report.imported) }
            dt { "Already on the site (left as they are)" } dd data-count="skipped" { (report.skipped_existing) }
            dt { "Failed rows" } dd data-count="failed" { (report.failed_rows.len()) }
        }
        @if !report.failed_rows.is_empty() {
            div.table-wrap {
                table.failed-rows {
                    caption { "Rows not imported" }
                    thead { tr { th scope="col" { "Row" } th scope="col" { "E-mail" } th scope="col" { "Reason" } } }
                    tbody {
                        @for row in &report.failed_rows {
                            tr data-reason=(row.reason) {
                                td { (row.row) }
                                td { (row.email) }
                                td { (reason_text(&row.reason)) " (" code { (row.reason) } ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /web/console/sites/{site_id}/import`.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    if let Err(error) = importer_role(&state, site_id, visitor.user_id()).await {
        return error_page(&error, Some(&visitor.nav(Section::Import)));
    }
    import_page(&visitor, None, None, StatusCode::OK)
}

/// `GET /web/console/sites/{site_id}/import/template`: the CSV template.
pub(super) async fn template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    match importer_role(&state, site_id, visitor.user_id()).await {
        Ok(_) => template_download(),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::Import))),
    }
}

/// The upload form's fields.
#[derive(Default)]
struct Upload {
    csrf: String,
    preview: bool,
    file: Option<Vec<u8>>,
}

fn upload_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::InvalidInput("the upload did not arrive whole: try again".into())
    }
}

/// Reads the form into `upload`, field by field: the token (first in the form) is kept even
/// when a later field does not arrive whole.
async fn read_upload(mut multipart: Multipart, upload: &mut Upload) -> Result<(), ApiError> {
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        match field.name() {
            Some("csrf") => upload.csrf = field.text().await.map_err(upload_error)?,
            Some("mode") => upload.preview = field.text().await.map_err(upload_error)? != "import",
            Some("file") => upload.file = Some(field.bytes().await.map_err(upload_error)?.to_vec()),
            _ => {}
        }
    }
    Ok(())
}

/// `POST /web/console/sites/{site_id}/import`: previews or starts the import of the
/// uploaded file; a started import goes to its page.
pub(super) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let session = match posting_session(&state, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let mut upload = Upload::default();
    let read = match multipart {
        Ok(multipart) => read_upload(multipart, &mut upload).await,
        Err(_) => Err(ApiError::InvalidInput(
            "send the file with the page's form".into(),
        )),
    };
    // The token decides before anything else of the form counts.
    if !token_matches(&session, &upload.csrf) {
        return stale_form();
    }
    let visitor = match membership(&state, session, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let refuse = |error: ApiError| import_page(&visitor, None, Some(&error), error.status());
    if let Err(error) = read {
        return refuse(error);
    }
    let Some(bytes) = upload.file.filter(|bytes| !bytes.is_empty()) else {
        return refuse(ApiError::EmptyFile("choose a CSV file".into()));
    };
    let actor = match importer_role(&state, site_id, visitor.user_id()).await {
        Ok(actor) => actor,
        Err(error) => return error_page(&error, Some(&visitor.nav(Section::Import))),
    };
    if bytes.len() > MAX_FILE_BYTES {
        return refuse(too_large());
    }
    let file = ImportFile {
        site_id,
        user_id: visitor.user_id(),
        actor,
        bytes,
    };
    match import_file(&state, file, upload.preview).await {
        Ok(ImportOutcome::DryRun(report)) => {
            import_page(&visitor, Some(&report), None, StatusCode::OK)
        }
        Ok(ImportOutcome::Started(import_id)) => see_other(&paths::import_job(site_id, import_id)),
        Err(error) => refuse(error),
    }
}

/// `GET /web/console/sites/{site_id}/imports/{import_id}`: the progress bar while the import
/// runs, then its report.
pub(super) async fn job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, import_id)): Path<(u32, u32)>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::Import);
    let report = match import_report(&state, visitor.user_id(), site_id, import_id).await {
        Ok(report) => report,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let running = matches!(report.state, ImportState::Queued | ImportState::Running);
    let body = html! {
        @if running {
            p { "The import runs. This page follows it." }
            label for="import-progress" { "Progress" }
            progress #import-progress max=(report.total_rows.max(1)) value=(report.processed_rows)
                data-status-url=(paths::import_status(site_id, import_id)) {
                (report.processed_rows) " of " (report.total_rows)
            }
            p #import-progress-text aria-live="polite" {
                (report.processed_rows) " of " (report.total_rows) " rows handled"
            }
            p { a href=(paths::import_job(site_id, import_id)) { "Refresh" } }
            script src=(paths::IMPORT_SCRIPT) defer {}
        } @else if report.state == ImportState::Failed {
            (error_alert(keyway_api::ErrorCode::parse(report.error.as_deref().unwrap_or("internal")),
                "The import stopped: the file was refused or the job failed. People already added stay.", None))
            (report_details(&report))
        } @else {
            (done_alert("import_done", "The import is done."))
            (report_details(&report))
        }
        p { a href=(paths::import(site_id)) { "Import another file" } " · "
            a href=(paths::people(site_id)) { "People" } }
    };
    page(StatusCode::OK, "Import", Some(&nav), body)
}

/// `GET …/imports/{import_id}/status`: where the import is, for the progress script.
pub(super) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, import_id)): Path<(u32, u32)>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    match import_report(&state, visitor.user_id(), site_id, import_id).await {
        Ok(report) => Json(serde_json::json!({
            "state": report.state,
            "total_rows": report.total_rows,
            "processed_rows": report.processed_rows,
        }))
        .into_response(),
        Err(error) => error.into_response(),
    }
}
