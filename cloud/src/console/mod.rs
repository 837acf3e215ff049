//! The admin web console (`/web/console`): what a building manager does on a site, in the
//! browser, served by the cloud itself. Pages are rendered on the server with `maud`
//! (compile-time-checked HTML in Rust); the only script is the import page's progress bar,
//! served from here (the CSP allows no inline script and nothing from elsewhere).
//!
//! Every handler calls the same domain functions as the JSON API, with the visitor's account:
//! the rules of [`crate::roles`] decide, and a page offers only what they allow. Sessions are
//! the web pages' ([`crate::web::session`]): an `HttpOnly`, `SameSite=Strict` cookie
//! (`__Host-` over https); every form post must come from the cloud's own origin and echo the
//! session's token ([`crate::web::csrf`]).
//!
//! | route | what |
//! |---|---|
//! | `GET /web/console` | sign-in form, or the site switcher |
//! | `POST /web/console/login`, `/logout` | sign in, sign out |
//! | `GET /web/console/sites/{site_id}` | the site's overview and its owner |
//! | `GET …/people`, `GET …/people/new`, `POST …/people` | People: list and search, add |
//! | `GET …/people/{user_id}`, `POST …/{rights,pin,remove}` | a person, and what may change |
//! | `GET …/import`, `GET …/import/template`, `POST …/import` | the CSV import |
//! | `GET …/imports/{import_id}`, `GET …/imports/{import_id}/status` | its progress and report |
//! | `GET …/locks` | Locks and IQs |
//! | `GET …/locks/{lock_id}`, `POST …/{settings,locker}` | a lock: state, settings, locker, log |
//! | `POST …/people/{user_id}/tags`, `…/tags/{tag_id}` | a person's tags |
//! | `GET …/api-keys`, `POST …/api-keys`, `POST …/api-keys/{key_id}/revoke` | API keys |
//! | `GET …/connected-apps`, `POST …/connected-apps/{connection_id}/disconnect` | Connected apps |
//! | `GET …/webhooks`, `POST …/webhooks`, `GET …/webhooks/{webhook_id}` | Webhooks |
//! | `POST …/webhooks/{webhook_id}/{replay,delete}` | an endpoint's dead letters, deletion |
//! | `GET …/events`, `GET …/events.csv` | the site's events, filtered, and as a CSV file |
//! | `GET …/groups`, `GET …/groups/new`, `POST …/groups` | Access groups: list, make one |
//! | `GET …/groups/{group_id}`, `POST …/{members,remove-member,edit,delete}` | a group |
//! | `GET …/pods`, `GET …/pods/new`, `POST …/pods` | Pods: the summary, make one |
//! | `GET …/pods/{pod_id}`, `POST …/{members,rename,clean,delete}` | a pod |
//! | `POST …/pods/{pod_id}/guests/{guest_id}/{block,unblock,delete}` | a pod's guests |

mod api_keys;
mod connected_apps;
mod editing_routes;
mod events;
mod groups;
mod guard;
mod home;
mod import;
mod layout;
mod lock;
mod lock_settings;
mod locker;
mod locks;
mod paths;
mod people;
mod person;
mod person_tags;
mod pods;
mod schedule;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

const STYLESHEET: &str = include_str!("assets/console.css");
const IMPORT_SCRIPT: &str = include_str!("assets/import.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    layout::with_headers(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The console's routes.
pub fn routes() -> Router<AppState> {
    let site = "/web/console/sites/{site_id}";
    Router::new()
        .route(paths::HOME, get(home::home))
        .route(paths::LOGIN, post(home::login))
        .route(paths::LOGOUT, post(home::logout))
        .route(
            paths::STYLESHEET,
            get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }),
        )
        .route(
            paths::IMPORT_SCRIPT,
            get(|| async { asset("text/javascript; charset=utf-8", IMPORT_SCRIPT) }),
        )
        .route(site, get(home::overview))
        .route(
            &format!("{site}/people"),
            get(people::list).post(people::add),
        )
        .route(&format!("{site}/people/new"), get(people::new_form))
        .route(&format!("{site}/people/{{user_id}}"), get(person::show))
        .route(
            &format!("{site}/people/{{user_id}}/rights"),
            post(person::save_rights),
        )
        .route(
            &format!("{site}/people/{{user_id}}/pin"),
            post(person::new_pin),
        )
        .route(
            &format!("{site}/people/{{user_id}}/remove"),
            post(person::remove),
        )
        .route(
            &format!("{site}/import"),
            get(import::show)
                .post(import::upload)
                .layer(DefaultBodyLimit::max(import::MAX_FORM_BYTES)),
        )
        .route(&format!("{site}/import/template"), get(import::template))
        .route(&format!("{site}/imports/{{import_id}}"), get(import::job))
        .route(
            &format!("{site}/imports/{{import_id}}/status"),
            get(import::status),
        )
        .route(&format!("{site}/locks"), get(locks::list))
        .route(
            &format!("{site}/api-keys"),
            get(api_keys::list).post(api_keys::create),
        )
        .route(
            &format!("{site}/api-keys/{{key_id}}/revoke"),
            post(api_keys::revoke),
        )
        .route(&format!("{site}/connected-apps"), get(connected_apps::list))
        .route(
            &format!("{site}/connected-apps/{{connection_id}}/disconnect"),
            post(connected_apps::disconnect),
        )
        .route(
            &format!("{site}/webhooks"),
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            &format!("{site}/webhooks/{{webhook_id}}"),
            get(webhooks::show),
        )
        .route(
            &format!("{site}/webhooks/{{webhook_id}}/{{action}}"),
            post(webhooks::action),
        )
        .route(&format!("{site}/events"), get(events::list))
        .route(&format!("{site}/events.csv"), get(events::export))
        .route(
            &format!("{site}/groups"),
            get(groups::list).post(groups::create),
        )
        .route(&format!("{site}/groups/new"), get(groups::new_form))
        .route(&format!("{site}/groups/{{group_id}}"), get(groups::show))
        .route(
            &format!("{site}/groups/{{group_id}}/members"),
            post(groups::add_member),
        )
        .route(
            &format!("{site}/groups/{{group_id}}/remove-member"),
            post(groups::remove_member),
        )
        .route(
            &format!("{site}/groups/{{group_id}}/delete"),
            post(groups::delete),
        )
        .route(&format!("{site}/pods"), get(pods::list).post(pods::create))
        .route(&format!("{site}/pods/{{pod_id}}"), get(pods::show))
        .route(
            &format!("{site}/pods/{{pod_id}}/rename"),
            post(pods::rename),
        )
        .route(&format!("{site}/pods/{{pod_id}}/clean"), post(pods::clean))
        .route(
            &format!("{site}/pods/{{pod_id}}/delete"),
            post(pods::delete),
        )
        .route(
            &format!("{site}/pods/{{pod_id}}/guests/{{guest_id}}/{{action}}"),
            post(pods::guest),
        )
        .merge(editing_routes::routes(site))
}
