//! `POST /oauth/token` (RFC 6749 §4.1.3 and §6, RFC 7636 §4.5): trades an authorization code
//! and its PKCE verifier for tokens, and rotates refresh tokens.
//!
//! A code or refresh token works once. Presenting one again means two parties hold it, so
//! the whole token family it belongs to is revoked (RFC 6749 §4.1.2, RFC 9700 §4.14.2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyway_api::TokenResponse;
use rusqlite::{params, Connection, OptionalExtension};
use utoipa::ToSchema;

use super::clients::is_known_client;
use super::connect_token::{self, is_for_app};
use super::families::{create_family, issue, revoke_family};
use super::oauth_error::{no_store, Failure, OAuthError};
use super::params::Params;
use super::pkce::{is_valid_verifier, verifier_matches};
use super::tokens::token_hash;
use crate::error::ApiError;
use crate::{AppState, CloudConfig};

/// A token request (form fields).
#[derive(ToSchema)]
pub(super) struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    grant_type: Option<String>,
    /// `keyway-app`.
    client_id: Option<String>,
    /// The code from the redirect (`authorization_code`).
    code: Option<String>,
    /// The redirect URI of the authorization request, exactly (`authorization_code`).
    redirect_uri: Option<String>,
    /// The PKCE verifier, 43 to 128 characters (`authorization_code`).
    code_verifier: Option<String>,
    /// The current refresh token (`refresh_token`).
    refresh_token: Option<String>,
}

impl TokenRequest {
    fn from_params(params: &mut Params) -> Self {
        Self {
            grant_type: params.take("grant_type"),
            client_id: params.take("client_id"),
            code: params.take("code"),
            redirect_uri: params.take("redirect_uri"),
            code_verifier: params.take("code_verifier"),
            refresh_token: params.take("refresh_token"),
        }
    }
}

/// Issues tokens for an authorization code (with PKCE) or a refresh token; a registered
/// app's code (with its secret) gets the connected site's token.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "New tokens (Cache-Control: no-store); a registered app (`client_id=kwa_…`, client_secret_basic or client_secret_post) gets a `ConnectedAppToken` instead", body = keyway_api::TokenResponse),
        (status = 400, description = "invalid_request, invalid_client, invalid_grant or unsupported_grant_type", body = keyway_api::OAuthErrorBody),
        (status = 401, description = "A registered app's wrong or missing secret: invalid_client, with WWW-Authenticate: Basic", body = keyway_api::OAuthErrorBody),
    )
)]
pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if is_for_app(&headers, &body) {
        return connect_token::token(&state, &headers, &body).await;
    }
    match exchange(&state, &headers, &body).await {
        Ok(tokens) => no_store(Json(tokens).into_response()),
        Err(failure) => failure.into_response(),
    }
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, Failure> {
    let mut params = Params::form_body(headers, body)?;
    let request = TokenRequest::from_params(&mut params);
    let grant_type = request
        .grant_type
        .ok_or(OAuthError::invalid_request("grant_type is required"))?;
    if grant_type != "authorization_code" && grant_type != "refresh_token" {
        return Err(OAuthError {
            error: "unsupported_grant_type",
            description: "grant_type must be authorization_code or refresh_token",
        }
        .into());
    }
    let client_id = request
        .client_id
        .ok_or(OAuthError::invalid_request("client_id is required"))?;
    if !is_known_client(&client_id) {
        return Err(OAuthError::invalid_client().into());
    }
    let now = state.clock.now();
    let config = state.config.clone();
    let outcome = if grant_type == "authorization_code" {
        let code = request
            .code
            .ok_or(OAuthError::invalid_request("code is required"))?;
        let redirect_uri = request
            .redirect_uri
            .ok_or(OAuthError::invalid_request("redirect_uri is required"))?;
        let verifier = request
            .code_verifier
            .ok_or(OAuthError::invalid_request("code_verifier is required"))?;
        if !is_valid_verifier(&verifier) {
            return Err(OAuthError::invalid_request(
                "code_verifier must be 43 to 128 unreserved characters",
            )
            .into());
        }
        let presented = CodeExchange {
            code_hash: token_hash(&code),
            client_id,
            redirect_uri,
            verifier,
        };
        state
            .store
            .transaction(move |tx| redeem_code(tx, &presented, now, &config))
            .await?
    } else {
        let refresh = request
            .refresh_token
            .ok_or(OAuthError::invalid_request("refresh_token is required"))?;
        let hash = token_hash(&refresh);
        state
            .store
            .transaction(move |tx| rotate(tx, &hash, &client_id, now, &config))
            .await?
    };
    Ok(outcome?)
}

