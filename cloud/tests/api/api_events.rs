//! Lock event upload over HTTP: records verified with the lock's key and its hash chain,
//! stored once, re-uploads counted as duplicates, forgeries and broken chains rejected with
//! their codes; and reading a lock's log.

use crate::api_support;

use api_support::{key, typed, Caller, Cloud};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::{EventRejection, LockEventView, LockView, Role, SiteView, UploadEventsResponse};
use keyway_protocol::event::GENESIS_HASH;
use keyway_protocol::{LockEvent, RefusalReason, SignedEvent, SigningKey};
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use serde_json::json;

/// A lock's chain of `count` records from seq 1, signed with `lock_key`.
fn chain(lock_id: u32, lock_key: &SigningKey, count: u64) -> Vec<SignedEvent> {
    let rng = SystemRandom::new();
    let mut prev_hash = GENESIS_HASH;
    (1..=count)
        .map(|seq| {
            let record = event(lock_id, seq, prev_hash).sign(lock_key, &rng).unwrap();
            prev_hash = record.hash();
            record
        })
        .collect()
}

fn event(lock_id: u32, seq: u64, prev_hash: [u8; 32]) -> LockEvent {
    LockEvent {
        lock_id,
        seq,
        time: 1_796_000_000 + seq as i64,
        user_id: 7,
        credential_id: 40 + seq,
        command: 1,
        refusal: if seq % 2 == 0 {
            Some(RefusalReason::OutsideSchedule)
        } else {
            None
        },
        prev_hash,
    }
}

fn b64(record: &SignedEvent) -> String {
    STANDARD.encode(record.as_bytes())
}

struct Scene {
    cloud: Cloud,
    owner: Caller,
    site: SiteView,
    lock: LockView,
    lock_key: SigningKey,
    phone: Caller,
}

async fn scene() -> Scene {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let (lock, lock_key) = cloud.lock(&owner, site.site_id, "Front door").await;
    // Anyone signed in may carry events, even someone of another site.
    let phone = cloud.account().await;
    Scene {
        cloud,
        owner,
        site,
        lock,
        lock_key,
        phone,
    }
}

