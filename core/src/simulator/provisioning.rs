//! Setting up simulated hardware and people against a real cloud, for the demo and the
//! tests: a lock made at the "factory", registered by an admin and provisioned with the site
//! authority key; and a login through the cloud's real form.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyway_api::APP_REDIRECT_URI;
use keyway_protocol::{PublicKey, SigningKey};
use keyway_sim::{LockConfig, SimulatedLock};

use super::browser::simulated_browser_login;
use crate::{Keyway, KeywayError};

/// A simulated lock installed on a site.
#[derive(Debug, Clone)]
pub struct InstalledLock {
    /// The id the cloud assigned (and the lock advertises).
    pub lock_id: u32,
    /// Its name at the cloud.
    pub name: String,
    /// The lock itself.
    pub lock: Arc<Mutex<SimulatedLock>>,
}

/// Makes a lock key, registers the lock with the cloud as `admin`, and provisions the lock
/// with the id the cloud gave it and the site's authority key.
pub async fn install_simulated_lock(
    admin: &Keyway,
    site_id: u32,
    authority_public_key: &[u8],
    name: &str,
    utc_offset_minutes: i32,
    actuation: Duration,
) -> Result<InstalledLock, KeywayError> {
    let authority_key = PublicKey::from_bytes(authority_public_key)?;
    let (factory_key, _) = SigningKey::generate(&ring::rand::SystemRandom::new())?;
    let public_key = factory_key.public_key().as_bytes().to_vec();
    let lock_id = admin
        .admin()
        .add_lock(site_id, name.to_string(), public_key)
        .await?;
    let config = LockConfig {
        lock_id,
        site_id,
        authority_key,
        utc_offset_minutes,
        actuation,
        paired_with_iq: false,
        offline_capacity: keyway_sim::lock::DEFAULT_OFFLINE_CAPACITY,
    };
    let lock = SimulatedLock::with_key(config, factory_key).map_err(KeywayError::internal)?;
    Ok(InstalledLock {
        lock_id,
        name: name.to_string(),
        lock: Arc::new(Mutex::new(lock)),
    })
}

/// Installs one motorless, UTC lock per name (binding tests and demos).
pub async fn install_instant_locks(
    admin: &Keyway,
    site_id: u32,
    authority_public_key: &[u8],
    names: &[String],
) -> Result<Vec<InstalledLock>, KeywayError> {
    let mut locks = Vec::with_capacity(names.len());
    for name in names {
        let lock = install_simulated_lock(
            admin,
            site_id,
            authority_public_key,
            name,
            0,
            Duration::ZERO,
        );
        locks.push(lock.await?);
    }
    Ok(locks)
}

/// Logs `keyway` in as a person would: the authorize page in a (simulated) browser, e-mail and
/// password typed into the form, and the redirect handed back to the core (PKCE throughout).
#[uniffi::export]
pub async fn log_in_with_password(
    keyway: Arc<Keyway>,
    email: String,
    password: String,
) -> Result<(), KeywayError> {
    let request = keyway.auth().start_login(APP_REDIRECT_URI.to_string())?;
    let redirect = simulated_browser_login(request.authorize_url, email, password).await?;
    keyway.auth().finish_login(redirect).await
}
