//! Simulated locks and radio for the demo and the binding tests (feature `simulator`; the
//! apps ship without it).

mod browser;
mod provisioning;
mod radio;
mod site;

pub use browser::simulated_browser_login;
pub use provisioning::{install_simulated_lock, log_in_with_password, InstalledLock};
pub use radio::SimulatedRadio;
pub use site::{SimulatedSite, SIMULATED_ACTUATION, SIMULATED_SITE_ID};
