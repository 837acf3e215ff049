-- Keyway cloud schema: connected systems (manuals 001 and 004).
--
-- A site API key: shown once, stored as the SHA-256 of its secret, with its scopes
-- (space-separated names); revoked keys stay for the audit trail.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_keys_by_site ON api_keys(site_id, revoked_at);

-- The connected system's own id for a person of the site.
CREATE TABLE integration_people (
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (site_id, external_id)
);

-- `Idempotency-Key`: the first answer to a key, replayed for the same request; a day long.
CREATE TABLE idempotency_keys (
    api_key_id   INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (api_key_id, key)
);

-- Every change a connected system made: which key, what, when.
CREATE TABLE integration_audit (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    api_key_id INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    route      TEXT NOT NULL,
    change     TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX integration_audit_by_site ON integration_audit(site_id, at);
