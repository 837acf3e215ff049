//! Simulated locks, radio, IQ and biometric sensor for the demo and the binding tests (feature `simulator`; the
//! apps ship without it).

mod biometric;
mod browser;
mod iq;
mod locks;
mod provisioning;
mod radio;
mod site;
mod web;

pub use biometric::{simulated_biometric, SimulatedBiometric};
pub use browser::simulated_browser_login;
pub use iq::{
    install_simulated_iq, install_simulated_iq_with_firmware, install_simulated_remote_site,
    SimulatedRemoteSite,
};
pub use locks::{install_simulated_locks, SimulatedLocks};
pub use provisioning::{
    install_instant_locks, install_simulated_lock, log_in_with_password, InstalledLock,
};
pub use radio::SimulatedRadio;
pub use site::{SimulatedSite, SIMULATED_ACTUATION, SIMULATED_SITE_ID};
pub use web::{SimulatedWebBrowser, WebAnswer};
