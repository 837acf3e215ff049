//! The SCIM resources as JSON (RFC 7643): a person of the site as a `User`, an access group
//! as a `Group`, pages as a `ListResponse`; every answer is `application/scim+json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// A page of resources.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// A PATCH request.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// An error.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The media type of every SCIM answer (RFC 7644 §3.1).
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";
/// Where the SCIM service lives, below the cloud's public URL.
pub const SCIM_BASE: &str = "/scim/v2";

/// `body` with `status`, as `application/scim+json`.
pub fn scim_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_MEDIA_TYPE),
    );
    response
}

/// A `201 Created` of `resource`, with its `Location` (RFC 7644 §3.3).
pub fn created(resource: Value) -> Response {
    let location = resource["meta"]["location"].as_str().map(str::to_string);
    let mut response = scim_json(StatusCode::CREATED, resource);
    if let Some(value) = location.and_then(|url| HeaderValue::from_str(&url).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A person of the site as SCIM sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The Keyway account id (the SCIM `id`, as a string).
    pub user_id: u32,
    /// Their e-mail (`userName`).
    pub email: String,
    /// The name the site lists them by.
    pub listed_name: String,
    /// The identity provider's id, if it gave one.
    pub external_id: Option<String>,
    /// The name parts the identity provider sent.
    pub name: NameParts,
    /// Not suspended.
    pub active: bool,
}

/// The name attributes of a SCIM User as the identity provider sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameParts {
    /// `name.formatted`.
    pub formatted: Option<String>,
    /// `name.givenName`.
    pub given: Option<String>,
    /// `name.familyName`.
    pub family: Option<String>,
    /// `displayName`.
    pub display: Option<String>,
}

impl NameParts {
    /// The one name Keyway keeps: `name.formatted`, else the given and family names, else
    /// `displayName`.
    pub fn full_name(&self) -> Option<String> {
        let joined = [&self.given, &self.family]
            .into_iter()
            .flatten()
            .map(|part| part.trim())
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        [self.formatted.clone(), Some(joined), self.display.clone()]
            .into_iter()
            .flatten()
            .find(|name| !name.trim().is_empty())
    }
}

fn location(public_url: &str, kind: &str, id: u32) -> String {
    format!("{public_url}{SCIM_BASE}/{kind}/{id}")
}

/// A `User` resource.
pub fn user_resource(user: &UserRecord, public_url: &str) -> Value {
    let mut name = json!({ "formatted": user.name.formatted.clone().unwrap_or_else(|| user.listed_name.clone()) });
    if let Some(given) = &user.name.given {
        name["givenName"] = given.clone().into();
    }
    if let Some(family) = &user.name.family {
        name["familyName"] = family.clone().into();
    }
    let mut resource = json!({
        "schemas": [USER_SCHEMA],
        "id": user.user_id.to_string(),
        "userName": user.email,
        "name": name,
        "displayName": user.name.display.clone().unwrap_or_else(|| user.listed_name.clone()),
        "active": user.active,
        "emails": [{ "value": user.email, "type": "work", "primary": true }],
        "meta": {
            "resourceType": "User",
            "location": location(public_url, "Users", user.user_id),
        },
    });
    if let Some(external_id) = &user.external_id {
        resource["externalId"] = external_id.clone().into();
    }
    resource
}

/// An access group of the site as a SCIM `Group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// The group id (the SCIM `id`, as a string).
    pub group_id: u32,
    /// Its name (`displayName`).
    pub name: String,
    /// Its people: account id and listed name.
    pub members: Vec<(u32, String)>,
}

/// A `Group` resource.
pub fn group_resource(group: &GroupRecord, public_url: &str) -> Value {
    let members: Vec<Value> = group
        .members
        .iter()
        .map(|(user_id, name)| {
            json!({
                "value": user_id.to_string(),
                "display": name,
                "type": "User",
                "$ref": location(public_url, "Users", *user_id),
            })
        })
        .collect();
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.group_id.to_string(),
        "displayName": group.name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "location": location(public_url, "Groups", group.group_id),
        },
    })
}

/// One page of a list (RFC 7644 §3.4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// How many match in all.
    pub total: u64,
    /// The 1-based index of the first resource of the page.
    pub start_index: u64,
    /// The page's resources.
    pub resources: Vec<Value>,
}

/// A `ListResponse`.
pub fn list_response(page: Page) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": page.total,
        "startIndex": page.start_index,
        "itemsPerPage": page.resources.len(),
        "Resources": page.resources,
    })
}
