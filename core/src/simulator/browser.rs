//! A simulated browser for the demo and the tests: it opens the cloud's real login page,
//! fills in the form a person would, submits it, and returns the redirect the app receives.

use reqwest::header::LOCATION;
use url::Url;

use crate::runtime::on_core_runtime;
use crate::KeywayError;

/// One `<input>` of the login form.
fn inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            let name = attribute(tag, "name")?;
            Some((name, attribute(tag, "value").unwrap_or_default()))
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = tag.get(start..)?;
    let value = rest.get(..rest.find('"')?)?;
    Some(unescape(value))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn form_action(html: &str) -> Option<String> {
    let form = html.split("<form").nth(1)?.split('>').next()?;
    attribute(form, "action")
}

/// Logs in on the cloud's authorize page as a person would and returns the URL the browser
/// is redirected to (to hand to `AuthClient::finish_login`).
#[uniffi::export]
pub async fn simulated_browser_login(
    authorize_url: String,
    email: String,
    password: String,
) -> Result<String, KeywayError> {
    on_core_runtime(async move {
        crate::http::install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(KeywayError::internal)?;
        let page_url = Url::parse(&authorize_url)
            .map_err(|e| KeywayError::invalid(format!("authorize URL: {e}")))?;
        let page = client.get(page_url.clone()).send().await.map_err(network)?;
        if !page.status().is_success() {
            return Err(KeywayError::NotAllowed {
                detail: format!("the login page answered {}", page.status()),
            });
        }
        let html = page.text().await.map_err(network)?;
        let action = form_action(&html)
            .ok_or_else(|| KeywayError::internal("the login page has no form"))?;
        let mut fields = inputs(&html);
        fields.retain(|(name, _)| name != "email" && name != "password");
        fields.push(("email".into(), email));
        fields.push(("password".into(), password));
        let target = page_url.join(&action).map_err(KeywayError::internal)?;
        let answer = client
            .post(target)
            .form(&fields)
            .send()
            .await
            .map_err(network)?;
        let status = answer.status();
        if let Some(location) = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()) {
            return Ok(location.to_string());
        }
        Err(match status.as_u16() {
            401 => KeywayError::NotAllowed {
                detail: "wrong e-mail or password".into(),
            },
            429 => KeywayError::Retry {
                detail: "too many login attempts; wait and retry".into(),
            },
            _ => KeywayError::NotAllowed {
                detail: format!("login failed: {status}"),
            },
        })
    })
    .await
}

fn network(error: reqwest::Error) -> KeywayError {
    KeywayError::Retry {
        detail: format!("cannot reach the login page: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hidden_fields_and_the_action() {
        let html = r#"<form method="post" action="/oauth/authorize"><input type="hidden" name="state" value="a&amp;b">
            <input name="email" type="email"><input type="password" name="password"></form>"#;
        assert_eq!(form_action(html).as_deref(), Some("/oauth/authorize"));
        let fields = inputs(html);
        assert_eq!(fields[0], ("state".to_string(), "a&b".to_string()));
        assert_eq!(fields.len(), 3);
    }
}
