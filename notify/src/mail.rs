//! E-mail over SMTP, with lettre: plain text, one recipient, a stable
//! `Message-ID` per notification so a receiving system can tell a repeat.
//!
//! The transport is plain SMTP to the configured relay (the comune's mail
//! server on its network, or the sink in the demo and tests); STARTTLS and
//! authentication to a remote provider are not supported yet.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport as _, Tokio1Executor};

/// Where the relay is and who writes.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The relay's host name or address.
    pub host: String,
    /// Its port (25, or the sink's).
    pub port: u16,
    /// The sender, e.g. `Comune di Roma <certificati@comune.roma.it>`.
    pub from: String,
    /// How long a delivery may take.
    pub timeout: Duration,
}

/// Why an e-mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The configuration is not usable (the sender's address).
    #[error("configurazione della posta non valida: {0}")]
    Config(String),
    /// The recipient's address is not an address.
    #[error("indirizzo e-mail del destinatario non valido")]
    BadRecipient,
    /// The relay refused for good (5xx).
    #[error("il server di posta ha rifiutato il messaggio")]
    Rejected,
    /// The relay could not be reached or failed for now: try again later.
    #[error("il server di posta non è raggiungibile")]
    Unavailable,
}

impl MailError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable)
    }
}

/// Sends e-mail through one relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.email.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for `config`.
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("from: {e}")))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout))
            .build();
        Ok(Self { transport, from })
    }

    /// Sends `subject` and `body` to `to`; `id` becomes the `Message-ID`.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        id: &str,
    ) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::BadRecipient)?;
        let domain = self.from.email.domain().to_owned();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{id}@{domain}>")))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Config(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(MailError::Rejected),
            Err(_) => Err(MailError::Unavailable),
        }
    }
}
