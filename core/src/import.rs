//! The CSV user import from the app or the CLI (manual 000, "User Import Service"): the
//! template, a dry run, starting the job and following it. The cloud checks every rule; a
//! refused file comes back as `InvalidInput` with the cloud's sentence. Reports reach the app
//! as keyway-api's own [`ImportReport`] (re-exported here).

use std::sync::Arc;

use keyway_api::endpoints::{
    CsvFile, ImportProgress, ImportTemplate, NoBody, PreviewImport, StartImport, TextBody,
};
pub use keyway_api::import::{FailedRow, ImportReport, ImportState};

use crate::admin::AdminClient;
use crate::runtime::on_core_runtime;
use crate::KeywayError;

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
    ) -> Result<ImportReport, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            context
                .call(&PreviewImport { site_id }, &CsvFile(csv))
                .await
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
    ) -> Result<ImportReport, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            let endpoint = ImportProgress { site_id, import_id };
            context.call(&endpoint, &NoBody).await
        })
        .await
    }
}
