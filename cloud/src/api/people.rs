//! People on a site: list, add, change role and rights, remove (manuals 000 and 002; the rules
//! live in [`crate::roles`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::{
    AddPersonRequest, ApiErrorBody, PeoplePage, PeopleQuery, PersonStatus, PersonView, Profile,
    UpdatePersonRequest,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::access::{role_column, role_on_site, VIEWING_PEOPLE};
use super::extract::{Body, Ids, Params};
use super::people_cursor::{PeopleCursor, PeopleFilter};
use crate::auth::accounts::{normalize_email, normalize_name};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::issuing::reconcile_person;
use crate::membership::{add_by_email, Newcomer, TargetSite};
use crate::phone::{normalize_optional_phone, phone_change};
use crate::pods::mail::site_info;
use crate::profile::{check_change, check_tag_profile_role, owned_by_person, DetailsOwner};
use crate::roles::{check_add, check_remove, check_update, role_name, Party, PersonFlags};
use crate::store::rows;
use crate::AppState;

/// The name the list shows for a person: a place not claimed yet shows the name the admin
/// typed, never the account's own, so adding an address tells nobody whether it has an account
/// or what its owner is called. The `q` filter searches this and nothing else.
macro_rules! shown_name {
    () => {
        "CASE WHEN m.claimed_at IS NULL THEN COALESCE(m.invited_name, u.name) ELSE u.name END"
    };
}

/// A person's view, then the list's sort key (`m.listed_name`, the copy of `shown_name!()`
/// the triggers of migration 0010 keep, see [`person_from_row`]). The phone follows the name's
/// rule: the typed one until the place is claimed (a tag profile's place is claimed from the
/// start: its `users` row is the site's).
const PERSON_COLUMNS: &str = concat!(
    "SELECT u.id, u.email, ",
    shown_name!(),
    ", m.role, m.privacy_override, m.office_mode, m.remote_opening, m.claimed_at IS NOT NULL,
    m.listed_name,
    CASE WHEN m.claimed_at IS NULL THEN m.invited_phone ELSE u.phone END,
    u.email IS NULL, m.offline_access OR m.role = 'owner'
    FROM memberships m JOIN users u ON u.id = m.user_id"
);

/// The listing's order: by the shown name (without case), then by account id.
const PEOPLE_ORDER: &str = " ORDER BY m.listed_name, m.user_id";

/// People per page unless `limit` says otherwise.
pub(super) const DEFAULT_PEOPLE_PER_PAGE: u32 = 50;
/// The largest `limit`.
pub(super) const MAX_PEOPLE_PER_PAGE: u32 = 500;
/// The longest `q`, in characters.
pub(super) const MAX_PEOPLE_SEARCH_CHARS: usize = 100;

fn person_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PersonView> {
    Ok(PersonView {
        user_id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: role_column(row, 3)?,
        privacy_override: row.get(4)?,
        office_mode: row.get(5)?,
        remote_opening: row.get(6)?,
        status: if row.get(7)? {
            PersonStatus::Active
        } else {
            PersonStatus::Invited
        },
        phone: row.get(9)?,
        profile: if row.get(10)? {
            Profile::Tag
        } else {
            Profile::User
        },
        offline_access: row.get(11)?,
    })
}

