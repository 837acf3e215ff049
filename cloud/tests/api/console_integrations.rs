//! The console's integration pages (API keys, Webhooks) as an admin and as an attacker use
//! them: a key and an endpoint made from the page show their secret once and never again;
//! a revoked key's next call is refused; at most two keys are live, the refusal next to the
//! form; a super user's hand-made forms are refused and change nothing; another site's key,
//! endpoint or dead letters are not found through this site's pages; an endpoint's dead
//! letters are replayed from its page, in order, signed with the secret shown once.

use std::sync::atomic::Ordering;
use std::time::Duration;

use keyway_api::integrations::{ApiKeyView, CreatedApiKey, CreatedWebhook, WebhookView};
use keyway_api::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api_support::console::{error_code, on_site, person, Browser};
use crate::api_support::{typed, Caller, Cloud};
use crate::webhooks::{verify, Receiver};

/// The text of `data-secret="<kind>">…<` in a page, if any.
fn secret_in(page: &str, kind: &str) -> Option<String> {
    let marker = format!("data-secret=\"{kind}\">");
    let start = page.find(&marker)? + marker.len();
    Some(page[start..][..page[start..].find('<')?].to_string())
}

/// The `data-done` of the page's confirmation, if any.
fn done_in(page: &str) -> Option<String> {
    let start = page.find("data-done=\"")? + "data-done=\"".len();
    Some(page[start..][..page[start..].find('"')?].to_string())
}

struct Site {
    cloud: Cloud,
    owner: Caller,
    email: String,
    browser: Browser,
    site_id: u32,
}

async fn site_with(cloud: Cloud) -> Site {
    let (email, owner) = person(&cloud).await;
    let site_id = cloud.site(&owner).await.site_id;
    let browser = Browser::sign_in(&cloud, &email).await;
    Site {
        cloud,
        owner,
        email,
        browser,
        site_id,
    }
}

impl Site {
    fn page(&self, path: &str) -> String {
        format!("/web/console/sites/{}{path}", self.site_id)
    }

    async fn keys(&self) -> Vec<ApiKeyView> {
        let path = format!("/api/v1/sites/{}/api-keys", self.site_id);
        let (status, body) = self.cloud.get(&self.owner, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        typed(body)
    }

    /// Makes a key through the page; returns the answer page.
    async fn make_key(&self, name: &str, scopes: &[&str]) -> (StatusCode, String) {
        let mut fields = vec![("name", name)];
        fields.extend(scopes.iter().map(|scope| (*scope, "on")));
        self.browser.post(&self.page("/api-keys"), &fields).await
    }

    /// Whether `secret` is a key the integration routes take.
    async fn key_works(&self, secret: &str) -> StatusCode {
        let key = Caller {
            user_id: 0,
            token: secret.to_string(),
        };
        let path = "/api/v1/integrations/webhooks";
        self.cloud.call(&key, Method::GET, path, None).await.0
    }
}

#[tokio::test]
async fn a_key_made_from_the_page_shows_its_secret_once_and_is_revoked_from_it() {
    let s = site_with(Cloud::start().await).await;
    let (status, page) = s.browser.get(&s.page("/api-keys")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("name=\"scope-webhooks-manage\""), "{page}");

    let (status, page) = s
        .make_key(
            "Storage system",
            &["scope-people-write", "scope-webhooks-manage"],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(done_in(&page).as_deref(), Some("key_created"));
    let secret = secret_in(&page, "api_key").expect("the secret on the answer page");
    assert!(secret.starts_with("kwk_"), "{secret}");
    assert_eq!(s.key_works(&secret).await, StatusCode::OK);
    let keys = s.keys().await;
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0]
            .scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>(),
        ["people:write", "webhooks:manage"]
    );

