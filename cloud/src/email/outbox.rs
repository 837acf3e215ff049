//! The `email_outbox` table: queueing a message inside the caller's transaction, and the
//! delivery state of each message (`pending` → `sent`, or `failed` after the last retry).
//! It carries e-mails and text messages alike ([`Channel`]): one queue, one sealing, one
//! retry policy.
//!
//! The body is rendered whole (its secret put in) when the message is queued and kept sealed
//! (`sealed_body`); it is opened only to send, and erased once sent or given up, when only
//! the record (recipient, subject, state) remains.

use rusqlite::{params, Connection};

use super::config::RetryPolicy;
use crate::error::ApiError;
use crate::store::rows;

/// Where a secret (an invitation code) goes in a body. The body is stored sealed, and erased
/// once the message is sent or given up.
pub const SECRET_PLACEHOLDER: &str = "{secret}";

/// How a queued message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// An e-mail to an address.
    Email,
    /// A text message (SMS) to a phone number in E.164 form.
    TextMessage,
}

impl Channel {
    /// The `channel` column's value.
    fn column(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::TextMessage => "sms",
        }
    }

    fn from_column(text: &str) -> Self {
        if text == "sms" {
            Self::TextMessage
        } else {
            Self::Email
        }
    }
}

/// A text message to queue: a phone number and a short body, with an optional secret (a
/// keypad PIN) at [`SECRET_PLACEHOLDER`], kept only until delivery.
#[derive(Clone, PartialEq, Eq)]
pub struct NewTextMessage {
    /// Phone number, E.164.
    pub to: String,
    /// The text; [`SECRET_PLACEHOLDER`] marks where `secret` goes.
    pub body: String,
    /// A secret for the text, kept only until delivery.
    pub secret: Option<String>,
}

impl std::fmt::Debug for NewTextMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTextMessage")
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// Queues a text message as [`queue`] queues an e-mail: in the caller's transaction, its
/// body sealed until delivery.
pub fn queue_text_message(
    db: &Connection,
    message: &NewTextMessage,
    now: i64,
) -> Result<i64, ApiError> {
    let email = NewEmail {
        to: message.to.clone(),
        subject: String::new(),
        body: message.body.clone(),
        secret: message.secret.clone(),
    };
    insert(db, Channel::TextMessage, &email, None, now)
}

/// Queues a text message unless its phone already got `per_hour` capped messages within the
/// last hour (anyone who runs a site can make the cloud text a number, so the number is
/// capped); returns whether it was queued. The cap's log holds phones beside addresses.
pub fn queue_text_message_capped(
    db: &Connection,
    message: &NewTextMessage,
    now: i64,
    per_hour: u32,
) -> Result<bool, ApiError> {
    if !within_cap(db, &message.to, now, per_hour)? {
        return Ok(false);
    }
    db.prepare_cached("INSERT INTO mail_log (email, sent_at) VALUES (?1, ?2)")?
        .execute(params![message.to, now])?;
    queue_text_message(db, message, now)?;
    Ok(true)
}

/// Text messages a phone gets per hour at most.
pub const TEXTS_PER_HOUR: u32 = 5;

/// A message to queue.
#[derive(Clone, PartialEq, Eq)]
pub struct NewEmail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body; [`SECRET_PLACEHOLDER`] marks where `secret` goes.
    pub body: String,
    /// A secret for the body (put in at [`SECRET_PLACEHOLDER`]), kept only until delivery.
    pub secret: Option<String>,
}

impl std::fmt::Debug for NewEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEmail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl NewEmail {
    /// The body as it will be sent: the secret in place.
    fn rendered_body(&self) -> String {
        match &self.secret {
            Some(secret) => self.body.replace(SECRET_PLACEHOLDER, secret),
            None => self.body.clone(),
        }
    }
}

/// A file sent with a message (an import's failed rows as CSV), sealed at rest like the body.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the recipient sees, e.g. `failed-rows.csv`.
    pub name: String,
    /// The file's content type, e.g. `text/csv`.
    pub content_type: String,
    /// The file.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Queues `email` for delivery now (in the caller's transaction: it goes out only if that
/// commits), its body sealed. Returns the outbox id.
pub fn queue(db: &Connection, email: &NewEmail, now: i64) -> Result<i64, ApiError> {
    insert(db, Channel::Email, email, None, now)
}

/// Queues `email` with `attachment`, both sealed, as [`queue`] does.
pub fn queue_with_attachment(
    db: &Connection,
    email: &NewEmail,
    attachment: &Attachment,
    now: i64,
) -> Result<i64, ApiError> {
    insert(db, Channel::Email, email, Some(attachment), now)
}

