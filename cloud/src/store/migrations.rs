//! The cloud's versioned schema migrations, run by the shared `keyway-migrate` runner: each
//! runs once, in order, inside a transaction, and bumps `PRAGMA user_version`. Never edit a
//! released migration: add the next one.

use rusqlite::Connection;

use super::StoreError;

/// The migrations, in order: version `n` is `MIGRATIONS[n - 1]`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_domain", include_str!("migrations/0001_domain.sql")),
    ("0002_oauth", include_str!("migrations/0002_oauth.sql")),
    ("0003_remote", include_str!("migrations/0003_remote.sql")),
    ("0004_pods", include_str!("migrations/0004_pods.sql")),
    (
        "0005_iq_config_serial",
        include_str!("migrations/0005_iq_config_serial.sql"),
    ),
    (
        "0006_revocation_epochs",
        include_str!("migrations/0006_revocation_epochs.sql"),
    ),
    (
        "0007_email_verification",
        include_str!("migrations/0007_email_verification.sql"),
    ),
    (
        "0008_sealed_secrets",
        include_str!("migrations/0008_sealed_secrets.sql"),
    ),
    ("0009_imports", include_str!("migrations/0009_imports.sql")),
    (
        "0010_people_paging",
        include_str!("migrations/0010_people_paging.sql"),
    ),
    (
        "0011_listed_name_given",
        include_str!("migrations/0011_listed_name_given.sql"),
    ),
    (
        "0012_profiles_and_phones",
        include_str!("migrations/0012_profiles_and_phones.sql"),
    ),
    (
        "0013_live_notices",
        include_str!("migrations/0013_live_notices.sql"),
    ),
    (
        "0014_lock_rules",
        include_str!("migrations/0014_lock_rules.sql"),
    ),
    (
        "0015_integrations",
        include_str!("migrations/0015_integrations.sql"),
    ),
    (
        "0016_timed_access",
        include_str!("migrations/0016_timed_access.sql"),
    ),
    ("0017_scim", include_str!("migrations/0017_scim.sql")),
    (
        "0018_connected_apps",
        include_str!("migrations/0018_connected_apps.sql"),
    ),
];

/// The schema version recorded in the database.
pub fn schema_version(connection: &Connection) -> Result<i64, StoreError> {
    Ok(keyway_migrate::schema_version(connection)?)
}

