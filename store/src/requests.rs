//! Requests for certificates and their payments.
//!
//! Every change of state is a compare-and-set on the state it leaves
//! (`… WHERE state = 'awaiting_payment'`), in the same transaction as the
//! certificate's own change and the audit entry: after a crash at any point
//! a request is in exactly one state, and doing a step again either does
//! it or finds it done. Preparing links the request to its certificate in
//! the registry's transaction ([`Store::register_certificate_for_request`]).

use seal::notice::NoticeNumber;
use seal::usage::{parse_usage, usage_text};
use seal::{CertificateKind, CodiceFiscale, ComuneCode, Usage};
use sqlx::Row as _;
use time::OffsetDateTime;

use super::audit::{AuditEntry, append_audit};
use super::outbox::NotificationEvent;
use super::{Store, StoreError, int, opt_int, opt_text, opt_time_at, text, time_at, unix};
use crate::model::{Channel, PaymentMode, PaymentRecord, RequestRecord, RequestState};

/// A request to store.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The comune asked.
    pub comune: ComuneCode,
    /// The kind asked for.
    pub kind: CertificateKind,
    /// For a contestuale, the kinds it combines.
    pub parts: Vec<CertificateKind>,
    /// Whom the certificate is about.
    pub holder: CodiceFiscale,
    /// Who asks.
    pub requester: CodiceFiscale,
    /// The requester's e-mail, if given.
    pub email: Option<String>,
    /// The declared use, as `issuer::catalogue::parse_usage` reads it.
    pub usage: Usage,
    /// Online or at the counter.
    pub channel: Channel,
    /// The API key or portal session that makes it.
    pub created_by: String,
    /// The portal form's random key: a second request with the same key
    /// in the comune is the first one, not a new one.
    pub form_key: Option<String>,
    /// Now.
    pub now: OffsetDateTime,
}

/// A payment just opened at pagoPA, to record.
#[derive(Debug, Clone)]
pub struct PaymentOpened {
    /// Bollo virtuale or marca.
    pub mode: PaymentMode,
    /// Amount in cents.
    pub amount_cents: i64,
    /// The debt position id (bollo virtuale).
    pub iupd: Option<String>,
    /// The notice number.
    pub notice_number: NoticeNumber,
    /// Where to pay.
    pub checkout_url: String,
    /// Unpaid after this, the request expires.
    pub pay_by: OffsetDateTime,
}

/// The end of a request that was prepared.
#[derive(Debug, Clone)]
pub enum RequestTransition {
    /// Paid: the certificate is issued.
    Paid {
        /// The receipt's id (the IUBD, for a marca).
        receipt_id: String,
        /// The IUBD, stored on the certificate for the verifier to show.
        iubd: Option<String>,
        /// When it was paid.
        paid_at: OffsetDateTime,
        /// The certificate made again at its release (bollo virtuale: its
        /// date and validity count from the release, not the request), to
        /// replace the prepared one; `None` keeps the prepared one (a
        /// marca da bollo digitale was bought for its very bytes).
        resealed: Option<Resealed>,
    },
    /// Withdrawn before payment.
    Cancelled,
    /// Not paid in time.
    Expired,
}

/// A pending certificate made again when it is released: same number,
/// status index and stamp, new date, seal and PDF.
#[derive(Debug, Clone)]
pub struct Resealed {
    /// The new seal.
    pub seal: Vec<u8>,
    /// The new signed PDF.
    pub pdf: Vec<u8>,
    /// Its signer.
    pub kid: seal::Kid,
    /// The release time the seal states.
    pub issued_at: OffsetDateTime,
    /// The new end of validity.
    pub expires_at: Option<OffsetDateTime>,
}

/// The columns `request_from_row` reads.
macro_rules! request_columns {
    () => {
        "SELECT id, comune, kind, parts, holder, requester, email, usage, channel, state, refusal, \
         certificate_id, payment_mode, amount_cents, iupd, notice_number, checkout_url, \
         receipt_id, paid_at, created_by, created_at, updated_at, pay_by FROM requests "
    };
}

