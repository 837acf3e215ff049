//! Where the cloud's e-mail goes, and how hard it tries.

use std::path::PathBuf;
use std::time::Duration;

/// How e-mail leaves the cloud.
#[derive(Clone, PartialEq, Eq)]
pub enum EmailTransport {
    /// Each message becomes a JSON file in this directory (default: `<data_dir>/mailbox`).
    Mailbox(PathBuf),
    /// Messages go to an SMTP server.
    Smtp(SmtpSettings),
}

impl std::fmt::Debug for EmailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Mailbox(dir) => f.debug_tuple("Mailbox").field(dir).finish(),
            Self::Smtp(settings) => f.debug_tuple("Smtp").field(settings).finish(),
        }
    }
}

/// An SMTP server, as a URL: `smtps://user:password@host:465` (TLS), or
/// `smtp://user:password@host:587?tls=required` (STARTTLS). Plain `smtp://host:25` without TLS
/// is accepted only for a relay on loopback. The password never appears in `Debug` or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    url: String,
}

impl SmtpSettings {
    /// Settings from a connection URL (checked when the cloud starts).
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }

    /// The URL, with its credentials (for the transport only).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = url::Url::parse(&self.url)
            .map(|url| {
                format!(
                    "{}://{}:{}",
                    url.scheme(),
                    url.host_str().unwrap_or("?"),
                    url.port()
                        .map_or_else(|| "default".into(), |p| p.to_string())
                )
            })
            .unwrap_or_else(|_| "(unparsable URL)".into());
        f.debug_struct("SmtpSettings")
            .field("server", &shown)
            .finish_non_exhaustive()
    }
}

/// Retries: attempt `n` (from 1) that fails waits `base × 2^(n-1)` seconds, at most `max`;
/// after `max_attempts` failures the message is given up (`failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Wait after the first failure, seconds.
    pub base_seconds: i64,
    /// Longest wait, seconds.
    pub max_seconds: i64,
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (from 1).
    pub fn delay_after(&self, attempt: u32) -> i64 {
        let doublings = attempt.saturating_sub(1).min(32);
        self.base_seconds
            .saturating_mul(1_i64 << doublings)
            .min(self.max_seconds)
    }
}

impl Default for RetryPolicy {
    /// 8 attempts: after 30 s, 1, 2, 4, 8, 16 and 32 minutes (about an hour in all).
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_seconds: 30,
            max_seconds: 3_600,
        }
    }
}

/// The cloud's e-mail settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// Where messages go.
    pub transport: EmailTransport,
    /// The sender, e.g. `Keyway <no-reply@keyway.example>`.
    pub from: String,
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// How often the delivery task looks for due messages (it is also woken when one is
    /// queued).
    pub poll_interval: Duration,
    /// Where text messages go (default: `<data_dir>.sms`): a directory, one file each.
    pub text_messages: PathBuf,
    /// The sender name text messages show.
    pub text_sender: String,
}

impl EmailConfig {
    /// The default: the local mailbox `<data_dir>.mailbox`, sender `no-reply@keyway.invalid`;
    /// text messages to `<data_dir>.sms`.
    pub fn local(data_dir: &std::path::Path) -> Self {
        Self {
            transport: EmailTransport::Mailbox(super::mailbox_dir(data_dir)),
            from: "Keyway <no-reply@keyway.invalid>".into(),
            retry: RetryPolicy::default(),
            poll_interval: Duration::from_secs(1),
            text_messages: super::text_messages_dir(data_dir),
            text_sender: "Keyway".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_seconds: 30,
            max_seconds: 600,
        };
        let delays: Vec<i64> = (1..=7).map(|n| policy.delay_after(n)).collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(policy.delay_after(u32::MAX), 600);
    }

    #[test]
    fn smtp_passwords_stay_out_of_debug() {
        let settings = SmtpSettings::new("smtps://mailer:hunter2-secret@smtp.example.com:465");
        let shown = format!("{:?}", EmailTransport::Smtp(settings));
        assert!(shown.contains("smtp.example.com"), "{shown}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("mailer"),
            "{shown}"
        );
    }
}
