//! # keyway-cloud
//!
//! The Keyway cloud: sites, people and roles, locks and IQs, access groups, devices, digital
//! keys and lock events, behind OAuth2 (authorization code + PKCE) and a JSON API. State lives
//! in one SQLite file. The OpenAPI document at `/openapi.json` is generated from the routes.

#![deny(unreachable_pub)]
#![deny(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

pub mod api;
pub mod auth;
pub mod clock;
pub mod console;
pub mod email;
pub mod error;
pub mod import;
pub mod integrations;
pub mod iq;
pub mod issuing;
pub mod live;
pub mod lock_rules;
mod log_filter;
mod membership;
mod phone;
pub mod pods;
mod profile;
pub mod public_url;
pub mod remote;
pub mod roles;
pub mod scim;
pub mod store;
pub mod web;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use clock::CloudClock;
pub use error::{ApiError, ApiResult};
pub use log_filter::{log_filter, CAPPED_LEVEL, CAPPED_TARGETS};
pub use store::{KeySource, Store, StoreError};

/// How the cloud runs.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Where the key that seals the database's secrets comes from (default: the key file
    /// `<data_dir>.key` next to the data directory, never inside it).
    pub key: KeySource,
    /// Seconds an access token lives.
    pub access_token_ttl: i64,
    /// Seconds a refresh token lives.
    pub refresh_token_ttl: i64,
    /// Seconds a digital key is valid after issuing (phones resync before the end).
    pub credential_ttl: i64,
    /// Where e-mail goes (default: the local mailbox `<data_dir>.mailbox`, next to the data
    /// directory).
    pub email: email::EmailConfig,
    /// Seconds an invitation code works (a guest's also ends at check-out).
    pub invitation_ttl: i64,
    /// Reverse proxies in front of the cloud whose `X-Forwarded-For` is believed, so login
    /// throttling counts per real client and not per proxy (empty: the header is ignored).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The URL browsers reach the cloud at (`keyway cloud serve --public-url`): https in any
    /// real deployment, plain http only on a loopback host. `None`: `http://<bound address>`
    /// ([`start`] fills it in, and refuses it unless that address is loopback).
    pub public_url: Option<url::Url>,
    /// Calls an API key may make at once (`/api/v1/integrations`).
    pub integration_burst: u32,
    /// Calls an API key may make each second, sustained.
    pub integration_per_second: u32,
    /// Whether webhook endpoints may be plain `http://` to a loopback host (development and
    /// tests; never in a deployment).
    pub webhooks_allow_loopback_http: bool,
}

impl CloudConfig {
    /// Defaults: the key file `<data_dir>.key`, 15-minute access tokens, 30-day refresh tokens, 7-day digital keys, e-mail
    /// to the local mailbox, 7-day invitations, no trusted proxy, the public URL from the
    /// bound address.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            email: email::EmailConfig::local(&data_dir),
            key: KeySource::file_for(&data_dir, None),
            invitation_ttl: 7 * 86_400,
            data_dir,
            access_token_ttl: 15 * 60,
            refresh_token_ttl: 30 * 86_400,
            credential_ttl: 7 * 86_400,
            trusted_proxies: Vec::new(),
            public_url: None,
            integration_burst: 60,
            integration_per_second: 20,
            webhooks_allow_loopback_http: false,
        }
    }

    /// Whether cookies are `Secure` with `__Host-` names: the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
    }

    /// The origin (`scheme://host[:port]`) of the public URL, which the web pages' forms
    /// must come from; `None` before [`start`] filled it in.
    pub fn public_origin(&self) -> Option<String> {
        self.public_url.as_ref().map(public_url::origin_of)
    }
}

/// What every handler sees.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Settings.
    pub config: Arc<CloudConfig>,
    /// The clock.
    pub clock: CloudClock,
    /// Request counters.
    pub metrics: Arc<Metrics>,
    /// The connected IQs, through which remote commands are relayed.
    pub iqs: Arc<iq::IqRegistry>,
    /// The e-mail sender; handlers wake it after committing queued mail.
    pub mail: Arc<email::Mailer>,
    /// The open live streams of this instance (`GET /api/v1/live`).
    pub live: Arc<live::LiveHub>,
    /// Calls per API key (`/api/v1/integrations`).
    pub integration_limits: Arc<integrations::caller::RateLimiter>,
}

impl AppState {
    /// Delivers the e-mail due now and returns every message of the local mailbox, oldest
    /// first, as its recipients would read them (the demo and the tests read real e-mails).
    pub async fn delivered_mail(&self) -> Result<Vec<email::MailboxMessage>, ApiError> {
        self.mail.deliver_due(&self.store, &self.clock).await?;
        email::read_mailbox(&email::mailbox_dir(&self.config.data_dir))
            .map_err(|error| ApiError::Internal(format!("reading the local mailbox: {error}")))
    }

    /// Delivers what is due now and returns every text message sent so far, oldest first, as
    /// the phones would show them (`to` is the phone number).
    pub async fn delivered_text_messages(&self) -> Result<Vec<email::MailboxMessage>, ApiError> {
        self.mail.deliver_due(&self.store, &self.clock).await?;
        email::read_mailbox(&self.config.email.text_messages)
            .map_err(|error| ApiError::Internal(format!("reading the text messages: {error}")))
    }

    /// The address people reach the cloud at, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.config
            .public_url
            .as_ref()
            .map(|url| url.as_str().trim_end_matches('/').to_string())
            .unwrap_or_default()
    }
}

