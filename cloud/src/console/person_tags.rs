//! A person's tags, on their page: the tags they hold with each one's offline access and master
//! key; handing them a registered tag by its id, taking one back, and (owner and admins)
//! offline access per tag. Their digital keys' offline access stays in the page's rights
//! form (one place for it). The work is `PATCH /api/v1/sites/{site_id}/tags/{tag_id}`'s
//! ([`crate::api::tags::change_tag`]); its rules decide, and the page offers only what they
//! allow.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use keyway_api::lock_rules::{TagUid, TagView, UpdateTagRequest};
use keyway_api::PersonView;
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{posted, see_other, WithToken};
use super::layout::{csrf_field, yes_no};
use super::paths;
use super::person::{refused, Part};
use crate::api::tags::change_tag;
use crate::error::ApiError;
use crate::AppState;

/// A tag form as posted: a field left out is not changed.
#[derive(Debug, Deserialize)]
pub(super) struct TagForm {
    /// The tag to hand over (assign form).
    tag_id: Option<String>,
    /// `on` or `off` (offline access form).
    offline_access: Option<String>,
    /// Present: take the tag back.
    unassign: Option<String>,
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

impl WithToken for TagForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What the visitor may do with the person's tags.
#[derive(Debug, Clone, Copy)]
pub(super) struct TagOffer {
    /// Hand tags to them and take them back.
    pub(super) hand_over: bool,
    /// Change a tag's offline access (owner and admins).
    pub(super) offline_access: bool,
}

/// The tags section: `outcome` is the part's message or refusal, already rendered.
pub(super) fn tags_section(
    site_id: u32,
    csrf: &str,
    person: &PersonView,
    tags: &[TagView],
    offer: TagOffer,
    outcome: Markup,
) -> Markup {
    let held: Vec<&TagView> = tags
        .iter()
        .filter(|tag| tag.user_id == Some(person.user_id))
        .collect();
    let action =
        |tag_id: &str| paths::person_action(site_id, person.user_id, &format!("tags/{tag_id}"));
    html! {
        h2 id="tags" { "Tags and keys" }
        (outcome)
        p { "Digital keys work offline: " (yes_no(person.offline_access))
            @if offer.offline_access { " (changed under Role and rights)." } }
        @if held.is_empty() { p { "No tag." } } @else {
            div.table-wrap { table.tags {
                thead { tr { th scope="col" { "Tag" } th scope="col" { "Offline access" }
                    th scope="col" { "Master key" } @if offer.hand_over { th scope="col" { "Actions" } } } }
                tbody { @for tag in &held {
                    tr data-tag=(tag.tag_id) data-offline=(tag.offline_access) {
                        td { code { (tag.tag_id) } }
                        td {
                            @if offer.offline_access && !tag.master_key_fixed {
                                form.inline method="post" action=(action(&tag.tag_id)) {
                                    label for=(format!("offline-{}", tag.tag_id)) { "Offline access of tag " (tag.tag_id) }
                                    select id=(format!("offline-{}", tag.tag_id)) name="offline_access" {
                                        option value="off" selected[!tag.offline_access] { "Off" }
                                        option value="on" selected[tag.offline_access] { "On" }
                                    }
                                    (csrf_field(csrf))
                                    button type="submit" { "Save" }
                                }
                            } @else { (yes_no(tag.offline_access)) }
                        }
                        td { (yes_no(tag.master_key)) @if tag.master_key_fixed { " (the owner's)" } }
                        @if offer.hand_over { td {
                            @if !tag.master_key_fixed {
                                form.inline method="post" action=(action(&tag.tag_id)) {
                                    input type="hidden" name="unassign" value="1";
                                    (csrf_field(csrf))
                                    button.danger type="submit" aria-label=(format!("Take back tag {}", tag.tag_id)) { "Take back" }
                                }
                            }
                        } }
                    }
                } }
            } }
        }
        @if offer.hand_over {
            form method="post" action=(paths::person_action(site_id, person.user_id, "tags")) {
                label for="tag_id" { "Hand them a registered tag (its id: 14 hexadecimal digits)" }
                input #tag_id type="text" name="tag_id" required pattern="[0-9A-Fa-f]{14}"
                    maxlength="14" autocomplete="off" spellcheck="false";
                p.hint { "A tag that changes hands loses its offline access and master key." }
                (csrf_field(csrf))
                button type="submit" { "Hand over" }
            }
        }
    }
}

fn tag_uid(text: &str) -> Result<TagUid, ApiError> {
    TagUid::parse(text.trim()).ok_or_else(|| {
        ApiError::InvalidInput("a tag id is the card's UID: 14 hexadecimal digits".into())
    })
}

/// Changes the tag for `user_id`'s page, then back to it saying `done`.
async fn on_tag(
    state: &AppState,
    (site_id, user_id): (u32, u32),
    visitor: super::guard::OnSite,
    uid: Result<TagUid, ApiError>,
    change: Result<UpdateTagRequest, ApiError>,
    done: &str,
) -> Response {
    let changed = match (uid, change) {
        (Ok(uid), Ok(change)) => change_tag(state, visitor.user_id(), (site_id, uid), change)
            .await
            .map(drop),
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    match changed {
        Ok(()) => see_other(&format!(
            "{}?done={done}#tags",
            paths::person(site_id, user_id)
        )),
        Err(error) => refused(state, &visitor, user_id, Part::Tags, error).await,
    }
}

/// `POST …/people/{user_id}/tags`: hands them the tag with the posted id.
pub(super) async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, user_id)): Path<(u32, u32)>,
    form: Result<Form<TagForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let uid = tag_uid(form.tag_id.as_deref().unwrap_or_default());
    let change = Ok(UpdateTagRequest {
        user_id: Some(user_id),
        ..Default::default()
    });
    on_tag(
        &state,
        (site_id, user_id),
        visitor,
        uid,
        change,
        "tag_assigned",
    )
    .await
}

/// `POST …/people/{user_id}/tags/{tag_id}`: its offline access, or taking it back.
pub(super) async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, user_id, tag_id)): Path<(u32, u32, String)>,
    form: Result<Form<TagForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let uid = tag_uid(&tag_id);
    let (change, done) = match (form.unassign.is_some(), form.offline_access.as_deref()) {
        (true, _) => (
            Ok(UpdateTagRequest {
                unassign: true,
                ..Default::default()
            }),
            "tag_unassigned",
        ),
        (false, Some(value @ ("on" | "off"))) => (
            Ok(UpdateTagRequest {
                offline_access: Some(value == "on"),
                ..Default::default()
            }),
            "tag_saved",
        ),
        (false, _) => (
            Err(ApiError::InvalidInput("choose on or off".into())),
            "tag_saved",
        ),
    };
    on_tag(&state, (site_id, user_id), visitor, uid, change, done).await
}
