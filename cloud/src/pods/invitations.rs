//! Invitation codes: 16 characters of Crockford's base32 (80 random bits from ring), shown as
//! `XXXX-XXXX-XXXX-XXXX` and in an app link. A code works once and expires; the cloud stores
//! only its SHA-256, so a copy of the database redeems nothing. Redeeming needs the person to
//! be signed in with the e-mail the invitation was sent to.

use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension};

use super::people::join;
use super::store::{people_where, Kind, PodPerson};
use crate::error::{ApiError, ApiResult};

/// Characters in a code.
pub const CODE_LEN: usize = 16;
/// The app link that carries a code (`keyway://invitation?code=…`).
pub const LINK_PREFIX: &str = "keyway://invitation?code=";
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const HASH_LABEL: &[u8] = b"keyway-invitation-v1:";

/// A fresh code, to put in an e-mail and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationCode(String);

impl std::fmt::Debug for InvitationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvitationCode(..)")
    }
}

impl InvitationCode {
    /// `XXXX-XXXX-XXXX-XXXX`, as people read and type it.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// 80 random bits as 16 base32 characters.
pub fn generate() -> ApiResult<InvitationCode> {
    let mut bytes = [0u8; 10];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("random generator failed".into()))?;
    let mut bits: u128 = 0;
    for byte in bytes {
        bits = (bits << 8) | u128::from(byte);
    }
    let code = (0..CODE_LEN)
        .rev()
        .map(|index| {
            let digit = ((bits >> (5 * index)) & 0x1f) as usize;
            ALPHABET.get(digit).copied().map(char::from).unwrap_or('0')
        })
        .collect();
    Ok(InvitationCode(code))
}

/// The canonical form of a typed or pasted code (or of the app link carrying it): case,
/// spaces and dashes do not matter, and O, I and L read as 0, 1 and 1. `None` when it cannot
/// be a code.
pub fn normalize(input: &str) -> Option<String> {
    let input = input.trim();
    let text = match input.find("code=") {
        Some(index) => input.get(index + 5..)?.split('&').next()?,
        None => input,
    };
    let code: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let valid = code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(code)
}

/// The stored form of a canonical code.
fn code_hash(code: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, &[HASH_LABEL, code.as_bytes()].concat())
        .as_ref()
        .to_vec()
}

/// Makes a code for `person_id` that works once, until `expires_at`.
pub fn create(
    db: &Connection,
    person_id: u32,
    expires_at: i64,
    now: i64,
) -> ApiResult<InvitationCode> {
    let code = generate()?;
    db.execute(
        "INSERT INTO pod_invitations (code_hash, person_id, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![code_hash(&code.0), person_id, expires_at, now],
    )?;
    Ok(code)
}

/// The grouped code in an invitation e-mail's body (the demo and tests read real e-mails).
pub fn find_code(body: &str) -> Option<String> {
    body.split(|c: char| c.is_whitespace() || c == '?' || c == '=')
        .find(|word| word.len() == CODE_LEN + 3 && normalize(word).is_some())
        .map(str::to_string)
}

