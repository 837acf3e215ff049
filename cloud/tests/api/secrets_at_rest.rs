//! Secrets at rest, from an attacker's side: someone who copies the database files (a stolen
//! backup, a disk image) finds no secret in them, a database does not open with another key or
//! without its key (and gets no new key), key rotation keeps everything working while the old
//! key stops opening, and sealed values moved between rows do not open.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use keyway_api::remote::IqCodeSecretView;
use keyway_api::SiteView;
use keyway_cloud::email::outbox::entries;
use keyway_cloud::email::{mailbox_dir, queue, read_mailbox, NewEmail, SECRET_PLACEHOLDER};
use keyway_cloud::pods::invitations::find_code;
use keyway_cloud::store::{rotate_key, DATABASE_FILE, MIGRATIONS};
use keyway_cloud::{start, CloudConfig, KeySource, StoreError};
use keyway_protocol::SigningKey;
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use serde_json::json;

use crate::api_support::{b64_key, key, typed, unb64, Caller, Cloud};

/// A code the test queues and leaves undelivered.
const PENDING_CODE: &str = "PQ7K-XM4R-2D9W-HT8C";

/// What the flow made that must never be readable from the database files.
struct Known {
    owner: Caller,
    site: SiteView,
    device_id: u32,
    authority_pkcs8: Vec<u8>,
    keypad_key: Vec<u8>,
    iq_secret: Vec<u8>,
    codes: Vec<String>,
}

/// The database files as a copy of the data directory has them.
/// Every file of a copy of the data directory (the database, its `-wal` and `-shm`, and
/// whatever else is in there), by name.
fn database_files(data: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![data.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((path.display().to_string(), bytes));
            }
        }
    }
    assert!(
        files.iter().any(|(name, _)| name.ends_with(DATABASE_FILE)),
        "the copy holds the database"
    );
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The ways a secret may be written down: raw, hex, base64.
fn spellings(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![
        secret.to_vec(),
        hex(secret).into_bytes(),
        hex(secret).to_uppercase().into_bytes(),
    ];
    for engine in [STANDARD, URL_SAFE] {
        forms.push(engine.encode(secret).into_bytes());
    }
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        forms.push(engine.encode(secret).into_bytes());
    }
    forms
}

