//! The notifications outbox: what to tell a citizen (App IO, e-mail), written
//! in the same transaction as the event it announces.
//!
//! A row is written once per request, event and channel (a unique key), so
//! an event recorded twice announces nothing twice. A sender *claims* due
//! rows for a lease ([`Store::claim_notifications`]): on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, on SQLite inside the one write transaction, so
//! two nodes draining the same outbox never hold the same row. The sender
//! marks a row done ([`Store::finish_notification`]) or puts it back for a
//! later attempt ([`Store::retry_notification`]); a row whose sender died
//! is claimable again when its lease ends.
//!
//! Rows carry identifiers only: the request, the recipient (a fiscal code
//! for IO, an address for e-mail). The words are made when sending.

use seal::{CodiceFiscale, ComuneCode};
use time::{Duration, OffsetDateTime};

use super::{Backend, Store, StoreError, int, opt_int, opt_text, text, unix};

/// What a notification announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationEvent {
    /// The certificate is issued and can be downloaded.
    CertificateReady,
    /// The request's payment expired unpaid.
    PaymentExpired,
    /// The request's certificate was revoked or superseded by the comune.
    CertificateWithdrawn,
}

impl NotificationEvent {
    /// As stored.
    pub fn code(self) -> &'static str {
        match self {
            Self::CertificateReady => "certificate_ready",
            Self::PaymentExpired => "payment_expired",
            Self::CertificateWithdrawn => "certificate_withdrawn",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "certificate_ready" => Some(Self::CertificateReady),
            "payment_expired" => Some(Self::PaymentExpired),
            "certificate_withdrawn" => Some(Self::CertificateWithdrawn),
            _ => None,
        }
    }
}

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// The citizen's App IO, by fiscal code.
    Io(CodiceFiscale),
    /// An e-mail address.
    Email(String),
}

/// How a notification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered to the channel.
    Sent,
    /// App IO says the citizen does not receive this comune's messages.
    NotAllowed,
    /// Failed too many times, or for good; left for someone to look at.
    GaveUp,
    /// The channel is not configured in this deployment.
    Skipped,
}

impl Outcome {
    fn code(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::NotAllowed => "not_allowed",
            Self::GaveUp => "gave_up",
            Self::Skipped => "skipped",
        }
    }
}

/// A claimed notification, to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Its id.
    pub id: String,
    /// The comune.
    pub comune: ComuneCode,
    /// The request it is about.
    pub request_id: String,
    /// What it announces.
    pub event: NotificationEvent,
    /// Where it goes.
    pub recipient: Recipient,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// A notification as stored, for tests and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// Its id.
    pub id: String,
    /// The request.
    pub request_id: String,
    /// What it announces (`certificate_ready`, `payment_expired`).
    pub event: String,
    /// `io` or `email`.
    pub channel: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was done.
    pub sent_at: Option<OffsetDateTime>,
    /// How it ended, if it has.
    pub outcome: Option<String>,
}

