//! Who is calling: OAuth2 authorization code + PKCE for the public app client, refresh-token
//! rotation, revocation, password hashing and login throttling.

mod bearer;
pub mod tokens;

pub use bearer::Authenticated;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// The OAuth2 endpoints.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
