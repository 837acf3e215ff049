//! People on a site: list, add, change role and rights, remove (manuals 000 and 002; the rules
//! live in [`crate::roles`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_protocol::api::{
    AddPersonRequest, ApiErrorBody, PersonStatus, PersonView, UpdatePersonRequest,
};
use rusqlite::{Connection, OptionalExtension};

use super::access::{role_column, role_on_site, VIEWING_PEOPLE};
use super::extract::{Body, Ids};
use crate::auth::accounts::{normalize_email, normalize_name};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::iq::push_site_config;
use crate::issuing::reconcile_person;
use crate::membership::{add_by_email, Newcomer, TargetSite};
use crate::pods::mail::site_info;
use crate::pods::people::remove_from_site_pods;
use crate::roles::{check_remove, check_update, role_name, Party, PersonFlags};
use crate::store::rows;
use crate::AppState;

/// A place not claimed yet shows the name the admin typed, never the account's own: adding
/// an address tells nobody whether it has an account or what its owner is called.
const PERSON_COLUMNS: &str = "SELECT u.id, u.email,
    CASE WHEN m.claimed_at IS NULL THEN COALESCE(m.invited_name, u.name) ELSE u.name END,
    m.role, m.privacy_override, m.office_mode, m.remote_opening, m.claimed_at IS NOT NULL
    FROM memberships m JOIN users u ON u.id = m.user_id";

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

/// Adds a person to the site by e-mail. An address without a verified account gets an
/// invitation e-mail and a place that takes effect once they sign up and verify it; nobody
/// else ever sets their password.
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
    let role = request.role;
    let now = state.clock.now();
    let public_url = state.public_url();
    let view = state
        .store
        .transaction(move |tx| {
            let actor = role_on_site(tx, site_id, caller.user_id)?;
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
    push_site_config(&state, site_id).await;
    Ok((StatusCode::CREATED, Json(view)))
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
            remove_from_site_pods(tx, site_id, user_id, None, now)?;
            reconcile_person(tx, site_id, user_id, now)
        })
        .await?;
    state.mail.wake();
    push_site_config(&state, site_id).await;
    Ok(StatusCode::NO_CONTENT)
}
