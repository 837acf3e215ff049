//! "Connect" (manual 004) at `/oauth/authorize`: a registered app (`client_id=kwa_…`) asks
//! for integration scopes; the person signs in on the usual page, then sees a consent page:
//! the app's name, each scope in words, a picker of the sites where they are the owner or
//! an admin, and *Allow* / *Deny*.
//!
//! The consent form carries a single-use ticket (10 minutes) bound to the signed-in person
//! and to the whole request (client, redirect URI, scopes, PKCE challenge, state), stored
//! hashed, and must come from the cloud's own origin (RFC 6749 §10.12). *Deny* sends the
//! person back with `error=access_denied`; *Allow* records the connection and sends them
//! back with a single-use code (60 s). A site the person does not administer is refused.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use keyway_api::integrations::Scope;
use keyway_api::ErrorCode;

use super::authorize::{hidden, redirect_to, request_fields, ValidRequest};
use super::connect_grants::{issue_code, issue_ticket, spend_ticket, ConsentBinding};
use super::html::{error_alert, escape, internal_error_page, page};
use super::params::Params;
use crate::api::access::role_on_site;
use crate::api::me::me_response;
use crate::error::ApiError;
use crate::integrations::connections::{self, RegisteredApp, APP_CLIENT_PREFIX};
use crate::integrations::keys::{scope_text, scopes_text};
use crate::roles::may_manage_site;
use crate::web::csrf::same_origin;
use crate::AppState;

/// A registered app's authorization request: the app and the scopes it asks for.
#[derive(Debug, Clone)]
pub(super) struct AppRequest {
    /// The app.
    pub(super) app: RegisteredApp,
    /// What it asks for (at least one).
    pub(super) scopes: Vec<Scope>,
}

/// The registered app the request's `client_id` names, if it names a live one.
pub(super) async fn app_for(
    state: &AppState,
    params: &Params,
) -> Result<Option<RegisteredApp>, ApiError> {
    let Some(client_id) = params
        .get("client_id")
        .filter(|id| id.starts_with(APP_CLIENT_PREFIX))
        .map(str::to_string)
    else {
        return Ok(None);
    };
    state
        .store
        .run(move |db| connections::app_by_client_id(db, &client_id))
        .await
}

/// The scopes of a `scope` parameter: at least one, all known (RFC 6749 §3.3), or the
/// description of an `invalid_scope` error.
pub(super) fn requested_scopes(scope: Option<&str>) -> Result<Vec<Scope>, &'static str> {
    let names: Vec<&str> = scope.unwrap_or_default().split(' ').collect();
    if names.iter().all(|name| name.is_empty()) {
        return Err("scope is required: at least one integration scope");
    }
    let mut scopes = Vec::new();
    for name in names.into_iter().filter(|name| !name.is_empty()) {
        scopes.push(Scope::parse(name).ok_or("scope names an unknown scope")?);
    }
    scopes.sort_unstable();
    scopes.dedup();
    Ok(scopes)
}

/// A scope in words, as a sentence, for the person consenting.
fn scope_words(scope: Scope) -> String {
    let text = scope_text(scope);
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The consent form's own fields.
pub(super) struct ConsentFields {
    ticket: Option<String>,
    site_id: Option<String>,
    decision: Option<String>,
}

impl ConsentFields {
    /// Takes the consent fields out of a posted form.
    pub(super) fn take(params: &mut Params) -> Self {
        Self {
            ticket: params.take("consent_ticket"),
            site_id: params.take("site_id"),
            decision: params.take("decision"),
        }
    }

    /// Whether the post is a consent decision (rather than a sign-in).
    pub(super) fn is_posted(&self) -> bool {
        self.ticket.is_some() || self.site_id.is_some() || self.decision.is_some()
    }
}

fn binding(request: &ValidRequest, app: &AppRequest, user_id: u32) -> ConsentBinding {
    ConsentBinding {
        user_id,
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: scopes_text(&app.scopes),
        code_challenge: request.code_challenge.clone(),
        state: request.state.clone(),
    }
}

/// A refused consent post: a page with the machine code, never a redirect.
fn refused(message: &str) -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Connect an app",
        &format!(
            "<h1>Cannot connect</h1>{}",
            error_alert(ErrorCode::Forbidden, message)
        ),
    )
}

