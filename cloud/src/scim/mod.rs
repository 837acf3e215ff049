//! SCIM 2.0 provisioning at `/scim/v2` (RFC 7643, RFC 7644; docs/scim.md): an identity
//! provider (Okta, Entra ID) keeps a site's people and access groups in step with its
//! directory, calling with a site API key.
//!
//! - [`extract`]: the key (`people:write`; group changes also `access:write`), ids and bodies;
//! - [`error`]: the SCIM error schema, with Keyway's machine code in an extension;
//! - [`resources`]: Users, Groups and ListResponses as JSON;
//! - [`filter`]: `attribute eq "value"` filters and paging;
//! - [`patch`]: `POST`/`PUT` bodies and `PATCH` operations applied to a draft;
//! - [`users`], [`groups`]: the rules and the store: people (suspension through `active`,
//!   the owner and admins untouchable) and access groups;
//! - [`discovery`]: the service provider configuration, resource types and schemas;
//! - [`routes`]: the HTTP routes.

pub mod discovery;
pub mod error;
pub mod extract;
pub mod filter;
pub mod groups;
pub mod patch;
pub mod resources;
mod routes;
pub mod users;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The SCIM routes, with their OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::service_provider_config))
        .routes(routes!(routes::resource_types))
        .routes(routes!(routes::schemas))
        .routes(routes!(routes::list_users, routes::create_user))
        .routes(routes!(
            routes::get_user,
            routes::replace_user,
            routes::patch_user,
            routes::delete_user
        ))
        .routes(routes!(routes::list_groups, routes::create_group))
        .routes(routes!(
            routes::get_group,
            routes::replace_group,
            routes::patch_group,
            routes::delete_group
        ))
        // Anything else under the base (`/Bulk`, `/Me`, a typo) is a SCIM 404, not a bare one.
        .route("/scim/v2/{*rest}", axum::routing::any(routes::unknown))
}
