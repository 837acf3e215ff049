-- Keyway cloud schema: remote opening through the IQ, IQ codes, keypad PINs.

-- The app PIN (argon2id PHC string) and its wrong tries (manual 000 "PIN" for the app).
CREATE TABLE remote_pins (
    user_id         INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    pin_hash        TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER,
    updated_at      INTEGER NOT NULL
);

-- The biometric-bound key of a device (a second key, next to the device key).
CREATE TABLE biometric_keys (
    device_id     INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    public_key    BLOB NOT NULL,
    registered_at INTEGER NOT NULL
);

-- One-time challenges for the biometric gate.
CREATE TABLE remote_challenges (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    nonce      BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX remote_challenges_by_expiry ON remote_challenges(expires_at);

-- The IQ code secret of a person at an IQ (the phone and the IQ hold it too).
CREATE TABLE iq_code_secrets (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    iq_id      INTEGER NOT NULL REFERENCES iqs(id) ON DELETE CASCADE,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, iq_id)
);

-- Code steps already accepted: a code is accepted once.
CREATE TABLE iq_code_uses (
    user_id INTEGER NOT NULL,
    iq_id   INTEGER NOT NULL,
    step    INTEGER NOT NULL,
    used_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, iq_id, step)
);

-- Keypad PINs: only a verifier keyed with the site's keypad key; one PIN per person a site,
-- and no two people of a site with the same PIN.
CREATE TABLE site_keypad (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    key     BLOB NOT NULL,
    serial  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE keypad_pins (
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    verifier   BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, user_id)
);
CREATE UNIQUE INDEX keypad_pins_unique_per_site ON keypad_pins(site_id, verifier);

-- Every remote command asked for; its id is the grant id the lock sees.
CREATE TABLE remote_openings (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    lock_id      INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    command      INTEGER NOT NULL,
    gate         TEXT NOT NULL CHECK (gate IN ('pin', 'biometric', 'code')),
    requested_at INTEGER NOT NULL,
    outcome      TEXT,
    event_seq    INTEGER
);

-- Sessions of the web remote-opening page (token hashes only).
CREATE TABLE web_sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
