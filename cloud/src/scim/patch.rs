//! Changes to a resource: the attributes of a `POST` or `PUT` body, and the `Operations` of a
//! `PATCH` (RFC 7644 §3.5.2: `add`, `replace` and `remove`, with or without `path`, op names
//! in any case as Entra sends them). Changes apply to a draft of the resource, which the
//! domain then saves whole, so `PUT` and `PATCH` share every rule.
//!
//! Attributes Keyway does not hold (titles, phone numbers, the enterprise extension) are
//! accepted and ignored, so an identity provider's usual mapping works unchanged.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::{ScimError, ScimResult, ScimType};
use super::filter;
use super::resources::{GroupRecord, NameParts, UserRecord};

/// The prefix a core User attribute may carry in a path (`urn:…:User:userName`).
const USER_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
/// The prefix a core Group attribute may carry in a path.
const GROUP_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:group:";

/// A `PATCH` body.
#[derive(Debug, Clone, Deserialize)]
pub struct PatchRequest {
    /// The operations, applied in order.
    #[serde(rename = "Operations")]
    pub operations: Vec<Operation>,
}

/// One operation as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct Operation {
    /// `add`, `replace` or `remove`, in any case.
    pub op: String,
    /// What it targets; none: the resource itself.
    pub path: Option<String>,
    /// The new value.
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

impl Operation {
    fn kind(&self) -> ScimResult<Kind> {
        match self.op.to_ascii_lowercase().as_str() {
            "add" => Ok(Kind::Add),
            "replace" => Ok(Kind::Replace),
            "remove" => Ok(Kind::Remove),
            _ => Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                format!("op {:?} is not add, replace or remove", self.op),
            )),
        }
    }

    fn value(&self) -> ScimResult<&Value> {
        self.value.as_ref().ok_or_else(|| {
            ScimError::bad_request(ScimType::InvalidValue, "add and replace need a value")
        })
    }
}

fn invalid_value(attribute: &str, what: &str) -> ScimError {
    ScimError::bad_request(
        ScimType::InvalidValue,
        format!("{attribute} must be {what}"),
    )
}

fn text(attribute: &str, value: &Value) -> ScimResult<String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| invalid_value(attribute, "a string"))
}

fn optional_text(attribute: &str, value: &Value) -> ScimResult<Option<String>> {
    if value.is_null() {
        Ok(None)
    } else {
        text(attribute, value).map(Some)
    }
}

/// A boolean, or the strings `"True"` and `"False"` in any case (as Entra sends them).
fn boolean(attribute: &str, value: &Value) -> ScimResult<bool> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(flag) if flag.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(flag) if flag.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid_value(attribute, "true or false")),
    }
}

fn object<'a>(attribute: &str, value: &'a Value) -> ScimResult<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| invalid_value(attribute, "an object"))
}

/// `path` without the schema's URN prefix (as sent, case kept).
fn attribute_path<'a>(path: &'a str, prefix: &str) -> &'a str {
    let path = path.trim();
    match path.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => path.get(prefix.len()..).unwrap_or(""),
        _ => path,
    }
}

/// [`attribute_path`] in lower case, to match attribute names (case-insensitive in SCIM).
fn lower_path(path: &str, prefix: &str) -> String {
    attribute_path(path, prefix).to_ascii_lowercase()
}

/// A User as the identity provider wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDraft {
    /// `userName`: the e-mail.
    pub user_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `active`.
    pub active: bool,
    /// `name` and `displayName`.
    pub name: NameParts,
}

impl UserDraft {
    /// The draft a `POST` or `PUT` body describes (attributes left out are unset; `active`
    /// defaults to true).
    pub fn from_body(body: &Value) -> ScimResult<Self> {
        let mut draft = Self {
            user_name: String::new(),
            external_id: None,
            active: true,
            name: NameParts::default(),
        };
        for (attribute, value) in object("the User", body)? {
            draft.set(attribute, value)?;
        }
        if draft.user_name.trim().is_empty() {
            return Err(invalid_value("userName", "the person's e-mail"));
        }
        Ok(draft)
    }

