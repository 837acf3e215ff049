//! `POST /oauth/token` for a registered app (RFC 6749 §4.1.3 with client authentication,
//! §2.3.1): the app proves who it is with its secret (`client_secret_basic` or
//! `client_secret_post`, never both) and trades its code and PKCE verifier for an access
//! token that acts for the connected site only, with the consented scopes, until the site
//! disconnects the app. No refresh token: the token does not expire.
//!
//! A wrong or missing secret is `401 invalid_client` with `WWW-Authenticate: Basic`. A
//! replayed code disconnects the connection it made, so the token it produced stops too.

use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::integrations::ConnectedAppToken;
use keyway_api::OAuthErrorBody;
use rusqlite::Connection;

use super::connect_grants::{note_token, take_code};
use super::oauth_error::{no_store, Failure, OAuthError};
use super::params::Params;
use super::pkce::{is_valid_verifier, verifier_matches};
use super::tokens::token_hash;
use crate::error::ApiError;
use crate::integrations::connections::{
    authenticate_app, issue_token, revoke_connection, APP_CLIENT_PREFIX,
};
use crate::integrations::keys::scopes_text;
use crate::AppState;

/// Whether a token request comes from a registered app: it authenticates with HTTP Basic,
/// or names a `kwa_…` client in its form.
pub(super) fn is_for_app(headers: &HeaderMap, body: &[u8]) -> bool {
    basic_credentials(headers).is_some()
        || Params::parse(body).is_ok_and(|params| {
            params
                .get("client_id")
                .is_some_and(|id| id.starts_with(APP_CLIENT_PREFIX))
        })
}

/// `Authorization: Basic` credentials: the client id and secret, each form-urlencoded
/// (RFC 6749 §2.3.1). `Some(None)` when the header is Basic but malformed.
fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    Some(decoded.and_then(|text| {
        let (id, secret) = text.split_once(':')?;
        let unescape = |part: &str| {
            url::form_urlencoded::parse(format!("v={part}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
        };
        Some((unescape(id)?, unescape(secret)?))
    }))
}

/// Why the exchange failed: the client is not who it says (401), or anything else.
enum AppFailure {
    Client(&'static str),
    Other(Failure),
}

impl<T: Into<Failure>> From<T> for AppFailure {
    fn from(failure: T) -> Self {
        Self::Other(failure.into())
    }
}

impl IntoResponse for AppFailure {
    fn into_response(self) -> Response {
        match self {
            Self::Client(description) => {
                let body = OAuthErrorBody {
                    error: "invalid_client".into(),
                    error_description: Some(description.into()),
                };
                let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"keyway\""),
                );
                no_store(response)
            }
            Self::Other(failure) => failure.into_response(),
        }
    }
}

/// Answers a registered app's token request.
pub(super) async fn token(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Response {
    match exchange(state, headers, body).await {
        Ok(token) => no_store(Json(token).into_response()),
        Err(failure) => failure.into_response(),
    }
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<ConnectedAppToken, AppFailure> {
    let mut params = Params::form_body(headers, body)?;
    let form_id = params.take("client_id");
    let form_secret = params.take("client_secret");
    let (client_id, secret) = match (basic_credentials(headers), form_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not both",
            )
            .into())
        }
        (Some(None), None) => return Err(AppFailure::Client("malformed Basic credentials")),
        (Some(Some((id, secret))), None) => {
            if form_id.as_ref().is_some_and(|form_id| *form_id != id) {
                return Err(AppFailure::Client("client_id differs from the credentials"));
            }
            (id, secret)
        }
        (None, Some(secret)) => (
            form_id.ok_or(AppFailure::Client("client_id is required"))?,
            secret,
        ),
        (None, None) => return Err(AppFailure::Client("client authentication is required")),
    };
    if params.take("grant_type").as_deref() != Some("authorization_code") {
        return Err(OAuthError {
            error: "unsupported_grant_type",
            description: "a registered app uses grant_type=authorization_code",
        }
        .into());
    }
    let code = params
        .take("code")
        .ok_or(OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params
        .take("redirect_uri")
        .ok_or(OAuthError::invalid_request("redirect_uri is required"))?;
    let verifier = params
        .take("code_verifier")
        .ok_or(OAuthError::invalid_request("code_verifier is required"))?;
    if !is_valid_verifier(&verifier) {
        return Err(OAuthError::invalid_request(
            "code_verifier must be 43 to 128 unreserved characters",
        )
        .into());
    }
    let now = state.clock.now();
    let presented = Presented {
        client_id,
        secret,
        code_hash: token_hash(&code),
        redirect_uri,
        verifier,
    };
    let outcome = state
        .store
        .transaction(move |tx| redeem(tx, &presented, now))
        .await?;
    match outcome {
        Redeemed::Token(token) => Ok(token),
        Redeemed::UnknownClient => Err(AppFailure::Client("unknown client or wrong secret")),
        Redeemed::Refused(error) => Err(error.into()),
    }
}

/// What the app presented.
struct Presented {
    client_id: String,
    secret: String,
    code_hash: Vec<u8>,
    redirect_uri: String,
    verifier: String,
}

/// What redeeming came to; refusals still commit what they caused (a burnt code, a revoked
/// connection).
enum Redeemed {
    Token(ConnectedAppToken),
    UnknownClient,
    Refused(OAuthError),
}

fn redeem(db: &Connection, presented: &Presented, now: i64) -> Result<Redeemed, ApiError> {
    if authenticate_app(db, &presented.client_id, &presented.secret)?.is_none() {
        return Ok(Redeemed::UnknownClient);
    }
    let refuse = |description| Ok(Redeemed::Refused(OAuthError::invalid_grant(description)));
    let Some(code) = take_code(db, &presented.code_hash, now)? else {
        return refuse("unknown authorization code");
    };
    if code.used {
        revoke_connection(db, code.connection_id, now)?;
        tracing::warn!(
            connection_id = code.connection_id,
            "an app's authorization code was replayed; its connection is revoked"
        );
        return refuse("the authorization code was already used");
    }
    if code.expires_at <= now {
        return refuse("the authorization code has expired");
    }
    if code.client_id != presented.client_id {
        return refuse("the authorization code was issued to another client");
    }
    if code.redirect_uri != presented.redirect_uri {
        return refuse("redirect_uri differs from the authorization request");
    }
    if !verifier_matches(&presented.verifier, &code.code_challenge) {
        return refuse("code_verifier does not match the code_challenge");
    }
    let (key_id, secret, site_id, scopes) = match issue_token(db, code.connection_id, now) {
        Ok(issued) => issued,
        Err(ApiError::NotFound(_)) => return refuse("the site disconnected the app"),
        Err(error) => return Err(error),
    };
    note_token(db, &presented.code_hash, key_id)?;
    Ok(Redeemed::Token(ConnectedAppToken {
        access_token: secret,
        token_type: "Bearer".into(),
        scope: scopes_text(&scopes),
        site_id,
    }))
}
