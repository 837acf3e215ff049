-- Keyway cloud schema: SCIM 2.0 provisioning (docs/scim.md).
--
-- A place can be suspended (SCIM `active: false`): the person stays on the site, listed, but
-- opens nothing: no digital key, no remote opening, no keypad PIN or tag at the IQs, until the
-- place is reactivated. NULL: active.
ALTER TABLE memberships ADD COLUMN suspended_at INTEGER;

-- A suspension or a reactivation changes everything the person opens on the site: their
-- phones' wallets, their remote locks and pods, and what the site's IQs hold.
CREATE TRIGGER live_suspension_changed AFTER UPDATE OF suspended_at ON memberships
WHEN (OLD.suspended_at IS NULL) IS NOT (NEW.suspended_at IS NULL)
BEGIN
    INSERT INTO live_outbox (user_id, site_id, kind)
        VALUES (NEW.user_id, NEW.site_id, 'keys'), (NEW.user_id, NEW.site_id, 'remote'),
               (NEW.user_id, NEW.site_id, 'pods'), (NULL, NEW.site_id, 'iq');
    SELECT keyway_live_wake();
END;

-- What an identity provider sent for a person of the site: its own id (SCIM `externalId`)
-- and the name attributes as sent (the place keeps the one name made of them). Apart from
-- `integration_people`, so a storage system's resync never removes the people an identity
-- provider manages (nor the other way round).
CREATE TABLE scim_users (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    external_id  TEXT,
    formatted    TEXT,
    given_name   TEXT,
    family_name  TEXT,
    display_name TEXT,
    PRIMARY KEY (site_id, user_id)
);
CREATE UNIQUE INDEX scim_users_by_external_id ON scim_users(site_id, external_id)
    WHERE external_id IS NOT NULL;
-- Leaving the site ends the mapping, whichever path removed the place.
CREATE TRIGGER scim_user_place_removed AFTER DELETE ON memberships
BEGIN
    DELETE FROM scim_users WHERE site_id = OLD.site_id AND user_id = OLD.user_id;
END;
