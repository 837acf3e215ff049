-- Keyway cloud schema: the people list pages through a site of tens of thousands of people.
--
-- The list is ordered by the name it shows, then by account id, and pages by keyset (where the
-- previous page ended), never by offset. The shown name comes from two tables (the name the
-- admin typed until the place is claimed, then the account's own), so no index could order
-- by it: `memberships.listed_name` keeps a copy, written only by the triggers below, for any
-- code path that adds a place, claims it, retypes it or renames an account.
-- It compares without case (ASCII), as people expect a list of names to be sorted.
ALTER TABLE memberships ADD COLUMN listed_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE;

UPDATE memberships SET listed_name = (
    SELECT CASE WHEN memberships.claimed_at IS NULL
                THEN COALESCE(memberships.invited_name, u.name) ELSE u.name END
    FROM users u WHERE u.id = memberships.user_id
);

CREATE TRIGGER memberships_listed_name_on_insert AFTER INSERT ON memberships
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

CREATE TRIGGER users_listed_name_on_rename AFTER UPDATE OF name ON users
BEGIN
    UPDATE memberships
    SET listed_name = CASE WHEN claimed_at IS NULL THEN COALESCE(invited_name, NEW.name)
                           ELSE NEW.name END
    WHERE user_id = NEW.id;
END;

-- One page: the site's people from a (name, id) on, in order.
CREATE INDEX memberships_people_page ON memberships(site_id, listed_name, user_id);
-- One page of one role (and its count), without walking the other roles.
CREATE INDEX memberships_people_page_by_role
    ON memberships(site_id, role, listed_name, user_id);
-- One page of the invited (usually few among many active people).
CREATE INDEX memberships_people_page_invited
    ON memberships(site_id, listed_name, user_id) WHERE claimed_at IS NULL;
