//! How mail leaves: SMTP (tokio, rustls; plain, STARTTLS or TLS by the URL; optional sign-in)
//! or `.eml` files in a folder (the embedded default, for reading what would have been sent).

use super::Rendered;
use crate::config;
use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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
        let timeout = mail
            .smtp_timeout
            .as_elapsed()
            .and_then(|d| d.to_std().ok())
            .unwrap_or(std::time::Duration::from_secs(30));
        match mail.transport.as_str() {
            "smtp" => {
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(mail.smtp_url.expose())?
                        .timeout(Some(timeout));
                if !mail.smtp_username.expose().is_empty() {
                    builder = builder.credentials(Credentials::new(
                        mail.smtp_username.expose().to_string(),
                        mail.smtp_password.expose().to_string(),
                    ));
                }
                Ok(Transport::Smtp(builder.build()))
            }
            _ => {
                let dir = std::path::PathBuf::from(&mail.dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("mail.dir {}: {e}", dir.display()))?;
                Ok(Transport::File(AsyncFileTransport::new(&dir), dir))
            }
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(describe(&e))),
                Err(e) => Err(SendError::Transient(describe(&e))),
            },
            Transport::File(file, _) => file
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(describe(&e))),
        }
    }
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

/// A mail for `to` with a fixed Message-ID, so that a resend is known as the same mail.
/// Addresses that cannot be read are left out and named in the error when none is left.
pub fn message(
    from: &Mailbox,
    to: &[String],
    message_id: &str,
    date: std::time::SystemTime,
    rendered: Rendered,
) -> Result<Message, SendError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(rendered.subject)
        .message_id(Some(message_id.to_string()))
        .date(date);
    let mut any = false;
    for address in to {
        if let Ok(mailbox) = address.parse::<Mailbox>() {
            builder = builder.to(mailbox);
            any = true;
        }
    }
    if !any {
        return Err(SendError::Permanent(format!(
            "no deliverable address among {to:?}"
        )));
    }
    builder
        .header(header::MIME_VERSION_1_0)
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(|e| SendError::Permanent(e.to_string()))
}
