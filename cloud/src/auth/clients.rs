//! The OAuth2 clients the cloud knows, and where each may be sent back to.
//!
//! Today there is one: the Keyway apps and CLI, a public native client (RFC 8252) that proves
//! possession with PKCE instead of a secret.

use std::net::{Ipv4Addr, Ipv6Addr};

use keyway_api::{APP_CLIENT_ID, APP_REDIRECT_URI};
use url::{Host, Url};

/// Whether `client_id` names a registered client.
pub(crate) fn is_known_client(client_id: &str) -> bool {
    client_id == APP_CLIENT_ID
}

/// The parsed redirect URI when `client_id` may use `redirect_uri`, else `None`.
///
/// The app client may use `keyway://oauth` exactly, or a loopback address with any port and
/// path (RFC 8252 §7.3): `http://127.0.0.1:<port>/<path>` or `http://[::1]:<port>/<path>`.
/// `localhost` is refused (RFC 8252 §8.3), and so are user info, fragments and any URI not
/// written in its canonical (WHATWG) form, so the string compared at the token endpoint is
/// exactly the one the browser went to.
pub(crate) fn allowed_redirect(client_id: &str, redirect_uri: &str) -> Option<Url> {
    if !is_known_client(client_id) {
        return None;
    }
    let url = Url::parse(redirect_uri).ok()?;
    if redirect_uri == APP_REDIRECT_URI {
        return Some(url);
    }
    let loopback = match url.host()? {
        Host::Ipv4(address) => address == Ipv4Addr::LOCALHOST,
        Host::Ipv6(address) => address == Ipv6Addr::LOCALHOST,
        Host::Domain(_) => false,
    };
    let plain = url.scheme() == "http"
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
        && url.as_str() == redirect_uri;
    (loopback && plain).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_may_use_its_scheme_and_loopback_only() {
        for good in [
            "keyway://oauth",
            "http://127.0.0.1:53100/callback",
            "http://127.0.0.1/",
            "http://[::1]:8080/cb",
            "http://127.0.0.1:9000/cb?session=1",
        ] {
            assert!(allowed_redirect(APP_CLIENT_ID, good).is_some(), "{good}");
        }
        for bad in [
            "keyway://oauth/",
            "keyway://oauth?x=1",
            "keyway://evil",
            "keywayx://oauth",
            "http://localhost:53100/callback",
            "https://127.0.0.1:53100/callback",
            "http://127.0.0.2:53100/callback",
            "http://127.1:53100/callback",
            "http://evil.example/callback",
            "http://user@127.0.0.1:53100/callback",
            "http://127.0.0.1:53100/callback#frag",
            "http://127.0.0.1:53100",
            "HTTP://127.0.0.1:53100/cb",
            "",
            "not a uri",
        ] {
            assert!(allowed_redirect(APP_CLIENT_ID, bad).is_none(), "{bad}");
        }
        assert!(allowed_redirect("other", "keyway://oauth").is_none());
    }
}
