//! A person's page: who they are, and what the visitor's role lets them change: role,
//! remote opening, remote office mode, privacy override, offline access (one form, as `PATCH
//! /api/v1/sites/{site_id}/people/{user_id}`), their tags ([`super::person_tags`]), a new
//! keypad PIN, removal. What the rules in [`crate::roles`] refuse is not offered; a forced
//! form is refused by the same rules.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::lock_rules::TagView;
use keyway_api::remote::PinDelivery;
use keyway_api::{PersonView, Profile, Role, UpdatePersonRequest};
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{on_site, posted, see_other, OnSite, WithToken};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, role_label, yes_no,
    Section,
};
use super::paths;
use super::people::{parse_role_value, role_value, ROLES};
use super::person_tags::{tags_section, TagOffer};
use crate::api::people;
use crate::api::tags::site_tags;
use crate::error::ApiError;
use crate::remote::keypad::regenerate_pin;
use crate::roles::{check_remove, may_assign, may_manage, may_manage_site, may_view_people, Party};
use crate::AppState;

/// What the page says after a form worked (`?done=…`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    /// `added`, `saved`, `pin_emailed`, `pin_texted`.
    #[serde(default)]
    done: String,
}

/// The rights form as posted: a field left out (not offered) is not changed.
#[derive(Debug, Deserialize)]
pub(super) struct RightsForm {
    /// The new role (stored name).
    role: Option<String>,
    /// `on` or `off`.
    remote_opening: Option<String>,
    /// `on` or `off`.
    office_mode: Option<String>,
    /// `on` or `off`.
    privacy_override: Option<String>,
    /// `on` or `off`.
    offline_access: Option<String>,
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

/// A form with only the session's token (PIN, removal).
#[derive(Debug, Deserialize)]
pub(super) struct TokenForm {
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

impl WithToken for RightsForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl WithToken for TokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Which part of the page an outcome belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// Role and rights.
    Rights,
    /// Their tags.
    Tags,
    /// The keypad PIN.
    Pin,
    /// Removal.
    Remove,
}

/// What the visitor may do to this person, from the same rules the domain applies.
struct Offer {
    /// Change anything at all.
    rights: bool,
    /// The roles they may give (empty: the role is not offered).
    roles: Vec<Role>,
    /// Privacy override and offline access (owner and admins).
    owner_and_admin_rights: bool,
    /// Their tags: handing over, offline access.
    tags: TagOffer,
    /// A new keypad PIN.
    pin: bool,
    /// Removal.
    remove: bool,
}

fn offer(visitor: &OnSite, person: &PersonView) -> Offer {
    let actor = visitor.role();
    let is_self = visitor.user_id() == person.user_id;
    let manages = may_manage(actor, person.role);
    let rights = manages || (is_self && actor == Role::Owner);
    let roles = if manages && !is_self {
        ROLES
            .into_iter()
            .filter(|role| *role == person.role || may_assign(actor, *role))
            .collect()
    } else {
        Vec::new()
    };
    let remove = check_remove(
        Party {
            user_id: visitor.user_id(),
            role: actor,
        },
        Party {
            user_id: person.user_id,
            role: person.role,
        },
    )
    .is_ok();
    Offer {
        rights: rights && actor != Role::User,
        roles,
        owner_and_admin_rights: matches!(actor, Role::Owner | Role::Admin),
        tags: TagOffer {
            hand_over: may_view_people(actor) && (manages || (is_self && actor == Role::Owner)),
            offline_access: may_manage_site(actor) && (manages || is_self),
        },
        pin: is_self || manages,
        remove,
    }
}

fn on_off(name: &str, label: &str, value: bool, hint: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        select id=(name) name=(name) aria-describedby=(format!("{name}-hint")) {
            option value="off" selected[!value] { "Off" }
            option value="on" selected[value] { "On" }
        }
        p.hint id=(format!("{name}-hint")) { (hint) }
    }
}

fn outcome_here(outcome: Option<&(Part, Result<Markup, ApiError>)>, part: Part) -> Markup {
    match outcome {
        Some((at, Ok(message))) if *at == part => message.clone(),
        Some((at, Err(error))) if *at == part => {
            error_alert(error.code(), &public_message(error), None)
        }
        _ => html! {},
    }
}

