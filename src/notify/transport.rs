//! How mail leaves: SMTP (tokio, rustls; plain, STARTTLS or TLS by the URL; optional sign-in)
//! or `.eml` files in a folder (the embedded default, for reading what would have been sent).

use super::templates::Rendered;
use crate::config;
use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server refused it for good (5xx), or it cannot be made into a message: no retry.
    #[error("{0}")]
    Permanent(String),
    /// The server is away, busy or slow (4xx, connection, timeout): retry later.
    #[error("{0}")]
    Transient(String),
}

impl Transport {
    /// The transport `mail.transport` names. Needs a tokio runtime for SMTP connections, not
    /// to be built.
    pub fn from_config(mail: &config::Mail) -> anyhow::Result<Transport> {
        let timeout = mail.smtp_timeout.std();
        match mail.transport {
            config::MailTransport::Smtp => {
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(mail.smtp_url.expose())?
                        .timeout(Some(timeout));
                if !mail.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        mail.smtp_username.expose().to_string(),
                        mail.smtp_password.expose().to_string(),
                    ));
                }
                Ok(Transport::Smtp(builder.build()))
            }
            config::MailTransport::File => {
                let dir = std::path::PathBuf::from(&mail.dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("mail.dir {}: {e}", dir.display()))?;
                Ok(Transport::File(AsyncFileTransport::new(&dir), dir))
            }
        }
    }

    /// Sends `message` to each address in an envelope of its own, so that one mailbox the
    /// server refuses does not hold up the others; stops at the first failure that concerns the
    /// server rather than the address (the rest wait for the next attempt). The file transport
    /// writes one file for all. Each send gives up after `limit`: its outcome is then unknown,
    /// and it counts as not sent.
    pub async fn deliver(
        &self,
        message: &Message,
        to: &[Address],
        limit: std::time::Duration,
    ) -> Delivery {
        let mut d = Delivery::default();
        let from = message.envelope().from().cloned();
        let raw = message.formatted();
        let batches: Vec<Vec<Address>> = match self {
            Transport::Smtp(_) => to.iter().map(|a| vec![a.clone()]).collect(),
            Transport::File(..) => vec![to.to_vec()],
        };
        let mut rest = batches.into_iter();
        for batch in rest.by_ref() {
            let result = match Envelope::new(from.clone(), batch.clone()) {
                Ok(envelope) => {
                    match tokio::time::timeout(limit, self.send_raw(&envelope, &raw)).await {
                        Ok(result) => result,
                        Err(_) => Err(SendError::Transient(format!(
                            "no answer within {}s; the outcome is unknown",
                            limit.as_secs()
                        ))),
                    }
                }
                Err(e) => Err(SendError::Permanent(e.to_string())),
            };
            let names = batch.iter().map(ToString::to_string);
            match result {
                Ok(()) => d.delivered.extend(names),
                Err(SendError::Permanent(e)) => d.refused.extend(names.map(|a| (a, e.clone()))),
                Err(SendError::Transient(e)) => {
                    d.waiting.extend(names);
                    d.error = Some(e);
                    break;
                }
            }
        }
        d.waiting.extend(rest.flatten().map(|a| a.to_string()));
        d
    }

    async fn send_raw(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => match smtp.send_raw(envelope, raw).await {
                Ok(_) => Ok(()),
                // Refused for good: this mailbox. A 5xx about the session (TLS or sign-in
                // required, bad credentials) is the configuration's, to be fixed and retried.
                Err(e) if e.is_permanent() && !session_refusal(&e) => {
                    Err(SendError::Permanent(describe(&e)))
                }
                Err(e) => Err(SendError::Transient(describe(&e))),
            },
            Transport::File(file, _) => file
                .send_raw(envelope, raw)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(describe(&e))),
        }
    }
}

/// What became of one attempt at a mail, address by address.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: Vec<String>,
    /// Refused for good, with the server's word.
    pub refused: Vec<(String, String)>,
    /// Not sent (yet): for the next attempt.
    pub waiting: Vec<String>,
    /// Why the waiting ones wait.
    pub error: Option<String>,
}

/// 530 (STARTTLS first), 534/538 (stronger or encrypted sign-in), 535 (bad credentials).
fn session_refusal(e: &lettre::transport::smtp::Error) -> bool {
    e.status()
        .is_some_and(|code| matches!(code.to_string().as_str(), "530" | "534" | "535" | "538"))
}

/// An error with its causes, on one line (lettre's own message leaves out why).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A file sent with a mail: its name, media type and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A mail to `to` with a fixed Message-ID, so that a resend is known as the same mail; with a
/// file attached when there is one.
pub fn message(
    from: &Mailbox,
    to: &[Address],
    message_id: &str,
    date: std::time::SystemTime,
    rendered: Rendered,
    attachment: Option<Attachment>,
) -> Result<Message, SendError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(rendered.subject)
        .message_id(Some(message_id.to_string()))
        .date(date);
    for address in to {
        builder = builder.to(Mailbox::new(None, address.clone()));
    }
    let body = MultiPart::alternative_plain_html(rendered.text, rendered.html);
    let body = match attachment {
        None => body,
        Some(file) => {
            let content_type = header::ContentType::parse(&file.content_type)
                .map_err(|e| SendError::Permanent(format!("attachment type: {e}")))?;
            MultiPart::mixed().multipart(body).singlepart(
                lettre::message::Attachment::new(file.filename).body(file.body, content_type),
            )
        }
    };
    builder
        .header(header::MIME_VERSION_1_0)
        .multipart(body)
        .map_err(|e| SendError::Permanent(e.to_string()))
}