/// Applies every migration newer than the database; a database from a newer build is
/// refused ([`StoreError::TooNew`]): the cloud's data is not a cache to rebuild.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    keyway_migrate::migrate(connection, MIGRATIONS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_reaches_the_latest_version_and_reopening_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let mut connection = Connection::open(&path).unwrap();
        migrate(&mut connection).unwrap();
        assert_eq!(
            schema_version(&connection).unwrap(),
            i64::try_from(MIGRATIONS.len()).unwrap()
        );
        connection
            .execute(
                "INSERT INTO users (email, name, created_at) VALUES ('a@b.c', 'A', 0)",
                [],
            )
            .unwrap();
        drop(connection);
        let mut again = Connection::open(&path).unwrap();
        migrate(&mut again).unwrap();
        let users: i64 = again
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(users, 1, "re-running migrations keeps the data");
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            migrate(&mut connection),
            Err(StoreError::TooNew { found: 999, .. })
        ));
    }

    #[test]
    fn a_failing_migration_leaves_the_database_untouched() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY)")
            .unwrap();
        assert!(
            matches!(
                migrate(&mut connection),
                Err(StoreError::Migration { ref name, .. }) if name == "0001_domain"
            ),
            "the table already exists"
        );
        assert_eq!(schema_version(&connection).unwrap(), 0);
    }

    #[test]
    fn the_schema_allows_one_owner_per_site() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(&mut connection).unwrap();
        connection
            .execute_batch(
                "INSERT INTO users (id, email, name, created_at) VALUES (1, 'a@x', 'A', 0), (2, 'b@x', 'B', 0);
                 INSERT INTO sites (id, name, authority_pkcs8, created_at) VALUES (1, 'S', x'00', 0);
                 INSERT INTO memberships (site_id, user_id, role, created_at) VALUES (1, 1, 'owner', 0);",
            )
            .unwrap();
        let second_owner =
            connection.execute("INSERT INTO memberships (site_id, user_id, role, created_at) VALUES (1, 2, 'owner', 0)", []);
        assert!(second_owner.is_err());
    }

    #[test]
    fn making_e_mail_optional_keeps_every_person_and_their_places() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection
            .pragma_update(None, "foreign_keys", true)
            .unwrap();
        let before_profiles = 11;
        keyway_migrate::migrate(&mut connection, &MIGRATIONS[..before_profiles]).unwrap();
        connection
            .execute_batch(
                "INSERT INTO users (id, email, name, created_at, email_verified_at)
                     VALUES (1, 'ada@example.com', 'Ada', 0, 0);
                 INSERT INTO sites (id, name, authority_pkcs8, created_at) VALUES (1, 'S', x'00', 0);
                 INSERT INTO memberships (site_id, user_id, role, created_at, claimed_at)
                     VALUES (1, 1, 'owner', 0, 0);",
            )
            .unwrap();
        migrate(&mut connection).unwrap();
        let (email, places): (String, i64) = connection
            .query_row(
                "SELECT email, (SELECT COUNT(*) FROM memberships WHERE user_id = 1)
                 FROM users WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((email.as_str(), places), ("ada@example.com", 1));
        // The rebuilt table's trigger still keeps the people list's sort key.
        connection
            .execute("UPDATE users SET name = 'Ada Lovelace' WHERE id = 1", [])
            .unwrap();
        let listed: String = connection
            .query_row(
                "SELECT listed_name FROM memberships WHERE user_id = 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(listed, "Ada Lovelace");
        // A person without an e-mail (a tag profile) can never hold a password.
        connection
            .execute(
                "INSERT INTO users (id, name, created_at) VALUES (2, 'Tag', 0)",
                [],
            )
            .unwrap();
        let with_password = connection.execute(
            "INSERT INTO users (id, name, password_hash, created_at) VALUES (3, 'T', 'x', 0)",
            [],
        );
        assert!(with_password.is_err());
    }

    #[test]
    fn timed_access_keeps_one_external_id_per_person_and_every_membership() {
        let mut connection = Connection::open_in_memory().unwrap();
        let before_timed_access = 15;
        keyway_migrate::migrate(&mut connection, &MIGRATIONS[..before_timed_access]).unwrap();
        // The triggers call the cloud's functions; a bare connection binds stand-ins.
        for name in ["keyway_now", "keyway_live_wake", "keyway_webhooks_wake"] {
            connection
                .create_scalar_function(
                    name,
                    0,
                    rusqlite::functions::FunctionFlags::SQLITE_UTF8,
                    |_| Ok(0),
                )
                .unwrap();
        }
        connection
            .execute_batch(
                "INSERT INTO users (id, email, name, created_at) VALUES (1, 'a@x', 'A', 0);
                 INSERT INTO sites (id, name, authority_pkcs8, created_at) VALUES (1, 'S', x'00', 0);
                 INSERT INTO memberships (site_id, user_id, role, created_at) VALUES (1, 1, 'user', 0);
                 INSERT INTO access_groups (id, site_id, name, created_at) VALUES (1, 1, 'G', 0);
                 INSERT INTO access_group_members VALUES (1, 1);
                 INSERT INTO integration_people VALUES (1, 'first', 1), (1, 'second', 1);
                 INSERT INTO users (id, email, name, created_at) VALUES (2, 'b@x', 'B', 0);
                 INSERT INTO memberships (site_id, user_id, role, created_at) VALUES (1, 2, 'user', 0);
                 INSERT INTO integration_people VALUES (1, 'other', 2);
                 INSERT INTO api_keys (id, site_id, name, secret_hash, scopes, created_at)
                     VALUES (7, 1, 'K', x'01', 'access:write people:write', 0);
                 INSERT INTO integration_audit (site_id, api_key_id, route, change, at) VALUES
                     (1, 7, 'upsert_person', 'person first (user 1) added', 0),
                     (1, 7, 'upsert_person', 'person other (user 2) updated', 0),
                     (1, 7, 'set_membership', 'person first (user 1) joined group 1', 0);",
            )
            .unwrap();
        migrate(&mut connection).unwrap();
        let kept: Vec<String> = connection
            .prepare("SELECT external_id FROM integration_people ORDER BY external_id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            kept,
            ["first", "other"],
            "the first id kept, the second dropped"
        );
        let matched: Vec<(String, bool)> = connection
            .prepare("SELECT external_id, matched FROM integration_people ORDER BY external_id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            matched,
            [("first".to_string(), false), ("other".to_string(), true)],
            "who the system added, by its audit; the rest were there before it"
        );
        let granted_by: Option<u32> = connection
            .query_row(
                "SELECT granted_by_key FROM access_group_members WHERE user_id = 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            granted_by,
            Some(7),
            "the grant its audit records is the key's"
        );
        let lasting: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM access_group_members
                 WHERE valid_from IS NULL AND valid_until IS NULL",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(lasting, 1, "a membership from before lasts, as it did");
        let twice = connection.execute(
            "INSERT INTO integration_people (site_id, external_id, user_id) VALUES (1, 'third', 1)",
            [],
        );
        assert!(twice.is_err(), "one id per person from now on");
    }

    #[test]
    fn places_stay_active_a_suspension_tells_the_phones_and_iqs_and_leaving_ends_the_scim_mapping()
    {
        let mut connection = Connection::open_in_memory().unwrap();
        let before_scim = MIGRATIONS
            .iter()
            .position(|(name, _)| *name == "0017_scim")
            .unwrap();
        keyway_migrate::migrate(&mut connection, &MIGRATIONS[..before_scim]).unwrap();
        connection
            .execute_batch(
                "INSERT INTO users (id, email, name, created_at) VALUES (1, 'a@x', 'A', 0);
                 INSERT INTO sites (id, name, authority_pkcs8, created_at) VALUES (1, 'S', x'00', 0);
                 INSERT INTO memberships (site_id, user_id, role, created_at) VALUES (1, 1, 'user', 0);",
            )
            .unwrap();
        migrate(&mut connection).unwrap();
        connection
            .create_scalar_function("keyway_live_wake", 0, Default::default(), |_| Ok(0))
            .unwrap();
        let suspended = |db: &Connection| -> i64 {
            db.query_row(
                "SELECT COUNT(*) FROM memberships WHERE suspended_at IS NOT NULL",
                [],
                |row| row.get(0),
            )
            .unwrap()
        };
        assert_eq!(suspended(&connection), 0, "an existing place stays active");
        let notices = |db: &Connection| -> Vec<String> {
            let mut statement = db
                .prepare("SELECT kind FROM live_outbox ORDER BY kind")
                .unwrap();
            statement
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        connection
            .execute("UPDATE memberships SET suspended_at = 5", [])
            .unwrap();
        assert_eq!(notices(&connection), ["iq", "keys", "pods", "remote"]);
        connection
            .execute("UPDATE memberships SET suspended_at = 6", [])
            .unwrap();
        assert_eq!(
            notices(&connection).len(),
            4,
            "still suspended: nothing to tell"
        );
        connection
            .execute_batch(
                "INSERT INTO scim_users (site_id, user_id, external_id) VALUES (1, 1, '00u1');
                 DELETE FROM memberships;",
            )
            .unwrap();
        let mapped: i64 = connection
            .query_row("SELECT COUNT(*) FROM scim_users", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mapped, 0);
    }

    #[test]
    fn connected_apps_keep_api_keys_and_allow_one_live_connection_per_site() {
        let mut connection = Connection::open_in_memory().unwrap();
        let before_connected_apps = MIGRATIONS.len() - 1;
        keyway_migrate::migrate(&mut connection, &MIGRATIONS[..before_connected_apps]).unwrap();
        connection
            .execute_batch(
                "INSERT INTO users (id, email, name, created_at) VALUES (1, 'a@x', 'A', 0);
                 INSERT INTO sites (id, name, authority_pkcs8, created_at) VALUES (1, 'S', x'00', 0);
                 INSERT INTO api_keys (site_id, name, secret_hash, scopes, created_at)
                     VALUES (1, 'K', x'01', 'people:write', 0);",
            )
            .unwrap();
        migrate(&mut connection).unwrap();
        let plain_keys: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM api_keys WHERE connection_id IS NULL",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(plain_keys, 1, "an existing key is nobody's connection");
        connection
            .execute_batch(
                "INSERT INTO connected_apps (id, client_id, name, secret_hash, redirect_uris, created_at)
                     VALUES (1, 'kwa_x', 'Cowork', x'02', 'https://c.example/cb', 0);
                 INSERT INTO app_connections (app_id, site_id, scopes, connected_by, connected_at)
                     VALUES (1, 1, 'people:write', 1, 0);",
            )
            .unwrap();
        let second = connection.execute(
            "INSERT INTO app_connections (app_id, site_id, scopes, connected_at)
             VALUES (1, 1, 'people:write', 1)",
            [],
        );
        assert!(second.is_err(), "one live connection per app and site");
        connection
            .execute_batch(
                "UPDATE app_connections SET disconnected_at = 2;
                 INSERT INTO app_connections (app_id, site_id, scopes, connected_at)
                     VALUES (1, 1, 'people:write', 3);",
            )
            .unwrap();
    }
}
