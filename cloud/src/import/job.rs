//! The import job: people added [`BATCH_ROWS`] per transaction, each transaction on the
//! blocking pool, so other requests get the store between batches (a 40,000-row file never
//! holds it for more than one batch), a crash leaves whole batches or nothing, and the job's
//! counts are committed with the people they count. At the end the requester is e-mailed the
//! report, with the failed rows attached when some failed.

use keyway_api::import::ImportReport;
use rusqlite::Connection;

use super::parse::{PersonRow, RowFailure};
use super::{failed_csv, mail, store, BATCH_ROWS};
use crate::api::access::role_on_site;
use crate::email::{self, Attachment};
use crate::error::{ApiError, ApiResult};
use crate::membership::{add_by_email, Newcomer, TargetSite};
use crate::pods::mail::site_info;
use crate::AppState;

/// An accepted file, recorded as job `import_id`.
#[derive(Debug, Clone)]
pub struct Job {
    /// The job.
    pub import_id: u32,
    /// The site people are added to.
    pub site_id: u32,
    /// Who asked: each batch is added with their role on the site as it is then.
    pub requested_by: u32,
    /// The valid rows.
    pub people: Vec<PersonRow>,
    /// The rows that failed (already recorded), for the attachment.
    pub failures: Vec<RowFailure>,
}

/// Runs `job` to its end and e-mails the requester. A failure stops the job (`failed`, with
/// the error's machine code); batches committed before it stay.
pub async fn run(state: AppState, job: Job) {
    let Job {
        import_id,
        site_id,
        requested_by,
        people,
        failures,
    } = job;
    let error = run_batches(&state, import_id, site_id, requested_by, people)
        .await
        .err();
    if let Some(ApiError::Internal(detail)) = &error {
        tracing::error!(import_id, %detail, "import stopped");
    }
    let code = error.as_ref().map(|error| error.code().as_str());
    let now = state.clock.now();
    let ended = state
        .store
        .transaction(move |tx| {
            store::finish(tx, import_id, code, now)?;
            tell_requester(tx, import_id, site_id, requested_by, &failures, now)
        })
        .await;
    if let Err(error) = ended {
        tracing::error!(import_id, %error, "import report not recorded");
    }
    state.mail.wake();
}

async fn run_batches(
    state: &AppState,
    import_id: u32,
    site_id: u32,
    requested_by: u32,
    people: Vec<PersonRow>,
) -> ApiResult<()> {
    state
        .store
        .run(move |db| store::start(db, import_id))
        .await?;
    let public_url = state.public_url();
    let mut people = people.into_iter().peekable();
    while people.peek().is_some() {
        let batch: Vec<PersonRow> = people.by_ref().take(BATCH_ROWS).collect();
        let public_url = public_url.clone();
        let now = state.clock.now();
        state
            .store
            .transaction(move |tx| {
                add_batch(
                    tx,
                    import_id,
                    site_id,
                    requested_by,
                    &batch,
                    &public_url,
                    now,
                )
            })
            .await?;
    }
    Ok(())
}

/// Adds one batch as the requester (with their role now) and counts it, in one transaction.
fn add_batch(
    db: &Connection,
    import_id: u32,
    site_id: u32,
    requested_by: u32,
    batch: &[PersonRow],
    public_url: &str,
    now: i64,
) -> ApiResult<()> {
    let actor = role_on_site(db, site_id, requested_by)?;
    let site = site_info(db, site_id)?;
    let target = TargetSite {
        site_id,
        name: &site.name,
        public_url,
    };
    let (mut imported, mut skipped) = (0u32, 0u32);
    for person in batch {
        let newcomer = Newcomer {
            email: &person.email,
            name: &person.name,
            alias: person.alias.as_deref(),
            role: person.role,
            phone: None,
        };
        match add_by_email(db, actor, target, newcomer, now)? {
            Some(_) => imported += 1,
            None => skipped += 1,
        }
    }
    store::add_batch(db, import_id, imported, skipped)
}

