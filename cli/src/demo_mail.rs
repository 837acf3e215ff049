//! The demo's e-mail steps: waiting for an e-mail (or a text message) the cloud really
//! delivered to its local sink, and signing up with the verification code it carries.

use std::time::Duration;

use anyhow::anyhow;
use keyway_cloud::auth::verification;
use keyway_cloud::email::{mailbox_dir, MailboxMessage};
use keyway_cloud::RunningCloud;
use keyway_core::Keyway;

/// The latest e-mail to `to` in which `find` finds something, and that thing (waits up to
/// about five seconds for the outbox to deliver it).
pub async fn wait_for_mail(
    cloud: &RunningCloud,
    to: &str,
    find: fn(&str) -> Option<String>,
) -> anyhow::Result<(MailboxMessage, String)> {
    wait_for(cloud, Inbox::Mail, to, find).await
}

/// The latest text message to the phone `to` in which `find` finds something, as
/// [`wait_for_mail`] for e-mail.
pub async fn wait_for_text_message(
    cloud: &RunningCloud,
    to: &str,
    find: fn(&str) -> Option<String>,
) -> anyhow::Result<(MailboxMessage, String)> {
    wait_for(cloud, Inbox::TextMessages, to, find).await
}

/// Where the cloud's local sinks put what it sends.
#[derive(Debug, Clone, Copy)]
enum Inbox {
    Mail,
    TextMessages,
}

async fn wait_for(
    cloud: &RunningCloud,
    inbox: Inbox,
    to: &str,
    find: fn(&str) -> Option<String>,
) -> anyhow::Result<(MailboxMessage, String)> {
    for _ in 0..250 {
        let delivered = match inbox {
            Inbox::Mail => cloud.state.delivered_mail().await?,
            Inbox::TextMessages => cloud.state.delivered_text_messages().await?,
        };
        let found = delivered
            .into_iter()
            .rev()
            .filter(|message| message.to == to)
            .find_map(|message| find(&message.body).map(|found| (message, found)));
        if let Some(found) = found {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let dir = match inbox {
        Inbox::Mail => mailbox_dir(&cloud.state.config.data_dir),
        Inbox::TextMessages => cloud.state.config.email.text_messages.clone(),
    };
    Err(anyhow!("nothing such to {to} in {}", dir.display()))
}

/// Signs up on `phone` as `(email, name, password)`, reads the code the cloud e-mailed and
/// confirms the address with it. Returns the account id.
pub async fn sign_up_verified(
    cloud: &RunningCloud,
    phone: &Keyway,
    (email, name, password): (&str, &str, &str),
) -> anyhow::Result<u32> {
    phone
        .auth()
        .sign_up(email.into(), name.into(), password.into())
        .await?;
    let (_, code) = wait_for_mail(cloud, email, verification::find_code).await?;
    let account = phone
        .auth()
        .verify_email(email.into(), code, password.into())
        .await?;
    Ok(account.user_id)
}