/// The consent page for `user_id`, with a new ticket; `message` is an error shown next to the
/// site picker.
pub(super) async fn consent_page(
    state: &AppState,
    request: &ValidRequest,
    user_id: u32,
    message: Option<&str>,
) -> Response {
    let Some(app) = &request.app else {
        return refused("This request is not from a registered app.");
    };
    let binding = binding(request, app, user_id);
    let now = state.clock.now();
    let prepared = state
        .store
        .transaction(move |tx| {
            let me = me_response(tx, user_id)?;
            let sites: Vec<(u32, String)> = me
                .sites
                .into_iter()
                .filter(|site| may_manage_site(site.role))
                .map(|site| (site.site_id, site.site_name))
                .collect();
            let ticket = issue_ticket(tx, &binding, now)?;
            Ok::<_, ApiError>((sites, ticket))
        })
        .await;
    let (sites, ticket) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return internal_error_page(error, "consent"),
    };
    let name = escape(&app.app.name);
    let scopes: String = app
        .scopes
        .iter()
        .map(|scope| {
            format!(
                "<li data-scope=\"{}\">{}</li>",
                scope.as_str(),
                escape(&scope_words(*scope))
            )
        })
        .collect();
    let fields = format!(
        "{}{}",
        request_fields(request),
        hidden("consent_ticket", &ticket)
    );
    let deny = "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>";
    if sites.is_empty() {
        let body = format!(
            "<h1>Connect {name}</h1>\
             {}\
             <form method=\"post\" action=\"/oauth/authorize\">{fields}{deny}</form>",
            error_alert(
                ErrorCode::Forbidden,
                "You are not the owner or an admin of any site, so you cannot connect this app. \
                 Ask the owner of your site to connect it."
            ),
        );
        return consent_headers(page(StatusCode::FORBIDDEN, "Connect an app", &body));
    }
    let alert = message
        .map(|text| error_alert(ErrorCode::InvalidInput, text))
        .unwrap_or_default();
    let choices: String = sites
        .iter()
        .map(|(site_id, site_name)| {
            format!(
                "<label><input type=\"radio\" name=\"site_id\" value=\"{site_id}\"> {}</label>",
                escape(site_name)
            )
        })
        .collect();
    let body = format!(
        "<h1>Connect {name}</h1>\
         <p><strong>{name}</strong> asks to manage a site of yours. It will be able to:</p>\
         <ul>{scopes}</ul>\
         <form method=\"post\" action=\"/oauth/authorize\">\
         <fieldset><legend>Site to connect</legend>{alert}{choices}</fieldset>{fields}\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>{deny}\
         </form>"
    );
    let status = if message.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    consent_headers(page(status, "Connect an app", &body))
}

