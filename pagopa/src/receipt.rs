//! The checks a receipt passes before it confirms a payment: only a
//! receipt for our notice, from our creditor position, positive, of the
//! exact amount, and (for a marca) bound to our document's digest moves a
//! certificate to issued. Pure functions: the caller fetched the receipt
//! and records the outcome.
//!
//! Only the position's debtor and creditor are compared, never the payer:
//! anyone may pay for someone else (a relative, a notary).

use seal::CodiceFiscale;
use seal::digest::DocumentDigest;

use super::client::{MarcaReceipt, PaymentReceipt};
use super::notice::NoticeNumber;

/// What the receipt of a payment must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The notice the payment was opened with.
    pub notice: NoticeNumber,
    /// The comune's fiscal code as creditor.
    pub creditor_fiscal_code: String,
    /// The debtor of the position (bollo virtuale only).
    pub debtor_fiscal_code: Option<CodiceFiscale>,
    /// The amount, in cents.
    pub amount_cents: i64,
    /// The SHA-256 of the document the stamp must bind (marca da bollo only).
    pub document_hash: Option<DocumentDigest>,
}

/// Why a receipt does not confirm the payment. Each is a forgery or a
/// platform fault: log it, keep the certificate pending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptRejected {
    /// The receipt is for another notice number or IUV.
    #[error("the receipt is for another notice")]
    UnknownNotice,
    /// The payment's outcome is not positive.
    #[error("the receipt's outcome is not positive")]
    NotPositive,
    /// The amount paid differs from the amount due.
    #[error("the receipt's amount is {got} cents, {expected} were due")]
    WrongAmount {
        /// Cents due.
        expected: i64,
        /// Cents on the receipt.
        got: i64,
    },
    /// The receipt names another creditor.
    #[error("the receipt names another creditor")]
    WrongCreditor,
    /// The receipt names another debtor.
    #[error("the receipt names another debtor")]
    WrongDebtor,
    /// The stamp is bound to another document (or to none we asked for).
    #[error("the stamp is bound to another document")]
    WrongDigest,
}

impl ReceiptRejected {
    /// A short stable code for audit entries, e.g. `wrong_amount`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownNotice => "unknown_notice",
            Self::NotPositive => "not_positive",
            Self::WrongAmount { .. } => "wrong_amount",
            Self::WrongCreditor => "wrong_creditor",
            Self::WrongDebtor => "wrong_debtor",
            Self::WrongDigest => "wrong_digest",
        }
    }
}

/// Checks a bollo virtuale receipt, in order: 1. the notice number and IUV
/// are ours; 2. the creditor is the comune; 3. the outcome is positive;
/// 4. the amount is exact; 5. the debtor is the position's, when known.
pub fn check_virtuale(
    expected: &Expected,
    receipt: &PaymentReceipt,
) -> Result<(), ReceiptRejected> {
    if receipt.notice_number != expected.notice.as_str() || receipt.iuv != expected.notice.iuv() {
        return Err(ReceiptRejected::UnknownNotice);
    }
    if receipt.creditor_fiscal_code != expected.creditor_fiscal_code {
        return Err(ReceiptRejected::WrongCreditor);
    }
    if !receipt.outcome_ok {
        return Err(ReceiptRejected::NotPositive);
    }
    if receipt.amount_cents != expected.amount_cents {
        return Err(ReceiptRejected::WrongAmount {
            expected: expected.amount_cents,
            got: receipt.amount_cents,
        });
    }
    if let Some(debtor) = &expected.debtor_fiscal_code
        && CodiceFiscale::parse(&receipt.debtor_fiscal_code).as_ref() != Ok(debtor)
    {
        return Err(ReceiptRejected::WrongDebtor);
    }
    Ok(())
}

/// Checks a marca da bollo digitale, in order: 1. it was fetched for our
/// notice; 2. the amount is exact; 3. it binds our document's digest (a
/// marca expected without a digest is refused: the stamp exists to bind
/// one).
pub fn check_marca(expected: &Expected, receipt: &MarcaReceipt) -> Result<(), ReceiptRejected> {
    if receipt.notice_number != expected.notice.as_str() {
        return Err(ReceiptRejected::UnknownNotice);
    }
    if receipt.amount_cents != expected.amount_cents {
        return Err(ReceiptRejected::WrongAmount {
            expected: expected.amount_cents,
            got: receipt.amount_cents,
        });
    }
    let bound = DocumentDigest::parse_base64(&receipt.digest).ok();
    match expected.document_hash {
        Some(hash) if Some(hash) == bound => Ok(()),
        _ => Err(ReceiptRejected::WrongDigest),
    }
}
