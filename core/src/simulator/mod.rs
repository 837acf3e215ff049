//! Simulated locks and radio for the demo and the binding tests (feature `simulator`; the
//! apps ship without it).

mod browser;
mod radio;
mod site;

pub use browser::simulated_browser_login;
pub use radio::SimulatedRadio;
pub use site::{SimulatedSite, SIMULATED_ACTUATION, SIMULATED_SITE_ID};