impl Scene {
    async fn upload(&self, records: Vec<String>) -> UploadEventsResponse {
        let (status, body) = self
            .cloud
            .post(&self.phone, "/api/v1/events", json!({ "records": records }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        typed(body)
    }

    fn events_path(&self) -> String {
        format!(
            "/api/v1/sites/{}/locks/{}/events",
            self.site.site_id, self.lock.lock_id
        )
    }
}

/// Each refused record's position in the request and the code of why.
fn rejections(response: &UploadEventsResponse) -> Vec<(u32, EventRejection)> {
    response
        .rejected
        .iter()
        .map(|r| (r.index, r.code))
        .collect()
}

#[tokio::test]
async fn valid_records_are_stored_once_in_any_order_and_reuploads_are_duplicates() {
    let s = scene().await;
    let records = chain(s.lock.lock_id, &s.lock_key, 4);
    let first = s
        .upload(vec![b64(&records[2]), b64(&records[0]), b64(&records[1])])
        .await;
    assert_eq!(
        (first.stored, first.duplicates),
        (3, 0),
        "{:?}",
        first.rejected
    );
    assert!(first.rejected.is_empty());

    let again = s.upload(records.iter().map(b64).collect()).await;
    assert_eq!(
        (again.stored, again.duplicates),
        (1, 3),
        "only record 4 is new"
    );
    assert_eq!(
        s.cloud.count("SELECT COUNT(*) FROM lock_events").await,
        4,
        "nothing doubled"
    );

    let (status, body) = s.cloud.get(&s.owner, &s.events_path()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let log: Vec<LockEventView> = typed(body);
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(!log[1].granted);
    assert_eq!(log[1].reason_code, RefusalReason::OutsideSchedule.code());
    assert_eq!(
        (log[0].user_id, log[0].credential_id, log[0].granted),
        (7, 41, true)
    );
    assert_eq!(
        STANDARD.decode(&log[3].record).unwrap(),
        records[3].as_bytes().to_vec()
    );

    let (_, body) = s
        .cloud
        .get(
            &s.owner,
            &format!("{}?after_seq=2&limit=1", s.events_path()),
        )
        .await;
    let page: Vec<LockEventView> = typed(body);
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
    let (status, _) = s
        .cloud
        .get(
            &s.owner,
            &format!("{}?after_seq=minus-one", s.events_path()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn forged_unknown_and_unreadable_records_are_rejected_with_codes() {
    let s = scene().await;
    let records = chain(s.lock.lock_id, &s.lock_key, 1);
    let forged = chain(s.lock.lock_id, &key(), 1);
    let stranger = chain(9_999, &key(), 1);
    let response = s
        .upload(vec![
            b64(&forged[0]),
            b64(&stranger[0]),
            "%%%".into(),
            STANDARD.encode([1u8; 10]),
            b64(&records[0]),
        ])
        .await;
    assert_eq!((response.stored, response.duplicates), (1, 0));
    assert_eq!(
        rejections(&response),
        vec![
            (0, EventRejection::BadSignature),
            (1, EventRejection::UnknownLock),
            (2, EventRejection::NotBase64),
            (3, EventRejection::Malformed),
        ]
    );
    assert_eq!(s.cloud.count("SELECT COUNT(*) FROM lock_events").await, 1);
}

#[tokio::test]
async fn records_that_break_the_hash_chain_are_rejected() {
    let s = scene().await;
    let rng = SystemRandom::new();
    let records = chain(s.lock.lock_id, &s.lock_key, 3);
    // Records 1 and 3 are stored; 2 is missing for now.
    let stored = s.upload(vec![b64(&records[0]), b64(&records[2])]).await;
    assert_eq!(stored.stored, 2);

    // A record 4 that does not follow record 3.
    let wrong_prev = event(s.lock.lock_id, 4, [9; 32])
        .sign(&s.lock_key, &rng)
        .unwrap();
    // A record 2 that follows 1 but is not the one record 3 links to.
    let mut other_two = event(s.lock.lock_id, 2, records[0].hash());
    other_two.time += 1;
    let other_two = other_two.sign(&s.lock_key, &rng).unwrap();
    // Another record 3, validly signed: conflicts with the stored one.
    let mut other_three = event(s.lock.lock_id, 3, records[1].hash());
    other_three.command = 2;
    let other_three = other_three.sign(&s.lock_key, &rng).unwrap();

    let response = s
        .upload(vec![b64(&wrong_prev), b64(&other_two), b64(&other_three)])
        .await;
    assert_eq!((response.stored, response.duplicates), (0, 0));
    assert_eq!(
        rejections(&response),
        vec![
            (0, EventRejection::BrokenChain),
            (1, EventRejection::BrokenChain),
            (2, EventRejection::ConflictingRecord),
        ]
    );

    // On a fresh lock, a first record must start from the genesis hash.
    let (fresh, fresh_key) = s.cloud.lock(&s.owner, s.site.site_id, "Back door").await;
    let not_genesis = event(fresh.lock_id, 1, [1; 32])
        .sign(&fresh_key, &rng)
        .unwrap();
    let response = s.upload(vec![b64(&not_genesis)]).await;
    assert_eq!(
        rejections(&response),
        vec![(0, EventRejection::BrokenChain)]
    );

    // The real record 2 fills the gap and links both ways.
    let response = s.upload(vec![b64(&records[1])]).await;
    assert_eq!((response.stored, response.rejected.len()), (1, 0));
    assert_eq!(s.cloud.count("SELECT COUNT(*) FROM lock_events").await, 3);
}

#[tokio::test]
async fn lock_logs_are_for_the_owner_admins_and_super_users() {
    let s = scene().await;
    for (role, expected) in [
        (Role::Admin, StatusCode::OK),
        (Role::SuperUser, StatusCode::OK),
        (Role::User, StatusCode::FORBIDDEN),
    ] {
        let member = s.cloud.member(&s.owner, s.site.site_id, role).await;
        let (status, _) = s.cloud.get(&member, &s.events_path()).await;
        assert_eq!(status, expected, "{role:?}");
    }
    let (status, _) = s.cloud.get(&s.phone, &s.events_path()).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "outsiders do not see the site"
    );
    let other_owner = s.cloud.account().await;
    let other = s.cloud.site(&other_owner).await;
    let (status, _) = s
        .cloud
        .get(
            &other_owner,
            &format!(
                "/api/v1/sites/{}/locks/{}/events",
                other.site_id, s.lock.lock_id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a lock of another site");
    let too_many = vec![String::new(); 1001];
    let (status, _) = s
        .cloud
        .post(&s.phone, "/api/v1/events", json!({ "records": too_many }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
