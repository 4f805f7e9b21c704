//! A certificate's status: what the comune's registry says of it, reaching
//! the verifier through [`StatusSource`], combined with the seal's own
//! expiry into the [`Status`] a report shows.
//!
//! The verifier holds no database. The server implements [`StatusSource`]
//! over its registry; offline verifiers use a published status list
//! ([`crate::StatusLists`]); with neither, [`NoStatus`] answers
//! [`RegistryStatus::Unknown`] and the report says the status could not
//! be checked.

use std::future::Future;
use std::pin::Pin;

use seal::{CertificateNumber, ComuneCode, Kid};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

/// What a status source is asked: which certificate, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuery {
    /// The issuing comune (the seal's `iss`).
    pub comune: ComuneCode,
    /// The certificate number (the seal's `cti`).
    pub number: CertificateNumber,
    /// The certificate's index in the comune's status list (claim -6).
    pub index: u32,
    /// The seal's signer.
    pub kid: Kid,
    /// The time of the verification.
    pub at: OffsetDateTime,
}

/// What the registry says of a certificate. Expiry is not here: it comes
/// from the seal's `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryStatus {
    /// Issued and not withdrawn.
    Valid,
    /// Revoked by the comune; also the answer for a number that was never
    /// issued (void), which must never read as valid.
    Revoked {
        /// Why, when the source knows.
        reason: Option<String>,
        /// When, when the source knows.
        at: Option<OffsetDateTime>,
    },
    /// Replaced by a later certificate.
    Superseded,
    /// Prepared but not yet released (its stamp duty not yet paid).
    Pending,
    /// The source cannot say.
    Unknown(UnknownReason),
}

/// Why a certificate's status is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownReason {
    /// No status source was given (offline, without a status list).
    NoSource,
    /// No status list of the certificate's comune is loaded.
    NoList,
    /// The comune's status list has expired; a newer one is needed.
    ListExpired,
    /// The certificate's index lies beyond the list.
    IndexOutOfRange,
    /// The list holds a value this verifier does not know; it is not valid.
    UnrecognisedValue(u8),
    /// The source did not answer (registry unreachable, or a source that
    /// needs waiting used where only an immediate answer is possible).
    Unavailable(String),
}

impl UnknownReason {
    /// A stable machine code, `snake_case`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSource => "no_source",
            Self::NoList => "no_list",
            Self::ListExpired => "list_expired",
            Self::IndexOutOfRange => "index_out_of_range",
            Self::UnrecognisedValue(_) => "unrecognised_value",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// Why, in Italian.
    pub fn message(&self) -> String {
        match self {
            Self::NoSource => {
                "nessuna fonte sullo stato dei certificati: verifica senza rete e senza lista di stato"
                    .into()
            }
            Self::NoList => "nessuna lista di stato del comune disponibile".into(),
            Self::ListExpired => "la lista di stato del comune è scaduta".into(),
            Self::IndexOutOfRange => "il certificato non compare nella lista di stato".into(),
            Self::UnrecognisedValue(value) => {
                format!("la lista di stato riporta un valore sconosciuto ({value})")
            }
            Self::Unavailable(why) => format!("fonte dello stato non disponibile: {why}"),
        }
    }
}

impl Serialize for UnknownReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// The boxed future a [`StatusSource`] answers with.
pub type StatusFuture<'a> = Pin<Box<dyn Future<Output = RegistryStatus> + Send + 'a>>;

/// Where a certificate's status comes from: the server's registry, a
/// status list, or nothing.
///
/// Object safe (`&dyn StatusSource`) and async: the server answers from
/// its database; sources that hold everything in memory answer at once
/// with `Box::pin(std::future::ready(…))`. A source that fails answers
/// [`RegistryStatus::Unknown`] with [`UnknownReason::Unavailable`]:
/// verification never fails because the registry is down, it reports the
/// status as unknown.
///
/// ```
/// use verifier::{RegistryStatus, StatusFuture, StatusQuery, StatusSource};
/// struct AllRevoked;
/// impl StatusSource for AllRevoked {
///     fn status<'a>(&'a self, _query: &'a StatusQuery) -> StatusFuture<'a> {
///         Box::pin(std::future::ready(RegistryStatus::Revoked { reason: None, at: None }))
///     }
/// }
/// ```
pub trait StatusSource: Send + Sync {
    /// The registry status of the certificate `query` names.
    fn status<'a>(&'a self, query: &'a StatusQuery) -> StatusFuture<'a>;
}

/// No status source: every status is [`UnknownReason::NoSource`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStatus;

impl StatusSource for NoStatus {
    fn status<'a>(&'a self, _query: &'a StatusQuery) -> StatusFuture<'a> {
        Box::pin(std::future::ready(RegistryStatus::Unknown(
            UnknownReason::NoSource,
        )))
    }
}

/// The status of an authentic certificate, as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// In force: not expired, and the registry has not withdrawn it.
    Valid,
    /// Its legal validity ended.
    Expired {
        /// When (the seal's `exp`).
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Revoked (or its number void).
    Revoked {
        /// Why, when known.
        reason: Option<String>,
        /// When, when known.
        #[serde(with = "time::serde::rfc3339::option")]
        at: Option<OffsetDateTime>,
    },
    /// Replaced by a later certificate.
    Superseded,
    /// Not yet released.
    Pending,
    /// Not known: the seal is authentic, whether it is still in force
    /// could not be checked.
    Unknown {
        /// Why.
        reason: UnknownReason,
    },
}

impl Status {
    /// Combines the registry's word with the seal's expiry: a withdrawal
    /// (revoked, superseded, pending) outranks expiry, expiry outranks
    /// «valid» and «unknown».
    pub fn combine(
        registry: RegistryStatus,
        expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Self {
        let expired = expires_at.filter(|&at| at <= now);
        match (registry, expired) {
            (RegistryStatus::Revoked { reason, at }, _) => Self::Revoked { reason, at },
            (RegistryStatus::Superseded, _) => Self::Superseded,
            (RegistryStatus::Pending, _) => Self::Pending,
            (_, Some(at)) => Self::Expired { at },
            (RegistryStatus::Valid, None) => Self::Valid,
            (RegistryStatus::Unknown(reason), None) => Self::Unknown { reason },
        }
    }

    /// Whether the certificate is in force.
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid)
    }
}
