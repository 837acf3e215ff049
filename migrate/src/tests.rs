use super::*;

const TWO: &[Migration<'static>] = &[
    (
        "0001_people",
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    ),
    (
        "0002_pets",
        "CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL);",
    ),
];

fn tables(connection: &Connection) -> Vec<String> {
    let mut statement = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let names = statement.query_map([], |row| row.get(0)).unwrap();
    names.collect::<rusqlite::Result<_>>().unwrap()
}

#[test]
fn a_fresh_database_gets_every_migration() {
    let mut connection = Connection::open_in_memory().unwrap();
    let outcome = migrate(&mut connection, TWO).unwrap();
    assert_eq!(outcome, Outcome { from: 0, to: 2 });
    assert!(outcome.changed());
    assert_eq!(schema_version(&connection).unwrap(), 2);
    assert_eq!(tables(&connection), ["people", "pets"]);
}

#[test]
fn running_again_changes_nothing_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let mut connection = Connection::open(&path).unwrap();
    migrate(&mut connection, TWO).unwrap();
    connection
        .execute("INSERT INTO people (name) VALUES ('Ada')", [])
        .unwrap();
    drop(connection);
    let mut again = Connection::open(&path).unwrap();
    let outcome = migrate(&mut again, TWO).unwrap();
    assert_eq!(outcome, Outcome { from: 2, to: 2 });
    assert!(!outcome.changed());
    let people: i64 = again
        .query_row("SELECT COUNT(*) FROM people", [], |r| r.get(0))
        .unwrap();
    assert_eq!(people, 1);
}

#[test]
fn only_the_migrations_a_database_has_not_seen_run() {
    let mut connection = Connection::open_in_memory().unwrap();
    migrate(&mut connection, &TWO[..1]).unwrap();
    let outcome = migrate(&mut connection, TWO).unwrap();
    assert_eq!(outcome, Outcome { from: 1, to: 2 });
    assert_eq!(tables(&connection), ["people", "pets"]);
}

#[test]
fn a_failing_migration_leaves_the_database_untouched() {
    let mut connection = Connection::open_in_memory().unwrap();
    migrate(&mut connection, &TWO[..1]).unwrap();
    let broken: &[Migration<'_>] = &[
        TWO[0],
        (
            "0002_half",
            "CREATE TABLE half (id INTEGER); NOT SQL AT ALL;",
        ),
    ];
    let error = migrate(&mut connection, broken).unwrap_err();
    assert!(matches!(
        error,
        MigrateError::Failed { ref name, version: 2, .. } if name == "0002_half"
    ));
    assert_eq!(schema_version(&connection).unwrap(), 1);
    assert_eq!(
        tables(&connection),
        ["people"],
        "the half migration was rolled back"
    );
}

#[test]
fn a_database_from_a_newer_build_is_refused_and_left_alone() {
    let mut connection = Connection::open_in_memory().unwrap();
    migrate(&mut connection, TWO).unwrap();
    connection.pragma_update(None, "user_version", 7).unwrap();
    let error = migrate(&mut connection, &TWO[..1]).unwrap_err();
    assert!(matches!(
        error,
        MigrateError::TooNew {
            found: 7,
            supported: 1
        }
    ));
    assert_eq!(schema_version(&connection).unwrap(), 7);
}

#[test]
fn a_file_that_is_not_a_database_is_an_sqlite_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.sqlite3");
    std::fs::write(&path, [0x5a_u8; 4096]).unwrap();
    let mut connection = Connection::open(&path).unwrap();
    assert!(matches!(
        migrate(&mut connection, TWO),
        Err(MigrateError::Sqlite(_))
    ));
}

/// Parents with children that go when their parent goes (`ON DELETE CASCADE`).
const FAMILY: &[Migration<'static>] = &[(
    "0001_family",
    "CREATE TABLE parents (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
     CREATE TABLE children (id INTEGER PRIMARY KEY,
         parent INTEGER NOT NULL REFERENCES parents(id) ON DELETE CASCADE);",
)];

/// `parents.email` becomes optional: the table is rebuilt.
const OPTIONAL_EMAIL: &str = "-- keyway-migrate: rebuilds tables
    CREATE TABLE parents_new (id INTEGER PRIMARY KEY, email TEXT);
    INSERT INTO parents_new SELECT id, email FROM parents;
    DROP TABLE parents;
    ALTER TABLE parents_new RENAME TO parents;";

fn family_with_two_children() -> Connection {
    let mut connection = Connection::open_in_memory().unwrap();
    connection
        .pragma_update(None, "foreign_keys", true)
        .unwrap();
    migrate(&mut connection, FAMILY).unwrap();
    connection
        .execute_batch(
            "INSERT INTO parents VALUES (1, 'a@example.com');
             INSERT INTO children VALUES (10, 1), (11, 1);",
        )
        .unwrap();
    connection
}

fn count(connection: &Connection, table: &str) -> i64 {
    connection
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
}

#[test]
fn rebuilding_a_parent_table_keeps_its_children_and_foreign_keys_stay_on() {
    let mut connection = family_with_two_children();
    let migrations = [FAMILY[0], ("0002_optional_email", OPTIONAL_EMAIL)];
    migrate(&mut connection, &migrations).unwrap();
    assert_eq!(count(&connection, "children"), 2, "nothing cascaded");
    let enforced: bool = connection
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .unwrap();
    assert!(enforced);
    connection
        .execute("INSERT INTO parents (id, email) VALUES (2, NULL)", [])
        .unwrap();
    // The children still point at the rebuilt table: deleting a parent still cascades.
    connection
        .execute("DELETE FROM parents WHERE id = 1", [])
        .unwrap();
    assert_eq!(count(&connection, "children"), 0);
}

#[test]
fn a_rebuild_that_would_leave_dangling_rows_is_rolled_back() {
    let mut connection = family_with_two_children();
    let losing_parents = "-- keyway-migrate: rebuilds tables
        CREATE TABLE parents_new (id INTEGER PRIMARY KEY, email TEXT);
        DROP TABLE parents;
        ALTER TABLE parents_new RENAME TO parents;";
    let migrations = [FAMILY[0], ("0002_lossy", losing_parents)];
    let error = migrate(&mut connection, &migrations).unwrap_err();
    assert!(matches!(error, MigrateError::Failed { version: 2, .. }));
    assert_eq!(schema_version(&connection).unwrap(), 1);
    assert_eq!(count(&connection, "parents"), 1, "rolled back");
    assert_eq!(count(&connection, "children"), 2);
    let enforced: bool = connection
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .unwrap();
    assert!(enforced, "foreign keys are back on after a failure too");
}
