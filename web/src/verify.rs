//! The verification side of the server: `POST /api/v1/verify`, the
//! registry as the verifier's status source, and the lists offline
//! verifiers fetch under `/.well-known/sigillo/{istat}/`.
//!
//! Anyone may verify, without an API key; a token bucket per client
//! address bounds how often. The checklist (image decoding above all) is
//! CPU work, so it runs on the blocking pool, never on the runtime's
//! threads. Nothing a seal or an upload contains is logged: only the kind
//! of input, the outcome and the failing step.
//!
//! The published lists are built from the registry and the key store and
//! kept in memory for their `ttl`: a revocation reaches offline verifiers
//! within that time.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keys::{KeyError, KeyStore};
use seal::ComuneCode;
use serde::Deserialize;
use store::model::{CertificateRecord, CertificateStatus};
use store::{Store, StoreError};
use time::OffsetDateTime;
use verifier::{
    Input, Limits, Outcome, RegistryStatus, Report, SignedTrustList, StatusFuture, StatusList,
    StatusListError, StatusQuery, StatusSource, Trust, TrustListEntry, TrustListError,
    UnknownReason, Verifier,
};

use super::AppState;
use super::error::ApiError;

/// Largest body `POST /api/v1/verify` and `POST /v` read: a certificate
/// PDF is under 40 KB, a phone photo a few MB.
pub const MAX_VERIFY_BYTES: usize = 10 * 1024 * 1024;

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

/// Verification and the published lists: what the handlers share.
#[derive(Debug)]
pub struct Verification {
    keys: KeyStore,
    store: Store,
    base_url: String,
    limiter: RateLimiter,
    trust: Mutex<Option<(Arc<Trust>, Instant)>>,
    status_lists: Mutex<BTreeMap<ComuneCode, Published>>,
    trust_lists: Mutex<BTreeMap<ComuneCode, Published>>,
}

/// A list as published, and when it was made.
#[derive(Debug, Clone)]
struct Published {
    bytes: Bytes,
    made: Instant,
}