/// Queues the requester's e-mail: the report (failed rows attached), or that the job stopped.
fn tell_requester(
    db: &Connection,
    import_id: u32,
    site_id: u32,
    requested_by: u32,
    failures: &[RowFailure],
    now: i64,
) -> ApiResult<()> {
    let report: ImportReport = store::report(db, site_id, import_id)?
        .ok_or_else(|| ApiError::Internal(format!("import {import_id} vanished")))?;
    let (to, name) = store::account(db, requested_by)?;
    let site = site_info(db, site_id)?;
    if report.error.is_some() {
        email::queue(
            db,
            &mail::stopped_email(&to, &name, &site.name, &report),
            now,
        )?;
        return Ok(());
    }
    let note = mail::report_email(&to, &name, &site.name, &report);
    if failures.is_empty() {
        email::queue(db, &note, now)?;
        return Ok(());
    }
    let bytes = failed_csv::failed_rows_csv(failures)
        .map_err(|error| ApiError::Internal(format!("failed rows CSV: {error}")))?;
    let attachment = Attachment {
        name: failed_csv::FILE_NAME.into(),
        content_type: "text/csv".into(),
        bytes,
    };
    email::queue_with_attachment(db, &note, &attachment, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use keyway_api::Role;

    use super::*;
    use crate::store::Store;

    /// Site 1 "Tower" with user 1 (`role`) on it, and import job 1 of user 1.
    fn setup(db: &Connection, role: &str) {
        db.execute_batch(
            "INSERT INTO users (id, email, name, created_at, email_verified_at)
             VALUES (1, 'admin@example.com', 'Admin', 0, 0);
             INSERT INTO sites (id, name, authority_pkcs8, created_at)
             VALUES (1, 'Tower', keyway_seal('sites.authority_pkcs8', X'00', 1), 0);",
        )
        .unwrap();
        db.execute(
            "INSERT INTO memberships (site_id, user_id, role, created_at, claimed_at)
             VALUES (1, 1, ?1, 0, 0)",
            [role],
        )
        .unwrap();
        store::create(db, 1, 1, 3, &[], 0).unwrap();
    }

    fn person(row: u32, email: &str, role: Role) -> PersonRow {
        PersonRow {
            row,
            email: email.into(),
            name: "Someone".into(),
            alias: None,
            role,
        }
    }

    fn batch(roles: [Role; 3]) -> Vec<PersonRow> {
        ["a@example.com", "b@example.com", "c@example.com"]
            .iter()
            .zip(roles)
            .enumerate()
            .map(|(index, (email, role))| person(u32::try_from(index).unwrap() + 2, email, role))
            .collect()
    }

    /// Runs `add_batch` in a transaction as the job does; returns its outcome and then the
    /// people on the site, the job's imported count and the queued e-mails.
    async fn run_batch(role: &'static str, people: Vec<PersonRow>) -> (bool, i64, i64, i64) {
        let store = Store::open_in_memory().unwrap();
        store
            .run(move |db| {
                setup(db, role);
                Ok::<_, ApiError>(())
            })
            .await
            .unwrap();
        let added = store
            .transaction(move |tx| add_batch(tx, 1, 1, 1, &people, "http://127.0.0.1:1", 0))
            .await
            .is_ok();
        store
            .run(move |db| {
                let count = |sql: &str| db.query_row(sql, [], |row| row.get::<_, i64>(0));
                Ok::<_, ApiError>((
                    added,
                    count("SELECT COUNT(*) FROM memberships")?,
                    count("SELECT imported FROM imports WHERE id = 1")?,
                    count("SELECT COUNT(*) FROM email_outbox")?,
                ))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_batch_adds_its_people_counts_them_and_invites_each() {
        let outcome = run_batch("admin", batch([Role::User, Role::SuperUser, Role::Admin])).await;
        assert_eq!(outcome, (true, 4, 3, 3));
    }

    #[tokio::test]
    async fn a_batch_is_whole_or_nothing_when_the_requester_may_no_longer_add_a_role() {
        // Demoted to super user after the file was read: the admin row stops the batch, and
        // none of it is written (people, counts, e-mails).
        let outcome = run_batch("super_user", batch([Role::User, Role::Admin, Role::User])).await;
        assert_eq!(outcome, (false, 1, 0, 0));
        // Demoted to user: nothing at all.
        let outcome = run_batch("user", batch([Role::User, Role::User, Role::User])).await;
        assert_eq!(outcome, (false, 1, 0, 0));
    }
}
