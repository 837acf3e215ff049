-- Keyway cloud schema, version 4: pods, their members and guests, invitation codes, and the
-- e-mail outbox.
CREATE TABLE pods (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pods_by_site ON pods(site_id);

CREATE TABLE pod_locks (
    pod_id  INTEGER NOT NULL REFERENCES pods(id) ON DELETE CASCADE,
    lock_id INTEGER NOT NULL REFERENCES locks(id) ON DELETE CASCADE,
    PRIMARY KEY (pod_id, lock_id)
);

-- Members and guests, from their invitation on; `user_id` is set once they joined.
-- `owns_membership`: joining created their site membership (leaving removes it);
-- `granted_remote`: joining as a member turned their remote opening on (leaving turns it off).
CREATE TABLE pod_people (
    id              INTEGER PRIMARY KEY,
    pod_id          INTEGER NOT NULL REFERENCES pods(id) ON DELETE CASCADE,
    site_id         INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('member', 'guest')),
    email           TEXT NOT NULL COLLATE NOCASE,
    name            TEXT NOT NULL,
    user_id         INTEGER REFERENCES users(id) ON DELETE CASCADE,
    invited_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    valid_from      INTEGER,
    valid_until     INTEGER,
    blocked_at      INTEGER,
    owns_membership INTEGER NOT NULL DEFAULT 0,
    granted_remote  INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    joined_at       INTEGER,
    CHECK (kind = 'member' OR (valid_from IS NOT NULL AND valid_until > valid_from))
);
CREATE UNIQUE INDEX pod_people_once_per_pod ON pod_people(pod_id, email);
-- A guest is a guest of one pod of a site.
CREATE UNIQUE INDEX pod_guests_once_per_site ON pod_people(site_id, email) WHERE kind = 'guest';
CREATE INDEX pod_people_by_user ON pod_people(site_id, user_id);

-- The pod locks a guest opens.
CREATE TABLE pod_guest_locks (
    person_id INTEGER NOT NULL REFERENCES pod_people(id) ON DELETE CASCADE,
    lock_id   INTEGER NOT NULL REFERENCES locks(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, lock_id)
);

-- Single-use invitation codes: only their SHA-256 is stored.
CREATE TABLE pod_invitations (
    code_hash  BLOB PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES pod_people(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX pod_invitations_by_person ON pod_invitations(person_id);

-- E-mails waiting for delivery, delivered, or given up on. `secret` (an invitation code) is
-- put into the body only when sending, and erased once the e-mail is sent or given up.
CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    secret          TEXT,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX email_outbox_due ON email_outbox(state, next_attempt_at);
