//! "Connect" (manual 004): a registered app asks a site admin to connect it, through
//! `/oauth/authorize` (sign-in, then the consent page) and `/oauth/token` (with its secret),
//! then calls the integration API for that site only. Driven as the app and as an attacker.

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use keyway_api::integrations::{ConnectedAppToken, ConnectedAppView};
use keyway_api::{ErrorCode, OAuthErrorBody, Role};
use keyway_cloud::integrations::connections::{register_app, NewApp};
use reqwest::header::{AUTHORIZATION, LOCATION, ORIGIN, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use url::Url;

use crate::api_support::console::{error_code, on_site, person, Browser, PASSWORD};
use crate::api_support::integration::{call, person as person_body};
use crate::api_support::{code, typed, Caller, Cloud};

const REDIRECT: &str = "https://cowork.example/keyway/callback";

/// The app, a site owned by `owner` and the browser of the person connecting.
struct Connect {
    cloud: Cloud,
    app: NewApp,
    http: reqwest::Client,
    origin: String,
}

fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every hidden field of a page's form.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = rest.split_once('"').unwrap().0;
            (unescape(name), unescape(value))
        })
        .collect()
}

/// The site ids the consent page offers.
fn offered_sites(page: &str) -> Vec<u32> {
    page.split("name=\"site_id\" value=\"")
        .skip(1)
        .map(|rest| rest.split_once('"').unwrap().0.parse().unwrap())
        .collect()
}

