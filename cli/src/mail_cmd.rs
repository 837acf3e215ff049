//! `keyway mail list`: the e-mails a cloud delivered to its local mailbox (the default sink
//! when no SMTP server is configured), oldest first, with their bodies.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use keyway_cloud::email::{mailbox_dir, read_mailbox, MailboxMessage};

use crate::paths;

/// `keyway mail …`
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// List the e-mails in a cloud's local mailbox.
    List(ListArgs),
}

/// Options of `keyway mail list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The cloud's data directory (its mailbox is `DATA.mailbox`, next to it). Default: the one
    /// `keyway cloud serve` uses.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Only e-mails to this address.
    #[arg(long)]
    to: Option<String>,
    /// Only the last N e-mails.
    #[arg(long)]
    last: Option<usize>,
}

/// Runs a `keyway mail` command.
pub fn run(command: MailCommand) -> anyhow::Result<()> {
    match command {
        MailCommand::List(args) => list(args),
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let dir = mailbox_dir(&args.data.unwrap_or_else(paths::cloud_data_dir));
    let mut messages: Vec<MailboxMessage> = read_mailbox(&dir)?
        .into_iter()
        .filter(|message| {
            args.to
                .as_deref()
                .is_none_or(|to| message.to.eq_ignore_ascii_case(to))
        })
        .collect();
    if let Some(last) = args.last {
        messages = messages.split_off(messages.len().saturating_sub(last));
    }
    if messages.is_empty() {
        println!("no e-mail in {}", dir.display());
    }
    for message in &messages {
        print!("{}", render(message));
    }
    Ok(())
}

/// One message as the terminal shows it.
pub fn render(message: &MailboxMessage) -> String {
    let date = chrono::DateTime::from_timestamp(message.delivered_at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| message.delivered_at.to_string());
    let body: String = message
        .body
        .lines()
        .map(|line| format!("    {line}\n"))
        .collect();
    format!(
        "#{} {date}\n  From: {}\n  To: {}\n  Subject: {}\n\n{body}\n",
        message.id, message.from, message.to, message.subject
    )
}
