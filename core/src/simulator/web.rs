//! A simulated browser on the cloud's web remote-opening page, for the demo and the tests:
//! it signs in with the form, keeps the session cookie, and submits the code form as a
//! person would.

use keyway_api::ErrorCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;

use crate::KeywayError;

/// A browser signed in on `/web/remote`. `Debug` shows neither its cookie nor its form token.
pub struct SimulatedWebBrowser {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl std::fmt::Debug for SimulatedWebBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedWebBrowser")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// What the page answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The message the page shows (the alert), if any.
    pub message: Option<String>,
    /// The machine code of the alert when it reports an error (its `data-error`).
    pub error: Option<ErrorCode>,
    /// The whole page.
    pub html: String,
}

fn failed(error: reqwest::Error) -> KeywayError {
    KeywayError::Retry {
        detail: format!("cannot reach the web page: {error}"),
    }
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let rest = html.get(from..)?;
    rest.get(..rest.find(end)?)
}

/// The first cookie set (name and value).
fn first_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::to_string)
}

impl SimulatedWebBrowser {
    /// Opens the page of the cloud at `cloud_url` and signs in.
    pub async fn sign_in(
        cloud_url: &str,
        email: &str,
        password: &str,
    ) -> Result<Self, KeywayError> {
        crate::http::install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(KeywayError::internal)?;
        let base = cloud_url.trim_end_matches('/').to_string();
        // The sign-in form first: its token, in a hidden field and a cookie, goes back with
        // the credentials (the cloud's defence against login CSRF).
        let form = client
            .get(format!("{base}/web/remote"))
            .send()
            .await
            .map_err(failed)?;
        let login_cookie = first_cookie(form.headers())
            .ok_or_else(|| KeywayError::internal("the sign-in form set no cookie"))?;
        let html = form.text().await.map_err(failed)?;
        let token = between(&html, "name=\"login_csrf\" value=\"", "\"")
            .ok_or_else(|| KeywayError::internal("the sign-in form has no token"))?
            .to_string();
        let answer = client
            .post(format!("{base}/web/login"))
            .header(COOKIE, login_cookie)
            .form(&[
                ("email", email),
                ("password", password),
                ("login_csrf", &token),
            ])
            .send()
            .await
            .map_err(failed)?;
        if answer.status() != StatusCode::SEE_OTHER {
            return Err(KeywayError::NotAllowed {
                detail: format!("the web sign-in answered {}", answer.status()),
            });
        }
        let cookie = first_cookie(answer.headers())
            .ok_or_else(|| KeywayError::internal("the web sign-in set no cookie"))?;
        let mut browser = Self {
            client,
            base,
            cookie,
            csrf: String::new(),
        };
        let page = browser.page().await?;
        browser.csrf = between(&page, "name=\"csrf\" value=\"", "\"")
            .ok_or_else(|| KeywayError::internal("the page has no form token"))?
            .to_string();
        Ok(browser)
    }

    /// The page as the browser sees it now.
    pub async fn page(&self) -> Result<String, KeywayError> {
        self.client
            .get(format!("{}/web/remote", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .map_err(failed)?
            .text()
            .await
            .map_err(failed)
    }

    /// The session cookie as set (name and value).
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Picks the lock and submits `code`.
    pub async fn open(
        &self,
        site_id: u32,
        lock_id: u32,
        code: &str,
    ) -> Result<WebAnswer, KeywayError> {
        self.open_with_token(site_id, lock_id, code, &self.csrf)
            .await
    }

    /// The same, with any form token (to show a forged form is refused).
    pub async fn open_with_token(
        &self,
        site_id: u32,
        lock_id: u32,
        code: &str,
        csrf: &str,
    ) -> Result<WebAnswer, KeywayError> {
        let lock = format!("{site_id}:{lock_id}");
        let response = self
            .client
            .post(format!("{}/web/remote", self.base))
            .header(COOKIE, &self.cookie)
            .form(&[("lock", lock.as_str()), ("code", code), ("csrf", csrf)])
            .send()
            .await
            .map_err(failed)?;
        let status = response.status().as_u16();
        let html = response.text().await.map_err(failed)?;
        let message = between(&html, "role=\"alert\">", "</p>").map(|text| {
            text.replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
        });
        let error = between(&html, "data-error=\"", "\"").map(ErrorCode::parse);
        Ok(WebAnswer {
            status,
            message,
            error,
            html,
        })
    }
}
