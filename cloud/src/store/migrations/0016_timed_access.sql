-- Keyway cloud schema: access for a time (manual 004's subscriptions and bookings), and
-- fixes to the integrations of 0015.
--
-- `keyway_now()` is the cloud's own clock (the one the handlers read), bound to every
-- connection; the webhook triggers stamp their messages with it.

-- A membership may run from a start and until an end (a subscription's dates): outside them
-- it gives nothing, and the keys it gives carry them, so the lock's own clock enforces them.
-- NULL: no start, no end. `granted_by_key`: the API key that granted it, if one did.
ALTER TABLE access_group_members ADD COLUMN valid_from INTEGER;
ALTER TABLE access_group_members ADD COLUMN valid_until INTEGER;
ALTER TABLE access_group_members ADD COLUMN granted_by_key INTEGER;

CREATE TRIGGER live_group_member_window AFTER UPDATE OF valid_from, valid_until ON access_group_members
WHEN OLD.valid_from IS NOT NEW.valid_from OR OLD.valid_until IS NOT NEW.valid_until
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NEW.user_id, site_id, 'keys' FROM access_groups WHERE id = NEW.group_id;
    SELECT keyway_live_wake();
END;

-- A connected system's booking (manual 004): a room's or a desk's access group for the
-- booking's people (the booker and the invitees) from `valid_from` to `valid_until` (the
-- grace periods included), whatever the group's weekly schedule.
CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    group_id    INTEGER NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('room', 'desk')),
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    api_key_id  INTEGER REFERENCES api_keys(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (site_id, external_id)
);
CREATE TABLE booking_people (
    booking_id INTEGER NOT NULL REFERENCES bookings(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (booking_id, user_id)
);
CREATE INDEX booking_people_by_user ON booking_people(user_id);
CREATE TRIGGER live_booking_person_added AFTER INSERT ON booking_people
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT NEW.user_id, site_id, 'keys' FROM bookings WHERE id = NEW.booking_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_booking_person_removed AFTER DELETE ON booking_people
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT OLD.user_id, site_id, 'keys' FROM bookings WHERE id = OLD.booking_id;
    SELECT keyway_live_wake();
END;
-- A group's locks changed: its bookings' people too (its members are told by 0013's).
CREATE TRIGGER live_group_lock_added_bookings AFTER INSERT ON access_group_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT p.user_id, b.site_id, 'keys' FROM booking_people p
        JOIN bookings b ON b.id = p.booking_id WHERE b.group_id = NEW.group_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_group_lock_removed_bookings AFTER DELETE ON access_group_locks
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT p.user_id, b.site_id, 'keys' FROM booking_people p
        JOIN bookings b ON b.id = p.booking_id WHERE b.group_id = OLD.group_id;
    SELECT keyway_live_wake();
END;
CREATE TRIGGER live_booking_moved AFTER UPDATE OF valid_from, valid_until, group_id ON bookings
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        SELECT user_id, NEW.site_id, 'keys' FROM booking_people WHERE booking_id = NEW.id;
    SELECT keyway_live_wake();
END;

-- One external id per person: two ids matched to one person by e-mail would make removing
-- either remove both. `matched`: the person was on the site before the system named them
-- (the system's removal then takes back only what it gave).
ALTER TABLE integration_people ADD COLUMN matched INTEGER NOT NULL DEFAULT 0;
-- From before: a person the system did not add (its audit has no "added" for them) was
-- matched; and a membership its audit says it granted is its.
UPDATE integration_people SET matched = 1 WHERE NOT EXISTS (
    SELECT 1 FROM integration_audit a
    WHERE a.site_id = integration_people.site_id AND a.route = 'upsert_person'
      AND a.change = 'person ' || integration_people.external_id || ' (user '
                     || integration_people.user_id || ') added');
UPDATE access_group_members SET granted_by_key = (
    SELECT a.api_key_id FROM integration_audit a
    JOIN integration_people i ON i.site_id = a.site_id
    WHERE i.user_id = access_group_members.user_id AND a.route = 'set_membership'
      AND a.change = 'person ' || i.external_id || ' (user ' || i.user_id || ') joined group '
                     || access_group_members.group_id
    ORDER BY a.id DESC LIMIT 1)
WHERE user_id IN (SELECT user_id FROM integration_people);
DELETE FROM integration_people WHERE rowid NOT IN (
    SELECT MIN(rowid) FROM integration_people GROUP BY site_id, user_id);
CREATE UNIQUE INDEX integration_people_one_id_per_person ON integration_people(site_id, user_id);

-- Manual 004: "access groups created exclusively for your app; reusing existing access groups
-- you have previously configured for other applications will result in errors". The
-- connected system (its keys' name: a rotated key keeps it) that first handed a group out
-- owns it; NULL: no system yet.
ALTER TABLE access_groups ADD COLUMN integration TEXT;

-- Kept idempotent answers are swept by age, whichever key they belong to.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);

-- A replayed dead letter keeps its event's time; its new day of tries starts here.
ALTER TABLE webhook_deliveries ADD COLUMN retry_from INTEGER;

-- The webhook triggers of 0015, on the cloud's clock; access changes carry the window; lock
-- events only to endpoints whose key may read them (`events:read`), whenever it was made.
DROP TRIGGER webhook_lock_event;
DROP TRIGGER webhook_access_granted;
DROP TRIGGER webhook_access_revoked;
DROP TRIGGER webhook_import_finished;
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
               keyway_now(), keyway_now()
        FROM webhook_endpoints e JOIN locks l ON l.site_id = e.site_id
        JOIN api_keys k ON k.id = e.api_key_id
        WHERE l.id = NEW.lock_id AND e.deleted_at IS NULL
          AND instr(' ' || k.scopes || ' ', ' events:read ') > 0
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
                           'member', json('true'), 'from', NEW.valid_from,
                           'until', NEW.valid_until),
               keyway_now(), keyway_now()
        FROM webhook_endpoints e JOIN access_groups g ON g.site_id = e.site_id
        WHERE g.id = NEW.group_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ', ' access.changed ') > 0);
    SELECT keyway_webhooks_wake();
END;
CREATE TRIGGER webhook_access_window AFTER UPDATE OF valid_from, valid_until ON access_group_members
WHEN OLD.valid_from IS NOT NEW.valid_from OR OLD.valid_until IS NOT NEW.valid_until
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, created_at,
                                    next_attempt_at)
        SELECT e.id, 'msg_' || lower(hex(randomblob(12))), 'access.changed',
               json_object('group_id', NEW.group_id, 'user_id', NEW.user_id,
                           'member', json('true'), 'from', NEW.valid_from,
                           'until', NEW.valid_until),
               keyway_now(), keyway_now()
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
               keyway_now(), keyway_now()
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
               keyway_now(), keyway_now()
        FROM webhook_endpoints e
        WHERE e.site_id = NEW.site_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ', ' import.finished ') > 0);
    SELECT keyway_webhooks_wake();
END;
-- A booking's people in or out: an access change too, naming the booking and its times.
CREATE TRIGGER webhook_booking_person_added AFTER INSERT ON booking_people
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, created_at,
                                    next_attempt_at)
        SELECT e.id, 'msg_' || lower(hex(randomblob(12))), 'access.changed',
               json_object('group_id', b.group_id, 'user_id', NEW.user_id,
                           'member', json('true'), 'booking_id', b.external_id,
                           'from', b.valid_from, 'until', b.valid_until),
               keyway_now(), keyway_now()
        FROM bookings b JOIN webhook_endpoints e ON e.site_id = b.site_id
        WHERE b.id = NEW.booking_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ', ' access.changed ') > 0);
    SELECT keyway_webhooks_wake();
END;
CREATE TRIGGER webhook_booking_person_removed AFTER DELETE ON booking_people
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, created_at,
                                    next_attempt_at)
        SELECT e.id, 'msg_' || lower(hex(randomblob(12))), 'access.changed',
               json_object('group_id', b.group_id, 'user_id', OLD.user_id,
                           'member', json('false'), 'booking_id', b.external_id),
               keyway_now(), keyway_now()
        FROM bookings b JOIN webhook_endpoints e ON e.site_id = b.site_id
        WHERE b.id = OLD.booking_id AND e.deleted_at IS NULL
          AND (e.event_types = '' OR instr(' ' || e.event_types || ' ', ' access.changed ') > 0);
    SELECT keyway_webhooks_wake();
END;
