//! Registering this device: its device public key is bound to the account, and digital keys
//! are issued for it.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyway_api::endpoints::RegisterDevice;
pub use keyway_api::DeviceView;
use keyway_api::RegisterDeviceRequest;

use crate::client::Context;
use crate::runtime::on_core_runtime;
use crate::{logging, KeywayError};

const DEVICE_ID: &str = "device_id";

/// Device registration.
#[derive(uniffi::Object)]
pub struct DevicesClient {
    context: Arc<Context>,
}

impl std::fmt::Debug for DevicesClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevicesClient(..)")
    }
}

impl DevicesClient {
    pub(crate) fn new(context: Arc<Context>) -> Self {
        Self { context }
    }
}

/// The id of this device at the cloud, or an error telling the app to register it.
pub(crate) async fn registered_device_id(context: &Context) -> Result<u32, KeywayError> {
    context
        .store
        .meta(DEVICE_ID)
        .await?
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| KeywayError::RegisterDevice {
            detail: "this device is not registered yet".into(),
        })
}

#[uniffi::export]
impl DevicesClient {
    /// Registers this device's key with the account (again is harmless).
    pub async fn register(&self) -> Result<DeviceView, KeywayError> {
        let context = Arc::clone(&self.context);
        tracing::info!(
            platform = self.context.config.platform.as_str(),
            "registering this device"
        );
        on_core_runtime(async move {
            let public_key = context.signer.public_key().await?;
            let request = RegisterDeviceRequest {
                public_key: STANDARD.encode(public_key),
                name: context.config.device_name.clone(),
                platform: context.config.platform.clone(),
            };
            let device = context.call(&RegisterDevice {}, &request).await?;
            context
                .store
                .set_meta(DEVICE_ID, Some(device.device_id.to_string()))
                .await?;
            tracing::info!(device_id = device.device_id, "device registered");
            Ok(device)
        })
        .await
        .inspect_err(|error| logging::error("device registration", error))
    }

    /// This device's id, if registered.
    pub async fn current_device_id(&self) -> Result<Option<u32>, KeywayError> {
        let context = Arc::clone(&self.context);
        on_core_runtime(async move {
            Ok(context
                .store
                .meta(DEVICE_ID)
                .await?
                .and_then(|id| id.parse().ok()))
        })
        .await
    }
}
