//! `POST /oauth/revoke` (RFC 7009): signing out. Revoking an access or refresh token revokes
//! its whole family, so every token of that login stops working.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension};
use utoipa::ToSchema;

use super::clients::is_known_client;
use super::families::revoke_family;
use super::oauth_error::{no_store, Failure, OAuthError};
use super::params::Params;
use super::tokens::token_hash;
use crate::error::ApiError;
use crate::AppState;

/// A revocation request (form fields).
#[derive(ToSchema)]
pub(super) struct RevokeRequest {
    /// The access or refresh token.
    token: Option<String>,
    /// `refresh_token` or `access_token`: where to look first (both are searched).
    token_type_hint: Option<String>,
    /// `keyway-app` (optional; when given it must be known).
    client_id: Option<String>,
}

/// Revokes the login a token belongs to. Unknown tokens are answered 200 too (RFC 7009 §2.2).
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "oauth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or unknown"),
        (status = 400, description = "invalid_request or invalid_client", body = keyway_api::OAuthErrorBody),
    )
)]
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match revoke_token(&state, &headers, &body).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(failure) => failure.into_response(),
    }
}

async fn revoke_token(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), Failure> {
    let mut params = Params::form_body(headers, body)?;
    let request = RevokeRequest {
        token: params.take("token"),
        token_type_hint: params.take("token_type_hint"),
        client_id: params.take("client_id"),
    };
    if request
        .client_id
        .as_deref()
        .is_some_and(|client_id| !is_known_client(client_id))
    {
        return Err(OAuthError::invalid_client().into());
    }
    let token = request
        .token
        .ok_or(OAuthError::invalid_request("token is required"))?;
    let hash = token_hash(&token);
    let access_first = request.token_type_hint.as_deref() == Some("access_token");
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            if let Some(family_id) = find_family(tx, &hash, access_first)? {
                revoke_family(tx, family_id, now)?;
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(())
}

fn find_family(db: &Connection, hash: &[u8], access_first: bool) -> Result<Option<i64>, ApiError> {
    let tables = if access_first {
        ["access_tokens", "refresh_tokens"]
    } else {
        ["refresh_tokens", "access_tokens"]
    };
    for table in tables {
        let family: Option<i64> = db
            .query_row(
                &format!("SELECT family_id FROM {table} WHERE token_hash = ?1"),
                [hash],
                |row| row.get(0),
            )
            .optional()?;
        if family.is_some() {
            return Ok(family);
        }
    }
    Ok(None)
}