fn query(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

impl Connect {
    async fn new() -> Self {
        let cloud = Cloud::start().await;
        let app = cloud
            .running
            .state
            .store
            .run(|db| register_app(db, "Cowork <Hub>", &[REDIRECT.to_string()], 0))
            .await
            .unwrap();
        let origin = cloud.running.state.config.public_origin().unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            cloud,
            app,
            http,
            origin,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cloud.running.base_url())
    }

    fn request(&self, challenge: &str, scope: &str) -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", self.app.app.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", "app-state-1"),
            ("scope", scope),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    async fn post(&self, fields: &[(String, String)], origin: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/authorize"))
            .header(ORIGIN, origin)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Signs in as `email` on the sign-in page of `request`: the consent page.
    async fn sign_in(&self, request: &[(String, String)], email: &str) -> (StatusCode, String) {
        let form = self
            .http
            .get(self.url("/oauth/authorize"))
            .query(request)
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let mut fields = hidden_fields(&form.text().await.unwrap());
        fields.push(("email".into(), email.into()));
        fields.push(("password".into(), PASSWORD.into()));
        let response = self.post(&fields, &self.origin).await;
        (response.status(), response.text().await.unwrap())
    }

    /// Posts the consent page's form with `decision` and `site_id`.
    async fn decide(&self, page: &str, decision: &str, site_id: Option<u32>) -> reqwest::Response {
        let mut fields = hidden_fields(page);
        fields.push(("decision".into(), decision.into()));
        if let Some(site_id) = site_id {
            fields.push(("site_id".into(), site_id.to_string()));
        }
        self.post(&fields, &self.origin).await
    }

    async fn token_with(&self, secret: &str, code: &str, verifier: &str) -> reqwest::Response {
        let basic = STANDARD.encode(format!("{}:{secret}", self.app.app.client_id));
        self.http
            .post(self.url("/oauth/token"))
            .header(AUTHORIZATION, format!("Basic {basic}"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap()
    }

    /// The whole flow as `email` for `site_id`: the app's token.
    async fn connect(&self, email: &str, site_id: u32, scope: &str) -> ConnectedAppToken {
        let (verifier, challenge) = pkce();
        let (status, page) = self.sign_in(&self.request(&challenge, scope), email).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let allowed = self.decide(&page, "allow", Some(site_id)).await;
        assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
        let back = query(&allowed);
        assert_eq!(back["state"], "app-state-1");
        let response = self
            .token_with(&self.app.secret, &back["code"], &verifier)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

fn key_of(token: &ConnectedAppToken) -> Caller {
    Caller {
        user_id: 0,
        token: token.access_token.clone(),
    }
}

#[tokio::test]
async fn an_admin_connects_an_app_to_a_site_they_administer_and_it_acts_there_only() {
    let connect = Connect::new().await;
    let cloud = &connect.cloud;
    let (email, owner) = person(cloud).await;
    let mine = cloud.site(&owner).await;
    let (_, other_owner) = person(cloud).await;
    let administered = cloud.site(&other_owner).await;
    let (admin_email, _) = on_site(cloud, &other_owner, administered.site_id, Role::Admin).await;
    let elsewhere = cloud.site(&other_owner).await;
    let foreign_group = cloud
        .group(&other_owner, elsewhere.site_id, &[], &[], &[])
        .await;
    let _ = admin_email;

    let (_, challenge) = pkce();
    let (status, page) = connect
        .sign_in(
            &connect.request(&challenge, "people:write access:write"),
            &email,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Cowork &lt;Hub&gt;"),
        "the app's name, escaped"
    );
    assert!(page.contains("data-scope=\"people:write\""));
    assert!(page.contains("data-scope=\"access:write\""));
    assert!(!page.contains("data-scope=\"events:read\""));
    assert_eq!(
        offered_sites(&page),
        [mine.site_id],
        "only the sites they own"
    );
    assert!(!page.contains(" checked"), "no site is picked by default");

    // Allow without a site: the error by the picker, on a fresh page; nothing granted.
    let unpicked = connect.decide(&page, "allow", None).await;
    assert_eq!(unpicked.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unpicked.headers()["referrer-policy"],
        "same-origin",
        "so that browsers post the consent form with the cloud's Origin"
    );
    let again = unpicked.text().await.unwrap();
    assert_eq!(error_code(&again).as_deref(), Some("invalid_input"));
    assert_eq!(offered_sites(&again), [mine.site_id]);
    assert_ne!(
        hidden_fields(&again)
            .iter()
            .find(|(name, _)| name == "consent_ticket"),
        hidden_fields(&page)
            .iter()
            .find(|(name, _)| name == "consent_ticket"),
        "a fresh ticket"
    );
    assert_eq!(cloud.count("SELECT COUNT(*) FROM app_connections").await, 0);

    let token = connect
        .connect(&email, mine.site_id, "people:write access:write")
        .await;
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.site_id, mine.site_id);
    assert_eq!(token.scope, "access:write people:write");
    let key = key_of(&token);
    let (status, body, _) = call(
        cloud,
        &key,
        Method::PUT,
        "/api/v1/integrations/people/member-1",
        None,
        person_body("Ada", "ada@example.com"),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body, _) = call(
        cloud,
        &key,
        Method::PUT,
        &format!(
            "/api/v1/integrations/people/member-1/access-groups/{}",
            foreign_group.group_id
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body, _) = call(
        cloud,
        &key,
        Method::GET,
        "/api/v1/integrations/webhooks",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), ErrorCode::InsufficientScope);

    // The app's token is not one of the site's two API keys.
    let (status, keys) = cloud
        .get(&owner, &format!("/api/v1/sites/{}/api-keys", mine.site_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys.as_array().unwrap().len(), 0);
    let (status, listed) = cloud
        .get(
            &owner,
            &format!("/api/v1/sites/{}/connected-apps", mine.site_id),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed: Vec<ConnectedAppView> = typed(listed);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].app_name, "Cowork <Hub>");
    assert_eq!(listed[0].connected_by, Some(owner.user_id));
}

#[tokio::test]
async fn an_admin_sees_the_sites_they_administer_and_connecting_again_replaces() {
    let connect = Connect::new().await;
    let cloud = &connect.cloud;
    let (_, owner) = person(cloud).await;
    let site = cloud.site(&owner).await;
    let (admin_email, admin) = on_site(cloud, &owner, site.site_id, Role::Admin).await;
    let (_, challenge) = pkce();
    let (_, page) = connect
        .sign_in(&connect.request(&challenge, "people:write"), &admin_email)
        .await;
    assert_eq!(offered_sites(&page), [site.site_id]);
    let (_, stranger) = person(cloud).await;
    let not_theirs = cloud.site(&stranger).await;
    let forced = connect
        .decide(&page, "allow", Some(not_theirs.site_id))
        .await;
    assert_eq!(
        forced.status(),
        StatusCode::FORBIDDEN,
        "a site they do not administer"
    );
    assert!(forced.headers().get(LOCATION).is_none());
    assert_eq!(cloud.count("SELECT COUNT(*) FROM app_connections").await, 0);
    let first = key_of(
        &connect
            .connect(&admin_email, site.site_id, "people:write")
            .await,
    );
    let second = key_of(
        &connect
            .connect(&admin_email, site.site_id, "people:write")
            .await,
    );
    let path = "/api/v1/integrations/people/m";
    let (status, _, _) = call(
        cloud,
        &first,
        Method::PUT,
        path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the replaced connection's token stopped"
    );
    let (status, _, _) = call(
        cloud,
        &second,
        Method::PUT,
        path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert!(status.is_success());
    let (_, listed) = cloud
        .get(
            &admin,
            &format!("/api/v1/sites/{}/connected-apps", site.site_id),
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn deny_sends_access_denied_and_connects_nothing() {
    let connect = Connect::new().await;
    let (email, owner) = person(&connect.cloud).await;
    let _site = connect.cloud.site(&owner).await;
    let (_, challenge) = pkce();
    let (_, page) = connect
        .sign_in(&connect.request(&challenge, "people:write"), &email)
        .await;
    let denied = connect.decide(&page, "deny", None).await;
    assert_eq!(denied.status(), StatusCode::SEE_OTHER);
    let back = query(&denied);
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "app-state-1");
    assert!(!back.contains_key("code"));
    assert_eq!(
        connect
            .cloud
            .count("SELECT COUNT(*) FROM app_connections")
            .await,
        0
    );
}

#[tokio::test]
async fn a_super_user_or_plain_user_sees_no_site_and_cannot_force_one() {
    let connect = Connect::new().await;
    let cloud = &connect.cloud;
    let (_, owner) = person(cloud).await;
    let site = cloud.site(&owner).await;
    for role in [Role::SuperUser, Role::User] {
        let (email, _) = on_site(cloud, &owner, site.site_id, role).await;
        let (_, challenge) = pkce();
        let (status, page) = connect
            .sign_in(&connect.request(&challenge, "people:write"), &email)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
        assert!(offered_sites(&page).is_empty());
        let forced = connect.decide(&page, "allow", Some(site.site_id)).await;
        assert_eq!(forced.status(), StatusCode::FORBIDDEN, "{role:?}");
        assert!(forced.headers().get(LOCATION).is_none());
        assert_eq!(
            error_code(&forced.text().await.unwrap()).as_deref(),
            Some("forbidden")
        );
    }
    assert_eq!(cloud.count("SELECT COUNT(*) FROM app_connections").await, 0);
}

#[tokio::test]
async fn forged_consent_posts_are_refused() {
    let connect = Connect::new().await;
    let cloud = &connect.cloud;
    let (email, owner) = person(cloud).await;
    let site = cloud.site(&owner).await;
    let (_, challenge) = pkce();
    let request = connect.request(&challenge, "people:write");
    let (_, page) = connect.sign_in(&request, &email).await;

    // Without the ticket: the request alone, as another site's page would post it.
    let mut forged = request.clone();
    forged.push(("decision".into(), "allow".into()));
    forged.push(("site_id".into(), site.site_id.to_string()));
    let response = connect.post(&forged, &connect.origin).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        error_code(&response.text().await.unwrap()).as_deref(),
        Some("forbidden")
    );

    // With the ticket, from another origin, or from an opaque one.
    let mut fields = hidden_fields(&page);
    fields.push(("decision".into(), "allow".into()));
    fields.push(("site_id".into(), site.site_id.to_string()));
    for origin in ["https://evil.example", "null"] {
        let response = connect.post(&fields, origin).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }

    // With the ticket but a scope it was not given for.
    let widened: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| match k.as_str() {
            "scope" => (k.clone(), "people:write webhooks:manage".into()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let response = connect.post(&widened, &connect.origin).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(cloud.count("SELECT COUNT(*) FROM app_connections").await, 0);

    // A fresh page's ticket works once; the second post is refused.
    let (_, page) = connect.sign_in(&request, &email).await;
    let first = connect.decide(&page, "allow", Some(site.site_id)).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let again = connect.decide(&page, "allow", Some(site.site_id)).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(cloud.count("SELECT COUNT(*) FROM app_connections").await, 1);
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM consent_tickets WHERE length(ticket_hash) <> 32")
            .await,
        0,
        "tickets are stored as SHA-256"
    );
}

#[tokio::test]
async fn unknown_clients_and_redirect_uris_get_a_page_and_bad_scopes_a_redirect() {
    let connect = Connect::new().await;
    let (_, challenge) = pkce();
    let request = connect.request(&challenge, "people:write");
    let with = |name: &str, value: Option<&str>| -> Vec<(String, String)> {
        request
            .iter()
            .filter_map(|(k, v)| match (k == name, value) {
                (false, _) => Some((k.clone(), v.clone())),
                (true, Some(value)) => Some((k.clone(), value.to_string())),
                (true, None) => None,
            })
            .collect()
    };
    for bad in [
        with("client_id", Some("kwa_unknown")),
        with(
            "redirect_uri",
            Some("https://cowork.example/keyway/callback/"),
        ),
        with("redirect_uri", Some("https://evil.example/cb")),
        with("state", None),
    ] {
        let response = connect
            .http
            .get(connect.url("/oauth/authorize"))
            .query(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(
            response.headers().get(LOCATION).is_none(),
            "never a redirect"
        );
    }
    for scope in [None, Some("people:write admin:all"), Some("openid")] {
        let response = connect
            .http
            .get(connect.url("/oauth/authorize"))
            .query(&with("scope", scope))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{scope:?}");
        let back = query(&response);
        assert_eq!(back["error"], "invalid_scope");
        assert_eq!(back["state"], "app-state-1");
    }
}

#[tokio::test]
async fn the_token_needs_the_apps_secret_and_a_replayed_code_revokes_the_token() {
    let connect = Connect::new().await;
    let cloud = &connect.cloud;
    let (email, owner) = person(cloud).await;
    let site = cloud.site(&owner).await;
    let (verifier, challenge) = pkce();
    let (_, page) = connect
        .sign_in(&connect.request(&challenge, "people:write"), &email)
        .await;
    let allowed = connect.decide(&page, "allow", Some(site.site_id)).await;
    let code_value = query(&allowed)["code"].clone();

    let wrong = connect
        .token_with("kwas_wrong", &code_value, &verifier)
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(
        wrong.json::<OAuthErrorBody>().await.unwrap().error,
        "invalid_client"
    );
    let missing = connect
        .http
        .post(connect.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", connect.app.app.client_id.as_str()),
            ("code", code_value.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers().get(WWW_AUTHENTICATE).is_some());

    // client_secret_post, with the right secret but another verifier: the code burns.
    let (other_verifier, _) = pkce();
    let mismatched = connect
        .http
        .post(connect.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", connect.app.app.client_id.as_str()),
            ("client_secret", connect.app.secret.as_str()),
            ("code", code_value.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", other_verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatched.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        mismatched.json::<OAuthErrorBody>().await.unwrap().error,
        "invalid_grant"
    );

    // A good exchange, then the same code again: the token it produced stops.
    let token = connect.connect(&email, site.site_id, "people:write").await;
    let key = key_of(&token);
    let (verifier, challenge) = pkce();
    let (_, page) = connect
        .sign_in(&connect.request(&challenge, "people:write"), &email)
        .await;
    let allowed = connect.decide(&page, "allow", Some(site.site_id)).await;
    let code_value = query(&allowed)["code"].clone();
    let first = connect
        .token_with(&connect.app.secret, &code_value, &verifier)
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let replaced: ConnectedAppToken = first.json().await.unwrap();
    let path = "/api/v1/integrations/people/m";
    let (status, _, _) = call(
        cloud,
        &key,
        Method::PUT,
        path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "connecting again replaced the first"
    );
    let replay = connect
        .token_with(&connect.app.secret, &code_value, &verifier)
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        replay.json::<OAuthErrorBody>().await.unwrap().error,
        "invalid_grant"
    );
    let (status, _, _) = call(
        cloud,
        &key_of(&replaced),
        Method::PUT,
        path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the replay revoked its token"
    );
}

#[tokio::test]
async fn only_this_sites_admins_list_and_disconnect_and_a_disconnected_app_gets_401() {
    let connect = Connect::new().await;
    let cloud = &connect.cloud;
    let (email, owner) = person(cloud).await;
    let site = cloud.site(&owner).await;
    let token = connect
        .connect(&email, site.site_id, "people:write webhooks:manage")
        .await;
    let key = key_of(&token);
    let (status, body, _) = call(
        cloud,
        &key,
        Method::POST,
        "/api/v1/integrations/webhooks",
        None,
        Some(serde_json::json!({ "url": "https://cowork.example/hooks", "event_types": ["access.changed"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, listed) = cloud
        .get(
            &owner,
            &format!("/api/v1/sites/{}/connected-apps", site.site_id),
        )
        .await;
    let listed: Vec<ConnectedAppView> = typed(listed);
    let connection_id = listed[0].connection_id;

    let (_, stranger_owner) = person(cloud).await;
    let stranger_site = cloud.site(&stranger_owner).await;
    let (_, stranger) = on_site(cloud, &stranger_owner, stranger_site.site_id, Role::Admin).await;
    let (_, super_user) = on_site(cloud, &owner, site.site_id, Role::SuperUser).await;
    let path = format!("/api/v1/sites/{}/connected-apps", site.site_id);
    let one = format!("{path}/{connection_id}");
    let (status, _) = cloud.get(&stranger, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = cloud.delete(&stranger, &one).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = cloud
        .delete(
            &stranger,
            &format!(
                "/api/v1/sites/{}/connected-apps/{connection_id}",
                stranger_site.site_id
            ),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another site's connection id"
    );
    let (status, body) = cloud.get(&super_user, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), ErrorCode::Forbidden);
    let (status, _) = cloud.delete(&super_user, &one).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let integration_path = "/api/v1/integrations/people/m";
    let (status, _, _) = call(
        cloud,
        &key,
        Method::PUT,
        integration_path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert!(status.is_success());
    let (status, body) = cloud.delete(&owner, &one).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: ConnectedAppView = typed(body);
    assert!(view.disconnected_at.is_some());
    let (status, body, _) = call(
        cloud,
        &key,
        Method::PUT,
        integration_path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), ErrorCode::Unauthorized);
    assert_eq!(
        cloud
            .count("SELECT COUNT(*) FROM webhook_endpoints WHERE deleted_at IS NULL")
            .await,
        0,
        "its webhook endpoints stopped"
    );
    let (_, listed) = cloud.get(&owner, &path).await;
    assert_eq!(listed.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_console_lists_connected_apps_for_admins_and_disconnects_with_the_forms_token() {
    let connect = Connect::new().await;
    let cloud = &connect.cloud;
    let (email, owner) = person(cloud).await;
    let site = cloud.site(&owner).await;
    let key = key_of(&connect.connect(&email, site.site_id, "people:write").await);
    let (_, listed) = cloud
        .get(
            &owner,
            &format!("/api/v1/sites/{}/connected-apps", site.site_id),
        )
        .await;
    let connection_id = typed::<Vec<ConnectedAppView>>(listed)[0].connection_id;
    let page_path = format!("/web/console/sites/{}/connected-apps", site.site_id);
    let disconnect = format!("{page_path}/{connection_id}/disconnect");

    let browser = Browser::sign_in(cloud, &email).await;
    let (status, page) = browser.get(&page_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Cowork &lt;Hub&gt;"));
    assert!(page.contains(&format!("data-connection=\"{connection_id}\"")));
    assert!(page.contains(&format!("action=\"{disconnect}\"")));

    let (super_email, _) = on_site(cloud, &owner, site.site_id, Role::SuperUser).await;
    let super_user = Browser::sign_in(cloud, &super_email).await;
    let (_, overview) = super_user
        .get(&format!("/web/console/sites/{}", site.site_id))
        .await;
    assert!(
        !overview.contains("/connected-apps\""),
        "not in their navigation"
    );
    let (status, page) = super_user.get(&page_path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    let (status, _) = super_user.post(&disconnect, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = browser
        .post_as(&disconnect, &[], &browser.origin, false)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "without the form's token");
    let (status, _) = browser
        .post_as(&disconnect, &[], "https://evil.example", true)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "from another origin");
    let path = "/api/v1/integrations/people/m";
    let (status, _, _) = call(
        cloud,
        &key,
        Method::PUT,
        path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert!(status.is_success(), "still connected");

    let (status, _) = browser.post(&disconnect, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = browser.get(&format!("{page_path}?done=disconnected")).await;
    assert!(!page.contains("data-connection="));
    let (status, _, _) = call(
        cloud,
        &key,
        Method::PUT,
        path,
        None,
        person_body("A", "a@example.com"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
