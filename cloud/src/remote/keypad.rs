//! Keypad PINs (manual 000 "PIN"): six digits, one per person per site, shown once when
//! made and never again (the cloud keeps only a keyed verifier), only regenerated. A PIN
//! reaches only its person: in the answer when they ask themselves; when an admin makes it
//! (the admin never sees it), by text message to the phone the person set themselves, else by
//! e-mail; a tag profile (no app, no address) gets it by text message to the phone the site
//! keeps for them, or, without one, the site is shown it to hand over. Each lock
//! gets a signed table of the PINs of the people with a right on it, through its IQ, and
//! keeps it: offline access for PINs is automatic (manual 003).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyway_api::remote::{KeypadPinResponse, KeypadPinStatus, PinDelivery};
use keyway_api::ApiErrorBody;
use keyway_protocol::iq::keypad::{keypad_verifier, KEYPAD_KEY_LEN};
use keyway_protocol::iq::{HexBytes, KeypadEntry, KeypadTable};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{params, Connection, OptionalExtension};

use super::rights::lock_schedules;
use crate::api::access::role_on_site;
use crate::api::extract::Ids;
use crate::auth::Authenticated;
use crate::email::{self, NewEmail, NewTextMessage, SECRET_PLACEHOLDER};
use crate::error::{ApiError, ApiResult};
use crate::iq::config::iq_lock_ids;
use crate::issuing::site_authority;
use crate::pods::mail::site_info;
use crate::roles::may_manage;
use crate::store::rows;
use crate::AppState;

/// Tries at a PIN no one else on the site has before giving up.
const GENERATION_TRIES: usize = 32;

/// The site's keypad key (sealed in the store), made on first use.
fn site_key(db: &Connection, site_id: u32) -> ApiResult<[u8; KEYPAD_KEY_LEN]> {
    let stored: Option<Vec<u8>> = db
        .query_row(
            "SELECT keyway_open('site_keypad.key', key, site_id) FROM site_keypad
             WHERE site_id = ?1",
            [site_id],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(key) = stored.and_then(|key| <[u8; KEYPAD_KEY_LEN]>::try_from(key).ok()) {
        return Ok(key);
    }
    let mut key = [0u8; KEYPAD_KEY_LEN];
    random(&mut key)?;
    db.execute(
        "INSERT INTO site_keypad (site_id, key, serial)
         VALUES (?1, keyway_seal('site_keypad.key', ?2, ?1), 0)
         ON CONFLICT(site_id) DO UPDATE SET key = excluded.key",
        params![site_id, key.as_slice()],
    )?;
    Ok(key)
}

fn random(out: &mut [u8]) -> ApiResult<()> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| ApiError::Internal("random generator failed".into()))
}

/// A uniformly random 6-digit PIN.
fn random_pin() -> ApiResult<String> {
    // Rejection sampling: 4_294_000_000 is the largest multiple of 10^6 below 2^32.
    loop {
        let mut bytes = [0u8; 4];
        random(&mut bytes)?;
        let value = u32::from_be_bytes(bytes);
        if value < 4_294_000_000 {
            return Ok(format!("{:06}", value % 1_000_000));
        }
    }
}

