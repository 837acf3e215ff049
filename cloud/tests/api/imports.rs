//! The CSV user import, from manual 000's sentences ("User Import Service") and issue 12.

use std::time::Duration;

use keyway_api::import::{ImportReport, ImportState};
use keyway_api::{PersonStatus, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api_support::{typed, Caller, Cloud};

/// The template's header.
pub const HEADER: &str = "First name,Last name,Email,Alias,User role\n";

/// `POST /sites/{id}/imports` of `file` as `text/csv`.
pub async fn upload(
    cloud: &Cloud,
    caller: &Caller,
    site_id: u32,
    file: impl Into<Vec<u8>>,
    dry_run: bool,
) -> (StatusCode, Value) {
    let query = if dry_run { "?dry_run=true" } else { "" };
    cloud
        .post_raw(
            caller,
            &format!("/api/v1/sites/{site_id}/imports{query}"),
            "text/csv",
            file,
        )
        .await
}

/// The report of an import once it ended.
pub async fn finished(cloud: &Cloud, caller: &Caller, site_id: u32, id: u64) -> ImportReport {
    for _ in 0..2_000 {
        let (status, body) = cloud
            .get(caller, &format!("/api/v1/sites/{site_id}/imports/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let report: ImportReport = typed(body);
        if matches!(report.state, ImportState::Done | ImportState::Failed) {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("import {id} did not end");
}

/// Imports `file` and waits for its report.
pub async fn import(cloud: &Cloud, caller: &Caller, site_id: u32, file: &[u8]) -> ImportReport {
    let (status, body) = upload(cloud, caller, site_id, file.to_vec(), false).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["import_id"].as_u64().unwrap();
    finished(cloud, caller, site_id, id).await
}

/// The rows of a report that failed, as (row, reason).
pub fn failures(report: &ImportReport) -> Vec<(u32, &str)> {
    report
        .failed_rows
        .iter()
        .map(|row| (row.row, row.reason.as_str()))
        .collect()
}

/// The people of a site and the outbox: what a refused or previewed file must leave alone.
pub async fn footprint(cloud: &Cloud) -> (i64, i64, i64) {
    (
        cloud.count("SELECT COUNT(*) FROM memberships").await,
        cloud.count("SELECT COUNT(*) FROM users").await,
        cloud.count("SELECT COUNT(*) FROM email_outbox").await,
    )
}

#[tokio::test]
async fn the_template_has_the_five_columns_and_imports_as_it_is() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (status, content_type, template) = cloud
        .get_text(
            &owner,
            &format!("/api/v1/sites/{}/imports/template", site.site_id),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let mut lines = template.lines();
    assert_eq!(
        lines.next(),
        Some("First name,Last name,Email,Alias,User role")
    );
    assert_eq!(lines.clone().count(), 1, "one example row: {template}");
    let report = import(&cloud, &owner, site.site_id, template.as_bytes()).await;
    assert_eq!((report.state, report.imported), (ImportState::Done, 1));
}

#[tokio::test]
async fn imported_people_are_invited_and_the_requester_gets_the_overview() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let admin = cloud.member(&owner, site.site_id, Role::Admin).await;
    let known = cloud.account_with_email("known@example.com").await;
    let file = format!(
        "{HEADER}Ada,Lovelace,ada@example.com,Countess,User\n\
         Grace,Hopper,Grace@Example.com,,super user\n\
         Known,Person,known@example.com,,Site admin\n"
    );
    let report = import(&cloud, &admin, site.site_id, file.as_bytes()).await;
    assert_eq!(report.state, ImportState::Done);
    assert_eq!(
        (
            report.total_rows,
            report.processed_rows,
            report.imported,
            report.skipped_existing
        ),
        (3, 3, 3, 0)
    );
    assert!(report.failed_rows.is_empty());

    let people = cloud.people(&owner, site.site_id).await;
    let find = |email: &str| {
        people
            .iter()
            .find(|p| p.email.as_deref() == Some(email))
            .unwrap()
            .clone()
    };
    let ada = find("ada@example.com");
    assert_eq!((ada.name.as_str(), ada.role), ("Ada Lovelace", Role::User));
    assert_eq!(ada.status, PersonStatus::Invited);
    assert_eq!(find("grace@example.com").role, Role::SuperUser);
    assert_eq!(find("known@example.com").role, Role::Admin);
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM memberships WHERE alias = 'Countess'")
            .await,
        1
    );

    // "Each new person gets the invitation e-mail": sign up with this address.
    let invitation = cloud.mail_to("ada@example.com").await;
    assert_eq!(invitation.len(), 1);
    assert!(invitation[0].subject.contains("HQ"));
    assert!(invitation[0].body.contains("sign up with this address"));
    // A verified account is told it was added, and nothing about claiming.
    let told = cloud.mail_to("known@example.com").await;
    assert_eq!(told.len(), 1);
    assert!(!told[0].body.contains("sign up"), "{}", told[0].body);
    let _ = known;

    // "The Site Admin who made the request will receive an email … how many users were
    // imported."
    let admin_email: String = cloud
        .running
        .state
        .store
        .run(move |db| {
            db.query_row(
                "SELECT email FROM users WHERE id = ?1",
                [admin.user_id],
                |row| row.get::<_, String>(0),
            )
            .map_err(keyway_cloud::StoreError::from)
        })
        .await
        .unwrap();
    let overview = cloud.mail_to(&admin_email).await;
    let overview = overview.last().unwrap();
    assert!(
        overview.subject.contains("3 people imported"),
        "{}",
        overview.subject
    );
    assert!(
        overview.body.contains("Imported:                 3"),
        "{}",
        overview.body
    );
    assert!(
        overview.attachment.is_none(),
        "no row failed: no attachment"
    );
}

#[tokio::test]
async fn a_person_already_on_the_site_is_skipped_and_a_second_run_adds_only_who_is_missing() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (status, _) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{}/people", site.site_id),
            json!({ "email": "ada@example.com", "name": "Ada as typed", "role": "super_user" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let file = format!(
        "{HEADER}Ada,Lovelace,ada@example.com,,User\nGrace,Hopper,grace@example.com,,User\n"
    );
    let first = import(&cloud, &owner, site.site_id, file.as_bytes()).await;
    assert_eq!((first.imported, first.skipped_existing), (1, 1));
    let people = cloud.people(&owner, site.site_id).await;
    let ada = people
        .iter()
        .find(|p| p.email.as_deref() == Some("ada@example.com"))
        .unwrap();
    assert_eq!(ada.role, Role::SuperUser, "left as it was");
    assert_eq!(ada.name, "Ada as typed");
    let mails_before = cloud.count("SELECT COUNT(*) FROM email_outbox").await;

    let again = import(&cloud, &owner, site.site_id, file.as_bytes()).await;
    assert_eq!((again.imported, again.skipped_existing), (0, 2));
    assert_eq!(cloud.people(&owner, site.site_id).await.len(), 3);
    // Only the requester's overview: nobody is invited twice.
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM email_outbox").await,
        mails_before + 1
    );
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    cloud.member(&owner, site.site_id, Role::User).await;
    let member_email = cloud
        .people(&owner, site.site_id)
        .await
        .into_iter()
        .find(|p| p.role == Role::User)
        .unwrap()
        .email
        .unwrap();
    let file = format!(
        "{HEADER}Ada,Lovelace,ada@example.com,,User\nMember,Again,{member_email},,User\n\
         Bad,Row,nope,,User\n"
    );
    let before = footprint(&cloud).await;
    let imports_before = cloud.count("SELECT COUNT(*) FROM imports").await;
    let (status, body) = upload(&cloud, &owner, site.site_id, file, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: ImportReport = typed(body);
    assert!(report.dry_run);
    assert_eq!(
        (report.total_rows, report.imported, report.skipped_existing),
        (3, 1, 1)
    );
    assert_eq!(failures(&report), vec![(4, "bad_email")]);
    assert_eq!(footprint(&cloud).await, before);
    assert_eq!(
        cloud.count("SELECT COUNT(*) FROM imports").await,
        imports_before
    );
}

#[tokio::test]
async fn only_the_owner_admins_and_super_users_import_and_super_users_only_their_roles() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let user = cloud.member(&owner, site.site_id, Role::User).await;
    let outsider = cloud.account().await;
    let file = format!(
        "{HEADER}Ada,Lovelace,ada@example.com,,Site admin\nGrace,Hopper,grace@example.com,,Super user\n"
    );
    let (status, body) = upload(&cloud, &user, site.site_id, file.clone(), false).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _) = upload(&cloud, &outsider, site.site_id, file.clone(), false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = cloud
        .get_text(
            &user,
            &format!("/api/v1/sites/{}/imports/template", site.site_id),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let super_user = cloud.member(&owner, site.site_id, Role::SuperUser).await;
    let report = import(&cloud, &super_user, site.site_id, file.as_bytes()).await;
    assert_eq!(report.imported, 1);
    assert_eq!(failures(&report), vec![(2, "role_not_allowed")]);
    // Another site's admin cannot read this site's import.
    let other_owner = cloud.account().await;
    let other = cloud.site(&other_owner).await;
    let (status, _) = cloud
        .get(
            &other_owner,
            &format!(
                "/api/v1/sites/{}/imports/{}",
                other.site_id, report.import_id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_file_goes_as_text_csv() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (status, body) = cloud
        .post_raw(
            &owner,
            &format!("/api/v1/sites/{}/imports", site.site_id),
            "application/json",
            format!("{HEADER}Ada,Lovelace,ada@example.com,,User\n"),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["error"], "unsupported_media_type");
}

#[tokio::test]
async fn a_large_file_is_imported_in_batches_that_leave_the_store_to_other_requests() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let rows = 3 * keyway_cloud::import::BATCH_ROWS + 7;
    let mut file = HEADER.to_string();
    for n in 0..rows {
        file.push_str(&format!("Person,{n},p{n}@example.com,,User\n"));
    }
    let (status, body) = upload(&cloud, &owner, site.site_id, file, false).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["import_id"].as_u64().unwrap();
    // Other requests are answered while the job runs, and see whole batches only.
    let mut seen = Vec::new();
    loop {
        let (status, body) = cloud
            .get(
                &owner,
                &format!("/api/v1/sites/{}/imports/{id}", site.site_id),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let report: ImportReport = typed(body);
        assert_eq!(
            report.processed_rows as usize % keyway_cloud::import::BATCH_ROWS,
            if report.processed_rows as usize == rows {
                7
            } else {
                0
            },
            "whole batches: {report:?}"
        );
        let members = cloud
            .count(format!(
                "SELECT COUNT(*) FROM memberships WHERE site_id = {}",
                site.site_id
            ))
            .await;
        seen.push(report.processed_rows);
        if report.state == ImportState::Done {
            assert_eq!(members as usize, rows + 1);
            break;
        }
        assert!(members as usize > report.processed_rows as usize);
    }
    assert_eq!(*seen.last().unwrap() as usize, rows);
}

#[tokio::test]
async fn a_job_the_cloud_stopped_in_the_middle_is_failed_at_the_next_start() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (site_id, user_id) = (site.site_id, owner.user_id);
    let id = cloud
        .running
        .state
        .store
        .run(move |db| {
            db.execute(
                "INSERT INTO imports (site_id, requested_by, state, total_rows, processed_rows,
                 imported, created_at) VALUES (?1, ?2, 'running', 5000, 2000, 2000, 0)",
                [site_id, user_id],
            )?;
            Ok::<_, keyway_cloud::StoreError>(db.last_insert_rowid())
        })
        .await
        .unwrap();
    let dir = cloud.stop().await;
    let config = keyway_cloud::CloudConfig::new(dir.path().join("data"));
    let cloud = Cloud::start_in(dir, config).await;
    let (status, body) = cloud
        .get(&owner, &format!("/api/v1/sites/{site_id}/imports/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: ImportReport = typed(body);
    assert_eq!(report.state, ImportState::Failed);
    assert_eq!(report.error.as_deref(), Some("interrupted"));
    assert_eq!((report.processed_rows, report.imported), (2000, 2000));
}