/// Writes the notifications of `event` about request `request_id` in `tx`:
/// App IO to the requester, and e-mail where the request gave an address.
/// Writing them again changes nothing.
pub(crate) async fn enqueue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    comune: ComuneCode,
    request_id: &str,
    event: NotificationEvent,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT requester, email FROM requests WHERE comune = $1 AND id = $2")
        .bind(comune.as_str().to_owned())
        .bind(request_id.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let requester = text(&row, "requests", "requester")?;
    let email = opt_text(&row, "requests", "email")?.filter(|email| email.contains('@'));
    let mut rows = vec![("io", requester)];
    rows.extend(email.map(|email| ("email", email)));
    for (channel, recipient) in rows {
        sqlx::query(
            "INSERT INTO outbox (id, comune, request_id, event, channel, recipient, created_at, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (comune, request_id, event, channel) DO NOTHING",
        )
        .bind(super::registry::random_id()?)
        .bind(comune.as_str().to_owned())
        .bind(request_id.to_owned())
        .bind(event.code())
        .bind(channel)
        .bind(recipient)
        .bind(unix(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const CLAIM_COLUMNS: &str = "id, comune, request_id, event, channel, recipient, attempts";

impl Store {
    /// Claims up to `limit` due notifications for `sender` until `now +
    /// lease`: no other sender gets them meanwhile.
    pub async fn claim_notifications(
        &self,
        sender: &str,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let due = "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $3 \
                   AND (claimed_until IS NULL OR claimed_until <= $3) ORDER BY created_at, id \
                   LIMIT $4";
        let sql = match self.backend {
            Backend::Postgres => format!(
                "UPDATE outbox SET claimed_by = $1, claimed_until = $2 \
                 WHERE id IN ({due} FOR UPDATE SKIP LOCKED) RETURNING {CLAIM_COLUMNS}"
            ),
            // One writer at a time (BEGIN IMMEDIATE): the select and the
            // update cannot interleave with another sender's.
            Backend::Sqlite => format!(
                "UPDATE outbox SET claimed_by = $1, claimed_until = $2 \
                 WHERE id IN ({due}) RETURNING {CLAIM_COLUMNS}"
            ),
        };
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&sql)
            .bind(sender.to_owned())
            .bind(unix(now + lease))
            .bind(unix(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(notification_from_row).collect()
    }

    /// Marks `id`, claimed by `sender`, done with `outcome`. `false` when
    /// the claim was lost (its lease ended and another sender took it).
    pub async fn finish_notification(
        &self,
        id: &str,
        sender: &str,
        outcome: Outcome,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET sent_at = $3, outcome = $4, attempts = attempts + 1, \
             claimed_until = NULL WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL",
        )
        .bind(id.to_owned())
        .bind(sender.to_owned())
        .bind(unix(now))
        .bind(outcome.code())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts `id` back for another attempt at `next`, noting `error` (which
    /// must carry no personal data).
    pub async fn retry_notification(
        &self,
        id: &str,
        sender: &str,
        error: &str,
        next: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
             claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND claimed_by = $2",
        )
        .bind(id.to_owned())
        .bind(sender.to_owned())
        .bind(unix(next))
        .bind(error.chars().take(300).collect::<String>())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The comune's notifications about `request_id`.
    pub async fn notifications_of(
        &self,
        comune: ComuneCode,
        request_id: &str,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, request_id, event, channel, attempts, sent_at, outcome FROM outbox \
             WHERE comune = $1 AND request_id = $2 ORDER BY channel",
        )
        .bind(comune.as_str().to_owned())
        .bind(request_id.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NotificationRecord {
                    id: text(row, "outbox", "id")?,
                    request_id: text(row, "outbox", "request_id")?,
                    event: text(row, "outbox", "event")?,
                    channel: text(row, "outbox", "channel")?,
                    attempts: int(row, "outbox", "attempts")?,
                    sent_at: opt_int(row, "outbox", "sent_at")?
                        .map(|secs| {
                            OffsetDateTime::from_unix_timestamp(secs).map_err(|_| {
                                StoreError::Corrupt {
                                    table: "outbox",
                                    column: "sent_at",
                                }
                            })
                        })
                        .transpose()?,
                    outcome: opt_text(row, "outbox", "outcome")?,
                })
            })
            .collect()
    }
}

fn notification_from_row(row: &sqlx::any::AnyRow) -> Result<Notification, StoreError> {
    const T: &str = "outbox";
    let corrupt = |column| StoreError::Corrupt { table: T, column };
    let recipient = text(row, T, "recipient")?;
    let recipient = match text(row, T, "channel")?.as_str() {
        "io" => Recipient::Io(CodiceFiscale::parse(&recipient).map_err(|_| corrupt("recipient"))?),
        "email" => Recipient::Email(recipient),
        _ => return Err(corrupt("channel")),
    };
    Ok(Notification {
        id: text(row, T, "id")?,
        comune: ComuneCode::parse(&text(row, T, "comune")?).map_err(|_| corrupt("comune"))?,
        request_id: text(row, T, "request_id")?,
        event: NotificationEvent::from_code(&text(row, T, "event")?).ok_or(corrupt("event"))?,
        recipient,
        attempts: int(row, T, "attempts")?,
    })
}
