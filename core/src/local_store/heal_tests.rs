//! A damaged store opens, works, and keeps its readable outbox (the user's and the
//! attacker's view: whatever is in the file, the app's call returns).

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::heal::open_or_rebuild;
use super::*;

fn key(id: u64) -> StoredKey {
    StoredKey {
        credential_id: id,
        site_id: 1,
        site_name: "HQ".into(),
        locks: vec![(7, "Front".into())],
        not_before: 1,
        not_after: 2,
        credential: vec![0xc0; 64],
    }
}

fn file(dir: &Path) -> PathBuf {
    dir.join(LOCAL_DATABASE_FILE)
}

/// A store with two keys, a mailbox update, the device's id, and `events` outbox records
/// of `size` bytes each; closed (so its WAL is checkpointed into the file).
async fn filled_store(dir: &Path, events: u64, size: usize) -> Vec<(u32, u64, Vec<u8>)> {
    let store = LocalStore::open(dir).unwrap();
    store
        .replace_wallet(vec![key(1), key(2)], vec![(1, vec![9; 40])])
        .await
        .unwrap();
    store
        .set_meta("device_id", Some("42".into()))
        .await
        .unwrap();
    let mut queued = Vec::new();
    for seq in 1..=events {
        let record = vec![u8::try_from(seq % 251).unwrap(); size];
        store
            .queue_event(7, seq, record.clone(), 100)
            .await
            .unwrap();
        queued.push((7, seq, record));
    }
    drop(store);
    queued
}

fn aside_copies(dir: &Path) -> Vec<PathBuf> {
    aside::copies(&file(dir))
        .unwrap()
        .into_iter()
        .map(|(_, _, path)| path)
        .collect()
}

/// The store is empty of cache and takes new data that survives reopening.
async fn assert_works(dir: &Path) {
    let store = LocalStore::open(dir).unwrap();
    assert!(
        store.keys().await.unwrap().is_empty(),
        "the wallet is rebuilt empty"
    );
    assert!(store.mailbox(1).await.unwrap().is_empty());
    store
        .replace_wallet(vec![key(5)], vec![(1, vec![1])])
        .await
        .unwrap();
    store.queue_event(9, 1, vec![1, 2, 3], 200).await.unwrap();
    drop(store);
    let (_, rebuilt) = open_or_rebuild(&file(dir)).unwrap();
    assert_eq!(rebuilt, None, "a healed store opens as a healthy one");
    let store = LocalStore::open(dir).unwrap();
    assert_eq!(store.keys().await.unwrap(), vec![key(5)]);
    assert_eq!(store.mailbox(1).await.unwrap(), vec![vec![1]]);
}

#[tokio::test]
async fn a_file_overwritten_with_garbage_opens_empty_and_works() {
    let dir = tempfile::tempdir().unwrap();
    filled_store(dir.path(), 3, 100).await;
    let garbage: Vec<u8> = (0..20_000u32)
        .map(|i| i.wrapping_mul(2_654_435_761).to_be_bytes()[1])
        .collect();
    std::fs::write(file(dir.path()), garbage).unwrap();

    let (_, rebuilt) = open_or_rebuild(&file(dir.path())).unwrap();
    let rebuilt = rebuilt.unwrap();
    assert_eq!((rebuilt.kept_events, rebuilt.kept_meta), (0, 0));
    assert_eq!(aside_copies(dir.path()).len(), 1);
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert_eq!(store.meta("device_id").await.unwrap(), None);
    drop(store);
    assert_works(dir.path()).await;
}

#[tokio::test]
async fn a_store_from_a_newer_build_keeps_its_outbox_and_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let queued = filled_store(dir.path(), 3, 100).await;
    {
        // What a later build might do: a new column, a new table, a higher version.
        let db = Connection::open(file(dir.path())).unwrap();
        db.execute_batch(
            "ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
             CREATE TABLE receipts (id INTEGER PRIMARY KEY);
             PRAGMA user_version = 9;",
        )
        .unwrap();
    }

    let (_, rebuilt) = open_or_rebuild(&file(dir.path())).unwrap();
    let rebuilt = rebuilt.unwrap();
    assert_eq!((rebuilt.kept_events, rebuilt.kept_meta), (3, 1));
    let copies = aside_copies(dir.path());
    assert_eq!(copies.len(), 1);
    assert!(copies[0].ends_with(&rebuilt.moved_to));
    let old = Connection::open(&copies[0]).unwrap();
    let version: i64 = old
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 9, "the newer file is kept as it was");
    drop(old);

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.pending_events(0, 10).await.unwrap(), queued);
    assert_eq!(
        store.meta("device_id").await.unwrap().as_deref(),
        Some("42")
    );
    drop(store);
    assert_works(dir.path()).await;
}

