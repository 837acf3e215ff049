-- Keyway cloud schema, version 1: accounts, sites, roles, hardware, access, keys, events, OAuth.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sites (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    utc_offset_minutes INTEGER NOT NULL DEFAULT 0,
    authority_pkcs8    BLOB NOT NULL,
    revocation_epoch   INTEGER NOT NULL DEFAULT 0,
    mailbox_serial     INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);

CREATE TABLE memberships (
    site_id          INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'super_user', 'user')),
    privacy_override INTEGER NOT NULL DEFAULT 0,
    office_mode      INTEGER NOT NULL DEFAULT 0,
    remote_opening   INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (site_id, user_id)
);
-- Manual 000: there is only one owner for each site.
CREATE UNIQUE INDEX one_owner_per_site ON memberships(site_id) WHERE role = 'owner';

CREATE TABLE iqs (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    public_key BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE locks (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    iq_id      INTEGER REFERENCES iqs(id) ON DELETE SET NULL,
    name       TEXT NOT NULL,
    public_key BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE access_groups (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE access_group_locks (
    group_id INTEGER NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    lock_id  INTEGER NOT NULL REFERENCES locks(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, lock_id)
);
CREATE TABLE access_group_members (
    group_id INTEGER NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE access_group_windows (
    group_id     INTEGER NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    days         INTEGER NOT NULL,
    start_minute INTEGER NOT NULL,
    end_minute   INTEGER NOT NULL
);

CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    public_key    BLOB NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    platform      TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    revoked_at    INTEGER
);

-- One row per issued credential; `grant_digest` identifies what it grants, so a sync reissues
-- only when access changed.
CREATE TABLE credentials (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    device_id    INTEGER NOT NULL,
    grant_digest TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    not_before   INTEGER NOT NULL,
    not_after    INTEGER NOT NULL,
    issued_at    INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX credentials_by_device ON credentials(device_id, revoked_at);

CREATE TABLE mailbox_updates (
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    serial     INTEGER NOT NULL,
    lock_id    INTEGER NOT NULL,
    bytes      BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, serial)
);

CREATE TABLE lock_events (
    lock_id       INTEGER NOT NULL REFERENCES locks(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    time          INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    credential_id INTEGER NOT NULL,
    command       INTEGER NOT NULL,
    granted       INTEGER NOT NULL,
    reason        INTEGER NOT NULL,
    record_hash   BLOB NOT NULL,
    prev_hash     BLOB NOT NULL,
    record        BLOB NOT NULL,
    received_at   INTEGER NOT NULL,
    PRIMARY KEY (lock_id, seq)
);

CREATE TABLE oauth_codes (
    code_hash      BLOB PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER
);

CREATE TABLE token_families (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    family_id  INTEGER NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE access_tokens (
    token_hash BLOB PRIMARY KEY,
    family_id  INTEGER NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE login_attempts (
    subject      TEXT NOT NULL,
    attempted_at INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_subject ON login_attempts(subject, attempted_at);
