//! The web remote-opening page (manual 000: "to make use of Remote Opening on a Web App, you
//! require the Code"). A signed-in person picks a lock and types the 5-character code their
//! app shows; the cloud checks it (previous, current or next step; each code once; wrong
//! codes throttled), the IQ checks it again, and the lock decides.
//!
//! | route | what |
//! |---|---|
//! | `GET /web/remote` | the sign-in form, or the lock picker once signed in |
//! | `POST /web/login` | sign in (e-mail and password) |
//! | `POST /web/remote` | open a lock with the code |
//! | `POST /web/logout` | sign out |
//! | `GET /web/verify` | the page a verification e-mail links to |
//! | `POST /web/verify` | confirm an address with its code and the sign-up's password |
//!
//! Every form post must come from the public URL's origin and carry its form token
//! ([`csrf`]); cookies are `Secure` `__Host-` cookies over https ([`session`]).

pub mod csrf;
mod pages;
pub mod session;
pub(crate) mod sign_in;
mod verify;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The web page's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pages::show, pages::open))
        .routes(routes!(pages::login))
        .routes(routes!(pages::logout))
        .routes(routes!(verify::show, verify::submit))
}
