-- Keyway cloud schema: live notices, written by the writes themselves.
--
-- Every write that changes what someone can open leaves a row here, in its own transaction,
-- through the triggers below: no code path (API, pods, imports, integrations to come) can
-- forget to tell the phones, and a rolled-back write tells nobody. After the commit the
-- cloud's live hub drains the table and sends each connected person one notice per kind
-- (`keys`, `pods`, `remote`; `denylist` goes to everybody on `site_id`). The rows are the
-- transactional outbox a broker-backed fan-out (several cloud instances) would relay.
-- The same rows tell the site's IQs: every kind but `denylist` can change what an IQ holds
-- (keypad tables, IQ-code secrets, its locks), and `iq` rows are written by the writes that
-- change only that (a keypad PIN, a code secret, a lock attached to an IQ). The drain pushes a
-- fresh configuration to the connected IQs of every site it saw.
-- `keyway_live_wake()` only wakes the hub's drain task; it changes nothing.
CREATE TABLE live_outbox (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER,
    site_id INTEGER,
    kind    TEXT NOT NULL CHECK (kind IN ('keys', 'pods', 'remote', 'denylist', 'iq', 'session'))
);

-- Joining or leaving an access group.
CREATE TRIGGER live_group_member_added AFTER INSERT ON access_group_members
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NEW.user_id, site_id, 'keys' FROM access_groups WHERE id = NEW.group_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_group_member_removed AFTER DELETE ON access_group_members
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT OLD.user_id, site_id, 'keys' FROM access_groups WHERE id = OLD.group_id;
    SELECT keyway_live_wake();
END;

-- A group's locks or weekly schedule: everybody in it.
CREATE TRIGGER live_group_lock_added AFTER INSERT ON access_group_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT m.user_id, g.site_id, 'keys' FROM access_group_members m
        JOIN access_groups g ON g.id = m.group_id WHERE m.group_id = NEW.group_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_group_lock_removed AFTER DELETE ON access_group_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT m.user_id, g.site_id, 'keys' FROM access_group_members m
        JOIN access_groups g ON g.id = m.group_id WHERE m.group_id = OLD.group_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_group_window_added AFTER INSERT ON access_group_windows
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT m.user_id, g.site_id, 'keys' FROM access_group_members m
        JOIN access_groups g ON g.id = m.group_id WHERE m.group_id = NEW.group_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_group_window_removed AFTER DELETE ON access_group_windows
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT m.user_id, g.site_id, 'keys' FROM access_group_members m
        JOIN access_groups g ON g.id = m.group_id WHERE m.group_id = OLD.group_id;
    SELECT keyway_live_wake();
END;

-- A person's rights on a site, or their place itself. (Adding a place grants nothing by itself,
-- so an import of 40,000 people writes no notice.)
CREATE TRIGGER live_rights_changed
AFTER UPDATE OF role, privacy_override, office_mode, remote_opening ON memberships
WHEN OLD.role IS NOT NEW.role OR OLD.privacy_override IS NOT NEW.privacy_override
    OR OLD.office_mode IS NOT NEW.office_mode OR OLD.remote_opening IS NOT NEW.remote_opening
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        VALUES (NEW.user_id, NEW.site_id, 'keys'), (NEW.user_id, NEW.site_id, 'remote');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_place_removed AFTER DELETE ON memberships
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        VALUES (OLD.user_id, OLD.site_id, 'keys'), (OLD.user_id, OLD.site_id, 'remote'),
               (OLD.user_id, OLD.site_id, 'pods');
    SELECT keyway_live_wake();
END;

