//! The CSV user import (manual 000, "User Import Service"): a site admin uploads one file of
//! up to 2 MB (about 40,000 people) and the cloud adds them as a job whose progress and
//! report are read back.
//!
//! - `GET /api/v1/sites/{site_id}/imports/template`: the CSV template (header and one example);
//! - `POST /api/v1/sites/{site_id}/imports` (`Content-Type: text/csv`, the file as the body):
//!   `202` [`ImportStarted`]; with `?dry_run=true`: `200` [`ImportReport`], nothing written;
//! - `GET /api/v1/sites/{site_id}/imports/{import_id}`: [`ImportReport`].

use serde::{Deserialize, Serialize};

/// The columns of an import file, in their order (the header of the template).
pub const IMPORT_COLUMNS: [&str; 5] = ["First name", "Last name", "Email", "Alias", "User role"];

/// The answer to an accepted import: the job to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportStarted {
    /// The job's id, for `GET /api/v1/sites/{site_id}/imports/{import_id}`.
    pub import_id: u32,
}

/// The query of `POST /api/v1/sites/{site_id}/imports`: the options of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ImportQuery {
    /// A preview: the report of what would happen, nothing written, nobody e-mailed.
    #[serde(default)]
    pub dry_run: bool,
}

/// Where an import job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    /// Accepted, not started.
    Queued,
    /// Adding people, batch by batch.
    Running,
    /// Every row was handled (imported, skipped or failed).
    Done,
    /// The file was refused, or the job stopped (see `error`); batches already committed stay.
    Failed,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedRow {
    /// The row's number in the file as a spreadsheet shows it (the header is row 1).
    pub row: u32,
    /// The row's e-mail cell as written (cut to 254 bytes).
    pub email: String,
    /// A stable machine code: `missing_field`, `extra_field`, `bad_email`, `bad_name`,
    /// `name_too_long`, `unknown_role`, `role_not_allowed`, `duplicate_in_file`.
    pub reason: String,
}

/// An import's progress and report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// The job (0 for a dry run, which is not recorded).
    pub import_id: u32,
    /// Where it is.
    pub state: ImportState,
    /// Whether this is a preview that wrote nothing.
    pub dry_run: bool,
    /// People rows in the file (the header not counted).
    pub total_rows: u32,
    /// Rows handled so far.
    pub processed_rows: u32,
    /// People added to the site (a dry run: who would be).
    pub imported: u32,
    /// People already on the site, left as they are.
    pub skipped_existing: u32,
    /// Rows not imported, by row number.
    pub failed_rows: Vec<FailedRow>,
    /// Why the job failed, as a machine code (`not_comma_separated`, `not_utf8_csv`, …).
    pub error: Option<String>,
}
