//! The JSON API under `/api/v1`. Every route but `/health` needs a bearer access token.
//!
//! Sites and everything in them are invisible (404) to people who are not members; members
//! whose role does not allow an action get 403 (rules in [`crate::roles`]). Each request's
//! checks and writes run in one transaction, so refused input changes nothing.

pub(crate) mod access;
pub(crate) mod api_keys;
pub(crate) mod codec;
pub(crate) mod connected_apps;
mod devices;
pub(crate) mod events;
pub(crate) mod extract;
pub(crate) mod groups;
mod hardware;
mod health;
pub(crate) mod imports;
mod integrations;
pub(crate) mod iqs;
mod keys;
mod live;
pub(crate) mod lock_settings;
pub(crate) mod lockers;
pub(crate) mod locks;
pub(crate) mod me;
pub(crate) mod people;
mod people_cursor;
pub(crate) mod pods;
pub(crate) mod pods_guests;
mod pods_invitations;
pub(crate) mod pods_members;
pub(crate) mod site_events;
pub(crate) mod site_webhooks;
pub(crate) mod sites;
pub(crate) mod tags;
mod webhooks;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The OpenAPI security schemes the routes name: an OAuth2 access token as a bearer token,
/// and a site API key (`kwk_…`) as a bearer token for the integration routes, whose scopes
/// each route lists.
fn bearer_scheme() -> utoipa::openapi::OpenApi {
    OpenApiBuilder::new()
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
                )
                .security_scheme(
                    "api_key",
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .bearer_format("kwk_ site API key")
                            .description(Some(
                                "A site API key; scopes: people:write, access:write, \
                                 pins:write, events:read, webhooks:manage",
                            ))
                            .build(),
                    ),
                )
                .build(),
        ))
        .build()
}

/// Every API route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(bearer_scheme())
        .routes(routes!(health::health))
        .routes(routes!(me::me, me::update_me))
        .routes(routes!(live::live))
        .routes(routes!(live::renew))
        .routes(routes!(sites::create_site))
        .routes(routes!(sites::get_site))
        .routes(routes!(people::list_people, people::add_person))
        .routes(routes!(people::update_person, people::remove_person))
        .routes(routes!(imports::import_template))
        .routes(routes!(imports::start_import))
        .routes(routes!(imports::get_import))
        .routes(routes!(locks::list_locks, locks::create_lock))
        .routes(routes!(locks::attach_iq))
        .routes(routes!(
            lock_settings::get_settings,
            lock_settings::update_settings
        ))
        .routes(routes!(lock_settings::offline_storage))
        .routes(routes!(lockers::set_locker))
        .routes(routes!(lockers::list_lockers))
        .routes(routes!(tags::list_tags, tags::register_tag))
        .routes(routes!(api_keys::create_key, api_keys::list_keys))
        .routes(routes!(api_keys::revoke_key))
        .routes(routes!(connected_apps::list_connected_apps))
        .routes(routes!(connected_apps::disconnect_app))
        .routes(routes!(
            integrations::upsert_person,
            integrations::remove_person
        ))
        .routes(routes!(
            integrations::grant_group,
            integrations::revoke_group
        ))
        .routes(routes!(integrations::ensure_pin))
        .routes(routes!(integrations::resync))
        .routes(routes!(
            integrations::put_booking,
            integrations::get_booking,
            integrations::cancel_booking
        ))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::delete_webhook))
        .routes(routes!(webhooks::dead_letters))
        .routes(routes!(webhooks::replay))
        .routes(routes!(tags::update_tag, tags::revoke_tag))
        .routes(routes!(iqs::list_iqs, iqs::create_iq))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(groups::set_members))
        .routes(routes!(groups::delete_group, groups::update_group))
        .routes(routes!(devices::register_device, devices::list_devices))
        .routes(routes!(devices::delete_device))
        .routes(routes!(keys::sync_keys))
        .routes(routes!(events::upload_events))
        .routes(routes!(events::list_events))
        .merge(crate::remote::routes())
        .routes(routes!(pods::list_pods, pods::create_pod))
        .routes(routes!(pods::get_pod, pods::update_pod, pods::delete_pod))
        .routes(routes!(pods::set_pod_locks))
        .routes(routes!(pods::clean_pod))
        .routes(routes!(pods_members::add_member))
        .routes(routes!(pods_members::remove_member))
        .routes(routes!(pods_guests::list_guests, pods_guests::invite_guest))
        .routes(routes!(pods_guests::block_guest))
        .routes(routes!(pods_guests::unblock_guest))
        .routes(routes!(pods_guests::delete_guest))
        .routes(routes!(pods_invitations::redeem_invitation))
        .routes(routes!(pods_invitations::my_pods))
}
