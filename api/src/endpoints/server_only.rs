//! The `/api/v1` routes the cloud serves that no client of this repository calls: the cloud's
//! tests use them, and a web console or a script may. Listed so that the cloud's test can tell
//! a route nobody needs a client for from one somebody forgot.

use super::route::Method;

/// A route of the cloud that is not in [`super::ALL`], and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOnlyRoute {
    /// Its method.
    pub method: Method,
    /// Its path template.
    pub path: &'static str,
    /// What it is for.
    pub purpose: &'static str,
}

const fn route(method: Method, path: &'static str, purpose: &'static str) -> ServerOnlyRoute {
    ServerOnlyRoute {
        method,
        path,
        purpose,
    }
}

/// Every `/api/v1` route of the cloud that no client calls.
pub const SERVER_ONLY: &[ServerOnlyRoute] = &[
    route(
        Method::Get,
        "/api/v1/me",
        "who a token belongs to, and their sites",
    ),
    route(
        Method::Patch,
        "/api/v1/me",
        "a person's own name and phone (no app screen for it yet)",
    ),
    route(Method::Get, "/api/v1/sites/{site_id}", "one site"),
    route(
        Method::Post,
        "/api/v1/sites/{site_id}/api-keys",
        "an API key for a connected system (admin console)",
    ),
    route(
        Method::Get,
        "/api/v1/sites/{site_id}/api-keys",
        "a site's API keys (admin console)",
    ),
    route(
        Method::Delete,
        "/api/v1/sites/{site_id}/api-keys/{key_id}",
        "revoking an API key (admin console)",
    ),
    route(
        Method::Get,
        "/api/v1/sites/{site_id}/connected-apps",
        "the apps connected to a site (admin console)",
    ),
    route(
        Method::Delete,
        "/api/v1/sites/{site_id}/connected-apps/{connection_id}",
        "disconnecting an app (admin console)",
    ),
    route(
        Method::Put,
        "/api/v1/integrations/people/{external_id}",
        "a connected system adds or updates a person (API key)",
    ),
    route(
        Method::Delete,
        "/api/v1/integrations/people/{external_id}",
        "a connected system removes a person (API key)",
    ),
    route(
        Method::Put,
        "/api/v1/integrations/people/{external_id}/access-groups/{group_id}",
        "a connected system grants an access group (API key)",
    ),
    route(
        Method::Delete,
        "/api/v1/integrations/people/{external_id}/access-groups/{group_id}",
        "a connected system revokes an access group (API key)",
    ),
    route(
        Method::Post,
        "/api/v1/integrations/people/{external_id}/keypad-pin",
        "a connected system gives a person their keypad PIN (API key)",
    ),
    route(
        Method::Post,
        "/api/v1/integrations/resync",
        "a connected system's full list reconciled (API key)",
    ),
    route(
        Method::Put,
        "/api/v1/integrations/bookings/{booking_id}",
        "a connected system makes or moves a room or desk booking (API key)",
    ),
    route(
        Method::Get,
        "/api/v1/integrations/bookings/{booking_id}",
        "a connected system reads a booking (API key)",
    ),
    route(
        Method::Delete,
        "/api/v1/integrations/bookings/{booking_id}",
        "a connected system cancels a booking (API key)",
    ),
    route(
        Method::Post,
        "/api/v1/integrations/webhooks",
        "a connected system's webhook endpoint (API key)",
    ),
    route(
        Method::Get,
        "/api/v1/integrations/webhooks",
        "a connected system's webhook endpoints (API key)",
    ),
    route(
        Method::Delete,
        "/api/v1/integrations/webhooks/{webhook_id}",
        "deleting a webhook endpoint (API key)",
    ),
    route(
        Method::Get,
        "/api/v1/integrations/webhooks/{webhook_id}/dead-letters",
        "a webhook endpoint's dead letters (API key)",
    ),
    route(
        Method::Post,
        "/api/v1/integrations/webhooks/{webhook_id}/replay",
        "replaying a webhook endpoint's dead letters (API key)",
    ),
    route(Method::Get, "/api/v1/sites/{site_id}/iqs", "a site's IQs"),
    route(
        Method::Get,
        "/api/v1/sites/{site_id}/access-groups",
        "a site's access groups",
    ),
    route(
        Method::Patch,
        "/api/v1/sites/{site_id}/access-groups/{group_id}",
        "changing an access group's name, locks or schedule",
    ),
    route(
        Method::Delete,
        "/api/v1/sites/{site_id}/access-groups/{group_id}",
        "deleting an access group",
    ),
    route(
        Method::Get,
        "/api/v1/sites/{site_id}/locks/{lock_id}/events",
        "a lock's event log",
    ),
    route(
        Method::Get,
        "/api/v1/sites/{site_id}/people/{user_id}/keypad-pin",
        "whether a person has a keypad PIN",
    ),
    route(Method::Get, "/api/v1/devices", "the caller's devices"),
    route(
        Method::Delete,
        "/api/v1/devices/{device_id}",
        "removing a device",
    ),
];
