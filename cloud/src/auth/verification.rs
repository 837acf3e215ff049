//! E-mail verification: nothing on a site reaches an account until its owner proved they read
//! the address's mail.
//!
//! - Every sign-up answers the same (`202`, "check your e-mail"), whether or not the address
//!   has an account; the e-mail tells the difference. An address with a verified account is
//!   told "you already have an account"; any other gets an 8-digit code (and a link to the
//!   cloud's `/web/verify` page).
//! - A code belongs to one sign-up and confirms only it: verifying takes the code *and* the
//!   password chosen at that sign-up, so somebody who signs up with your address (before or
//!   after you) cannot have you confirm their password with a code you received.
//! - Codes are single-use (verifying drops every sign-up of the account), expire after
//!   [`CODE_TTL_SECONDS`], are stored as SHA-256 only, and wrong tries are throttled like
//!   passwords (per address of the account and per client address).
//! - An address gets at most [`email::SIGNUP_MAILS_PER_HOUR`] sign-up e-mails an hour: sign-up
//!   cannot flood a mailbox. Past that, sign-up still answers the same and sends nothing. At most
//!   [`MAX_PENDING_SIGNUPS`] codes of an account are alive at once, and an address gets at
//!   most [`DAILY_FAILURE_LIMIT`] wrong codes a day.
//! - An account from before verification (it has a password but no verified address) is
//!   sent a code when it signs in with the right password ([`signup_from_login`]), and
//!   confirms it like a new sign-up.
//! - An account row may exist before verification (an admin or a pod added the address, or a
//!   sign-up is pending) but it has no password and cannot sign in.

use keyway_api::UserView;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{params, Connection, OptionalExtension};

use super::accounts::{normalize_name, user_view};
use crate::email::{self, NewEmail, SECRET_PLACEHOLDER};
use crate::error::{ApiError, ApiResult};

/// Digits in a code.
pub const CODE_DIGITS: usize = 8;
/// Seconds a code works.
pub const CODE_TTL_SECONDS: i64 = 24 * 3600;
/// Wrong codes for one address within the login throttling window before tries are refused.
pub const FAILURE_LIMIT: u32 = 5;
/// Wrong codes for one address within a day before tries are refused until the oldest is a
/// day old.
pub const DAILY_FAILURE_LIMIT: u32 = 20;
/// Sign-ups of one account waiting at once: a newer one drops the oldest, so a guesser cannot
/// keep many codes alive to guess against.
pub const MAX_PENDING_SIGNUPS: u32 = 3;
/// The page of the cloud the e-mail links to.
pub const VERIFY_PATH: &str = "/web/verify";
const HASH_LABEL: &[u8] = b"keyway-email-verification-v1:";

/// A fresh code, to put in an e-mail and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode(String);

impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationCode(..)")
    }
}

impl VerificationCode {
    /// `1234-5678`, as people read and type it.
    pub fn grouped(&self) -> String {
        let (left, right) = self.0.split_at(CODE_DIGITS / 2);
        format!("{left}-{right}")
    }
}

/// Eight random digits (rejection sampling over ring's generator, so every code is as likely).
pub fn generate() -> ApiResult<VerificationCode> {
    const SPACE: u64 = 100_000_000;
    let random = SystemRandom::new();
    // The largest multiple of SPACE that fits in a u64: values above it would bias the digits.
    let zone = u64::MAX - u64::MAX % SPACE;
    loop {
        let mut bytes = [0u8; 8];
        random
            .fill(&mut bytes)
            .map_err(|_| ApiError::Internal("random generator failed".into()))?;
        let value = u64::from_be_bytes(bytes);
        if value < zone {
            return Ok(VerificationCode(format!("{:08}", value % SPACE)));
        }
    }
}

/// The canonical form of a typed code (spaces and dashes do not matter), or `None` when it
/// cannot be one.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// The grouped code in a verification e-mail's body (the demo and tests read real e-mails).
pub fn find_code(body: &str) -> Option<String> {
    body.split(|c: char| c.is_whitespace() || c == '=' || c == '&')
        .find(|word| word.len() == CODE_DIGITS + 1 && normalize(word).is_some())
        .map(str::to_string)
}

