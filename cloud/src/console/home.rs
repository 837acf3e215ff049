//! The console's front door: the sign-in form, the site switcher (every site the visitor is
//! on, with their role), and a site's overview (its details and its owner's).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::{ErrorCode, PeopleQuery, PersonView, Role, SiteView};
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{on_site, see_other, signed_in, WithToken};
use super::layout::{error_alert, error_page, page, role_label, sign_out, Section};
use super::paths;
use crate::api::me::me_response;
use crate::api::people;
use crate::api::sites::site_view;
use crate::error::{set_retry_after, ApiError};
use crate::roles::{may_manage_site, may_view_people};
use crate::web::csrf::{new_login_token, same_origin, tokens_match, LOGIN_FIELD};
use crate::web::session;
use crate::web::sign_in::{sign_in, LoginForm, Refusal};
use crate::AppState;

/// The sign-out form as posted.
#[derive(Deserialize)]
pub(super) struct LogoutForm {
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

impl WithToken for LogoutForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The sign-in form, with a fresh sign-in token (hidden field and cookie) and, after a failed
/// try, why it failed.
fn sign_in_page(
    state: &AppState,
    refusal: Option<(ErrorCode, &str)>,
    status: StatusCode,
) -> Response {
    let token = match new_login_token(state) {
        Ok(token) => token,
        Err(error) => return error_page(&error, None),
    };
    let body = html! {
        p { "Sign in with the e-mail and password of your Keyway account." }
        form method="post" action=(paths::LOGIN) {
            @if let Some((code, message)) = refusal {
                (error_alert(code, message, Some("sign-in-error")))
            }
            label for="email" { "E-mail" }
            input #email type="email" name="email" autocomplete="username" required
                aria-describedby=[refusal.map(|_| "sign-in-error")];
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password"
                required;
            input type="hidden" name=(LOGIN_FIELD) value=(token.value);
            button type="submit" { "Sign in" }
        }
    };
    let mut response = page(status, "Sign in", None, body);
    if let Ok(value) = HeaderValue::from_str(&token.set_cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /web/console`: the sign-in form, or the site switcher once signed in.
pub(super) async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return sign_in_page(&state, None, StatusCode::OK),
        Err(response) => return response,
    };
    let user_id = session.user_id;
    let me = match state.store.run(move |db| me_response(db, user_id)).await {
        Ok(me) => me,
        Err(error) => return error_page(&error, None),
    };
    let body = html! {
        p { "Signed in as " strong { (me.user.name) } " (" (me.user.email) ")." }
        h2 { "Your sites" }
        @if me.sites.is_empty() {
            p { "You are on no site yet." }
        } @else {
            ul.sites {
                @for site in &me.sites {
                    li {
                        a href=(paths::site(site.site_id)) { (site.site_name) }
                        " — " (role_label(site.role))
                    }
                }
            }
        }
        (sign_out(&session.csrf))
    };
    page(StatusCode::OK, "Sites", None, body)
}

/// `POST /web/console/login`: signs in, then to the site switcher.
pub(super) async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    match sign_in(&state, &extensions, &headers, form).await {
        Ok(cookies) => {
            let mut response = see_other(paths::HOME);
            for value in cookies.iter().filter_map(|c| HeaderValue::from_str(c).ok()) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(Refusal::Shown {
            code,
            message,
            status,
            retry_after,
        }) => {
            let mut response = sign_in_page(&state, Some((code, &message)), status);
            if let Some(seconds) = retry_after {
                set_retry_after(&mut response, seconds);
            }
            response
        }
        Err(Refusal::Internal(error)) => error_page(&error, None),
    }
}

/// `POST /web/console/logout`: ends the session (only with its own token, from this origin).
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let valid = match (session::current(&state, &headers).await, form) {
        (Ok(Some(session)), Ok(Form(form))) => {
            same_origin(&state, &headers) && tokens_match(&form.csrf, &session.csrf)
        }
        _ => false,
    };
    if !valid {
        return error_page(
            &ApiError::Forbidden("This form is stale: open the page again.".into()),
            None,
        );
    }
    if let Err(error) = session::end(&state, &headers).await {
        return error_page(&error, None);
    }
    let mut response = see_other(paths::HOME);
    if let Ok(value) = HeaderValue::from_str(&session::cleared(&state)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The owner's details, as the site's people list gives them.
fn owner_details(owner: Option<&PersonView>) -> Markup {
    html! {
        h2 { "Owner" }
        @if let Some(owner) = owner {
            dl {
                dt { "Name" } dd { (owner.name) }
                dt { "E-mail" } dd { (owner.email.as_deref().unwrap_or("—")) }
                dt { "Phone" } dd { (owner.phone.as_deref().unwrap_or("—")) }
            }
        }
    }
}

fn utc_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '−' } else { '+' };
    let minutes = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `GET /web/console/sites/{site_id}`: the site's details, the owner's, and what the
/// visitor's role lets them do here.
pub(super) async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::Overview);
    let site: SiteView = match state.store.run(move |db| site_view(db, site_id)).await {
        Ok(site) => site,
        Err(error) => return error_page(&error, Some(&nav)),
    };
    // The owner and the head count come from the people list itself (for those who may
    // see it): one person, filtered by role.
    let owner_page = if may_view_people(visitor.role()) {
        let query = PeopleQuery {
            limit: Some(1),
            role: Some(Role::Owner),
            ..Default::default()
        };
        let everyone = PeopleQuery {
            limit: Some(1),
            ..Default::default()
        };
        let user_id = visitor.user_id();
        let owner = people::list(&state, user_id, site_id, query).await;
        let all = people::list(&state, user_id, site_id, everyone).await;
        match (owner, all) {
            (Ok(owner), Ok(all)) => Some((owner.people.into_iter().next(), all.total)),
            (Err(error), _) | (_, Err(error)) => return error_page(&error, Some(&nav)),
        }
    } else {
        None
    };
    let body = html! {
        dl {
            dt { "Site" } dd { (site.name) }
            dt { "Time zone" } dd { (utc_offset(site.utc_offset_minutes)) }
            dt { "Your role" } dd { (role_label(visitor.role())) }
            @if let Some((_, total)) = &owner_page {
                dt { "People" } dd { a href=(paths::people(site_id)) { (total) } }
            }
        }
        @if let Some((owner, _)) = &owner_page {
            (owner_details(owner.as_ref()))
        } @else {
            p { "Your role on this site manages nobody: open doors from the Keyway app, or "
                a href=(paths::REMOTE_OPENING) { "remotely with the app's code" } "." }
        }
        @if may_manage_site(visitor.role()) {
            p { a href=(paths::pods(site_id)) { "Pods" } " — the site's pods and their guests." }
        }
    };
    page(StatusCode::OK, &site.name, Some(&nav), body)
}