    // Never again: not on the list, not anywhere the owner can look.
    let (_, list) = s.browser.get(&s.page("/api-keys")).await;
    assert!(list.contains("Storage system") && list.contains("people:write, webhooks:manage"));
    assert!(!list.contains(&secret) && secret_in(&list, "api_key").is_none());
    let (_, json) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/sites/{}/api-keys", s.site_id))
        .await;
    assert!(!json.to_string().contains(&secret));

    // Revoked from the page: its next call is refused.
    let revoke = s.page(&format!("/api-keys/{}/revoke", keys[0].key_id));
    let (status, _) = s.browser.post(&revoke, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(s.key_works(&secret).await, StatusCode::UNAUTHORIZED);
    let (_, list) = s.browser.get(&s.page("/api-keys?done=revoked")).await;
    assert_eq!(done_in(&list).as_deref(), Some("revoked"));
    assert!(list.contains("data-revoked=\"true\""), "{list}");
    assert!(
        !list.contains(&revoke),
        "a revoked key offers no Revoke button"
    );
}

#[tokio::test]
async fn at_most_two_keys_are_live_and_the_refusal_is_next_to_the_form() {
    let s = site_with(Cloud::start().await).await;
    // No scope: refused by the field's form, nothing made.
    let (status, page) = s.make_key("Nothing", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page).as_deref(), Some("invalid_input"));
    assert!(page.contains("id=\"key-error\"") && page.contains("aria-describedby=\"key-error\""));
    assert!(s.keys().await.is_empty());

    for name in ["First", "Second"] {
        let (status, _) = s.make_key(name, &["scope-events-read"]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, page) = s.make_key("Third", &["scope-events-read"]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&page).as_deref(), Some("conflict"));
    assert!(page.contains("id=\"key-error\""), "{page}");
    assert!(page.contains("value=\"Third\""), "what was typed stays");
    assert!(secret_in(&page, "api_key").is_none());
    assert_eq!(s.keys().await.len(), 2);

