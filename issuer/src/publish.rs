//! What a comune publishes for those who check its certificates: the
//! registry as the verifier's status source ([`RegistrySource`]), online
//! verification against it ([`Verification::verify`]), and the lists
//! offline verifiers fetch — the status list (IETF Token Status List, CWT)
//! and the signed trust list — with the comune's CA certificate.
//!
//! The lists are built from the registry and the key store and kept in
//! memory for their `ttl`: a revocation reaches offline verifiers within
//! that time. The registry's statuses map to what a report says in one
//! place ([`registry_status`]) and to the status list's values in one other
//! ([`list_value`]).
//!
//! ```no_run
//! # async fn example(keys: keys::KeyStore, store: store::Store) -> Result<(), issuer::publish::PublishError> {
//! use issuer::publish::Verification;
//!
//! let verification = Verification::new(keys, store, "https://certificati.example.it");
//! let comune = seal::ComuneCode::parse("999001").expect("a code");
//! let status_list = verification.status_list(comune).await?;
//! let report = verification.verify(b"HTTPS://CERTIFICATI.EXAMPLE.IT/V#123".to_vec(), verifier::Limits::default()).await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use keys::{KeyError, KeyStore};
use seal::ComuneCode;
use store::model::{CertificateRecord, CertificateStatus};
use store::{Store, StoreError};
use time::OffsetDateTime;
use verifier::{
    Input, Limits, Outcome, RegistryStatus, Report, SignedTrustList, StatusFuture, StatusList,
    StatusListError, StatusQuery, StatusSource, Trust, TrustListEntry, TrustListError,
    UnknownReason, Verifier,
};

/// How long a published status list may be cached.
pub const STATUS_LIST_TTL: StdDuration = StdDuration::from_secs(300);

/// How long a published status list stays usable offline.
const STATUS_LIST_VALIDITY: time::Duration = time::Duration::days(1);

/// How long a published trust list may be cached.
pub const TRUST_LIST_TTL: StdDuration = StdDuration::from_secs(3600);

/// How long a published trust list stays usable offline.
const TRUST_LIST_VALIDITY: time::Duration = time::Duration::days(7);

/// How long the key store's trust is kept before it is read again (a
/// rotated key is trusted within this time).
const TRUST_RELOAD: StdDuration = StdDuration::from_secs(60);

/// Verification and the published lists of the comuni whose keys are here.
#[derive(Debug)]
pub struct Verification {
    keys: KeyStore,
    store: Store,
    base_url: String,
    trust: Mutex<Option<(Arc<Trust>, Instant)>>,
    status_lists: Mutex<BTreeMap<ComuneCode, Published>>,
    trust_lists: Mutex<BTreeMap<ComuneCode, Published>>,
}

/// A list as published, and when it was made.
#[derive(Debug, Clone)]
struct Published {
    bytes: Arc<[u8]>,
    made: Instant,
}