/// What the client presented with an authorization code.
struct CodeExchange {
    code_hash: Vec<u8>,
    client_id: String,
    redirect_uri: String,
    verifier: String,
}

/// Redeems a code. Errors of the protocol are returned inside `Ok` so the transaction still
/// commits what they caused (a burnt code, a revoked family).
fn redeem_code(
    db: &Connection,
    presented: &CodeExchange,
    now: i64,
    config: &CloudConfig,
) -> Result<Result<TokenResponse, OAuthError>, ApiError> {
    type CodeRow = (u32, String, String, String, i64, Option<i64>, Option<i64>);
    let row: Option<CodeRow> = db
        .query_row(
            "SELECT user_id, client_id, redirect_uri, code_challenge, expires_at, used_at,
                    family_id
             FROM oauth_codes WHERE code_hash = ?1",
            [&presented.code_hash],
            |row| CodeRow::try_from(row),
        )
        .optional()?;
    let Some((user_id, client_id, redirect_uri, challenge, expires_at, used_at, family_id)) = row
    else {
        return Ok(Err(OAuthError::invalid_grant("unknown authorization code")));
    };
    if used_at.is_some() {
        if let Some(family_id) = family_id {
            revoke_family(db, family_id, now)?;
            tracing::warn!(
                family_id,
                "authorization code replayed; its tokens are revoked"
            );
        }
        return Ok(Err(OAuthError::invalid_grant(
            "the authorization code was already used",
        )));
    }
    // One attempt per code, whatever its outcome.
    db.execute(
        "UPDATE oauth_codes SET used_at = ?1 WHERE code_hash = ?2",
        params![now, presented.code_hash],
    )?;
    if expires_at <= now {
        return Ok(Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        )));
    }
    if client_id != presented.client_id {
        return Ok(Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        )));
    }
    if redirect_uri != presented.redirect_uri {
        return Ok(Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        )));
    }
    if !verifier_matches(&presented.verifier, &challenge) {
        return Ok(Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        )));
    }
    let family_id = create_family(db, user_id, &client_id, now)?;
    db.execute(
        "UPDATE oauth_codes SET family_id = ?1 WHERE code_hash = ?2",
        params![family_id, presented.code_hash],
    )?;
    Ok(Ok(issue(db, family_id, user_id, now, config)?))
}

/// Rotates a refresh token: the presented one is spent, a new pair comes back in the same
/// family. A spent one presented again revokes the family.
fn rotate(
    db: &Connection,
    hash: &[u8],
    client_id: &str,
    now: i64,
    config: &CloudConfig,
) -> Result<Result<TokenResponse, OAuthError>, ApiError> {
    type RefreshRow = (i64, i64, Option<i64>, Option<i64>, u32, String);
    let row: Option<RefreshRow> = db
        .query_row(
            "SELECT r.family_id, r.expires_at, r.used_at, f.revoked_at, f.user_id, f.client_id
             FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id
             WHERE r.token_hash = ?1",
            [hash],
            |row| RefreshRow::try_from(row),
        )
        .optional()?;
    let Some((family_id, expires_at, used_at, revoked_at, user_id, family_client)) = row else {
        return Ok(Err(OAuthError::invalid_grant("unknown refresh token")));
    };
    if revoked_at.is_some() {
        return Ok(Err(OAuthError::invalid_grant(
            "the refresh token was revoked",
        )));
    }
    if used_at.is_some() {
        revoke_family(db, family_id, now)?;
        tracing::warn!(family_id, "refresh token replayed; its family is revoked");
        return Ok(Err(OAuthError::invalid_grant(
            "the refresh token was already used; this login is revoked",
        )));
    }
    if family_client != client_id {
        return Ok(Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        )));
    }
    if expires_at <= now {
        return Ok(Err(OAuthError::invalid_grant(
            "the refresh token has expired",
        )));
    }
    let spent = db.execute(
        "UPDATE refresh_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL",
        params![now, hash],
    )?;
    if spent != 1 {
        return Ok(Err(OAuthError::invalid_grant(
            "the refresh token was already used",
        )));
    }
    Ok(Ok(issue(db, family_id, user_id, now, config)?))
}
