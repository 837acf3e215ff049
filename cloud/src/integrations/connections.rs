//! Apps connected to a site through OAuth ("Connect", manual 004): the apps the cloud's
//! operator registers (confidential clients `kwa_…` with a hashed secret and exact redirect
//! URIs), and the connections a site's owner or admin consents to. A connection's access
//! token is a site API key tied to it ([`keys::NewKey::connection_id`]); disconnecting
//! revokes it, so the app's next call is `401` and its webhook endpoints stop.

use std::net::{Ipv4Addr, Ipv6Addr};

use keyway_api::integrations::{ConnectedAppView, Scope};
use rusqlite::{Connection, OptionalExtension};
use url::{Host, Url};

use super::keys::{self, parse_scopes, scopes_text, NewKey};
use crate::auth::tokens::{new_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::store::rows;

/// What every registered app's client id starts with.
pub const APP_CLIENT_PREFIX: &str = "kwa_";
/// What every registered app's client secret starts with.
pub const APP_SECRET_PREFIX: &str = "kwas_";

/// A registered app, as the authorization and token endpoints need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredApp {
    /// Row id.
    pub app_id: u32,
    /// `kwa_…`.
    pub client_id: String,
    /// Shown on the consent page and to admins.
    pub name: String,
    /// The redirect URIs it may use, compared exactly.
    pub redirect_uris: Vec<String>,
    /// When it was registered (Unix seconds).
    pub created_at: i64,
    /// When the operator disabled it, if they did.
    pub disabled_at: Option<i64>,
}

impl RegisteredApp {
    /// The parsed redirect URI when it is exactly one of the app's.
    pub fn allowed_redirect(&self, redirect_uri: &str) -> Option<Url> {
        self.redirect_uris
            .iter()
            .any(|registered| registered == redirect_uri)
            .then(|| Url::parse(redirect_uri).ok())
            .flatten()
    }
}

/// A newly registered app and its secret (shown once, stored hashed).
#[derive(Debug)]
pub struct NewApp {
    /// The app.
    pub app: RegisteredApp,
    /// `kwas_…`: the client secret for `/oauth/token`.
    pub secret: String,
}

/// `Ok` when `uri` may be a registered redirect URI: `https://`, or `http://` on the
/// loopback addresses `127.0.0.1` and `[::1]` (development); written in canonical form,
/// without user info or fragment.
pub fn check_redirect_uri(uri: &str) -> ApiResult<()> {
    let refuse = |why: &str| ApiError::InvalidInput(format!("redirect URI {uri:?}: {why}"));
    let url = Url::parse(uri).map_err(|_| refuse("not an absolute URI"))?;
    if url.as_str() != uri {
        return Err(refuse(
            "not in canonical form (write it as the browser would)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(refuse("user info and fragments are not allowed"));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(address)) => address == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(address)) => address == Ipv6Addr::LOCALHOST,
        _ => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(refuse(
            "must be https://, or http://127.0.0.1 or http://[::1] for development",
        )),
    }
}

fn app_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RegisteredApp> {
    Ok(RegisteredApp {
        app_id: row.get(0)?,
        client_id: row.get(1)?,
        name: row.get(2)?,
        redirect_uris: row
            .get::<_, String>(3)?
            .lines()
            .map(str::to_string)
            .collect(),
        created_at: row.get(4)?,
        disabled_at: row.get(5)?,
    })
}

const APP_COLUMNS: &str =
    "SELECT id, client_id, name, redirect_uris, created_at, disabled_at FROM connected_apps";

/// Registers an app (the cloud operator's job): its client id and secret are new random
/// values; the secret is in this answer only.
pub fn register_app(
    db: &Connection,
    name: &str,
    redirect_uris: &[String],
    now: i64,
) -> ApiResult<NewApp> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::InvalidInput(
            "an app needs a name of 1 to 100 characters".into(),
        ));
    }
    if redirect_uris.is_empty() {
        return Err(ApiError::InvalidInput(
            "an app needs at least one redirect URI".into(),
        ));
    }
    for uri in redirect_uris {
        check_redirect_uri(uri)?;
    }
    let (client_token, _) = new_token()?;
    let client_id = format!(
        "{APP_CLIENT_PREFIX}{}",
        client_token.get(..22).unwrap_or(&client_token)
    );
    let (secret_token, _) = new_token()?;
    let secret = format!("{APP_SECRET_PREFIX}{secret_token}");
    db.execute(
        "INSERT INTO connected_apps (client_id, name, secret_hash, redirect_uris, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            client_id,
            name,
            token_hash(&secret),
            redirect_uris.join("\n"),
            now
        ],
    )?;
    let app = app_by_client_id(db, &client_id)?
        .ok_or_else(|| ApiError::Internal("the app just registered is missing".into()))?;
    Ok(NewApp { app, secret })
}

