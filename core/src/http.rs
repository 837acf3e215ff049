//! The HTTP client to the Keyway cloud: one generic call for every endpoint of
//! `keyway_api::endpoints` (its method, path, bodies and error format come from the endpoint),
//! bearer tokens, and errors mapped to what the app should do.

use std::time::Duration;

use keyway_api::endpoints::ResponseBody;
use keyway_api::endpoints::{Endpoint, EndpointError, ErrorFormat, Method, RequestBody};
use keyway_api::{ApiErrorBody, ErrorCode, OAuthErrorBody};
use reqwest::{Response, StatusCode};
use url::Url;

use crate::KeywayError;

/// Requests give up after this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A client bound to one cloud.
#[derive(Debug, Clone)]
pub struct CloudHttp {
    base: Url,
    client: reqwest::Client,
    /// For event streams: a connect timeout, but no total one (a stream lasts minutes).
    streaming: reqwest::Client,
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
        let builder = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("keyway-core/", env!("CARGO_PKG_VERSION")))
        };
        let client = builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| KeywayError::internal(format!("HTTP client: {e}")))?;
        let streaming = builder()
            .connect_timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| KeywayError::internal(format!("HTTP client: {e}")))?;
        Ok(Self {
            base,
            client,
            streaming,
        })
    }

    /// Opens `endpoint` (a GET answering an event stream) with the bearer `token`: the
    /// answer's headers are read, its body is left to [`EventStreamBody::chunk`]. A refusal is
    /// mapped as [`CloudHttp::call`] maps it.
    pub async fn open_stream<E: Endpoint>(
        &self,
        endpoint: &E,
        token: &str,
    ) -> Result<EventStreamBody, CallFailure> {
        let url = self.url(endpoint).map_err(CallFailure::Other)?;
        let send = self
            .streaming
            .request(method(E::ROUTE.method), url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send();
        // The headers come at once; only the body is open-ended.
        let response = tokio::time::timeout(REQUEST_TIMEOUT, send)
            .await
            .map_err(|_| {
                CallFailure::Other(KeywayError::Retry {
                    detail: "the Keyway cloud did not answer in time".into(),
                })
            })?
            .map_err(|e| CallFailure::Other(network(e)))?;
        if response.status().is_success() {
            return Ok(EventStreamBody(response));
        }
        Err(match E::ROUTE.errors {
            ErrorFormat::Api => api_refusal(response).await,
            ErrorFormat::OAuth => oauth_refusal(response).await,
        })
    }

    /// The absolute URL of `endpoint`, its parameters and query filled in (the login page
    /// the browser opens).
    pub fn url<E: Endpoint>(&self, endpoint: &E) -> Result<Url, KeywayError> {
        let path = endpoint.path().map_err(encoding)?;
        self.base
            .join(&path)
            .map_err(|e| KeywayError::invalid(format!("URL of {}: {e}", E::ROUTE.name)))
    }

    /// Calls `endpoint` with `body`, with the bearer `token` if given, and reads its answer;
    /// a refusal is mapped by the endpoint's error format.
    pub async fn call<E: Endpoint>(
        &self,
        endpoint: &E,
        body: &E::Request,
        token: Option<&str>,
    ) -> Result<E::Response, CallFailure> {
        let url = self.url(endpoint).map_err(CallFailure::Other)?;
        let mut request = self.client.request(method(E::ROUTE.method), url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(encoded) = body.encode().map_err(|e| CallFailure::Other(encoding(e)))? {
            request = request
                .header(reqwest::header::CONTENT_TYPE, encoded.content_type)
                .body(encoded.bytes);
        }
        let response = request
            .send()
            .await
            .map_err(|e| CallFailure::Other(network(e)))?;
        let status = response.status();
        if status.is_success() {
            let bytes = response
                .bytes()
                .await
                .map_err(|e| CallFailure::Other(garbled(e)))?;
            return E::Response::decode(&bytes).map_err(|e| CallFailure::Other(unreadable(e)));
        }
        Err(match E::ROUTE.errors {
            ErrorFormat::Api => api_refusal(response).await,
            ErrorFormat::OAuth => oauth_refusal(response).await,
        })
    }
}

/// The body of an open event stream.
#[derive(Debug)]
pub struct EventStreamBody(Response);

impl EventStreamBody {
    /// The next bytes of the stream as they arrive; `None` once the cloud ended it.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, KeywayError> {
        self.0
            .chunk()
            .await
            .map(|chunk| chunk.map(|bytes| bytes.to_vec()))
            .map_err(garbled)
    }
}