/// A person on a site, or 404.
fn person(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<PersonView> {
    db.query_row(
        &format!("{PERSON_COLUMNS} WHERE m.site_id = ?1 AND m.user_id = ?2"),
        [site_id, user_id],
        person_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no person {user_id} on this site")))
}

fn flags(view: &PersonView) -> PersonFlags {
    PersonFlags {
        privacy_override: view.privacy_override,
        office_mode: view.office_mode,
        remote_opening: view.remote_opening,
        offline_access: view.offline_access,
    }
}

/// The page size of `query`, or 400 when out of range.
fn page_size(query: &PeopleQuery) -> ApiResult<u32> {
    let limit = query.limit.unwrap_or(DEFAULT_PEOPLE_PER_PAGE);
    if !(1..=MAX_PEOPLE_PER_PAGE).contains(&limit) {
        return Err(ApiError::InvalidInput(format!(
            "limit must be between 1 and {MAX_PEOPLE_PER_PAGE}"
        )));
    }
    Ok(limit)
}

/// The filters of `query`, or 400 when the search text is too long or has control characters.
fn people_filter(query: &PeopleQuery) -> ApiResult<PeopleFilter> {
    let text = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty());
    if let Some(text) = text {
        if text.chars().count() > MAX_PEOPLE_SEARCH_CHARS || text.chars().any(char::is_control) {
            return Err(ApiError::InvalidInput(format!(
                "q must be at most {MAX_PEOPLE_SEARCH_CHARS} characters, without control \
                 characters"
            )));
        }
    }
    Ok(PeopleFilter {
        text: text.map(str::to_string),
        role: query.role,
        status: query.status,
        profile: query.profile,
    })
}

/// `text` as a LIKE pattern that matches it anywhere, `\` escaping LIKE's own `%` and `_`.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The `AND ...` conditions of `filter`, their values pushed onto `values` (`?1` is the site).
fn filter_conditions(filter: &PeopleFilter, values: &mut Vec<SqlValue>) -> String {
    let mut conditions = String::new();
    if let Some(text) = &filter.text {
        values.push(SqlValue::Text(contains_pattern(text)));
        let n = values.len();
        conditions.push_str(&format!(
            concat!(
                " AND ((",
                shown_name!(),
                ") LIKE ?{n} ESCAPE '\\' OR u.email LIKE ?{n} ESCAPE '\\')"
            ),
            n = n
        ));
    }
    if let Some(role) = filter.role {
        values.push(SqlValue::Text(role_name(role).into()));
        conditions.push_str(&format!(" AND m.role = ?{}", values.len()));
    }
    match filter.status {
        Some(PersonStatus::Active) => conditions.push_str(" AND m.claimed_at IS NOT NULL"),
        Some(PersonStatus::Invited) => conditions.push_str(" AND m.claimed_at IS NULL"),
        None => {}
    }
    match filter.profile {
        Some(Profile::Tag) => conditions.push_str(" AND u.email IS NULL"),
        Some(Profile::User) => conditions.push_str(" AND u.email IS NOT NULL"),
        None => {}
    }
    conditions
}

/// One page of the site's people after `after` (from the start without it), and how many
/// match in all. Pages by keyset, so people added or removed meanwhile shift nobody else.
fn people_page(
    db: &Connection,
    site_id: u32,
    filter: &PeopleFilter,
    after: Option<&PeopleCursor>,
    limit: u32,
) -> ApiResult<PeoplePage> {
    let mut values = vec![SqlValue::Integer(site_id.into())];
    let conditions = filter_conditions(filter, &mut values);
    // The count walks no users unless a filter needs their names, addresses or profiles.
    let join = if filter.text.is_some() || filter.profile.is_some() {
        " JOIN users u ON u.id = m.user_id"
    } else {
        ""
    };
    let total: i64 = db.query_row(
        &format!("SELECT COUNT(*) FROM memberships m{join} WHERE m.site_id = ?1{conditions}"),
        params_from_iter(&values),
        |row| row.get(0),
    )?;
    let mut sql = format!("{PERSON_COLUMNS} WHERE m.site_id = ?1{conditions}");
    if let Some(after) = after {
        values.push(SqlValue::Text(after.listed_name.clone()));
        values.push(SqlValue::Integer(after.user_id.into()));
        let n = values.len();
        sql.push_str(&format!(
            " AND (m.listed_name, m.user_id) > (?{}, ?{n})",
            n - 1
        ));
    }
    // One more than the page: whether there is a next page at all.
    values.push(SqlValue::Integer(i64::from(limit) + 1));
    sql.push_str(&format!("{PEOPLE_ORDER} LIMIT ?{}", values.len()));
    let mut rows = rows(db, &sql, params_from_iter(&values), |row| {
        Ok((person_from_row(row)?, row.get::<_, String>(8)?))
    })?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|(person, listed_name)| {
            PeopleCursor {
                listed_name: listed_name.clone(),
                user_id: person.user_id,
            }
            .encode(site_id, filter)
        })
    } else {
        None
    };
    Ok(PeoplePage {
        people: rows.into_iter().map(|(person, _)| person).collect(),
        next_cursor,
        total: total.unsigned_abs(),
    })
}

