//! The API error: a status code that tells the client what to do, and a JSON body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyway_api::{ApiErrorBody, ErrorCode};

use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the input is wrong.
    #[error("{0}")]
    InvalidInput(String),
    /// 401: no valid access token; refresh it or log in again.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing (or not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// 409: clashes with what exists.
    #[error("{0}")]
    Conflict(String),
    /// 400: the e-mail verification code is wrong, expired or used, or the password is not
    /// the one of the sign-up it belongs to (one answer for all, so none is told apart).
    #[error("{0}")]
    VerificationFailed(String),
    /// 429: too many attempts; retry after this many seconds.
    #[error("too many attempts, retry in {0} s")]
    RateLimited(u64),
    /// 400: an import file is separated by semicolons or tabs, not commas.
    #[error("{0}")]
    NotCommaSeparated(String),
    /// 400: an import file is not UTF-8 text (UTF-16, binary).
    #[error("{0}")]
    NotUtf8Csv(String),
    /// 400: an import file's header is not the template's five columns in their order.
    #[error("{0}")]
    WrongColumns(String),
    /// 400: an import file is empty.
    #[error("{0}")]
    EmptyFile(String),
    /// 400: an import file has a header but no people.
    #[error("{0}")]
    NoRows(String),
    /// 413: the request body is larger than allowed (refused before it is read whole).
    #[error("{0}")]
    FileTooLarge(String),
    /// 415: the body is not of the content type the route takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 403: the person claimed their place and owns their details.
    #[error("{0}")]
    ProfileOwnedByPerson(String),
    /// 409: a tag profile cannot have what needs an account (digital keys, remote opening).
    #[error("{0}")]
    ProfileIncomplete(String),
    /// 400: not a phone number in international form.
    #[error("{0}")]
    InvalidPhone(String),
    /// 409: the owner's tag is a master key while they own a site.
    #[error("{0}")]
    MasterKeyFixed(String),
    /// 409: a lock already stores the most master keys; the message names it.
    #[error("{0}")]
    TooManyMasterKeys(String),
    /// 409: the lock's IQ firmware is too old for the setting (or there is no IQ).
    #[error("{0}")]
    IqFirmwareTooOld(String),
    /// 403: the API key lacks the scope the call needs.
    #[error("{0}")]
    InsufficientScope(String),
    /// 422: an `Idempotency-Key` reused with another request.
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// 409: the access group belongs to another connected system.
    #[error("{0}")]
    GroupOfAnotherIntegration(String),
    /// 500: the server failed; details go to the log, not to the client.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The machine code in the body.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::VerificationFailed(_) => ErrorCode::VerificationFailed,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::NotCommaSeparated(_) => ErrorCode::NotCommaSeparated,
            Self::NotUtf8Csv(_) => ErrorCode::NotUtf8Csv,
            Self::WrongColumns(_) => ErrorCode::WrongColumns,
            Self::EmptyFile(_) => ErrorCode::EmptyFile,
            Self::NoRows(_) => ErrorCode::NoRows,
            Self::FileTooLarge(_) => ErrorCode::FileTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::ProfileOwnedByPerson(_) => ErrorCode::ProfileOwnedByPerson,
            Self::ProfileIncomplete(_) => ErrorCode::ProfileIncomplete,
            Self::InvalidPhone(_) => ErrorCode::InvalidPhone,
            Self::MasterKeyFixed(_) => ErrorCode::MasterKeyFixed,
            Self::TooManyMasterKeys(_) => ErrorCode::TooManyMasterKeys,
            Self::IqFirmwareTooOld(_) => ErrorCode::IqFirmwareTooOld,
            Self::InsufficientScope(_) => ErrorCode::InsufficientScope,
            Self::IdempotencyKeyReused(_) => ErrorCode::IdempotencyKeyReused,
            Self::GroupOfAnotherIntegration(_) => ErrorCode::GroupOfAnotherIntegration,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidInput(_)
            | Self::VerificationFailed(_)
            | Self::NotCommaSeparated(_)
            | Self::NotUtf8Csv(_)
            | Self::WrongColumns(_)
            | Self::EmptyFile(_)
            | Self::NoRows(_)
            | Self::InvalidPhone(_) => StatusCode::BAD_REQUEST,
            Self::FileTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::ProfileOwnedByPerson(_) | Self::InsufficientScope(_) => {
                StatusCode::FORBIDDEN
            }
            Self::IdempotencyKeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_)
            | Self::GroupOfAnotherIntegration(_)
            | Self::ProfileIncomplete(_)
            | Self::MasterKeyFixed(_)
            | Self::TooManyMasterKeys(_)
            | Self::IqFirmwareTooOld(_) => StatusCode::CONFLICT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Internal(error.to_string())
    }
}

/// Adds `Retry-After: seconds` to a refusal.
pub(crate) fn set_retry_after(response: &mut Response, seconds: u64) {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = ApiErrorBody {
            error: self.code().as_str().to_string(),
            message: self.to_string(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::RateLimited(seconds) = self {
            set_retry_after(&mut response, seconds);
        }
        if matches!(self, Self::Unauthorized(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