/// Every registered app, oldest first.
pub fn list_apps(db: &Connection) -> ApiResult<Vec<RegisteredApp>> {
    Ok(rows(
        db,
        &format!("{APP_COLUMNS} ORDER BY id"),
        [],
        app_from_row,
    )?)
}

/// The app with `client_id`, unless it is unknown or disabled.
pub fn app_by_client_id(db: &Connection, client_id: &str) -> ApiResult<Option<RegisteredApp>> {
    Ok(db
        .query_row(
            &format!("{APP_COLUMNS} WHERE client_id = ?1 AND disabled_at IS NULL"),
            [client_id],
            app_from_row,
        )
        .optional()?)
}

/// The app with `client_id` when `secret` is its client secret (compared by hash).
pub fn authenticate_app(
    db: &Connection,
    client_id: &str,
    secret: &str,
) -> ApiResult<Option<RegisteredApp>> {
    // Found by the secret's hash, as API keys are: the stored hash never leaves SQLite.
    Ok(db
        .query_row(
            &format!(
                "{APP_COLUMNS} WHERE client_id = ?1 AND secret_hash = ?2 AND disabled_at IS NULL"
            ),
            rusqlite::params![client_id, token_hash(secret)],
            app_from_row,
        )
        .optional()?)
}

/// Records that `user_id` connected `app_id` to `site_id` with `scopes` (the caller checked
/// that they administer the site), replacing the app's earlier connection there.
pub fn connect(
    db: &Connection,
    app_id: u32,
    site_id: u32,
    scopes: &[Scope],
    user_id: u32,
    now: i64,
) -> ApiResult<u32> {
    let earlier: Option<u32> = db
        .query_row(
            "SELECT id FROM app_connections
             WHERE app_id = ?1 AND site_id = ?2 AND disconnected_at IS NULL",
            [app_id, site_id],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(earlier) = earlier {
        disconnect(db, site_id, earlier, now)?;
    }
    db.execute(
        "INSERT INTO app_connections (app_id, site_id, scopes, connected_by, connected_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![app_id, site_id, scopes_text(scopes), user_id, now],
    )?;
    u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("connection id out of range".into()))
}

