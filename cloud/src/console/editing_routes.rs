//! The routes of the pages that look after locks, tags, access groups and pods beyond their
//! lists: a lock's page and its forms, a person's tag forms, changing an access group, making
//! a pod and adding its members (see [`super::routes`] for the rest).

use axum::routing::{get, post};
use axum::Router;

use super::{groups, lock, lock_settings, locker, person_tags, pods};
use crate::AppState;

/// These routes, under `site` (`/web/console/sites/{site_id}`).
pub(super) fn routes(site: &str) -> Router<AppState> {
    Router::new()
        .route(&format!("{site}/locks/{{lock_id}}"), get(lock::show))
        .route(
            &format!("{site}/locks/{{lock_id}}/settings"),
            post(lock_settings::save),
        )
        .route(
            &format!("{site}/locks/{{lock_id}}/locker"),
            post(locker::save),
        )
        .route(
            &format!("{site}/people/{{user_id}}/tags"),
            post(person_tags::assign),
        )
        .route(
            &format!("{site}/people/{{user_id}}/tags/{{tag_id}}"),
            post(person_tags::change),
        )
        .route(
            &format!("{site}/groups/{{group_id}}/edit"),
            post(groups::edit),
        )
        .route(&format!("{site}/pods/new"), get(pods::new_form))
        .route(
            &format!("{site}/pods/{{pod_id}}/members"),
            post(pods::add_member),
        )
}
