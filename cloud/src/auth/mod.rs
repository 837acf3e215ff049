//! Who is calling: accounts (sign-up, argon2id password hashes), OAuth2 authorization code +
//! PKCE for the public app client and for registered apps connecting to a site ("Connect",
//! with a consent page), refresh-token rotation with reuse detection, revocation,
//! login throttling, and the bearer extractor of `/api/v1`.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/v1/accounts` | open sign-up: e-mails a verification code |
//! | `POST /api/v1/accounts/verify` | confirms the address with that code |
//! | `GET /oauth/authorize` | the sign-in page |
//! | `POST /oauth/authorize` | sign in; redirect to the app with a code (a registered app: the consent page, then the code) |
//! | `POST /oauth/token` | code + verifier → tokens; refresh-token rotation; a registered app's code → its site token |
//! | `POST /oauth/revoke` | sign out (revokes the token's family) |

pub mod accounts;
mod authorize;
mod bearer;
mod clients;
mod connect;
mod connect_grants;
mod connect_token;
mod families;
mod grant;
pub(crate) mod html;
pub(crate) mod login;
mod oauth_error;
mod params;
mod pkce;
mod revoke;
pub mod signup;
pub mod throttle;
pub mod tokens;
pub mod verification;

pub use accounts::{hash_password, verify_password};
pub use authorize::CODE_TTL_SECONDS;
pub use bearer::Authenticated;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The account and OAuth2 endpoints.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup::signup))
        .routes(routes!(signup::verify_email))
        .routes(routes!(
            authorize::authorize_form,
            authorize::authorize_submit
        ))
        .routes(routes!(grant::token))
        .routes(routes!(revoke::revoke))
}