/// The consent page's own referrer policy: `same-origin`, so the browser posts its form with
/// the cloud's `Origin` (under `no-referrer`, browsers send `Origin: null`, which the
/// origin check rightly refuses); nothing goes to other sites either way.
fn consent_headers(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// What an *Allow* came to.
enum Allowed {
    Code(String),
    NotAdministered,
    StaleTicket,
}

/// The consent form posted: refused unless it comes from the cloud's origin with a live
/// ticket bound to this very request; then *Deny* or *Allow*.
pub(super) async fn decide(
    state: &AppState,
    headers: &HeaderMap,
    request: &ValidRequest,
    fields: ConsentFields,
) -> Response {
    let Some(app) = &request.app else {
        return refused("This request is not from a registered app.");
    };
    if !same_origin(state, headers) {
        return refused("This form came from another site: start again from the app.");
    }
    let Some(ticket) = fields.ticket else {
        return refused("This form is not the consent page's: start again from the app.");
    };
    let now = state.clock.now();
    let expected = request_binding(request, app);
    match fields.decision.as_deref() {
        Some("deny") => {
            let spent = state
                .store
                .transaction(move |tx| spend_ticket(tx, &ticket, now))
                .await;
            match spent {
                Ok(Some(binding)) if expected.matches(&binding) => {
                    let pairs = [
                        ("error", "access_denied"),
                        ("error_description", "the person did not allow the app"),
                        ("state", request.state.as_str()),
                    ];
                    redirect_to(request.redirect.clone(), &pairs, StatusCode::SEE_OTHER)
                }
                Ok(_) => stale(),
                Err(error) => internal_error_page(error, "consent"),
            }
        }
        Some("allow") => {
            let Some(site_id) = fields.site_id.and_then(|id| id.parse::<u32>().ok()) else {
                // The person picks a site on a fresh page, under a fresh ticket.
                let spent = state
                    .store
                    .transaction(move |tx| spend_ticket(tx, &ticket, now))
                    .await;
                return match spent {
                    Ok(Some(binding)) if expected.matches(&binding) => {
                        consent_page(
                            state,
                            request,
                            binding.user_id,
                            Some("Pick the site to connect."),
                        )
                        .await
                    }
                    Ok(_) => stale(),
                    Err(error) => internal_error_page(error, "consent"),
                };
            };
            let app_id = app.app.app_id;
            let scopes = app.scopes.clone();
            let allowed = state
                .store
                .transaction(move |tx| {
                    let Some(binding) = spend_ticket(tx, &ticket, now)? else {
                        return Ok::<_, ApiError>(Allowed::StaleTicket);
                    };
                    if !expected.matches(&binding) {
                        return Ok(Allowed::StaleTicket);
                    }
                    let administers = match role_on_site(tx, site_id, binding.user_id) {
                        Ok(role) => may_manage_site(role),
                        Err(ApiError::NotFound(_)) => false,
                        Err(error) => return Err(error),
                    };
                    if !administers {
                        return Ok(Allowed::NotAdministered);
                    }
                    let connection_id =
                        connections::connect(tx, app_id, site_id, &scopes, binding.user_id, now)?;
                    Ok(Allowed::Code(issue_code(tx, connection_id, &binding, now)?))
                })
                .await;
            match allowed {
                Ok(Allowed::Code(code)) => {
                    let pairs = [("code", code.as_str()), ("state", request.state.as_str())];
                    redirect_to(request.redirect.clone(), &pairs, StatusCode::SEE_OTHER)
                }
                Ok(Allowed::NotAdministered) => refused(
                    "You are not the owner or an admin of that site: nothing was connected.",
                ),
                Ok(Allowed::StaleTicket) => stale(),
                Err(error) => internal_error_page(error, "consent"),
            }
        }
        _ => refused("Choose Allow or Deny on the consent page."),
    }
}

/// The refusal of a ticket that is unknown, used, expired or bound to another request.
fn stale() -> Response {
    refused("This consent page has expired or was already used: start again from the app.")
}

/// What the posted request must equal in the ticket (everything but the person, whom only
/// the ticket names).
struct RequestBinding {
    client_id: String,
    redirect_uri: String,
    scopes: String,
    code_challenge: String,
    state: String,
}

impl RequestBinding {
    fn matches(&self, binding: &ConsentBinding) -> bool {
        self.client_id == binding.client_id
            && self.redirect_uri == binding.redirect_uri
            && self.scopes == binding.scopes
            && self.code_challenge == binding.code_challenge
            && self.state == binding.state
    }
}

fn request_binding(request: &ValidRequest, app: &AppRequest) -> RequestBinding {
    let ConsentBinding {
        client_id,
        redirect_uri,
        scopes,
        code_challenge,
        state,
        ..
    } = binding(request, app, 0);
    RequestBinding {
        client_id,
        redirect_uri,
        scopes,
        code_challenge,
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_required_and_known() {
        assert!(requested_scopes(None).is_err());
        assert!(requested_scopes(Some(" ")).is_err());
        assert!(requested_scopes(Some("people:write admin")).is_err());
        assert_eq!(
            requested_scopes(Some("people:write access:write people:write")),
            Ok(vec![Scope::PeopleWrite, Scope::AccessWrite])
        );
    }
}