fn rights_form(
    visitor: &OnSite,
    person: &PersonView,
    offer: &Offer,
    outcome: Option<&(Part, Result<Markup, ApiError>)>,
) -> Markup {
    let site_id = visitor.site_id();
    let tag = person.profile == Profile::Tag;
    html! {
        h2 { "Role and rights" }
        form method="post" action=(paths::person_action(site_id, person.user_id, "rights")) {
            (outcome_here(outcome, Part::Rights))
            @if !offer.roles.is_empty() {
                label for="role" { "Role" }
                select #role name="role" {
                    @for role in &offer.roles {
                        option value=(role_value(*role)) selected[*role == person.role] { (role_label(*role)) }
                    }
                }
            }
            @if !tag {
                (on_off("remote_opening", "Remote opening", person.remote_opening,
                    "Opens doors from the app or the web, away from the lock."))
                (on_off("office_mode", "Remote office mode", person.office_mode,
                    "Leaves doors open from the app; needs remote opening."))
            }
            @if offer.owner_and_admin_rights {
                (on_off("privacy_override", "Privacy override", person.privacy_override,
                    "Opens locks that are in privacy mode."))
                @if !tag {
                    (on_off("offline_access", "Offline access", person.offline_access,
                        "Their digital keys open even when the lock cannot reach its IQ."))
                }
            }
            (csrf_field(&visitor.session.csrf))
            button type="submit" { "Save" }
        }
    }
}

fn details(person: &PersonView) -> Markup {
    html! {
        dl {
            dt { "E-mail" } dd { (person.email.as_deref().unwrap_or("— (tag profile)")) }
            dt { "Phone" } dd { (person.phone.as_deref().unwrap_or("—")) }
            dt { "Role" } dd { (role_label(person.role)) }
            dt { "Status" } dd { @if person.status == keyway_api::PersonStatus::Active { "Active" } @else { "Invited (not signed up yet)" } }
            dt { "Remote opening" } dd { (yes_no(person.remote_opening)) }
            dt { "Remote office mode" } dd { (yes_no(person.office_mode)) }
            dt { "Privacy override" } dd { (yes_no(person.privacy_override)) }
            dt { "Offline access" } dd { (yes_no(person.offline_access)) }
        }
    }
}

fn person_page(
    visitor: &OnSite,
    (person, tags): (&PersonView, &[TagView]),
    outcome: Option<(Part, Result<Markup, ApiError>)>,
    status: StatusCode,
) -> Response {
    let site_id = visitor.site_id();
    let offer = offer(visitor, person);
    let outcome = outcome.as_ref();
    let csrf = &visitor.session.csrf;
    let offered = |part: Part| match part {
        Part::Rights => offer.rights,
        Part::Tags => offer.tags.hand_over || offer.tags.offline_access,
        Part::Pin => offer.pin,
        Part::Remove => offer.remove,
    };
    // A refusal of a form the page does not offer (a forged one) shows at the top.
    let unplaced = outcome.filter(|(part, _)| !offered(*part));
    let body = html! {
        p { a href=(paths::people(site_id)) { "Back to People" } }
        @if let Some((part, _)) = unplaced { (outcome_here(unplaced, *part)) }
        (details(person))
        @if offer.rights { (rights_form(visitor, person, &offer, outcome)) }
        @if offered(Part::Tags) {
            (tags_section(site_id, csrf, person, tags, offer.tags, outcome_here(outcome, Part::Tags)))
        }
        @if offer.pin {
            h2 { "Keypad PIN" }
            form method="post" action=(paths::person_action(site_id, person.user_id, "pin")) {
                (outcome_here(outcome, Part::Pin))
                p.hint { "A new six-digit PIN replaces the old one. It goes to the person by text \
                    message or e-mail; a tag profile without a phone is shown it here, once." }
                (csrf_field(csrf))
                button type="submit" { "Make a new PIN" }
            }
        }
        @if offer.remove {
            h2 { "Remove from the site" }
            form method="post" action=(paths::person_action(site_id, person.user_id, "remove")) {
                (outcome_here(outcome, Part::Remove))
                p.hint { "Their access groups, pods and the guests they invited go too; every key \
                    is revoked." }
                (csrf_field(csrf))
                button.danger type="submit" { "Remove " (person.name) }
            }
        }
    };
    page(
        status,
        &person.name,
        Some(&visitor.nav(Section::People)),
        body,
    )
}

fn done_message(done: &str) -> Option<(Part, Result<Markup, ApiError>)> {
    let message = match done {
        "added" => (Part::Rights, "Added to the site."),
        "saved" => (Part::Rights, "Saved."),
        "pin_emailed" => (Part::Pin, "A new PIN went to the person by e-mail."),
        "pin_texted" => (Part::Pin, "A new PIN went to the person by text message."),
        "tag_assigned" => (Part::Tags, "The tag is theirs now."),
        "tag_saved" => (
            Part::Tags,
            "Saved: the locks get it at their IQ's next push.",
        ),
        "tag_unassigned" => (Part::Tags, "The tag is taken back; it stays the site's."),
        _ => return None,
    };
    Some((message.0, Ok(done_alert(done, message.1))))
}

