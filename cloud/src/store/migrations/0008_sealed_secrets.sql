-- Keyway cloud schema: secrets sealed at rest under the key-encryption key (KEK).
--
-- The one-row `store_seal` table holds the key check value (a constant sealed under the KEK):
-- a database that has it is sealed, and only its key opens it. SQL cannot encrypt: the store
-- seals the existing secrets in Rust right after migrating, in the transaction that writes the
-- check value (`sites.authority_pkcs8`, `site_keypad.key`, `iq_code_secrets.secret`,
-- `email_outbox.sealed_body`).
CREATE TABLE store_seal (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    check_value BLOB NOT NULL
);

-- An e-mail keeps its whole body, invitation code included, sealed until it is delivered or
-- given up on, then nothing. Pending messages get their code put in now (sealed just after);
-- delivered ones lose their body.
ALTER TABLE email_outbox ADD COLUMN sealed_body BLOB;
UPDATE email_outbox
SET sealed_body = CAST(CASE WHEN secret IS NULL THEN body ELSE replace(body, '{secret}', secret) END AS BLOB)
WHERE state = 'pending';
ALTER TABLE email_outbox DROP COLUMN secret;
ALTER TABLE email_outbox DROP COLUMN body;
