//! The `Keyway` object the apps hold: one per app, with sub-clients for login, devices, the
//! wallet of digital keys, and lock events.

use std::path::PathBuf;
use std::sync::Arc;

use keyway_api::endpoints::Endpoint;

use crate::auth::{AuthClient, Session};
use crate::http::{CallFailure, CloudHttp};
use crate::local_store::LocalStore;
use crate::platform::{DeviceSigner, SecureStore};
use crate::unlock::BleTransport;
use crate::{admin, devices, events, live, pods, remote, wallet, KeywayError};

/// How the app sets up the core.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeywayConfig {
    /// The Keyway cloud, e.g. `https://cloud.keyway.example` (`http://127.0.0.1:…` for tests).
    pub server_url: String,
    /// A private directory for the core's database.
    pub data_dir: String,
    /// This device's name as people will see it ("Ana's Pixel").
    pub device_name: String,
    /// `android`, `ios` or `cli`.
    pub platform: String,
}

/// What every sub-client shares.
pub(crate) struct Context {
    pub(crate) config: KeywayConfig,
    pub(crate) http: CloudHttp,
    pub(crate) session: Arc<Session>,
    pub(crate) store: LocalStore,
    pub(crate) signer: Arc<dyn DeviceSigner>,
    pub(crate) transport: Option<Arc<dyn BleTransport>>,
    /// Held by a wallet sync while it runs.
    pub(crate) wallet_sync: tokio::sync::Mutex<()>,
}

impl Context {
    /// Calls `endpoint` with `body` and this session's access token; on a 401 it refreshes
    /// the token once and retries. Logs the route's template (no ids, no query) and the time.
    pub(crate) async fn call<E: Endpoint>(
        &self,
        endpoint: &E,
        body: &E::Request,
    ) -> Result<E::Response, KeywayError> {
        let started = std::time::Instant::now();
        let method = E::ROUTE.method.as_str();
        let route = E::ROUTE.path;
        let result = self.call_once_refreshed(endpoint, body).await;
        let elapsed_ms = started.elapsed().as_millis();
        match &result {
            Ok(_) => tracing::debug!(method, route, elapsed_ms, "cloud call"),
            Err(error) => match error.loggable_detail() {
                Some(detail) => tracing::warn!(
                    method,
                    route,
                    elapsed_ms,
                    variant = error.variant(),
                    detail,
                    "cloud call failed"
                ),
                None => tracing::warn!(
                    method,
                    route,
                    elapsed_ms,
                    variant = error.variant(),
                    "cloud call failed"
                ),
            },
        }
        result
    }

    async fn call_once_refreshed<E: Endpoint>(
        &self,
        endpoint: &E,
        body: &E::Request,
    ) -> Result<E::Response, KeywayError> {
        let token = self.session.access_token().await?;
        match self.http.call(endpoint, body, Some(&token)).await {
            Err(CallFailure::Unauthorized) => {
                tracing::debug!(
                    route = E::ROUTE.path,
                    "access token rejected (401): refreshing once and retrying"
                );
                let token = self.session.refreshed_token(&token).await?;
                Ok(self.http.call(endpoint, body, Some(&token)).await?)
            }
            other => Ok(other?),
        }
    }
}

/// The Keyway core: create one at app start.
#[derive(uniffi::Object)]
pub struct Keyway {
    context: Arc<Context>,
    auth: Arc<AuthClient>,
    devices: Arc<devices::DevicesClient>,
    wallet: Arc<wallet::WalletClient>,
    events: Arc<events::EventsClient>,
    admin: Arc<admin::AdminClient>,
    pods: Arc<pods::PodsClient>,
    remote: Arc<remote::RemoteClient>,
    live: Arc<live::LiveClient>,
}

impl std::fmt::Debug for Keyway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyway")
            .field("server_url", &self.context.config.server_url)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Keyway {
    /// Sets up the core: the secure store for tokens, the device key, and the BLE transport
    /// (absent on devices without BLE: unlocking then says the lock is out of range). Does no
    /// I/O on the caller's thread (safe on a UI thread): the local store is opened, on the
    /// core's blocking pool, by the first call that needs it, and a store that cannot be
    /// opened is that call's error.
    #[uniffi::constructor]
    pub fn new(
        config: KeywayConfig,
        secure_store: Arc<dyn SecureStore>,
        device_signer: Arc<dyn DeviceSigner>,
        ble_transport: Option<Arc<dyn BleTransport>>,
    ) -> Result<Arc<Self>, KeywayError> {
        let http = CloudHttp::new(&config.server_url)?;
        // Opened by the first call that needs it, on the blocking pool: no I/O here.
        let store = LocalStore::deferred(&PathBuf::from(&config.data_dir));
        let session = Arc::new(Session::new(http.clone(), Arc::clone(&secure_store)));
        let context = Arc::new(Context {
            config,
            http: http.clone(),
            session: Arc::clone(&session),
            store,
            signer: device_signer,
            transport: ble_transport,
            wallet_sync: tokio::sync::Mutex::new(()),
        });
        Ok(Arc::new(Self {
            auth: Arc::new(AuthClient::new(http, session)),
            devices: Arc::new(devices::DevicesClient::new(Arc::clone(&context))),
            wallet: Arc::new(wallet::WalletClient::new(Arc::clone(&context))),
            events: Arc::new(events::EventsClient::new(Arc::clone(&context))),
            admin: Arc::new(admin::AdminClient::new(Arc::clone(&context))),
            pods: Arc::new(pods::PodsClient::new(Arc::clone(&context))),
            remote: Arc::new(remote::RemoteClient::new(
                Arc::clone(&context),
                secure_store,
            )),
            live: Arc::new(live::LiveClient::new(Arc::clone(&context))),
            context,
        }))
    }

    /// Login and logout.
    pub fn auth(&self) -> Arc<AuthClient> {
        Arc::clone(&self.auth)
    }

    /// This device's registration.
    pub fn devices(&self) -> Arc<devices::DevicesClient> {
        Arc::clone(&self.devices)
    }

    /// Digital keys: sync, list, unlock.
    pub fn wallet(&self) -> Arc<wallet::WalletClient> {
        Arc::clone(&self.wallet)
    }

    /// Lock events waiting for upload.
    pub fn events(&self) -> Arc<events::EventsClient> {
        Arc::clone(&self.events)
    }

    /// Site administration (the cloud checks the caller's role).
    pub fn admin(&self) -> Arc<admin::AdminClient> {
        Arc::clone(&self.admin)
    }

    /// Pods: members and locks (admins), guests (members), invitations (everyone).
    pub fn pods(&self) -> Arc<pods::PodsClient> {
        Arc::clone(&self.pods)
    }

    /// Remote opening through the IQ (PIN or biometric), IQ codes, keypad PINs.
    pub fn remote(&self) -> Arc<remote::RemoteClient> {
        Arc::clone(&self.remote)
    }

    /// The live channel: access changes reach the app within a second while it is in the
    /// foreground (start and stop it with the app's lifecycle).
    pub fn live(&self) -> Arc<live::LiveClient> {
        Arc::clone(&self.live)
    }
}

impl Keyway {
    /// How many token refreshes this session made (diagnostics and tests).
    pub fn refresh_count(&self) -> u64 {
        self.context.session.refresh_count()
    }

    /// The device key this core signs with (tools and tests).
    pub fn device_signer(&self) -> Arc<dyn DeviceSigner> {
        Arc::clone(&self.context.signer)
    }
}
