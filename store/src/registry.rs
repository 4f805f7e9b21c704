//! The registry of issued certificates: numbering, storage, status.
//!
//! Numbers are per comune per year and gapless: the next number is taken by
//! updating the comune's counter row for the year inside the transaction
//! that inserts the certificate, and the caller's `prepare` runs inside
//! that same transaction with the number in hand. On PostgreSQL the update
//! locks the counter row, so other server processes wait for the commit
//! (or the rollback) and then take the next number; on SQLite the
//! transaction holds the database's write lock from its start. A `prepare`
//! that fails rolls everything back: the number is not consumed. A number
//! once committed is never reused: a certificate that is never issued is
//! marked void, not deleted.

use std::fmt;

use seal::digest::DocumentDigest;
use seal::usage::{parse_usage, usage_text};
use seal::{CertificateKind, CertificateNumber, Clause, CodiceFiscale, ComuneCode, Kid, Usage};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::audit::{AuditEntry, append_audit};
use super::{Store, StoreError, bytes, int, opt_text, opt_time_at, text, time_at, unix};
use crate::model::{CertificateRecord, CertificateStatus, RequestState};

/// The most certificates one listing returns.
pub const MAX_LIST_RESULTS: u32 = 1000;

/// A released certificate, as open data counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// Its kind.
    pub kind: CertificateKind,
    /// In bollo (`true`) or exempt.
    pub in_bollo: bool,
    /// When it was released.
    pub issued_at: OffsetDateTime,
}

/// What issuance hands the registry for a new certificate, once it knows
/// the certificate's number and status-list index (both are in the seal and
/// on the PDF, so they are fixed before either is made).
#[derive(Clone)]
pub struct NewCertificate {
    /// Kind.
    pub kind: CertificateKind,
    /// Holder's fiscal code.
    pub holder: CodiceFiscale,
    /// Use declared: `bollo` or `esente:<id>`.
    pub usage: Usage,
    /// The art. 40 clause printed.
    pub clause: Clause,
    /// [`CertificateStatus::Pending`] (waiting for payment) or
    /// [`CertificateStatus::Issued`] (exempt, released at once).
    pub status: CertificateStatus,
    /// When it was prepared.
    pub created_at: OffsetDateTime,
    /// When it was issued; required when `status` is issued.
    pub issued_at: Option<OffsetDateTime>,
    /// End of legal validity, if limited.
    pub expires_at: Option<OffsetDateTime>,
    /// The seal's COSE bytes.
    pub seal: Vec<u8>,
    /// The signer that sealed it.
    pub kid: Kid,
    /// The final PDF. The registry computes and stores its SHA-256.
    pub pdf: Vec<u8>,
    /// Who issued it: a staff user, an API key name, `cli`.
    pub issued_by: String,
    /// The paper marca da bollo that paid it, at the counter: its 14-digit
    /// identifier, used once in the comune ([`StoreError::MarcaUsed`]).
    pub marca_id: Option<String>,
    /// Where the issuing request came from (the staff member's address), for
    /// the audit entry.
    pub origin: Option<String>,
}

impl fmt::Debug for NewCertificate {
    // The PDF and seal are large; the holder's Debug shows only its shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCertificate")
            .field("kind", &self.kind)
            .field("holder", &self.holder)
            .field("status", &self.status)
            .field("seal_len", &self.seal.len())
            .field("pdf_len", &self.pdf.len())
            .finish_non_exhaustive()
    }
}