fn insert(
    db: &Connection,
    channel: Channel,
    email: &NewEmail,
    attachment: Option<&Attachment>,
    now: i64,
) -> Result<i64, ApiError> {
    // The attachment's content type travels in its name column: `name\ncontent/type`.
    let attachment_name = attachment.map(|file| format!("{}\n{}", file.name, file.content_type));
    // The id is chosen in the statement itself, before sealing: the sealed body is bound to
    // its row.
    db.prepare_cached(
        "INSERT INTO email_outbox (id, recipient, subject, sealed_body, next_attempt_at,
         created_at, attachment_name, sealed_attachment, channel)
         SELECT n, ?1, ?2, keyway_seal('email_outbox.sealed_body', ?3, n, ?1), ?4, ?4, ?5,
                keyway_seal('email_outbox.sealed_attachment', ?6, n, ?1), ?7
         FROM (SELECT COALESCE(MAX(id), 0) + 1 AS n FROM email_outbox)",
    )?
    .execute(params![
        email.to,
        email.subject,
        email.rendered_body().into_bytes(),
        now,
        attachment_name,
        attachment.map(|file| file.bytes.as_slice()),
        channel.column()
    ])?;
    Ok(db.last_insert_rowid())
}

/// Queues `email` unless its recipient already got `per_hour` capped e-mails within the last
/// hour (sign-up codes, notices, invitations: what anybody can make the cloud send), so the
/// cloud cannot be used to flood a mailbox. Returns whether it was queued; callers answer the
/// same either way.
pub fn queue_capped(
    db: &Connection,
    email: &NewEmail,
    now: i64,
    per_hour: u32,
) -> Result<bool, ApiError> {
    queue_capped_as(db, email, &email.to, now, per_hour)
}

/// [`queue_capped`], counted under `cap_key` rather than the recipient (a kind of mail with a
/// cap of its own, such as lock alerts, so it neither spends nor is spent by the others').
pub fn queue_capped_as(
    db: &Connection,
    email: &NewEmail,
    cap_key: &str,
    now: i64,
    per_hour: u32,
) -> Result<bool, ApiError> {
    if !within_cap(db, cap_key, now, per_hour)? {
        return Ok(false);
    }
    db.prepare_cached("INSERT INTO mail_log (email, sent_at) VALUES (?1, ?2)")?
        .execute(params![cap_key, now])?;
    queue(db, email, now)?;
    Ok(true)
}

/// Whether `to` got fewer than `per_hour` capped e-mails within the last hour. Older entries
/// do not count, whether [`prune_cap_log`] removed them yet or not.
pub fn within_cap(db: &Connection, to: &str, now: i64, per_hour: u32) -> Result<bool, ApiError> {
    let sent: u32 = db
        .prepare_cached("SELECT COUNT(*) FROM mail_log WHERE email = ?1 AND sent_at > ?2")?
        .query_row(params![to, now - CAP_WINDOW_SECONDS], |row| row.get(0))?;
    Ok(sent < per_hour)
}

/// The window the caps count in.
const CAP_WINDOW_SECONDS: i64 = 3_600;

/// Forgets capped e-mails older than the cap's hour (the delivery task does it on every pass,
/// so the log stays an hour long without a delete in every request).
pub fn prune_cap_log(db: &Connection, now: i64) -> Result<(), ApiError> {
    db.prepare_cached("DELETE FROM mail_log WHERE sent_at <= ?1")?
        .execute([now - CAP_WINDOW_SECONDS])?;
    Ok(())
}

/// Capped e-mails an address gets per hour from sign-up (codes, "you already have an
/// account").
pub const SIGNUP_MAILS_PER_HOUR: u32 = 5;
/// Capped e-mails an address gets per hour in all (sign-up's and people adding it to sites,
/// pods or stays).
pub const MAILS_PER_HOUR: u32 = 12;

/// A message due for delivery, with its secret in place.
#[derive(Clone, PartialEq, Eq)]
pub struct DueEmail {
    /// Outbox id.
    pub id: i64,
    /// E-mail or text message.
    pub channel: Channel,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// The body as it will be sent.
    pub body: String,
    /// When it was queued.
    pub queued_at: i64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Its attachment, opened.
    pub attachment: Option<Attachment>,
}

