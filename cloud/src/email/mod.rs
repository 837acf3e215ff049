//! E-mail and text messages: the cloud never sends from a request. A request queues the message in the
//! `email_outbox` table inside its own transaction (so a refused request sends nothing), and a
//! background task delivers it, retrying with exponential backoff until it is sent or given
//! up on.
//!
//! - [`config`]: where e-mail goes: a local mailbox directory (the default) or an SMTP server;
//! - [`outbox`]: queueing and the delivery state of each message;
//! - [`mailbox`]: the local sinks (e-mail, and text messages, which have no other transport
//!   yet), one JSON file per message, and reading them back
//!   (`keyway mail list`, the demo and the tests read the e-mails really produced);
//! - [`delivery`]: the [`Mailer`] and its background task.

pub mod config;
pub mod delivery;
pub mod mailbox;
pub mod outbox;
mod smtp;

pub use config::{EmailConfig, EmailTransport, RetryPolicy, SmtpSettings};
pub use delivery::{DeliveryReport, Mailer};
pub use mailbox::{
    mailbox_dir, read_mailbox, text_messages_dir, MailboxAttachment, MailboxMessage,
};
pub use outbox::{
    prune_cap_log, queue, queue_capped, queue_text_message, queue_text_message_capped,
    queue_with_attachment, within_cap, Attachment, Channel, NewEmail, NewTextMessage,
    MAILS_PER_HOUR, SECRET_PLACEHOLDER, SIGNUP_MAILS_PER_HOUR, TEXTS_PER_HOUR,
};

/// Why e-mail could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The SMTP settings are unusable.
    #[error("SMTP settings: {0}")]
    Smtp(String),
    /// Plain SMTP to a relay that is not on loopback would send codes unencrypted.
    #[error(
        "plain SMTP to {host} would send invitation codes unencrypted: use smtps:// or \
         ?tls=required (plain smtp:// is for a relay on loopback)"
    )]
    PlainSmtpOffLoopback {
        /// The relay's host.
        host: String,
    },
    /// The sender address is not an e-mail address.
    #[error("the sender address {0:?} is not valid")]
    From(String),
}
