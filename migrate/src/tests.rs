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
