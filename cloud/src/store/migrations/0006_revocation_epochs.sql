-- Keyway cloud schema: raising a site's revocation epoch when its denylist outgrows what
-- phones carry. Credentials remember the epoch they were issued in (revoking one of an older
-- epoch needs no denial: locks refuse it by epoch), and mailbox updates say what they are, so
-- republishing the denylist replaces earlier denials but never an epoch raise.
ALTER TABLE credentials ADD COLUMN revocation_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailbox_updates ADD COLUMN kind TEXT NOT NULL DEFAULT 'deny'
    CHECK (kind IN ('deny', 'epoch'));
