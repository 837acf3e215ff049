//! The form bodies and the query a client sends to the OAuth2 endpoints (RFC 6749, RFC 7636,
//! RFC 7009). The cloud reads them field by field (a repeated field is refused), so these
//! types are the client's side only. Their `Debug` leaves every secret out.

use serde::Serialize;

/// The query of `GET /oauth/authorize`: the login page the app opens in the browser.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthorizeQuery {
    /// Always `code`.
    pub response_type: String,
    /// The app's client id ([`crate::APP_CLIENT_ID`]).
    pub client_id: String,
    /// Where the browser comes back to.
    pub redirect_uri: String,
    /// The PKCE challenge (S256 of the verifier).
    pub code_challenge: String,
    /// Always `S256`.
    pub code_challenge_method: String,
    /// The value the redirect must carry back.
    pub state: String,
}

impl std::fmt::Debug for AuthorizeQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeQuery")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The form of `POST /oauth/token`: an authorization code or a refresh token traded for new
/// tokens.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenGrant {
    /// The code of the login redirect, with the PKCE verifier (RFC 6749 §4.1.3).
    AuthorizationCode {
        /// The code from the redirect.
        code: String,
        /// The redirect URI of the authorization request, exactly.
        redirect_uri: String,
        /// The app's client id.
        client_id: String,
        /// The PKCE verifier.
        code_verifier: String,
    },
    /// The current refresh token (RFC 6749 §6); it is rotated.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
        /// The app's client id.
        client_id: String,
    },
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AuthorizationCode { .. } => "TokenGrant::AuthorizationCode(..)",
            Self::RefreshToken { .. } => "TokenGrant::RefreshToken(..)",
        })
    }
}

/// The form of `POST /oauth/revoke` (RFC 7009): the login a token belongs to ends.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct RevokeRequest {
    /// The access or refresh token.
    pub token: String,
    /// `refresh_token` or `access_token`: where the cloud looks first.
    pub token_type_hint: String,
}

impl std::fmt::Debug for RevokeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevokeRequest")
            .field("token_type_hint", &self.token_type_hint)
            .finish_non_exhaustive()
    }
}
