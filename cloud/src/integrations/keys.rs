//! Site API keys: `kwk_` and 43 characters of base64url (256 random bits). The cloud keeps
//! the SHA-256 of the secret only. At most [`LIVE_KEYS_PER_SITE`] keys are live at once: a
//! system rotates by making the second key, switching to it, then revoking the first.

use keyway_api::integrations::{ApiKeyView, CreateApiKeyRequest, CreatedApiKey, Scope};
use rusqlite::{Connection, OptionalExtension};

use crate::auth::tokens::{new_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::store::rows;

/// Live keys one site may have: the one in use and the one replacing it.
pub const LIVE_KEYS_PER_SITE: i64 = 2;
/// What every key's secret starts with, so it is recognised (and never taken for a login
/// token).
pub const KEY_PREFIX: &str = "kwk_";

/// What a scope lets a connected system do, in words (lower case, to follow a colon or
/// start a sentence once capitalised).
pub fn scope_text(scope: Scope) -> &'static str {
    match scope {
        Scope::PeopleWrite => "add, update and remove people",
        Scope::AccessWrite => "put people in access groups and take them out",
        Scope::PinsWrite => "give people keypad PINs",
        Scope::EventsRead => "read lock events",
        Scope::WebhooksManage => "manage webhook endpoints",
    }
}

/// Scopes as stored.
pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    let mut names: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// Scopes of their stored text (unknown names are dropped).
pub(crate) fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split_whitespace().filter_map(Scope::parse).collect()
}

fn key_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyView> {
    Ok(ApiKeyView {
        key_id: row.get(0)?,
        name: row.get(1)?,
        scopes: parse_scopes(&row.get::<_, String>(2)?),
        created_at: row.get(3)?,
        last_used_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}

const KEY_COLUMNS: &str =
    "SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_keys";

/// Makes a key for the site (the caller checked the role). `409` when two are live already.
pub fn create(
    db: &Connection,
    site_id: u32,
    created_by: u32,
    name: &str,
    request: &CreateApiKeyRequest,
    now: i64,
) -> ApiResult<CreatedApiKey> {
    if request.scopes.is_empty() {
        return Err(ApiError::InvalidInput(
            "a key needs at least one scope".into(),
        ));
    }
    let live: i64 = db.query_row(
        "SELECT COUNT(*) FROM api_keys
         WHERE site_id = ?1 AND revoked_at IS NULL AND connection_id IS NULL",
        [site_id],
        |row| row.get(0),
    )?;
    if live >= LIVE_KEYS_PER_SITE {
        return Err(ApiError::Conflict(format!(
            "this site has {LIVE_KEYS_PER_SITE} live keys: revoke the one being replaced first"
        )));
    }
    let new_key = NewKey {
        site_id,
        name,
        scopes: &request.scopes,
        created_by: Some(created_by),
        connection_id: None,
    };
    let (key_id, secret) = insert_key(db, &new_key, now)?;
    Ok(CreatedApiKey {
        key: key(db, site_id, key_id)?,
        secret,
    })
}

/// A key about to be stored.
pub(crate) struct NewKey<'a> {
    /// Its site.
    pub(crate) site_id: u32,
    /// Its name (a connected app's keys carry the app's name).
    pub(crate) name: &'a str,
    /// What it may do.
    pub(crate) scopes: &'a [Scope],
    /// Who made it.
    pub(crate) created_by: Option<u32>,
    /// The app connection it is the access token of, if any (those keys do not count
    /// toward [`LIVE_KEYS_PER_SITE`] and are listed as connected apps, not as keys).
    pub(crate) connection_id: Option<u32>,
}

/// Stores a new key and returns its id and its secret (shown once).
pub(crate) fn insert_key(db: &Connection, new: &NewKey<'_>, now: i64) -> ApiResult<(u32, String)> {
    let (token, _) = new_token()?;
    let secret = format!("{KEY_PREFIX}{token}");
    db.execute(
        "INSERT INTO api_keys
         (site_id, name, secret_hash, scopes, created_by, created_at, connection_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            new.site_id,
            new.name,
            token_hash(&secret),
            scopes_text(new.scopes),
            new.created_by,
            now,
            new.connection_id
        ],
    )?;
    let key_id = u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("key id out of range".into()))?;
    Ok((key_id, secret))
}

/// A key of the site, or 404.
pub fn key(db: &Connection, site_id: u32, key_id: u32) -> ApiResult<ApiKeyView> {
    db.query_row(
        &format!("{KEY_COLUMNS} WHERE id = ?1 AND site_id = ?2"),
        [key_id, site_id],
        key_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no API key {key_id} on this site")))
}

/// The site's keys, newest first, revoked ones included (connected apps' tokens are listed
/// as connected apps instead).
pub fn list(db: &Connection, site_id: u32) -> ApiResult<Vec<ApiKeyView>> {
    let sql =
        format!("{KEY_COLUMNS} WHERE site_id = ?1 AND connection_id IS NULL ORDER BY id DESC");
    Ok(rows(db, &sql, [site_id], key_from_row)?)
}

/// Revokes a key: its next call is `401`, and the webhook endpoints it made stop at once
/// (nothing more is sent to a system whose key was taken away).
pub fn revoke(db: &Connection, site_id: u32, key_id: u32, now: i64) -> ApiResult<ApiKeyView> {
    key(db, site_id, key_id)?;
    db.execute(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
        rusqlite::params![now, key_id],
    )?;
    // With the system's last live key gone, the groups it owned are free for another.
    db.execute(
        "UPDATE access_groups SET integration = NULL
         WHERE site_id = ?1 AND integration = (SELECT name FROM api_keys WHERE id = ?2)
           AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.site_id = ?1
                           AND k.name = access_groups.integration AND k.revoked_at IS NULL)",
        [site_id, key_id],
    )?;
    // Its kept answers can never be asked for again.
    db.execute(
        "DELETE FROM idempotency_keys WHERE api_key_id = ?1",
        [key_id],
    )?;
    db.execute(
        "DELETE FROM webhook_deliveries WHERE delivered_at IS NULL AND endpoint_id IN
         (SELECT id FROM webhook_endpoints WHERE api_key_id = ?1)",
        [key_id],
    )?;
    db.execute(
        "UPDATE webhook_endpoints SET deleted_at = COALESCE(deleted_at, ?1)
         WHERE api_key_id = ?2",
        rusqlite::params![now, key_id],
    )?;
    key(db, site_id, key_id)
}
