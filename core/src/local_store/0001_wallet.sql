-- The phone's local store, version 1.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The wallet: digital keys for this device, replaced as a whole by each sync.
CREATE TABLE keys (
    credential_id INTEGER PRIMARY KEY,
    site_id       INTEGER NOT NULL,
    site_name     TEXT NOT NULL,
    locks_json    TEXT NOT NULL,
    not_before    INTEGER NOT NULL,
    not_after     INTEGER NOT NULL,
    credential    BLOB NOT NULL
);

-- Signed mailbox updates to carry to locks of a site.
CREATE TABLE mailbox (
    site_id INTEGER NOT NULL,
    bytes   BLOB NOT NULL,
    PRIMARY KEY (site_id, bytes)
);

-- Lock event records waiting for upload. A row leaves only when the cloud acknowledged it.
CREATE TABLE outbox (
    lock_id     INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    record      BLOB NOT NULL,
    queued_at   INTEGER NOT NULL,
    PRIMARY KEY (lock_id, seq)
);