/// Why a certificate could not be registered. In every case nothing was
/// written and no number was used.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError<E> {
    /// The caller's `prepare` failed.
    #[error("preparazione del certificato non riuscita: {0}")]
    Prepare(E),
    /// `prepare` returned a certificate the registry cannot take.
    #[error("certificato preparato non valido: {0}")]
    Invalid(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A change of a certificate's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    /// Pending → issued (payment confirmed). Repeating it is harmless.
    Issue {
        /// When it was released.
        at: OffsetDateTime,
    },
    /// Issued or expired → revoked. Repeating it keeps the first reason.
    Revoke {
        /// Why, as recorded.
        reason: String,
        /// When.
        at: OffsetDateTime,
    },
    /// Pending → void (never paid, cancelled). Repeating it is harmless.
    Void,
    /// Issued or expired → superseded by a later certificate.
    Supersede,
    /// Issued → expired (past its legal validity).
    Expire,
}

impl StatusChange {
    /// The status the change leads to.
    pub fn target(&self) -> CertificateStatus {
        match self {
            Self::Issue { .. } => CertificateStatus::Issued,
            Self::Revoke { .. } => CertificateStatus::Revoked,
            Self::Void => CertificateStatus::Void,
            Self::Supersede => CertificateStatus::Superseded,
            Self::Expire => CertificateStatus::Expired,
        }
    }

    /// Whether the change may start from `status`.
    fn allowed_from(&self, status: CertificateStatus) -> bool {
        use CertificateStatus as S;
        match self {
            Self::Issue { .. } | Self::Void => status == S::Pending,
            Self::Revoke { .. } | Self::Supersede => matches!(status, S::Issued | S::Expired),
            Self::Expire => status == S::Issued,
        }
    }
}

/// Which certificates a listing returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFilter {
    /// Only those in this status.
    pub status: Option<CertificateStatus>,
    /// Only those of this kind.
    pub kind: Option<CertificateKind>,
    /// Only those of this holder.
    pub holder: Option<CodiceFiscale>,
    /// At most this many (capped at [`MAX_LIST_RESULTS`]).
    pub limit: u32,
}

impl Default for CertificateFilter {
    fn default() -> Self {
        Self {
            status: None,
            kind: None,
            holder: None,
            limit: 100,
        }
    }
}

/// The columns `certificate_from_row` reads (everything but the PDF).
macro_rules! certificate_columns {
    () => {
        "SELECT id, year, sequence, kind, holder, usage, clause, status, created_at, \
         issued_at, expires_at, seal, kid, pdf_sha256, status_index, issued_by, \
         revocation_reason, revoked_at, bollo_reference FROM certificates "
    };
}

impl Store {
    /// Registers a new certificate of `comune` in `year`: takes the next
    /// number and status-list index, calls `prepare` with them, and stores
    /// what it returns, all in one transaction (see the module's doc).
    ///
    /// `prepare` runs while the comune's numbering is locked, so other
    /// registrations of the comune wait for it: it should render and seal,
    /// not wait on the network. If it fails, nothing is written and the
    /// number stays free.
    pub async fn register_certificate<F, E>(
        &self,
        comune: ComuneCode,
        year: u16,
        prepare: F,
    ) -> Result<CertificateRecord, RegisterError<E>>
    where
        F: FnOnce(CertificateNumber, u32) -> Result<NewCertificate, E> + Send,
        E: Send,
    {
        self.register(comune, year, prepare, None).await
    }

    /// As [`Store::register_certificate`], for the request `request_id`:
    /// in the same transaction, the request moves from `requested` to
    /// `prepared` (or `issued`, for a certificate registered as issued)
    /// and points at the certificate. A request that is no longer
    /// `requested` (another process prepared it) is refused with
    /// [`RegisterError::Invalid`] and nothing is written.
    pub async fn register_certificate_for_request<F, E>(
        &self,
        comune: ComuneCode,
        year: u16,
        request_id: &str,
        prepare: F,
    ) -> Result<CertificateRecord, RegisterError<E>>
    where
        F: FnOnce(CertificateNumber, u32) -> Result<NewCertificate, E> + Send,
        E: Send,
    {
        self.register(comune, year, prepare, Some(request_id)).await
    }