/// The stored form of a canonical code of `user_id`.
fn code_hash(user_id: u32, code: &str) -> Vec<u8> {
    let id = user_id.to_be_bytes();
    digest::digest(
        &digest::SHA256,
        &[HASH_LABEL, &id, code.as_bytes()].concat(),
    )
    .as_ref()
    .to_vec()
}

/// An account by its (normalised) address: id and whether its address is verified.
pub(crate) fn find_account(db: &Connection, email: &str) -> ApiResult<Option<(u32, bool)>> {
    Ok(db
        .prepare_cached("SELECT id, email_verified_at IS NOT NULL FROM users WHERE email = ?1")?
        .query_row([email], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// The account of `email`, made (unverified, without a password) when there is none, so that
/// a site or a pod can hold a place for the person until they verify the address.
pub(crate) fn account_for_address(
    db: &Connection,
    email: &str,
    name: &str,
    now: i64,
) -> ApiResult<(u32, bool)> {
    let name = normalize_name(name)?;
    // One statement for a new address (an import adds thousands); an existing one is looked up.
    let added = db
        .prepare_cached(
            "INSERT INTO users (email, name, password_hash, created_at) VALUES (?1, ?2, NULL, ?3)
             ON CONFLICT(email) DO NOTHING",
        )?
        .execute(params![email, name, now])?;
    if added == 0 {
        return find_account(db, email)?
            .ok_or_else(|| ApiError::Internal("an account vanished while added".into()));
    }
    let id = u32::try_from(db.last_insert_rowid())
        .map_err(|_| ApiError::Internal("account id out of range".into()))?;
    Ok((id, false))
}

/// Records a sign-up of `email` (normalised) with `name` and an already hashed password, and
/// queues the e-mail that answers it: a code for an address without a verified account, a
/// note for one with. Nothing is sent past [`email::SIGNUP_MAILS_PER_HOUR`]. `public_url` is the cloud's
/// address for the link.
pub fn record_signup(
    db: &Connection,
    email: &str,
    name: &str,
    password_hash: &str,
    public_url: &str,
    now: i64,
) -> ApiResult<()> {
    db.execute("DELETE FROM account_signups WHERE expires_at <= ?1", [now])?;
    let (user_id, verified) = account_for_address(db, email, name, now)?;
    if verified {
        let note = already_registered_email(email, public_url);
        email::queue_capped(db, &note, now, email::SIGNUP_MAILS_PER_HOUR)?;
        return Ok(());
    }
    send_code(db, email, user_id, name, password_hash, public_url, now)
}

/// A new pending sign-up of `user_id` and its code e-mailed, within the hourly cap (past it,
/// nothing is recorded: a code nobody receives only helps a guesser).
fn send_code(
    db: &Connection,
    email: &str,
    user_id: u32,
    name: &str,
    password_hash: &str,
    public_url: &str,
    now: i64,
) -> ApiResult<()> {
    if !email::within_cap(db, email, now, email::SIGNUP_MAILS_PER_HOUR)? {
        return Ok(());
    }
    let (code, expires_at) = pending_signup(db, user_id, name, password_hash, now)?;
    let message = verification_email(email, name, &code, public_url, expires_at);
    email::queue_capped(db, &message, now, email::SIGNUP_MAILS_PER_HOUR)?;
    Ok(())
}

/// Records a pending sign-up of `user_id` with a fresh code, dropping the oldest beyond
/// [`MAX_PENDING_SIGNUPS`]. Returns the code and when it expires.
fn pending_signup(
    db: &Connection,
    user_id: u32,
    name: &str,
    password_hash: &str,
    now: i64,
) -> ApiResult<(VerificationCode, i64)> {
    let code = generate()?;
    let expires_at = now + CODE_TTL_SECONDS;
    db.execute(
        "INSERT INTO account_signups (user_id, name, password_hash, code_hash, expires_at,
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user_id,
            name,
            password_hash,
            code_hash(user_id, &code.0),
            expires_at,
            now
        ],
    )?;
    db.execute(
        "DELETE FROM account_signups WHERE user_id = ?1 AND id NOT IN
           (SELECT id FROM account_signups WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)",
        params![user_id, MAX_PENDING_SIGNUPS],
    )?;
    Ok((code, expires_at))
}

/// An account from before e-mail verification signed in with its right password: it gets a
/// code for its own address (as a sign-up with the password it already has), within the
/// hourly e-mail cap. Its sign-in goes no further until the address is confirmed.
pub(crate) fn signup_from_login(
    db: &Connection,
    user_id: u32,
    public_url: &str,
    now: i64,
) -> ApiResult<()> {
    let (email, name, password_hash): (String, String, Option<String>) = db.query_row(
        "SELECT email, name, password_hash FROM users WHERE id = ?1",
        [user_id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let Some(password_hash) = password_hash else {
        return Ok(());
    };
    send_code(db, &email, user_id, &name, &password_hash, public_url, now)
}

/// Seconds to wait before `email` may try another code, when it had [`DAILY_FAILURE_LIMIT`]
/// wrong ones within a day; 0 when it may try now.
pub(crate) fn daily_wait(db: &Connection, email: &str, now: i64) -> ApiResult<u64> {
    const DAY: i64 = 86_400;
    db.execute(
        "DELETE FROM verification_failures WHERE failed_at <= ?1",
        [now - DAY],
    )?;
    let oldest: Option<i64> = db
        .query_row(
            "SELECT failed_at FROM verification_failures WHERE email = ?1
             ORDER BY failed_at DESC LIMIT 1 OFFSET ?2",
            params![email, DAILY_FAILURE_LIMIT - 1],
            |row| row.get(0),
        )
        .optional()?;
    Ok(oldest.map_or(0, |at| u64::try_from(at + DAY - now).unwrap_or(0).max(1)))
}

/// Counts a wrong code against `email` for the day.
pub(crate) fn record_failure(db: &Connection, email: &str, now: i64) -> ApiResult<()> {
    db.execute(
        "INSERT INTO verification_failures (email, failed_at) VALUES (?1, ?2)",
        params![email, now],
    )?;
    Ok(())
}

/// A sign-up a code belongs to.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PendingSignup {
    /// Its row.
    pub id: i64,
    /// The account.
    pub user_id: u32,
    /// The password it chose (PHC string).
    pub password_hash: String,
}

impl std::fmt::Debug for PendingSignup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignup")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// The live sign-up of `email` whose code is `code` (canonical), if any.
pub(crate) fn find_signup(
    db: &Connection,
    email: &str,
    code: &str,
    now: i64,
) -> ApiResult<Option<PendingSignup>> {
    let Some((user_id, false)) = find_account(db, email)? else {
        return Ok(None);
    };
    Ok(db
        .query_row(
            "SELECT id, password_hash FROM account_signups
             WHERE user_id = ?1 AND code_hash = ?2 AND expires_at > ?3",
            params![user_id, code_hash(user_id, code), now],
            |row| {
                Ok(PendingSignup {
                    id: row.get(0)?,
                    user_id,
                    password_hash: row.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Completes a verified sign-up: the account takes its password and name, its address is
/// verified, every sign-up of it is dropped (each code works once) and any token it might
/// hold is revoked. Fails when the sign-up was used in the meantime. Returns the account.
pub(crate) fn complete_signup(
    db: &Connection,
    signup: &PendingSignup,
    now: i64,
) -> ApiResult<UserView> {
    let name: Option<String> = db
        .query_row(
            "SELECT name FROM account_signups WHERE id = ?1",
            [signup.id],
            |row| row.get(0),
        )
        .optional()?;
    let Some(name) = name else {
        return Err(ApiError::VerificationFailed(
            "this code was already used".into(),
        ));
    };
    db.execute(
        "UPDATE users SET password_hash = ?1, name = ?2, email_verified_at = ?3
         WHERE id = ?4 AND email_verified_at IS NULL",
        params![signup.password_hash, name, now, signup.user_id],
    )?;
    db.execute(
        "DELETE FROM account_signups WHERE user_id = ?1",
        [signup.user_id],
    )?;
    db.execute(
        "DELETE FROM verification_failures WHERE email =
           (SELECT email FROM users WHERE id = ?1)",
        [signup.user_id],
    )?;
    db.execute(
        "UPDATE token_families SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
        params![now, signup.user_id],
    )?;
    user_view(db, signup.user_id)
}

/// The `/web/verify` page for `email` (its query string encoded).
fn verify_link(public_url: &str, email: &str) -> String {
    let email: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
    format!(
        "{}{VERIFY_PATH}?email={email}",
        public_url.trim_end_matches('/')
    )
}

fn verification_email(
    to: &str,
    name: &str,
    code: &VerificationCode,
    public_url: &str,
    expires_at: i64,
) -> NewEmail {
    // The link carries the placeholder too: the outbox puts the code in when it queues the
    // message, and stores the body sealed.
    // (A code is digits and a dash: nothing to encode.)
    let link = format!("{}&code={SECRET_PLACEHOLDER}", verify_link(public_url, to));
    NewEmail {
        to: to.to_string(),
        subject: "Confirm your e-mail address for Keyway".into(),
        body: format!(
            "Hello {name},\n\n\
             Someone, probably you, signed up for Keyway with this address. To confirm it, enter \
             this code in the Keyway app with the password you chose:\n\n\
             \x20 {SECRET_PLACEHOLDER}\n\n\
             or open {link}\n\n\
             The code works once, until {} UTC. Until you confirm, nothing is shared with this \
             account: no site, key or invitation. If you did not sign up, ignore this e-mail; \
             without the code nobody can use this address.\n",
            crate::pods::mail::utc_time(expires_at)
        ),
        secret: Some(code.grouped()),
    }
}

fn already_registered_email(to: &str, public_url: &str) -> NewEmail {
    NewEmail {
        to: to.to_string(),
        subject: "You already have a Keyway account".into(),
        body: format!(
            "Hello,\n\n\
             Someone, probably you, tried to sign up for Keyway with this address, but you \
             already have an account: sign in with it in the Keyway app (or at {}). Nothing was \
             changed. If it was not you, you can ignore this e-mail.\n",
            public_url.trim_end_matches('/')
        ),
        secret: None,
    }
}

/// The e-mail to a person added to a site by an administrator. `claim` is set when the
/// address has no verified account yet: the e-mail then says how to claim the place.
pub fn added_to_site_email(
    to: &str,
    name: &str,
    site_name: &str,
    role: &str,
    claim: bool,
    public_url: &str,
) -> NewEmail {
    let next = if claim {
        format!(
            "To claim it, install the Keyway app and sign up with this address ({to}), then \
             confirm the address with the code we e-mail you. Until then nothing works for \
             this address. (Web: {})\n",
            verify_link(public_url, to)
        )
    } else {
        "Open the Keyway app and sync: what the site gives you appears there.\n".into()
    };
    NewEmail {
        to: to.to_string(),
        subject: format!("You were added to {site_name} on Keyway"),
        body: format!(
            "Hello {name},\n\nYou were added to {site_name} as {role}.\n\n{next}\n\
             If you did not expect this e-mail, ignore it.\n"
        ),
        secret: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_random_digits_forgiving_to_type_and_hidden_from_debug() {
        let code = generate().unwrap();
        assert_ne!(code, generate().unwrap());
        let grouped = code.grouped();
        assert_eq!(grouped.len(), 9);
        assert_eq!(normalize(&grouped).as_deref(), Some(code.0.as_str()));
        assert_eq!(
            normalize(&grouped.replace('-', " ")).as_deref(),
            Some(code.0.as_str())
        );
        assert_eq!(normalize("1234-567"), None);
        assert_eq!(normalize("1234-567a"), None);
        assert!(!format!("{code:?}").contains(&code.0));
        let body = format!("code:\n  {grouped}\nlink https://x/web/verify?email=a&code={grouped}");
        assert_eq!(find_code(&body), Some(grouped));
    }

    #[test]
    fn hashes_are_per_account_and_never_contain_the_code() {
        let a = code_hash(1, "12345678");
        assert_eq!(a.len(), 32);
        assert_ne!(a, code_hash(2, "12345678"));
        assert_ne!(a, code_hash(1, "12345679"));
    }

    #[test]
    fn the_verification_email_keeps_its_code_out_of_the_body() {
        let code = generate().unwrap();
        let email = verification_email("ada@example.com", "Ada", &code, "http://127.0.0.1:1", 0);
        assert!(!email.body.contains(&code.grouped()));
        let sent = email.body.replace(SECRET_PLACEHOLDER, &code.grouped());
        assert_eq!(find_code(&sent), Some(code.grouped()));
        assert!(sent.contains(&format!(
            "http://127.0.0.1:1/web/verify?email=ada%40example.com&code={}",
            code.grouped()
        )));
    }
}
