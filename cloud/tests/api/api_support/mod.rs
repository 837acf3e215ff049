//! Test-only plumbing shared by the `api_*` integration tests: a cloud on loopback, accounts
//! with access tokens written straight into its store (the OAuth flow has its own tests), and
//! small typed helpers over the JSON API. Not library code.

pub mod console;
pub mod integration;

use std::sync::atomic::{AtomicU32, Ordering};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::{
    AccessGroupView, DeviceView, KeySyncResponse, LockView, PeoplePage, PersonView, Role,
    ScheduleWindow, SiteView,
};
use keyway_cloud::auth::tokens::new_token;
use keyway_cloud::auth::verification;
use keyway_cloud::email::MailboxMessage;
use keyway_cloud::{start, CloudConfig, RunningCloud, StoreError};
use keyway_protocol::{PublicKey, SigningKey};
use reqwest::{Method, StatusCode};
use ring::rand::SystemRandom;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// The machine code of an error body.
pub fn code(body: &Value) -> keyway_api::ErrorCode {
    keyway_api::ErrorCode::parse(body["error"].as_str().unwrap_or_default())
}

/// Someone calling the API with a bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Their account id.
    pub user_id: u32,
    /// Their access token.
    pub token: String,
}

/// A running cloud with a temporary data directory.
pub struct Cloud {
    /// The server.
    pub running: RunningCloud,
    http: reqwest::Client,
    next: AtomicU32,
    _dir: tempfile::TempDir,
}

/// A new P-256 key pair (lock, IQ or device key).
pub fn key() -> SigningKey {
    SigningKey::generate(&SystemRandom::new()).unwrap().0
}

/// Standard base64 of a public key.
pub fn b64_key(key: &PublicKey) -> String {
    STANDARD.encode(key.as_bytes())
}

/// Decodes standard base64.
pub fn unb64(text: &str) -> Vec<u8> {
    STANDARD.decode(text).unwrap()
}

/// Parses a JSON answer into a typed body.
pub fn typed<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

impl Cloud {
    /// Starts a cloud on 127.0.0.1 with a free port; its data directory and key file are
    /// `data` and `data.key` inside one temporary directory.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a cloud as [`Cloud::start`] does, after `adjust` changed its settings.
    pub async fn start_with(adjust: impl FnOnce(&mut CloudConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = CloudConfig::new(dir.path().join("data"));
        adjust(&mut config);
        Self::start_in(dir, config).await
    }

    /// Starts a cloud with `config`, whose data and key live in `dir` (kept as long as the
    /// cloud is).
    pub async fn start_in(dir: tempfile::TempDir, config: CloudConfig) -> Self {
        let running = start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        // reqwest is built without a TLS provider; plain HTTP still needs one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            running,
            http: reqwest::Client::builder().build().unwrap(),
            next: AtomicU32::new(1),
            _dir: dir,
        }
    }

    /// The temporary directory holding the data directory (`data`) and its key (`data.key`).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Shuts the cloud down and hands back its directory.
    pub async fn stop(self) -> tempfile::TempDir {
        self.running.shutdown().await;
        self._dir
    }