    async fn register<F, E>(
        &self,
        comune: ComuneCode,
        year: u16,
        prepare: F,
        request_id: Option<&str>,
    ) -> Result<CertificateRecord, RegisterError<E>>
    where
        F: FnOnce(CertificateNumber, u32) -> Result<NewCertificate, E> + Send,
        E: Send,
    {
        CertificateNumber::new(year, 1).map_err(|_| StoreError::OutOfRange("anno"))?;
        self.require_comune(comune).await?;
        let mut tx = self.begin_write().await?;
        let sequence: i64 = sqlx::query(
            "INSERT INTO certificate_counters (comune, year, last_sequence) VALUES ($1, $2, 1) \
             ON CONFLICT (comune, year) \
             DO UPDATE SET last_sequence = certificate_counters.last_sequence + 1 \
             RETURNING last_sequence",
        )
        .bind(comune.as_str().to_owned())
        .bind(i64::from(year))
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)?
        .try_get("last_sequence")
        .map_err(StoreError::from)?;
        let number = u32::try_from(sequence)
            .ok()
            .and_then(|sequence| CertificateNumber::new(year, sequence).ok())
            .ok_or(StoreError::NumberingExhausted { year })?;
        let index: i64 = sqlx::query(
            "INSERT INTO status_list_counters (comune, next_index) VALUES ($1, 1) \
             ON CONFLICT (comune) \
             DO UPDATE SET next_index = status_list_counters.next_index + 1 \
             RETURNING next_index - 1 AS taken",
        )
        .bind(comune.as_str().to_owned())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)?
        .try_get("taken")
        .map_err(StoreError::from)?;
        let status_index =
            u32::try_from(index).map_err(|_| StoreError::OutOfRange("indice della lista"))?;

        let new = match prepare(number, status_index) {
            Ok(new) => new,
            Err(error) => {
                tx.rollback().await.map_err(StoreError::from)?;
                return Err(RegisterError::Prepare(error));
            }
        };
        let issued_at = match (new.status, new.issued_at) {
            (CertificateStatus::Pending, _) => None,
            (CertificateStatus::Issued, Some(at)) => Some(at),
            (CertificateStatus::Issued, None) => {
                return Err(RegisterError::Invalid("manca la data di rilascio"));
            }
            _ => {
                return Err(RegisterError::Invalid(
                    "un nuovo certificato è in attesa o rilasciato",
                ));
            }
        };
        let record = CertificateRecord {
            id: random_id()?,
            comune,
            number,
            kind: new.kind,
            holder: new.holder,
            usage: new.usage,
            clause: new.clause,
            status: new.status,
            created_at: new.created_at,
            issued_at,
            expires_at: new.expires_at,
            seal: new.seal,
            kid: new.kid,
            pdf_sha256: DocumentDigest::of(&new.pdf),
            status_index,
            issued_by: new.issued_by,
            revocation_reason: None,
            revoked_at: None,
            bollo_reference: None,
        };
        sqlx::query(
            "INSERT INTO certificates (comune, id, year, sequence, number, kind, holder, usage, \
             clause, status, created_at, issued_at, expires_at, seal, kid, pdf, pdf_sha256, \
             status_index, issued_by, marca_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20)",
        )
        .bind(comune.as_str().to_owned())
        .bind(record.id.clone())
        .bind(i64::from(year))
        .bind(sequence)
        .bind(number.to_string())
        .bind(i64::from(record.kind.code()))
        .bind(record.holder.as_str().to_owned())
        .bind(usage_text(&record.usage))
        .bind(clause_code(record.clause))
        .bind(record.status.code())
        .bind(unix(record.created_at))
        .bind(record.issued_at.map(unix))
        .bind(record.expires_at.map(unix))
        .bind(record.seal.clone())
        .bind(record.kid.to_hex())
        .bind(new.pdf)
        .bind(record.pdf_sha256.to_hex())
        .bind(i64::from(status_index))
        .bind(record.issued_by.clone())
        .bind(new.marca_id.clone())
        .execute(&mut *tx)
        .await
        .map_err(|error| match (error, &new.marca_id) {
            // The one unique key a new certificate can meet besides its
            // fresh number and id: the stamp, used already.
            (sqlx::Error::Database(error), Some(marca)) if error.is_unique_violation() => {
                StoreError::MarcaUsed(marca.clone())
            }
            (error, _) => StoreError::from(error),
        })?;
        let origin = new
            .origin
            .as_deref()
            .map(|origin| format!(" from={origin}"))
            .unwrap_or_default();
        if let Some(request_id) = request_id {
            let state = match record.status {
                CertificateStatus::Issued => RequestState::Issued,
                _ => RequestState::Prepared,
            };
            let linked = sqlx::query(
                "UPDATE requests SET state = $3, certificate_id = $4, updated_at = $5 \
                 WHERE comune = $1 AND id = $2 AND state = 'requested'",
            )
            .bind(comune.as_str().to_owned())
            .bind(request_id.to_owned())
            .bind(state.code())
            .bind(record.id.clone())
            .bind(unix(record.created_at))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            if linked.rows_affected() != 1 {
                tx.rollback().await.map_err(StoreError::from)?;
                return Err(RegisterError::Invalid(
                    "la richiesta non è più da preparare",
                ));
            }
            if state == RequestState::Issued {
                // Issued at once (exempt): the citizen is told, from the
                // outbox, in this same transaction.
                super::outbox::enqueue(
                    &mut tx,
                    comune,
                    request_id,
                    super::outbox::NotificationEvent::CertificateReady,
                    record.created_at,
                )
                .await
                .map_err(RegisterError::Store)?;
            }
            append_audit(
                &mut tx,
                comune,
                &AuditEntry {
                    at: record.created_at,
                    event: "certificate.prepared",
                    subject: request_id,
                    actor: &record.issued_by,
                    detail: &format!(
                        "certificate={} status={}{origin}",
                        record.id,
                        record.status.code()
                    ),
                },
            )
            .await?;
        }
        if request_id.is_none() {
            // Issued directly (the counter, the command line): the entry
            // a request's would otherwise be.
            append_audit(
                &mut tx,
                comune,
                &AuditEntry {
                    at: record.created_at,
                    event: if record.status == CertificateStatus::Issued {
                        "certificate.issued"
                    } else {
                        "certificate.prepared"
                    },
                    subject: &record.id,
                    actor: &record.issued_by,
                    detail: &format!(
                        "number={} kind={}{}{origin}",
                        record.number,
                        record.kind.code(),
                        if new.marca_id.is_some() {
                            " bollo=marca"
                        } else {
                            ""
                        },
                    ),
                },
            )
            .await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(record)
    }

    /// Every certificate the comune released (issued, and whatever became
    /// of it after: revoked, superseded, expired), with what open data
    /// counts: its kind, whether it went in bollo, when it was released.
    /// Certificates never released (pending, void) are not among them.
    pub async fn released_certificates(
        &self,
        comune: ComuneCode,
    ) -> Result<Vec<Released>, StoreError> {
        const T: &str = "certificates";
        let rows = sqlx::query(
            "SELECT kind, usage, issued_at FROM certificates \
             WHERE comune = $1 AND issued_at IS NOT NULL AND status NOT IN ('pending', 'void') \
             ORDER BY issued_at",
        )
        .bind(comune.as_str().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let corrupt = |column| StoreError::Corrupt { table: T, column };
                let kind = u16::try_from(int(row, T, "kind")?)
                    .ok()
                    .and_then(CertificateKind::from_code)
                    .ok_or(corrupt("kind"))?;
                let usage = parse_usage(&text(row, T, "usage")?).map_err(|_| corrupt("usage"))?;
                Ok(Released {
                    kind,
                    in_bollo: matches!(usage.stamp, seal::Stamp::Bollo),
                    issued_at: time_at(row, T, "issued_at")?,
                })
            })
            .collect()
    }

    /// The certificate with this id.
    pub async fn certificate(
        &self,
        comune: ComuneCode,
        id: &str,
    ) -> Result<Option<CertificateRecord>, StoreError> {
        sqlx::query(concat!(
            certificate_columns!(),
            "WHERE comune = $1 AND id = $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| certificate_from_row(comune, &row))
        .transpose()
    }

    /// The certificate with this number.
    pub async fn certificate_by_number(
        &self,
        comune: ComuneCode,
        number: CertificateNumber,
    ) -> Result<Option<CertificateRecord>, StoreError> {
        sqlx::query(concat!(
            certificate_columns!(),
            "WHERE comune = $1 AND year = $2 AND sequence = $3"
        ))
        .bind(comune.as_str().to_owned())
        .bind(i64::from(number.year()))
        .bind(i64::from(number.sequence()))
        .fetch_optional(&self.pool)
        .await?
        .map(|row| certificate_from_row(comune, &row))
        .transpose()
    }

    /// Every numbered certificate of the comune as its status-list index
    /// and status, for publishing the status list: no personal data read.
    pub async fn certificate_statuses(
        &self,
        comune: ComuneCode,
    ) -> Result<Vec<(u32, CertificateStatus)>, StoreError> {
        const T: &str = "certificates";
        let corrupt = |column| StoreError::Corrupt { table: T, column };
        sqlx::query("SELECT status_index, status FROM certificates WHERE comune = $1")
            .bind(comune.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let index = u32::try_from(int(row, T, "status_index")?)
                    .map_err(|_| corrupt("status_index"))?;
                let status = CertificateStatus::from_code(&text(row, T, "status")?)
                    .ok_or(corrupt("status"))?;
                Ok((index, status))
            })
            .collect()
    }

    /// The comune's certificates that pass `filter`, newest first.
    pub async fn list_certificates(
        &self,
        comune: ComuneCode,
        filter: &CertificateFilter,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        sqlx::query(concat!(
            certificate_columns!(),
            "WHERE comune = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR kind = $3) \
             AND ($4 IS NULL OR holder = $4) \
             ORDER BY created_at DESC, year DESC, sequence DESC LIMIT $5"
        ))
        .bind(comune.as_str().to_owned())
        .bind(filter.status.map(CertificateStatus::code))
        .bind(filter.kind.map(|kind| i64::from(kind.code())))
        .bind(filter.holder.as_ref().map(|cf| cf.as_str().to_owned()))
        .bind(i64::from(filter.limit.min(MAX_LIST_RESULTS)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| certificate_from_row(comune, row))
        .collect()
    }

    /// Changes a certificate's status if its current status allows it
    /// ([`StatusChange`] says from which), and returns the record as it
    /// now stands. Asking again for the status it already has changes
    /// nothing and succeeds.
    pub async fn set_certificate_status(
        &self,
        comune: ComuneCode,
        id: &str,
        change: StatusChange,
    ) -> Result<CertificateRecord, StoreError> {
        let target = change.target();
        // Compare-and-set on the status read: a concurrent change makes the
        // update miss, and the loop looks again.
        for _ in 0..3 {
            let current = self
                .certificate(comune, id)
                .await?
                .ok_or(StoreError::CertificateNotFound)?;
            if current.status == target {
                return Ok(current);
            }
            if !change.allowed_from(current.status) {
                return Err(StoreError::StatusTransition {
                    from: current.status,
                    to: target,
                });
            }
            let updated = status_update(comune, id, &change, current.status)
                .execute(&self.pool)
                .await?;
            if updated.rows_affected() == 1 {
                return self
                    .certificate(comune, id)
                    .await?
                    .ok_or(StoreError::CertificateNotFound);
            }
        }
        let current = self
            .certificate(comune, id)
            .await?
            .ok_or(StoreError::CertificateNotFound)?;
        Err(StoreError::StatusTransition {
            from: current.status,
            to: target,
        })
    }

    /// Changes a certificate's status and appends `audit` to the comune's
    /// chain in one transaction, strictly: unlike
    /// [`Store::set_certificate_status`], a change to the status the
    /// certificate already has is refused ([`StoreError::StatusTransition`]),
    /// so a second revocation never passes silently (nor overwrites the
    /// first reason). Returns the record as it now stands.
    pub async fn change_certificate_status(
        &self,
        comune: ComuneCode,
        id: &str,
        change: StatusChange,
        audit: &AuditEntry<'_>,
    ) -> Result<CertificateRecord, StoreError> {
        const T: &str = "certificates";
        let target = change.target();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT status FROM certificates WHERE comune = $1 AND id = $2")
            .bind(comune.as_str().to_owned())
            .bind(id.to_owned())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::CertificateNotFound)?;
        let from =
            CertificateStatus::from_code(&text(&row, T, "status")?).ok_or(StoreError::Corrupt {
                table: T,
                column: "status",
            })?;
        if !change.allowed_from(from) {
            tx.rollback().await?;
            return Err(StoreError::StatusTransition { from, to: target });
        }
        let updated = status_update(comune, id, &change, from)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() != 1 {
            // Another writer changed it first (PostgreSQL re-checks the
            // status after waiting for its row lock): say what it is now.
            tx.rollback().await?;
            let now = self
                .certificate(comune, id)
                .await?
                .ok_or(StoreError::CertificateNotFound)?;
            return Err(StoreError::StatusTransition {
                from: now.status,
                to: target,
            });
        }
        append_audit(&mut tx, comune, audit).await?;
        if matches!(
            change,
            StatusChange::Revoke { .. } | StatusChange::Supersede
        ) {
            // The citizen who asked for it online is told, from the
            // outbox, in this same transaction.
            let request =
                sqlx::query("SELECT id FROM requests WHERE comune = $1 AND certificate_id = $2")
                    .bind(comune.as_str().to_owned())
                    .bind(id.to_owned())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(row) = request {
                let request_id = text(&row, "requests", "id")?;
                super::outbox::enqueue(
                    &mut tx,
                    comune,
                    &request_id,
                    super::outbox::NotificationEvent::CertificateWithdrawn,
                    audit.at,
                )
                .await?;
            }
        }
        tx.commit().await?;
        self.certificate(comune, id)
            .await?
            .ok_or(StoreError::CertificateNotFound)
    }

    /// The certificate's PDF, only once it has been issued (also when since
    /// expired, revoked or superseded); a pending or void certificate's PDF
    /// is never handed out ([`StoreError::PdfNotAvailable`]).
    pub async fn certificate_pdf(
        &self,
        comune: ComuneCode,
        id: &str,
    ) -> Result<Vec<u8>, StoreError> {
        const T: &str = "certificates";
        let row = sqlx::query(
            "SELECT status, CASE WHEN status IN ('issued', 'expired', 'revoked', 'superseded') \
             THEN pdf END AS pdf FROM certificates WHERE comune = $1 AND id = $2",
        )
        .bind(comune.as_str().to_owned())
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::CertificateNotFound)?;
        let status =
            CertificateStatus::from_code(&text(&row, T, "status")?).ok_or(StoreError::Corrupt {
                table: T,
                column: "status",
            })?;
        if !status.pdf_available() {
            return Err(StoreError::PdfNotAvailable { status });
        }
        let pdf: Option<Vec<u8>> = row.try_get("pdf").map_err(|_| StoreError::Corrupt {
            table: T,
            column: "pdf",
        })?;
        pdf.ok_or(StoreError::Corrupt {
            table: T,
            column: "pdf",
        })
    }
}

