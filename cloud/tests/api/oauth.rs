//! Accounts and OAuth2 (authorization code + PKCE, refresh rotation, revocation, throttling)
//! over real HTTP on loopback, the way the apps use them.

use std::collections::HashMap;

use axum::routing::get;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyway_api::{OAuthErrorBody, TokenResponse, UserView, APP_CLIENT_ID, APP_REDIRECT_URI};
use keyway_cloud::auth::{verification, Authenticated};
use keyway_cloud::{start, ApiError, CloudConfig, RunningCloud};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::StatusCode;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use url::Url;

const PASSWORD: &str = "correct horse battery";

struct Harness {
    cloud: RunningCloud,
    http: reqwest::Client,
    /// A route behind the real `Authenticated` extractor, over the cloud's own state.
    whoami_url: String,
    _dir: tempfile::TempDir,
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_params(
    challenge: &str,
    redirect_uri: &str,
    state: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", APP_CLIENT_ID.into()),
        ("redirect_uri", redirect_uri.into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
        ("state", state.into()),
    ]
}

/// `params` with `name` set to `value`, or removed.
fn with(
    params: &[(&'static str, String)],
    name: &str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    params
        .iter()
        .filter_map(|(k, v)| match (*k == name, value) {
            (false, _) => Some((*k, v.clone())),
            (true, Some(value)) => Some((*k, value.to_string())),
            (true, None) => None,
        })
        .collect()
}

fn location(response: &reqwest::Response) -> Url {
    let location = response
        .headers()
        .get(LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap();
    Url::parse(location).unwrap()
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

async fn oauth_error(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    response.json::<OAuthErrorBody>().await.unwrap().error
}

impl Harness {
    async fn new() -> Self {
        Self::behind_proxies(Vec::new()).await
    }

    /// A cloud that believes `X-Forwarded-For` from these proxies.
    async fn behind_proxies(trusted_proxies: Vec<std::net::IpAddr>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = CloudConfig {
            trusted_proxies,
            ..CloudConfig::new(dir.path().join("data"))
        };
        let cloud = start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let router = axum::Router::new()
            .route(
                "/whoami",
                get(|who: Authenticated| async move { who.user_id.to_string() }),
            )
            .with_state(cloud.state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let whoami_url = format!("http://{}/whoami", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        // reqwest is built without a TLS provider of its own; plain HTTP never uses it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            cloud,
            http,
            whoami_url,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cloud.base_url())
    }

    async fn signup(&self, email: &str, name: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/accounts"))
            .json(&serde_json::json!({ "email": email, "name": name, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// A verified account: signs up, reads the code the cloud e-mailed, verifies.
    async fn account(&self, email: &str) -> u32 {
        let response = self.signup(email, "Ada Lovelace", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let normalized = email.trim().to_lowercase();
        let code = self
            .cloud
            .state
            .delivered_mail()
            .await
            .unwrap()
            .into_iter()
            .rev()
            .filter(|message| message.to == normalized)
            .find_map(|message| verification::find_code(&message.body))
            .expect("a verification e-mail");
        let verified = self
            .http
            .post(self.url("/api/v1/accounts/verify"))
            .json(&serde_json::json!({ "email": email, "code": code, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(verified.status(), StatusCode::OK);
        verified.json::<UserView>().await.unwrap().user_id
    }

    async fn get_authorize(&self, params: &[(&str, String)]) -> reqwest::Response {
        self.http
            .get(self.url("/oauth/authorize"))
            .query(params)
            .send()
            .await
            .unwrap()
    }

    async fn post_login(
        &self,
        params: &[(&'static str, String)],
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.post_login_forwarded(params, email, password, &[])
            .await
    }

    /// The sign-in form, with these `X-Forwarded-For` header lines.
    async fn post_login_forwarded(
        &self,
        params: &[(&'static str, String)],
        email: &str,
        password: &str,
        forwarded_for: &[&str],
    ) -> reqwest::Response {
        let mut form = params.to_vec();
        form.push(("email", email.into()));
        form.push(("password", password.into()));
        let mut request = self.http.post(self.url("/oauth/authorize")).form(&form);
        for hops in forwarded_for {
            request = request.header("x-forwarded-for", *hops);
        }
        request.send().await.unwrap()
    }

    /// Records 20 failed sign-ins from `address` in the last minute: its limit.
    async fn exhaust_address(&self, address: &'static str) {
        let now = self.cloud.state.clock.now();
        self.cloud
            .state
            .store
            .run(move |db| {
                for i in 0..20 {
                    db.execute(
                        "INSERT INTO login_attempts (subject, attempted_at) VALUES (?1, ?2)",
                        rusqlite::params![format!("addr:{address}"), now - 60 + i],
                    )?;
                }
                Ok::<_, ApiError>(())
            })
            .await
            .unwrap();
    }

    /// Signs in through the form; returns (code, verifier).
    async fn code_for(&self, email: &str, password: &str, redirect_uri: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let params = authorize_params(&challenge, redirect_uri, "s-123");
        let form = self.get_authorize(&params).await;
        assert_eq!(form.status(), StatusCode::OK);
        let html = form.text().await.unwrap();
        assert!(html.contains("<form method=\"post\" action=\"/oauth/authorize\">"));
        assert!(html.contains(&format!("name=\"code_challenge\" value=\"{challenge}\"")));
        let response = self.post_login(&params, email, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let back = location(&response);
        assert!(back.as_str().starts_with(redirect_uri), "{back}");
        let pairs = query(&back);
        assert_eq!(pairs["state"], "s-123");
        (pairs["code"].clone(), verifier)
    }

    async fn exchange(&self, code: &str, verifier: &str, redirect_uri: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("client_id", APP_CLIENT_ID),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap()
    }

    async fn tokens(&self, email: &str) -> TokenResponse {
        let (code, verifier) = self.code_for(email, PASSWORD, APP_REDIRECT_URI).await;
        let response = self.exchange(&code, &verifier, APP_REDIRECT_URI).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        response.json().await.unwrap()
    }

    async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", APP_CLIENT_ID),
            ])
            .send()
            .await
            .unwrap()
    }

    async fn revoke(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/revoke"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// What the bearer extractor says about an access token.
    async fn whoami(&self, access_token: &str) -> Result<u32, StatusCode> {
        let response = self
            .http
            .get(&self.whoami_url)
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::OK => Ok(response.text().await.unwrap().parse().unwrap()),
            other => Err(other),
        }
    }

    async fn count(&self, sql: &'static str) -> i64 {
        self.cloud
            .state
            .store
            .run(move |db| {
                db.query_row(sql, [], |row| row.get::<_, i64>(0))
                    .map_err(ApiError::from)
            })
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn sign_up_normalises_the_email_and_a_verified_account_has_an_argon2id_hash() {
    let h = Harness::new().await;
    let user_id = h.account("  Ada.Lovelace@Example.COM ").await;
    let (email, hash): (String, String) = h
        .cloud
        .state
        .store
        .run(move |db| {
            db.query_row(
                "SELECT email, password_hash FROM users WHERE id = ?1",
                [user_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(ApiError::from)
        })
        .await
        .unwrap();
    assert_eq!(email, "ada.lovelace@example.com");
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(PASSWORD));

    for (email, name, password) in [
        ("not-an-email", "A", PASSWORD),
        ("b@example.com", "   ", PASSWORD),
        ("b@example.com", "B", "nine-char"),
    ] {
        let refused = h.signup(email, name, password).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{email} {name}");
        let text = refused.text().await.unwrap();
        assert!(!text.contains("nine-char"), "no password in errors: {text}");
    }
    let not_json = h
        .http
        .post(h.url("/api/v1/accounts"))
        .header(CONTENT_TYPE, "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_full_login_with_pkce_gives_tokens_the_api_accepts() {
    let h = Harness::new().await;
    let user_id = h.account("ada@example.com").await;
    let tokens = h.tokens("ada@example.com").await;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 15 * 60);
    assert_ne!(tokens.access_token, tokens.refresh_token);
    assert_eq!(h.whoami(&tokens.access_token).await, Ok(user_id));
    assert_eq!(h.whoami("not-a-token").await, Err(StatusCode::UNAUTHORIZED));
    let health = h.http.get(h.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // Only hashes are stored.
    let stored: i64 = {
        let token = tokens.access_token.clone();
        h.cloud
            .state
            .store
            .run(move |db| {
                db.query_row(
                    "SELECT COUNT(*) FROM access_tokens WHERE token_hash = ?1",
                    [token.as_bytes()],
                    |row| row.get(0),
                )
                .map_err(ApiError::from)
            })
            .await
            .unwrap()
    };
    assert_eq!(stored, 0);
    // The token response does not leak through Debug.
    let debug = format!("{tokens:?}");
    assert!(!debug.contains(&tokens.access_token) && !debug.contains(&tokens.refresh_token));
}

#[tokio::test]
async fn loopback_redirect_uris_work_for_the_cli() {
    let h = Harness::new().await;
    let user_id = h.account("cli@example.com").await;
    for redirect in [
        "http://127.0.0.1:53100/callback",
        "http://[::1]:41234/oauth/done",
    ] {
        let (code, verifier) = h.code_for("cli@example.com", PASSWORD, redirect).await;
        let response = h.exchange(&code, &verifier, redirect).await;
        assert_eq!(response.status(), StatusCode::OK, "{redirect}");
        let tokens: TokenResponse = response.json().await.unwrap();
        assert_eq!(h.whoami(&tokens.access_token).await, Ok(user_id));
    }
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_issues_no_code() {
    let h = Harness::new().await;
    h.account("ada@example.com").await;
    let (_, challenge) = pkce();
    let params = authorize_params(&challenge, APP_REDIRECT_URI, "xyz");
    let mut pages = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        let response = h.post_login(&params, email, "wrong password!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(LOCATION).is_none());
        assert!(response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains("data-error=\"unauthorized\""), "{html}");
        assert!(html.contains("name=\"password\""));
        assert!(
            !html.contains("wrong password!"),
            "the password is not echoed"
        );
        pages.push(html.replace(email, "EMAIL"));
    }
    assert_eq!(pages[0], pages[1], "no hint whether the account exists");
    assert_eq!(h.count("SELECT COUNT(*) FROM oauth_codes").await, 0);

    let missing = h.post_login(&params, "", "").await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_verifier_that_does_not_match_the_challenge_is_invalid_grant() {
    let h = Harness::new().await;
    h.account("ada@example.com").await;
    let (code, _) = h
        .code_for("ada@example.com", PASSWORD, APP_REDIRECT_URI)
        .await;
    let (other_verifier, _) = pkce();
    let response = h.exchange(&code, &other_verifier, APP_REDIRECT_URI).await;
    assert_eq!(oauth_error(response).await, "invalid_grant");
    assert_eq!(h.count("SELECT COUNT(*) FROM access_tokens").await, 0);

    let (code, verifier) = h
        .code_for("ada@example.com", PASSWORD, APP_REDIRECT_URI)
        .await;
    let short = h.exchange(&code, "too-short", APP_REDIRECT_URI).await;
    assert_eq!(oauth_error(short).await, "invalid_request");
    let other_redirect = h
        .exchange(&code, &verifier, "http://127.0.0.1:5000/cb")
        .await;
    assert_eq!(oauth_error(other_redirect).await, "invalid_grant");
}

#[tokio::test]
async fn bad_pkce_or_response_type_goes_back_to_the_app_as_an_error() {
    let h = Harness::new().await;
    let (_, challenge) = pkce();
    let base = authorize_params(&challenge, APP_REDIRECT_URI, "st4te");
    let cases = [
        (
            "no challenge",
            with(&base, "code_challenge", None),
            "invalid_request",
        ),
        (
            "plain",
            with(&base, "code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (
            "no method (means plain)",
            with(&base, "code_challenge_method", None),
            "invalid_request",
        ),
        (
            "short challenge",
            with(&base, "code_challenge", Some("abc")),
            "invalid_request",
        ),
        (
            "no response_type",
            with(&base, "response_type", None),
            "invalid_request",
        ),
        (
            "implicit",
            with(&base, "response_type", Some("token")),
            "unsupported_response_type",
        ),
    ];
    for (case, params, error) in cases {
        let response = h.get_authorize(&params).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{case}");
        let back = location(&response);
        assert!(
            back.as_str().starts_with("keyway://oauth?"),
            "{case}: {back}"
        );
        let pairs = query(&back);
        assert_eq!(pairs["error"], error, "{case}");
        assert_eq!(pairs["state"], "st4te", "{case}");
        assert!(!pairs.contains_key("code"));
    }
    // The form post is checked the same way.
    let plain = with(&base, "code_challenge_method", Some("plain"));
    let response = h.post_login(&plain, "ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(query(&location(&response))["error"], "invalid_request");
}

#[tokio::test]
async fn untrusted_clients_and_redirect_uris_get_an_error_page_never_a_redirect() {
    let h = Harness::new().await;
    h.account("ada@example.com").await;
    let (_, challenge) = pkce();
    for redirect in [
        "https://evil.example/cb",
        "http://evil.example/cb",
        "https://127.0.0.1:5000/cb",
        "http://localhost:5000/cb",
        "http://127.0.0.2:5000/cb",
        "keyway://oauth/other",
        "keyway://evil",
        "http://127.0.0.1:5000/cb#fragment",
    ] {
        let params = authorize_params(&challenge, redirect, "s");
        let response = h.get_authorize(&params).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{redirect}");
        assert!(response.headers().get(LOCATION).is_none(), "{redirect}");
        let posted = h.post_login(&params, "ada@example.com", PASSWORD).await;
        assert_eq!(posted.status(), StatusCode::BAD_REQUEST, "{redirect}");
        assert!(posted.headers().get(LOCATION).is_none(), "{redirect}");
    }
    let mut unknown_client = authorize_params(&challenge, APP_REDIRECT_URI, "s");
    unknown_client[1].1 = "someone-else".into();
    let response = h.get_authorize(&unknown_client).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(LOCATION).is_none());
    let mut no_redirect = authorize_params(&challenge, APP_REDIRECT_URI, "s");
    no_redirect.remove(2);
    assert_eq!(
        h.get_authorize(&no_redirect).await.status(),
        StatusCode::BAD_REQUEST
    );
    let mut twice = authorize_params(&challenge, APP_REDIRECT_URI, "s");
    twice.push(("redirect_uri", "http://127.0.0.1:1/x".into()));
    assert_eq!(
        h.get_authorize(&twice).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM oauth_codes").await, 0);
}

#[tokio::test]
async fn the_form_escapes_what_it_echoes() {
    let h = Harness::new().await;
    h.account("ada@example.com").await;
    let (_, challenge) = pkce();
    let evil_state = "\"><script>alert(1)</script>";
    let params = authorize_params(&challenge, APP_REDIRECT_URI, evil_state);
    let response = h.get_authorize(&params).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    let response = h.post_login(&params, "ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        query(&location(&response))["state"],
        evil_state,
        "state comes back unchanged"
    );
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_the_tokens_issued_with_it() {
    let h = Harness::new().await;
    let user_id = h.account("ada@example.com").await;
    let (code, verifier) = h
        .code_for("ada@example.com", PASSWORD, APP_REDIRECT_URI)
        .await;
    let first = h.exchange(&code, &verifier, APP_REDIRECT_URI).await;
    assert_eq!(first.status(), StatusCode::OK);
    let tokens: TokenResponse = first.json().await.unwrap();
    assert_eq!(h.whoami(&tokens.access_token).await, Ok(user_id));

    let again = h.exchange(&code, &verifier, APP_REDIRECT_URI).await;
    assert_eq!(oauth_error(again).await, "invalid_grant");
    assert_eq!(
        h.whoami(&tokens.access_token).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let refresh = h.refresh(&tokens.refresh_token).await;
    assert_eq!(oauth_error(refresh).await, "invalid_grant");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_revokes_the_whole_login() {
    let h = Harness::new().await;
    let user_id = h.account("ada@example.com").await;
    let first = h.tokens("ada@example.com").await;

    let response = h.refresh(&first.refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let second: TokenResponse = response.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(h.whoami(&second.access_token).await, Ok(user_id));
    assert_eq!(
        h.whoami(&first.access_token).await,
        Ok(user_id),
        "rotation alone does not end the old access token"
    );

    let response = h.refresh(&second.refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let third: TokenResponse = response.json().await.unwrap();

    // Someone replays the first refresh token: the family dies.
    let replay = h.refresh(&first.refresh_token).await;
    assert_eq!(oauth_error(replay).await, "invalid_grant");
    for access in [
        &first.access_token,
        &second.access_token,
        &third.access_token,
    ] {
        assert_eq!(h.whoami(access).await, Err(StatusCode::UNAUTHORIZED));
    }
    let newest = h.refresh(&third.refresh_token).await;
    assert_eq!(oauth_error(newest).await, "invalid_grant");

    // Another login of the same person is not affected.
    let other = h.tokens("ada@example.com").await;
    assert_eq!(h.whoami(&other.access_token).await, Ok(user_id));
}

#[tokio::test]
async fn expired_codes_access_tokens_and_refresh_tokens_stop_working() {
    let h = Harness::new().await;
    h.account("ada@example.com").await;
    let (code, verifier) = h
        .code_for("ada@example.com", PASSWORD, APP_REDIRECT_URI)
        .await;
    h.cloud.state.clock.advance(61);
    let late = h.exchange(&code, &verifier, APP_REDIRECT_URI).await;
    assert_eq!(oauth_error(late).await, "invalid_grant");

    let tokens = h.tokens("ada@example.com").await;
    h.cloud.state.clock.advance(15 * 60);
    assert_eq!(
        h.whoami(&tokens.access_token).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let refreshed = h.refresh(&tokens.refresh_token).await;
    assert_eq!(
        refreshed.status(),
        StatusCode::OK,
        "refresh outlives access"
    );
    let tokens: TokenResponse = refreshed.json().await.unwrap();

    h.cloud.state.clock.advance(30 * 86_400);
    let expired = h.refresh(&tokens.refresh_token).await;
    assert_eq!(oauth_error(expired).await, "invalid_grant");
}

/// The attacker's address and the owner's, as the proxy the test client plays names them.
const ATTACKER: &str = "198.51.100.66";
const OWNER_ADDRESS: &str = "203.0.113.7";

fn retry_after(response: &reqwest::Response) -> i64 {
    response.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A cloud behind the proxy at 127.0.0.1 (the test client), with Ada's account.
async fn proxied_with_ada() -> Harness {
    let h = Harness::behind_proxies(vec!["127.0.0.1".parse().unwrap()]).await;
    h.account("ada@example.com").await;
    h
}

impl Harness {
    /// A sign-in as Ada from `address`.
    async fn ada_from(&self, address: &str, password: &str) -> reqwest::Response {
        let (_, challenge) = pkce();
        let params = authorize_params(&challenge, APP_REDIRECT_URI, "s");
        self.post_login_forwarded(&params, "ada@example.com", password, &[address])
            .await
    }
}

#[tokio::test]
async fn wrong_passwords_from_one_address_never_lock_the_owner_out_elsewhere() {
    let h = proxied_with_ada().await;
    // Five wrong passwords, waiting out every delay as a patient attacker would.
    let mut failures = 0;
    while failures < 5 {
        let response = h.ada_from(ATTACKER, "wrong password!").await;
        match response.status() {
            StatusCode::UNAUTHORIZED => failures += 1,
            StatusCode::TOO_MANY_REQUESTS => h.cloud.state.clock.advance(retry_after(&response)),
            other => panic!("{other}"),
        }
    }
    let owner = h.ada_from(OWNER_ADDRESS, PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::SEE_OTHER, "the owner signs in");
    assert!(query(&location(&owner)).contains_key("code"));

    // Fifty more, as fast as the attacker can send them.
    for _ in 0..50 {
        let status = h.ada_from(ATTACKER, "wrong password!").await.status();
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&status),
            "{status}"
        );
    }
    let owner = h.ada_from(OWNER_ADDRESS, PASSWORD).await;
    assert_eq!(
        owner.status(),
        StatusCode::SEE_OTHER,
        "still not locked out"
    );
}

#[tokio::test]
async fn the_guessing_address_waits_longer_after_each_failure_even_with_the_right_password() {
    let h = proxied_with_ada().await;
    for _ in 0..3 {
        let response = h.ada_from(ATTACKER, "wrong password!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "free tries");
    }
    for delay in [2, 4, 8, 16] {
        let waiting = h.ada_from(ATTACKER, PASSWORD).await;
        assert_eq!(waiting.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(waiting.headers().get(LOCATION).is_none(), "no code");
        // The cloud's clock is real time: a second may pass between two requests.
        let retry = retry_after(&waiting);
        assert!((delay - 1..=delay).contains(&retry), "{retry} for {delay}");
        h.cloud.state.clock.advance(retry);
        let wrong = h.ada_from(ATTACKER, "wrong password!").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let waiting = h.ada_from(ATTACKER, PASSWORD).await;
    let retry = retry_after(&waiting);
    assert!((31..=32).contains(&retry), "{retry}");
    h.cloud.state.clock.advance(retry);
    let right = h.ada_from(ATTACKER, PASSWORD).await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER, "after the wait");
    for _ in 0..3 {
        let response = h.ada_from(ATTACKER, "wrong password!").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "a success forgets the delays"
        );
    }
}

#[tokio::test]
async fn one_address_spraying_many_accounts_is_stopped_at_twenty() {
    let h = proxied_with_ada().await;
    let (_, challenge) = pkce();
    let params = authorize_params(&challenge, APP_REDIRECT_URI, "s");
    for i in 0..20 {
        let email = format!("victim{i}@example.com");
        let response = h
            .post_login_forwarded(&params, &email, "wrong password!", &[ATTACKER])
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "try {i}");
    }
    let refused = h.ada_from(ATTACKER, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=15 * 60).contains(&retry_after(&refused)));
    let owner = h.ada_from(OWNER_ADDRESS, PASSWORD).await;
    assert_eq!(
        owner.status(),
        StatusCode::SEE_OTHER,
        "others are not refused"
    );
}

#[tokio::test]
async fn many_addresses_guessing_one_account_are_stopped_at_a_hundred() {
    let h = proxied_with_ada().await;
    for i in 0..100 {
        let address = format!("198.51.100.{}", i + 100);
        let response = h.ada_from(&address, "wrong password!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "try {i}");
    }
    let refused = h.ada_from("192.0.2.1", PASSWORD).await;
    assert_eq!(
        refused.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a distributed guesser is stopped"
    );
    h.cloud.state.clock.advance(retry_after(&refused));
    let owner = h.ada_from(OWNER_ADDRESS, PASSWORD).await;
    assert_eq!(
        owner.status(),
        StatusCode::SEE_OTHER,
        "until the window passes"
    );
}

#[tokio::test]
async fn a_distributed_guesser_does_not_lock_the_owner_out_where_they_usually_sign_in() {
    let h = proxied_with_ada().await;
    let usual = h.ada_from(OWNER_ADDRESS, PASSWORD).await;
    assert_eq!(
        usual.status(),
        StatusCode::SEE_OTHER,
        "the owner signs in as usual"
    );
    for i in 0..100 {
        let address = format!("198.51.100.{}", i + 100);
        let response = h.ada_from(&address, "wrong password!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "try {i}");
    }
    let stranger = h.ada_from("192.0.2.1", PASSWORD).await;
    assert_eq!(
        stranger.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a new address is held at the cap, even with the password"
    );
    let owner = h.ada_from(OWNER_ADDRESS, PASSWORD).await;
    assert_eq!(
        owner.status(),
        StatusCode::SEE_OTHER,
        "the owner's usual address is not locked out"
    );
}

#[tokio::test]
async fn an_address_with_twenty_failures_is_refused_even_for_another_account() {
    let h = Harness::new().await;
    h.account("ada@example.com").await;
    h.exhaust_address("127.0.0.1").await;
    let (_, challenge) = pkce();
    let params = authorize_params(&challenge, APP_REDIRECT_URI, "s");
    let response = h.post_login(&params, "ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // The failures were a minute ago (the harness moved the clock); a second may have ticked
    // since on a busy machine.
    let wait = retry_after(&response);
    assert!(
        (15 * 60 - 61..=15 * 60 - 60).contains(&wait),
        "told to wait out the rest of the quarter hour, not {wait} s"
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let (_, challenge) = pkce();
    let params = authorize_params(&challenge, APP_REDIRECT_URI, "s");
    let status = |response: reqwest::Response| response.status();

    // The test client plays the proxy at 127.0.0.1, appending the client it saw.
    let proxied = Harness::behind_proxies(vec!["127.0.0.1".parse().unwrap()]).await;
    proxied.account("ada@example.com").await;
    proxied.exhaust_address("198.51.100.1").await;
    let limited = proxied
        .post_login_forwarded(&params, "ada@example.com", PASSWORD, &["198.51.100.1"])
        .await;
    assert_eq!(status(limited), StatusCode::TOO_MANY_REQUESTS);
    let spoofed = proxied
        .post_login_forwarded(
            &params,
            "ada@example.com",
            PASSWORD,
            &["203.0.113.5, 198.51.100.1"],
        )
        .await;
    assert_eq!(
        status(spoofed),
        StatusCode::TOO_MANY_REQUESTS,
        "a client cannot escape its limit by prepending addresses"
    );
    let neighbour = proxied
        .post_login_forwarded(&params, "ada@example.com", PASSWORD, &["198.51.100.2"])
        .await;
    assert_eq!(
        status(neighbour),
        StatusCode::SEE_OTHER,
        "another client behind the same proxy is not throttled"
    );

    // Without a trusted proxy the header is the client's own claim and changes nothing.
    let direct = Harness::new().await;
    direct.account("ada@example.com").await;
    direct.exhaust_address("127.0.0.1").await;
    let claimed = direct
        .post_login_forwarded(&params, "ada@example.com", PASSWORD, &["198.51.100.2"])
        .await;
    assert_eq!(status(claimed), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn revoking_a_token_ends_its_login() {
    let h = Harness::new().await;
    let user_id = h.account("ada@example.com").await;

    let by_refresh = h.tokens("ada@example.com").await;
    let kept = h.tokens("ada@example.com").await;
    let response = h
        .revoke(&[
            ("token", by_refresh.refresh_token.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", APP_CLIENT_ID),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        h.whoami(&by_refresh.access_token).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let refresh = h.refresh(&by_refresh.refresh_token).await;
    assert_eq!(oauth_error(refresh).await, "invalid_grant");
    assert_eq!(h.whoami(&kept.access_token).await, Ok(user_id));

    // An access token works too, with a wrong hint.
    let response = h
        .revoke(&[
            ("token", kept.access_token.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        h.whoami(&kept.access_token).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        oauth_error(h.refresh(&kept.refresh_token).await).await,
        "invalid_grant"
    );

    let unknown = h.revoke(&[("token", "no-such-token")]).await;
    assert_eq!(unknown.status(), StatusCode::OK);
    let missing = h.revoke(&[("token_type_hint", "access_token")]).await;
    assert_eq!(oauth_error(missing).await, "invalid_request");
    let bad_client = h
        .revoke(&[("token", "x"), ("client_id", "someone-else")])
        .await;
    assert_eq!(oauth_error(bad_client).await, "invalid_client");
}

#[tokio::test]
async fn the_token_endpoint_answers_bad_requests_with_oauth_errors() {
    let h = Harness::new().await;
    let post = |form: Vec<(&'static str, &'static str)>| {
        h.http.post(h.url("/oauth/token")).form(&form).send()
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("client_id", APP_CLIENT_ID)], "invalid_request"),
        (
            vec![("grant_type", "password"), ("client_id", APP_CLIENT_ID)],
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "refresh_token"), ("refresh_token", "x")],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", "someone-else"),
            ],
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", APP_CLIENT_ID),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "unknown"),
                ("client_id", APP_CLIENT_ID),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", APP_CLIENT_ID),
                ("code", "unknown"),
                ("redirect_uri", APP_REDIRECT_URI),
                (
                    "code_verifier",
                    "0123456789012345678901234567890123456789abc",
                ),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", APP_CLIENT_ID),
            ],
            "invalid_request",
        ),
    ];
    for (form, error) in cases {
        let shown = format!("{form:?}");
        assert_eq!(
            oauth_error(post(form).await.unwrap()).await,
            error,
            "{shown}"
        );
    }
    let json = h
        .http
        .post(h.url("/oauth/token"))
        .json(&serde_json::json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(json).await, "invalid_request");
}

#[tokio::test]
async fn the_openapi_document_lists_the_auth_routes() {
    let h = Harness::new().await;
    let document: serde_json::Value = h
        .http
        .get(h.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &document["paths"];
    assert!(paths["/api/v1/accounts"]["post"].is_object());
    assert!(paths["/oauth/authorize"]["get"].is_object());
    assert!(paths["/oauth/authorize"]["post"].is_object());
    assert!(paths["/oauth/token"]["post"].is_object());
    assert!(paths["/oauth/revoke"]["post"].is_object());
    let schemas = &document["components"]["schemas"];
    assert!(schemas["TokenResponse"].is_object());
    assert!(schemas["OAuthErrorBody"].is_object());
}

#[tokio::test]
async fn a_request_without_state_is_refused_on_a_page_never_sent_to_the_app() {
    let h = Harness::new().await;
    h.account("ada@example.com").await;
    let (_, challenge) = pkce();
    let params = authorize_params(&challenge, APP_REDIRECT_URI, "s");
    // An attacker's link or form without a state (or an empty one) must not get a code to
    // the app, nor an error the app would act on.
    for forged in [
        with(&params, "state", None),
        with(&params, "state", Some("")),
    ] {
        let shown = h.get_authorize(&forged).await;
        assert_eq!(shown.status(), StatusCode::BAD_REQUEST);
        assert!(shown.headers().get(LOCATION).is_none());
        assert!(
            !shown.text().await.unwrap().contains("name=\"password\""),
            "no form"
        );
        let posted = h.post_login(&forged, "ada@example.com", PASSWORD).await;
        assert_eq!(posted.status(), StatusCode::BAD_REQUEST);
        assert!(posted.headers().get(LOCATION).is_none());
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM oauth_codes").await, 0);
}

#[tokio::test]
async fn an_address_not_yet_verified_cannot_sign_in_even_with_its_own_password() {
    let h = Harness::new().await;
    let signed_up = h.signup("early@example.com", "Early", PASSWORD).await;
    assert_eq!(signed_up.status(), StatusCode::ACCEPTED);
    let (_, challenge) = pkce();
    let params = authorize_params(&challenge, APP_REDIRECT_URI, "xyz");
    let response = h.post_login(&params, "early@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get(LOCATION).is_none(), "no code");
    // Once the address is verified, the same password signs in.
    let user_id = h.account("early@example.com").await;
    let tokens = h.tokens("early@example.com").await;
    assert_eq!(h.whoami(&tokens.access_token).await, Ok(user_id));
}

#[tokio::test]
async fn an_account_from_before_verification_confirms_its_address_at_its_next_sign_in() {
    let h = Harness::new().await;
    // An account opened before e-mail verification existed: a password, no verified address
    // (possibly opened by somebody else with this address).
    let hash = keyway_cloud::auth::hash_password(PASSWORD).unwrap();
    h.cloud
        .state
        .store
        .run(move |db| {
            db.execute(
                "INSERT INTO users (email, name, password_hash, created_at)
                 VALUES ('legacy@example.com', 'Legacy', ?1, 0)",
                [hash],
            )
            .map_err(ApiError::from)
        })
        .await
        .unwrap();
    let (_, challenge) = pkce();
    let params = authorize_params(&challenge, APP_REDIRECT_URI, "xyz");
    let wrong = h
        .post_login(&params, "legacy@example.com", "not the password")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = h.post_login(&params, "legacy@example.com", PASSWORD).await;
    assert_eq!(
        right.status(),
        StatusCode::FORBIDDEN,
        "no code until confirmed"
    );
    assert!(right.headers().get(LOCATION).is_none());
    // The code went to the address; with it (and the same password) the account is confirmed.
    let code = h
        .cloud
        .state
        .delivered_mail()
        .await
        .unwrap()
        .into_iter()
        .find_map(|message| verification::find_code(&message.body))
        .expect("a code for the legacy address");
    let verified = h
        .http
        .post(h.url("/api/v1/accounts/verify"))
        .json(&serde_json::json!({ "email": "legacy@example.com", "code": code, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let tokens = h.tokens("legacy@example.com").await;
    assert!(h.whoami(&tokens.access_token).await.is_ok());
}
