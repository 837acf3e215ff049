//! `/oauth/authorize` (RFC 6749 §4.1.1, RFC 7636, RFC 8252): the browser page where a person
//! signs in, and the redirect back to the app with a single-use authorization code.
//!
//! Until the client and redirect URI are known to be good, and the request carries a
//! `state` (the app's defence against login CSRF), errors are shown as a page and never
//! redirected (RFC 6749 §4.1.2.1); after that, errors go back to the app as
//! `error=...&state=...` on the redirect URI.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use keyway_api::ErrorCode;
use url::Url;
use utoipa::{IntoParams, ToSchema};

use super::clients::{allowed_redirect, is_known_client};
use super::connect::{app_for, consent_page, decide, requested_scopes, AppRequest, ConsentFields};
use super::html::{error_alert, error_page, escape, internal_error_page, page, try_again_in};
use super::login::{check_login, client_ip, PasswordCheck};
use super::params::{is_form, Params};
use super::pkce::{is_valid_challenge, METHOD_S256};
use super::tokens::new_token;
use crate::error::{set_retry_after, ApiError};
use crate::integrations::connections::RegisteredApp;
use crate::integrations::keys::scopes_text;
use crate::AppState;

/// Seconds an authorization code lives.
pub const CODE_TTL_SECONDS: i64 = 60;
/// Seconds a code row is kept after it expires, so a late replay still revokes its tokens.
const CODE_KEEP_SECONDS: i64 = 86_400;

/// The parameters of an authorization request.
#[derive(Default, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub(super) struct AuthorizeRequest {
    /// Must be `code`.
    response_type: Option<String>,
    /// `keyway-app`.
    client_id: Option<String>,
    /// `keyway://oauth`, or loopback `http://127.0.0.1:<port>/<path>` or
    /// `http://[::1]:<port>/<path>` (canonical form; `localhost` is refused).
    redirect_uri: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)), 43 characters.
    code_challenge: Option<String>,
    /// Must be `S256`.
    code_challenge_method: Option<String>,
    /// Required, non-empty: opaque value handed back unchanged with the code or the error (a
    /// request without it is refused on a page, never redirected).
    state: Option<String>,
    /// A registered app (`client_id=kwa_…`) only: the integration scopes it asks for,
    /// space-separated, at least one (`people:write access:write pins:write events:read
    /// webhooks:manage`). Ignored for `keyway-app`.
    scope: Option<String>,
}

impl AuthorizeRequest {
    fn from_params(params: &mut Params) -> Self {
        Self {
            response_type: params.take("response_type"),
            client_id: params.take("client_id"),
            redirect_uri: params.take("redirect_uri"),
            code_challenge: params.take("code_challenge"),
            code_challenge_method: params.take("code_challenge_method"),
            state: params.take("state"),
            scope: params.take("scope"),
        }
    }
}

/// The sign-in form as posted: the credentials and the authorization request, unchanged.
#[derive(ToSchema)]
pub(super) struct LoginForm {
    /// Login e-mail.
    email: Option<String>,
    /// Password.
    password: Option<String>,
    /// The parameters of the authorization request.
    #[serde(flatten)]
    request: AuthorizeRequest,
}

/// An authorization request that passed every check.
pub(super) struct ValidRequest {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) redirect: Url,
    pub(super) code_challenge: String,
    pub(super) state: String,
    /// A registered app's request: the app and the scopes it asks for (`None`: the app).
    pub(super) app: Option<AppRequest>,
}

