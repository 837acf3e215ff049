//! The local mailbox: the default e-mail sink, standing in for the recipients' inboxes on a
//! development machine. Each message is one JSON file named after its outbox id in
//! `<data_dir>.mailbox`, next to the data directory and never inside it (delivered mail holds
//! invitation and verification codes, and a copy of the data directory must yield none),
//! written atomically (temporary file, then rename), so a reader never sees half a message.
//! `keyway mail list --data DIR`, the demo and the tests read it back with [`read_mailbox`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The mailbox directory of a cloud data directory: its sibling `<data_dir>.mailbox`.
pub fn mailbox_dir(data_dir: &Path) -> PathBuf {
    crate::store::next_to(data_dir, ".mailbox")
}

/// Where text messages go: the sibling `<data_dir>.sms` of the data directory, one JSON file
/// per message as in the mailbox (`to` is the phone number, `subject` is empty). A text
/// message provider is a transport still to come; until then this is the phone's inbox.
pub fn text_messages_dir(data_dir: &Path) -> PathBuf {
    crate::store::next_to(data_dir, ".sms")
}

/// One delivered message (its `Debug` leaves the body out: it may hold an invitation code).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMessage {
    /// Its outbox id.
    pub id: i64,
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// When it was queued (Unix seconds, cloud clock).
    pub queued_at: i64,
    /// When it was delivered to the mailbox (Unix seconds, cloud clock).
    pub delivered_at: i64,
    /// The attached file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<MailboxAttachment>,
}

/// A file attached to a delivered message: text files (CSV) as text, so the mailbox stays
/// readable.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxAttachment {
    /// The file name.
    pub name: String,
    /// Its content type, e.g. `text/csv`.
    pub content_type: String,
    /// Its content (UTF-8 text; any invalid byte is replaced).
    pub text: String,
}

impl std::fmt::Debug for MailboxAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxAttachment")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MailboxMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxMessage")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Writes messages into a directory.
#[derive(Debug, Clone)]
pub struct MailboxSink {
    dir: PathBuf,
}

impl MailboxSink {
    /// A sink writing into `dir` (created on first delivery).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Stores one message; the same id again replaces the file (a retried delivery is not
    /// duplicated).
    pub async fn deliver(&self, message: &MailboxMessage) -> Result<(), String> {
        let json = serde_json::to_vec_pretty(message).map_err(|e| e.to_string())?;
        let dir = self.dir.clone();
        let name = format!("{:010}.json", message.id);
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let temporary = dir.join(format!(".{name}.tmp"));
            std::fs::write(&temporary, json)?;
            std::fs::rename(&temporary, dir.join(name))
        })
        .await
        .map_err(|_| "mailbox task failed".to_string())?
        .map_err(|error| format!("mailbox {}: {error}", self.dir.display()))
    }
}

/// Every message in a mailbox directory, oldest first (an absent directory is empty).
pub fn read_mailbox(dir: &Path) -> std::io::Result<Vec<MailboxMessage>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut messages = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_message = path.extension().is_some_and(|ext| ext == "json")
            && !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if !is_message {
            continue;
        }
        let text = std::fs::read(&path)?;
        let message: MailboxMessage = serde_json::from_slice(&text).map_err(|error| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {error}", path.display()),
            )
        })?;
        messages.push(message);
    }
    messages.sort_by_key(|message| message.id);
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailbox_is_next_to_the_data_directory_never_inside() {
        assert_eq!(
            mailbox_dir(Path::new("/var/lib/keyway")),
            PathBuf::from("/var/lib/keyway.mailbox")
        );
        assert!(!mailbox_dir(Path::new("/srv/data/")).starts_with("/srv/data/"));
        let here = std::env::current_dir().unwrap();
        assert!(!mailbox_dir(Path::new(".")).starts_with(&here));
        assert!(!mailbox_dir(Path::new("..")).starts_with(here.parent().unwrap()));
    }

    fn message(id: i64) -> MailboxMessage {
        MailboxMessage {
            id,
            from: "Keyway <no-reply@keyway.invalid>".into(),
            to: "guest@example.com".into(),
            subject: format!("message {id}"),
            body: "hello\nthere".into(),
            queued_at: 1,
            delivered_at: 2,
            attachment: None,
        }
    }

    #[tokio::test]
    async fn delivered_messages_read_back_in_order_and_redelivery_does_not_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let sink = MailboxSink::new(dir.path().join("mailbox"));
        assert!(read_mailbox(&dir.path().join("mailbox"))
            .unwrap()
            .is_empty());
        for id in [11, 2, 11] {
            sink.deliver(&message(id)).await.unwrap();
        }
        let read = read_mailbox(&dir.path().join("mailbox")).unwrap();
        assert_eq!(read, vec![message(2), message(11)]);
    }
}
