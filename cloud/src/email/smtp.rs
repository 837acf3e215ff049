//! The SMTP sender (lettre over tokio, TLS by rustls on ring with the platform's roots).

use lettre::message::header::ContentType;
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::config::SmtpSettings;
use super::outbox::Attachment;
use super::EmailError;

/// Sends through one SMTP server.
#[derive(Clone)]
pub(crate) struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpSender(..)")
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpSender {
    /// A sender for `settings`; plain (unencrypted) SMTP only to a relay on loopback.
    pub(crate) fn new(settings: &SmtpSettings) -> Result<Self, EmailError> {
        let url = url::Url::parse(settings.url())
            .map_err(|_| EmailError::Smtp("the SMTP URL cannot be parsed".into()))?;
        let encrypted = url.scheme() == "smtps" || url.query_pairs().any(|(key, _)| key == "tls");
        let host = url.host_str().unwrap_or_default();
        if !encrypted && !is_loopback(host) {
            return Err(EmailError::PlainSmtpOffLoopback { host: host.into() });
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url())
            .map_err(|error| EmailError::Smtp(error.to_string()))?
            .build();
        Ok(Self { transport })
    }

    /// Sends one plain-text message, with its attachment as a MIME part when it has one.
    pub(crate) async fn send(
        &self,
        from: &Mailbox,
        to: &str,
        subject: &str,
        body: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), String> {
        let message = build_message(from, to, subject, body, attachment)?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|error| format!("SMTP: {error}"))
    }
}

/// The MIME message: plain text, or plain text and the attachment (multipart/mixed).
fn build_message(
    from: &Mailbox,
    to: &str,
    subject: &str,
    body: &str,
    attachment: Option<&Attachment>,
) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|_| "the recipient address is not valid".to_string())?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject);
    let built = match attachment {
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string()),
        Some(file) => {
            let content_type = ContentType::parse(&file.content_type)
                .map_err(|_| "the attachment's content type is not valid".to_string())?;
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body.to_string()))
                    .singlepart(
                        MimeAttachment::new(file.name.clone())
                            .body(file.bytes.clone(), content_type),
                    ),
            )
        }
    };
    built.map_err(|error| format!("building the message: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_becomes_a_named_mime_part() {
        let from: Mailbox = "Keyway <no-reply@keyway.invalid>".parse().unwrap();
        let file = Attachment {
            name: "failed-rows.csv".into(),
            content_type: "text/csv".into(),
            bytes: b"Row,Reason\n2,unknown role\n".to_vec(),
        };
        let message =
            build_message(&from, "ada@example.com", "Import", "Hello", Some(&file)).unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("multipart/mixed"), "{text}");
        assert!(text.contains("filename=\"failed-rows.csv\""), "{text}");
        assert!(text.contains("text/csv"), "{text}");
        let plain = build_message(&from, "ada@example.com", "Import", "Hello", None).unwrap();
        assert!(!String::from_utf8(plain.formatted())
            .unwrap()
            .contains("multipart"));
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        assert!(SmtpSender::new(&SmtpSettings::new("smtp://127.0.0.1:2525")).is_ok());
        assert!(SmtpSender::new(&SmtpSettings::new("smtp://[::1]:2525")).is_ok());
        assert!(SmtpSender::new(&SmtpSettings::new("smtp://mail.example.com:25")).is_err());
        assert!(SmtpSender::new(&SmtpSettings::new(
            "smtp://u:p@mail.example.com:587?tls=required"
        ))
        .is_ok());
        assert!(SmtpSender::new(&SmtpSettings::new("smtps://u:p@mail.example.com")).is_ok());
        let refused = SmtpSender::new(&SmtpSettings::new("not a url with secret-pw")).unwrap_err();
        assert!(!refused.to_string().contains("secret-pw"));
    }
}
