-- Keyway cloud schema: every configuration sent to an IQ gets a higher serial, so an IQ can
-- drop a push that overtook a newer one.
ALTER TABLE iqs ADD COLUMN config_serial INTEGER NOT NULL DEFAULT 0;
