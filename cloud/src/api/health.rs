//! `GET /health`: is the server up, and which schema does its database have.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::store::schema_version;
use crate::AppState;

/// Liveness and schema version.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Health {
    /// Always `ok` when the database answers.
    pub status: String,
    /// The database schema version.
    pub schema_version: i64,
}

/// Reports that the server and its database answer.
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)))]
pub(super) async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let version = state.store.run(|db| schema_version(db)).await?;
    Ok(Json(Health {
        status: "ok".into(),
        schema_version: version,
    }))
}
