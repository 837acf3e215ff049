//! The few HTML pages the authorization endpoint shows (sign-in form, errors). Every value
//! placed in a page goes through [`escape`]; the pages load nothing and cannot be framed.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use keyway_api::ErrorCode;

use crate::error::ApiError;

/// `text` made safe for HTML text and double- or single-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}\
main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;\
box-shadow:0 1px 4px #0002}h1{font-size:1.3rem;margin-top:0}label{display:block;margin:1rem 0}\
input[type=email],input[type=password]{display:block;width:100%;box-sizing:border-box;\
padding:.5rem;margin-top:.3rem;font-size:1rem}button{width:100%;padding:.6rem;font-size:1rem}\
.error{color:#a00}";

/// A whole page: `body_html` must already be escaped.
pub(crate) fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main>{body_html}</main></body></html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `message` as an announced paragraph of `class` (`error` or `ok`).
pub(crate) fn alert(class: &str, message: &str) -> String {
    format!(
        "<p class=\"{}\" role=\"alert\">{}</p>",
        escape(class),
        escape(message)
    )
}

/// An error `message` that also carries its machine code in `data-error`, so a script or a
/// test reads the code (`code_rejected`, `iq_offline`, …), never the words.
pub(crate) fn error_alert(code: ErrorCode, message: &str) -> String {
    format!(
        "<p class=\"error\" data-error=\"{}\" role=\"alert\">{}</p>",
        code.as_str(),
        escape(message)
    )
}

/// "Try again in …" for a wait of `seconds`, in seconds under a minute, else in minutes.
pub(crate) fn try_again_in(seconds: u64) -> String {
    let (amount, unit) = if seconds < 60 {
        (seconds, "second")
    } else {
        (seconds.div_ceil(60), "minute")
    };
    format!(
        "Try again in {amount} {unit}{}.",
        if amount == 1 { "" } else { "s" }
    )
}

/// A page that says what went wrong and offers nothing else (no redirect).
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Keyway sign-in",
        &format!("<h1>Cannot sign in</h1>{}", alert("error", message)),
    )
}

/// The page for a failure on the server's side: the details go to the log (under `context`),
/// never to the visitor.
pub(crate) fn internal_error_page(error: ApiError, context: &str) -> Response {
    if let ApiError::Internal(detail) = &error {
        tracing::error!(%detail, "{context} failed");
    }
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("plain é"), "plain é");
    }
}
