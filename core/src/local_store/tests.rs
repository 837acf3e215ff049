use super::*;

fn key(id: u64) -> StoredKey {
    StoredKey {
        credential_id: id,
        site_id: 1,
        site_name: "HQ".into(),
        locks: vec![(7, "Front".into())],
        not_before: 1,
        not_after: 2,
        credential: vec![id as u8],
    }
}

#[tokio::test]
async fn wallet_replacement_is_whole_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    store
        .replace_wallet(vec![key(1), key(2)], vec![(1, vec![9])])
        .await
        .unwrap();
    store.replace_wallet(vec![key(3)], vec![]).await.unwrap();
    drop(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.keys().await.unwrap(), vec![key(3)]);
    assert!(store.mailbox(1).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_outbox_keeps_each_record_once_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    store.queue_event(7, 1, vec![1], 10).await.unwrap();
    store.queue_event(7, 1, vec![1], 11).await.unwrap();
    store.queue_event(7, 2, vec![2], 12).await.unwrap();
    assert_eq!(store.pending_events(0, 10).await.unwrap().len(), 2);
    store.remove_events(vec![(7, 1)]).await.unwrap();
    drop(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(
        store.pending_events(0, 10).await.unwrap(),
        vec![(7, 2, vec![2])]
    );
}
