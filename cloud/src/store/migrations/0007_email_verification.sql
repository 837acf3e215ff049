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

-- Account e-mails sent to an address (verification codes, "you already have an account"),
-- so sign-up cannot be used to flood a mailbox.
CREATE TABLE account_mail_log (
    email   TEXT NOT NULL COLLATE NOCASE,
    sent_at INTEGER NOT NULL
);
CREATE INDEX account_mail_log_by_email ON account_mail_log(email, sent_at);

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
