//! The demo's import step (manual 000, "User Import Service"): the admin imports a small
//! CSV file (one person already on the site, one bad e-mail, one unknown role, one duplicate)
//! and the demo prints the report and the overview e-mail the admin receives.

use std::time::Duration;

use anyhow::anyhow;
use keyway_cloud::email::{mailbox_dir, read_mailbox};
use keyway_cloud::RunningCloud;
use keyway_core::Keyway;

use super::Steps;
use crate::admin_cmd::{import_with_progress, report_lines};

/// What the step needs.
pub struct ImportDemo<'a> {
    /// The cloud (its local mailbox holds the admin's overview).
    pub cloud: &'a RunningCloud,
    /// The admin's phone.
    pub admin: &'a Keyway,
    /// The admin's address.
    pub admin_email: &'a str,
    /// The tenant's address (already on the site: skipped).
    pub tenant_email: &'a str,
    /// The site.
    pub site_id: u32,
}

/// The small file the admin imports.
fn file(tenant_email: &str) -> String {
    format!(
        "First name,Last name,Email,Alias,User role\r\n\
         Grace,Hopper,grace@keyway.example,Amazing Grace,Super user\r\n\
         Alan,Turing,alan@keyway.example,,User\r\n\
         Tess,Tenant,{tenant_email},,User\r\n\
         Edsger,Dijkstra,edsger(at)keyway.example,,User\r\n\
         Ada,Lovelace,ada@keyway.example,,Janitor\r\n\
         Alan,Again,ALAN@keyway.example,,User\r\n"
    )
}

/// Runs the step and prints the report and the overview e-mail.
pub async fn run(steps: &mut Steps, demo: ImportDemo<'_>) -> anyhow::Result<()> {
    let report = steps
        .run(
            "the admin imports people from a CSV file (a dry run first, then for real)",
            async {
                let csv = file(demo.tenant_email).into_bytes();
                let preview = demo
                    .admin
                    .admin()
                    .preview_import(demo.site_id, csv.clone())
                    .await?;
                println!("    {}", report_lines(&preview)[0]);
                import_with_progress(&demo.admin.admin(), demo.site_id, csv).await
            },
        )
        .await?;
    for line in report_lines(&report) {
        println!("    {line}");
    }
    let dir = mailbox_dir(&demo.cloud.state.config.data_dir);
    for _ in 0..250 {
        let overview = read_mailbox(&dir)?
            .into_iter()
            .rev()
            .find(|m| m.to == demo.admin_email && m.subject.starts_with("Import to"));
        if let Some(overview) = overview {
            println!("    the admin's e-mail: \"{}\"", overview.subject);
            if let Some(file) = overview.attachment {
                println!("    attached {}:", file.name);
                for line in file.text.lines() {
                    println!("      {line}");
                }
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(anyhow!("the admin got no import overview e-mail"))
}