/// Why an authorization request cannot go on.
enum Refusal {
    /// Shown to the person: the client or redirect URI cannot be trusted.
    Page(&'static str),
    /// Sent back to the app on its (valid) redirect URI.
    Redirect {
        redirect: Box<Url>,
        error: &'static str,
        description: &'static str,
        state: String,
    },
}

impl Refusal {
    fn respond(self, status: StatusCode) -> Response {
        match self {
            Self::Page(message) => error_page(StatusCode::BAD_REQUEST, message),
            Self::Redirect {
                redirect,
                error,
                description,
                state,
            } => {
                let pairs = [
                    ("error", error),
                    ("error_description", description),
                    ("state", &state),
                ];
                redirect_to(*redirect, &pairs, status)
            }
        }
    }
}

pub(super) fn redirect_to(mut target: Url, pairs: &[(&str, &str)], status: StatusCode) -> Response {
    target.query_pairs_mut().extend_pairs(pairs);
    let Ok(location) = HeaderValue::from_str(target.as_str()) else {
        return error_page(StatusCode::BAD_REQUEST, "The redirect URI cannot be used.");
    };
    let mut response = status.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Checks a request of the app, or of `app` when the request names a registered app.
fn validate(
    request: AuthorizeRequest,
    app: Option<RegisteredApp>,
) -> Result<ValidRequest, Refusal> {
    let client_id = request
        .client_id
        .ok_or(Refusal::Page("The request names no client (client_id)."))?;
    let app = app.filter(|app| app.client_id == client_id);
    if app.is_none() && !is_known_client(&client_id) {
        return Err(Refusal::Page("The request comes from an unknown client."));
    }
    let redirect_uri = request.redirect_uri.ok_or(Refusal::Page(
        "The request has no redirect URI (redirect_uri).",
    ))?;
    let redirect = match &app {
        Some(app) => app.allowed_redirect(&redirect_uri),
        None => allowed_redirect(&client_id, &redirect_uri),
    }
    .ok_or(Refusal::Page(
        "The redirect URI is not registered for this client.",
    ))?;
    // Without `state` the app cannot tell its own sign-in from one an attacker started (login
    // CSRF, RFC 6749 §10.12): refused on a page, never sent to the redirect URI.
    let state = request.state.ok_or(Refusal::Page(
        "The request has no state parameter: start the sign-in again from the Keyway app.",
    ))?;
    let refuse = |error: &'static str, description: &'static str| Refusal::Redirect {
        redirect: Box::new(redirect.clone()),
        error,
        description,
        state: state.clone(),
    };
    match request.response_type.as_deref() {
        Some("code") => {}
        None => return Err(refuse("invalid_request", "response_type is required")),
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
    }
    let code_challenge = request.code_challenge.ok_or_else(|| {
        refuse(
            "invalid_request",
            "code_challenge is required (PKCE with S256)",
        )
    })?;
    if request.code_challenge_method.as_deref() != Some(METHOD_S256) {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    if !is_valid_challenge(&code_challenge) {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be 43 to 128 base64url characters",
        ));
    }
    let app = match app {
        Some(app) => Some(AppRequest {
            scopes: requested_scopes(request.scope.as_deref())
                .map_err(|description| refuse("invalid_scope", description))?,
            app,
        }),
        None => None,
    };
    Ok(ValidRequest {
        client_id,
        redirect_uri,
        redirect,
        code_challenge,
        state,
        app,
    })
}

pub(super) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// The authorization request as hidden form fields (the sign-in and consent forms).
pub(super) fn request_fields(request: &ValidRequest) -> String {
    let mut fields = vec![
        hidden("response_type", "code"),
        hidden("client_id", &request.client_id),
        hidden("redirect_uri", &request.redirect_uri),
        hidden("code_challenge", &request.code_challenge),
        hidden("code_challenge_method", METHOD_S256),
        hidden("state", &request.state),
    ];
    if let Some(app) = &request.app {
        fields.push(hidden("scope", &scopes_text(&app.scopes)));
    }
    fields.concat()
}

fn login_page(
    request: &ValidRequest,
    email: &str,
    message: Option<(ErrorCode, &str)>,
    status: StatusCode,
) -> Response {
    let alert = message
        .map(|(code, text)| error_alert(code, text))
        .unwrap_or_default();
    let fields = request_fields(request);
    let body = format!(
        "<h1>Sign in to Keyway</h1>{alert}\
         <form method=\"post\" action=\"/oauth/authorize\">\
         <label>E-mail<input type=\"email\" name=\"email\" value=\"{email}\" \
         autocomplete=\"username\" required autofocus></label>\
         <label>Password<input type=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required></label>{fields}\
         <button type=\"submit\">Sign in</button></form>",
        email = escape(email),
    );
    page(status, "Sign in to Keyway", &body)
}

/// Shows the sign-in form for an authorization request.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    tag = "oauth",
    params(AuthorizeRequest),
    responses(
        (status = 200, description = "The sign-in form", content_type = "text/html", body = String),
        (status = 302, description = "Back to the app with `error` and `state` (bad response_type or PKCE parameters)"),
        (status = 400, description = "Unknown client or redirect URI: an error page, never a redirect", content_type = "text/html", body = String),
    )
)]
pub(super) async fn authorize_form(State(state): State<AppState>, uri: Uri) -> Response {
    let mut params = match Params::parse(uri.query().unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(name) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The parameter {name} is given more than once."),
            )
        }
    };
    let app = match app_for(&state, &params).await {
        Ok(app) => app,
        Err(error) => return internal_error_page(error, "authorization"),
    };
    match validate(AuthorizeRequest::from_params(&mut params), app) {
        Ok(request) => login_page(&request, "", None, StatusCode::OK),
        Err(refusal) => refusal.respond(StatusCode::FOUND),
    }
}

