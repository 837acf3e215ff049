//! The [`Mailer`]: the configured senders (e-mail; text messages) and the background task
//! that drains the outbox.
//!
//! A pass takes the due messages, tries each once, and records the outcome (sent, retry at a
//! later time, or given up). Passes never overlap, so a message is never sent twice by two
//! passes. The task runs a pass when a request queues mail ([`Mailer::wake`]) and every
//! `poll_interval` (retries come due on the cloud's clock). After a pass erased bodies (sent
//! or given up), the WAL is checkpointed and emptied.

use std::sync::Arc;

use lettre::message::Mailbox;
use tokio::sync::{Mutex, Notify};

use super::config::{EmailConfig, EmailTransport, RetryPolicy};
use super::mailbox::{MailboxAttachment, MailboxMessage, MailboxSink};
use super::outbox::{self, AfterFailure, Channel, DueEmail};
use super::smtp::SmtpSender;
use super::EmailError;
use crate::clock::CloudClock;
use crate::error::ApiError;
use crate::store::{self, Store};

/// Messages one pass takes at most.
const BATCH: u32 = 50;

#[derive(Debug)]
enum Sender {
    Mailbox(MailboxSink),
    Smtp(SmtpSender),
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages delivered.
    pub sent: u32,
    /// Messages that failed and will be retried.
    pub retrying: u32,
    /// Messages given up after their last attempt.
    pub failed: u32,
}

/// The cloud's e-mail sender and the signal that wakes its delivery task.
#[derive(Debug)]
pub struct Mailer {
    sender: Sender,
    text_messages: MailboxSink,
    text_sender: String,
    from: Mailbox,
    retry: RetryPolicy,
    poll_interval: std::time::Duration,
    wake: Notify,
    pass: Mutex<()>,
}

impl Mailer {
    /// A mailer for `config` (SMTP settings are checked here, so a bad URL stops the start).
    pub fn new(config: &EmailConfig) -> Result<Self, EmailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| EmailError::From(config.from.clone()))?;
        let sender = match &config.transport {
            EmailTransport::Mailbox(dir) => Sender::Mailbox(MailboxSink::new(dir.clone())),
            EmailTransport::Smtp(settings) => Sender::Smtp(SmtpSender::new(settings)?),
        };
        Ok(Self {
            sender,
            text_messages: MailboxSink::new(config.text_messages.clone()),
            text_sender: config.text_sender.clone(),
            from,
            retry: config.retry,
            poll_interval: config.poll_interval,
            wake: Notify::new(),
            pass: Mutex::new(()),
        })
    }

    /// Asks the delivery task for a pass now (call after committing queued mail).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn send(&self, email: &DueEmail, now: i64) -> Result<(), String> {
        if email.channel == Channel::TextMessage {
            return self
                .text_messages
                .deliver(&MailboxMessage {
                    id: email.id,
                    from: self.text_sender.clone(),
                    to: email.to.clone(),
                    subject: String::new(),
                    body: email.body.clone(),
                    queued_at: email.queued_at,
                    delivered_at: now,
                    attachment: None,
                })
                .await;
        }
        match &self.sender {
            Sender::Mailbox(sink) => {
                sink.deliver(&MailboxMessage {
                    id: email.id,
                    from: self.from.to_string(),
                    to: email.to.clone(),
                    subject: email.subject.clone(),
                    body: email.body.clone(),
                    queued_at: email.queued_at,
                    delivered_at: now,
                    attachment: email.attachment.as_ref().map(|file| MailboxAttachment {
                        name: file.name.clone(),
                        content_type: file.content_type.clone(),
                        text: String::from_utf8_lossy(&file.bytes).into_owned(),
                    }),
                })
                .await
            }
            Sender::Smtp(smtp) => {
                smtp.send(
                    &self.from,
                    &email.to,
                    &email.subject,
                    &email.body,
                    email.attachment.as_ref(),
                )
                .await
            }
        }
    }

    /// One delivery pass over the messages due now.
    pub async fn deliver_due(
        &self,
        store: &Store,
        clock: &CloudClock,
    ) -> Result<DeliveryReport, ApiError> {
        let _only_pass = self.pass.lock().await;
        let now = clock.now();
        let due = store
            .run(move |db| {
                outbox::prune_cap_log(db, now)?;
                outbox::due(db, now, BATCH)
            })
            .await?;
        let mut report = DeliveryReport::default();
        for email in due {
            let outcome = self.send(&email, clock.now()).await;
            let (retry, now) = (self.retry, clock.now());
            let id = email.id;
            let after = store
                .run(move |db| match outcome {
                    Ok(()) => outbox::mark_sent(db, email.id, now).map(|()| None),
                    Err(error) => {
                        outbox::mark_failed_attempt(db, &email, &error, &retry, now).map(Some)
                    }
                })
                .await?;
            match after {
                None => report.sent += 1,
                Some(AfterFailure::RetryAt(at)) => {
                    tracing::warn!(id, retry_at = at, "e-mail delivery failed; will retry");
                    report.retrying += 1;
                }
                Some(AfterFailure::GaveUp) => {
                    tracing::error!(id, "e-mail delivery failed for the last time; given up");
                    report.failed += 1;
                }
            }
        }
        if report.sent + report.failed > 0 {
            // Bodies were erased: no older page image of them may stay in the WAL.
            store.run(|db| store::checkpoint(db)).await?;
        }
        Ok(report)
    }

    /// The delivery task: a pass at start, on every wake-up and every poll interval, and at
    /// once after a pass that took a whole batch, until the task is aborted.
    pub async fn run(self: Arc<Self>, store: Store, clock: CloudClock) {
        loop {
            let full = match self.deliver_due(&store, &clock).await {
                Ok(report) => report.sent + report.retrying + report.failed >= BATCH,
                Err(error) => {
                    tracing::error!(%error, "e-mail delivery pass failed");
                    false
                }
            };
            if full {
                // More are due (an import's invitations): the next pass now, not at the poll.
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }
}
