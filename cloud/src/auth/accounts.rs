//! Accounts: the rules for e-mails, names and passwords, and password hashing (argon2id, salts
//! from ring's `SystemRandom`). Sign-up and e-mail verification are in [`super::signup`] and
//! [`super::verification`].
//!
//! Hashing costs tens of milliseconds of CPU on purpose: call [`hash_password`] and
//! [`check_password`] from `tokio::task::spawn_blocking`, not inside a store closure (which
//! would hold the database for that long).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension};

use crate::error::ApiError;

/// Argon2id memory cost in KiB (the one place to tune hashing; existing hashes keep
/// verifying with the parameters stored in them).
pub const ARGON2_MEMORY_KIB: u32 = Params::DEFAULT_M_COST;
/// Argon2id passes.
pub const ARGON2_ITERATIONS: u32 = Params::DEFAULT_T_COST;
/// Argon2id lanes.
pub const ARGON2_LANES: u32 = Params::DEFAULT_P_COST;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest e-mail accepted, in bytes (RFC 5321 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

fn hasher() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .map_err(|error| ApiError::Internal(format!("argon2 parameters: {error}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$...`) of `password` under a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| ApiError::Internal("random generator failed".into()))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| ApiError::Internal(format!("salt encoding: {error}")))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ApiError::Internal(format!("password hashing: {error}")))
}

/// [`hash_password`] on the blocking pool, for async code (a new password or app PIN).
pub async fn hash_off_thread(secret: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&secret))
        .await
        .map_err(|_| ApiError::Internal("password hashing task failed".into()))?
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, made once, to verify against when an account does not
/// exist or has no password, so that case costs the same time as a wrong password.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let mut bytes = [0u8; 24];
            SystemRandom::new().fill(&mut bytes).ok()?;
            hash_password(&base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                bytes,
            ))
            .ok()
        })
        .as_deref()
}

/// Checks a sign-in password against an account's hash, or against a dummy hash when there
/// is none (so unknown accounts take as long as known ones); `None` never matches.
pub fn check_password(password: &str, stored_hash: Option<&str>) -> bool {
    // Made on the first sign-in of any kind, so that one is not telling either.
    let dummy = dummy_hash();
    match stored_hash {
        Some(hash) => verify_password(password, hash),
        None => {
            if let Some(dummy) = dummy {
                let _ = verify_password(password, dummy);
            }
            false
        }
    }
}

/// An e-mail trimmed and lowercased, or why it is not one.
pub fn normalize_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let invalid = || ApiError::InvalidInput("the e-mail address is not valid".into());
    if email.is_empty()
        || email.len() > MAX_EMAIL_BYTES
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// A person's name trimmed, or why it is not acceptable.
pub fn normalize_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::InvalidInput("the name must not be empty".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::InvalidInput(format!(
            "the name must be at most {MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(name.to_string())
}

/// Checks the password rules (never echoes the password).
pub fn validate_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::InvalidInput(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::InvalidInput(format!(
            "the password must have at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// An account as a sign-in sees it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Login {
    /// The account id.
    pub user_id: u32,
    /// Its password (PHC string); none until a sign-up of it is verified (or for an account
    /// an admin added by e-mail).
    pub password_hash: Option<String>,
    /// Whether its address is verified.
    pub verified: bool,
}

/// The sign-in view of the account of a (normalised) e-mail.
pub(crate) fn find_login(db: &Connection, email: &str) -> Result<Option<Login>, ApiError> {
    Ok(db
        .query_row(
            "SELECT id, password_hash, email_verified_at IS NOT NULL FROM users WHERE email = ?1",
            [email],
            |row| {
                Ok(Login {
                    user_id: row.get(0)?,
                    password_hash: row.get(1)?,
                    verified: row.get(2)?,
                })
            },
        )
        .optional()?)
}

/// An account as its person sees it (`GET /api/v1/me`, the answer to a verification).
pub(crate) fn user_view(db: &Connection, user_id: u32) -> Result<keyway_api::UserView, ApiError> {
    Ok(db.query_row(
        "SELECT id, email, name, phone FROM users WHERE id = ?1",
        [user_id],
        |row| {
            Ok(keyway_api::UserView {
                user_id: row.get(0)?,
                email: row.get(1)?,
                name: row.get(2)?,
                phone: row.get(3)?,
            })
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Ada.Lovelace@Example.COM ").unwrap(),
            "ada.lovelace@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@.example.com",
            "ada@example.com.",
            "ada@example..com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters_and_errors_do_not_echo_them() {
        let error = validate_password("short-pw1").unwrap_err();
        assert!(!error.to_string().contains("short-pw1"));
        assert!(validate_password("ten chars!").is_ok());
        assert!(
            validate_password("éééééééééé").is_ok(),
            "characters, not bytes"
        );
        assert!(validate_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"));
        assert_ne!(a, b, "fresh salt each time");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert!(check_password("correct horse battery", Some(&a)));
        assert!(!check_password("correct horse battery", None));
    }
}
