//! `POST /api/v1/sites` and `GET /api/v1/sites/{site_id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::{ApiErrorBody, CreateSiteRequest, SiteView};
use keyway_protocol::SigningKey;
use ring::rand::SystemRandom;
use rusqlite::Connection;

use super::access::role_on_site;
use super::codec;
use super::extract::{Body, Ids};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::issuing::site_authority;
use crate::roles::role_name;
use crate::AppState;
use keyway_api::Role;

/// UTC offsets in use on Earth: from UTC−12:00 to UTC+14:00.
const UTC_OFFSETS: std::ops::RangeInclusive<i32> = -12 * 60..=14 * 60;

/// A site as its members see it (never its private key).
pub(crate) fn site_view(db: &Connection, site_id: u32) -> ApiResult<SiteView> {
    let (name, utc_offset_minutes) = db.query_row(
        "SELECT name, utc_offset_minutes FROM sites WHERE id = ?1",
        [site_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(SiteView {
        site_id,
        name,
        utc_offset_minutes,
        authority_public_key: codec::encode(site_authority(db, site_id)?.public_key().as_bytes()),
    })
}

/// Creates a site with a new authority key; the caller becomes its owner.
#[utoipa::path(
    post,
    path = "/api/v1/sites",
    tag = "sites",
    security(("bearer" = [])),
    request_body = CreateSiteRequest,
    responses(
        (status = 201, body = SiteView),
        (status = 400, body = ApiErrorBody),
    )
)]
pub(super) async fn create_site(
    State(state): State<AppState>,
    caller: Authenticated,
    Body(request): Body<CreateSiteRequest>,
) -> ApiResult<(StatusCode, Json<SiteView>)> {
    let name = codec::name("name", &request.name)?;
    if !UTC_OFFSETS.contains(&request.utc_offset_minutes) {
        return Err(ApiError::InvalidInput(
            "utc_offset_minutes must be between -720 and 840".into(),
        ));
    }
    let (_, pkcs8) = SigningKey::generate(&SystemRandom::new())
        .map_err(|error| ApiError::Internal(format!("generating a site key: {error}")))?;
    let now = state.clock.now();
    let view = state
        .store
        .transaction(move |tx| {
            // The id is chosen first: the sealed key is bound to its row.
            let site_id: i64 =
                tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM sites", [], |row| {
                    row.get(0)
                })?;
            let site_id = u32::try_from(site_id)
                .map_err(|_| ApiError::Internal("site id out of range".into()))?;
            tx.execute(
                "INSERT INTO sites (id, name, utc_offset_minutes, authority_pkcs8, created_at)
                 VALUES (?1, ?2, ?3, keyway_seal('sites.authority_pkcs8', ?4, ?1), ?5)",
                rusqlite::params![site_id, name, request.utc_offset_minutes, pkcs8, now],
            )?;
            // Manual 000: the owner has remote opening by default.
            tx.execute(
                "INSERT INTO memberships (site_id, user_id, role, remote_opening, created_at,
                 claimed_at) VALUES (?1, ?2, ?3, 1, ?4, ?4)",
                rusqlite::params![site_id, caller.user_id, role_name(Role::Owner), now],
            )?;
            site_view(tx, site_id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A site the caller is a member of.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}",
    tag = "sites",
    security(("bearer" = [])),
    params(("site_id" = u32, Path, description = "Site id")),
    responses(
        (status = 200, body = SiteView),
        (status = 404, body = ApiErrorBody, description = "No such site, or not a member"),
    )
)]
pub(super) async fn get_site(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids(site_id): Ids<u32>,
) -> ApiResult<Json<SiteView>> {
    let view = state
        .store
        .run(move |db| {
            role_on_site(db, site_id, caller.user_id)?;
            site_view(db, site_id)
        })
        .await?;
    Ok(Json(view))
}
