//! The CSV user import from the app or the CLI (manual 000, "User Import Service"): the
//! template, a dry run, starting the job and following it. The cloud checks every rule; a
//! refused file comes back as `InvalidInput` with the cloud's sentence.

use std::sync::Arc;

use keyway_api::endpoints::{
    CsvFile, ImportProgress, ImportTemplate, NoBody, PreviewImport, StartImport, TextBody,
};
use keyway_api::import::{ImportReport, ImportState};

use crate::admin::AdminClient;
use crate::runtime::on_core_runtime;
use crate::KeywayError;

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ImportStage {
    /// Accepted, not started.
    Queued,
    /// Adding people.
    Running,
    /// Every row handled.
    Done,
    /// Refused or stopped (see `error`).
    Failed,
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FailedRowInfo {
    /// Its row number as a spreadsheet shows it (the header is row 1).
    pub row: u32,
    /// Its e-mail cell.
    pub email: String,
    /// The machine reason (`bad_email`, `unknown_role`, `duplicate_in_file`, …).
    pub reason: String,
}

/// An import's progress and report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportInfo {
    /// The job (0 for a dry run).
    pub import_id: u32,
    /// Where it is.
    pub stage: ImportStage,
    /// A preview that wrote nothing.
    pub dry_run: bool,
    /// People rows in the file.
    pub total_rows: u32,
    /// Rows handled so far.
    pub processed_rows: u32,
    /// People added (a dry run: who would be).
    pub imported: u32,
    /// People already on the site, left as they were.
    pub skipped_existing: u32,
    /// Rows not imported.
    pub failed_rows: Vec<FailedRowInfo>,
    /// Why the job failed, as a machine code.
    pub error: Option<String>,
}

impl From<ImportReport> for ImportInfo {
    fn from(report: ImportReport) -> Self {
        Self {
            import_id: report.import_id,
            stage: match report.state {
                ImportState::Queued => ImportStage::Queued,
                ImportState::Running => ImportStage::Running,
                ImportState::Done => ImportStage::Done,
                ImportState::Failed => ImportStage::Failed,
            },
            dry_run: report.dry_run,
            total_rows: report.total_rows,
            processed_rows: report.processed_rows,
            imported: report.imported,
            skipped_existing: report.skipped_existing,
            failed_rows: report
                .failed_rows
                .into_iter()
                .map(|row| FailedRowInfo {
                    row: row.row,
                    email: row.email,
                    reason: row.reason,
                })
                .collect(),
            error: report.error,
        }
    }
}

#[uniffi::export]
impl AdminClient {
    /// The CSV template of the import: its header and one example row.
    pub async fn import_template(&self, site_id: u32) -> Result<String, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let TextBody(template) = context.call(&ImportTemplate { site_id }, &NoBody).await?;
            Ok(template)
        })
        .await
    }

    /// What importing `csv` would do, with nothing written and nobody e-mailed.
    pub async fn preview_import(
        &self,
        site_id: u32,
        csv: Vec<u8>,
    ) -> Result<ImportInfo, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let report = context
                .call(&PreviewImport { site_id }, &CsvFile(csv))
                .await?;
            Ok(report.into())
        })
        .await
    }

    /// Starts importing `csv` (at most 2 MB); returns the job's id, to follow with
    /// [`AdminClient::import_progress`].
    pub async fn start_import(&self, site_id: u32, csv: Vec<u8>) -> Result<u32, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let started = context
                .call(&StartImport { site_id }, &CsvFile(csv))
                .await?;
            Ok(started.import_id)
        })
        .await
    }

    /// An import's progress, and its report once it ended.
    pub async fn import_progress(
        &self,
        site_id: u32,
        import_id: u32,
    ) -> Result<ImportInfo, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let endpoint = ImportProgress { site_id, import_id };
            let report = context.call(&endpoint, &NoBody).await?;
            Ok(report.into())
        })
        .await
    }
}