-- Pods: a member or guest joins, changes (blocked, stay) or leaves; the pod's locks change.
CREATE TRIGGER live_pod_person_added AFTER INSERT ON pod_people WHEN NEW.user_id IS NOT NULL
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        VALUES (NEW.user_id, NEW.site_id, 'pods'), (NEW.user_id, NEW.site_id, 'keys'),
               (NEW.user_id, NEW.site_id, 'remote');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_pod_person_changed AFTER UPDATE ON pod_people
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT who, NEW.site_id, kind FROM (SELECT OLD.user_id AS who UNION SELECT NEW.user_id)
        CROSS JOIN (SELECT 'pods' AS kind UNION ALL SELECT 'keys' UNION ALL SELECT 'remote')
        WHERE who IS NOT NULL;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_pod_person_removed AFTER DELETE ON pod_people WHEN OLD.user_id IS NOT NULL
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        VALUES (OLD.user_id, OLD.site_id, 'pods'), (OLD.user_id, OLD.site_id, 'keys'),
               (OLD.user_id, OLD.site_id, 'remote');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_pod_lock_added AFTER INSERT ON pod_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT p.user_id, p.site_id, k.kind FROM pod_people p
        CROSS JOIN (SELECT 'pods' AS kind UNION ALL SELECT 'keys' UNION ALL SELECT 'remote') k
        WHERE p.pod_id = NEW.pod_id AND p.user_id IS NOT NULL;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_pod_lock_removed AFTER DELETE ON pod_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT p.user_id, p.site_id, k.kind FROM pod_people p
        CROSS JOIN (SELECT 'pods' AS kind UNION ALL SELECT 'keys' UNION ALL SELECT 'remote') k
        WHERE p.pod_id = OLD.pod_id AND p.user_id IS NOT NULL;
    SELECT keyway_live_wake();
END;

-- A key revoked: its holder's wallet, and the site's denylist that every phone there carries
-- to the locks.
CREATE TRIGGER live_credential_revoked AFTER UPDATE OF revoked_at ON credentials
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        VALUES (NEW.user_id, NEW.site_id, 'keys'), (NULL, NEW.site_id, 'denylist');
    SELECT keyway_live_wake();
END;

-- The locks a guest may open.
CREATE TRIGGER live_guest_lock_added AFTER INSERT ON pod_guest_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT user_id, site_id, 'keys' FROM pod_people
        WHERE id = NEW.person_id AND user_id IS NOT NULL;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_guest_lock_removed AFTER DELETE ON pod_guest_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT user_id, site_id, 'keys' FROM pod_people
        WHERE id = OLD.person_id AND user_id IS NOT NULL;
    SELECT keyway_live_wake();
END;

-- What only the IQs hold: keypad PINs, IQ-code secrets, which locks an IQ serves.
CREATE TRIGGER live_keypad_pin_added AFTER INSERT ON keypad_pins
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, NEW.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_keypad_pin_changed AFTER UPDATE ON keypad_pins
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, NEW.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_keypad_pin_removed AFTER DELETE ON keypad_pins
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, OLD.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_code_secret_added AFTER INSERT ON iq_code_secrets
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NULL, site_id, 'iq' FROM iqs WHERE id = NEW.iq_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_code_secret_changed AFTER UPDATE ON iq_code_secrets
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NULL, site_id, 'iq' FROM iqs WHERE id = NEW.iq_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_code_secret_removed AFTER DELETE ON iq_code_secrets
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NULL, site_id, 'iq' FROM iqs WHERE id = OLD.iq_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_lock_attached AFTER UPDATE OF iq_id ON locks
WHEN OLD.iq_id IS NOT NEW.iq_id
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, NEW.site_id, 'iq');
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_lock_removed AFTER DELETE ON locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, OLD.site_id, 'iq');
    SELECT keyway_live_wake();
END;

-- Deleting a group: its members, locks and windows go by cascade, after the group row, so the
-- triggers above could no longer find its site. This one tells the members and the site's IQs
-- while the group is still there.
CREATE TRIGGER live_group_deleted BEFORE DELETE ON access_groups
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT user_id, OLD.site_id, 'keys' FROM access_group_members WHERE group_id = OLD.id;
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NULL, OLD.site_id, 'iq');
    SELECT keyway_live_wake();
END;

-- A login revoked (sign-out, a password set anew, a stolen refresh token spotted): the
-- account's open streams close at once instead of running on to their token's expiry. (Its
-- other phones reconnect with their own tokens.)
CREATE TRIGGER live_login_revoked AFTER UPDATE OF revoked_at ON token_families
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind) VALUES (NEW.user_id, NULL, 'session');
    SELECT keyway_live_wake();
END;
