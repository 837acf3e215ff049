//! The People page: the site's people a page at a time, searched and filtered exactly as
//! `GET /api/v1/sites/{site_id}/people` does (the same listing and cursor), and the form that
//! adds a person (a user profile by e-mail, or a tag profile without one).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use keyway_api::{
    AddPersonRequest, ErrorCode, PeoplePage, PeopleQuery, PersonStatus, PersonView, Profile, Role,
};
use maud::{html, Markup};
use serde::Deserialize;

use super::guard::{on_site, posted, see_other, OnSite, WithToken};
use super::layout::{
    csrf_field, done_alert, error_alert, error_page, page, public_message, role_label, Section,
};
use super::paths;
use crate::api::people;
use crate::error::ApiError;
use crate::roles::may_assign;
use crate::AppState;

/// People per page of the console's list.
pub(crate) const PEOPLE_PER_PAGE: u32 = 50;

/// The roles in the order the pages offer them.
pub(super) const ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::SuperUser, Role::User];

/// The search form as the browser sends it (an empty choice is no filter).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Search {
    /// Text in the name or e-mail.
    #[serde(default)]
    q: String,
    /// `owner`, `admin`, `super_user`, `user`, or empty.
    #[serde(default)]
    role: String,
    /// `active`, `invited`, or empty.
    #[serde(default)]
    status: String,
    /// Where the page starts (the list's own cursor).
    #[serde(default)]
    cursor: String,
    /// What the last form did (`removed`).
    #[serde(default)]
    done: String,
}

/// The stored name of `role` (`super_user`), as the forms send it.
pub(super) fn role_value(role: Role) -> &'static str {
    crate::roles::role_name(role)
}

/// The role a form sent.
pub(super) fn parse_role_value(text: &str) -> Option<Role> {
    ROLES.into_iter().find(|role| role_value(*role) == text)
}

fn parse_status(text: &str) -> Option<PersonStatus> {
    match text {
        "active" => Some(PersonStatus::Active),
        "invited" => Some(PersonStatus::Invited),
        _ => None,
    }
}

impl Search {
    fn query(&self) -> PeopleQuery {
        let non_empty = |text: &str| Some(text.to_string()).filter(|text| !text.is_empty());
        PeopleQuery {
            limit: Some(PEOPLE_PER_PAGE),
            cursor: non_empty(&self.cursor),
            q: non_empty(self.q.trim()),
            role: parse_role_value(&self.role),
            status: parse_status(&self.status),
            profile: None,
        }
    }

    /// The address of a page with the same filters, from `cursor` (the first page without).
    fn page_link(&self, site_id: u32, cursor: &str) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("role", self.role.as_str()),
            ("status", self.status.as_str()),
            ("cursor", cursor),
        ];
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()))
            .finish();
        format!("{}?{query}", paths::people(site_id))
    }
}

fn status_label(status: PersonStatus) -> &'static str {
    match status {
        PersonStatus::Active => "Active",
        PersonStatus::Invited => "Invited",
    }
}

fn search_form(site_id: u32, search: &Search, error: Option<&ApiError>) -> Markup {
    let option = |value: &str, label: &str, chosen: &str| {
        html! { option value=(value) selected[value == chosen] { (label) } }
    };
    html! {
        form.search method="get" action=(paths::people(site_id)) role="search" {
            label for="q" { "Search by name or e-mail" }
            input #q type="search" name="q" value=(search.q) maxlength="100"
                aria-describedby=[error.map(|_| "search-error")];
            @if let Some(error) = error {
                (error_alert(error.code(), &public_message(error), Some("search-error")))
            }
            label for="role" { "Role" }
            select #role name="role" {
                (option("", "Any role", &search.role))
                @for role in ROLES { (option(role_value(role), role_label(role), &search.role)) }
            }
            label for="status" { "Status" }
            select #status name="status" {
                (option("", "Any status", &search.status))
                (option("active", "Active", &search.status))
                (option("invited", "Invited", &search.status))
            }
            button type="submit" { "Search" }
        }
    }
}