/// `GET /web/console/sites/{site_id}/people/{user_id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, user_id)): Path<(u32, u32)>,
    Query(done): Query<Done>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    match person_and_tags(&state, &visitor, user_id).await {
        Ok((person, tags)) => {
            let outcome = done_message(&done.done);
            person_page(&visitor, (&person, &tags), outcome, StatusCode::OK)
        }
        Err(error) => error_page(&error, Some(&visitor.nav(Section::People))),
    }
}

/// The person, and the site's tags when the visitor may see them (everyone who may see
/// people).
async fn person_and_tags(
    state: &AppState,
    visitor: &OnSite,
    user_id: u32,
) -> Result<(PersonView, Vec<TagView>), ApiError> {
    let person = people::one(state, visitor.user_id(), visitor.site_id(), user_id).await?;
    let tags = if may_view_people(visitor.role()) {
        site_tags(state, visitor.user_id(), visitor.site_id()).await?
    } else {
        Vec::new()
    };
    Ok((person, tags))
}

/// The page again after a refused form, with the error in `part`.
pub(super) async fn refused(
    state: &AppState,
    visitor: &OnSite,
    user_id: u32,
    part: Part,
    error: ApiError,
) -> Response {
    let status = error.status();
    match person_and_tags(state, visitor, user_id).await {
        Ok((person, tags)) => {
            person_page(visitor, (&person, &tags), Some((part, Err(error))), status)
        }
        Err(_) => error_page(&error, Some(&visitor.nav(Section::People))),
    }
}

fn switch(value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value {
        None => Ok(None),
        Some("on") => Ok(Some(true)),
        Some("off") => Ok(Some(false)),
        Some(_) => Err(ApiError::InvalidInput("choose on or off".into())),
    }
}

fn rights_change(form: &RightsForm) -> Result<UpdatePersonRequest, ApiError> {
    let role = match form.role.as_deref() {
        None => None,
        Some(text) => Some(
            parse_role_value(text).ok_or_else(|| ApiError::InvalidInput("choose a role".into()))?,
        ),
    };
    Ok(UpdatePersonRequest {
        role,
        remote_opening: switch(form.remote_opening.as_deref())?,
        office_mode: switch(form.office_mode.as_deref())?,
        privacy_override: switch(form.privacy_override.as_deref())?,
        offline_access: switch(form.offline_access.as_deref())?,
        ..Default::default()
    })
}

/// `POST …/people/{user_id}/rights`: the role and rights, through the same update as the API.
pub(super) async fn save_rights(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, user_id)): Path<(u32, u32)>,
    form: Result<Form<RightsForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let saved = match rights_change(&form) {
        Ok(change) => people::update(&state, visitor.user_id(), site_id, user_id, change).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => see_other(&format!("{}?done=saved", paths::person(site_id, user_id))),
        Err(error) => refused(&state, &visitor, user_id, Part::Rights, error).await,
    }
}

/// `POST …/people/{user_id}/pin`: a new keypad PIN, delivered as the API delivers it; shown
/// on this page (once) only when it would be shown in the API's answer.
pub(super) async fn new_pin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, user_id)): Path<(u32, u32)>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let made = match regenerate_pin(&state, visitor.user_id(), site_id, user_id).await {
        Ok(made) => made,
        Err(error) => return refused(&state, &visitor, user_id, Part::Pin, error).await,
    };
    let location = |done: &str| format!("{}?done={done}", paths::person(site_id, user_id));
    match (made.delivery, made.pin) {
        (PinDelivery::Emailed, _) => see_other(&location("pin_emailed")),
        (PinDelivery::TextMessage, _) => see_other(&location("pin_texted")),
        (PinDelivery::Shown, pin) => {
            let shown = html! {
                (done_alert("pin_shown", "The new PIN, shown only this once:"))
                p.pin { (pin.unwrap_or_default()) }
            };
            match person_and_tags(&state, &visitor, user_id).await {
                Ok((person, tags)) => person_page(
                    &visitor,
                    (&person, &tags),
                    Some((Part::Pin, Ok(shown))),
                    StatusCode::OK,
                ),
                Err(error) => error_page(&error, Some(&visitor.nav(Section::People))),
            }
        }
    }
}

/// `POST …/people/{user_id}/remove`: removes the person, as the API does, then to People.
pub(super) async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((site_id, user_id)): Path<(u32, u32)>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let (visitor, _) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match people::remove(&state, visitor.user_id(), site_id, user_id).await {
        Ok(()) => see_other(&format!("{}?done=removed", paths::people(site_id))),
        Err(error) => refused(&state, &visitor, user_id, Part::Remove, error).await,
    }
}
