//! The HTTP client to the Keyway cloud: JSON in and out, bearer tokens, and errors mapped to
//! what the app should do.

use std::time::Duration;

use keyway_api::{ApiErrorBody, ErrorCode, OAuthErrorBody};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::KeywayError;

/// Requests give up after this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A client bound to one cloud.
#[derive(Debug, Clone)]
pub struct CloudHttp {
    base: Url,
    client: reqwest::Client,
}

impl CloudHttp {
    /// A client for the cloud at `server_url` (`https://…`, or `http://` on loopback).
    pub fn new(server_url: &str) -> Result<Self, KeywayError> {
        let base =
            Url::parse(server_url).map_err(|e| KeywayError::invalid(format!("server URL: {e}")))?;
        let loopback = base
            .host_str()
            .is_some_and(|h| h == "127.0.0.1" || h == "[::1]" || h == "localhost");
        if base.scheme() != "https" && !(base.scheme() == "http" && loopback) {
            return Err(KeywayError::invalid(
                "the server URL must use https (plain http only on loopback)",
            ));
        }
        install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keyway-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KeywayError::internal(format!("HTTP client: {e}")))?;
        Ok(Self { base, client })
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> Result<Url, KeywayError> {
        self.base
            .join(path)
            .map_err(|e| KeywayError::invalid(format!("URL path {path}: {e}")))
    }

    /// A request builder for `path`.
    pub fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, KeywayError> {
        Ok(self.client.request(method, self.url(path)?))
    }

    /// Sends an API request with a bearer token and decodes the JSON answer.
    pub async fn api<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&B>,
    ) -> Result<T, ApiFailure> {
        let mut request = self
            .request(method, path)
            .map_err(ApiFailure::Other)?
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ApiFailure::Other(network(e)))?;
        decode_api(response).await
    }

    /// Posts a raw body (a file) of `content_type` with a bearer token and decodes the JSON
    /// answer.
    pub async fn api_upload<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<T, ApiFailure> {
        let response = self
            .request(Method::POST, path)
            .map_err(ApiFailure::Other)?
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| ApiFailure::Other(network(e)))?;
        decode_api(response).await
    }

    /// Gets a text answer (a CSV template) with a bearer token.
    pub async fn api_text(&self, path: &str, token: &str) -> Result<String, ApiFailure> {
        let response = self
            .request(Method::GET, path)
            .map_err(ApiFailure::Other)?
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| ApiFailure::Other(network(e)))?;
        if response.status().is_success() {
            return response
                .text()
                .await
                .map_err(|e| ApiFailure::Other(garbled(e)));
        }
        decode_api::<serde_json::Value>(response)
            .await
            .and_then(|_| {
                Err(ApiFailure::Other(KeywayError::internal(
                    "the cloud refused without an error body",
                )))
            })
    }

    /// Posts a form to an OAuth endpoint and decodes the answer.
    pub async fn oauth_form<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, OAuthFailure> {
        let response = self
            .request(Method::POST, path)
            .map_err(OAuthFailure::Other)?
            .form(form)
            .send()
            .await
            .map_err(|e| OAuthFailure::Other(network(e)))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json()
                .await
                .map_err(|e| OAuthFailure::Other(garbled(e)));
        }
        if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED {
            if let Ok(body) = response.json::<OAuthErrorBody>().await {
                return Err(OAuthFailure::Refused(body));
            }
        }
        Err(OAuthFailure::Other(server_error(status)))
    }
}

/// TLS runs on ring, like the rest of the core's crypto. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An API call that failed.
#[derive(Debug)]
pub enum ApiFailure {
    /// 401: the access token is no good.
    Unauthorized,
    /// Anything else, already mapped.
    Other(KeywayError),
}

impl From<ApiFailure> for KeywayError {
    fn from(failure: ApiFailure) -> Self {
        match failure {
            ApiFailure::Unauthorized => KeywayError::ReLogin {
                detail: "the session is no longer valid".into(),
            },
            ApiFailure::Other(error) => error,
        }
    }
}

/// An OAuth call that failed.
#[derive(Debug)]
pub enum OAuthFailure {
    /// The server refused (RFC 6749 §5.2 body).
    Refused(OAuthErrorBody),
    /// Anything else, already mapped.
    Other(KeywayError),
}

/// Decodes an API answer that needs no token (sign-up).
pub async fn decode_response<T: DeserializeOwned>(response: Response) -> Result<T, KeywayError> {
    Ok(decode_api(response).await?)
}

async fn decode_api<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    let status = response.status();
    if status == StatusCode::NO_CONTENT {
        return serde_json::from_value(serde_json::Value::Null)
            .map_err(|e| ApiFailure::Other(KeywayError::internal(format!("empty answer: {e}"))));
    }
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| ApiFailure::Other(garbled(e)));
    }
    if status == StatusCode::UNAUTHORIZED {
        return Err(ApiFailure::Unauthorized);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let (code, message) = response
        .json::<ApiErrorBody>()
        .await
        .map(|body| (ErrorCode::parse(&body.error), body.message))
        .unwrap_or_else(|_| (ErrorCode::Unknown, status.to_string()));
    Err(ApiFailure::Other(error_for(
        code,
        status,
        message,
        retry_after,
    )))
}

