//! The Connected apps page (owner and admins): the apps connected to the site through
//! "Connect", with what each may do, who connected it and when, and a *Disconnect* button
//! (its token stops at once, its webhook endpoints too). The work is the JSON API's own
//! ([`crate::api::connected_apps`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::integrations::ConnectedAppView;
use maud::{html, Markup};

use super::api_keys::{scopes_list, utc_time, Done};
use super::guard::{on_site, posted, see_other, OnSite};
use super::layout::{csrf_field, done_alert, error_page, page, Section};
use super::paths;
use super::schedule::Pairs;
use crate::api::connected_apps;
use crate::AppState;

fn apps_page(visitor: &OnSite, apps: &[ConnectedAppView], done: Option<Markup>) -> Response {
    let site_id = visitor.site_id();
    let csrf = &visitor.session.csrf;
    let body = html! {
        @if let Some(done) = done { (done) }
        p.hint { "Apps connect to this site when its owner or an admin presses Connect in \
            the app and allows it here in Keyway. Disconnecting stops the app at once." }
        @if apps.is_empty() { p { "No app is connected." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Connected apps" { table.keys {
                thead { tr { th scope="col" { "App" } th scope="col" { "May" }
                    th scope="col" { "Connected by" } th scope="col" { "Connected" }
                    th scope="col" { "Disconnect" } } }
                tbody { @for app in apps {
                    tr data-connection=(app.connection_id) {
                        td { (app.app_name) }
                        td { (scopes_list(&app.scopes)) }
                        td { (app.connected_by_name.as_deref().unwrap_or("—")) }
                        td { (utc_time(Some(app.connected_at))) }
                        td {
                            form.inline method="post" action=(paths::connected_app_disconnect(site_id, app.connection_id)) {
                                (csrf_field(csrf))
                                button.danger type="submit" aria-label=(format!("Disconnect {}", app.app_name)) { "Disconnect" }
                            }
                        }
                    }
                } }
            } }
        }
    };
    page(
        StatusCode::OK,
        "Connected apps",
        Some(&visitor.nav(Section::ConnectedApps)),
        body,
    )
}

/// `GET /web/console/sites/{site_id}/connected-apps`.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    Query(done): Query<Done>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let done = (done.done == "disconnected").then(|| {
        done_alert(
            "disconnected",
            "The app is disconnected: its next call is refused.",
        )
    });
    match connected_apps::site_apps(&state, visitor.user_id(), site_id).await {
        Ok(apps) => apps_page(&visitor, &apps, done),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::ConnectedApps))),
    }
}

/// `POST /web/console/sites/{site_id}/connected-apps/{connection_id}/disconnect`.
pub(super) async fn disconnect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, connection_id)): Path<(u32, u32)>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match connected_apps::disconnect(&state, visitor.user_id(), site_id, connection_id).await {
        Ok(_) => see_other(&format!(
            "{}?done=disconnected",
            paths::connected_apps(site_id)
        )),
        Err(error) => error_page(&error, Some(&visitor.nav(Section::ConnectedApps))),
    }
}