/// One page of the site's people (owner, admins and super users), ordered by the name shown
/// and then by account id. Follow `next_cursor` for the next page; people added or removed
/// meanwhile never make another person appear twice or go missing.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/people",
    tag = "people",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id"), PeopleQuery),
    responses(
        (status = 200, body = PeoplePage),
        (status = 400, body = ApiErrorBody, description = "A limit out of range, a search text \
            too long, or a cursor not given out for this site and these filters"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn list_people(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Params(query): Params<PeopleQuery>,
) -> ApiResult<Json<PeoplePage>> {
    Ok(Json(list(&state, caller.user_id, site_id, query).await?))
}

/// One page of the people of `site_id` as `user_id` may see them (the JSON list and the
/// console's People page).
pub(crate) async fn list(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    query: PeopleQuery,
) -> ApiResult<PeoplePage> {
    // Input is judged only once the caller may see the list: outsiders learn nothing but 404.
    VIEWING_PEOPLE
        .read(state, site_id, user_id, move |db| {
            let limit = page_size(&query)?;
            let filter = people_filter(&query)?;
            let after = query
                .cursor
                .as_deref()
                .map(|text| PeopleCursor::decode(text, site_id, &filter))
                .transpose()?;
            people_page(db, site_id, &filter, after.as_ref(), limit)
        })
        .await
}

/// One person of `site_id`, for someone who may see the site's people.
pub(crate) async fn one(
    state: &AppState,
    user_id: u32,
    site_id: u32,
    person_id: u32,
) -> ApiResult<PersonView> {
    VIEWING_PEOPLE
        .read(state, site_id, user_id, move |db| {
            person(db, site_id, person_id)
        })
        .await
}

/// Adds a person to the site: by e-mail (a user profile) or without one (a tag profile, who
/// opens with a tag or a keypad PIN and has no app). An address without a verified account
/// gets an invitation e-mail and a place whose digital keys and remote opening take effect
/// once they sign up and verify it; nobody else ever sets their password.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/people",
    tag = "people",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = AddPersonRequest,
    responses(
        (status = 201, body = PersonView),
        (status = 400, body = ApiErrorBody, description = "A bad e-mail, name or phone \
            (`invalid_phone`)"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Already on the site, or a tag \
            profile with a role above user (`profile_incomplete`)"),
    )
)]
pub(super) async fn add_person(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<AddPersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let view = add(&state, caller.user_id, site_id, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `user_id` adds a person to `site_id` (the JSON API and the console's form).
pub(crate) async fn add(
    state: &AppState,
    caller_id: u32,
    site_id: u32,
    request: AddPersonRequest,
) -> ApiResult<PersonView> {
    let email = request.email.as_deref().map(normalize_email).transpose()?;
    let name = normalize_name(&request.name)?;
    let phone = normalize_optional_phone(request.phone.as_deref())?;
    let role = request.role;
    let now = state.clock.now();
    let public_url = state.public_url();
    let view = state
        .store
        .transaction(move |tx| {
            let actor = role_on_site(tx, site_id, caller_id)?;
            let Some(email) = email else {
                check_add(actor, role)?;
                check_tag_profile_role(role)?;
                let user_id = add_tag_profile(tx, site_id, &name, phone.as_deref(), now)?;
                return person(tx, site_id, user_id);
            };
            let site = site_info(tx, site_id)?;
            let target = TargetSite {
                site_id,
                name: &site.name,
                public_url: &public_url,
            };
            let newcomer = Newcomer {
                email: &email,
                name: &name,
                alias: None,
                role,
                phone: phone.as_deref(),
            };
            let Some(user_id) = add_by_email(tx, actor, target, newcomer, now)? else {
                return Err(ApiError::Conflict(format!(
                    "{email} is already on this site"
                )));
            };
            person(tx, site_id, user_id)
        })
        .await?;
    state.mail.wake();
    Ok(view)
}

/// Makes a tag profile on `site_id`: a person row without an e-mail (it can never sign in)
/// and a place that is the site's from the start. Returns its id.
fn add_tag_profile(
    db: &Connection,
    site_id: u32,
    name: &str,
    phone: Option<&str>,
    now: i64,
) -> ApiResult<u32> {
    db.execute(
        "INSERT INTO users (name, phone, created_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![name, phone, now],
    )?;
    let user_id = u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("person ids ran out".into()))?;
    db.execute(
        "INSERT INTO memberships (site_id, user_id, role, created_at, claimed_at, listed_name)
         VALUES (?1, ?2, 'user', ?3, ?3, ?4)",
        rusqlite::params![site_id, user_id, now, name],
    )?;
    Ok(user_id)
}

/// Writes a change of a person's name or phone where the site keeps them: a tag profile's own
/// row, or the typed details of a place not claimed yet ([`check_change`] refused the rest).
fn write_details(
    db: &Connection,
    site_id: u32,
    current: &PersonView,
    change: &UpdatePersonRequest,
) -> ApiResult<()> {
    let name = change.name.as_deref().map(normalize_name).transpose()?;
    let phone = phone_change(change.phone.as_deref())?;
    if name.is_none() && phone.is_none() {
        return Ok(());
    }
    let claimed = current.status == PersonStatus::Active;
    let sql = match DetailsOwner::of(current.profile, claimed) {
        DetailsOwner::SiteTagProfile => {
            "UPDATE users SET name = COALESCE(?1, name),
             phone = CASE WHEN ?2 THEN ?3 ELSE phone END WHERE id = ?5"
        }
        DetailsOwner::SiteUntilClaimed => {
            "UPDATE memberships SET invited_name = COALESCE(?1, invited_name),
             invited_phone = CASE WHEN ?2 THEN ?3 ELSE invited_phone END
             WHERE site_id = ?4 AND user_id = ?5"
        }
        DetailsOwner::Person => return Err(owned_by_person()),
    };
    db.execute(
        sql,
        rusqlite::params![
            name,
            phone.is_some(),
            phone.flatten(),
            site_id,
            current.user_id
        ],
    )?;
    Ok(())
}

/// Changes a person's role or rights; fields left out stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site_id}/people/{user_id}",
    tag = "people",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("user_id" = u32, Path, description = "The person's account id"),
    ),
    request_body = UpdatePersonRequest,
    responses(
        (status = 200, body = PersonView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn update_person(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, user_id)): Ids<(u32, u32)>,
    Body(request): Body<UpdatePersonRequest>,
) -> ApiResult<Json<PersonView>> {
    Ok(Json(
        update(&state, caller.user_id, site_id, user_id, request).await?,
    ))
}

/// `caller_id` changes the role or rights of `user_id` on `site_id` (the JSON API and the
/// console's form).
pub(crate) async fn update(
    state: &AppState,
    caller_id: u32,
    site_id: u32,
    user_id: u32,
    request: UpdatePersonRequest,
) -> ApiResult<PersonView> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let actor = Party {
                user_id: caller_id,
                role: role_on_site(tx, site_id, caller_id)?,
            };
            let current = person(tx, site_id, user_id)?;
            let before = flags(&current);
            let target = Party {
                user_id,
                role: current.role,
            };
            let (role, after) = check_update(actor, target, before, &request)?;
            let claimed = current.status == PersonStatus::Active;
            check_change(current.profile, claimed, &request)?;
            write_details(tx, site_id, &current, &request)?;
            tx.execute(
                "UPDATE memberships SET role = ?1, privacy_override = ?2, office_mode = ?3,
                 remote_opening = ?4, offline_access = ?5 WHERE site_id = ?6 AND user_id = ?7",
                rusqlite::params![
                    role_name(role),
                    after.privacy_override,
                    after.office_mode,
                    after.remote_opening,
                    after.offline_access,
                    site_id,
                    user_id
                ],
            )?;
            // A key with a right taken away must stop working: offline access too, or the
            // old key would still open a lock cut off from its IQ.
            let lost_a_key_right = (before.privacy_override && !after.privacy_override)
                || (before.office_mode && !after.office_mode)
                || (before.offline_access && !after.offline_access);
            if lost_a_key_right {
                reconcile_person(tx, site_id, user_id, now)?;
            }
            person(tx, site_id, user_id)
        })
        .await
}

/// Removes a person from the site, with everything that hangs on them: their access groups,
/// their pod memberships, and the guests they invited (who are told by e-mail). Every key
/// this takes away is revoked through the denylist.
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site_id}/people/{user_id}",
    tag = "people",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("user_id" = u32, Path, description = "The person's account id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub(super) async fn remove_person(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, user_id)): Ids<(u32, u32)>,
) -> ApiResult<StatusCode> {
    remove(&state, caller.user_id, site_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `caller_id` removes `user_id` from `site_id` (the JSON API and the console's form).
pub(crate) async fn remove(
    state: &AppState,
    caller_id: u32,
    site_id: u32,
    user_id: u32,
) -> ApiResult<()> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let actor = Party {
                user_id: caller_id,
                role: role_on_site(tx, site_id, caller_id)?,
            };
            let target = Party {
                user_id,
                role: person(tx, site_id, user_id)?.role,
            };
            check_remove(actor, target)?;
            crate::membership::remove(tx, site_id, user_id, now)
        })
        .await?;
    state.mail.wake();
    Ok(())
}
