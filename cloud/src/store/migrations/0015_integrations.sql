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

-- Webhooks out (Standard Webhooks): a connected system's endpoint, its signing secret sealed
-- at rest, and the event types it wants (space-separated; empty: all).
CREATE TABLE webhook_endpoints (
    id          INTEGER PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    api_key_id  INTEGER REFERENCES api_keys(id) ON DELETE SET NULL,
    url         TEXT NOT NULL,
    secret      BLOB NOT NULL,
    event_types TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX webhook_endpoints_by_site ON webhook_endpoints(site_id, deleted_at);

-- One message for one endpoint, written by the writes themselves (the triggers below), in
-- order: an endpoint gets its messages one at a time, oldest first, retried with backoff for
-- a day, then kept as dead letters an admin can replay.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    INTEGER,
    dead_at         INTEGER
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(endpoint_id, delivered_at, dead_at, id);

-- The events, timed by the database's clock; the payload is the envelope's `data`.
CREATE TRIGGER webhook_lock_event AFTER INSERT ON lock_events
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, created_at,
                                    next_attempt_at)
        SELECT e.id, 'msg_' || lower(hex(randomblob(12))),
               CASE WHEN NEW.command IN (66, 67, 69) THEN 'lock.alert' ELSE 'lock.event' END,
               json_object('lock_id', NEW.lock_id, 'seq', NEW.seq, 'time', NEW.time,
                           'user_id', NEW.user_id, 'command', NEW.command,
                           'granted', json(CASE WHEN NEW.granted THEN 'true' ELSE 'false' END),
                           'reason', NEW.reason),
               unixepoch(), unixepoch()
        FROM webhook_endpoints e JOIN locks l ON l.site_id = e.site_id
        WHERE l.id = NEW.lock_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ',
               CASE WHEN NEW.command IN (66, 67, 69) THEN ' lock.alert ' ELSE ' lock.event ' END) > 0);
    SELECT keyway_webhooks_wake();
END;
CREATE TRIGGER webhook_access_granted AFTER INSERT ON access_group_members
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, created_at,
                                    next_attempt_at)
        SELECT e.id, 'msg_' || lower(hex(randomblob(12))), 'access.changed',
               json_object('group_id', NEW.group_id, 'user_id', NEW.user_id,
                           'member', json('true')),
               unixepoch(), unixepoch()
        FROM webhook_endpoints e JOIN access_groups g ON g.site_id = e.site_id
        WHERE g.id = NEW.group_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ', ' access.changed ') > 0);
    SELECT keyway_webhooks_wake();
END;
CREATE TRIGGER webhook_access_revoked AFTER DELETE ON access_group_members
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, created_at,
                                    next_attempt_at)
        SELECT e.id, 'msg_' || lower(hex(randomblob(12))), 'access.changed',
               json_object('group_id', OLD.group_id, 'user_id', OLD.user_id,
                           'member', json('false')),
               unixepoch(), unixepoch()
        FROM webhook_endpoints e JOIN access_groups g ON g.site_id = e.site_id
        WHERE g.id = OLD.group_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ', ' access.changed ') > 0);
    SELECT keyway_webhooks_wake();
END;
CREATE TRIGGER webhook_import_finished AFTER UPDATE OF state ON imports
WHEN NEW.state IN ('done', 'failed') AND OLD.state NOT IN ('done', 'failed')
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, created_at,
                                    next_attempt_at)
        SELECT e.id, 'msg_' || lower(hex(randomblob(12))), 'import.finished',
               json_object('import_id', NEW.id, 'state', NEW.state,
                           'total_rows', NEW.total_rows, 'imported', NEW.imported,
                           'skipped_existing', NEW.skipped_existing),
               unixepoch(), unixepoch()
        FROM webhook_endpoints e
        WHERE e.site_id = NEW.site_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ', ' import.finished ') > 0);
    SELECT keyway_webhooks_wake();
END;