/// The access token of a live connection: a new site key tied to it, with the consented
/// scopes. Returns the secret (shown once), the site and the scopes.
pub fn issue_token(
    db: &Connection,
    connection_id: u32,
    now: i64,
) -> ApiResult<(u32, String, u32, Vec<Scope>)> {
    let (site_id, scopes, connected_by, name): (u32, String, Option<u32>, String) = db
        .query_row(
            "SELECT c.site_id, c.scopes, c.connected_by, a.name
             FROM app_connections c JOIN connected_apps a ON a.id = c.app_id
             WHERE c.id = ?1 AND c.disconnected_at IS NULL AND a.disabled_at IS NULL",
            [connection_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| ApiError::NotFound("the connection was disconnected".into()))?;
    let scopes = parse_scopes(&scopes);
    let new_key = NewKey {
        site_id,
        name: &name,
        scopes: &scopes,
        created_by: connected_by,
        connection_id: Some(connection_id),
    };
    let (key_id, secret) = keys::insert_key(db, &new_key, now)?;
    Ok((key_id, secret, site_id, scopes))
}

fn connection_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ConnectedAppView> {
    Ok(ConnectedAppView {
        connection_id: row.get(0)?,
        app_name: row.get(1)?,
        client_id: row.get(2)?,
        scopes: parse_scopes(&row.get::<_, String>(3)?),
        connected_by: row.get(4)?,
        connected_by_name: row.get(5)?,
        connected_at: row.get(6)?,
        disconnected_at: row.get(7)?,
    })
}

const CONNECTION_COLUMNS: &str = "SELECT c.id, a.name, a.client_id, c.scopes, c.connected_by,
        u.name, c.connected_at, c.disconnected_at
     FROM app_connections c JOIN connected_apps a ON a.id = c.app_id
     LEFT JOIN users u ON u.id = c.connected_by";

/// The apps connected to the site now, newest first.
pub fn list(db: &Connection, site_id: u32) -> ApiResult<Vec<ConnectedAppView>> {
    let sql = format!(
        "{CONNECTION_COLUMNS} WHERE c.site_id = ?1 AND c.disconnected_at IS NULL
         ORDER BY c.id DESC"
    );
    Ok(rows(db, &sql, [site_id], connection_from_row)?)
}

/// A connection of the site, or 404 (another site's connection included).
pub fn connection(
    db: &Connection,
    site_id: u32,
    connection_id: u32,
) -> ApiResult<ConnectedAppView> {
    db.query_row(
        &format!("{CONNECTION_COLUMNS} WHERE c.id = ?1 AND c.site_id = ?2"),
        [connection_id, site_id],
        connection_from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::NotFound(format!("no connected app {connection_id} on this site")))
}

/// Disconnects an app from the site: its tokens are revoked (its next call is `401`) and the
/// webhook endpoints it made stop. Disconnecting twice changes nothing more.
pub fn disconnect(
    db: &Connection,
    site_id: u32,
    connection_id: u32,
    now: i64,
) -> ApiResult<ConnectedAppView> {
    connection(db, site_id, connection_id)?;
    db.execute(
        "UPDATE app_connections SET disconnected_at = COALESCE(disconnected_at, ?1)
         WHERE id = ?2",
        rusqlite::params![now, connection_id],
    )?;
    let tokens: Vec<u32> = rows(
        db,
        "SELECT id FROM api_keys WHERE connection_id = ?1 AND revoked_at IS NULL",
        [connection_id],
        |row| row.get(0),
    )?;
    for key_id in tokens {
        keys::revoke(db, site_id, key_id, now)?;
    }
    connection(db, site_id, connection_id)
}

/// Disconnects a connection wherever it is (a replayed code: whoever holds its token may
/// not be the app). An unknown connection changes nothing.
pub fn revoke_connection(db: &Connection, connection_id: u32, now: i64) -> ApiResult<()> {
    let site_id: Option<u32> = db
        .query_row(
            "SELECT site_id FROM app_connections WHERE id = ?1",
            [connection_id],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(site_id) = site_id {
        disconnect(db, site_id, connection_id, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_https_or_loopback() {
        for good in [
            "https://cowork.example/keyway/callback",
            "https://cowork.example/cb?x=1",
            "http://127.0.0.1:8000/cb",
            "http://[::1]:8000/cb",
        ] {
            assert!(check_redirect_uri(good).is_ok(), "{good}");
        }
        for bad in [
            "http://cowork.example/cb",
            "http://localhost:8000/cb",
            "https://user@cowork.example/cb",
            "https://cowork.example/cb#frag",
            "https://cowork.example",
            "HTTPS://cowork.example/cb",
            "keyway://oauth",
            "not a uri",
            "",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_uris_are_compared_exactly() {
        let app = RegisteredApp {
            app_id: 1,
            client_id: "kwa_x".into(),
            name: "Cowork".into(),
            redirect_uris: vec!["https://cowork.example/cb".into()],
            created_at: 0,
            disabled_at: None,
        };
        assert!(app.allowed_redirect("https://cowork.example/cb").is_some());
        for bad in [
            "https://cowork.example/cb/",
            "https://cowork.example/cb?x=1",
            "https://cowork.example/CB",
            "https://cowork.example:443/cb",
        ] {
            assert!(app.allowed_redirect(bad).is_none(), "{bad}");
        }
    }
}
