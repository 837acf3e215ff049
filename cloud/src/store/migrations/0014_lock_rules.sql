-- Keyway cloud schema: what a lock enforces (manuals 000 and 003).
--
-- Tags: physical NFC credentials, each with its own P-256 key made on the card (the cloud
-- keeps the public half). A tag is registered at one site, which stays in control of it
-- (manual 002), and may be handed to one person of that site. `master_key` is the admin's
-- choice; the owner's tags are master keys whatever it says (computed, never stored).
CREATE TABLE tags (
    tag_uid        INTEGER PRIMARY KEY,
    site_id        INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    public_key     BLOB NOT NULL,
    user_id        INTEGER REFERENCES users(id) ON DELETE SET NULL,
    offline_access INTEGER NOT NULL DEFAULT 0,
    master_key     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
CREATE INDEX tags_by_site ON tags(site_id, user_id);

-- Offline access on a person's digital keys (manual 000: "the option appears in the lower
-- part of the profile"; the owner has it by default).
ALTER TABLE memberships ADD COLUMN offline_access INTEGER NOT NULL DEFAULT 0;

-- The lock's settings, its model's offline storage, and what it last reported.
ALTER TABLE locks ADD COLUMN offline_capacity INTEGER NOT NULL DEFAULT 200;
ALTER TABLE locks ADD COLUMN door_open_limit_seconds INTEGER NOT NULL DEFAULT 30;
ALTER TABLE locks ADD COLUMN near_detection INTEGER NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN rules_serial INTEGER NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN battery_percent INTEGER;
ALTER TABLE locks ADD COLUMN door_open INTEGER;
ALTER TABLE locks ADD COLUMN privacy_engaged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN state_reported_at INTEGER;
-- When each part of the state was reported (lock time), so a late older report of one part
-- does not overwrite a newer one, nor is dropped because another part is newer.
ALTER TABLE locks ADD COLUMN battery_at INTEGER;
ALTER TABLE locks ADD COLUMN door_at INTEGER;
ALTER TABLE locks ADD COLUMN privacy_at INTEGER;
CREATE TABLE lock_easy_office_windows (
    lock_id      INTEGER NOT NULL REFERENCES locks(id) ON DELETE CASCADE,
    days         INTEGER NOT NULL,
    start_minute INTEGER NOT NULL,
    end_minute   INTEGER NOT NULL
);

-- The firmware each IQ reported at its last login (Near Detection Mode needs 2.3 or later).
ALTER TABLE iqs ADD COLUMN firmware TEXT;

-- What the IQs hold changes with tags, lock settings and digital keys' offline access.
CREATE TRIGGER live_tag_added AFTER INSERT ON tags
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, NEW.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_tag_changed AFTER UPDATE ON tags
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, NEW.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_tag_removed AFTER DELETE ON tags
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, OLD.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_lock_settings_changed
AFTER UPDATE OF door_open_limit_seconds, near_detection ON locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, NEW.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_easy_office_added AFTER INSERT ON lock_easy_office_windows
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NULL, site_id, 'iq' FROM locks WHERE id = NEW.lock_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_easy_office_removed AFTER DELETE ON lock_easy_office_windows
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NULL, site_id, 'iq' FROM locks WHERE id = OLD.lock_id;
    SELECT keyway_live_wake();
END;
-- Offline access is in the key itself: the person's phones get new keys.
CREATE TRIGGER live_offline_access_changed AFTER UPDATE OF offline_access ON memberships
WHEN OLD.offline_access IS NOT NEW.offline_access
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NEW.user_id, NEW.site_id, 'keys');
    SELECT keyway_live_wake();
END;

-- XS4 locker locks (manual 000): a lock of kind `locker`, assigned to one person (`fixed`) or
-- several (`family`). The assignment is an access group the locker owns (`locker_lock_id`),
-- so keys, tags, PINs and the IQ follow it like any group; the groups API cannot change it.
ALTER TABLE locks ADD COLUMN kind TEXT NOT NULL DEFAULT 'door' CHECK (kind IN ('door', 'locker'));
ALTER TABLE locks ADD COLUMN locker_assignment TEXT CHECK (locker_assignment IN ('fixed', 'family'));
ALTER TABLE access_groups ADD COLUMN locker_lock_id INTEGER REFERENCES locks(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX one_group_per_locker ON access_groups(locker_lock_id)
    WHERE locker_lock_id IS NOT NULL;
-- Emergency openings of lockers (admins only): who, when, and what the lock did.
ALTER TABLE remote_openings ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0;