/// The clause's code in the database.
fn clause_code(clause: Clause) -> &'static str {
    match clause {
        Clause::Standard => "standard",
        Clause::Estero => "estero",
        Clause::Immigrazione => "immigrazione",
        Clause::Giudiziario => "giudiziario",
        Clause::Amministrazione => "amministrazione",
    }
}

fn clause_from_code(code: &str) -> Option<Clause> {
    [
        Clause::Standard,
        Clause::Estero,
        Clause::Immigrazione,
        Clause::Giudiziario,
        Clause::Amministrazione,
    ]
    .into_iter()
    .find(|clause| clause_code(*clause) == code)
}

/// A new opaque certificate id: 128 random bits in hex, so ids cannot be
/// guessed from one another.
pub(super) fn random_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|_| StoreError::Randomness)?;
    Ok(hex::encode(bytes))
}

/// The compare-and-set that moves a certificate from `from` to the status
/// `change` leads to, with the times and reason it records.
fn status_update<'q>(
    comune: ComuneCode,
    id: &str,
    change: &StatusChange,
    from: CertificateStatus,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let (issued_at, reason, revoked_at) = match change {
        StatusChange::Issue { at } => (Some(unix(*at)), None, None),
        StatusChange::Revoke { reason, at } => (None, Some(reason.clone()), Some(unix(*at))),
        StatusChange::Void | StatusChange::Supersede | StatusChange::Expire => (None, None, None),
    };
    sqlx::query(
        "UPDATE certificates SET status = $3, issued_at = COALESCE($4, issued_at), \
         revocation_reason = COALESCE($5, revocation_reason), \
         revoked_at = COALESCE($6, revoked_at) \
         WHERE comune = $1 AND id = $2 AND status = $7",
    )
    .bind(comune.as_str().to_owned())
    .bind(id.to_owned())
    .bind(change.target().code())
    .bind(issued_at)
    .bind(reason)
    .bind(revoked_at)
    .bind(from.code())
}

