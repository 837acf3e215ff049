//! The page the verification e-mail links to: the address and code come filled in from the
//! link, the person types the password they chose at sign-up, and the cloud confirms the
//! address exactly as `POST /api/v1/accounts/verify` does (same checks, same throttling).

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::csrf::same_origin;
use crate::auth::html::{alert, escape, internal_error_page, page};
use crate::auth::login::client_ip;
use crate::auth::signup::verify;
use crate::error::{set_retry_after, ApiError};
use crate::AppState;

const TITLE: &str = "Confirm your e-mail address";

/// What the e-mail's link carries.
#[derive(Deserialize, IntoParams)]
pub(super) struct VerifyLink {
    /// The address signed up with.
    #[serde(default)]
    email: String,
    /// The code of the e-mail.
    #[serde(default)]
    code: String,
}

/// The form as posted.
#[derive(Deserialize, ToSchema)]
pub(super) struct VerifyForm {
    /// The address signed up with.
    email: String,
    /// The code of the e-mail.
    code: String,
    /// The password chosen at sign-up.
    password: String,
}

fn form_page(email: &str, code: &str, message: Option<&str>, status: StatusCode) -> Response {
    let alert = message.map(|m| alert("error", m)).unwrap_or_default();
    page(
        status,
        TITLE,
        &format!(
            "<h1>{TITLE}</h1>{alert}<p>Enter the password you chose when you signed up.</p>\
             <form method=\"post\" action=\"/web/verify\">\
             <label>E-mail<input type=\"email\" name=\"email\" value=\"{}\" \
             autocomplete=\"username\" required></label>\
             <label>Code<input type=\"text\" name=\"code\" value=\"{}\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" required></label>\
             <label>Password<input type=\"password\" name=\"password\" \
             autocomplete=\"current-password\" required autofocus></label>\
             <button type=\"submit\">Confirm</button></form>",
            escape(email),
            escape(code)
        ),
    )
}

/// The confirmation form, filled in from the e-mail's link.
#[utoipa::path(
    get,
    path = "/web/verify",
    tag = "web",
    params(VerifyLink),
    responses((status = 200, description = "The confirmation form", content_type = "text/html", body = String))
)]
pub(super) async fn show(Query(link): Query<VerifyLink>) -> Response {
    form_page(&link.email, &link.code, None, StatusCode::OK)
}

/// Confirms the address.
#[utoipa::path(
    post,
    path = "/web/verify",
    tag = "web",
    request_body(content = VerifyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Confirmed", content_type = "text/html", body = String),
        (status = 400, description = "Wrong, expired or used code, or another password", content_type = "text/html", body = String),
        (status = 403, description = "Posted from another site", content_type = "text/html", body = String),
        (status = 429, description = "Too many wrong codes", content_type = "text/html", body = String),
    )
)]
pub(super) async fn submit(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    form: Result<Form<VerifyForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return form_page(
            "",
            "",
            Some("Enter your e-mail, the code and your password."),
            StatusCode::BAD_REQUEST,
        );
    };
    if !same_origin(&state, &headers) {
        return form_page(
            &form.email,
            "",
            Some("This form was sent from another site; open the link from the e-mail again."),
            StatusCode::FORBIDDEN,
        );
    }
    let peer = client_ip(&state, &headers, &extensions);
    match verify(&state, &form.email, &form.code, form.password, peer).await {
        Ok(user) => page(
            StatusCode::OK,
            TITLE,
            &format!(
                "<h1>Address confirmed</h1>{}<p>Sign in to the Keyway app with {} and your \
                 password.</p>",
                alert("ok", "Your e-mail address is confirmed."),
                escape(&user.email)
            ),
        ),
        Err(ApiError::RateLimited(seconds)) => {
            let mut response = form_page(
                &form.email,
                &form.code,
                Some("Too many wrong codes. Try again later."),
                StatusCode::TOO_MANY_REQUESTS,
            );
            set_retry_after(&mut response, seconds);
            response
        }
        Err(error @ (ApiError::VerificationFailed(_) | ApiError::InvalidInput(_))) => form_page(
            &form.email,
            &form.code,
            Some(&error.to_string()),
            StatusCode::BAD_REQUEST,
        ),
        Err(error) => internal_error_page(error, "e-mail verification page"),
    }
}
