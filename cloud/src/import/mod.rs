//! CSV user import (manual 000, "User Import Service"): a site admin uploads one file of up
//! to [`MAX_FILE_BYTES`] (about 40,000 people) and the cloud adds everyone in it as a job.
//!
//! - [`parse`]: the file's rules (UTF-8 with or without BOM, commas only, the template's five
//!   columns in order) and each row's (missing field, bad e-mail, unknown role, the same
//!   e-mail twice, a name too long): a bad file is refused whole with a machine code, a bad
//!   row is listed with its number and reason and does not stop the others;
//! - [`job`]: the job, [`BATCH_ROWS`] people per transaction on the blocking pool, so other
//!   requests get the store between batches and a crash leaves whole batches or nothing;
//!   people already on the site are skipped, so running a file again adds only who is missing;
//! - [`failed_csv`]: the failed rows as a CSV attachment, every cell neutralised against
//!   formula injection;
//! - [`mail`]: the e-mails to the requester (the report, or why the file was refused);
//! - [`store`]: the `imports` and `import_failures` tables.
//!
//! Each person is added by [`crate::membership::add_by_email`], the same function as
//! `POST /sites/{id}/people`: invitation or "you were added" e-mail included.

pub mod failed_csv;
pub mod job;
pub mod mail;
pub mod parse;
pub mod store;

/// The largest file accepted: 2 MB (manual 000: "up to 2MB of users, … roughly 40,000").
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;
/// People added per transaction.
pub const BATCH_ROWS: usize = 4_000;
/// The template's example row, under [`keyway_api::import::IMPORT_COLUMNS`].
pub const TEMPLATE_EXAMPLE: &str = "Ada,Lovelace,ada.lovelace@example.com,Ada L.,User";

/// The CSV template: the header and one example row.
pub fn template() -> String {
    format!(
        "{}\r\n{TEMPLATE_EXAMPLE}\r\n",
        keyway_api::import::IMPORT_COLUMNS.join(",")
    )
}
