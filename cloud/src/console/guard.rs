//! Who is asking: every console page needs a web session ([`crate::web::session`]), and a
//! site's pages a membership of that site; every form post must also come from the cloud's
//! own origin and echo the session's token ([`crate::web::csrf`]). A refusal is a page, with
//! its machine code in `data-error`.

use axum::extract::rejection::FormRejection;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use keyway_api::{Role, SiteMembershipView};

use super::layout::{error_page, with_headers, Section, SiteNav};
use super::paths;
use crate::api::me::me_response;
use crate::error::ApiError;
use crate::web::csrf::{same_origin, tokens_match};
use crate::web::session::{self, WebSession};
use crate::AppState;

/// A signed-in visitor on one of their sites.
#[derive(Debug, Clone)]
pub(super) struct OnSite {
    /// The session.
    pub(super) session: WebSession,
    /// The site, and the visitor's role there.
    pub(super) site: SiteMembershipView,
}

impl OnSite {
    /// The visitor's account id.
    pub(super) fn user_id(&self) -> u32 {
        self.session.user_id
    }

    /// The visitor's role on the site.
    pub(super) fn role(&self) -> Role {
        self.site.role
    }

    /// The site's id.
    pub(super) fn site_id(&self) -> u32 {
        self.site.site_id
    }

    /// The navigation for a page of `current`.
    pub(super) fn nav(&self, current: Section) -> SiteNav<'_> {
        SiteNav {
            site_id: self.site.site_id,
            site_name: &self.site.site_name,
            role: self.site.role,
            csrf: &self.session.csrf,
            current,
        }
    }
}

/// A form that carries the session's token.
pub(super) trait WithToken {
    /// The posted token.
    fn csrf(&self) -> &str;
}

/// `303 See Other` to `location`.
pub(super) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    with_headers(response)
}

/// The visitor's session, if signed in.
pub(super) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<WebSession>, Response> {
    session::current(state, headers)
        .await
        .map_err(|error| error_page(&error, None))
}

/// The visitor on `site_id`: to the sign-in form without a session, 404 when not a member.
pub(super) async fn on_site(
    state: &AppState,
    headers: &HeaderMap,
    site_id: u32,
) -> Result<OnSite, Response> {
    let Some(session) = signed_in(state, headers).await? else {
        return Err(see_other(paths::HOME));
    };
    membership(state, session, site_id).await
}

/// The visitor with `session` on `site_id`; 404 when not a member.
pub(super) async fn membership(
    state: &AppState,
    session: WebSession,
    site_id: u32,
) -> Result<OnSite, Response> {
    let user_id = session.user_id;
    let me = state
        .store
        .run(move |db| me_response(db, user_id))
        .await
        .map_err(|error| error_page(&error, None))?;
    let site = me
        .sites
        .into_iter()
        .find(|site| site.site_id == site_id)
        .ok_or_else(|| error_page(&ApiError::NotFound(format!("no site {site_id}")), None))?;
    Ok(OnSite { session, site })
}

/// The session behind a form post, once it passed the origin check: 401 without a session,
/// 403 (`forbidden`) from another origin. The form's token is checked by [`token_matches`].
pub(super) async fn posting_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<WebSession, Response> {
    let Some(session) = signed_in(state, headers).await? else {
        return Err(error_page(
            &ApiError::Unauthorized("Sign in first.".into()),
            None,
        ));
    };
    if !same_origin(state, headers) {
        return Err(stale_form());
    }
    Ok(session)
}

/// The refusal (403, `forbidden`) of a form from another origin or without the session's
/// token.
pub(super) fn stale_form() -> Response {
    error_page(
        &ApiError::Forbidden(
            "This form is stale or came from another site: open the page again.".into(),
        ),
        None,
    )
}

/// Whether `posted` is the session's form token (compared in constant time).
pub(super) fn token_matches(session: &WebSession, posted: &str) -> bool {
    tokens_match(posted, &session.csrf)
}

/// A form posted to a page of `site_id`: refused (403, `forbidden`) unless it comes from the
/// cloud's origin with the session's token, whatever else it carries; 401 without a session;
/// 404 when the visitor is not on the site.
pub(super) async fn posted<T: WithToken>(
    state: &AppState,
    headers: &HeaderMap,
    site_id: u32,
    form: Result<Form<T>, FormRejection>,
) -> Result<(OnSite, T), Response> {
    let session = posting_session(state, headers).await?;
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            return Err(error_page(
                &ApiError::InvalidInput(rejection.body_text()),
                None,
            ))
        }
    };
    if !token_matches(&session, form.csrf()) {
        return Err(stale_form());
    }
    let visitor = membership(state, session, site_id).await?;
    Ok((visitor, form))
}