/// What a sign-in attempt came to.
enum SignIn {
    Code(String),
    /// A registered app's request: the person signed in and is asked to consent.
    Consent(u32),
    WrongCredentials,
    Unverified,
    Throttled(u64),
}

async fn sign_in(
    state: &AppState,
    request: &ValidRequest,
    email: &str,
    password: String,
    peer: Option<IpAddr>,
) -> Result<SignIn, ApiError> {
    let user_id = match check_login(state, email, password, peer).await? {
        PasswordCheck::Right(user_id) => user_id,
        PasswordCheck::Wrong => return Ok(SignIn::WrongCredentials),
        PasswordCheck::Unverified => return Ok(SignIn::Unverified),
        PasswordCheck::Throttled(seconds) => return Ok(SignIn::Throttled(seconds)),
    };
    if request.app.is_some() {
        return Ok(SignIn::Consent(user_id));
    }
    let (code, code_hash) = new_token()?;
    let now = state.clock.now();
    let client_id = request.client_id.clone();
    let redirect_uri = request.redirect_uri.clone();
    let challenge = request.code_challenge.clone();
    state
        .store
        .transaction(move |tx| {
            tx.execute(
                "DELETE FROM oauth_codes WHERE expires_at < ?1",
                [now - CODE_KEEP_SECONDS],
            )?;
            tx.execute(
                "INSERT INTO oauth_codes
                 (code_hash, user_id, client_id, redirect_uri, code_challenge, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    code_hash,
                    user_id,
                    client_id,
                    redirect_uri,
                    challenge,
                    now + CODE_TTL_SECONDS
                ],
            )?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(SignIn::Code(code))
}

/// Checks the e-mail and password posted from the form; on success, redirects to the app
/// with a single-use code (60 s) bound to the client, redirect URI, PKCE challenge and account.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    tag = "oauth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the app with `code` and `state`, or with `error` and `state`"),
        (status = 400, description = "Unknown client or redirect URI, or a malformed form", content_type = "text/html", body = String),
        (status = 401, description = "Wrong e-mail or password: the form again", content_type = "text/html", body = String),
        (status = 429, description = "Too many failed attempts; see Retry-After", content_type = "text/html", body = String),
    )
)]
pub(super) async fn authorize_submit(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_form(&headers) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The sign-in form must be sent as application/x-www-form-urlencoded.",
        );
    }
    let mut params = match Params::parse(&body) {
        Ok(params) => params,
        Err(name) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The parameter {name} is given more than once."),
            )
        }
    };
    let app = match app_for(&state, &params).await {
        Ok(app) => app,
        Err(error) => return internal_error_page(error, "authorization"),
    };
    let consent = ConsentFields::take(&mut params);
    let form = LoginForm {
        email: params.take("email"),
        password: params.take("password"),
        request: AuthorizeRequest::from_params(&mut params),
    };
    let request = match validate(form.request, app) {
        Ok(request) => request,
        Err(refusal) => return refusal.respond(StatusCode::SEE_OTHER),
    };
    if request.app.is_some() && consent.is_posted() {
        return decide(&state, &headers, &request, consent).await;
    }
    let (Some(email), Some(password)) = (form.email, form.password) else {
        return login_page(
            &request,
            "",
            Some((ErrorCode::InvalidInput, "Enter your e-mail and password.")),
            StatusCode::BAD_REQUEST,
        );
    };
    match sign_in(
        &state,
        &request,
        &email,
        password,
        client_ip(&state, &headers, &extensions),
    )
    .await
    {
        Ok(SignIn::Code(code)) => {
            let pairs = [("code", code.as_str()), ("state", &request.state)];
            redirect_to(request.redirect, &pairs, StatusCode::SEE_OTHER)
        }
        Ok(SignIn::Consent(user_id)) => consent_page(&state, &request, user_id, None).await,
        Ok(SignIn::WrongCredentials) => login_page(
            &request,
            &email,
            Some((
                ErrorCode::Unauthorized,
                crate::auth::login::WRONG_CREDENTIALS,
            )),
            StatusCode::UNAUTHORIZED,
        ),
        Ok(SignIn::Unverified) => login_page(
            &request,
            &email,
            Some((
                ErrorCode::Forbidden,
                crate::auth::login::CONFIRM_ADDRESS_FIRST,
            )),
            StatusCode::FORBIDDEN,
        ),
        Ok(SignIn::Throttled(seconds)) => {
            let mut response = error_page(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many failed sign-in attempts. {}",
                    try_again_in(seconds)
                ),
            );
            set_retry_after(&mut response, seconds);
            response
        }
        Err(error) => internal_error_page(error, "sign-in"),
    }
}