/// One signed keypad table per lock of the IQ, with a new serial (higher than any before).
pub(crate) fn tables_for_iq(db: &Connection, site_id: u32, iq_id: u32) -> ApiResult<Vec<HexBytes>> {
    let key = site_key(db, site_id)?;
    db.execute(
        "UPDATE site_keypad SET serial = serial + 1 WHERE site_id = ?1",
        [site_id],
    )?;
    let serial: u32 = db.query_row(
        "SELECT serial FROM site_keypad WHERE site_id = ?1",
        [site_id],
        |row| row.get(0),
    )?;
    let pins: Vec<(u32, Vec<u8>, bool)> = rows(
        db,
        "SELECT k.user_id, k.verifier, m.privacy_override FROM keypad_pins k
         JOIN memberships m ON m.site_id = k.site_id AND m.user_id = k.user_id
         WHERE k.site_id = ?1 AND m.suspended_at IS NULL",
        [site_id],
        |row| row.try_into(),
    )?;
    let lock_ids = iq_lock_ids(db, iq_id)?;
    let authority = site_authority(db, site_id)?;
    let rng = SystemRandom::new();
    let mut tables = Vec::with_capacity(lock_ids.len());
    for lock_id in lock_ids {
        let schedules = lock_schedules(db, lock_id, None)?;
        let entries = pins
            .iter()
            .filter_map(|(user_id, verifier, privacy_override)| {
                Some(KeypadEntry {
                    user_id: *user_id,
                    verifier: verifier.as_slice().try_into().ok()?,
                    privacy_override: *privacy_override,
                    schedule: schedules.get(user_id)?.clone(),
                })
            })
            .collect();
        let table = KeypadTable {
            site_id,
            lock_id,
            serial,
            key,
            entries,
        };
        let signed = table
            .sign(&authority, &rng)
            .map_err(|error| ApiError::Internal(format!("signing a keypad table: {error}")))?;
        tables.push(HexBytes(signed));
    }
    Ok(tables)
}

/// Checks the caller may handle `user_id`'s PIN on the site: themselves, or someone whose
/// role manages theirs. Both must be members (else 404).
fn check_pin_manager(db: &Connection, site_id: u32, caller: u32, user_id: u32) -> ApiResult<()> {
    let actor = role_on_site(db, site_id, caller)?;
    let target = role_on_site(db, site_id, user_id)
        .map_err(|_| ApiError::NotFound(format!("no person {user_id} on this site")))?;
    if caller == user_id || may_manage(actor, target) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "your role on this site may not manage this person's PIN".into(),
        ))
    }
}

/// Where a person can be reached, as the PIN's delivery sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRecipient {
    /// Their name.
    pub name: String,
    /// Their e-mail; `None` for a tag profile.
    pub email: Option<String>,
    /// A phone a PIN may go to: the one the person set themselves (a claimed place), or a tag
    /// profile's, which the site keeps. Never a phone typed by an admin for a place not
    /// claimed yet: the admin could type their own and read the PIN.
    pub trusted_phone: Option<String>,
}

/// How a PIN made by `caller` for `user_id` reaches its person: shown to the person themselves;
/// anybody else (an admin, a super user) never sees it, and it goes by text message or e-mail
/// to the person, except to a tag profile with no phone, whose PIN only the site can hand over.
pub fn pin_delivery(caller: u32, user_id: u32, recipient: &PinRecipient) -> PinDelivery {
    if caller == user_id {
        PinDelivery::Shown
    } else if recipient.trusted_phone.is_some() {
        PinDelivery::TextMessage
    } else if recipient.email.is_some() {
        PinDelivery::Emailed
    } else {
        PinDelivery::Shown
    }
}

/// Where `user_id`'s PIN may go on `site_id` ([`PinRecipient`]).
fn pin_recipient(db: &Connection, site_id: u32, user_id: u32) -> ApiResult<PinRecipient> {
    Ok(db.query_row(
        "SELECT u.name, u.email, CASE WHEN m.claimed_at IS NOT NULL THEN u.phone END
         FROM users u JOIN memberships m ON m.user_id = u.id AND m.site_id = ?1
         WHERE u.id = ?2",
        [site_id, user_id],
        |row| {
            Ok(PinRecipient {
                name: row.get(0)?,
                email: row.get(1)?,
                trusted_phone: row.get(2)?,
            })
        },
    )?)
}

/// The text message that hands a person the keypad PIN somebody else made for them.
fn pin_text_message(to: &str, site_name: &str, pin: &str) -> NewTextMessage {
    NewTextMessage {
        to: to.to_string(),
        body: format!(
            "Your new keypad PIN for {site_name}:\n{PIN_PREFIX}{SECRET_PLACEHOLDER}\n\
             It replaces your previous PIN. Keep it to yourself."
        ),
        secret: Some(pin.to_string()),
    }
}

