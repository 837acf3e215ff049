-- Keyway cloud schema: CSV user imports (manual 000, "User Import Service").
--
-- One row per import job: who asked, on which site, where it is, and its counts. The file
-- itself is never stored: the job works from memory, a batch of rows per transaction, and
-- updates its counts in the same transaction as the people it added, so the counts always
-- say what was committed. A job the cloud stopped in the middle (a crash) is marked failed
-- when the cloud starts again; running the same file again adds only who is missing.
CREATE TABLE imports (
    id               INTEGER PRIMARY KEY,
    site_id          INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    requested_by     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    total_rows       INTEGER NOT NULL DEFAULT 0,
    processed_rows   INTEGER NOT NULL DEFAULT 0,
    imported         INTEGER NOT NULL DEFAULT 0,
    skipped_existing INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
CREATE INDEX imports_by_site ON imports(site_id, id);

-- The rows of an import that were not imported, with a machine reason.
CREATE TABLE import_failures (
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    row       INTEGER NOT NULL,
    email     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (import_id, row)
) WITHOUT ROWID;

-- What the site calls a person (the import file's Alias column).
ALTER TABLE memberships ADD COLUMN alias TEXT;

-- The hourly mail cap forgets entries older than an hour on every capped e-mail: by time,
-- without reading the whole log (an import queues tens of thousands of invitations).
CREATE INDEX mail_log_by_time ON mail_log(sent_at);

-- An e-mail may carry one attachment (an import's failed rows as CSV), sealed like the body
-- and erased with it once the message is sent or given up.
ALTER TABLE email_outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE email_outbox ADD COLUMN sealed_attachment BLOB;
