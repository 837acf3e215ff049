//! A browser of the admin console, as the tests and the console benchmark drive it: accounts
//! with passwords, the console's own sign-in form, form posts with or without the session's
//! token and from any origin.

use keyway_api::{Role, UserView};
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use super::{typed, Caller, Cloud};

/// The password of every account [`person`] makes.
pub const PASSWORD: &str = "correct horse battery";

/// A browser signed in to the console: its session cookie and the forms' token.
pub struct Browser {
    /// The HTTP client (redirects are not followed).
    pub http: reqwest::Client,
    /// The cloud's base URL.
    pub base: String,
    /// The origin browsers see the cloud at.
    pub origin: String,
    /// The session cookie (`name=value`), empty when signed out.
    pub cookie: String,
    /// The session's form token.
    pub csrf: String,
}

/// The value of `name="<field>" value="…"` in a page.
pub fn hidden(page: &str, field: &str) -> String {
    let marker = format!("name=\"{field}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {field} in {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_string()
}

/// The `name=value` of the first `Set-Cookie` of `response` with a value.
pub fn cookie_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| {
            value
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string()
        })
        .find(|pair| !pair.ends_with('='))
        .unwrap()
}

/// The machine code of the page's first error (`data-error`), if any.
pub fn error_code(page: &str) -> Option<String> {
    let start = page.find("data-error=\"")? + "data-error=\"".len();
    Some(page[start..][..page[start..].find('"')?].to_string())
}

/// A verified account with a password, and an API token for it.
pub async fn person(cloud: &Cloud) -> (String, Caller) {
    let email = cloud.email();
    assert_eq!(
        cloud.sign_up(&email, PASSWORD).await.0,
        StatusCode::ACCEPTED
    );
    let code = cloud.verification_code(&email).await.unwrap();
    let (status, body) = cloud.verify(&email, &code, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user: UserView = typed(body);
    (email, cloud.token_for(user.user_id).await)
}

/// Someone the owner adds to the site with `role`.
pub async fn on_site(cloud: &Cloud, owner: &Caller, site_id: u32, role: Role) -> (String, Caller) {
    let (email, caller) = person(cloud).await;
    let (status, body) = cloud
        .post(
            owner,
            &format!("/api/v1/sites/{site_id}/people"),
            json!({ "email": email, "name": format!("{role:?} person"), "role": role }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (email, caller)
}

impl Browser {
    /// Signs in through the console's own form.
    pub async fn sign_in(cloud: &Cloud, email: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let base = cloud.running.base_url();
        let origin = cloud.running.state.config.public_origin().unwrap();
        let form = http
            .get(format!("{base}/web/console"))
            .send()
            .await
            .unwrap();
        let login_cookie = cookie_of(&form);
        let token = hidden(&form.text().await.unwrap(), "login_csrf");
        let signed = http
            .post(format!("{base}/web/console/login"))
            .header(COOKIE, login_cookie)
            .header(ORIGIN, &origin)
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("login_csrf", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed.headers()[LOCATION], "/web/console");
        let cookie = cookie_of(&signed);
        let mut browser = Self {
            http,
            base,
            origin,
            cookie,
            csrf: String::new(),
        };
        let (status, home) = browser.get("/web/console").await;
        assert_eq!(status, StatusCode::OK, "{home}");
        browser.csrf = hidden(&home, "csrf");
        browser
    }

    /// `GET` with the session cookie: the status and the page.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Posts `fields` as the page's form would, from `origin`, with or without the token.
    pub async fn post_as(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: &str,
        with_token: bool,
    ) -> (StatusCode, String) {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        if with_token {
            fields.push(("csrf", &self.csrf));
        }
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(ORIGIN, origin)
            .form(&fields)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Posts `fields` as the page's form would: from the cloud's origin, with the token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        self.post_as(path, fields, &self.origin.clone(), true).await
    }
}
