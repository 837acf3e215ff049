//! What the "Connect" flow stores between its steps: consent tickets (the consent form's
//! CSRF defence: single use, short-lived, bound to the signed-in person and the whole
//! authorization request) and the apps' authorization codes (single use, 60 s). Both are
//! stored as SHA-256 only.

use rusqlite::{Connection, OptionalExtension};

use super::authorize::CODE_TTL_SECONDS;
use super::tokens::{new_token, token_hash};
use crate::error::ApiResult;

/// Seconds a consent ticket lives: time to read the page and pick a site.
pub(crate) const CONSENT_TICKET_TTL_SECONDS: i64 = 600;
/// Seconds a code row is kept after it expires, so a late replay still revokes its token.
const CODE_KEEP_SECONDS: i64 = 86_400;

/// What a consent ticket is bound to: who signed in, and the request they consent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsentBinding {
    /// The signed-in person.
    pub(crate) user_id: u32,
    /// The app's client id.
    pub(crate) client_id: String,
    /// The redirect URI of the request.
    pub(crate) redirect_uri: String,
    /// The requested scopes, as stored (sorted, space-separated).
    pub(crate) scopes: String,
    /// The PKCE challenge.
    pub(crate) code_challenge: String,
    /// The app's `state`.
    pub(crate) state: String,
}

/// A new ticket for `binding`; expired tickets are dropped on the way.
pub(crate) fn issue_ticket(
    db: &Connection,
    binding: &ConsentBinding,
    now: i64,
) -> ApiResult<String> {
    let (ticket, hash) = new_token()?;
    db.execute("DELETE FROM consent_tickets WHERE expires_at <= ?1", [now])?;
    db.execute(
        "INSERT INTO consent_tickets
         (ticket_hash, user_id, client_id, redirect_uri, scopes, code_challenge, state, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            hash,
            binding.user_id,
            binding.client_id,
            binding.redirect_uri,
            binding.scopes,
            binding.code_challenge,
            binding.state,
            now + CONSENT_TICKET_TTL_SECONDS
        ],
    )?;
    Ok(ticket)
}

/// Spends `ticket`: what it was bound to, if it was live and unused (it is gone afterwards,
/// whatever the caller decides).
pub(crate) fn spend_ticket(
    db: &Connection,
    ticket: &str,
    now: i64,
) -> ApiResult<Option<ConsentBinding>> {
    let hash = token_hash(ticket);
    let binding = db
        .query_row(
            "DELETE FROM consent_tickets WHERE ticket_hash = ?1
             RETURNING user_id, client_id, redirect_uri, scopes, code_challenge, state, expires_at",
            [&hash],
            |row| {
                Ok((
                    ConsentBinding {
                        user_id: row.get(0)?,
                        client_id: row.get(1)?,
                        redirect_uri: row.get(2)?,
                        scopes: row.get(3)?,
                        code_challenge: row.get(4)?,
                        state: row.get(5)?,
                    },
                    row.get::<_, i64>(6)?,
                ))
            },
        )
        .optional()?;
    Ok(binding
        .filter(|(_, expires_at)| *expires_at > now)
        .map(|(binding, _)| binding))
}

/// A new authorization code for the connection, bound to the client, redirect URI and PKCE
/// challenge of the request.
pub(crate) fn issue_code(
    db: &Connection,
    connection_id: u32,
    binding: &ConsentBinding,
    now: i64,
) -> ApiResult<String> {
    let (code, hash) = new_token()?;
    db.execute(
        "DELETE FROM app_codes WHERE expires_at < ?1",
        [now - CODE_KEEP_SECONDS],
    )?;
    db.execute(
        "INSERT INTO app_codes
         (code_hash, connection_id, client_id, redirect_uri, code_challenge, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            hash,
            connection_id,
            binding.client_id,
            binding.redirect_uri,
            binding.code_challenge,
            now + CODE_TTL_SECONDS
        ],
    )?;
    Ok(code)
}

/// An app's code as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredCode {
    /// The connection it was issued for.
    pub(crate) connection_id: u32,
    /// Its client.
    pub(crate) client_id: String,
    /// The redirect URI of its request.
    pub(crate) redirect_uri: String,
    /// The PKCE challenge of its request.
    pub(crate) code_challenge: String,
    /// When it expires.
    pub(crate) expires_at: i64,
    /// Whether it was presented before.
    pub(crate) used: bool,
}

/// The code with this hash, marked used (one attempt per code, whatever its outcome).
pub(crate) fn take_code(
    db: &Connection,
    code_hash: &[u8],
    now: i64,
) -> ApiResult<Option<StoredCode>> {
    let code = db
        .query_row(
            "SELECT connection_id, client_id, redirect_uri, code_challenge, expires_at, used_at
             FROM app_codes WHERE code_hash = ?1",
            [code_hash],
            |row| {
                Ok(StoredCode {
                    connection_id: row.get(0)?,
                    client_id: row.get(1)?,
                    redirect_uri: row.get(2)?,
                    code_challenge: row.get(3)?,
                    expires_at: row.get(4)?,
                    used: row.get::<_, Option<i64>>(5)?.is_some(),
                })
            },
        )
        .optional()?;
    if code.as_ref().is_some_and(|code| !code.used) {
        db.execute(
            "UPDATE app_codes SET used_at = ?1 WHERE code_hash = ?2",
            rusqlite::params![now, code_hash],
        )?;
    }
    Ok(code)
}

/// Notes the key a code was traded for.
pub(crate) fn note_token(db: &Connection, code_hash: &[u8], key_id: u32) -> ApiResult<()> {
    db.execute(
        "UPDATE app_codes SET api_key_id = ?1 WHERE code_hash = ?2",
        rusqlite::params![key_id, code_hash],
    )?;
    Ok(())
}