fn people_table(site_id: u32, page: &PeoplePage) -> Markup {
    html! {
        div.table-wrap {
            table {
                caption { (page.total) " people match" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" }
                    th scope="col" { "Role" } th scope="col" { "Status" } } }
                tbody {
                    @for person in &page.people {
                        tr {
                            td { a href=(paths::person(site_id, person.user_id)) { (person.name) } }
                            td { @match (&person.email, person.profile) {
                                (Some(email), _) => (email),
                                (None, Profile::Tag) => "Tag profile",
                                (None, Profile::User) => "—",
                            } }
                            td { (role_label(person.role)) }
                            td { (status_label(person.status)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /web/console/sites/{site_id}/people`: one page of people, with the search form.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    Query(search): Query<Search>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::People);
    let listed = people::list(&state, visitor.user_id(), site_id, search.query()).await;
    let listing = match listed {
        Ok(listing) => listing,
        // A bad search is the search field's error; a refusal is the page's.
        Err(error @ ApiError::InvalidInput(_)) => {
            let body = html! { (search_form(site_id, &search, Some(&error))) };
            return page(StatusCode::BAD_REQUEST, "People", Some(&nav), body);
        }
        Err(error) => return error_page(&error, Some(&nav)),
    };
    let body = html! {
        @if search.done == "removed" { (done_alert("removed", "Removed from the site.")) }
        p { a href=(paths::new_person(site_id)) { "Add a person" } " · "
            a href=(paths::import(site_id)) { "Import people from a CSV file" } }
        (search_form(site_id, &search, None))
        (people_table(site_id, &listing))
        nav aria-label="Pages" {
            @if !search.cursor.is_empty() {
                a href=(search.page_link(site_id, "")) { "First page" } " "
            }
            @if let Some(cursor) = &listing.next_cursor {
                a rel="next" href=(search.page_link(site_id, cursor)) { "Next page" }
            }
        }
    };
    page(StatusCode::OK, "People", Some(&nav), body)
}

/// The add form as posted.
#[derive(Debug, Deserialize)]
pub(super) struct AddForm {
    /// `user` (by e-mail) or `tag` (no e-mail).
    #[serde(default)]
    profile: String,
    /// The e-mail, for a user profile.
    #[serde(default)]
    email: String,
    /// The name shown.
    #[serde(default)]
    name: String,
    /// The role (stored name).
    #[serde(default)]
    role: String,
    /// A phone in international form, or empty.
    #[serde(default)]
    phone: String,
    /// The session's form token.
    #[serde(default)]
    csrf: String,
}

impl WithToken for AddForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Which field an add error belongs next to.
fn add_error_field(error: &ApiError) -> &'static str {
    match error.code() {
        ErrorCode::InvalidPhone => "phone",
        ErrorCode::Conflict => "email",
        ErrorCode::ProfileIncomplete => "role",
        _ => "form",
    }
}

fn add_form(visitor: &OnSite, form: Option<&AddForm>, error: Option<&ApiError>) -> Markup {
    let site_id = visitor.site_id();
    let error_at = error.map(add_error_field);
    let here = |field: &str| -> Markup {
        match error {
            Some(error) if error_at == Some(field) => error_alert(
                error.code(),
                &public_message(error),
                Some(&format!("{field}-error")),
            ),
            _ => html! {},
        }
    };
    let described = |field: &str| (error_at == Some(field)).then(|| format!("{field}-error"));
    let value = |pick: fn(&AddForm) -> &str| form.map(pick).unwrap_or_default().to_string();
    let chosen_role = form.map(|form| form.role.as_str()).unwrap_or("user");
    let tag = form.is_some_and(|form| form.profile == "tag");
    html! {
        form method="post" action=(paths::people(site_id)) {
            (here("form"))
            fieldset {
                legend { "Profile" }
                label.check { input type="radio" name="profile" value="user" checked[!tag];
                    "User profile: opens with the Keyway app; invited by e-mail" }
                label.check { input type="radio" name="profile" value="tag" checked[tag];
                    "Tag profile: no app or e-mail; opens with a tag or a keypad PIN" }
            }
            label for="email" { "E-mail (user profile)" }
            input #email type="email" name="email" value=(value(|f| &f.email))
                autocomplete="off" aria-describedby=[described("email")];
            (here("email"))
            label for="name" { "Name" }
            input #name type="text" name="name" value=(value(|f| &f.name)) required
                maxlength="100";
            label for="role" { "Role" }
            select #role name="role" aria-describedby=[described("role")] {
                @for role in ROLES.into_iter().filter(|role| may_assign(visitor.role(), *role)) {
                    option value=(role_value(role)) selected[role_value(role) == chosen_role] {
                        (role_label(role))
                    }
                }
            }
            (here("role"))
            label for="phone" { "Phone (optional, international form such as +447700900123)" }
            input #phone type="tel" name="phone" value=(value(|f| &f.phone))
                autocomplete="off" aria-describedby=[described("phone")];
            (here("phone"))
            (csrf_field(&visitor.session.csrf))
            button type="submit" { "Add person" }
        }
    }
}

/// `GET /web/console/sites/{site_id}/people/new`: the add form, offering only the roles the
/// visitor may give.
pub(super) async fn new_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
) -> Response {
    let visitor = match on_site(&state, &headers, site_id).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let nav = visitor.nav(Section::People);
    if !crate::roles::may_view_people(visitor.role()) {
        let refused =
            ApiError::Forbidden("your role on this site does not allow adding people".into());
        return error_page(&refused, Some(&nav));
    }
    page(
        StatusCode::OK,
        "Add a person",
        Some(&nav),
        add_form(&visitor, None, None),
    )
}

/// `POST /web/console/sites/{site_id}/people`: adds the person (as `POST
/// /api/v1/sites/{site_id}/people` does), then to their page; a refusal shows the form again
/// with the error next to its field.
pub(super) async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(site_id): Path<u32>,
    form: Result<Form<AddForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match posted(&state, &headers, site_id, form).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let Some(role) = parse_role_value(&form.role) else {
        let error = ApiError::InvalidInput("choose a role".into());
        return add_refused(&visitor, &form, &error);
    };
    let text = |value: &str| Some(value.trim().to_string()).filter(|value| !value.is_empty());
    let request = AddPersonRequest {
        email: if form.profile == "tag" {
            None
        } else {
            text(&form.email)
        },
        name: form.name.clone(),
        role,
        phone: text(&form.phone),
    };
    if form.profile != "tag" && request.email.is_none() {
        let error =
            ApiError::InvalidInput("enter the person's e-mail, or choose a tag profile".into());
        return add_refused(&visitor, &form, &error);
    }
    match people::add(&state, visitor.user_id(), site_id, request).await {
        Ok(person) => see_other(&format!(
            "{}?done=added",
            paths::person(site_id, person.user_id)
        )),
        Err(error) => add_refused(&visitor, &form, &error),
    }
}

/// The add form again, as posted, with `error` next to its field.
fn add_refused(visitor: &OnSite, form: &AddForm, error: &ApiError) -> Response {
    let nav = visitor.nav(Section::People);
    let body = add_form(visitor, Some(form), Some(error));
    page(error.status(), "Add a person", Some(&nav), body)
}

/// The person of the site with exactly this e-mail, through the site's people list.
pub(super) async fn person_by_email(
    state: &AppState,
    visitor: &OnSite,
    email: &str,
) -> Result<PersonView, ApiError> {
    let wanted = email.trim().to_lowercase();
    let query = PeopleQuery {
        q: Some(wanted.clone()),
        limit: Some(10),
        ..Default::default()
    };
    people::list(state, visitor.user_id(), visitor.site_id(), query)
        .await?
        .people
        .into_iter()
        .find(|person| person.email.as_deref() == Some(wanted.as_str()))
        .ok_or_else(|| ApiError::NotFound(format!("nobody on this site has the e-mail {wanted}")))
}
