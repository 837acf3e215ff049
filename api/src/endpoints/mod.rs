//! One description per route the clients call: its method, its path template with typed
//! parameters, how it authenticates, and the request and response body types. A call site
//! names an endpoint and gets the rest from it, so it cannot send the wrong body, parse the
//! wrong answer or misspell a path. No I/O here: the core's HTTP client sends them, the
//! cloud's tests check [`ALL`] against the cloud's router.
//!
//! ```
//! use keyway_api::endpoints::{Endpoint, Method, SetGroupMembers};
//!
//! let endpoint = SetGroupMembers { site_id: 7, group_id: 3 };
//! assert_eq!(SetGroupMembers::ROUTE.method, Method::Put);
//! assert_eq!(
//!     endpoint.path().unwrap(),
//!     "/api/v1/sites/7/access-groups/3/members"
//! );
//! ```

mod body;
mod catalog;
mod define;
pub(crate) mod path;
mod route;
mod server_only;
mod table;

pub use body::{
    CsvFile, Encoded, EventStream, Form, NoBody, NoContent, RequestBody, ResponseBody, TextBody,
};
pub use catalog::*;
pub use route::{Auth, ErrorFormat, Method, Route};
pub use server_only::{ServerOnlyRoute, SERVER_ONLY};
pub use table::{markdown_table, server_only_table};

/// A body, path or query that could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// A request body or query could not be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(String),
    /// A response body is not what the endpoint answers.
    #[error("unreadable answer: {0}")]
    Decode(String),
}

/// One route of the cloud as a client calls it. Implemented by one struct per route (in
/// [`ALL`]), whose fields are the path's parameters (and its query, if it has one).
pub trait Endpoint: Send + Sync {
    /// The method, the path template and how the call authenticates.
    const ROUTE: Route;
    /// What the call sends.
    type Request: RequestBody + Send + Sync;
    /// What a successful answer holds.
    type Response: ResponseBody + Send;

    /// The path with this call's parameters filled in (each one percent-encoded), and its
    /// query string if it has one.
    fn path(&self) -> Result<String, EndpointError>;
}
