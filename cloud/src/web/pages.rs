//! The pages: sign-in, the lock picker with the code field, and the outcome.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use keyway_api::remote::RemoteCommand;
use keyway_api::ErrorCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::csrf::{new_login_token, same_origin, tokens_match, LOGIN_FIELD};
use super::session::{self, WebSession};
use super::sign_in::{sign_in, LoginForm, Refusal};
use crate::auth::html::{alert, error_alert, escape, internal_error_page, page};
use crate::error::{set_retry_after, ApiError};
use crate::remote::locks::remote_locks;
use crate::remote::open::{run_order, Gate, Order};
use crate::AppState;

const TITLE: &str = "Keyway remote opening";

/// The opening form as posted.
#[derive(Deserialize, ToSchema)]
pub(super) struct OpenForm {
    /// `site_id:lock_id`.
    lock: String,
    /// The 5-character code the app shows.
    code: String,
    /// The session's form token.
    csrf: String,
}

/// The sign-out form as posted.
#[derive(Deserialize, ToSchema)]
pub(super) struct LogoutForm {
    /// The session's form token.
    csrf: String,
}

/// A page of the web remote opening. Its referrer policy is `same-origin` (not the sign-in
/// pages' `no-referrer`), so browsers send its forms' real `Origin` rather than `null`.
fn web_page(status: StatusCode, body_html: &str) -> Response {
    let mut response = page(status, TITLE, body_html);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The sign-in form, with a fresh form token (hidden field and cookie).
fn login_page(
    state: &AppState,
    message: Option<(ErrorCode, &str)>,
    status: StatusCode,
) -> Response {
    let token = match new_login_token(state) {
        Ok(token) => token,
        Err(error) => return internal(error),
    };
    let alert = message
        .map(|(code, text)| error_alert(code, text))
        .unwrap_or_default();
    let mut response = web_page(
        status,
        &format!(
            "<h1>Remote opening</h1>{alert}<p>Sign in to open a door with the code your \
             Keyway app shows.</p><form method=\"post\" action=\"/web/login\">\
             <label>E-mail<input type=\"email\" name=\"email\" autocomplete=\"username\" \
             required autofocus></label><label>Password<input type=\"password\" \
             name=\"password\" autocomplete=\"current-password\" required></label>\
             <input type=\"hidden\" name=\"{LOGIN_FIELD}\" value=\"{}\">\
             <button type=\"submit\">Sign in</button></form>",
            escape(&token.value)
        ),
    );
    if let Ok(value) = HeaderValue::from_str(&token.set_cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn internal(error: ApiError) -> Response {
    internal_error_page(error, "web page")
}

fn see_other(location: &'static str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static(location));
    for value in cookies.iter().filter_map(|c| HeaderValue::from_str(c).ok()) {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

/// The lock picker, with the outcome of the last try (an [`alert`] or [`error_alert`]) when
/// there is one.
async fn picker(
    state: &AppState,
    session: &WebSession,
    outcome: Option<String>,
    status: StatusCode,
) -> Response {
    let (user_id, iqs) = (session.user_id, std::sync::Arc::clone(&state.iqs));
    let now = state.clock.now();
    let locks = match state
        .store
        .run(move |db| remote_locks(db, user_id, &iqs, now))
        .await
    {
        Ok(locks) => locks,
        Err(error) => return internal(error),
    };
    let alert = outcome.unwrap_or_default();
    let options: String = locks
        .iter()
        .map(|lock| {
            format!(
                "<option value=\"{}:{}\">{} — {}{}</option>",
                lock.site_id,
                lock.lock_id,
                escape(&lock.site_name),
                escape(&lock.name),
                if lock.iq_online { "" } else { " (IQ offline)" }
            )
        })
        .collect();
    let csrf = escape(&session.csrf);
    let form = if locks.is_empty() {
        "<p>You may not open any door remotely.</p>".to_string()
    } else {
        format!(
            "<form method=\"post\" action=\"/web/remote\"><label>Door<select name=\"lock\">\
             {options}</select></label><label>Code from the app<input type=\"text\" \
             name=\"code\" autocomplete=\"one-time-code\" maxlength=\"5\" minlength=\"5\" \
             autocapitalize=\"characters\" spellcheck=\"false\" required autofocus></label>\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Open</button></form>"
        )
    };
    web_page(
        status,
        &format!(
            "<h1>Remote opening</h1>{alert}{form}<form method=\"post\" action=\"/web/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Sign out</button></form>"
        ),
    )
}

/// The page: the sign-in form, or the lock picker once signed in.
#[utoipa::path(
    get,
    path = "/web/remote",
    tag = "web",
    responses((status = 200, description = "The sign-in form or the lock picker", content_type = "text/html", body = String))
)]
pub(super) async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session::current(&state, &headers).await {
        Ok(Some(session)) => picker(&state, &session, None, StatusCode::OK).await,
        Ok(None) => login_page(&state, None, StatusCode::OK),
        Err(error) => internal(error),
    }
}

/// Signs in with e-mail and password (throttled like the app's sign-in).
#[utoipa::path(
    post,
    path = "/web/login",
    tag = "web",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: to /web/remote, with the session cookie"),
        (status = 401, description = "Wrong e-mail or password", content_type = "text/html", body = String),
        (status = 403, description = "A form from another origin or without the visitor's own sign-in token", content_type = "text/html", body = String),
        (status = 429, description = "Too many failed sign-ins", content_type = "text/html", body = String),
    )
)]
pub(super) async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    match sign_in(&state, &extensions, &headers, form).await {
        Ok(cookies) => see_other("/web/remote", &cookies),
        Err(Refusal::Shown {
            code,
            message,
            status,
            retry_after,
        }) => {
            let mut response = login_page(&state, Some((code, &message)), status);
            if let Some(seconds) = retry_after {
                set_retry_after(&mut response, seconds);
            }
            response
        }
        Err(Refusal::Internal(error)) => internal(error),
    }
}

