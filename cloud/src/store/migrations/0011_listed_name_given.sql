-- Keyway cloud schema: an insert that already knows the name a place lists sets
-- `memberships.listed_name` itself, and the trigger of 0010 then leaves the row alone.
--
-- Adding a person by e-mail (one by one or 40,000 from an import file) knows it: a new place
-- is unclaimed and lists the typed name. Rewriting the row just inserted cost every insert a
-- second pass over the three people-list indexes (an import of 40,000 took a third longer).
-- Any other insert leaves the column at its default '' (names are never empty) and the
-- trigger fills it as before.
DROP TRIGGER memberships_listed_name_on_insert;

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
