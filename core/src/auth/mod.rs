//! Login with OAuth2 authorization code + PKCE (RFC 7636) as a public native client
//! (RFC 8252): the app opens the authorize URL in the browser, the cloud redirects back to the
//! app's redirect URI, and the core exchanges the code.

mod pkce;
mod session;

use std::sync::{Arc, Mutex};

use keyway_api::endpoints::{Authorize, Form, SignUp, Token, VerifyEmail};
use keyway_api::oauth::{AuthorizeQuery, TokenGrant};
use keyway_api::{SignupRequest, UserView, VerifyEmailRequest, APP_CLIENT_ID};
use url::Url;

pub use pkce::{random_token, s256, Pkce};
pub use session::{Session, Tokens};

use crate::http::{CallFailure, CloudHttp};
use crate::runtime::on_core_runtime;
use crate::{logging, KeywayError};

/// What the app needs to start a login.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LoginRequest {
    /// Open this in the system browser (Custom Tabs / ASWebAuthenticationSession).
    pub authorize_url: String,
    /// The redirect URI the browser will come back to.
    pub redirect_uri: String,
}

struct PendingLogin {
    pkce: Pkce,
    state: String,
    redirect_uri: String,
}

/// Logging in and out.
#[derive(uniffi::Object)]
pub struct AuthClient {
    http: CloudHttp,
    session: Arc<Session>,
    pending: Mutex<Option<PendingLogin>>,
}

impl std::fmt::Debug for AuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthClient(..)")
    }
}

impl AuthClient {
    /// An auth client sharing `session` with the other sub-clients.
    pub fn new(http: CloudHttp, session: Arc<Session>) -> Self {
        Self {
            http,
            session,
            pending: Mutex::new(None),
        }
    }
}

/// A sign-up waiting for its e-mail to be verified. The core's own record rather than
/// keyway-api's `SignupAccepted`: that one also carries `next`, a constant the core acts on
/// itself.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignUpStarted {
    /// The address the code was sent to, as the cloud normalised it.
    pub email: String,
}

#[uniffi::export]
impl AuthClient {
    /// Signs up: the cloud e-mails the address an 8-digit code (the answer is the same whether
    /// or not the address already has an account; the e-mail says which). Then call
    /// [`AuthClient::verify_email`] with that code and the same password, and log in.
    pub async fn sign_up(
        &self,
        email: String,
        name: String,
        password: String,
    ) -> Result<SignUpStarted, KeywayError> {
        let http = self.http.clone();
        tracing::info!("sign-up requested");
        on_core_runtime(async move {
            let request = SignupRequest {
                email,
                name,
                password,
            };
            let accepted = http.call(&SignUp {}, &request, None).await?;
            tracing::info!("sign-up accepted: the verification code is on its way");
            Ok(SignUpStarted {
                email: accepted.email,
            })
        })
        .await
        .inspect_err(|error| logging::error("sign-up", error))
    }

    /// Confirms the address with the code of the verification e-mail and the password chosen
    /// at sign-up. A wrong, expired or used code, or another password, is `InvalidInput`;
    /// too many tries is `Retry`.
    pub async fn verify_email(
        &self,
        email: String,
        code: String,
        password: String,
    ) -> Result<UserView, KeywayError> {
        let http = self.http.clone();
        on_core_runtime(async move {
            let request = VerifyEmailRequest {
                email,
                code,
                password,
            };
            let user = http.call(&VerifyEmail {}, &request, None).await?;
            tracing::info!(user_id = user.user_id, "e-mail address verified");
            Ok(user)
        })
        .await
        .inspect_err(|error| logging::error("e-mail verification", error))
    }

    /// Starts a login that will come back to `redirect_uri` (`keyway://oauth`, or a loopback
    /// `http://127.0.0.1:PORT/path` for desktop tools). A new call replaces an unfinished one.
    pub fn start_login(&self, redirect_uri: String) -> Result<LoginRequest, KeywayError> {
        let pkce = Pkce::generate()?;
        let state = random_token()?;
        let url = self.http.url(&Authorize {
            query: AuthorizeQuery {
                response_type: "code".into(),
                client_id: APP_CLIENT_ID.into(),
                redirect_uri: redirect_uri.clone(),
                code_challenge: pkce.challenge.clone(),
                code_challenge_method: "S256".into(),
                state: state.clone(),
            },
        })?;
        let request = LoginRequest {
            authorize_url: url.to_string(),
            redirect_uri: redirect_uri.clone(),
        };
        *self
            .pending
            .lock()
            .map_err(|_| KeywayError::internal("login state poisoned"))? = Some(PendingLogin {
            pkce,
            state,
            redirect_uri,
        });
        tracing::info!(
            redirect_uri = request.redirect_uri.as_str(),
            "login started: the app opens the authorize page"
        );
        Ok(request)
    }

    /// Finishes the login with the URL the browser was redirected to.
    pub async fn finish_login(&self, redirect_url: String) -> Result<(), KeywayError> {
        let pending = self
            .pending
            .lock()
            .map_err(|_| KeywayError::internal("login state poisoned"))?
            .take()
            .ok_or_else(|| KeywayError::invalid("no login in progress: call start_login first"))?;
        let url = Url::parse(&redirect_url)
            .map_err(|e| KeywayError::invalid(format!("redirect URL: {e}")))?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if param("state").as_deref() != Some(pending.state.as_str()) {
            tracing::warn!("login answer refused: its state belongs to another login");
            return Err(KeywayError::invalid(
                "the login answer does not match this login (state mismatch)",
            ));
        }
        if let Some(error) = param("error") {
            let description = param("error_description").unwrap_or_default();
            // The RFC 6749 error code is one of a fixed list; the description is not logged.
            tracing::warn!(
                error = error.as_str(),
                "login refused at the authorize page"
            );
            return Err(KeywayError::NotAllowed {
                detail: format!("login refused: {error} {description}"),
            });
        }
        let code =
            param("code").ok_or_else(|| KeywayError::invalid("the redirect carries no code"))?;
        let http = self.http.clone();
        let session = Arc::clone(&self.session);
        on_core_runtime(async move {
            let grant = Form(TokenGrant::AuthorizationCode {
                code,
                redirect_uri: pending.redirect_uri,
                client_id: APP_CLIENT_ID.into(),
                code_verifier: pending.pkce.verifier,
            });
            let response = match http.call(&Token {}, &grant, None).await {
                Ok(response) => response,
                Err(CallFailure::OAuthRefused(body)) => {
                    tracing::warn!(error = body.error.as_str(), "code exchange refused");
                    let detail = body.error_description.unwrap_or(body.error);
                    return Err(KeywayError::NotAllowed {
                        detail: format!("login refused: {detail}"),
                    });
                }
                Err(failure) => return Err(failure.into()),
            };
            let expires_in = response.expires_in;
            session
                .start(Tokens::from_response(
                    response,
                    chrono::Utc::now().timestamp(),
                ))
                .await?;
            tracing::info!(expires_in, "login finished: session started");
            Ok(())
        })
        .await
        .inspect_err(|error| logging::error("login", error))
    }

    /// Whether this phone holds a session.
    pub async fn is_logged_in(&self) -> Result<bool, KeywayError> {
        let session = Arc::clone(&self.session);
        on_core_runtime(async move { session.is_logged_in().await }).await
    }

    /// Logs out: revokes the session at the cloud and forgets its tokens.
    pub async fn logout(&self) -> Result<(), KeywayError> {
        let session = Arc::clone(&self.session);
        tracing::info!("logging out");
        on_core_runtime(async move { session.end().await })
            .await
            .inspect_err(|error| logging::error("logout", error))
    }
}