#[tokio::test]
async fn a_newer_store_without_the_columns_this_build_needs_opens_empty() {
    let dir = tempfile::tempdir().unwrap();
    filled_store(dir.path(), 2, 10).await;
    {
        let db = Connection::open(file(dir.path())).unwrap();
        db.execute_batch(
            "ALTER TABLE outbox RENAME COLUMN record TO blob; PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let (_, rebuilt) = open_or_rebuild(&file(dir.path())).unwrap();
    assert_eq!(rebuilt.unwrap().kept_events, 0);
    assert_works(dir.path()).await;
}

#[tokio::test]
async fn a_truncated_file_opens_and_keeps_the_events_it_still_holds_intact() {
    let dir = tempfile::tempdir().unwrap();
    let queued = filled_store(dir.path(), 200, 1000).await;
    let path = file(dir.path());
    let length = std::fs::metadata(&path).unwrap().len();
    let handle = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    handle.set_len(length / 2).unwrap();
    drop(handle);

    let (_, rebuilt) = open_or_rebuild(&path).unwrap();
    let rebuilt = rebuilt.unwrap();
    assert!(rebuilt.kept_events < 200, "half the pages are gone");
    assert!(
        rebuilt.kept_events > 50,
        "the pages before the cut are read"
    );
    let store = LocalStore::open(dir.path()).unwrap();
    let kept = store.pending_events(0, 1000).await.unwrap();
    assert_eq!(kept.len(), rebuilt.kept_events);
    for event in &kept {
        assert!(
            queued.contains(event),
            "a kept event is exactly as it was queued"
        );
    }
    drop(store);
    assert_works(dir.path()).await;
}

#[tokio::test]
async fn a_damaged_index_fails_the_integrity_check_and_every_event_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let queued = filled_store(dir.path(), 50, 20).await;
    let path = file(dir.path());
    let (page_size, root): (i64, i64) = {
        let db = Connection::open(&path).unwrap();
        let page_size = db.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let root = db
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_outbox_1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (page_size, root)
    };
    let mut bytes = std::fs::read(&path).unwrap();
    let start = usize::try_from((root - 1) * page_size + 8).unwrap();
    let end = usize::try_from(root * page_size).unwrap();
    for (i, byte) in bytes[start..end].iter_mut().enumerate() {
        *byte = u8::try_from(i % 7).unwrap() ^ 0x55;
    }
    std::fs::write(&path, bytes).unwrap();

    let (_, rebuilt) = open_or_rebuild(&path).unwrap();
    assert_eq!(
        rebuilt.unwrap().kept_events,
        50,
        "the table itself reads in full"
    );
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.pending_events(0, 100).await.unwrap(), queued);
}

#[tokio::test]
async fn an_event_queued_before_the_damage_is_uploaded_once() {
    let dir = tempfile::tempdir().unwrap();
    let queued = filled_store(dir.path(), 1, 64).await;
    Connection::open(file(dir.path()))
        .unwrap()
        .pragma_update(None, "user_version", 2)
        .unwrap();

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 1);
    // The phone carries the same record back from the lock again: still one.
    store
        .queue_event(7, 1, queued[0].2.clone(), 300)
        .await
        .unwrap();
    assert_eq!(store.pending_events(0, 10).await.unwrap(), queued);
    // The cloud acknowledges it: gone, and reopening does not bring it back.
    store.remove_events(vec![(7, 1)]).await.unwrap();
    drop(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert_eq!(
        aside_copies(dir.path()).len(),
        1,
        "healed once, not on every open"
    );
}

#[tokio::test]
async fn at_most_two_damaged_copies_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..4u8 {
        drop(LocalStore::open(dir.path()).unwrap());
        std::fs::write(file(dir.path()), vec![round; 8192]).unwrap();
        drop(LocalStore::open(dir.path()).unwrap());
    }
    let copies = aside_copies(dir.path());
    assert_eq!(copies.len(), aside::KEEP_ASIDE);
    assert_eq!(
        std::fs::read(&copies[1]).unwrap(),
        vec![3; 8192],
        "the newest is kept"
    );
    assert_eq!(std::fs::read(&copies[0]).unwrap(), vec![2; 8192]);
}

#[tokio::test]
async fn a_rebuild_cut_short_before_its_last_step_is_finished_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let queued = filled_store(dir.path(), 2, 10).await;
    // The crash: the damaged file went aside, the rebuilt one was not renamed yet.
    std::fs::rename(
        file(dir.path()),
        aside::with_suffix(&file(dir.path()), ".rebuild"),
    )
    .unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.pending_events(0, 10).await.unwrap(), queued);
}

#[tokio::test]
async fn trouble_that_is_not_the_files_fault_is_an_error_and_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database should be: SQLite cannot open it.
    std::fs::create_dir(file(dir.path())).unwrap();
    assert!(matches!(
        LocalStore::open(dir.path()),
        Err(KeywayError::Internal { .. })
    ));
    assert!(file(dir.path()).is_dir());
    assert!(aside_copies(dir.path()).is_empty());
}

#[tokio::test]
async fn counting_pending_events_matches_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    filled_store(dir.path(), 130, 8).await;
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 130);
    let second_page = store.pending_events(100, 100).await.unwrap();
    assert_eq!(second_page.len(), 30);
    assert_eq!(second_page[0].1, 101);
}

/// What a subscriber wrote, shared with the test.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_rebuild_is_logged_once_with_what_was_kept_and_no_content() {
    let dir = tempfile::tempdir().unwrap();
    filled_store(dir.path(), 3, 100).await;
    Connection::open(file(dir.path()))
        .unwrap()
        .pragma_update(None, "user_version", 9)
        .unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let path = file(dir.path());
    tracing::subscriber::with_default(subscriber, || {
        // Another test's thread may have cached "nobody listens" for these call sites before
        // this subscriber existed: ask every call site again.
        tracing::callsite::rebuild_interest_cache();
        open_or_rebuild(&path).unwrap();
        open_or_rebuild(&path).unwrap();
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "one rebuild, logged once: {log}");
    assert!(warnings[0].contains("kept_events=3"));
    assert!(warnings[0].contains("schema 9 is newer"));
    let aside = aside_copies(dir.path());
    let aside_name = aside[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(warnings[0].contains(&aside_name));
    assert!(
        !log.contains(&dir.path().display().to_string()),
        "no path outside the name"
    );
    assert!(!log.contains("c0c0c0"), "no credential bytes");
    assert!(!log.contains("192, 192"), "no credential bytes");
}
