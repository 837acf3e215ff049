//! Remote opening through the IQ (manual 000: remote opening, the Code, PIN, remote office
//! mode), and keypad PINs.
//!
//! | route | what |
//! |---|---|
//! | `GET/PUT /api/v1/me/remote-pin` | the app PIN: status; set it with the account password |
//! | `PUT /api/v1/devices/{device_id}/biometric-key` | register the biometric-bound key |
//! | `POST /api/v1/remote/challenges` | a one-time challenge for the biometric key |
//! | `POST /api/v1/sites/{site_id}/locks/{lock_id}/remote` | open / remote office mode |
//! | `GET /api/v1/me/remote-locks` | the locks the caller may open remotely |
//! | `GET /api/v1/devices/{device_id}/iq-code-secrets` | the IQ-code secrets for the app |
//! | `GET/POST /api/v1/sites/{site_id}/people/{user_id}/keypad-pin` | keypad PIN |
//!
//! The web page that opens with the IQ code is in [`crate::web`].

pub mod biometric;
pub mod code;
pub mod error;
pub mod keypad;
pub mod locks;
pub mod open;
pub mod pin;
pub mod rights;

pub use error::{RemoteError, RemoteResult};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The remote-opening routes (bearer-authenticated, under `/api/v1`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pin::pin_status, pin::set_pin))
        .routes(routes!(biometric::register_key))
        .routes(routes!(biometric::create_challenge))
        .routes(routes!(open::remote_open))
        .routes(routes!(open::emergency_open))
        .routes(routes!(locks::list))
        .routes(routes!(code::device_secrets))
        .routes(routes!(keypad::pin_status, keypad::generate_pin))
}