fn parse_lock(value: &str) -> Option<(u32, u32)> {
    let (site, lock) = value.split_once(':')?;
    Some((site.parse().ok()?, lock.parse().ok()?))
}

/// Opens the chosen lock with the typed code.
#[utoipa::path(
    post,
    path = "/web/remote",
    tag = "web",
    request_body(content = OpenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the lock did", content_type = "text/html", body = String),
        (status = 401, description = "Not signed in", content_type = "text/html", body = String),
        (status = 403, description = "Wrong, expired or reused code; no right; or a stale form", content_type = "text/html", body = String),
        (status = 429, description = "Too many wrong codes", content_type = "text/html", body = String),
        (status = 502, description = "The IQ cannot reach the lock", content_type = "text/html", body = String),
        (status = 503, description = "The IQ is offline: nothing was queued", content_type = "text/html", body = String),
    )
)]
pub(super) async fn open(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<OpenForm>, FormRejection>,
) -> Response {
    let session = match session::current(&state, &headers).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            return login_page(
                &state,
                Some((ErrorCode::Unauthorized, "Sign in first.")),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(error) => return internal(error),
    };
    let from_here = same_origin(&state, &headers);
    let parsed = form
        .ok()
        .filter(|Form(form)| from_here && tokens_match(&form.csrf, &session.csrf))
        .and_then(|Form(form)| Some((parse_lock(&form.lock)?, form.code)));
    let Some(((site_id, lock_id), code)) = parsed else {
        let outcome = Some(error_alert(
            ErrorCode::Forbidden,
            "This form is stale: try again.",
        ));
        return picker(&state, &session, outcome, StatusCode::FORBIDDEN).await;
    };
    let order = Order {
        site_id,
        lock_id,
        user_id: session.user_id,
        command: RemoteCommand::Unlock,
        emergency: false,
    };
    let (outcome, status) = match run_order(&state, order, Gate::Code(code)).await {
        Ok(answer) if answer.granted => (alert("ok", "The door opened."), StatusCode::OK),
        Ok(answer) => (
            alert(
                "error",
                &format!("The lock refused: {}.", answer.reason.unwrap_or_default()),
            ),
            StatusCode::OK,
        ),
        Err(error) => (
            error_alert(error.code(), &error.to_string()),
            error.status(),
        ),
    };
    picker(&state, &session, Some(outcome), status).await
}

/// Signs out.
#[utoipa::path(
    post,
    path = "/web/logout",
    tag = "web",
    request_body(content = LogoutForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed out: back to the sign-in form"))
)]
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
    if valid {
        if let Err(error) = session::end(&state, &headers).await {
            return internal(error);
        }
    }
    see_other("/web/remote", &[session::cleared(&state)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_choices_parse() {
        assert_eq!(parse_lock("3:17"), Some((3, 17)));
        for bad in ["3", "3:", ":17", "a:b", "3:17:1"] {
            assert_eq!(parse_lock(bad), None, "{bad}");
        }
    }
}
