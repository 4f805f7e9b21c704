//! Sending the outbox: what the store wrote when a certificate was issued
//! or a payment expired (`store::outbox`), told to the citizen through App
//! IO and e-mail.
//!
//! [`Notifier::drain`] claims due rows for a lease, sends each, and marks it
//! done; a transient failure puts the row back with a growing delay, a
//! permanent one (App IO refused the message, the relay refused the address)
//! ends it. Two nodes draining the same outbox never send a row twice: each
//! claims different rows. A node that dies after claiming leaves the row to
//! be claimed again when the lease ends; one that dies after sending and
//! before marking is the one case where a message may go twice (the
//! channels take no idempotency key; the e-mail's `Message-ID` is stable).
//!
//! The message says what is ready or expired and where to go; it carries no
//! certificate content, no fiscal code, no name.

use std::time::Duration;

use notify::io::{Io, Reach};
use notify::mail::Mailer;
use store::model::RequestRecord;
use store::{Notification, NotificationEvent, Outcome, Recipient, Store, StoreError};
use time::OffsetDateTime;

use crate::requests::crash_point;

/// Rows claimed at once.
const BATCH: u32 = 50;
/// After this many failed attempts a row is given up.
const MAX_ATTEMPTS: i64 = 12;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainSummary {
    /// Delivered.
    pub sent: usize,
    /// App IO said the citizen cannot be reached by the comune.
    pub not_allowed: usize,
    /// Failed for now; tried again later.
    pub retried: usize,
    /// Failed for good.
    pub gave_up: usize,
    /// Their channel is not configured here.
    pub skipped: usize,
}

/// The words of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// The subject (App IO: 10 to 120 characters).
    pub subject: String,
    /// The Markdown text (App IO: at least 80 characters).
    pub markdown: String,
    /// The same, as plain text for e-mail.
    pub text: String,
}

/// Sends the outbox through the channels configured.
#[derive(Debug, Clone)]
pub struct Notifier {
    store: Store,
    io: Option<Io>,
    mail: Option<Mailer>,
    portal_base_url: String,
    sender: String,
    lease: Duration,
}

/// How one row went.
enum Sent {
    Done(Outcome),
    Retry(String),
}

impl Notifier {
    /// A notifier over `store`, with the channels given (`None`: not
    /// configured, its rows end as skipped); links point at
    /// `portal_base_url`; `sender` names this node in claims; a claim
    /// lasts `lease`.
    pub fn new(
        store: Store,
        io: Option<Io>,
        mail: Option<Mailer>,
        portal_base_url: &str,
        sender: &str,
        lease: Duration,
    ) -> Self {
        Self {
            store,
            io,
            mail,
            portal_base_url: portal_base_url.trim_end_matches('/').to_owned(),
            sender: sender.to_owned(),
            lease,
        }
    }

