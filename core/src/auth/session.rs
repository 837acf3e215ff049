//! The login session: tokens kept in the secure store, and an access token that refreshes
//! itself once, however many calls ask for it at the same time.

use std::sync::Arc;

use keyway_api::endpoints::{Form, Revoke, Token};
use keyway_api::oauth::{RevokeRequest, TokenGrant};
use keyway_api::{TokenResponse, APP_CLIENT_ID};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::http::{CallFailure, CloudHttp};
use crate::platform::SecureStore;
use crate::runtime::blocking;
use crate::KeywayError;

const TOKENS_KEY: &str = "keyway.tokens";
/// Refresh this many seconds before the access token expires (at most half its lifetime).
const EXPIRY_MARGIN_SECONDS: i64 = 30;

/// Tokens as stored.
#[derive(Clone, Serialize, Deserialize)]
pub struct Tokens {
    access_token: String,
    refresh_token: String,
    expires_at: i64,
    #[serde(default)]
    issued_at: i64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Tokens from a token response received now.
    pub fn from_response(response: TokenResponse, now: i64) -> Self {
        Self {
            access_token: response.access_token,
            refresh_token: response.refresh_token,
            expires_at: now.saturating_add(i64::try_from(response.expires_in).unwrap_or(i64::MAX)),
            issued_at: now,
        }
    }

    fn fresh(&self, now: i64) -> bool {
        self.stale_at() > now
    }

    /// The time from which the token is refreshed before use.
    fn stale_at(&self) -> i64 {
        let margin = EXPIRY_MARGIN_SECONDS.min((self.expires_at - self.issued_at) / 2);
        self.expires_at - margin
    }
}

/// The session of this app: loaded lazily from the secure store.
pub struct Session {
    http: CloudHttp,
    store: Arc<dyn SecureStore>,
    tokens: Mutex<Option<Tokens>>,
    refreshes: std::sync::atomic::AtomicU64,
    /// Bumped whenever the access token changes (a refresh, a login, a logout, a refresh
    /// refused): the live channel renews its stream with the new token, or closes.
    token_changes: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session(..)")
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Session {
    /// A session over `store`, talking to the cloud through `http`.
    pub fn new(http: CloudHttp, store: Arc<dyn SecureStore>) -> Self {
        Self {
            http,
            store,
            tokens: Mutex::new(None),
            refreshes: Default::default(),
            token_changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// How many refreshes this session performed (diagnostics and tests).
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Wakes whenever the access token changed (refreshed, or gone).
    pub(crate) fn token_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.token_changes.subscribe()
    }

    fn token_changed(&self) {
        self.token_changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// When the current access token stops being fresh (Unix seconds, this phone's clock):
    /// a call from then on refreshes it first. `None` when not logged in.
    pub(crate) async fn stale_at(&self) -> Option<i64> {
        let guard = self.tokens.lock().await;
        guard.as_ref().map(Tokens::stale_at)
    }

    async fn load(&self) -> Result<Option<Tokens>, KeywayError> {
        let store = Arc::clone(&self.store);
        let bytes = blocking(move || Ok(store.get(TOKENS_KEY.into())?)).await?;
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    async fn save(&self, tokens: Option<&Tokens>) -> Result<(), KeywayError> {
        let store = Arc::clone(&self.store);
        let bytes = tokens
            .map(serde_json::to_vec)
            .transpose()
            .map_err(KeywayError::internal)?;
        blocking(move || {
            match bytes {
                Some(bytes) => store.put(TOKENS_KEY.into(), bytes)?,
                None => store.delete(TOKENS_KEY.into())?,
            }
            Ok(())
        })
        .await
    }

    /// Stores the tokens of a new login.
    pub async fn start(&self, tokens: Tokens) -> Result<(), KeywayError> {
        let mut guard = self.tokens.lock().await;
        self.save(Some(&tokens)).await?;
        *guard = Some(tokens);
        self.token_changed();
        Ok(())
    }

    /// Whether tokens are held (they may still turn out revoked).
    pub async fn is_logged_in(&self) -> Result<bool, KeywayError> {
        let mut guard = self.tokens.lock().await;
        if guard.is_none() {
            *guard = self.load().await?;
        }
        Ok(guard.is_some())
    }

    /// A valid access token, refreshing it first when it is about to expire. Concurrent
    /// callers wait for the one refresh in flight instead of starting their own.
    pub async fn access_token(&self) -> Result<String, KeywayError> {
        self.token(false).await
    }

    /// A new access token even if the current one looks fresh (after a 401).
    pub async fn refreshed_token(&self, rejected: &str) -> Result<String, KeywayError> {
        let guard = self.tokens.lock().await;
        let already_replaced = guard.as_ref().is_some_and(|t| t.access_token != rejected);
        drop(guard);
        if already_replaced {
            tracing::debug!("another call already refreshed the rejected token");
        }
        self.token(!already_replaced).await
    }

    async fn token(&self, force: bool) -> Result<String, KeywayError> {
        let mut guard = self.tokens.lock().await;
        if guard.is_none() {
            *guard = self.load().await?;
        }
        let current = guard.clone().ok_or_else(|| KeywayError::ReLogin {
            detail: "not logged in".into(),
        })?;
        if !force && current.fresh(now()) {
            tracing::trace!("access token still fresh");
            return Ok(current.access_token);
        }
        // Single flight: the lock is held until the refresh ends, so concurrent callers wait
        // here and then find the fresh token.
        let refresh = self
            .refreshes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        tracing::info!(
            refresh,
            forced = force,
            "refreshing the access token (other calls wait for this one)"
        );
        let grant = Form(TokenGrant::RefreshToken {
            refresh_token: current.refresh_token.clone(),
            client_id: APP_CLIENT_ID.into(),
        });
        match self.http.call(&Token {}, &grant, None).await {
            Ok(response) => {
                tracing::info!(
                    refresh,
                    expires_in = response.expires_in,
                    "access token refreshed"
                );
                let tokens = Tokens::from_response(response, now());
                self.save(Some(&tokens)).await?;
                let access = tokens.access_token.clone();
                *guard = Some(tokens);
                self.token_changed();
                Ok(access)
            }
            Err(CallFailure::OAuthRefused(body)) => {
                tracing::warn!(
                    refresh,
                    error = body.error.as_str(),
                    "refresh refused: the session ended, log in again"
                );
                self.save(None).await?;
                *guard = None;
                self.token_changed();
                let detail = body.error_description.unwrap_or(body.error);
                Err(KeywayError::ReLogin {
                    detail: format!("the session ended: {detail}"),
                })
            }
            Err(failure) => {
                let error = KeywayError::from(failure);
                crate::logging::error("token refresh", &error);
                Err(error)
            }
        }
    }

    /// Forgets the tokens locally and asks the cloud to revoke them.
    pub async fn end(&self) -> Result<(), KeywayError> {
        let mut guard = self.tokens.lock().await;
        let tokens = match guard.take() {
            Some(tokens) => Some(tokens),
            None => self.load().await?,
        };
        self.save(None).await?;
        self.token_changed();
        if let Some(tokens) = tokens {
            let request = Form(RevokeRequest {
                token: tokens.refresh_token,
                token_type_hint: "refresh_token".into(),
            });
            // Revocation is best effort: the tokens are gone from this phone either way.
            let revoked = self.http.call(&Revoke {}, &request, None).await.is_ok();
            tracing::info!(revoked, "session ended on this phone");
        }
        Ok(())
    }
}
