-- Keyway cloud schema: accounts prove their e-mail address before anything on a site reaches
-- them. An account row exists from the first sign-up (or from being added to a site by
-- e-mail) but has no password and cannot sign in until a sign-up of it is verified.
-- Accounts from before verification existed are not taken as verified (any of them may have
-- been opened with somebody else's address): their next sign-in with the right password
-- e-mails them a code instead, and they confirm the address like a new sign-up.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

-- Each sign-up waiting for its e-mail to be verified: the password and name it chose, and the
-- SHA-256 of its code (the code itself is only in the e-mail). Verifying one sets the
-- account's password and drops the others.
CREATE TABLE account_signups (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    code_hash     BLOB NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX account_signups_by_user ON account_signups(user_id, expires_at);

-- E-mails that anybody can make the cloud send to an address (sign-up codes, "you already
-- have an account", "you were added", invitations), so nobody can use the cloud to flood a
-- mailbox: each kind is capped per address per hour.
CREATE TABLE mail_log (
    email   TEXT NOT NULL COLLATE NOCASE,
    sent_at INTEGER NOT NULL
);
CREATE INDEX mail_log_by_email ON mail_log(email, sent_at);

-- A place on a site is *claimed* once its person, signed in with a verified account, used
-- Keyway after being added; until then admins see it as invited, under the name they typed,
-- so adding an address tells nobody whether it has an account or what its owner is called.
ALTER TABLE memberships ADD COLUMN claimed_at INTEGER;
ALTER TABLE memberships ADD COLUMN invited_name TEXT;
UPDATE memberships SET claimed_at = created_at;
CREATE INDEX memberships_unclaimed ON memberships(user_id) WHERE claimed_at IS NULL;

-- Wrong verification codes per address over the last day, on top of the 15-minute throttle:
-- a patient guesser gets a few dozen tries a day, not hundreds.
CREATE TABLE verification_failures (
    email     TEXT NOT NULL COLLATE NOCASE,
    failed_at INTEGER NOT NULL
);
CREATE INDEX verification_failures_by_email ON verification_failures(email, failed_at);

-- Inviting as a guest somebody already on the site gives the same answer as inviting a
-- newcomer (a pod member must not learn who is on the site): such an invitation is recorded
-- but has no code, so two guest rows of one address may exist on a site. Redeeming still
-- refuses anybody already on the site.
DROP INDEX pod_guests_once_per_site;

-- (Account, address) pairs that signed in with the right password lately: a guesser who holds
-- an account at its all-addresses cap does not lock its owner out of the places they sign in
-- from.
CREATE TABLE known_sign_ins (
    pair           TEXT PRIMARY KEY,
    last_signed_in INTEGER NOT NULL
);
