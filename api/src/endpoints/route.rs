//! What describes a route: its method, path template, authentication and error format.

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name as HTTP spells it (`GET`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call proves who makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <access token>` (every `/api/v1` route but sign-up).
    Bearer,
    /// Nothing: sign-up, e-mail verification and the OAuth2 endpoints.
    None,
}

/// What a refused call answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// [`crate::ApiErrorBody`] with an [`crate::ErrorCode`].
    Api,
    /// [`crate::OAuthErrorBody`] (RFC 6749 §5.2).
    OAuth,
}

/// One route as the clients call it: an entry of [`super::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The endpoint's type name.
    pub name: &'static str,
    /// Its method.
    pub method: Method,
    /// Its path template, parameters in braces as the cloud's router and OpenAPI document
    /// spell them (`/api/v1/sites/{site_id}/people`).
    pub path: &'static str,
    /// The parameters of the path, in order.
    pub params: &'static [&'static str],
    /// Its query, if it has one (a type name, or the fixed query string).
    pub query: Option<&'static str>,
    /// How it authenticates.
    pub auth: Auth,
    /// What it answers when it refuses.
    pub errors: ErrorFormat,
    /// The request body type's name.
    pub request: &'static str,
    /// The response body type's name.
    pub response: &'static str,
}
