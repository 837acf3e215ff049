//! The e-mails an import sends its requester (manual 000: "you will receive an email with an
//! overview of the import process"): the report when the job ends (with the failed rows
//! attached, if any), or why the file was refused or the job stopped.

use keyway_api::import::ImportReport;

use super::failed_csv::FILE_NAME;
use super::parse::FileProblem;
use crate::email::NewEmail;

/// The report of a finished job to its requester.
pub fn report_email(to: &str, name: &str, site_name: &str, report: &ImportReport) -> NewEmail {
    let failed = report.failed_rows.len();
    let failed_line = if failed == 0 {
        "No row failed.".to_string()
    } else {
        format!(
            "{failed} row(s) were not imported: {FILE_NAME}, attached, lists each with its row \
             number and the reason. Fix them in that file, remove the last two columns (Row, \
             Reason) and import it again."
        )
    };
    NewEmail {
        to: to.to_string(),
        subject: format!(
            "Import to {site_name} complete: {} people imported",
            report.imported
        ),
        body: format!(
            "Hello {name},\n\n\
             Your import of {} row(s) to {site_name} is complete (import {}).\n\n\
             \x20 Imported:                 {}\n\
             \x20 Already on the site:      {} (skipped, left as they were)\n\
             \x20 Not imported:             {failed}\n\n\
             {failed_line}\n\n\
             Each new person got an e-mail inviting them to sign up with their address; people \
             who already had a Keyway account were told they were added.\n",
            report.total_rows, report.import_id, report.imported, report.skipped_existing,
        ),
        secret: None,
    }
}

/// Why a file was refused, to its requester.
pub fn refused_email(to: &str, name: &str, site_name: &str, problem: FileProblem) -> NewEmail {
    NewEmail {
        to: to.to_string(),
        subject: format!("Import to {site_name} failed: the file was not read"),
        body: format!(
            "Hello {name},\n\n\
             Your import to {site_name} failed because of the file's format; nobody was \
             added.\n\n{problem}.\n\n\
             Download the template (keyway admin template), fill it in and import it again.\n"
        ),
        secret: None,
    }
}

/// A job that stopped before its end, to its requester.
pub fn stopped_email(to: &str, name: &str, site_name: &str, report: &ImportReport) -> NewEmail {
    NewEmail {
        to: to.to_string(),
        subject: format!("Import to {site_name} stopped"),
        body: format!(
            "Hello {name},\n\n\
             Your import to {site_name} (import {}) stopped after {} of {} row(s): {} people \
             were imported, {} were already on the site. Whole batches were saved, nothing \
             half. Run the same file again to import who is missing (people already on the \
             site are skipped).\n",
            report.import_id,
            report.processed_rows,
            report.total_rows,
            report.imported,
            report.skipped_existing,
        ),
        secret: None,
    }
}
