//! `keyway admin`: site administration from a terminal, with the session of `keyway login`.
//!
//! - `keyway admin template --site ID [--output FILE]`: the CSV template of the user import;
//! - `keyway admin import --site ID FILE [--dry-run]`: uploads the file, shows the job's
//!   progress, and prints the report (counts and every failed row with its reason).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use keyway_core::admin::AdminClient;
use keyway_core::import::{ImportReport, ImportState};

use crate::tenant::open_phone;

/// `keyway admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Import people from a CSV file (First name,Last name,Email,Alias,User role; up to 2 MB).
    Import(ImportArgs),
    /// Write the CSV template of the import (to a file, or to standard output).
    Template(TemplateArgs),
}

/// Options of `keyway admin import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The site id.
    #[arg(long)]
    site: u32,
    /// The CSV file.
    file: PathBuf,
    /// Only report what would happen: nothing is written and nobody is e-mailed.
    #[arg(long)]
    dry_run: bool,
}

/// Options of `keyway admin template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// The site id.
    #[arg(long)]
    site: u32,
    /// Where to write it (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Runs an admin command with the logged-in session.
pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    let phone = open_phone(None, None)?;
    let admin = phone.admin();
    match command {
        AdminCommand::Template(args) => {
            let template = admin.import_template(args.site).await?;
            match args.output {
                Some(path) => {
                    std::fs::write(&path, template)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("Wrote the import template to {}.", path.display());
                }
                None => print!("{template}"),
            }
            Ok(())
        }
        AdminCommand::Import(args) => {
            let csv = std::fs::read(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?;
            let report = if args.dry_run {
                admin.preview_import(args.site, csv).await?
            } else {
                import_with_progress(&admin, args.site, csv).await?
            };
            for line in report_lines(&report) {
                println!("{line}");
            }
            Ok(())
        }
    }
}

/// Starts the import and follows it with a progress bar until it ends; returns its report.
pub async fn import_with_progress(
    admin: &AdminClient,
    site_id: u32,
    csv: Vec<u8>,
) -> anyhow::Result<ImportReport> {
    let import_id = admin.start_import(site_id, csv).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        let report = admin.import_progress(site_id, import_id).await?;
        bar.set_length(u64::from(report.total_rows));
        bar.set_position(u64::from(report.processed_rows));
        if matches!(report.state, ImportState::Done | ImportState::Failed) {
            bar.finish_and_clear();
            return Ok(report);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The report as people read it: the counts, then each failed row.
pub fn report_lines(report: &ImportReport) -> Vec<String> {
    let what = if report.dry_run {
        "Dry run (nothing written)".to_string()
    } else {
        format!("Import {} {}", report.import_id, stage_name(report.state))
    };
    let mut lines = vec![format!(
        "{what}: {} row(s): {} imported, {} already on the site (skipped), {} failed",
        report.total_rows,
        report.imported,
        report.skipped_existing,
        report.failed_rows.len()
    )];
    if let Some(error) = &report.error {
        lines.push(format!("  stopped: {error}"));
    }
    for row in &report.failed_rows {
        lines.push(format!(
            "  row {:>5}  {:<32} {}",
            row.row, row.email, row.reason
        ));
    }
    lines
}

fn stage_name(stage: ImportState) -> &'static str {
    match stage {
        ImportState::Queued => "queued",
        ImportState::Running => "running",
        ImportState::Done => "done",
        ImportState::Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_core::import::FailedRow;

    #[test]
    fn the_report_lists_counts_then_each_failed_row() {
        let report = ImportReport {
            import_id: 7,
            state: ImportState::Done,
            dry_run: false,
            total_rows: 3,
            processed_rows: 3,
            imported: 1,
            skipped_existing: 1,
            failed_rows: vec![FailedRow {
                row: 4,
                email: "nope".into(),
                reason: "bad_email".into(),
            }],
            error: None,
        };
        let lines = report_lines(&report);
        assert_eq!(
            lines[0],
            "Import 7 done: 3 row(s): 1 imported, 1 already on the site (skipped), 1 failed"
        );
        assert!(lines[1].contains("row     4") && lines[1].ends_with("bad_email"));
    }
}