/// The e-mail that hands a person the keypad PIN somebody else made for them.
fn pin_email(to: &str, name: &str, site_name: &str, pin: &str) -> NewEmail {
    NewEmail {
        to: to.to_string(),
        subject: format!("Your keypad PIN for {site_name}"),
        body: format!(
            "Hello {name},\n\n\
             Your new keypad PIN for {site_name} is\n\n{PIN_PREFIX}{SECRET_PLACEHOLDER}\n\n\
             Type it on the keypad of a door you may open. It replaces your previous PIN. Keep \
             it to yourself: nobody else was shown it, and if somebody learns it, make a new \
             one in the Keyway app.\n"
        ),
        secret: Some(pin.to_string()),
    }
}

/// What precedes the PIN in its e-mail.
const PIN_PREFIX: &str = "  PIN: ";

/// The PIN in a keypad-PIN e-mail's or text message's body (the demo and the tests read
/// real messages).
pub fn find_pin(body: &str) -> Option<String> {
    body.lines()
        .find_map(|line| line.strip_prefix(PIN_PREFIX))
        .map(str::trim)
        .filter(|pin| keyway_protocol::iq::keypad::is_keypad_pin(pin))
        .map(str::to_string)
}

/// Makes a new keypad PIN for a person (replacing theirs). The person themselves, or someone
/// whose role manages theirs, may ask; see [`pin_delivery`] for who gets to see it.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site_id}/people/{user_id}/keypad-pin",
    tag = "remote",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("user_id" = u32, Path, description = "The person"),
    ),
    responses(
        (status = 201, body = KeypadPinResponse),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub async fn generate_pin(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, user_id)): Ids<(u32, u32)>,
) -> ApiResult<(StatusCode, Json<KeypadPinResponse>)> {
    let made = regenerate_pin(&state, caller.user_id, site_id, user_id).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// `caller_id` makes a new keypad PIN for `user_id` on `site_id` (the JSON API and the
/// console's button): it reaches only its person, as [`pin_delivery`] says.
pub(crate) async fn regenerate_pin(
    state: &AppState,
    caller_id: u32,
    site_id: u32,
    user_id: u32,
) -> ApiResult<KeypadPinResponse> {
    let now = state.clock.now();
    let (pin, delivery) = state
        .store
        .transaction(move |tx| {
            check_pin_manager(tx, site_id, caller_id, user_id)?;
            new_pin(tx, site_id, caller_id, user_id, now)
        })
        .await?;
    state.mail.wake();
    Ok(KeypadPinResponse {
        user_id,
        pin,
        delivery,
    })
}

/// Makes `user_id` a new keypad PIN on `site_id` (replacing theirs), at `caller`'s request,
/// and sends it to them ([`pin_delivery`]): returns the PIN only when it is shown to the
/// caller (the person themselves, or a tag profile with no phone).
pub(crate) fn new_pin(
    tx: &Connection,
    site_id: u32,
    caller: u32,
    user_id: u32,
    now: i64,
) -> ApiResult<(Option<String>, PinDelivery)> {
    let key = site_key(tx, site_id)?;
    for _ in 0..GENERATION_TRIES {
        let pin = random_pin()?;
        let verifier = keypad_verifier(&key, &pin);
        let taken: Option<u32> = tx
            .query_row(
                "SELECT user_id FROM keypad_pins WHERE site_id = ?1 AND verifier = ?2",
                params![site_id, verifier.as_slice()],
                |row| row.get(0),
            )
            .optional()?;
        if taken.is_some() {
            continue;
        }
        tx.execute(
            "INSERT INTO keypad_pins (site_id, user_id, verifier, created_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(site_id, user_id) DO UPDATE SET verifier = ?3, created_at = ?4",
            params![site_id, user_id, verifier.as_slice(), now],
        )?;
        let recipient = pin_recipient(tx, site_id, user_id)?;
        let delivery = pin_delivery(caller, user_id, &recipient);
        let site = site_info(tx, site_id)?;
        match (delivery, &recipient.trusted_phone, &recipient.email) {
            (PinDelivery::TextMessage, Some(phone), _) => {
                let message = pin_text_message(phone, &site.name, &pin);
                let per_hour = email::TEXTS_PER_HOUR;
                if !email::queue_text_message_capped(tx, &message, now, per_hour)? {
                    // Refused whole: the person keeps their PIN.
                    return Err(ApiError::RateLimited(3_600));
                }
            }
            (PinDelivery::Emailed, _, Some(address)) => {
                let message = pin_email(address, &recipient.name, &site.name, &pin);
                email::queue(tx, &message, now)?;
            }
            _ => return Ok((Some(pin), PinDelivery::Shown)),
        }
        return Ok((None, delivery));
    }
    Err(ApiError::Conflict(
        "no free PIN found on this site; try again".into(),
    ))
}

/// Whether a person has a keypad PIN, and since when (never the PIN itself).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site_id}/people/{user_id}/keypad-pin",
    tag = "remote",
    security(("bearer" = [])),
    params(
        ("site_id" = u32, Path, description = "Site id"),
        ("user_id" = u32, Path, description = "The person"),
    ),
    responses(
        (status = 200, body = KeypadPinStatus),
        (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
    )
)]
pub async fn pin_status(
    State(state): State<AppState>,
    caller: Authenticated,
    Ids((site_id, user_id)): Ids<(u32, u32)>,
) -> ApiResult<Json<KeypadPinStatus>> {
    let created_at = state
        .store
        .run(move |db| {
            check_pin_manager(db, site_id, caller.user_id, user_id)?;
            Ok::<_, ApiError>(
                db.query_row(
                    "SELECT created_at FROM keypad_pins WHERE site_id = ?1 AND user_id = ?2",
                    [site_id, user_id],
                    |row| row.get(0),
                )
                .optional()?,
            )
        })
        .await?;
    Ok(Json(KeypadPinStatus {
        user_id,
        created_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_person_sees_their_own_pin_and_the_e_mail_carries_it_apart_from_the_body() {
        let user = PinRecipient {
            name: "Tess".into(),
            email: Some("t@example.com".into()),
            trusted_phone: None,
        };
        assert_eq!(pin_delivery(7, 7, &user), PinDelivery::Shown);
        assert_eq!(pin_delivery(1, 7, &user), PinDelivery::Emailed);
        let with_phone = PinRecipient {
            trusted_phone: Some("+14155550100".into()),
            ..user.clone()
        };
        assert_eq!(pin_delivery(7, 7, &with_phone), PinDelivery::Shown);
        assert_eq!(pin_delivery(1, 7, &with_phone), PinDelivery::TextMessage);
        let tag_profile = PinRecipient {
            email: None,
            ..user.clone()
        };
        assert_eq!(
            pin_delivery(1, 7, &tag_profile),
            PinDelivery::Shown,
            "a tag profile without a phone: only the site can hand it over"
        );
        let text = pin_text_message("+14155550100", "HQ 2024", "123456");
        assert!(!text.body.contains("123456"));
        let sent = text
            .body
            .replace(SECRET_PLACEHOLDER, text.secret.as_deref().unwrap());
        assert_eq!(find_pin(&sent).as_deref(), Some("123456"));
        let email = pin_email("t@example.com", "Tess", "HQ 2024", "123456");
        assert!(!email.body.contains("123456"));
        let sent = email
            .body
            .replace(SECRET_PLACEHOLDER, email.secret.as_deref().unwrap());
        assert_eq!(find_pin(&sent).as_deref(), Some("123456"));
        assert_eq!(find_pin("no PIN here"), None);
    }
    use keyway_protocol::iq::keypad::is_keypad_pin;

    #[test]
    fn random_pins_are_six_digits_and_vary() {
        let pins: std::collections::BTreeSet<String> =
            (0..50).map(|_| random_pin().unwrap()).collect();
        assert!(pins.iter().all(|pin| is_keypad_pin(pin)));
        assert!(pins.len() > 40, "{} distinct of 50", pins.len());
    }
}
