//! The JSON side of the OAuth2 endpoints: RFC 6749 §5.2 errors, `no-store` answers, and
//! OpenAPI schemas for the bodies (the shared types in `keyway_api` carry none).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyway_api::OAuthErrorBody;

use crate::error::ApiError;

/// An OAuth2 error answer: 400 with [`OAuthErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    /// The RFC 6749 code.
    pub(crate) error: &'static str,
    /// A sentence for people (never holds a secret).
    pub(crate) description: &'static str,
}

impl OAuthError {
    /// `invalid_request`: a parameter is missing, repeated or malformed.
    pub(crate) fn invalid_request(description: &'static str) -> Self {
        Self {
            error: "invalid_request",
            description,
        }
    }

    /// `invalid_grant`: the code or refresh token is unknown, used, expired or not yours.
    pub(crate) fn invalid_grant(description: &'static str) -> Self {
        Self {
            error: "invalid_grant",
            description,
        }
    }

    /// `invalid_client`: unknown client.
    pub(crate) fn invalid_client() -> Self {
        Self {
            error: "invalid_client",
            description: "unknown client_id",
        }
    }
}

/// Why an OAuth2 JSON endpoint failed: the protocol said no, or the server broke.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An RFC 6749 error.
    OAuth(OAuthError),
    /// Anything else (500s).
    Api(ApiError),
}

impl From<OAuthError> for Failure {
    fn from(error: OAuthError) -> Self {
        Self::OAuth(error)
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let response = match self {
            Self::OAuth(error) => (
                StatusCode::BAD_REQUEST,
                Json(OAuthErrorBody {
                    error: error.error.into(),
                    error_description: Some(error.description.into()),
                }),
            )
                .into_response(),
            Self::Api(error) => error.into_response(),
        };
        no_store(response)
    }
}

/// Marks an answer as not cacheable (RFC 6749 §5.1).
pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
