-- Keyway cloud schema, version 2: OAuth2 bookkeeping.
-- The token family an authorization code produced, so a replayed code revokes the tokens
-- issued with it (RFC 6749 §4.1.2).
ALTER TABLE oauth_codes ADD COLUMN family_id INTEGER REFERENCES token_families(id) ON DELETE SET NULL;
-- The client a token family was issued to (today only the public app client).
ALTER TABLE token_families ADD COLUMN client_id TEXT NOT NULL DEFAULT 'keyway-app';
-- Pruning old rows by time.
CREATE INDEX oauth_codes_by_expiry ON oauth_codes(expires_at);
CREATE INDEX login_attempts_by_time ON login_attempts(attempted_at);
