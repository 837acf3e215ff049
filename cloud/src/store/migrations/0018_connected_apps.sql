-- Keyway cloud schema: apps connected to a site through OAuth ("Connect", manual 004).
--
-- A registered app: a confidential OAuth client the cloud's operator registers. Its secret
-- is stored as SHA-256 only; its redirect URIs (one a line) are compared exactly.
CREATE TABLE connected_apps (
    id            INTEGER PRIMARY KEY,
    client_id     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    secret_hash   BLOB NOT NULL UNIQUE,
    redirect_uris TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

-- A site an admin connected an app to, with the scopes they consented to. At most one live
-- connection per app and site: connecting again replaces it.
CREATE TABLE app_connections (
    id              INTEGER PRIMARY KEY,
    app_id          INTEGER NOT NULL REFERENCES connected_apps(id) ON DELETE CASCADE,
    site_id         INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    scopes          TEXT NOT NULL,
    connected_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    connected_at    INTEGER NOT NULL,
    disconnected_at INTEGER
);
CREATE UNIQUE INDEX app_connections_live ON app_connections(app_id, site_id)
    WHERE disconnected_at IS NULL;
CREATE INDEX app_connections_by_site ON app_connections(site_id, disconnected_at);

-- An app's access token is a site API key tied to its connection (not counted among the
-- site's two keys); disconnecting revokes it.
ALTER TABLE api_keys ADD COLUMN connection_id INTEGER REFERENCES app_connections(id);

-- The consent form's ticket: single-use, short-lived, bound to the signed-in person and the
-- authorization request; stored hashed.
CREATE TABLE consent_tickets (
    ticket_hash    BLOB PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    state          TEXT NOT NULL,
    expires_at     INTEGER NOT NULL
);

-- An app's authorization code (60 s, single use), and the key it was traded for, so a
-- replay revokes it.
CREATE TABLE app_codes (
    code_hash      BLOB PRIMARY KEY,
    connection_id  INTEGER NOT NULL REFERENCES app_connections(id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    api_key_id     INTEGER REFERENCES api_keys(id) ON DELETE SET NULL
);
