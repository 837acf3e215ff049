//! Parameters of OAuth2 requests: `application/x-www-form-urlencoded` pairs from a query
//! string or a body, read as RFC 6749 §3.1 says: a parameter without a value counts as
//! absent, and a parameter given twice makes the request invalid.

use std::collections::HashMap;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;

use super::oauth_error::OAuthError;

/// The parameters of one request, by name.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Parses `input`; a repeated parameter is refused with its (shortened) name.
    pub(crate) fn parse(input: &[u8]) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for (name, value) in url::form_urlencoded::parse(input) {
            if !seen.insert(name.clone().into_owned()) {
                return Err(name.chars().take(40).collect());
            }
            if !value.is_empty() {
                map.insert(name.into_owned(), value.into_owned());
            }
        }
        Ok(Self(map))
    }

    /// The parameters of a JSON endpoint's form body (`/oauth/token`, `/oauth/revoke`):
    /// `invalid_request` when it is not declared as a form or repeats a parameter.
    pub(crate) fn form_body(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        if !is_form(headers) {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        Self::parse(body)
            .map_err(|_| OAuthError::invalid_request("a parameter is given more than once"))
    }

    /// The value of `name`, left in place.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Removes and returns the value of `name`.
    pub(crate) fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }
}

/// Whether the request body is declared as a urlencoded form.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_absent_and_repeats_are_refused() {
        let mut params = Params::parse(b"a=1&b=&c=%20x").unwrap();
        assert_eq!(params.take("a").as_deref(), Some("1"));
        assert_eq!(params.take("b"), None);
        assert_eq!(params.take("c").as_deref(), Some(" x"));
        assert_eq!(Params::parse(b"a=1&a=2").err().as_deref(), Some("a"));
        assert_eq!(Params::parse(b"a=&a=2").err().as_deref(), Some("a"));
    }
}