/// What the server counts.
#[derive(Debug, Default)]
pub struct Metrics {
    /// HTTP requests answered.
    pub requests: std::sync::atomic::AtomicU64,
}

impl Metrics {
    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }
}

async fn count_request(
    axum::extract::State(metrics): axum::extract::State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    metrics
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    next.run(request).await
}

#[derive(OpenApi)]
#[openapi(info(
    title = "Keyway cloud API",
    description = "Sites, people, locks, digital keys and events."
))]
struct ApiDoc;

/// The whole HTTP application and its OpenAPI document, built from the same route list.
pub fn app(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::routes())
        .merge(auth::routes())
        .merge(iq::routes())
        .merge(web::routes())
        .merge(scim::routes())
        .split_for_parts();
    let json = Arc::new(document.clone());
    let router = router
        .merge(console::routes())
        .route(
            "/openapi.json",
            axum::routing::get(move || async move { axum::Json((*json).clone()) }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            live::drain_after_write,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            count_request,
        ))
        .with_state(state);
    (router, document)
}

/// A cloud serving on a socket until dropped or shut down.
#[derive(Debug)]
pub struct RunningCloud {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its state (tests reach the store and the clock through it).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    mail_task: Option<tokio::task::JoinHandle<()>>,
    live_task: Option<tokio::task::JoinHandle<()>>,
    webhooks_task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningCloud {
    /// `http://addr`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and waits for requests in flight.
    pub async fn shutdown(mut self) {
        self.state.iqs.close_all();
        // Open live streams would hold the graceful shutdown forever.
        self.state.live.shut_down();
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        for task in [
            self.mail_task.take(),
            self.live_task.take(),
            self.webhooks_task.take(),
        ]
        .into_iter()
        .flatten()
        {
            task.abort();
        }
    }
}

impl Drop for RunningCloud {
    fn drop(&mut self) {
        self.state.iqs.close_all();
        // Open live streams would hold the graceful shutdown forever.
        self.state.live.shut_down();
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        for task in [
            self.mail_task.take(),
            self.live_task.take(),
            self.webhooks_task.take(),
        ]
        .into_iter()
        .flatten()
        {
            task.abort();
        }
    }
}

/// Why the cloud did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store, the e-mail settings or the socket.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The public URL cannot be served safely (its message names the fix).
    #[error(transparent)]
    PublicUrl(#[from] public_url::PublicUrlError),
    /// The e-mail settings are unusable (its message names the fix).
    #[error(transparent)]
    Email(#[from] email::EmailError),
}

/// Checks the public URL (defaulting to `http://<addr>`), warns when cookies cannot be
/// `Secure`, and returns it.
fn resolve_public_url(
    configured: Option<url::Url>,
    addr: SocketAddr,
) -> Result<url::Url, StartError> {
    let url = match configured {
        Some(url) => url,
        None => url::Url::parse(&format!("http://{addr}")).map_err(|_| {
            public_url::PublicUrlError::Unsupported {
                url: format!("http://{addr}"),
            }
        })?,
    };
    if public_url::check_public_url(&url)? == public_url::Transport::LoopbackHttp {
        tracing::warn!(
            public_url = %url,
            "cookies are not Secure because the cloud is on plain http on loopback; \
             serve it over https with --public-url https://… anywhere else"
        );
    }
    Ok(url)
}

/// Opens the store (refusing a sealed one without its key) and serves on `listen` (port 0 picks a free port). Refuses a public URL
/// that is plain http on a host that is not loopback (see [`public_url`]).
pub async fn start(
    mut config: CloudConfig,
    listen: SocketAddr,
) -> Result<RunningCloud, StartError> {
    if let Some(url) = &config.public_url {
        public_url::check_public_url(url)?;
    }
    let store = Store::open(&config.data_dir, &config.key)?;
    let mail = email::Mailer::new(&config.email)?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| StoreError::Directory {
            path: listen.to_string(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StoreError::Directory {
            path: listen.to_string(),
            source,
        })?;
    config.public_url = Some(resolve_public_url(config.public_url.take(), addr)?);
    let config_limits = (config.integration_burst, config.integration_per_second);
    let state = AppState {
        clock: store.clock(),
        store,
        config: Arc::new(config),
        metrics: Arc::default(),
        mail: Arc::new(mail),
        iqs: Arc::default(),
        live: Arc::default(),
        integration_limits: Arc::new(integrations::caller::RateLimiter::new(
            config_limits.0,
            config_limits.1,
        )),
    };
    let now = state.clock.now();
    let interrupted = state
        .store
        .run(move |db| import::store::fail_interrupted(db, now))
        .await;
    match interrupted {
        Ok(0) => {}
        Ok(jobs) => tracing::warn!(jobs, "imports stopped by the last shutdown marked failed"),
        Err(error) => tracing::error!(%error, "could not mark interrupted imports"),
    }
    let (router, _) = app(state.clone());
    let (sender, receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = receiver.await;
        })
        .await;
        if let Err(error) = served {
            tracing::error!(%error, "server stopped");
        }
    });
    let mail_task =
        tokio::spawn(Arc::clone(&state.mail).run(state.store.clone(), state.clock.clone()));
    let live_task = tokio::spawn(live::drain::run(state.clone()));
    let webhooks_task = tokio::spawn(webhooks::deliver::run(state.clone()));
    Ok(RunningCloud {
        addr,
        state,
        shutdown: Some(sender),
        task: Some(task),
        mail_task: Some(mail_task),
        live_task: Some(live_task),
        webhooks_task: Some(webhooks_task),
    })
}