fn certificate_from_row(comune: ComuneCode, row: &AnyRow) -> Result<CertificateRecord, StoreError> {
    const T: &str = "certificates";
    let corrupt = |column| StoreError::Corrupt { table: T, column };
    let year = u16::try_from(int(row, T, "year")?).map_err(|_| corrupt("year"))?;
    let sequence = u32::try_from(int(row, T, "sequence")?).map_err(|_| corrupt("sequence"))?;
    Ok(CertificateRecord {
        id: text(row, T, "id")?,
        comune,
        number: CertificateNumber::new(year, sequence).map_err(|_| corrupt("sequence"))?,
        kind: u16::try_from(int(row, T, "kind")?)
            .ok()
            .and_then(CertificateKind::from_code)
            .ok_or(corrupt("kind"))?,
        holder: CodiceFiscale::parse(&text(row, T, "holder")?).map_err(|_| corrupt("holder"))?,
        usage: parse_usage(&text(row, T, "usage")?).map_err(|_| corrupt("usage"))?,
        clause: clause_from_code(&text(row, T, "clause")?).ok_or(corrupt("clause"))?,
        status: CertificateStatus::from_code(&text(row, T, "status")?).ok_or(corrupt("status"))?,
        created_at: time_at(row, T, "created_at")?,
        issued_at: opt_time_at(row, T, "issued_at")?,
        expires_at: opt_time_at(row, T, "expires_at")?,
        seal: bytes(row, T, "seal")?,
        kid: hex::decode(text(row, T, "kid")?)
            .ok()
            .and_then(|kid| Kid::from_slice(&kid))
            .ok_or(corrupt("kid"))?,
        pdf_sha256: DocumentDigest::parse_hex(&text(row, T, "pdf_sha256")?)
            .map_err(|_| corrupt("pdf_sha256"))?,
        status_index: u32::try_from(int(row, T, "status_index")?)
            .map_err(|_| corrupt("status_index"))?,
        issued_by: text(row, T, "issued_by")?,
        revocation_reason: opt_text(row, T, "revocation_reason")?,
        revoked_at: opt_time_at(row, T, "revoked_at")?,
        bollo_reference: opt_text(row, T, "bollo_reference")?,
    })
}