/// Why verification or a published list failed on our side.
#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
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
    /// Verification with the keys of `keys`, the registry of `store`, lists
    /// published under `base_url`, and `per_minute` verifications per
    /// client address (0: no limit).
    pub fn new(keys: KeyStore, store: Store, base_url: &str, per_minute: u32) -> Self {
        Self {
            keys,
            store,
            base_url: base_url.trim_end_matches('/').to_owned(),
            limiter: RateLimiter::new(per_minute),
            trust: Mutex::new(None),
            status_lists: Mutex::new(BTreeMap::new()),
            trust_lists: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes one verification from `client`'s allowance, or says in how
    /// many seconds to try again.
    pub fn admit(&self, client: IpAddr) -> Result<(), u64> {
        self.limiter.admit(client, Instant::now())
    }

    /// Verifies `bytes` (seal text, PNG, JPEG or PDF, told by their bytes)
    /// against the key store's trust, with the registry for the status.
    pub async fn verify(&self, bytes: Bytes) -> Result<Report, VerificationError> {
        let trust = self.trust()?;
        let source = RegistrySource {
            store: self.store.clone(),
        };
        let runtime = tokio::runtime::Handle::current();
        // Decoding an image takes tens of milliseconds of CPU: on the
        // blocking pool, with the registry lookup driven from there too.
        let report = tokio::task::spawn_blocking(move || {
            let verifier = Verifier::new(&trust).with_limits(limits());
            let now = OffsetDateTime::now_utc();
            runtime.block_on(verifier.verify(Input::sniff(&bytes), &source, now))
        })
        .await
        .map_err(|error| VerificationError::Task(error.to_string()))?;
        let (outcome, step) = match &report.outcome {
            Outcome::Authentic { status, .. } => ("authentic", status_code(status)),
            Outcome::Invalid { step, .. } => ("invalid", step.label()),
            Outcome::NotFound => ("not_found", ""),
        };
        tracing::info!(input = ?report.input, outcome, detail = step, "verification");
        Ok(report)
    }

    /// The comune's status list token, signed by its current seal signer.
    pub async fn status_list(&self, comune: ComuneCode) -> Result<Bytes, VerificationError> {
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
            .map_err(|e| VerificationError::Task(e.to_string()))?;
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
    pub fn trust_list(&self, comune: ComuneCode) -> Result<Bytes, VerificationError> {
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
                .map(TrustListEntry::active)
                .collect(),
            now,
            now + TRUST_LIST_VALIDITY,
        );
        Ok(keep(&self.trust_lists, comune, list.sign(&ca_signer)?))
    }

    /// The comune's CA certificate, PEM, for offline verifiers to pin.
    pub fn ca_pem(&self, comune: ComuneCode) -> Result<String, VerificationError> {
        Ok(self.known(comune)?.certificates(comune)?.ca.to_pem())
    }

    /// The key store, if it holds the comune's keys.
    fn known(&self, comune: ComuneCode) -> Result<&KeyStore, VerificationError> {
        if self.keys.has_keys(comune) {
            Ok(&self.keys)
        } else {
            Err(KeyError::NoKeys(comune).into())
        }
    }

    fn trust(&self) -> Result<Arc<Trust>, VerificationError> {
        let mut held = self.trust.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((trust, loaded)) = held.as_ref()
            && loaded.elapsed() < TRUST_RELOAD
        {
            return Ok(Arc::clone(trust));
        }
        let trust = Arc::new(Trust::new(self.keys.trust_store()?));
        *held = Some((Arc::clone(&trust), Instant::now()));
        Ok(trust)
    }
}

/// The verifier's limits, with the file size bounded by what the server
/// reads.
fn limits() -> Limits {
    Limits {
        max_file_bytes: MAX_VERIFY_BYTES,
        ..Limits::default()
    }
}

fn fresh(
    lists: &Mutex<BTreeMap<ComuneCode, Published>>,
    comune: ComuneCode,
    ttl: StdDuration,
) -> Option<Bytes> {
    let lists = lists.lock().unwrap_or_else(PoisonError::into_inner);
    lists
        .get(&comune)
        .filter(|published| published.made.elapsed() < ttl)
        .map(|published| published.bytes.clone())
}

fn keep(
    lists: &Mutex<BTreeMap<ComuneCode, Published>>,
    comune: ComuneCode,
    token: Vec<u8>,
) -> Bytes {
    let bytes = Bytes::from(token);
    let mut lists = lists.lock().unwrap_or_else(PoisonError::into_inner);
    lists.insert(
        comune,
        Published {
            bytes: bytes.clone(),
            made: Instant::now(),
        },
    );
    bytes
}

/// The status list's value for a registry status (the table in
/// `verifier::StatusList`). An expired certificate stays VALID: its expiry
/// is in the seal.
fn list_value(status: CertificateStatus) -> u8 {
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

/// A token bucket per client address: `per_minute` tokens at most,
/// refilled at `per_minute` a minute.
#[derive(Debug)]
struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Past this many addresses, full buckets are dropped.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn admit(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refilled).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            // Whole seconds until one token is back, at least one.
            let wait = ((1.0 - bucket.tokens) / per_second).ceil();
            Err(if wait >= 1.0 { wait as u64 } else { 1 })
        }
    }
}

/// The client's address, as the connection shows it (a proxy in front
/// must do its own limiting: forwarded headers are not trusted).
#[derive(Debug, Clone, Copy)]
pub(super) struct ClientIp(pub(super) IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()),
        ))
    }
}

/// `POST /api/v1/verify` JSON body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealBody {
    seal: String,
}

/// `POST /api/v1/verify`: verifies the body (a PDF, a PNG or JPEG, the
/// seal's text, or `{"seal": "…"}`) and answers the report.
#[tracing::instrument(skip_all)]
pub(super) async fn verify(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state
        .verification()
        .admit(client)
        .map_err(ApiError::rate_limited)?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        _ => ApiError::invalid(rejection.body_text()),
    })?;
    let input = api_input(&headers, body)?;
    let report = state.verification().verify(input).await.map_err(internal)?;
    Ok(report_response(&report))
}

/// 413 for a body over [`MAX_VERIFY_BYTES`].
pub(super) fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "file troppo grande: al massimo 10 MiB; per una foto, ridurne la risoluzione",
    )
}

fn internal(error: VerificationError) -> ApiError {
    ApiError::internal(&error)
}