/// The reqwest method of an endpoint's method.
fn method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// TLS runs on ring, like the rest of the core's crypto. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A call that failed.
#[derive(Debug)]
pub enum CallFailure {
    /// 401 from an API endpoint: the access token is no good.
    Unauthorized,
    /// An OAuth2 endpoint refused (RFC 6749 §5.2 body).
    OAuthRefused(OAuthErrorBody),
    /// Anything else, already mapped.
    Other(KeywayError),
}

impl From<CallFailure> for KeywayError {
    fn from(failure: CallFailure) -> Self {
        match failure {
            CallFailure::Unauthorized => KeywayError::ReLogin {
                detail: "the session is no longer valid".into(),
            },
            CallFailure::OAuthRefused(body) => KeywayError::NotAllowed {
                detail: format!("refused: {}", body.error_description.unwrap_or(body.error)),
            },
            CallFailure::Other(error) => error,
        }
    }
}

/// The failure an API endpoint's refusal means: its error code decides.
async fn api_refusal(response: Response) -> CallFailure {
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return CallFailure::Unauthorized;
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
    CallFailure::Other(error_for(code, status, message, retry_after))
}

/// The failure an OAuth2 endpoint's refusal means: its RFC 6749 body, or the status.
async fn oauth_refusal(response: Response) -> CallFailure {
    let status = response.status();
    if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED {
        if let Ok(body) = response.json::<OAuthErrorBody>().await {
            return CallFailure::OAuthRefused(body);
        }
    }
    CallFailure::Other(server_error(status))
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
        | ErrorCode::InvalidPhone
        | ErrorCode::IdempotencyKeyReused => KeywayError::InvalidInput { detail },
        ErrorCode::Forbidden
        | ErrorCode::NoIq
        | ErrorCode::GateRefused
        | ErrorCode::ProfileOwnedByPerson
        | ErrorCode::ProfileIncomplete
        | ErrorCode::MasterKeyFixed
        | ErrorCode::TooManyMasterKeys
        | ErrorCode::IqFirmwareTooOld
        | ErrorCode::InsufficientScope
        | ErrorCode::GroupOfAnotherIntegration => KeywayError::NotAllowed { detail },
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

fn unreadable(error: EndpointError) -> KeywayError {
    KeywayError::Retry {
        detail: format!("unreadable answer from the Keyway cloud: {error}"),
    }
}

fn encoding(error: EndpointError) -> KeywayError {
    KeywayError::internal(format!("cannot build the request: {error}"))
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
            (MasterKeyFixed, "not allowed"),
            (TooManyMasterKeys, "not allowed"),
            (IqFirmwareTooOld, "not allowed"),
            (InsufficientScope, "not allowed"),
            (IdempotencyKeyReused, "fix input"),
            (GroupOfAnotherIntegration, "not allowed"),
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
    #[allow(clippy::unwrap_used)]
    fn the_login_page_url_carries_the_authorize_query() {
        use keyway_api::endpoints::Authorize;
        use keyway_api::oauth::AuthorizeQuery;
        let http = CloudHttp::new("http://127.0.0.1:8080").unwrap();
        let url = http
            .url(&Authorize {
                query: AuthorizeQuery {
                    response_type: "code".into(),
                    client_id: "keyway-app".into(),
                    redirect_uri: "keyway://oauth".into(),
                    code_challenge: "abc".into(),
                    code_challenge_method: "S256".into(),
                    state: "s t".into(),
                },
            })
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/oauth/authorize?response_type=code&client_id=keyway-app\
             &redirect_uri=keyway%3A%2F%2Foauth&code_challenge=abc&code_challenge_method=S256\
             &state=s+t"
        );
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
