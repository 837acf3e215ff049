//! The IQs' side of the cloud: the WebSocket every IQ keeps open, its login (a fresh nonce
//! signed with the IQ's registered key), the registry of connected IQs through which remote
//! commands are relayed, and the configuration each IQ is sent (IQ-code secrets, keypad
//! tables).
//!
//! | route | what |
//! |---|---|
//! | `GET /iq/v1/connect` | the IQ's WebSocket (protocol in `keyway_protocol::iq::messages`) |
//!
//! A command for an IQ that is not connected fails at once with `iq_offline`: nothing is
//! queued, so a door never opens later than the person asked.

pub mod config;
pub mod registry;
mod socket;

pub use config::push_site_config;
pub use registry::{IqRegistry, RelayError};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The IQ endpoint.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(socket::connect))
}
