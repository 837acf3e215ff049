//! What the service supports (RFC 7644 §4): the service provider configuration (PATCH and
//! equality filters on `userName`, `externalId` and `displayName` with
//! [`MAX_RESULTS`]; no bulk, sort, ETags or password changes), the two resource types, and the
//! schemas of their attributes as Keyway holds them.

use serde_json::{json, Value};

use super::filter::MAX_RESULTS;
use super::resources::{GROUP_SCHEMA, LIST_SCHEMA, SCIM_BASE, USER_SCHEMA};

const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(public_url: &str) -> Value {
    json!({
        "schemas": [CONFIG_SCHEMA],
        "documentationUri": format!("{public_url}/openapi.json"),
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Site API key",
            "description": "Authorization: Bearer kwk_… with the people:write scope \
                            (Group changes also need access:write)",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{public_url}{SCIM_BASE}/ServiceProviderConfig"),
        },
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `GET /ResourceTypes`.
pub fn resource_types(public_url: &str) -> Value {
    let resource_type = |name: &str, endpoint: &str, schema: &str| {
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": name,
            "name": name,
            "endpoint": endpoint,
            "schema": schema,
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{public_url}{SCIM_BASE}/ResourceTypes/{name}"),
            },
        })
    };
    list(vec![
        resource_type("User", "/Users", USER_SCHEMA),
        resource_type("Group", "/Groups", GROUP_SCHEMA),
    ])
}

fn attribute(name: &str, kind: &str, mutability: &str, required: bool) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut attribute: Value, key: &str, value: Value) -> Value {
    attribute[key] = value;
    attribute
}

/// `GET /Schemas`: the attributes Keyway reads and writes.
pub fn schemas(public_url: &str) -> Value {
    let name = with(
        attribute("name", "complex", "readWrite", false),
        "subAttributes",
        json!([
            attribute("formatted", "string", "readWrite", false),
            attribute("givenName", "string", "readWrite", false),
            attribute("familyName", "string", "readWrite", false),
        ]),
    );
    let emails = with(
        with(
            attribute("emails", "complex", "readOnly", false),
            "multiValued",
            true.into(),
        ),
        "subAttributes",
        json!([
            attribute("value", "string", "readOnly", false),
            attribute("type", "string", "readOnly", false),
            attribute("primary", "boolean", "readOnly", false),
        ]),
    );
    let user = json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person of the site; userName is their e-mail",
        "attributes": [
            with(attribute("userName", "string", "immutable", true), "uniqueness", "server".into()),
            with(attribute("externalId", "string", "readWrite", false), "caseExact", true.into()),
            name,
            attribute("displayName", "string", "readWrite", false),
            attribute("active", "boolean", "readWrite", false),
            emails,
        ],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{public_url}{SCIM_BASE}/Schemas/{USER_SCHEMA}"),
        },
    });
    let members = with(
        with(
            attribute("members", "complex", "readWrite", false),
            "multiValued",
            true.into(),
        ),
        "subAttributes",
        json!([
            attribute("value", "string", "immutable", false),
            attribute("display", "string", "readOnly", false),
        ]),
    );
    let group = json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "An access group of the site",
        "attributes": [
            with(attribute("displayName", "string", "readWrite", true), "uniqueness", "server".into()),
            members,
        ],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{public_url}{SCIM_BASE}/Schemas/{GROUP_SCHEMA}"),
        },
    });
    list(vec![user, group])
}