    // Revoking one makes room (a rotation).
    let oldest = s.keys().await.last().unwrap().key_id;
    let (status, _) = s
        .browser
        .post(&s.page(&format!("/api-keys/{oldest}/revoke")), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = s.make_key("Third", &["scope-events-read"]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_super_users_forged_forms_are_refused_and_the_pages_are_not_offered() {
    let s = site_with(Cloud::start().await).await;
    let (_, page) = s
        .make_key(
            "Storage system",
            &["scope-people-write", "scope-webhooks-manage"],
        )
        .await;
    let secret = secret_in(&page, "api_key").unwrap();
    let key_id = s.keys().await[0].key_id;
    let (super_email, _) = on_site(&s.cloud, &s.owner, s.site_id, Role::SuperUser).await;
    let attacker = Browser::sign_in(&s.cloud, &super_email).await;

    let (_, overview) = attacker.get(&s.page("")).await;
    assert!(!overview.contains("/api-keys\"") && !overview.contains("/webhooks\""));
    for path in ["/api-keys", "/webhooks"] {
        let (status, page) = attacker.get(&s.page(path)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"));
    }
    let forged = [
        (
            s.page("/api-keys"),
            vec![("name", "Mine"), ("scope-people-write", "on")],
        ),
        (s.page(&format!("/api-keys/{key_id}/revoke")), vec![]),
        (
            s.page("/webhooks"),
            vec![("url", "https://hooks.example.com/h"), ("api_key", "1")],
        ),
    ];
    for (path, fields) in &forged {
        let (status, page) = attacker.post(path, fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(&page).as_deref(), Some("forbidden"), "{path}");
        assert!(secret_in(&page, "api_key").is_none() && secret_in(&page, "webhook").is_none());
    }
    // The owner's own session without its token, or from another origin: refused too.
    let (status, _) = s
        .browser
        .post_as(&forged[1].0, &[], &s.browser.origin, false)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .browser
        .post_as(&forged[0].0, &forged[0].1, "https://evil.example", true)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let keys = s.keys().await;
    assert_eq!(keys.len(), 1, "nothing made");
    assert!(keys[0].revoked_at.is_none(), "nothing revoked");
    assert_eq!(s.key_works(&secret).await, StatusCode::OK);
    let (_, hooks) = s
        .cloud
        .call(
            &Caller {
                user_id: 0,
                token: secret,
            },
            Method::GET,
            "/api/v1/integrations/webhooks",
            None,
        )
        .await;
    assert_eq!(hooks, json!([]));
}

#[tokio::test]
async fn an_endpoint_made_from_the_page_shows_its_secret_once_and_its_dead_letters_replay() {
    let s = site_with(Cloud::start_with(|config| config.webhooks_allow_loopback_http = true).await)
        .await;
    // No live key yet: the page says to make one first, and offers no form.
    let (_, page) = s.browser.get(&s.page("/webhooks")).await;
    assert!(
        !page.contains("name=\"url\"") && page.contains("/api-keys\""),
        "{page}"
    );
    s.make_key("Coworking", &["scope-access-write"]).await;
    let key_id = s.keys().await[0].key_id.to_string();
    let receiver = Receiver::default();
    let url = receiver.start().await;

    // Not https: refused next to the form, what was typed kept.
    let (status, page) = s
        .browser
        .post(
            &s.page("/webhooks"),
            &[
                ("url", "http://hooks.example.com/h"),
                ("api_key", &key_id),
                ("type-access-changed", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page).as_deref(), Some("invalid_input"));
    assert!(
        page.contains("id=\"webhook-error\"")
            && page.contains("value=\"http://hooks.example.com/h\"")
    );
    // Lock events (all types, or named) for a key without `events:read`: refused, as through
    // the API.
    for types in [vec![], vec![("type-lock-event", "on")]] {
        let mut fields = vec![("url", url.as_str()), ("api_key", key_id.as_str())];
        fields.extend(types);
        let (status, page) = s.browser.post(&s.page("/webhooks"), &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(error_code(&page).as_deref(), Some("insufficient_scope"));
        assert!(secret_in(&page, "webhook").is_none());
    }

    let (status, page) = s
        .browser
        .post(
            &s.page("/webhooks"),
            &[
                ("url", &url),
                ("api_key", &key_id),
                ("type-access-changed", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(done_in(&page).as_deref(), Some("webhook_created"));
    let secret = secret_in(&page, "webhook").unwrap();
    assert!(secret.starts_with("whsec_"));
    let (_, list) = s.browser.get(&s.page("/webhooks")).await;
    assert!(
        list.contains(&url) && list.contains("access.changed"),
        "{list}"
    );
    assert!(!list.contains(&secret));
    let (_, body) = s
        .cloud
        .get(&s.owner, &format!("/api/v1/sites/{}/api-keys", s.site_id))
        .await;
    assert!(!body.to_string().contains(&secret));
    let webhook_id = {
        let start = list.find("data-webhook=\"").unwrap() + "data-webhook=\"".len();
        list[start..][..list[start..].find('"').unwrap()].to_string()
    };
    let endpoint = s.page(&format!("/webhooks/{webhook_id}"));
    let (_, page) = s.browser.get(&endpoint).await;
    assert!(
        !page.contains(&secret) && !page.contains("/replay\""),
        "no dead letter yet"
    );

    // The receiver is down for more than a day: the change becomes a dead letter.
    receiver.down.store(true, Ordering::SeqCst);
    let (lock, _) = s.cloud.lock(&s.owner, s.site_id, "Meeting room").await;
    let member = s.cloud.member(&s.owner, s.site_id, Role::User).await;
    s.cloud
        .group(&s.owner, s.site_id, &[lock.lock_id], &[member.user_id], &[])
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A day and more of tries (the session of the morning has expired by then).
    for _ in 0..26 {
        s.cloud.running.state.clock.advance(3600);
        s.cloud.running.state.store.webhooks_wake().notify_one();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let browser = Browser::sign_in(&s.cloud, &s.email).await;
    let mut page = String::new();
    for _ in 0..100 {
        page = browser.get(&endpoint).await.1;
        if page.contains("data-message=\"") {
            break;
        }
        s.cloud.running.state.store.webhooks_wake().notify_one();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(
        page.contains("data-message=\"msg_") && page.contains("HTTP 503"),
        "{page}"
    );
    assert!(receiver.got.lock().unwrap().is_empty());

    receiver.down.store(false, Ordering::SeqCst);
    let (status, _) = browser
        .post(&s.page(&format!("/webhooks/{webhook_id}/replay")), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    receiver.wait_for(1).await;
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "the dead letter, delivered once");
    assert!(
        verify(&secret, &got[0]),
        "signed with the secret shown once"
    );
    assert!(got[0].3.contains("access.changed"));
    let (_, page) = browser.get(&endpoint).await;
    assert!(!page.contains("data-message=\""), "{page}");

    let (status, _) = browser
        .post(&s.page(&format!("/webhooks/{webhook_id}/delete")), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = browser.get(&endpoint).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_sites_key_and_endpoint_are_not_found_through_this_sites_pages() {
    let cloud = Cloud::start_with(|config| config.webhooks_allow_loopback_http = true).await;
    let (_, other_owner) = person(&cloud).await;
    let other_site = cloud.site(&other_owner).await.site_id;
    let (status, body) = cloud
        .post(
            &other_owner,
            &format!("/api/v1/sites/{other_site}/api-keys"),
            json!({ "name": "Theirs", "scopes": ["webhooks:manage"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let theirs: CreatedApiKey = typed(body);
    let their_key = Caller {
        user_id: 0,
        token: theirs.secret.clone(),
    };
    let (status, body) = cloud
        .call(
            &their_key,
            Method::POST,
            "/api/v1/integrations/webhooks",
            Some(json!({ "url": "https://hooks.example.com/theirs", "event_types": ["access.changed"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let their_hook: CreatedWebhook = typed(body);

    let s = site_with(cloud).await;
    let key_id = theirs.key.key_id;
    let hook_id = their_hook.webhook.webhook_id;
    let (status, page) = s
        .browser
        .post(&s.page(&format!("/api-keys/{key_id}/revoke")), &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&page).as_deref(), Some("not_found"));
    let (status, _) = s
        .browser
        .get(&s.page(&format!("/webhooks/{hook_id}")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for action in ["replay", "delete"] {
        let (status, page) = s
            .browser
            .post(&s.page(&format!("/webhooks/{hook_id}/{action}")), &[])
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}");
        assert_eq!(error_code(&page).as_deref(), Some("not_found"));
    }
    // An endpoint made here for their key (a forged select value) is not found either.
    s.make_key("Ours", &["scope-events-read"]).await;
    let (status, page) = s
        .browser
        .post(
            &s.page("/webhooks"),
            &[
                ("url", "https://hooks.example.com/ours"),
                ("api_key", &key_id.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&page).as_deref(), Some("not_found"));
    assert!(secret_in(&page, "webhook").is_none());
    // And their site's own pages are not found to this owner.
    let (status, _) = s
        .browser
        .get(&format!("/web/console/sites/{other_site}/api-keys"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Theirs are untouched.
    let (_, hooks) = cloud_hooks(&s.cloud, &their_key).await;
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].webhook_id, hook_id);
    let (_, body) = s
        .cloud
        .get(
            &other_owner,
            &format!("/api/v1/sites/{other_site}/api-keys"),
        )
        .await;
    let keys: Vec<ApiKeyView> = typed(body);
    assert!(keys[0].revoked_at.is_none());
}

async fn cloud_hooks(cloud: &Cloud, key: &Caller) -> (StatusCode, Vec<WebhookView>) {
    let (status, body) = cloud
        .call(key, Method::GET, "/api/v1/integrations/webhooks", None)
        .await;
    (status, typed(body))
}