impl Store {
    /// Stores a new request in state `requested`.
    pub async fn insert_request(&self, new: &NewRequest) -> Result<RequestRecord, StoreError> {
        self.require_comune(new.comune).await?;
        if let Some(existing) = self.request_by_form_key(new).await? {
            return Ok(existing);
        }
        let id = super::registry::random_id()?;
        let parts = new
            .parts
            .iter()
            .map(|kind| kind.code().to_string())
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO requests (comune, id, kind, parts, holder, requester, email, usage, \
             channel, state, created_by, created_at, updated_at, form_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'requested', $10, $11, $11, $12)",
        )
        .bind(new.comune.as_str().to_owned())
        .bind(id.clone())
        .bind(i64::from(new.kind.code()))
        .bind(parts)
        .bind(new.holder.as_str().to_owned())
        .bind(new.requester.as_str().to_owned())
        .bind(new.email.clone())
        .bind(usage_text(&new.usage))
        .bind(new.channel.code())
        .bind(new.created_by.clone())
        .bind(unix(new.now))
        .bind(new.form_key.clone())
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // The same form, sent at the same moment by a second click:
            // the other insert won; answer its request.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                tx.rollback().await?;
                return self
                    .request_by_form_key(new)
                    .await?
                    .ok_or(StoreError::RequestNotFound);
            }
            Err(error) => return Err(error.into()),
        }
        append_audit(
            &mut tx,
            new.comune,
            &AuditEntry {
                at: new.now,
                event: "request.created",
                subject: &id,
                actor: &new.created_by,
                detail: &format!("kind={} channel={}", new.kind.code(), new.channel.code()),
            },
        )
        .await?;
        tx.commit().await?;
        self.request(new.comune, &id)
            .await?
            .ok_or(StoreError::RequestNotFound)
    }

    /// The request made with `new`'s form key, if it has one.
    async fn request_by_form_key(
        &self,
        new: &NewRequest,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let Some(key) = &new.form_key else {
            return Ok(None);
        };
        sqlx::query(concat!(
            request_columns!(),
            "WHERE comune = $1 AND form_key = $2"
        ))
        .bind(new.comune.as_str().to_owned())
        .bind(key.clone())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| request_from_row(&row))
        .transpose()
    }

    /// The comune's request `id`.
    pub async fn request(
        &self,
        comune: ComuneCode,
        id: &str,
    ) -> Result<Option<RequestRecord>, StoreError> {
        sqlx::query(concat!(request_columns!(), "WHERE comune = $1 AND id = $2"))
            .bind(comune.as_str().to_owned())
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .map(|row| request_from_row(&row))
            .transpose()
    }

    /// The request whose payment has this notice number, in any comune.
    pub async fn request_by_notice(
        &self,
        notice_number: &NoticeNumber,
    ) -> Result<Option<RequestRecord>, StoreError> {
        sqlx::query(concat!(request_columns!(), "WHERE notice_number = $1"))
            .bind(notice_number.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?
            .map(|row| request_from_row(&row))
            .transpose()
    }

    /// The id of the comune's request that led to the certificate
    /// `certificate_id`, if one did (not for one issued at the counter).
    pub async fn request_of_certificate(
        &self,
        comune: ComuneCode,
        certificate_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT id FROM requests WHERE comune = $1 AND certificate_id = $2")
            .bind(comune.as_str().to_owned())
            .bind(certificate_id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|row| text(row, "requests", "id"))
            .transpose()
    }

    /// The comune's requests that `person` made or that are about them,
    /// newest first, at most `limit`: the citizen's area personale.
    pub async fn requests_of_person(
        &self,
        comune: ComuneCode,
        person: &CodiceFiscale,
        limit: u32,
    ) -> Result<Vec<RequestRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            request_columns!(),
            "WHERE comune = $1 AND (requester = $2 OR holder = $2) \
             ORDER BY created_at DESC, id LIMIT $3"
        ))
        .bind(comune.as_str().to_owned())
        .bind(person.as_str().to_owned())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// Every request not yet at the end of its life, oldest change first:
    /// what reconciliation looks at.
    pub async fn open_requests(&self, limit: u32) -> Result<Vec<RequestRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            request_columns!(),
            "WHERE state IN ('requested', 'prepared', 'awaiting_payment') \
             ORDER BY updated_at, id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// `requested` → `refused`, with the reason for the requester.
    pub async fn refuse_request(
        &self,
        comune: ComuneCode,
        id: &str,
        reason: &str,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE requests SET state = 'refused', refusal = $3, updated_at = $4 \
             WHERE comune = $1 AND id = $2 AND state = 'requested'",
        )
        .bind(comune.as_str().to_owned())
        .bind(id.to_owned())
        .bind(reason.to_owned())
        .bind(unix(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            let detail = format!("reason={code}");
            append_audit(&mut tx, comune, &entry(now, "request.refused", id, &detail)).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// `prepared` → `awaiting_payment`, recording the payment opened.
    /// `false` when the request was not `prepared` (already recorded).
    pub async fn record_payment_opened(
        &self,
        comune: ComuneCode,
        id: &str,
        payment: &PaymentOpened,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE requests SET state = 'awaiting_payment', payment_mode = $3, \
             amount_cents = $4, iupd = $5, notice_number = $6, checkout_url = $7, pay_by = $8, \
             updated_at = $9 WHERE comune = $1 AND id = $2 AND state = 'prepared'",
        )
        .bind(comune.as_str().to_owned())
        .bind(id.to_owned())
        .bind(payment.mode.code())
        .bind(payment.amount_cents)
        .bind(payment.iupd.clone())
        .bind(payment.notice_number.as_str().to_owned())
        .bind(payment.checkout_url.clone())
        .bind(unix(payment.pay_by))
        .bind(unix(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            let detail = format!(
                "mode={} amount_cents={} notice={}",
                payment.mode.code(),
                payment.amount_cents,
                payment.notice_number
            );
            append_audit(&mut tx, comune, &entry(now, "payment.opened", id, &detail)).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Ends a request that was prepared or awaiting payment, with its
    /// certificate in the same transaction: paid → issued (the certificate
    /// too, with the IUBD if any); cancelled or expired → the pending
    /// certificate becomes void, its number never reused. `false` when the
    /// request had already left those states (a repeated confirmation).
    pub async fn finish_request(
        &self,
        comune: ComuneCode,
        id: &str,
        transition: &RequestTransition,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let (state, receipt_id, paid_at) = match transition {
            RequestTransition::Paid {
                receipt_id,
                paid_at,
                ..
            } => (
                RequestState::Issued,
                Some(receipt_id.clone()),
                Some(unix(*paid_at)),
            ),
            RequestTransition::Cancelled => (RequestState::Cancelled, None, None),
            RequestTransition::Expired => (RequestState::Expired, None, None),
        };
        let row = sqlx::query(
            "UPDATE requests SET state = $3, receipt_id = COALESCE($4, receipt_id), \
             paid_at = COALESCE($5, paid_at), updated_at = $6 \
             WHERE comune = $1 AND id = $2 AND state IN ('prepared', 'awaiting_payment') \
             RETURNING certificate_id",
        )
        .bind(comune.as_str().to_owned())
        .bind(id.to_owned())
        .bind(state.code())
        .bind(receipt_id)
        .bind(paid_at)
        .bind(unix(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let certificate_id: String = row
            .try_get::<Option<String>, _>("certificate_id")
            .ok()
            .flatten()
            .ok_or(StoreError::Corrupt {
                table: "requests",
                column: "certificate_id",
            })?;
        if let RequestTransition::Paid {
            resealed: Some(resealed),
            ..
        } = transition
        {
            sqlx::query(
                "UPDATE certificates SET seal = $3, pdf = $4, pdf_sha256 = $5, kid = $6, \
                 expires_at = $7 WHERE comune = $1 AND id = $2 AND status = 'pending'",
            )
            .bind(comune.as_str().to_owned())
            .bind(certificate_id.clone())
            .bind(resealed.seal.clone())
            .bind(resealed.pdf.clone())
            .bind(seal::digest::DocumentDigest::of(&resealed.pdf).to_hex())
            .bind(resealed.kid.to_hex())
            .bind(resealed.expires_at.map(unix))
            .execute(&mut *tx)
            .await?;
        }
        let (status, issued_at, iubd) = match transition {
            RequestTransition::Paid { iubd, resealed, .. } => (
                "issued",
                Some(unix(
                    resealed.as_ref().map_or(now, |resealed| resealed.issued_at),
                )),
                iubd.clone(),
            ),
            RequestTransition::Cancelled | RequestTransition::Expired => ("void", None, None),
        };
        let changed = sqlx::query(
            "UPDATE certificates SET status = $3, issued_at = COALESCE($4, issued_at), \
             bollo_reference = COALESCE($5, bollo_reference) \
             WHERE comune = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(comune.as_str().to_owned())
        .bind(certificate_id.clone())
        .bind(status)
        .bind(issued_at)
        .bind(iubd)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            // The certificate is not pending: someone changed it outside the
            // request's flow. Leave both as they were.
            tx.rollback().await?;
            return Err(StoreError::StatusTransition {
                from: crate::model::CertificateStatus::Pending,
                to: crate::model::CertificateStatus::from_code(status)
                    .unwrap_or(crate::model::CertificateStatus::Void),
            });
        }
        let event = match transition {
            RequestTransition::Paid { .. } => "certificate.issued",
            RequestTransition::Cancelled => "request.cancelled",
            RequestTransition::Expired => "request.expired",
        };
        // The citizen is told, from the outbox, in this same transaction.
        let notify = match transition {
            RequestTransition::Paid { .. } => Some(NotificationEvent::CertificateReady),
            RequestTransition::Expired => Some(NotificationEvent::PaymentExpired),
            RequestTransition::Cancelled => None,
        };
        if let Some(notify) = notify {
            super::outbox::enqueue(&mut tx, comune, id, notify, now).await?;
        }
        let detail = format!("certificate={certificate_id}");
        append_audit(
            &mut tx,
            comune,
            &AuditEntry {
                at: now,
                event,
                subject: id,
                actor,
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

fn entry<'a>(
    at: OffsetDateTime,
    event: &'a str,
    subject: &'a str,
    detail: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        at,
        event,
        subject,
        actor: "sigillo",
        detail,
    }
}

fn request_from_row(row: &sqlx::any::AnyRow) -> Result<RequestRecord, StoreError> {
    const T: &str = "requests";
    let corrupt = |column| StoreError::Corrupt { table: T, column };
    let kind_of = |code: i64| {
        u16::try_from(code)
            .ok()
            .and_then(CertificateKind::from_code)
    };
    let parts = text(row, T, "parts")?;
    let parts = parts
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().ok().and_then(kind_of).ok_or(corrupt("parts")))
        .collect::<Result<Vec<_>, _>>()?;
    let cf = |column| CodiceFiscale::parse(&text(row, T, column)?).map_err(|_| corrupt(column));
    let payment = match opt_text(row, T, "payment_mode")? {
        None => None,
        Some(mode) => Some(PaymentRecord {
            mode: PaymentMode::from_code(&mode).ok_or(corrupt("payment_mode"))?,
            amount_cents: opt_int(row, T, "amount_cents")?.ok_or(corrupt("amount_cents"))?,
            iupd: opt_text(row, T, "iupd")?,
            notice_number: opt_text(row, T, "notice_number")?
                .and_then(|text| NoticeNumber::parse(&text).ok())
                .ok_or(corrupt("notice_number"))?,
            checkout_url: opt_text(row, T, "checkout_url")?.ok_or(corrupt("checkout_url"))?,
            pay_by: opt_time_at(row, T, "pay_by")?.ok_or(corrupt("pay_by"))?,
            receipt_id: opt_text(row, T, "receipt_id")?,
            paid_at: opt_time_at(row, T, "paid_at")?,
        }),
    };
    let comune = text(row, T, "comune")?;
    Ok(RequestRecord {
        id: text(row, T, "id")?,
        comune: ComuneCode::parse(&comune).map_err(|_| corrupt("comune"))?,
        kind: kind_of(int(row, T, "kind")?).ok_or(corrupt("kind"))?,
        parts,
        holder: cf("holder")?,
        requester: cf("requester")?,
        email: opt_text(row, T, "email")?,
        usage: parse_usage(&text(row, T, "usage")?).map_err(|_| corrupt("usage"))?,
        channel: Channel::from_code(&text(row, T, "channel")?).ok_or(corrupt("channel"))?,
        state: RequestState::from_code(&text(row, T, "state")?).ok_or(corrupt("state"))?,
        refusal: opt_text(row, T, "refusal")?,
        certificate_id: opt_text(row, T, "certificate_id")?,
        payment,
        created_by: text(row, T, "created_by")?,
        created_at: time_at(row, T, "created_at")?,
        updated_at: time_at(row, T, "updated_at")?,
    })
}