/// Why verification or a published list failed on our side.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The key store could not be read.
    #[error("chiavi: {0}")]
    Keys(#[from] KeyError),
    /// The registry could not be read.
    #[error("registro: {0}")]
    Store(#[from] StoreError),
    /// The status list could not be made.
    #[error("lista di stato: {0}")]
    StatusList(#[from] StatusListError),
    /// The trust list could not be made.
    #[error("elenco dei firmatari: {0}")]
    TrustList(#[from] TrustListError),
    /// The verification task did not finish.
    #[error("verifica interrotta: {0}")]
    Task(String),
}

impl Verification {
    /// Verification with the keys of `keys`, the registry of `store`, and
    /// lists published under `base_url`.
    pub fn new(keys: KeyStore, store: Store, base_url: &str) -> Self {
        Self {
            keys,
            store,
            base_url: base_url.trim_end_matches('/').to_owned(),
            trust: Mutex::new(None),
            status_lists: Mutex::new(BTreeMap::new()),
            trust_lists: Mutex::new(BTreeMap::new()),
        }
    }

    /// Verifies `bytes` (seal text, PNG, JPEG or PDF, told by their bytes)
    /// within `limits`, against the key store's trust, with the registry
    /// for the status.
    pub async fn verify(&self, bytes: Vec<u8>, limits: Limits) -> Result<Report, PublishError> {
        let trust = self.trust()?;
        let source = RegistrySource {
            store: self.store.clone(),
        };
        let runtime = tokio::runtime::Handle::current();
        // Decoding an image takes tens of milliseconds of CPU: on the
        // blocking pool, with the registry lookup driven from there too.
        let report = tokio::task::spawn_blocking(move || {
            let verifier = Verifier::new(&trust).with_limits(limits);
            let now = OffsetDateTime::now_utc();
            runtime.block_on(verifier.verify(Input::sniff(&bytes), &source, now))
        })
        .await
        .map_err(|error| PublishError::Task(error.to_string()))?;
        let mut report = report;
        self.add_registry_facts(&mut report).await;
        match &report.outcome {
            Outcome::Authentic { status, .. } => tracing::info!(
                input = ?report.input,
                outcome = "authentic",
                status = status_code(status),
                "verification"
            ),
            // The technical cause is in the log only; it never carries what
            // the seal states.
            Outcome::Invalid { step, reason } => tracing::info!(
                input = ?report.input,
                outcome = "invalid",
                step = step.name(),
                code = reason.code(),
                detail_code = reason.detail_code().unwrap_or_default(),
                cause = reason.technical().unwrap_or_default(),
                "verification"
            ),
            Outcome::NotFound => {
                tracing::info!(input = ?report.input, outcome = "not_found", "verification");
            }
        }
        Ok(report)
    }

    /// What the registry knows and the seal cannot say: the IUBD of a
    /// marca da bollo digitale bought for the final PDF. A registry that
    /// does not answer leaves the report as it is (the status says so).
    async fn add_registry_facts(&self, report: &mut Report) {
        let Outcome::Authentic { facts, .. } = &mut report.outcome else {
            return;
        };
        if facts
            .bollo
            .as_ref()
            .is_none_or(|bollo| bollo.kind != "MARCA")
        {
            return;
        }
        let (Ok(comune), Ok(number)) = (
            ComuneCode::parse(&facts.comune.istat_code),
            seal::CertificateNumber::parse(&facts.number),
        ) else {
            return;
        };
        match self.store.certificate_by_number(comune, number).await {
            Ok(Some(record)) => {
                if let Some(iubd) = &record.bollo_reference {
                    facts.add_registry_iubd(iubd);
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "registry not read for the IUBD"),
        }
    }

    /// The comune's status list token, signed by its current seal signer.
    pub async fn status_list(&self, comune: ComuneCode) -> Result<Vec<u8>, PublishError> {
        if let Some(published) = fresh(&self.status_lists, comune, STATUS_LIST_TTL) {
            return Ok(published);
        }
        let signer = self.known(comune)?.signer(comune)?;
        let mut list = StatusList::new(2)?;
        for (index, status) in self.store.certificate_statuses(comune).await? {
            list.set(index, list_value(status))?;
        }
        let now = OffsetDateTime::now_utc();
        let ttl = time::Duration::try_from(STATUS_LIST_TTL)
            .map_err(|e| PublishError::Task(e.to_string()))?;
        let token = list.to_cwt(
            &signer,
            &format!("{}/.well-known/sigillo/{comune}/status-list", self.base_url),
            now,
            now + STATUS_LIST_VALIDITY,
            ttl,
        )?;
        Ok(keep(&self.status_lists, comune, token))
    }

    /// The comune's trust list (its CA and every seal signer), signed with
    /// its CA key.
    pub fn trust_list(&self, comune: ComuneCode) -> Result<Vec<u8>, PublishError> {
        if let Some(published) = fresh(&self.trust_lists, comune, TRUST_LIST_TTL) {
            return Ok(published);
        }
        let certificates = self.known(comune)?.certificates(comune)?;
        let ca_signer = self.keys.ca_signer(comune)?;
        let now = OffsetDateTime::now_utc();
        let list = SignedTrustList::new(
            certificates.ca,
            certificates
                .signers
                .into_iter()
                .map(|certificate| TrustListEntry {
                    revoked_at: certificates.revoked.get(&certificate.kid()).copied(),
                    certificate,
                })
                .collect(),
            now,
            now + TRUST_LIST_VALIDITY,
        );
        Ok(keep(&self.trust_lists, comune, list.sign(&ca_signer)?))
    }

    /// The comune's CA certificate, PEM, for offline verifiers to pin.
    pub fn ca_pem(&self, comune: ComuneCode) -> Result<String, PublishError> {
        Ok(self.known(comune)?.certificates(comune)?.ca.to_pem())
    }

    /// The key store, if it holds the comune's keys.
    fn known(&self, comune: ComuneCode) -> Result<&KeyStore, PublishError> {
        if self.keys.has_keys(comune) {
            Ok(&self.keys)
        } else {
            Err(KeyError::NoKeys(comune).into())
        }
    }

    fn trust(&self) -> Result<Arc<Trust>, PublishError> {
        let mut held = self.trust.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((trust, loaded)) = held.as_ref()
            && loaded.elapsed() < TRUST_RELOAD
        {
            return Ok(Arc::clone(trust));
        }
        let trust = Arc::new(Trust::from_keys(&self.keys)?);
        *held = Some((Arc::clone(&trust), Instant::now()));
        Ok(trust)
    }
}

fn fresh(
    lists: &Mutex<BTreeMap<ComuneCode, Published>>,
    comune: ComuneCode,
    ttl: StdDuration,
) -> Option<Vec<u8>> {
    let lists = lists.lock().unwrap_or_else(PoisonError::into_inner);
    lists
        .get(&comune)
        .filter(|published| published.made.elapsed() < ttl)
        .map(|published| published.bytes.to_vec())
}

fn keep(
    lists: &Mutex<BTreeMap<ComuneCode, Published>>,
    comune: ComuneCode,
    token: Vec<u8>,
) -> Vec<u8> {
    let bytes: Arc<[u8]> = Arc::from(token.as_slice());
    let mut lists = lists.lock().unwrap_or_else(PoisonError::into_inner);
    lists.insert(
        comune,
        Published {
            bytes,
            made: Instant::now(),
        },
    );
    token
}

/// The status list's value for a registry status (the table in
/// `verifier::StatusList`). An expired certificate stays VALID: its expiry
/// is in the seal.
pub fn list_value(status: CertificateStatus) -> u8 {
    match status {
        CertificateStatus::Issued | CertificateStatus::Expired => StatusList::VALID,
        CertificateStatus::Revoked | CertificateStatus::Void => StatusList::INVALID,
        CertificateStatus::Pending => StatusList::SUSPENDED,
        CertificateStatus::Superseded => StatusList::SUPERSEDED,
    }
}

fn status_code(status: &verifier::Status) -> &'static str {
    match status {
        verifier::Status::Valid => "valid",
        verifier::Status::Expired { .. } => "expired",
        verifier::Status::Revoked { .. } => "revoked",
        verifier::Status::Superseded => "superseded",
        verifier::Status::Pending => "pending",
        verifier::Status::Unknown { .. } => "unknown",
    }
}

/// The comune's registry as the verifier's status source.
#[derive(Debug, Clone)]
pub struct RegistrySource {
    store: Store,
}

impl RegistrySource {
    /// The registry of `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl StatusSource for RegistrySource {
    fn status<'a>(&'a self, query: &'a StatusQuery) -> StatusFuture<'a> {
        Box::pin(async move {
            match self
                .store
                .certificate_by_number(query.comune, query.number)
                .await
            {
                Ok(Some(record)) => registry_status(&record, query),
                Ok(None) => RegistryStatus::Revoked {
                    reason: Some("il numero non risulta nel registro del Comune".into()),
                    at: None,
                },
                Err(error) => {
                    tracing::warn!(%error, "registry unavailable for a status lookup");
                    RegistryStatus::Unknown(UnknownReason::Unavailable(
                        "registro del Comune non raggiungibile".into(),
                    ))
                }
            }
        })
    }
}

/// What the registry's record says of the certificate a seal names. A seal
/// whose status index or signer differs from the record's is not the
/// certificate registered under that number: never valid.
pub fn registry_status(record: &CertificateRecord, query: &StatusQuery) -> RegistryStatus {
    if record.status_index != query.index || record.kid != query.kid {
        return RegistryStatus::Revoked {
            reason: Some(
                "il sigillo non corrisponde al certificato registrato con questo numero".into(),
            ),
            at: None,
        };
    }
    match record.status {
        // An expired certificate's end is the seal's `exp`, which the
        // report already weighs.
        CertificateStatus::Issued | CertificateStatus::Expired => RegistryStatus::Valid,
        CertificateStatus::Revoked => RegistryStatus::Revoked {
            reason: record.revocation_reason.clone(),
            at: record.revoked_at,
        },
        CertificateStatus::Superseded => RegistryStatus::Superseded,
        CertificateStatus::Pending => RegistryStatus::Pending,
        CertificateStatus::Void => RegistryStatus::Revoked {
            reason: Some("numero annullato: il certificato non è mai stato rilasciato".into()),
            at: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: CertificateStatus) -> CertificateRecord {
        let now = OffsetDateTime::now_utc();
        CertificateRecord {
            id: "c1".into(),
            comune: ComuneCode::parse("999001").expect("code"),
            number: seal::CertificateNumber::new(2026, 7).expect("number"),
            kind: seal::CertificateKind::Residenza,
            holder: seal::CodiceFiscale::parse("PRSRRT80H69G504L").expect("cf"),
            usage: seal::usage::parse_usage("esente:7").expect("use"),
            clause: seal::Clause::Standard,
            status,
            created_at: now,
            issued_at: Some(now),
            expires_at: None,
            seal: Vec::new(),
            kid: seal::Kid([7; 8]),
            pdf_sha256: seal::digest::DocumentDigest::of(b""),
            status_index: 42,
            issued_by: "test".into(),
            revocation_reason: Some("errore".into()),
            revoked_at: Some(now),
            bollo_reference: None,
        }
    }

    fn query(record: &CertificateRecord) -> StatusQuery {
        StatusQuery {
            comune: record.comune,
            number: record.number,
            index: record.status_index,
            kid: record.kid,
            at: OffsetDateTime::now_utc(),
        }
    }

    #[test]
    fn each_registry_status_maps_to_what_the_report_says() {
        use CertificateStatus as C;
        let status = |c| {
            let record = record(c);
            registry_status(&record, &query(&record))
        };
        assert_eq!(status(C::Issued), RegistryStatus::Valid);
        assert_eq!(status(C::Expired), RegistryStatus::Valid);
        assert_eq!(status(C::Pending), RegistryStatus::Pending);
        assert_eq!(status(C::Superseded), RegistryStatus::Superseded);
        assert!(matches!(
            status(C::Revoked),
            RegistryStatus::Revoked { reason: Some(reason), at: Some(_) } if reason == "errore"
        ));
        assert!(matches!(status(C::Void), RegistryStatus::Revoked { .. }));
    }

    #[test]
    fn a_seal_whose_index_or_signer_differs_from_the_record_is_never_valid() {
        let record = record(CertificateStatus::Issued);
        let other_index = StatusQuery {
            index: 43,
            ..query(&record)
        };
        let other_signer = StatusQuery {
            kid: seal::Kid([8; 8]),
            ..query(&record)
        };
        for query in [other_index, other_signer] {
            assert!(matches!(
                registry_status(&record, &query),
                RegistryStatus::Revoked { .. }
            ));
        }
    }
}