    fn set(&mut self, path: &str, value: &Value) -> ScimResult<()> {
        match lower_path(path, USER_URN_PREFIX).as_str() {
            "username" => self.user_name = text("userName", value)?,
            "externalid" => self.external_id = optional_text("externalId", value)?,
            "active" => self.active = boolean("active", value)?,
            "displayname" => self.name.display = optional_text("displayName", value)?,
            "name" => {
                for (part, value) in object("name", value)? {
                    self.set(&format!("name.{part}"), value)?;
                }
            }
            "name.formatted" => self.name.formatted = optional_text("name.formatted", value)?,
            "name.givenname" => self.name.given = optional_text("name.givenName", value)?,
            "name.familyname" => self.name.family = optional_text("name.familyName", value)?,
            // `emails` follows `userName`; `id`, `meta`, `schemas` are read-only; the rest
            // Keyway does not hold.
            _ => {}
        }
        Ok(())
    }

    fn remove(&mut self, path: &str) -> ScimResult<()> {
        match lower_path(path, USER_URN_PREFIX).as_str() {
            "externalid" => self.external_id = None,
            "displayname" => self.name.display = None,
            "name" => self.name = NameParts::default(),
            "name.formatted" => self.name.formatted = None,
            "name.givenname" => self.name.given = None,
            "name.familyname" => self.name.family = None,
            "username" | "active" => {
                return Err(ScimError::bad_request(
                    ScimType::Mutability,
                    format!("{path} is required and cannot be removed"),
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies a `PATCH`'s operations in order.
    pub fn apply(&mut self, request: &PatchRequest) -> ScimResult<()> {
        for operation in &request.operations {
            match (operation.kind()?, operation.path.as_deref()) {
                (Kind::Remove, None) => return Err(no_target()),
                (Kind::Remove, Some(path)) => self.remove(path)?,
                (_, Some(path)) => self.set(path, operation.value()?)?,
                (_, None) => {
                    for (attribute, value) in object("the value", operation.value()?)? {
                        self.set(attribute, value)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl From<&UserRecord> for UserDraft {
    /// The draft of a person as they are, for a `PATCH` to change.
    fn from(user: &UserRecord) -> Self {
        Self {
            user_name: user.email.clone(),
            external_id: user.external_id.clone(),
            active: user.active,
            name: user.name.clone(),
        }
    }
}

fn no_target() -> ScimError {
    ScimError::bad_request(ScimType::NoTarget, "remove needs a path")
}

/// A Group as the identity provider wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDraft {
    /// `displayName`: the access group's name.
    pub name: String,
    /// `members`: account ids.
    pub members: BTreeSet<u32>,
}

/// The account ids of a `members` value: `[{"value": "42"}, …]` (one object alone too).
fn member_ids(value: &Value) -> ScimResult<BTreeSet<u32>> {
    let one = std::slice::from_ref(value);
    let entries = value.as_array().map_or(one, Vec::as_slice);
    entries
        .iter()
        .map(|entry| {
            let id = entry
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid_value("members", "a list of {\"value\": user id}"))?;
            parse_member(id)
        })
        .collect()
}

fn parse_member(id: &str) -> ScimResult<u32> {
    id.trim().parse().map_err(|_| {
        ScimError::bad_request(
            ScimType::InvalidValue,
            format!("member {id:?} is not a user of this site"),
        )
    })
}

impl From<&GroupRecord> for GroupDraft {
    /// The draft of a group as it is, for a `PATCH` to change.
    fn from(group: &GroupRecord) -> Self {
        Self {
            name: group.name.clone(),
            members: group.members.iter().map(|(user_id, _)| *user_id).collect(),
        }
    }
}

impl GroupDraft {
    /// The draft a `POST` or `PUT` body describes (no `members`: nobody).
    pub fn from_body(body: &Value) -> ScimResult<Self> {
        let body = object("the Group", body)?;
        let name = body
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("displayName"))
            .map(|(_, value)| text("displayName", value))
            .transpose()?
            .ok_or_else(|| invalid_value("displayName", "the group's name"))?;
        let members = body
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("members"))
            .map(|(_, value)| member_ids(value))
            .transpose()?
            .unwrap_or_default();
        Ok(Self { name, members })
    }

    fn set(&mut self, kind: Kind, path: &str, value: &Value) -> ScimResult<()> {
        match lower_path(path, GROUP_URN_PREFIX).as_str() {
            "displayname" => self.name = text("displayName", value)?,
            "members" if kind == Kind::Add => self.members.extend(member_ids(value)?),
            "members" => self.members = member_ids(value)?,
            // `id`, `externalId`, `schemas`, `meta`: not changed.
            _ => {}
        }
        Ok(())
    }

    fn remove(&mut self, path: &str, value: Option<&Value>) -> ScimResult<()> {
        let path = attribute_path(path, GROUP_URN_PREFIX);
        let lowered = path.to_ascii_lowercase();
        if lowered == "members" {
            match value {
                // Entra: `{"op": "Remove", "path": "members", "value": [{"value": "42"}]}`.
                Some(value) if !value.is_null() => {
                    for id in member_ids(value)? {
                        self.members.remove(&id);
                    }
                }
                None | Some(_) => self.members.clear(),
            }
        } else if lowered.starts_with("members[") {
            // Okta: `{"op": "remove", "path": "members[value eq \"42\"]"}`.
            let selector = path
                .get("members[".len()..)
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or_default();
            let filter = filter::parse(selector, &["value"]).map_err(|_| {
                ScimError::bad_request(
                    ScimType::InvalidPath,
                    format!("{path} is not members[value eq \"id\"]"),
                )
            })?;
            self.members.remove(&parse_member(&filter.value)?);
        } else if lowered == "displayname" {
            return Err(ScimError::bad_request(
                ScimType::Mutability,
                "displayName is required and cannot be removed",
            ));
        }
        Ok(())
    }

    /// Applies a `PATCH`'s operations in order.
    pub fn apply(&mut self, request: &PatchRequest) -> ScimResult<()> {
        for operation in &request.operations {
            let kind = operation.kind()?;
            match (kind, operation.path.as_deref()) {
                (Kind::Remove, None) => return Err(no_target()),
                (Kind::Remove, Some(path)) => self.remove(path, operation.value.as_ref())?,
                (_, Some(path)) => self.set(kind, path, operation.value()?)?,
                (_, None) => {
                    for (attribute, value) in object("the value", operation.value()?)? {
                        self.set(kind, attribute, value)?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn patch(operations: Value) -> PatchRequest {
        serde_json::from_value(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        }))
        .unwrap()
    }

    fn user() -> UserDraft {
        UserDraft::from_body(&json!({ "userName": "ada@example.com", "active": true })).unwrap()
    }

    #[test]
    fn okta_and_entra_deactivations_both_set_active_false() {
        for operations in [
            json!([{ "op": "replace", "value": { "active": false } }]),
            json!([{ "op": "Replace", "path": "active", "value": "False" }]),
            json!([{ "op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false }]),
        ] {
            let mut draft = user();
            draft.apply(&patch(operations.clone())).unwrap();
            assert!(!draft.active, "{operations}");
        }
    }

    #[test]
    fn entra_name_parts_compose_the_name_and_unknown_attributes_are_ignored() {
        let mut draft = user();
        draft
            .apply(&patch(json!([
                { "op": "Add", "path": "name.givenName", "value": "Ada" },
                { "op": "Add", "path": "name.familyName", "value": "Lovelace" },
                { "op": "Add", "path": "title", "value": "Engineer" },
                { "op": "Add", "value": { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D" } },
            ])))
            .unwrap();
        assert_eq!(draft.name.full_name().as_deref(), Some("Ada Lovelace"));
    }

    #[test]
    fn a_remove_without_path_or_of_a_required_attribute_is_refused() {
        let mut draft = user();
        let error = draft
            .apply(&patch(json!([{ "op": "remove" }])))
            .unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::NoTarget));
        let error = draft
            .apply(&patch(json!([{ "op": "remove", "path": "userName" }])))
            .unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::Mutability));
        let error = draft
            .apply(&patch(
                json!([{ "op": "copy", "path": "active", "value": true }]),
            ))
            .unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidSyntax));
        let error = draft
            .apply(&patch(
                json!([{ "op": "replace", "path": "active", "value": "maybe" }]),
            ))
            .unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn group_members_are_added_and_removed_the_ways_okta_and_entra_send_them() {
        let mut draft = GroupDraft::from_body(&json!({ "displayName": "Staff" })).unwrap();
        draft
            .apply(&patch(json!([
                { "op": "add", "path": "members", "value": [{ "value": "1" }, { "value": "2" }, { "value": "3" }] },
                { "op": "remove", "path": "members[value eq \"2\"]" },
                { "op": "Remove", "path": "members", "value": [{ "value": "3" }] },
                { "op": "replace", "value": { "displayName": "All staff" } },
            ])))
            .unwrap();
        assert_eq!(draft.members, BTreeSet::from([1]));
        assert_eq!(draft.name, "All staff");
        let error = draft
            .apply(&patch(
                json!([{ "op": "remove", "path": "members[display eq \"x\"]" }]),
            ))
            .unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
    }
}