    /// One pass over the due rows.
    pub async fn drain(&self, now: OffsetDateTime) -> Result<DrainSummary, StoreError> {
        let lease = time::Duration::try_from(self.lease).unwrap_or(time::Duration::MINUTE);
        let claimed = self
            .store
            .claim_notifications(&self.sender, now, lease, BATCH)
            .await?;
        let mut summary = DrainSummary::default();
        if claimed.is_empty() {
            return Ok(summary);
        }
        crash_point("notification-claimed");
        for notification in claimed {
            let outcome = self.send_one(&notification).await;
            match outcome {
                Ok(Sent::Done(outcome)) => {
                    let kept = self
                        .store
                        .finish_notification(
                            &notification.id,
                            &self.sender,
                            outcome,
                            OffsetDateTime::now_utc(),
                        )
                        .await?;
                    if !kept {
                        tracing::warn!(
                            notification = %notification.id,
                            "notification done after its claim ended"
                        );
                    }
                    match outcome {
                        Outcome::Sent => summary.sent += 1,
                        Outcome::NotAllowed => summary.not_allowed += 1,
                        Outcome::GaveUp => summary.gave_up += 1,
                        Outcome::Skipped => summary.skipped += 1,
                    }
                }
                Ok(Sent::Retry(error)) if notification.attempts + 1 >= MAX_ATTEMPTS => {
                    tracing::error!(notification = %notification.id, %error, "notification given up");
                    self.store
                        .finish_notification(
                            &notification.id,
                            &self.sender,
                            Outcome::GaveUp,
                            OffsetDateTime::now_utc(),
                        )
                        .await?;
                    summary.gave_up += 1;
                }
                Ok(Sent::Retry(error)) => {
                    let delay = backoff(notification.attempts);
                    tracing::warn!(notification = %notification.id, %error, "notification to retry");
                    self.store
                        .retry_notification(
                            &notification.id,
                            &self.sender,
                            &error,
                            OffsetDateTime::now_utc() + delay,
                        )
                        .await?;
                    summary.retried += 1;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(summary)
    }

    async fn send_one(&self, notification: &Notification) -> Result<Sent, StoreError> {
        let Some(request) = self
            .store
            .request(notification.comune, &notification.request_id)
            .await?
        else {
            return Ok(Sent::Done(Outcome::GaveUp));
        };
        let comune = self
            .store
            .comune(notification.comune)
            .await?
            .map_or_else(String::new, |record| record.name);
        let words = self.words(notification.event, &request, &comune);
        let message_id = format!("{}.{}", notification.id, notification.comune);
        Ok(match &notification.recipient {
            Recipient::Io(citizen) => {
                let Some(io) = &self.io else {
                    return Ok(Sent::Done(Outcome::Skipped));
                };
                match io.reach(citizen).await {
                    Ok(Reach::Allowed) => {}
                    Ok(Reach::Refused | Reach::NoProfile) => {
                        return Ok(Sent::Done(Outcome::NotAllowed));
                    }
                    Err(error) if error.is_transient() => {
                        return Ok(Sent::Retry(error.to_string()));
                    }
                    Err(error) => {
                        tracing::error!(%error, "App IO refused the profile request");
                        return Ok(Sent::Done(Outcome::GaveUp));
                    }
                }
                match io.send(citizen, &words.subject, &words.markdown).await {
                    Ok(_) => {
                        tracing::info!(notification = %notification.id, "App IO message sent");
                        Sent::Done(Outcome::Sent)
                    }
                    Err(error) if error.is_transient() => Sent::Retry(error.to_string()),
                    Err(error) => {
                        tracing::error!(%error, "App IO refused the message");
                        Sent::Done(Outcome::GaveUp)
                    }
                }
            }
            Recipient::Email(address) => {
                let Some(mail) = &self.mail else {
                    return Ok(Sent::Done(Outcome::Skipped));
                };
                match mail
                    .send(address, &words.subject, &words.text, &message_id)
                    .await
                {
                    Ok(()) => {
                        tracing::info!(notification = %notification.id, "e-mail sent");
                        Sent::Done(Outcome::Sent)
                    }
                    Err(error) if error.is_transient() => Sent::Retry(error.to_string()),
                    Err(error) => {
                        tracing::error!(%error, "e-mail refused");
                        Sent::Done(Outcome::GaveUp)
                    }
                }
            }
        })
    }

    /// The words for `event` about `request` of the comune named `comune`.
    pub fn words(&self, event: NotificationEvent, request: &RequestRecord, comune: &str) -> Words {
        let title = request.kind.title();
        let link = format!(
            "{}/area-personale/richieste/{}",
            self.portal_base_url, request.id
        );
        let from = if comune.is_empty() {
            "al Comune".to_owned()
        } else {
            format!("al Comune di {comune}")
        };
        match event {
            NotificationEvent::CertificateReady => Words {
                subject: "Il tuo certificato è pronto".to_owned(),
                markdown: format!(
                    "Il certificato che hai richiesto {from} è pronto: **{title}**.\n\n\
                     Puoi scaricarlo dall'area personale del portale dei certificati: \
                     [apri la richiesta]({link}).\n\n\
                     Il PDF resta scaricabile dall'area personale; chi lo riceve può \
                     verificarlo dal codice QR stampato."
                ),
                text: format!(
                    "Il certificato che hai richiesto {from} è pronto: {title}.\n\n\
                     Puoi scaricarlo dall'area personale del portale dei certificati:\n{link}\n\n\
                     Il PDF resta scaricabile dall'area personale; chi lo riceve può \
                     verificarlo dal codice QR stampato.\n"
                ),
            },
            NotificationEvent::CertificateWithdrawn => Words {
                subject: "Il tuo certificato non è più valido".to_owned(),
                markdown: format!(
                    "Il **{title}** che hai ricevuto {from} è stato ritirato dal Comune \
                     (revocato, o sostituito da un certificato successivo) e non è più \
                     valido: chi lo verifica dal codice QR lo vede.\n\n\
                     Il motivo e lo stato sono nell'area personale: \
                     [apri la richiesta]({link})."
                ),
                text: format!(
                    "Il {title} che hai ricevuto {from} è stato ritirato dal Comune \
                     (revocato, o sostituito da un certificato successivo) e non è più \
                     valido: chi lo verifica dal codice QR lo vede.\n\n\
                     Il motivo e lo stato sono nell'area personale:\n{link}\n"
                ),
            },
            NotificationEvent::PaymentExpired => Words {
                subject: "La tua richiesta di certificato è scaduta".to_owned(),
                markdown: format!(
                    "La richiesta {from} del **{title}** è scaduta: il pagamento non è \
                     arrivato entro il termine e l'avviso è stato annullato.\n\n\
                     Se il certificato ti serve ancora puoi farne una nuova richiesta: \
                     [vai al portale]({}).",
                    self.portal_base_url
                ),
                text: format!(
                    "La richiesta {from} del {title} è scaduta: il pagamento non è arrivato \
                     entro il termine e l'avviso è stato annullato.\n\n\
                     Se il certificato ti serve ancora puoi farne una nuova richiesta:\n{}\n",
                    self.portal_base_url
                ),
            },
        }
    }

    /// The store the notifier reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// This node's name in claims.
    pub fn sender(&self) -> &str {
        &self.sender
    }
}

/// 30 s, doubling per attempt, at most an hour.
fn backoff(attempts: i64) -> time::Duration {
    let exponent = u32::try_from(attempts.clamp(0, 7)).unwrap_or(7);
    time::Duration::seconds(30 * (1i64 << exponent)).min(time::Duration::HOUR)
}
