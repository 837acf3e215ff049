//! What a SCIM request carries: the site API key (`Authorization: Bearer kwk_…` with
//! `people:write`), the resource id of the path, and the JSON body (`application/scim+json`
//! or `application/json`). Every refusal is a SCIM error.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use keyway_api::integrations::Scope;
use serde_json::Value;

use super::error::{ScimError, ScimType};
use crate::error::ApiError;
use crate::integrations::caller::IntegrationCaller;
use crate::AppState;

/// An identity provider calling with one of its site's keys, which has `people:write`
/// (unknown or revoked: `401`; without the scope: `403`; too many calls: `429`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimCaller(pub IntegrationCaller);

impl ScimCaller {
    /// `403 insufficient_scope` unless the key has `scope` too.
    pub fn require(&self, scope: Scope) -> Result<(), ScimError> {
        Ok(self.0.require(scope)?)
    }
}

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ScimError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = IntegrationCaller::from_request_parts(parts, state).await?;
        caller.require(Scope::PeopleWrite)?;
        Ok(Self(caller))
    }
}

/// The id of the path (`/Users/{id}`, `/Groups/{id}`): opaque to the client; one that is not
/// an id of the key's site, whatever its form, is `404`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceId(pub u32);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ScimError::not_found("no such resource"))?;
        id.parse()
            .map(Self)
            .map_err(|_| ScimError::not_found(format!("no resource {id:?} on this site")))
    }
}

/// A JSON body, as `application/scim+json` (RFC 7644 §3.1) or `application/json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimBody(pub Value);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/scim+json" || essence == "application/json"
}

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Err(ApiError::UnsupportedMediaType(
                "SCIM bodies are application/scim+json".into(),
            )
            .into());
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::FileTooLarge(rejection.body_text()))?;
        serde_json::from_slice(&bytes).map(Self).map_err(|error| {
            ScimError::bad_request(ScimType::InvalidSyntax, format!("not JSON: {error}"))
        })
    }
}

impl ScimBody {
    /// The body as `T` (a wrong form is `400 invalidSyntax`).
    pub fn parse<T: serde::de::DeserializeOwned>(self) -> Result<T, ScimError> {
        serde_json::from_value(self.0).map_err(|error| {
            ScimError::bad_request(
                ScimType::InvalidSyntax,
                format!("not a SCIM request: {error}"),
            )
        })
    }
}