/// An invitation code as people type it: grouped or not, either case.
fn code_spellings(code: &str) -> Vec<Vec<u8>> {
    let ungrouped = code.replace('-', "");
    [
        code.to_string(),
        ungrouped.clone(),
        code.to_lowercase(),
        ungrouped.to_lowercase(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

/// The private scalar inside a P-256 PKCS#8 document (the OCTET STRING of 32 bytes).
fn private_scalar(pkcs8: &[u8]) -> Vec<u8> {
    let at = pkcs8
        .windows(2)
        .position(|window| window == [0x04, 0x20])
        .unwrap();
    pkcs8[at + 2..at + 34].to_vec()
}

fn found_in(files: &[(String, Vec<u8>)], needle: &[u8]) -> Option<String> {
    files
        .iter()
        .find(|(_, bytes)| bytes.windows(needle.len()).any(|window| window == needle))
        .map(|(name, _)| name.clone())
}

/// Asserts that no spelling of any known secret is in the files.
fn assert_nothing_readable(files: &[(String, Vec<u8>)], known: &Known, moment: &str) {
    assert!(
        found_in(files, b"HQ").is_some(),
        "{moment}: plain data is found, so the search works"
    );
    let mut secrets: Vec<(&str, Vec<u8>)> =
        vec![("authority PKCS#8", known.authority_pkcs8.clone())];
    for form in spellings(&private_scalar(&known.authority_pkcs8)) {
        secrets.push(("authority private key", form));
    }
    for form in spellings(&known.keypad_key) {
        secrets.push(("keypad key", form));
    }
    for form in spellings(&known.iq_secret) {
        secrets.push(("IQ code secret", form));
    }
    for code in &known.codes {
        for form in code_spellings(code) {
            secrets.push(("invitation code", form));
        }
    }
    for (what, secret) in secrets {
        assert_eq!(
            found_in(files, &secret),
            None,
            "{moment}: the {what} can be read from the database files"
        );
    }
}

/// Reads a sealed value through the running cloud's store (what the test knows, not what
/// the attacker has).
async fn opened(cloud: &Cloud, sql: &'static str, id: u32) -> Vec<u8> {
    cloud
        .running
        .state
        .store
        .run(move |db| Ok::<_, StoreError>(db.query_row(sql, [id], |row| row.get(0))?))
        .await
        .unwrap()
}

/// Delivers due mail (waiting for a pass the delivery task may be running) and returns the
/// codes e-mailed to `to`.
async fn delivered_codes(cloud: &Cloud, to: &str) -> Vec<String> {
    let state = &cloud.running.state;
    for _ in 0..2 {
        state
            .mail
            .deliver_due(&state.store, &state.clock)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    read_mailbox(&mailbox_dir(&state.config.data_dir))
        .unwrap()
        .into_iter()
        .filter(|message| message.to == to)
        .filter_map(|message| find_code(&message.body))
        .collect()
}

/// A pod whose new member has no account: an invitation code goes out by e-mail.
async fn invite(cloud: &Cloud, owner: &Caller, site_id: u32, lock_id: u32, to: &str) -> String {
    let (status, body) = cloud
        .post(
            owner,
            &format!("/api/v1/sites/{site_id}/pods"),
            json!({ "name": format!("Pod of {to}"), "lock_ids": [lock_id],
                    "members": [{ "name": "Ivy", "email": to }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let codes = delivered_codes(cloud, to).await;
    assert_eq!(codes.len(), 1, "one invitation to {to}");
    codes[0].clone()
}

async fn iq_secrets(cloud: &Cloud, owner: &Caller, device_id: u32) -> Vec<IqCodeSecretView> {
    let (status, body) = cloud
        .get(
            owner,
            &format!("/api/v1/devices/{device_id}/iq-code-secrets"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    typed(body)
}

async fn new_pin(cloud: &Cloud, owner: &Caller, site_id: u32) {
    let (status, body) = cloud
        .post(
            owner,
            &format!(
                "/api/v1/sites/{site_id}/people/{}/keypad-pin",
                owner.user_id
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Sign-up, a site, a lock behind an IQ, the owner's device with its IQ code secret, a keypad
/// PIN, a delivered pod invitation, and one e-mail with a code still waiting in the outbox.
async fn full_flow(cloud: &Cloud) -> Known {
    let owner = cloud.account_with_email("owner@example.com").await;
    let site = cloud.site(&owner).await;
    let site_id = site.site_id;
    let (lock, _) = cloud.lock(&owner, site_id, "Front door").await;
    let (status, iq) = cloud
        .post(
            &owner,
            &format!("/api/v1/sites/{site_id}/iqs"),
            json!({ "name": "IQ", "public_key": b64_key(&key().public_key()) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{iq}");
    let (status, body) = cloud
        .put(
            &owner,
            &format!("/api/v1/sites/{site_id}/locks/{}/iq", lock.lock_id),
            json!({ "iq_id": iq["iq_id"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    cloud
        .group(&owner, site_id, &[lock.lock_id], &[owner.user_id], &[])
        .await;
    let (device, _) = cloud.device(&owner).await;
    assert!(!cloud.sync(&owner, device.device_id).await.keys.is_empty());
    let secrets = iq_secrets(cloud, &owner, device.device_id).await;
    assert_eq!(secrets.len(), 1);
    new_pin(cloud, &owner, site_id).await;
    let code = invite(cloud, &owner, site_id, lock.lock_id, "invitee@example.com").await;

    let email = NewEmail {
        to: "waiting@example.com".into(),
        subject: "Your invitation".into(),
        body: format!("Your code: {SECRET_PLACEHOLDER}\n"),
        secret: Some(PENDING_CODE.into()),
    };
    let state = &cloud.running.state;
    let now = state.clock.now();
    state
        .store
        .run(move |db| queue(db, &email, now))
        .await
        .unwrap();
    let outbox = state.store.run(|db| entries(db)).await.unwrap();
    assert!(
        outbox.iter().any(|entry| entry.to == "waiting@example.com"
            && entry.state == "pending"
            && entry.holds_secret),
        "one e-mail waits with its code"
    );

    Known {
        authority_pkcs8: opened(
            cloud,
            "SELECT keyway_open('sites.authority_pkcs8', authority_pkcs8, id) FROM sites
             WHERE id = ?1",
            site_id,
        )
        .await,
        keypad_key: opened(
            cloud,
            "SELECT keyway_open('site_keypad.key', key, site_id) FROM site_keypad
             WHERE site_id = ?1",
            site_id,
        )
        .await,
        iq_secret: unb64(&secrets[0].secret),
        codes: vec![code, PENDING_CODE.into()],
        owner,
        site,
        device_id: device.device_id,
    }
}

/// A cloud whose delivery task only runs when woken (so queued mail may stay pending).
async fn quiet_cloud() -> Cloud {
    Cloud::start_with(|config| config.email.poll_interval = Duration::from_secs(3_600)).await
}

fn config_in(dir: &Path, key: KeySource) -> CloudConfig {
    CloudConfig {
        key,
        ..CloudConfig::new(dir.join("data"))
    }
}

async fn refusal(dir: &Path, key: KeySource) -> StoreError {
    match start(config_in(dir, key), "127.0.0.1:0".parse().unwrap()).await {
        Err(keyway_cloud::StartError::Store(error)) => error,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("started"),
    }
}

fn default_key(dir: &Path) -> PathBuf {
    dir.join("data.key")
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A private key file holding a random key.
fn other_key_file(path: &Path) {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut bytes).unwrap();
    std::fs::write(path, STANDARD.encode(bytes)).unwrap();
    #[cfg(unix)]
    set_mode(path, 0o600);
}

#[tokio::test]
async fn a_copy_of_the_database_files_holds_no_secret_while_serving_or_after() {
    let cloud = quiet_cloud().await;
    let known = full_flow(&cloud).await;
    assert_eq!(known.authority_pkcs8.len(), 138, "a P-256 PKCS#8 document");
    let data = cloud.dir().join("data");
    assert!(
        !data.join("data.key").exists() && default_key(cloud.dir()).exists(),
        "the key lives next to the data directory, not in it"
    );
    let hot = database_files(&data);
    assert!(hot.iter().any(|(name, _)| name.ends_with("-wal")));
    assert_nothing_readable(&hot, &known, "a copy taken while serving");
    let dir = cloud.stop().await;
    let cold = database_files(&dir.path().join("data"));
    assert_nothing_readable(&cold, &known, "a copy taken after shutdown");
}

#[tokio::test]
async fn the_database_does_not_open_with_another_key_or_without_its_key() {
    let cloud = Cloud::start().await;
    let owner = cloud.account().await;
    let site = cloud.site(&owner).await;
    let dir = cloud.stop().await;

    let other = dir.path().join("other.key");
    other_key_file(&other);
    assert!(matches!(
        refusal(dir.path(), KeySource::File(other)).await,
        StoreError::WrongKey { .. }
    ));

    let kept = dir.path().join("kept-elsewhere");
    std::fs::rename(default_key(dir.path()), &kept).unwrap();
    let missing = refusal(
        dir.path(),
        KeySource::file_for(&dir.path().join("data"), None),
    )
    .await;
    let StoreError::MissingKey { key } = missing else {
        panic!("not refused for its missing key: {missing:?}");
    };
    assert!(key.ends_with("data.key"), "says which key file: {key}");
    assert!(
        !default_key(dir.path()).exists(),
        "no new key is made for a sealed database"
    );

    std::fs::rename(&kept, default_key(dir.path())).unwrap();
    #[cfg(unix)]
    {
        set_mode(&default_key(dir.path()), 0o644);
        assert!(matches!(
            refusal(dir.path(), KeySource::File(default_key(dir.path()))).await,
            StoreError::KeyFileNotPrivate { mode: 0o644, .. }
        ));
        set_mode(&default_key(dir.path()), 0o600);
    }

    let config = config_in(dir.path(), KeySource::File(default_key(dir.path())));
    let cloud = Cloud::start_in(dir, config).await;
    let (status, body) = cloud
        .get(&owner, &format!("/api/v1/sites/{}", site.site_id))
        .await;
    assert_eq!(status, StatusCode::OK, "with its key it opens: {body}");
    assert_eq!(typed::<SiteView>(body), site);
}

#[tokio::test]
async fn rotation_keeps_every_flow_working_and_the_old_key_stops_opening() {
    let cloud = quiet_cloud().await;
    let known = full_flow(&cloud).await;
    let dir = cloud.stop().await;
    let data = dir.path().join("data");
    let old = KeySource::File(default_key(dir.path()));
    let new_key = dir.path().join("new.key");

    let stranger = dir.path().join("stranger.key");
    other_key_file(&stranger);
    assert!(matches!(
        rotate_key(&data, &KeySource::File(stranger), &new_key),
        Err(StoreError::WrongKey { .. })
    ));
    assert!(!new_key.exists(), "a refused rotation writes no key");

    let rotation = rotate_key(&data, &old, &new_key).unwrap();
    assert_eq!(
        rotation.resealed, 4,
        "authority, keypad key, IQ secret, waiting e-mail"
    );
    assert!(
        default_key(dir.path()).exists(),
        "the old key is left for the operator to destroy"
    );
    assert!(matches!(
        refusal(dir.path(), old.clone()).await,
        StoreError::WrongKey { .. }
    ));
    assert!(matches!(
        rotate_key(&data, &old, &dir.path().join("third.key")),
        Err(StoreError::WrongKey { .. })
    ));
    assert_nothing_readable(&database_files(&data), &known, "after rotation");

    let config = CloudConfig {
        key: KeySource::File(new_key),
        ..CloudConfig::new(data.clone())
    };
    let cloud = Cloud::start_in(dir, config).await;
    let owner = &known.owner;
    let site_id = known.site.site_id;
    let (status, body) = cloud.get(owner, &format!("/api/v1/sites/{site_id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        typed::<SiteView>(body),
        known.site,
        "the same authority key"
    );
    assert!(!cloud.sync(owner, known.device_id).await.keys.is_empty());
    let secrets = iq_secrets(&cloud, owner, known.device_id).await;
    assert_eq!(unb64(&secrets[0].secret), known.iq_secret);
    new_pin(&cloud, owner, site_id).await;
    let keypad_key = opened(
        &cloud,
        "SELECT keyway_open('site_keypad.key', key, site_id) FROM site_keypad WHERE site_id = ?1",
        site_id,
    )
    .await;
    assert_eq!(
        keypad_key, known.keypad_key,
        "the PINs' verifiers still hold"
    );
    let codes = delivered_codes(&cloud, "waiting@example.com").await;
    assert_eq!(
        codes,
        vec![PENDING_CODE.to_string()],
        "the waiting e-mail goes out"
    );
    let lock_id = cloud
        .count(format!(
            "SELECT MIN(id) FROM locks WHERE site_id = {site_id}"
        ))
        .await;
    invite(
        &cloud,
        owner,
        site_id,
        u32::try_from(lock_id).unwrap(),
        "later@example.com",
    )
    .await;
}

#[tokio::test]
async fn a_sealed_key_copied_to_another_site_does_not_open() {
    let cloud = Cloud::start().await;
    let victim = cloud.account().await;
    let victim_site = cloud.site(&victim).await;
    let attacker = cloud.account().await;
    let attacker_site = cloud.site(&attacker).await;
    let (from, to) = (victim_site.site_id, attacker_site.site_id);
    cloud
        .running
        .state
        .store
        .run(move |db| {
            db.execute(
                "UPDATE sites SET authority_pkcs8 = (SELECT authority_pkcs8 FROM sites WHERE id = ?1)
                 WHERE id = ?2",
                [from, to],
            )?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    let (status, body) = cloud.get(&attacker, &format!("/api/v1/sites/{to}")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"], "internal");
    assert!(
        !body.to_string().contains(&victim_site.authority_public_key),
        "the victim's key is not used for the attacker's site"
    );
    let (status, _) = cloud.get(&victim, &format!("/api/v1/sites/{from}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_database_from_before_sealing_is_sealed_at_its_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (authority, pkcs8) = SigningKey::generate(&SystemRandom::new()).unwrap();
    let (keypad_key, iq_secret) = ([0x3c_u8; 32], [0xa7_u8; 32]);
    {
        let db = rusqlite::Connection::open(data.join(DATABASE_FILE)).unwrap();
        db.pragma_update(None, "journal_mode", "WAL").unwrap();
        for (_, sql) in &MIGRATIONS[..6] {
            db.execute_batch(sql).unwrap();
        }
        db.pragma_update(None, "user_version", 6).unwrap();
        db.execute(
            "INSERT INTO users (id, email, name, password_hash, created_at)
             VALUES (1, 'old@example.com', 'Old', '$argon2id$v=19$m=19456,t=2,p=1$old', 0)",
            [],
        )
        .unwrap();
        db.execute(
            "INSERT INTO sites (id, name, authority_pkcs8, created_at) VALUES (1, 'HQ', ?1, 0)",
            [&pkcs8],
        )
        .unwrap();
        db.execute_batch(
            "INSERT INTO memberships (site_id, user_id, role, remote_opening, created_at)
             VALUES (1, 1, 'owner', 1, 0);
             INSERT INTO iqs (id, site_id, name, public_key, created_at) VALUES (1, 1, 'IQ', x'01', 0);",
        )
        .unwrap();
        db.execute(
            "INSERT INTO site_keypad (site_id, key, serial) VALUES (1, ?1, 0)",
            [keypad_key.as_slice()],
        )
        .unwrap();
        db.execute(
            "INSERT INTO iq_code_secrets (user_id, iq_id, secret, created_at) VALUES (1, 1, ?1, 0)",
            [iq_secret.as_slice()],
        )
        .unwrap();
        db.execute(
            "INSERT INTO email_outbox (recipient, subject, body, secret, state, next_attempt_at, created_at)
             VALUES ('waiting@example.com', 'Invitation', 'Code: {secret}', ?1, 'pending', 0, 0),
                    ('sent@example.com', 'Invitation', 'Code: ZZ9Q-ZZ9Q-ZZ9Q-ZZ9Q', NULL, 'sent', 0, 0)",
            [PENDING_CODE],
        )
        .unwrap();
        // A code the old cloud erased after delivery: freed, but its bytes may linger in
        // the file's free space.
        db.execute_batch(
            "INSERT INTO email_outbox (recipient, subject, body, secret, state, next_attempt_at, created_at)
             VALUES ('erased@example.com', 'Invitation', 'Code: {secret}', 'KK7R-KK7R-KK7R-KK7R', 'pending', 0, 0);
             UPDATE email_outbox SET secret = NULL, state = 'sent' WHERE recipient = 'erased@example.com';",
        )
        .unwrap();
    }
    assert!(found_in(&database_files(&data), PENDING_CODE.as_bytes()).is_some());

    let config = CloudConfig::new(data.clone());
    let cloud = Cloud::start_in(dir, config).await;
    assert!(default_key(cloud.dir()).exists(), "a key was made for it");
    // Accounts from before verification must confirm their address (not this test's
    // subject): as if the owner had.
    cloud.mark_verified(1).await;
    let owner = cloud.token_for(1).await;
    let (status, body) = cloud.get(&owner, "/api/v1/sites/1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        typed::<SiteView>(body).authority_public_key,
        b64_key(&authority.public_key())
    );
    let codes = delivered_codes(&cloud, "waiting@example.com").await;
    assert_eq!(
        codes,
        vec![PENDING_CODE.to_string()],
        "the waiting e-mail keeps its code"
    );
    let known = Known {
        owner,
        site: SiteView {
            site_id: 1,
            name: "HQ".into(),
            utc_offset_minutes: 0,
            authority_public_key: String::new(),
        },
        device_id: 0,
        authority_pkcs8: pkcs8,
        keypad_key: keypad_key.to_vec(),
        iq_secret: iq_secret.to_vec(),
        codes: vec![
            PENDING_CODE.into(),
            "ZZ9Q-ZZ9Q-ZZ9Q-ZZ9Q".into(),
            "KK7R-KK7R-KK7R-KK7R".into(),
        ],
    };
    assert_nothing_readable(&database_files(&data), &known, "after the upgrade");
    let dir = cloud.stop().await;
    assert_nothing_readable(
        &database_files(&dir.path().join("data")),
        &known,
        "after the upgrade and shutdown",
    );
}

#[tokio::test]
async fn an_invitation_redirected_to_another_address_is_not_sent() {
    let cloud = quiet_cloud().await;
    let email = NewEmail {
        to: "tenant@example.com".into(),
        subject: "Your invitation".into(),
        body: format!("Your code: {SECRET_PLACEHOLDER}\n"),
        secret: Some(PENDING_CODE.into()),
    };
    let state = &cloud.running.state;
    let now = state.clock.now();
    // Someone who can write the database points the waiting invitation at themselves (in the
    // same store call as the queueing, so no delivery pass runs in between).
    state
        .store
        .run(move |db| {
            let id = queue(db, &email, now)?;
            db.execute(
                "UPDATE email_outbox SET recipient = 'mallory@example.com' WHERE id = ?1",
                [id],
            )?;
            Ok::<_, keyway_cloud::ApiError>(())
        })
        .await
        .unwrap();
    assert!(delivered_codes(&cloud, "mallory@example.com")
        .await
        .is_empty());
    let outbox = state.store.run(|db| entries(db)).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, "failed", "given up, not sent");
    assert!(!outbox[0].holds_secret, "and its body erased");
}
