//! The CSV user import through the core (what `keyway admin import` and the apps use): the
//! template, a dry run, the job and its report, an imported person claiming their place, and
//! a refused file's code reaching the app.

use std::time::Duration;

use keyway_core::import::ImportState;
use keyway_core::KeywayError;
use keyway_e2e::{log_in, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_imports_people_who_then_claim_their_place() {
    let world = World::start().await;
    let site = world.site("owner@e2e.test", &[]).await;
    let admin = site.owner.admin();
    let site_id = site.info.site_id;
    let template = admin.import_template(site_id).await.unwrap();
    assert!(template.starts_with("First name,Last name,Email,Alias,User role"));
    let file =
        format!("{template}Tess,Tenant,tess@e2e.test,,User\nBad,Role,bad@e2e.test,,Janitor\n")
            .into_bytes();

    let preview = admin.preview_import(site_id, file.clone()).await.unwrap();
    assert!(preview.dry_run);
    assert_eq!((preview.total_rows, preview.imported), (3, 2));

    let import_id = admin.start_import(site_id, file).await.unwrap();
    let report = loop {
        let report = admin.import_progress(site_id, import_id).await.unwrap();
        if report.state == ImportState::Done {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(report.imported, 2);
    assert_eq!(report.failed_rows.len(), 1);
    assert_eq!(
        (
            report.failed_rows[0].row,
            report.failed_rows[0].reason.as_str()
        ),
        (4, "unknown_role")
    );

    // The invited tenant signs up with that address, verifies it, and the place is theirs.
    let tenant = world.phone("tenant", None);
    world.sign_up_verified(&tenant, "tess@e2e.test").await;
    log_in(&tenant, "tess@e2e.test").await;
    tenant.devices().register().await.unwrap();
    let claimed: (bool, String) = world
        .cloud
        .state
        .store
        .run(move |db| {
            db.query_row(
                "SELECT m.claimed_at IS NOT NULL, m.role FROM memberships m
                 JOIN users u ON u.id = m.user_id
                 WHERE u.email = 'tess@e2e.test' AND m.site_id = ?1",
                [site_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(keyway_cloud::StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(
        claimed,
        (true, "user".to_string()),
        "claimed once they used Keyway"
    );

    let refused = admin
        .start_import(
            site_id,
            b"First name;Last name;Email;Alias;User role\n".to_vec(),
        )
        .await;
    assert!(
        matches!(&refused, Err(KeywayError::InvalidInput { .. })),
        "{refused:?}"
    );
}