impl std::fmt::Debug for DueEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueEmail")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Pending messages whose next attempt is due, oldest first, their bodies opened. A body
/// that does not open (altered, moved from another row, or its recipient changed) is given
/// up at once.
pub fn due(db: &Connection, now: i64, limit: u32) -> Result<Vec<DueEmail>, ApiError> {
    let pending = rows(
        db,
        "SELECT id, recipient, subject, created_at, attempts, channel FROM email_outbox
         WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
        params![now, limit],
        |row| {
            Ok(DueEmail {
                id: row.get(0)?,
                channel: Channel::from_column(&row.get::<_, String>(5)?),
                to: row.get(1)?,
                subject: row.get(2)?,
                body: String::new(),
                queued_at: row.get(3)?,
                attempts: row.get(4)?,
                attachment: None,
            })
        },
    )?;
    let mut due = Vec::with_capacity(pending.len());
    for mut email in pending {
        let (body, attachment, has_attachment): (Option<Vec<u8>>, Option<Attachment>, bool) = db
            .query_row(
                "SELECT keyway_try_open('email_outbox.sealed_body', sealed_body, id, recipient),
                    attachment_name,
                    keyway_try_open('email_outbox.sealed_attachment', sealed_attachment, id,
                                    recipient),
                    sealed_attachment IS NOT NULL
             FROM email_outbox WHERE id = ?1",
                [email.id],
                |row| Ok((row.get(0)?, opened_attachment(row)?, row.get(3)?)),
            )?;
        let attachment_opens = attachment.is_some() || !has_attachment;
        match body.and_then(|bytes| String::from_utf8(bytes).ok()) {
            Some(body) if attachment_opens => {
                email.body = body;
                email.attachment = attachment;
                due.push(email);
            }
            _ => {
                tracing::error!(id = email.id, "an e-mail body does not open; given up");
                db.execute(
                    "UPDATE email_outbox SET state = 'failed', sealed_body = NULL,
                     sealed_attachment = NULL,
                     last_error = 'the sealed body does not open' WHERE id = ?1",
                    [email.id],
                )?;
            }
        }
    }
    Ok(due)
}

/// The attachment of an outbox row read by [`due`] (columns 1 to 3), when it has one that
/// opens.
fn opened_attachment(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Attachment>> {
    let label: Option<String> = row.get(1)?;
    let bytes: Option<Vec<u8>> = row.get(2)?;
    Ok(match (label, bytes) {
        (Some(label), Some(bytes)) => {
            let (name, content_type) = label
                .split_once('\n')
                .unwrap_or((label.as_str(), "application/octet-stream"));
            Some(Attachment {
                name: name.to_string(),
                content_type: content_type.to_string(),
                bytes,
            })
        }
        _ => None,
    })
}

/// Records a delivery; the body is erased.
pub fn mark_sent(db: &Connection, id: i64, now: i64) -> Result<(), ApiError> {
    db.execute(
        "UPDATE email_outbox SET state = 'sent', sent_at = ?1, attempts = attempts + 1,
         sealed_body = NULL, sealed_attachment = NULL, last_error = NULL WHERE id = ?2",
        params![now, id],
    )?;
    Ok(())
}

/// What happened to a message after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// It will be tried again at this time.
    RetryAt(i64),
    /// It was the last attempt: the message is given up and its body erased.
    GaveUp,
}

/// Records a failed attempt: retried later with backoff, or given up after the last one.
pub fn mark_failed_attempt(
    db: &Connection,
    email: &DueEmail,
    error: &str,
    policy: &RetryPolicy,
    now: i64,
) -> Result<AfterFailure, ApiError> {
    let attempts = email.attempts.saturating_add(1);
    if attempts >= policy.max_attempts {
        db.execute(
            "UPDATE email_outbox SET state = 'failed', attempts = ?1, last_error = ?2,
             sealed_body = NULL, sealed_attachment = NULL WHERE id = ?3",
            params![attempts, error, email.id],
        )?;
        return Ok(AfterFailure::GaveUp);
    }
    let next = now.saturating_add(policy.delay_after(attempts));
    db.execute(
        "UPDATE email_outbox SET attempts = ?1, last_error = ?2, next_attempt_at = ?3
         WHERE id = ?4",
        params![attempts, error, next, email.id],
    )?;
    Ok(AfterFailure::RetryAt(next))
}

/// The delivery state of one message (operators and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Outbox id.
    pub id: i64,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// Whether the (sealed) body, and any secret in it, still waits in the row.
    pub holds_secret: bool,
}

/// Every message in the outbox, oldest first.
pub fn entries(db: &Connection) -> Result<Vec<OutboxEntry>, ApiError> {
    let mut statement = db.prepare(
        "SELECT id, recipient, subject, state, attempts, next_attempt_at, last_error,
                sealed_body IS NOT NULL
         FROM email_outbox ORDER BY id",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok(OutboxEntry {
                id: row.get(0)?,
                to: row.get(1)?,
                subject: row.get(2)?,
                state: row.get(3)?,
                attempts: row.get(4)?,
                next_attempt_at: row.get(5)?,
                last_error: row.get(6)?,
                holds_secret: row.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