/// What the app should do about a cloud error: decided by its code, which every cloud answer
/// carries; by the HTTP status for a code this build does not know (a newer cloud).
pub fn error_for(
    code: ErrorCode,
    status: StatusCode,
    detail: String,
    retry_after_seconds: Option<u64>,
) -> KeywayError {
    let wait = |detail: String| match retry_after_seconds {
        Some(retry_after_seconds) => KeywayError::RetryAfter {
            detail,
            retry_after_seconds,
        },
        None => KeywayError::Retry { detail },
    };
    match code {
        ErrorCode::InvalidInput
        | ErrorCode::NotFound
        | ErrorCode::Conflict
        | ErrorCode::VerificationFailed
        | ErrorCode::CodeRejected
        | ErrorCode::NotCommaSeparated
        | ErrorCode::NotUtf8Csv
        | ErrorCode::WrongColumns
        | ErrorCode::EmptyFile
        | ErrorCode::NoRows
        | ErrorCode::FileTooLarge
        | ErrorCode::UnsupportedMediaType
        | ErrorCode::InvalidPhone => KeywayError::InvalidInput { detail },
        ErrorCode::Forbidden
        | ErrorCode::NoIq
        | ErrorCode::GateRefused
        | ErrorCode::ProfileOwnedByPerson
        | ErrorCode::ProfileIncomplete => KeywayError::NotAllowed { detail },
        ErrorCode::Unauthorized => KeywayError::ReLogin { detail },
        ErrorCode::RateLimited | ErrorCode::PinDelay => wait(detail),
        ErrorCode::IqOffline | ErrorCode::IqTimeout | ErrorCode::Internal => {
            KeywayError::Retry { detail }
        }
        ErrorCode::LockUnreachable => KeywayError::LockUnreachable { detail },
        ErrorCode::PinNotSet => KeywayError::PinNotSet { detail },
        ErrorCode::WrongPin => KeywayError::WrongPin { detail },
        ErrorCode::PinLocked => KeywayError::PinLocked { detail },
        ErrorCode::Unknown => match status {
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::CONFLICT => {
                KeywayError::InvalidInput { detail }
            }
            StatusCode::FORBIDDEN => KeywayError::NotAllowed { detail },
            StatusCode::TOO_MANY_REQUESTS => wait(detail),
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                KeywayError::Retry { detail }
            }
            _ => server_error(status),
        },
    }
}

fn network(error: reqwest::Error) -> KeywayError {
    KeywayError::Retry {
        detail: format!("cannot reach the Keyway cloud: {error}"),
    }
}

fn garbled(error: reqwest::Error) -> KeywayError {
    KeywayError::Retry {
        detail: format!("unreadable answer from the Keyway cloud: {error}"),
    }
}

fn server_error(status: StatusCode) -> KeywayError {
    KeywayError::Retry {
        detail: format!("the Keyway cloud answered {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The screen each cloud code leads the app to.
    fn screen(code: ErrorCode) -> &'static str {
        match error_for(code, StatusCode::IM_A_TEAPOT, String::new(), Some(7)) {
            KeywayError::InvalidInput { .. } => "fix input",
            KeywayError::NotAllowed { .. } => "not allowed",
            KeywayError::OutOfRange { .. } => "move closer",
            KeywayError::Retry { .. } => "retry",
            KeywayError::RetryAfter {
                retry_after_seconds: 7,
                ..
            } => "wait 7 s",
            KeywayError::RetryAfter { .. } => "wait, wrong seconds",
            KeywayError::ReLogin { .. } => "log in",
            KeywayError::RegisterDevice { .. } => "register device",
            KeywayError::PinNotSet { .. } => "set a PIN",
            KeywayError::WrongPin { .. } => "PIN again",
            KeywayError::PinLocked { .. } => "reset the PIN",
            KeywayError::LockUnreachable { .. } => "use Bluetooth",
            KeywayError::Cancelled { .. } => "nothing",
            KeywayError::Internal { .. } => "report",
        }
    }

    #[test]
    fn every_cloud_code_leads_to_the_screen_it_means() {
        use ErrorCode::*;
        let table = [
            (InvalidInput, "fix input"),
            (Unauthorized, "log in"),
            (Forbidden, "not allowed"),
            (NotFound, "fix input"),
            (Conflict, "fix input"),
            (RateLimited, "wait 7 s"),
            (Internal, "retry"),
            (VerificationFailed, "fix input"),
            (IqOffline, "retry"),
            (IqTimeout, "retry"),
            (LockUnreachable, "use Bluetooth"),
            (NoIq, "not allowed"),
            (PinNotSet, "set a PIN"),
            (WrongPin, "PIN again"),
            (PinDelay, "wait 7 s"),
            (PinLocked, "reset the PIN"),
            (GateRefused, "not allowed"),
            (CodeRejected, "fix input"),
            (NotCommaSeparated, "fix input"),
            (NotUtf8Csv, "fix input"),
            (WrongColumns, "fix input"),
            (EmptyFile, "fix input"),
            (NoRows, "fix input"),
            (FileTooLarge, "fix input"),
            (UnsupportedMediaType, "fix input"),
            (ProfileOwnedByPerson, "not allowed"),
            (ProfileIncomplete, "not allowed"),
            (InvalidPhone, "fix input"),
        ];
        assert_eq!(
            table.len(),
            ErrorCode::ALL.len(),
            "every code is in the table"
        );
        for (code, expected) in table {
            assert_eq!(screen(code), expected, "{code}");
        }
    }

    #[test]
    fn an_unknown_code_falls_back_on_the_status() {
        let by_status = |status| error_for(ErrorCode::Unknown, status, String::new(), None);
        assert!(matches!(
            by_status(StatusCode::FORBIDDEN),
            KeywayError::NotAllowed { .. }
        ));
        assert!(matches!(
            by_status(StatusCode::CONFLICT),
            KeywayError::InvalidInput { .. }
        ));
        assert!(matches!(
            by_status(StatusCode::TOO_MANY_REQUESTS),
            KeywayError::Retry { .. }
        ));
        assert!(matches!(
            by_status(StatusCode::BAD_GATEWAY),
            KeywayError::Retry { .. }
        ));
    }
}
