//! The e-mail outbox: the real SMTP sender (lettre) delivering to an SMTP server on loopback,
//! retries with backoff on the cloud's clock until the message is given up, and invitation
//! codes that live in the outbox only until delivery (the database keeps their hash).

use std::time::Duration;

use keyway_cloud::email::outbox::{entries, OutboxEntry};
use keyway_cloud::email::{
    mailbox_dir, queue, read_mailbox, EmailError, EmailTransport, NewEmail, RetryPolicy,
    SmtpSettings, SECRET_PLACEHOLDER,
};
use keyway_cloud::{start, CloudConfig, RunningCloud, StartError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const SECRET: &str = "K7QF-9XMP-2D4R-HW8T";

async fn cloud(adjust: impl FnOnce(&mut CloudConfig)) -> (RunningCloud, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = CloudConfig::new(dir.path().join("data"));
    config.email.poll_interval = Duration::from_secs(3_600);
    adjust(&mut config);
    (
        start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap(),
        dir,
    )
}

async fn queue_one(cloud: &RunningCloud) {
    let email = NewEmail {
        to: "guest@example.com".into(),
        subject: "Your invitation".into(),
        body: format!("Your code: {SECRET_PLACEHOLDER}\n"),
        secret: Some(SECRET.into()),
    };
    let now = cloud.state.clock.now();
    cloud
        .state
        .store
        .run(move |db| queue(db, &email, now))
        .await
        .unwrap();
}

async fn outbox(cloud: &RunningCloud) -> Vec<OutboxEntry> {
    cloud.state.store.run(|db| entries(db)).await.unwrap()
}

/// Just enough of an SMTP server (RFC 5321) to take messages: each message's DATA is sent
/// on the channel.
async fn smtp_server() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(message) = data.as_mut() {
                        if line == "." {
                            sender.send(std::mem::take(message)).unwrap();
                            data = None;
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, receiver)
}

#[tokio::test]
async fn the_smtp_sender_delivers_and_the_secret_leaves_the_outbox() {
    let (port, mut received) = smtp_server().await;
    let (cloud, _dir) = cloud(|config| {
        config.email.transport =
            EmailTransport::Smtp(SmtpSettings::new(format!("smtp://127.0.0.1:{port}")));
    })
    .await;
    queue_one(&cloud).await;
    assert!(outbox(&cloud).await[0].holds_secret);
    cloud.state.mail.wake();
    let message = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(message.contains("To: guest@example.com"), "{message}");
    assert!(message.contains("Subject: Your invitation"), "{message}");
    assert!(
        message.contains(SECRET),
        "the code is in the e-mail: {message}"
    );
    for _ in 0..100 {
        if outbox(&cloud).await[0].state == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let entry = outbox(&cloud).await.remove(0);
    assert_eq!((entry.state.as_str(), entry.attempts), ("sent", 1));
    assert!(!entry.holds_secret, "the code is erased once delivered");
}

#[tokio::test]
async fn failed_deliveries_back_off_on_the_cloud_clock_and_are_given_up() {
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (cloud, _dir) = cloud(|config| {
        config.email.transport =
            EmailTransport::Smtp(SmtpSettings::new(format!("smtp://127.0.0.1:{port}")));
        config.email.retry = RetryPolicy {
            max_attempts: 3,
            base_seconds: 60,
            max_seconds: 600,
        };
    })
    .await;
    let state = &cloud.state;
    queue_one(&cloud).await;
    let pass = || state.mail.deliver_due(&state.store, &state.clock);
    // This pass, or the delivery task's first one, makes the first attempt.
    pass().await.unwrap();
    let entry = outbox(&cloud).await.remove(0);
    assert_eq!((entry.attempts, entry.state.as_str()), (1, "pending"));
    assert!(entry.last_error.is_some(), "the failure is recorded");
    let due = entry.next_attempt_at - state.clock.now();
    assert!(
        (58..=60).contains(&due),
        "first retry after 60 s, not {due}"
    );
    assert_eq!(pass().await.unwrap().retrying, 0, "not due yet");

    state.clock.advance(60);
    pass().await.unwrap();
    let entry = outbox(&cloud).await.remove(0);
    assert_eq!(entry.attempts, 2);
    let due = entry.next_attempt_at - state.clock.now();
    assert!((118..=120).contains(&due), "then after 120 s, not {due}");

    state.clock.advance(120);
    assert_eq!(pass().await.unwrap().failed, 1);
    let entry = outbox(&cloud).await.remove(0);
    assert_eq!((entry.state.as_str(), entry.attempts), ("failed", 3));
    assert!(!entry.holds_secret, "a given-up message keeps no code");
    state.clock.advance(3_600);
    assert_eq!(
        pass().await.unwrap(),
        Default::default(),
        "given up for good"
    );
}

#[tokio::test]
async fn the_local_mailbox_is_the_default_and_delivery_is_prompt() {
    let (cloud, dir) = cloud(|_| {}).await;
    assert!(matches!(
        cloud.state.config.email.transport,
        EmailTransport::Mailbox(_)
    ));
    queue_one(&cloud).await;
    cloud.state.mail.wake();
    let mailbox = mailbox_dir(&dir.path().join("data"));
    for _ in 0..250 {
        if !read_mailbox(&mailbox).unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let messages = read_mailbox(&mailbox).unwrap();
    assert_eq!(messages.len(), 1, "woken at once, not at the next poll");
    assert_eq!(messages[0].body, format!("Your code: {SECRET}\n"));
    assert!(messages[0].from.contains("no-reply@"));
}

#[tokio::test]
async fn bad_smtp_settings_stop_the_start_without_showing_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = CloudConfig::new(dir.path().join("data"));
    config.email.transport = EmailTransport::Smtp(SmtpSettings::new(
        "smtp://mailer:pa55word@mail.example.com:25",
    ));
    let refused = start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            StartError::Email(EmailError::PlainSmtpOffLoopback { host }) if host == "mail.example.com"
        ),
        "{refused}"
    );
    let refused = refused.to_string();
    assert!(!refused.contains("pa55word"), "{refused}");
    assert!(!format!("{config:?}").contains("pa55word"));
}
