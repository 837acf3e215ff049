//! The console's page shell: a skip link, the site's navigation, one `main`, the stylesheet
//! and script served by the cloud itself (the CSP allows nothing else: no inline script or
//! style, nothing from elsewhere), and the alerts that carry their machine code.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use keyway_api::{ErrorCode, Role};
use maud::{html, Markup, DOCTYPE};

use super::paths;
use crate::error::ApiError;
use crate::roles::{may_manage_site, may_view_events, may_view_people};

/// What a console page may load: only the cloud's own stylesheet, script and calls.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
    script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The sections of a site's pages, for the navigation's current entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    /// The site overview.
    Overview,
    /// People, a person, adding one.
    People,
    /// The CSV import.
    Import,
    /// Pods.
    Pods,
    /// Access groups.
    Groups,
    /// Locks and IQs.
    Locks,
    /// Events.
    Events,
    /// API keys of connected systems.
    ApiKeys,
    /// Webhook endpoints.
    Webhooks,
    /// Apps connected through OAuth.
    ConnectedApps,
}

/// Who is looking at which site: what the navigation offers follows the role.
#[derive(Debug, Clone)]
pub(super) struct SiteNav<'a> {
    /// The site.
    pub(super) site_id: u32,
    /// Its name.
    pub(super) site_name: &'a str,
    /// The visitor's role there.
    pub(super) role: Role,
    /// The session's form token (for the sign-out form).
    pub(super) csrf: &'a str,
    /// The section shown.
    pub(super) current: Section,
}

fn nav_link(href: &str, text: &str, current: bool) -> Markup {
    html! {
        li { a href=(href) aria-current=[current.then_some("page")] { (text) } }
    }
}

/// The sign-out form, on every signed-in page.
pub(super) fn sign_out(csrf: &str) -> Markup {
    html! {
        form.inline method="post" action=(paths::LOGOUT) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { "Sign out" }
        }
    }
}

fn site_nav(nav: &SiteNav<'_>) -> Markup {
    let site_id = nav.site_id;
    html! {
        nav aria-label="Site" {
            p.site { (nav.site_name) " · " (role_label(nav.role)) }
            ul {
                (nav_link(&paths::site(site_id), "Overview", nav.current == Section::Overview))
                @if may_view_people(nav.role) {
                    (nav_link(&paths::people(site_id), "People", nav.current == Section::People))
                    (nav_link(&paths::import(site_id), "Import CSV", nav.current == Section::Import))
                }
                @if may_view_events(nav.role) {
                    (nav_link(&paths::events(site_id), "Events", nav.current == Section::Events))
                }
                @if may_manage_site(nav.role) {
                    (nav_link(&paths::groups(site_id), "Access groups", nav.current == Section::Groups))
                    (nav_link(&paths::locks(site_id), "Locks and IQs", nav.current == Section::Locks))
                    (nav_link(&paths::pods(site_id), "Pods", nav.current == Section::Pods))
                    (nav_link(&paths::api_keys(site_id), "API keys", nav.current == Section::ApiKeys))
                    (nav_link(&paths::webhooks(site_id), "Webhooks", nav.current == Section::Webhooks))
                    (nav_link(&paths::connected_apps(site_id), "Connected apps", nav.current == Section::ConnectedApps))
                }
                (nav_link(paths::REMOTE_OPENING, "Remote opening", false))
                (nav_link(paths::HOME, "All sites", false))
            }
            (sign_out(nav.csrf))
        }
    }
}

/// A whole page with `status`, its `<title>` and `<h1>` from `title`.
pub(super) fn page(
    status: StatusCode,
    title: &str,
    nav: Option<&SiteNav<'_>>,
    body: Markup,
) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Keyway console" }
                link rel="stylesheet" href=(paths::STYLESHEET);
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    p.brand { a href=(paths::HOME) { "Keyway console" } }
                    @if let Some(nav) = nav { (site_nav(nav)) }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    with_headers((status, Html(markup.into_string())).into_response())
}

/// The console's security headers on `response`.
pub(super) fn with_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // Same-origin, so browsers send the forms' real `Origin` rather than `null`.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// An error message that carries its machine code in `data-error` (tests and scripts read
/// the code, never the words). `id` lets a field point at it with `aria-describedby`.
pub(super) fn error_alert(code: ErrorCode, message: &str, id: Option<&str>) -> Markup {
    html! {
        p.error id=[id] role="alert" data-error=(code.as_str()) { (message) }
    }
}

/// A confirmation (`data-done` carries what was done, for tests).
pub(super) fn done_alert(what: &str, message: &str) -> Markup {
    html! { p.ok role="status" data-done=(what) { (message) } }
}

/// What a visitor may read of `error`: its own words, except for a failure on our side,
/// whose details go to the log only.
pub(super) fn public_message(error: &ApiError) -> String {
    match error {
        ApiError::Internal(detail) => {
            tracing::error!(%detail, "console page failed");
            "Something went wrong on our side. Please try again.".to_string()
        }
        ApiError::RateLimited(seconds) => crate::auth::html::try_again_in(*seconds),
        other => other.to_string(),
    }
}

/// A page that shows only `error` (with its status and code), and the navigation if any.
pub(super) fn error_page(error: &ApiError, nav: Option<&SiteNav<'_>>) -> Response {
    let body = error_alert(error.code(), &public_message(error), None);
    let title = match error.status() {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::UNAUTHORIZED => "Sign in first",
        _ => "Something went wrong",
    };
    let body = html! { (body) p { a href=(paths::HOME) { "Back to your sites" } } };
    page(error.status(), title, nav, body)
}

/// How a role reads on the pages.
pub(super) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::SuperUser => "Super user",
        Role::User => "User",
    }
}

/// `true` as "Yes", `false` as "No".
pub(super) fn yes_no(value: bool) -> &'static str {
    if value {
        "Yes"
    } else {
        "No"
    }
}

/// The hidden field with the session's form token.
pub(super) fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}
