//! SCIM errors (RFC 7644 §3.12): the SCIM error schema with `status` as a string and the
//! `scimType` the RFC defines for the case, plus Keyway's machine code in the
//! [`KEYWAY_ERROR_SCHEMA`] extension (`{"code": "conflict"}`), the same codes as the JSON API.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::resources::{scim_json, ERROR_SCHEMA};
use crate::error::{set_retry_after, ApiError};

/// The extension of a SCIM error that carries Keyway's machine code (`code`).
pub const KEYWAY_ERROR_SCHEMA: &str = "urn:keyway:params:scim:api:messages:2.0:Error";

/// The `scimType` of an error, where RFC 7644 §3.12 defines one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The filter is not one the service supports.
    InvalidFilter,
    /// A value is already used (`userName`, `externalId`, a group's `displayName`).
    Uniqueness,
    /// A value is missing, of the wrong form or refers to nothing.
    InvalidValue,
    /// The change is not allowed on that attribute, or on that person.
    Mutability,
    /// The body is not a SCIM request.
    InvalidSyntax,
    /// A `remove` without a `path`, or a path that selects nothing.
    NoTarget,
    /// A `path` that cannot be read.
    InvalidPath,
}

impl ScimType {
    /// The name RFC 7644 gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::Uniqueness => "uniqueness",
            Self::InvalidValue => "invalidValue",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::NoTarget => "noTarget",
            Self::InvalidPath => "invalidPath",
        }
    }
}

/// Why a SCIM request failed: Keyway's error (status, code, message) and its `scimType`.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ScimError {
    /// The Keyway error: status and machine code.
    pub error: ApiError,
    /// The SCIM error type, where one fits.
    pub scim_type: Option<ScimType>,
}

impl ScimError {
    /// A `400` of this `scimType`.
    pub fn bad_request(scim_type: ScimType, message: impl Into<String>) -> Self {
        Self {
            error: ApiError::InvalidInput(message.into()),
            scim_type: Some(scim_type),
        }
    }

    /// A `409 uniqueness`.
    pub fn uniqueness(message: impl Into<String>) -> Self {
        Self {
            error: ApiError::Conflict(message.into()),
            scim_type: Some(ScimType::Uniqueness),
        }
    }

    /// A `403 mutability`: the site's owner and admins are never changed through SCIM.
    pub fn protected(message: impl Into<String>) -> Self {
        Self {
            error: ApiError::Forbidden(message.into()),
            scim_type: Some(ScimType::Mutability),
        }
    }

    /// A `404` for an id the key's site does not have (another site's included).
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(message.into()).into()
    }

    /// Gives a `400` of Keyway's (a name too long, a bad e-mail) this `scimType`.
    pub fn typed_as(scim_type: ScimType) -> impl Fn(ApiError) -> Self {
        move |error| {
            let scim_type = matches!(error, ApiError::InvalidInput(_)).then_some(scim_type);
            Self { error, scim_type }
        }
    }
}

impl From<ApiError> for ScimError {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            scim_type: None,
        }
    }
}

impl From<rusqlite::Error> for ScimError {
    fn from(error: rusqlite::Error) -> Self {
        ApiError::from(error).into()
    }
}

impl From<crate::StoreError> for ScimError {
    fn from(error: crate::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self.error {
            tracing::error!(%detail, "SCIM request failed");
        }
        let status: StatusCode = self.error.status();
        let mut body = json!({
            "schemas": [ERROR_SCHEMA, KEYWAY_ERROR_SCHEMA],
            "status": status.as_u16().to_string(),
            "detail": self.error.to_string(),
            KEYWAY_ERROR_SCHEMA: { "code": self.error.code().as_str() },
        });
        if let (Some(scim_type), Some(fields)) = (self.scim_type, body.as_object_mut()) {
            fields.insert("scimType".into(), scim_type.as_str().into());
        }
        let mut response = scim_json(status, body);
        match self.error {
            ApiError::RateLimited(seconds) => set_retry_after(&mut response, seconds),
            ApiError::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// The result of SCIM handlers and domain functions.
pub type ScimResult<T> = Result<T, ScimError>;
