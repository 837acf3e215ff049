//! IQ-code secrets in the secure store (one entry holding every IQ's secret), and the codes
//! computed from them on the phone's clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::remote::IqCodeSecretView;
use keyway_protocol::iq_code::iq_code_at;
use serde::{Deserialize, Serialize};

use super::IqCodeInfo;
use crate::ffi::IqCode;
use crate::platform::SecureStore;
use crate::runtime::blocking;
use crate::KeywayError;

const STORE_KEY: &str = "keyway.iq-code-secrets";

#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    site_id: u32,
    iq_name: String,
    /// Base64.
    secret: String,
}

/// The secrets, kept in the secure store only.
#[derive(Clone)]
pub(super) struct CodeSecrets {
    store: Arc<dyn SecureStore>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl CodeSecrets {
    pub(super) fn new(store: Arc<dyn SecureStore>) -> Self {
        Self { store }
    }

    async fn load(&self) -> Result<BTreeMap<u32, Stored>, KeywayError> {
        let store = Arc::clone(&self.store);
        let bytes = blocking(move || Ok(store.get(STORE_KEY.into())?)).await?;
        Ok(bytes
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default())
    }

    /// Replaces the stored secrets with these; returns how many there are.
    pub(super) async fn replace(&self, views: Vec<IqCodeSecretView>) -> Result<u32, KeywayError> {
        let stored: BTreeMap<u32, Stored> = views
            .into_iter()
            .map(|view| {
                (
                    view.iq_id,
                    Stored {
                        site_id: view.site_id,
                        iq_name: view.iq_name,
                        secret: view.secret,
                    },
                )
            })
            .collect();
        let count = u32::try_from(stored.len()).unwrap_or(u32::MAX);
        let bytes = serde_json::to_vec(&stored).map_err(KeywayError::internal)?;
        let store = Arc::clone(&self.store);
        blocking(move || Ok(store.put(STORE_KEY.into(), bytes)?)).await?;
        Ok(count)
    }

    fn code(entry: &Stored, at: i64) -> Result<keyway_protocol::iq_code::IqCode, KeywayError> {
        let secret = STANDARD
            .decode(&entry.secret)
            .map_err(|_| KeywayError::internal("a stored IQ-code secret is corrupt"))?;
        Ok(iq_code_at(&secret, at)?)
    }

    /// Every IQ's current code.
    pub(super) async fn codes_now(&self) -> Result<Vec<IqCodeInfo>, KeywayError> {
        let at = now();
        self.load()
            .await?
            .into_iter()
            .map(|(iq_id, entry)| {
                let code = Self::code(&entry, at)?;
                Ok(IqCodeInfo {
                    site_id: entry.site_id,
                    iq_id,
                    iq_name: entry.iq_name,
                    code: code.code,
                    seconds_left: code.seconds_left,
                })
            })
            .collect()
    }

    /// One IQ's current code.
    pub(super) async fn code_now(&self, iq_id: u32) -> Result<IqCode, KeywayError> {
        let secrets = self.load().await?;
        let entry = secrets.get(&iq_id).ok_or_else(|| KeywayError::NotAllowed {
            detail: format!("no code secret for IQ {iq_id}: sync the code secrets"),
        })?;
        Self::code(entry, now())
    }
}