    /// A fresh unique e-mail address.
    pub fn email(&self) -> String {
        format!(
            "person{}@example.com",
            self.next.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// A new account (no password) with a valid access token.
    pub async fn account(&self) -> Caller {
        self.account_with_email(&self.email()).await
    }

    /// A new account (no password) with this e-mail and a valid access token.
    pub async fn account_with_email(&self, email: &str) -> Caller {
        let email = email.to_string();
        let user_id = self
            .running
            .state
            .store
            .run(move |db| {
                db.execute(
                    "INSERT INTO users (email, name, created_at, email_verified_at)
                     VALUES (?1, 'Test person', 0, 0)",
                    [email],
                )?;
                Ok::<_, StoreError>(u32::try_from(db.last_insert_rowid()).unwrap())
            })
            .await
            .unwrap();
        self.token_for(user_id).await
    }

    /// An access token for an existing account: a token family and an access token row.
    pub async fn token_for(&self, user_id: u32) -> Caller {
        self.token_until(user_id, i64::MAX).await
    }

    /// An access token for an existing account that expires at `expires_at` (Unix seconds,
    /// the cloud's clock).
    pub async fn token_until(&self, user_id: u32, expires_at: i64) -> Caller {
        let (token, hash) = new_token().unwrap();
        self.running
            .state
            .store
            .run(move |db| {
                db.execute(
                    "INSERT INTO token_families (user_id, created_at) VALUES (?1, 0)",
                    [user_id],
                )?;
                db.execute(
                    "INSERT INTO access_tokens (token_hash, family_id, user_id, expires_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![hash, db.last_insert_rowid(), user_id, expires_at],
                )?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        Caller { user_id, token }
    }

    /// One number from the database (`SELECT COUNT(*) ...` and the like).
    pub async fn count(&self, sql: impl Into<String>) -> i64 {
        let sql = sql.into();
        self.running
            .state
            .store
            .run(move |db| Ok::<_, StoreError>(db.query_row(&sql, [], |row| row.get(0))?))
            .await
            .unwrap()
    }

    /// Calls the API and returns the status and the JSON body (`null` when empty).
    pub async fn call(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.running.base_url()))
            .bearer_auth(&caller.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, value)
    }

    /// `POST` of a raw body with `content_type`; returns the status and the JSON body.
    pub async fn post_raw(
        &self,
        caller: &Caller,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.running.base_url()))
            .bearer_auth(&caller.token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.into())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET` of a text answer: the status, the content type and the text.
    pub async fn get_text(&self, caller: &Caller, path: &str) -> (StatusCode, String, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.running.base_url()))
            .bearer_auth(&caller.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, content_type, response.text().await.unwrap())
    }

    /// `GET`.
    pub async fn get(&self, caller: &Caller, path: &str) -> (StatusCode, Value) {
        self.call(caller, Method::GET, path, None).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, caller: &Caller, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(caller, Method::POST, path, Some(body)).await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, caller: &Caller, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(caller, Method::PATCH, path, Some(body)).await
    }

    /// `PUT` with a JSON body.
    pub async fn put(&self, caller: &Caller, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(caller, Method::PUT, path, Some(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, caller: &Caller, path: &str) -> (StatusCode, Value) {
        self.call(caller, Method::DELETE, path, None).await
    }

    /// A new site owned by `owner`.
    pub async fn site(&self, owner: &Caller) -> SiteView {
        let (status, body) = self
            .post(
                owner,
                "/api/v1/sites",
                json!({ "name": "HQ", "utc_offset_minutes": 60 }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        typed(body)
    }

    /// Adds a new person with `role` to the site (as `actor`) and returns them with a token.
    pub async fn member(&self, actor: &Caller, site_id: u32, role: Role) -> Caller {
        let (status, body) = self
            .post(
                actor,
                &format!("/api/v1/sites/{site_id}/people"),
                json!({ "email": self.email(), "name": "Member", "role": role }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let person: PersonView = typed(body);
        self.mark_verified(person.user_id).await;
        let caller = self.token_for(person.user_id).await;
        // They use Keyway once, so the place is theirs (claimed), as for a real person.
        let (status, _) = self.get(&caller, "/api/v1/me").await;
        assert_eq!(status, StatusCode::OK);
        caller
    }

    /// Marks an account's address verified, as if its person had signed up and entered the
    /// code (the verification flow has its own tests).
    pub async fn mark_verified(&self, user_id: u32) {
        self.running
            .state
            .store
            .run(move |db| {
                db.execute(
                    "UPDATE users SET email_verified_at = 0 WHERE id = ?1",
                    [user_id],
                )?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
    }

    /// Signs up over HTTP; returns the status and the JSON body.
    pub async fn sign_up(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.unauthenticated(
            "/api/v1/accounts",
            json!({ "email": email, "name": "Signer", "password": password }),
        )
        .await
    }

    /// `POST /api/v1/accounts/verify`; returns the status and the JSON body.
    pub async fn verify(&self, email: &str, code: &str, password: &str) -> (StatusCode, Value) {
        self.unauthenticated(
            "/api/v1/accounts/verify",
            json!({ "email": email, "code": code, "password": password }),
        )
        .await
    }

    /// `POST` without a token.
    pub async fn unauthenticated(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.running.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Delivers due mail and returns every e-mail sent to `to` so far, oldest first.
    pub async fn mail_to(&self, to: &str) -> Vec<MailboxMessage> {
        self.running
            .state
            .delivered_mail()
            .await
            .unwrap()
            .into_iter()
            .filter(|message| message.to == to)
            .collect()
    }

    /// The verification code of the latest e-mail to `to` that carries one.
    pub async fn verification_code(&self, to: &str) -> Option<String> {
        self.mail_to(to)
            .await
            .iter()
            .rev()
            .find_map(|message| verification::find_code(&message.body))
    }

    /// The site's people as `caller` sees them: every page, followed to the last, in the
    /// list's order.
    pub async fn people(&self, caller: &Caller, site_id: u32) -> Vec<PersonView> {
        let mut people = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/sites/{site_id}/people?limit=500");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = self.people_page(caller, &path).await;
            people.extend(page.people);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return people,
            }
        }
    }

    /// One page of people at `path` (a `/people` path with its query), which must answer 200.
    pub async fn people_page(&self, caller: &Caller, path: &str) -> PeoplePage {
        let (status, body) = self.get(caller, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        typed(body)
    }

    /// Registers a lock with a new key on the site.
    pub async fn lock(&self, owner: &Caller, site_id: u32, name: &str) -> (LockView, SigningKey) {
        let lock_key = key();
        let (status, body) = self
            .post(
                owner,
                &format!("/api/v1/sites/{site_id}/locks"),
                json!({ "name": name, "public_key": b64_key(&lock_key.public_key()) }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (typed(body), lock_key)
    }

    /// Creates an access group.
    pub async fn group(
        &self,
        owner: &Caller,
        site_id: u32,
        lock_ids: &[u32],
        user_ids: &[u32],
        schedule: &[ScheduleWindow],
    ) -> AccessGroupView {
        let (status, body) = self
            .post(
                owner,
                &format!("/api/v1/sites/{site_id}/access-groups"),
                json!({ "name": "Group", "lock_ids": lock_ids, "user_ids": user_ids, "schedule": schedule }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        typed(body)
    }

    /// Sets an access group's members (as `owner`), which must answer 200.
    pub async fn set_group_members(
        &self,
        owner: &Caller,
        site_id: u32,
        group_id: u32,
        ids: &[u32],
    ) {
        let (status, body) = self
            .put(
                owner,
                &format!("/api/v1/sites/{site_id}/access-groups/{group_id}/members"),
                json!({ "user_ids": ids }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Registers a device with a new key for `caller`.
    pub async fn device(&self, caller: &Caller) -> (DeviceView, SigningKey) {
        let device_key = key();
        let (status, body) = self
            .post(
                caller,
                "/api/v1/devices",
                json!({ "public_key": b64_key(&device_key.public_key()), "name": "Phone", "platform": "cli" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (typed(body), device_key)
    }

    /// The key sync of a device.
    pub async fn sync(&self, caller: &Caller, device_id: u32) -> KeySyncResponse {
        let (status, body) = self
            .get(caller, &format!("/api/v1/devices/{device_id}/keys"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        typed(body)
    }
}
