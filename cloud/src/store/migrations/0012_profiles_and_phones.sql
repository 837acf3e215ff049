-- keyway-migrate: rebuilds tables
-- Keyway cloud schema: tag profiles, phone numbers and text messages.
--
-- A person is added with an e-mail (a user profile: they sign up with it, and once they claim
-- their place they own their name, e-mail and phone) or without one (a tag profile: no
-- account and no app; the site owns the name and phone, and the person opens with a tag or a
-- keypad PIN). A tag profile is a `users` row without an e-mail: `users.email` becomes
-- optional, which SQLite can only do by rebuilding the table. Such a row can never sign in: it
-- has no address to verify and no password (the CHECK says so).
-- Renaming the rebuilt table re-reads every trigger that names `users`: those of the people
-- list's sort key (0010, 0011) are dropped first and made again, unchanged, after it.
DROP TRIGGER users_listed_name_on_rename;
DROP TRIGGER memberships_listed_name_on_insert;
DROP TRIGGER memberships_listed_name_on_claim;

CREATE TABLE users_rebuilt (
    id                INTEGER PRIMARY KEY,
    email             TEXT UNIQUE COLLATE NOCASE,
    name              TEXT NOT NULL,
    password_hash     TEXT,
    created_at        INTEGER NOT NULL,
    email_verified_at INTEGER,
    -- E.164 (`+` and 8 to 15 digits): the person's own on a user profile, the site's on a
    -- tag profile.
    phone             TEXT,
    CHECK (email IS NOT NULL OR (password_hash IS NULL AND email_verified_at IS NULL))
);
INSERT INTO users_rebuilt (id, email, name, password_hash, created_at, email_verified_at)
    SELECT id, email, name, password_hash, created_at, email_verified_at FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;

CREATE TRIGGER users_listed_name_on_rename AFTER UPDATE OF name ON users
BEGIN
    UPDATE memberships
    SET listed_name = CASE WHEN claimed_at IS NULL THEN COALESCE(invited_name, NEW.name)
                           ELSE NEW.name END
    WHERE user_id = NEW.id;
END;

CREATE TRIGGER memberships_listed_name_on_insert AFTER INSERT ON memberships
WHEN NEW.listed_name = ''
BEGIN
    UPDATE memberships SET listed_name = (
        SELECT CASE WHEN NEW.claimed_at IS NULL THEN COALESCE(NEW.invited_name, u.name)
                    ELSE u.name END
        FROM users u WHERE u.id = NEW.user_id
    )
    WHERE site_id = NEW.site_id AND user_id = NEW.user_id;
END;

CREATE TRIGGER memberships_listed_name_on_claim
AFTER UPDATE OF claimed_at, invited_name, user_id ON memberships
BEGIN
    UPDATE memberships SET listed_name = (
        SELECT CASE WHEN NEW.claimed_at IS NULL THEN COALESCE(NEW.invited_name, u.name)
                    ELSE u.name END
        FROM users u WHERE u.id = NEW.user_id
    )
    WHERE site_id = NEW.site_id AND user_id = NEW.user_id;
END;

-- The phone number the admin typed for a place not claimed yet (as `invited_name`); the
-- person's own replaces it once they claim the place.
ALTER TABLE memberships ADD COLUMN invited_phone TEXT;

-- The outbox carries text messages too (keypad PINs to a phone): same queue, same sealing,
-- same retries; `recipient` is then a phone number and `subject` is empty.
ALTER TABLE email_outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email'
    CHECK (channel IN ('email', 'sms'));