/// `a***@example.com`: enough for the right person to recognise, not a disclosure.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Redeems `input` for the signed-in `user_id`: checks the code, its expiry and single use,
/// that the caller is the person invited, and that the invitation still stands, then joins
/// them to the pod. Returns their pod row. Nothing changes when a check fails.
pub fn redeem(db: &Connection, input: &str, user_id: u32, now: i64) -> ApiResult<PodPerson> {
    let code = normalize(input).ok_or_else(|| {
        ApiError::InvalidInput(
            "that is not an invitation code: it has 16 letters and digits, like \
             ABCD-EFGH-JKMN-PQRS"
                .into(),
        )
    })?;
    let hash = code_hash(&code);
    let found: Option<(u32, i64, Option<i64>)> = db
        .query_row(
            "SELECT person_id, expires_at, used_at FROM pod_invitations WHERE code_hash = ?1",
            [&hash],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let (person_id, expires_at, used_at) = found.ok_or_else(|| {
        ApiError::NotFound(
            "unknown invitation code: check it, or ask for a new invitation (a deleted \
             invitation no longer works)"
                .into(),
        )
    })?;
    if used_at.is_some() {
        return Err(ApiError::Conflict(
            "this invitation was already used; each invitation works once".into(),
        ));
    }
    if expires_at <= now {
        return Err(ApiError::InvalidInput(format!(
            "this invitation expired at {} UTC; ask for a new one",
            super::mail::utc_time(expires_at)
        )));
    }
    let person = people_where(db, "id = ?1", [person_id])?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("unknown invitation code".into()))?;
    let email: String =
        db.query_row("SELECT email FROM users WHERE id = ?1", [user_id], |row| {
            row.get(0)
        })?;
    if !email.eq_ignore_ascii_case(&person.email) {
        return Err(ApiError::Forbidden(format!(
            "this invitation was sent to {}: sign in with that address to accept it",
            masked(&person.email)
        )));
    }
    if person.blocked_at.is_some() {
        return Err(ApiError::Forbidden(
            "this invitation was blocked by the pod; ask the person who invited you".into(),
        ));
    }
    if person.stay.is_some_and(|stay| stay.until <= now) {
        return Err(ApiError::InvalidInput(
            "the stay this invitation was for has ended".into(),
        ));
    }
    if person.user_id.is_some() {
        return Err(ApiError::Conflict(
            "you already joined this pod with another invitation".into(),
        ));
    }
    if person.kind == Kind::Guest {
        let on_site = db
            .query_row(
                "SELECT 1 FROM memberships WHERE site_id = ?1 AND user_id = ?2",
                [person.site_id, user_id],
                |_| Ok(()),
            )
            .optional()?;
        if on_site.is_some() {
            return Err(ApiError::Conflict(
                "you are already on this site: a guest invitation is for people who are not".into(),
            ));
        }
    }
    db.execute(
        "UPDATE pod_invitations SET used_at = ?1 WHERE code_hash = ?2",
        rusqlite::params![now, hash],
    )?;
    join(db, &person, user_id, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_canonical_and_forgiving_to_type() {
        let code = generate().unwrap();
        assert_ne!(code, generate().unwrap());
        let grouped = code.grouped();
        assert_eq!(grouped.len(), 19);
        assert_eq!(normalize(&grouped).as_deref(), Some(code.0.as_str()));
        assert_eq!(
            normalize(&grouped.to_lowercase().replace('-', " ")).as_deref(),
            Some(code.0.as_str())
        );
        let link = format!("{LINK_PREFIX}{grouped}");
        assert_eq!(normalize(&link).as_deref(), Some(code.0.as_str()));
        assert_eq!(
            normalize("0OIL-1111-2222-3333").as_deref(),
            Some("0011111122223333")
        );
        assert_eq!(normalize("ABCD-EFGH"), None, "too short");
        assert_eq!(
            normalize("UUUU-UUUU-UUUU-UUUU"),
            None,
            "U is not in the alphabet"
        );
        assert!(
            !format!("{code:?}").contains(&code.0),
            "Debug hides the code"
        );
    }

    #[test]
    fn the_code_is_found_in_an_e_mail_body() {
        let code = generate().unwrap().grouped();
        let body = format!("Hello,\n\n  Code: {code}\n  Link: {LINK_PREFIX}{code}\n");
        assert_eq!(find_code(&body), Some(code));
        assert_eq!(find_code("no code here, just words-and-dashes"), None);
    }

    #[test]
    fn hashes_differ_per_code_and_never_contain_it() {
        let a = code_hash("0123456789ABCDEF");
        assert_eq!(a.len(), 32);
        assert_ne!(a, code_hash("0123456789ABCDEG"));
        assert_eq!(masked("guest@example.com"), "g***@example.com");
    }
}
