//! The web remote-opening page against an attacker: login CSRF (a foreign origin, a missing
//! token, another visitor's token), `Secure` `__Host-` cookies over https, and a cloud that
//! refuses to serve plain http beyond loopback.

use keyway_cloud::auth::verification;
use keyway_cloud::public_url::PublicUrlError;
use keyway_cloud::{start, CloudConfig, RunningCloud, StartError};
use reqwest::header::{COOKIE, LOCATION, ORIGIN, REFERER, SET_COOKIE};
use reqwest::StatusCode;

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";

struct Web {
    cloud: RunningCloud,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// What a visitor got with the sign-in form: the cookie (name=value) and the hidden token.
struct Form {
    cookie: String,
    token: String,
}

impl Web {
    /// A cloud (with Ada's account) whose public URL is `public_url` (default: loopback).
    async fn start(public_url: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = CloudConfig {
            public_url: public_url.map(|url| url.parse().unwrap()),
            ..CloudConfig::new(dir.path().join("data"))
        };
        let cloud = start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let web = Self {
            cloud,
            http,
            _dir: dir,
        };
        let signup = web
            .http
            .post(format!("{}/api/v1/accounts", web.cloud.base_url()))
            .json(&serde_json::json!({ "email": EMAIL, "name": "Ada", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), StatusCode::ACCEPTED);
        let code = web
            .cloud
            .state
            .delivered_mail()
            .await
            .unwrap()
            .iter()
            .find_map(|message| verification::find_code(&message.body))
            .unwrap();
        let verified = web
            .http
            .post(format!("{}/api/v1/accounts/verify", web.cloud.base_url()))
            .json(&serde_json::json!({ "email": EMAIL, "code": code, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(verified.status(), StatusCode::OK);
        web
    }

    /// The origin browsers see the cloud at.
    fn origin(&self) -> String {
        self.cloud.state.config.public_origin().unwrap()
    }

    /// Opens the sign-in form as a new visitor.
    async fn form(&self) -> Form {
        let page = self
            .http
            .get(format!("{}/web/remote", self.cloud.base_url()))
            .send()
            .await
            .unwrap();
        let cookie = set_cookies(&page)
            .into_iter()
            .find(|c| c.contains("keyway_login="))
            .unwrap();
        let html = page.text().await.unwrap();
        let token = html
            .split("name=\"login_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        Form {
            cookie: cookie.split(';').next().unwrap().to_string(),
            token,
        }
    }

    /// Posts Ada's right password with this cookie, token and origin headers.
    async fn sign_in(
        &self,
        cookie: Option<&str>,
        token: Option<&str>,
        headers: &[(reqwest::header::HeaderName, &str)],
    ) -> reqwest::Response {
        let mut form = vec![("email", EMAIL), ("password", PASSWORD)];
        if let Some(token) = token {
            form.push(("login_csrf", token));
        }
        let mut request = self
            .http
            .post(format!("{}/web/login", self.cloud.base_url()))
            .form(&form);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        request.send().await.unwrap()
    }
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect()
}

/// Whether the answer signed the visitor in: a redirect that sets a session cookie.
fn signed_in(response: &reqwest::Response) -> bool {
    response.status() == StatusCode::SEE_OTHER
        && set_cookies(response)
            .iter()
            .any(|c| c.contains("keyway_web=") && !c.contains("keyway_web=;"))
}

#[tokio::test]
async fn the_own_form_signs_in_and_a_cross_site_post_does_not() {
    let web = Web::start(None).await;
    let origin = web.origin();

    // A real browser on the cloud's own page.
    let form = web.form().await;
    let own = web
        .sign_in(Some(&form.cookie), Some(&form.token), &[(ORIGIN, &origin)])
        .await;
    assert!(signed_in(&own), "{:?}", own.headers());
    assert_eq!(own.headers()[LOCATION], "/web/remote");

    // The attacker's page posts the victim's form (with a valid token pair the attacker
    // fetched, which cannot help: the browser names the attacker's origin).
    for foreign in [
        vec![(ORIGIN, "https://evil.example")],
        vec![(ORIGIN, "null")],
        vec![(ORIGIN, "http://127.0.0.1:1")],
        vec![(REFERER, "https://evil.example/login-csrf.html")],
    ] {
        let form = web.form().await;
        let posted = web
            .sign_in(Some(&form.cookie), Some(&form.token), &foreign)
            .await;
        assert!(!signed_in(&posted), "{foreign:?}");
        assert_eq!(posted.status(), StatusCode::FORBIDDEN, "{foreign:?}");
    }
    let form = web.form().await;
    let referred = web
        .sign_in(
            Some(&form.cookie),
            Some(&form.token),
            &[(REFERER, &format!("{origin}/web/remote"))],
        )
        .await;
    assert!(signed_in(&referred), "a same-origin Referer is enough");
}

#[tokio::test]
async fn a_missing_or_borrowed_token_signs_no_one_in() {
    let web = Web::start(None).await;
    let origin = web.origin();
    let victim = web.form().await;
    let attacker = web.form().await;
    assert_ne!(victim.token, attacker.token);
    let cases = [
        ("no token, no cookie", None, None),
        ("a cookie but no token", Some(victim.cookie.as_str()), None),
        ("a token but no cookie", None, Some(victim.token.as_str())),
        (
            "another visitor's token",
            Some(victim.cookie.as_str()),
            Some(attacker.token.as_str()),
        ),
        ("an empty token", Some(victim.cookie.as_str()), Some("")),
    ];
    for (case, cookie, token) in cases {
        let posted = web.sign_in(cookie, token, &[(ORIGIN, &origin)]).await;
        assert!(!signed_in(&posted), "{case}");
        assert_eq!(posted.status(), StatusCode::FORBIDDEN, "{case}");
    }
    // Refused forms cost no password try: the owner still signs in.
    let posted = web
        .sign_in(
            Some(&victim.cookie),
            Some(&victim.token),
            &[(ORIGIN, &origin)],
        )
        .await;
    assert!(signed_in(&posted));
}

#[tokio::test]
async fn over_https_every_cookie_is_a_secure_host_cookie() {
    let web = Web::start(Some("https://keyway.example.com")).await;
    assert_eq!(web.origin(), "https://keyway.example.com");
    let page = web
        .http
        .get(format!("{}/web/remote", web.cloud.base_url()))
        .send()
        .await
        .unwrap();
    let form_cookie = set_cookies(&page).remove(0);
    assert!(
        form_cookie.starts_with("__Host-keyway_login="),
        "{form_cookie}"
    );
    let form = web.form().await;
    let posted = web
        .sign_in(
            Some(&form.cookie),
            Some(&form.token),
            &[(ORIGIN, "https://keyway.example.com")],
        )
        .await;
    assert!(signed_in(&posted));
    let session = set_cookies(&posted).remove(0);
    assert!(session.starts_with("__Host-keyway_web="), "{session}");
    for attribute in ["; Secure", "; Path=/;", "; HttpOnly", "; SameSite=Strict"] {
        assert!(session.contains(attribute), "{attribute}: {session}");
        assert!(
            form_cookie.contains(attribute),
            "{attribute}: {form_cookie}"
        );
    }
    assert!(!session.contains("Domain"), "{session}");

    // The session works with its own cookie; plain http's name is not accepted.
    let value = session.split(';').next().unwrap().to_string();
    let signed = |cookie: String| {
        web.http
            .get(format!("{}/web/remote", web.cloud.base_url()))
            .header(COOKIE, cookie)
            .send()
    };
    let picker = signed(value.clone()).await.unwrap().text().await.unwrap();
    assert!(picker.contains("/web/logout"), "the lock picker");
    let plain = value.replace("__Host-keyway_web=", "keyway_web=");
    let page = signed(plain).await.unwrap().text().await.unwrap();
    assert!(page.contains("login_csrf"), "the sign-in form again");

    // The http origin of the same host is foreign.
    let form = web.form().await;
    let downgraded = web
        .sign_in(
            Some(&form.cookie),
            Some(&form.token),
            &[(ORIGIN, "http://keyway.example.com")],
        )
        .await;
    assert!(!signed_in(&downgraded));
}

#[tokio::test]
async fn plain_http_beyond_loopback_refuses_to_start() {
    for url in ["http://keyway.example.com", "http://192.0.2.10:8080"] {
        let dir = tempfile::tempdir().unwrap();
        let config = CloudConfig {
            public_url: Some(url.parse().unwrap()),
            ..CloudConfig::new(dir.path().join("data"))
        };
        let refused = start(config, "127.0.0.1:0".parse().unwrap()).await;
        assert!(
            matches!(
                refused,
                Err(StartError::PublicUrl(
                    PublicUrlError::PlainHttpNotLoopback { .. }
                ))
            ),
            "{url}: {refused:?}"
        );
    }
    // Listening on every interface without a public URL is plain http beyond loopback too.
    let dir = tempfile::tempdir().unwrap();
    let refused = start(
        CloudConfig::new(dir.path().join("data")),
        "0.0.0.0:0".parse().unwrap(),
    )
    .await;
    assert!(matches!(
        refused,
        Err(StartError::PublicUrl(
            PublicUrlError::PlainHttpNotLoopback { .. }
        ))
    ));
}

#[tokio::test]
async fn plain_http_on_loopback_works_without_secure_cookies() {
    for url in [
        None,
        Some("http://localhost:8080"),
        Some("http://[::1]:8080"),
    ] {
        let web = Web::start(url).await;
        let origin = web.origin();
        let form = web.form().await;
        let posted = web
            .sign_in(Some(&form.cookie), Some(&form.token), &[(ORIGIN, &origin)])
            .await;
        assert!(signed_in(&posted), "{url:?}");
        let session = set_cookies(&posted).remove(0);
        assert!(session.starts_with("keyway_web="), "{session}");
        assert!(!session.contains("Secure"), "{session}");
    }
}
