//! Taking an issued certificate out of force: revocation (with a reason
//! and the date) and supersession (by a later certificate of the same
//! holder). One call, [`withdraw`], for the command line and the staff
//! pages alike: it checks the transition, changes the status and writes
//! the audit entry in one transaction, and refuses what may not happen
//! — a second revocation above all — with a message that says why.
//!
//! The audit entry names the certificate and, for a supersession, its
//! replacement by number; the reason is stored on the certificate, not in
//! the audit chain, because staff write it freely and it may name people.
//!
//! ```no_run
//! # async fn example(store: store::Store) -> Result<(), issuer::withdraw::WithdrawError> {
//! use issuer::withdraw::{Withdrawal, withdraw};
//!
//! let comune = seal::ComuneCode::parse("999001").expect("a code");
//! let number = seal::CertificateNumber::parse("2026/000123").expect("a number");
//! let reason = "dati anagrafici errati".to_owned();
//! let record = withdraw(&store, comune, number, Withdrawal::Revoke { reason }, "cli",
//!     time::OffsetDateTime::now_utc()).await?;
//! assert_eq!(record.status, store::model::CertificateStatus::Revoked);
//! # Ok(()) }
//! ```

use seal::{CertificateNumber, ComuneCode};
use store::model::{CertificateRecord, CertificateStatus};
use store::{AuditEntry, StatusChange, Store, StoreError};
use time::OffsetDateTime;

/// The longest revocation reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// How a certificate leaves force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withdrawal {
    /// Revoked, for this reason (recorded, and shown by the verification
    /// page).
    Revoke {
        /// Why, in the words of the office.
        reason: String,
    },
    /// Superseded by a later certificate of the same holder.
    Supersede {
        /// The certificate that replaces it.
        by: CertificateNumber,
    },
}

/// Why a certificate was not withdrawn. The message is what the operator
/// reads.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawError {
    /// No certificate with this number in the comune's registry.
    #[error("nessun certificato n. {0} nel registro del Comune")]
    NotFound(CertificateNumber),
    /// It was revoked already: a second revocation is refused, so the
    /// first reason and date stand.
    #[error(
        "il certificato n. {number} è già revocato{}: la revoca non si ripete e la prima motivazione resta",
        .at.map(|at| format!(" dal {}", seal::rome::date_text(at))).unwrap_or_default()
    )]
    AlreadyRevoked {
        /// The certificate.
        number: CertificateNumber,
        /// When it was revoked.
        at: Option<OffsetDateTime>,
    },
    /// It was superseded already.
    #[error("il certificato n. {0} è già sostituito da un certificato successivo")]
    AlreadySuperseded(CertificateNumber),
    /// Only an issued (or expired) certificate can be withdrawn.
    #[error(
        "il certificato n. {number} non è stato rilasciato (stato: {}): si revoca o si sostituisce solo un certificato rilasciato",
        .status.italian()
    )]
    NotIssued {
        /// The certificate.
        number: CertificateNumber,
        /// Its status.
        status: CertificateStatus,
    },
    /// The reason is empty or too long.
    #[error("indicare il motivo della revoca (al massimo {MAX_REASON_CHARS} caratteri)")]
    BadReason,
    /// The replacement is the certificate itself.
    #[error("un certificato non può sostituire se stesso")]
    SelfReplacement,
    /// The replacement is not in the registry.
    #[error("il certificato sostitutivo n. {0} non è nel registro del Comune")]
    ReplacementNotFound(CertificateNumber),
    /// The replacement is not an issued certificate of the same holder.
    #[error(
        "il certificato n. {0} non può sostituirlo: deve essere rilasciato, in corso di validità e dello stesso intestatario"
    )]
    UnfitReplacement(CertificateNumber),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Takes the certificate `number` of `comune` out of force as `withdrawal`
/// says, on behalf of `actor` (a staff user, `cli`), at `now`; returns the
/// certificate as it now stands.
pub async fn withdraw(
    store: &Store,
    comune: ComuneCode,
    number: CertificateNumber,
    withdrawal: Withdrawal,
    actor: &str,
    now: OffsetDateTime,
) -> Result<CertificateRecord, WithdrawError> {
    withdraw_from(store, comune, number, withdrawal, actor, None, now).await
}

/// As [`withdraw`], noting in the audit entry where the actor connected
/// from (`origin`: a staff member's address).
#[tracing::instrument(skip_all, fields(comune = %comune, number = %number))]
pub async fn withdraw_from(
    store: &Store,
    comune: ComuneCode,
    number: CertificateNumber,
    withdrawal: Withdrawal,
    actor: &str,
    origin: Option<&str>,
    now: OffsetDateTime,
) -> Result<CertificateRecord, WithdrawError> {
    let record = store
        .certificate_by_number(comune, number)
        .await?
        .ok_or(WithdrawError::NotFound(number))?;
    refuse_from(&record)?;
    let (change, event, detail) = match withdrawal {
        Withdrawal::Revoke { reason } => {
            let reason = reason.trim().to_owned();
            if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
                return Err(WithdrawError::BadReason);
            }
            (
                StatusChange::Revoke { reason, at: now },
                "certificate.revoked",
                String::new(),
            )
        }
        Withdrawal::Supersede { by } => {
            if by == number {
                return Err(WithdrawError::SelfReplacement);
            }
            let replacement = store
                .certificate_by_number(comune, by)
                .await?
                .ok_or(WithdrawError::ReplacementNotFound(by))?;
            if replacement.status != CertificateStatus::Issued
                || replacement.holder != record.holder
            {
                return Err(WithdrawError::UnfitReplacement(by));
            }
            (
                StatusChange::Supersede,
                "certificate.superseded",
                format!("by={by}"),
            )
        }
    };
    let detail = match (origin, detail.is_empty()) {
        (Some(origin), true) => format!("from={origin}"),
        (Some(origin), false) => format!("{detail} from={origin}"),
        (None, _) => detail,
    };
    let entry = AuditEntry {
        at: now,
        event,
        subject: &record.id,
        actor,
        detail: &detail,
    };
    match store
        .change_certificate_status(comune, &record.id, change, &entry)
        .await
    {
        Ok(changed) => {
            tracing::info!(
                event,
                status = changed.status.code(),
                "certificate withdrawn"
            );
            Ok(changed)
        }
        // Someone else withdrew it between the read and the write.
        Err(StoreError::StatusTransition { .. }) => {
            let now = store
                .certificate_by_number(comune, number)
                .await?
                .ok_or(WithdrawError::NotFound(number))?;
            refuse_from(&now)?;
            Err(WithdrawError::NotIssued {
                number,
                status: now.status,
            })
        }
        Err(error) => Err(error.into()),
    }
}

/// The refusal a certificate's status calls for, if any.
fn refuse_from(record: &CertificateRecord) -> Result<(), WithdrawError> {
    match record.status {
        CertificateStatus::Issued | CertificateStatus::Expired => Ok(()),
        CertificateStatus::Revoked => Err(WithdrawError::AlreadyRevoked {
            number: record.number,
            at: record.revoked_at,
        }),
        CertificateStatus::Superseded => Err(WithdrawError::AlreadySuperseded(record.number)),
        status @ (CertificateStatus::Pending | CertificateStatus::Void) => {
            Err(WithdrawError::NotIssued {
                number: record.number,
                status,
            })
        }
    }
}