/// The bytes to verify: the body itself, or the `seal` of a JSON body.
fn api_input(headers: &HeaderMap, body: Bytes) -> Result<Bytes, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    let input = if json {
        let body: SealBody = serde_json::from_slice(&body).map_err(|error| {
            ApiError::invalid(format!(
                "JSON non valido: atteso {{\"seal\": \"testo del sigillo\"}} ({error})"
            ))
        })?;
        Bytes::from(body.seal.into_bytes())
    } else {
        body
    };
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "nessun contenuto da verificare: inviare il PDF, l'immagine (PNG o JPEG) o il testo del sigillo",
        ));
    }
    Ok(input)
}

fn report_response(report: &Report) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        report.to_json(),
    )
        .into_response()
}

/// `GET /.well-known/sigillo/{istat}/status-list`.
#[tracing::instrument(skip_all)]
pub(super) async fn status_list(
    State(state): State<AppState>,
    Path(istat): Path<String>,
) -> Result<Response, ApiError> {
    let comune = comune(&istat)?;
    let token = state
        .verification()
        .status_list(comune)
        .await
        .map_err(published_error)?;
    Ok(published(
        verifier::STATUS_LIST_TYPE,
        STATUS_LIST_TTL,
        token,
    ))
}

/// `GET /.well-known/sigillo/{istat}/trust-list`.
#[tracing::instrument(skip_all)]
pub(super) async fn trust_list(
    State(state): State<AppState>,
    Path(istat): Path<String>,
) -> Result<Response, ApiError> {
    let comune = comune(&istat)?;
    let token = state
        .verification()
        .trust_list(comune)
        .map_err(published_error)?;
    Ok(published(verifier::TRUST_LIST_TYPE, TRUST_LIST_TTL, token))
}

/// `GET /.well-known/sigillo/{istat}/ca.pem`.
#[tracing::instrument(skip_all)]
pub(super) async fn ca_pem(
    State(state): State<AppState>,
    Path(istat): Path<String>,
) -> Result<Response, ApiError> {
    let comune = comune(&istat)?;
    let pem = state
        .verification()
        .ca_pem(comune)
        .map_err(published_error)?;
    Ok(published(
        "application/x-pem-file",
        TRUST_LIST_TTL,
        Bytes::from(pem),
    ))
}

fn comune(istat: &str) -> Result<ComuneCode, ApiError> {
    ComuneCode::parse(istat).map_err(|_| unknown_comune())
}

fn unknown_comune() -> ApiError {
    ApiError::not_found("comune sconosciuto: controllare il codice ISTAT nell'indirizzo")
}

fn published_error(error: VerificationError) -> ApiError {
    match error {
        VerificationError::Keys(KeyError::NoKeys(_)) => unknown_comune(),
        other => ApiError::internal(&other),
    }
}

fn published(content_type: &'static str, ttl: StdDuration, bytes: Bytes) -> Response {
    let cache = HeaderValue::from_str(&format!("public, max-age={}", ttl.as_secs()))
        .unwrap_or_else(|_| HeaderValue::from_static("no-cache"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_allowance_then_waits_for_a_token() {
        let limiter = RateLimiter::new(3);
        let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.admit(client, start), Ok(()));
        }
        assert_eq!(limiter.admit(client, start), Err(20));
        assert_eq!(
            limiter.admit(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), start),
            Ok(())
        );
        assert_eq!(
            limiter.admit(client, start + StdDuration::from_secs(20)),
            Ok(())
        );
    }

    fn record(status: CertificateStatus) -> CertificateRecord {
        let now = OffsetDateTime::now_utc();
        CertificateRecord {
            id: "c1".into(),
            comune: ComuneCode::parse("999001").expect("code"),
            number: seal::CertificateNumber::new(2026, 7).expect("number"),
            kind: seal::CertificateKind::Residenza,
            holder: seal::CodiceFiscale::parse("PRSRRT80H69G504L").expect("cf"),
            usage: "esente:7".into(),
            clause: seal::Clause::Standard,
            status,
            created_at: now,
            issued_at: Some(now),
            expires_at: None,
            seal: Vec::new(),
            kid: seal::Kid([7; 8]),
            pdf_sha256: String::new(),
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

    #[test]
    fn no_limit_admits_everyone() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            assert_eq!(
                limiter.admit(IpAddr::V4(Ipv4Addr::LOCALHOST), Instant::now()),
                Ok(())
            );
        }
    }
}
