//! The cloud's public URL: where people's browsers reach it. It decides whether cookies are
//! `Secure` (`__Host-` names over https) and which origin the web pages' forms must come
//! from. Plain http is allowed only on loopback, where nothing crosses a network.

use std::net::IpAddr;

use url::{Host, Url};

/// Why a public URL cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    /// Plain http on a host that is not loopback: session cookies would cross the network
    /// unprotected.
    #[error(
        "the public URL {url} is plain http on a host that is not loopback: cookies would \
         travel unprotected; serve the cloud over https (e.g. behind a TLS reverse proxy) and \
         start it with --public-url https://<your host>, or listen on 127.0.0.1 for local use"
    )]
    PlainHttpNotLoopback {
        /// The refused URL.
        url: String,
    },
    /// Not an `http`/`https` URL with a host.
    #[error("the public URL {url} must be https://<host>[:port] (or http:// on loopback)")]
    Unsupported {
        /// The refused URL.
        url: String,
    },
}

/// How the cloud is reached, once its public URL is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// https: cookies are `Secure` with `__Host-` names.
    Https,
    /// Plain http on a loopback host: cookies cannot be `Secure`.
    LoopbackHttp,
}

/// Whether `host` is loopback: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(v4) => v4.is_loopback(),
        Host::Ipv6(v6) => IpAddr::V6(*v6).to_canonical().is_loopback(),
    }
}

/// Checks a public URL: https anywhere, plain http only on loopback.
pub fn check_public_url(url: &Url) -> Result<Transport, PublicUrlError> {
    let host = url.host().ok_or_else(|| PublicUrlError::Unsupported {
        url: url.to_string(),
    })?;
    match url.scheme() {
        "https" => Ok(Transport::Https),
        "http" if is_loopback_host(&host) => Ok(Transport::LoopbackHttp),
        "http" => Err(PublicUrlError::PlainHttpNotLoopback {
            url: url.to_string(),
        }),
        _ => Err(PublicUrlError::Unsupported {
            url: url.to_string(),
        }),
    }
}

/// The `scheme://host[:port]` a browser sends as `Origin` for pages under `url`.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Transport, PublicUrlError> {
        check_public_url(&Url::parse(text).unwrap())
    }

    #[test]
    fn https_anywhere_and_plain_http_only_on_loopback() {
        assert_eq!(check("https://keyway.example.com"), Ok(Transport::Https));
        for local in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:8080",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            assert_eq!(check(local), Ok(Transport::LoopbackHttp), "{local}");
        }
        for open in [
            "http://keyway.example.com",
            "http://0.0.0.0:8080",
            "http://192.168.1.5",
            "http://[::]:8080",
            "http://localhost.evil.example",
        ] {
            assert!(
                matches!(
                    check(open),
                    Err(PublicUrlError::PlainHttpNotLoopback { .. })
                ),
                "{open}"
            );
        }
        assert!(matches!(
            check("ftp://keyway.example.com"),
            Err(PublicUrlError::Unsupported { .. })
        ));
    }

    #[test]
    fn the_origin_has_no_path_and_no_default_port() {
        let url = Url::parse("https://keyway.example.com:443/cloud/").unwrap();
        assert_eq!(origin_of(&url), "https://keyway.example.com");
        let url = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(origin_of(&url), "http://127.0.0.1:8080");
    }
}
