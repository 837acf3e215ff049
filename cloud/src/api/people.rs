//! People on a site: list, add, change role and rights, remove (manuals 000 and 002; the rules
//! live in [`crate::roles`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_protocol::api::{AddPersonRequest, ApiErrorBody, PersonView, UpdatePersonRequest};
use rusqlite::{Connection, OptionalExtension};

use super::access::{role_column, role_on_site, VIEWING_PEOPLE};
use super::extract::{Body, Ids};
use crate::auth::accounts::{hash_off_thread, normalize_email, normalize_name, validate_password};
use crate::auth::{insert_account, Authenticated};
use crate::error::{ApiError, ApiResult};
use crate::iq::push_site_config;
use crate::issuing::reconcile_person;
use crate::roles::{check_add, check_remove, check_update, role_name, Party, PersonFlags};
use crate::store::rows;
use crate::AppState;

const PERSON_COLUMNS: &str = "SELECT u.id, u.email, u.name, m.role, m.privacy_override,
    m.office_mode, m.remote_opening FROM memberships m JOIN users u ON u.id = m.user_id";

fn person_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PersonView> {
    Ok(PersonView {
        user_id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: role_column(row, 3)?,
        privacy_override: row.get(4)?,
        office_mode: row.get(5)?,
        remote_opening: row.get(6)?,
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
    }
}

/// Everyone on the site (owner, admins and super users).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/people",
    tag = "people",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = Vec<PersonView>),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub async fn list_people(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<Vec<PersonView>>> {
    let people = VIEWING_PEOPLE
        .read(&state, site_id, caller.user_id, move |db| {
            let sql = format!("{PERSON_COLUMNS} WHERE m.site_id = ?1 ORDER BY u.id");
            Ok(rows(db, &sql, [site_id], person_from_row)?)
        })
        .await?;
    Ok(Json(people))
}

/// Adds a person to the site, creating their account when the e-mail is new (with `password`
/// as its first password; an existing account keeps its own).
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/people",
    tag = "people",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    request_body = AddPersonRequest,
    responses(
        (status = 201, body = PersonView),
        (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 409, body = ApiErrorBody, description = "Already on the site"),
    )
)]
pub async fn add_person(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
    Body(request): Body<AddPersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let email = normalize_email(&request.email)?;
    let name = normalize_name(&request.name)?;
    if let Some(password) = &request.password {
        validate_password(password)?;
    }
    let role = request.role;
    // Check the caller's rights before spending time on a password hash.
    let lookup = email.clone();
    let existing: Option<u32> = state
        .store
        .run(move |db| {
            check_add(role_on_site(db, site_id, caller.user_id)?, role)?;
            find_account(db, &lookup)
        })
        .await?;
    let password_hash = match (existing, request.password) {
        (None, Some(password)) => Some(hash_off_thread(password).await?),
        _ => None,
    };
    let now = state.clock.now();
    let view = state
        .store
        .transaction(move |tx| {
            check_add(role_on_site(tx, site_id, caller.user_id)?, role)?;
            let user_id = match find_account(tx, &email)? {
                Some(user_id) => user_id,
                None => insert_account(tx, &email, &name, password_hash.as_deref(), now)?,
            };
            let added = tx.execute(
                "INSERT OR IGNORE INTO memberships (site_id, user_id, role, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![site_id, user_id, role_name(role), now],
            )?;
            if added == 0 {
                return Err(ApiError::Conflict(format!(
                    "{email} is already on this site"
                )));
            }
            person(tx, site_id, user_id)
        })
        .await?;
    push_site_config(&state, site_id).await;
    Ok((StatusCode::CREATED, Json(view)))
}

fn find_account(db: &Connection, email: &str) -> ApiResult<Option<u32>> {
    Ok(db
        .query_row("SELECT id FROM users WHERE email = ?1", [email], |row| {
            row.get(0)
        })
        .optional()?)
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
pub async fn update_person(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, user_id)): Ids<(u32, u32)>,
    Body(request): Body<UpdatePersonRequest>,
) -> ApiResult<Json<PersonView>> {
    let now = state.clock.now();
    let (before, view) = state
        .store
        .transaction(move |tx| {
            let actor = Party {
                user_id: caller.user_id,
                role: role_on_site(tx, site_id, caller.user_id)?,
            };
            let current = person(tx, site_id, user_id)?;
            let before = flags(&current);
            let target = Party {
                user_id,
                role: current.role,
            };
            let (role, after) = check_update(actor, target, before, &request)?;
            tx.execute(
                "UPDATE memberships SET role = ?1, privacy_override = ?2, office_mode = ?3,
                 remote_opening = ?4 WHERE site_id = ?5 AND user_id = ?6",
                rusqlite::params![
                    role_name(role),
                    after.privacy_override,
                    after.office_mode,
                    after.remote_opening,
                    site_id,
                    user_id
                ],
            )?;
            let lost_a_key_right = (before.privacy_override && !after.privacy_override)
                || (before.office_mode && !after.office_mode);
            if lost_a_key_right {
                reconcile_person(tx, site_id, user_id, now)?;
            }
            Ok::<_, ApiError>((before, person(tx, site_id, user_id)?))
        })
        .await?;
    // Remote rights and privacy override are in the IQs' code secrets and keypad tables.
    if flags(&view) != before {
        push_site_config(&state, site_id).await;
    }
    Ok(Json(view))
}

/// Removes a person from the site (and its access groups); their keys there are revoked.
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
pub async fn remove_person(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, user_id)): Ids<(u32, u32)>,
) -> ApiResult<StatusCode> {
    let now = state.clock.now();
    state
        .store
        .transaction(move |tx| {
            let actor = Party {
                user_id: caller.user_id,
                role: role_on_site(tx, site_id, caller.user_id)?,
            };
            let target = Party {
                user_id,
                role: person(tx, site_id, user_id)?.role,
            };
            check_remove(actor, target)?;
            tx.execute(
                "DELETE FROM access_group_members WHERE user_id = ?1
                 AND group_id IN (SELECT id FROM access_groups WHERE site_id = ?2)",
                [user_id, site_id],
            )?;
            tx.execute(
                "DELETE FROM memberships WHERE site_id = ?1 AND user_id = ?2",
                [site_id, user_id],
            )?;
            reconcile_person(tx, site_id, user_id, now)
        })
        .await?;
    push_site_config(&state, site_id).await;
    Ok(StatusCode::NO_CONTENT)
}
