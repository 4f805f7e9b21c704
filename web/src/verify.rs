//! The verification side of the server: `POST /api/v1/verify` and the
//! lists offline verifiers fetch under `/.well-known/sigillo/{istat}/`,
//! over `issuer::publish` (the registry as status source, the lists).
//!
//! Anyone may verify, without an API key; a token bucket per client
//! address bounds how often. The checklist (image decoding above all) is
//! CPU work, so it runs on the blocking pool, never on the runtime's
//! threads. Nothing a seal or an upload contains is logged: only the kind
//! of input, the outcome and the failing step.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest as _, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use issuer::publish::{PublishError, STATUS_LIST_TTL, TRUST_LIST_TTL};
use keys::{KeyError, KeyStore};
use seal::ComuneCode;
use serde::Deserialize;
use store::Store;
use verifier::{Limits, Report};

use super::AppState;
use super::error::ApiError;
use super::queue::{Admission, Busy, Heavy, RETRY_AFTER_SECONDS};

/// Largest body `POST /api/v1/verify` and `POST /v` read: a certificate
/// PDF is under 40 KB, a phone photo a few MB.
pub const MAX_VERIFY_BYTES: usize = 10 * 1024 * 1024;

/// Verification and the published lists (the `issuer`'s), with the
/// per-address limit on verifications that the HTTP edge applies and the
/// bound on image and PDF verifications running at once ([`Heavy`]).
#[derive(Debug)]
pub struct Verification {
    published: issuer::publish::Verification,
    limiter: RateLimiter,
    heavy: Heavy,
}

/// Why a verification was not made.
#[derive(Debug)]
pub enum NotVerified {
    /// Too many image and PDF verifications running and waiting.
    Busy,
    /// The verification failed on our side.
    Failed(PublishError),
}

/// Bodies up to this size are read before the queue is asked (a seal's
/// text is a few kilobytes); a larger body, or one of unknown size, needs
/// its place in the queue before it is read, so a storm of uploads never
/// holds more bodies in memory than the queue has places.
const SMALL_BODY: u64 = 64 * 1024;

/// Whether a body must be admitted to the queue before it is read.
pub(super) fn admit_before_reading(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .is_none_or(|length| length > SMALL_BODY)
}

impl Verification {
    /// Verification with the keys of `keys`, the registry of `store`, lists
    /// published under `base_url`, and `per_minute` verifications per
    /// client address (0: no limit).
    pub fn new(keys: KeyStore, store: Store, base_url: &str, per_minute: u32) -> Self {
        Self {
            published: issuer::publish::Verification::new(keys, store, base_url),
            limiter: RateLimiter::new(per_minute),
            heavy: Heavy::for_this_machine(),
        }
    }

    /// The same, with `workers` image and PDF verifications at once and
    /// `queue` waiting behind them.
    pub fn with_queue(mut self, workers: usize, queue: usize) -> Self {
        self.heavy = Heavy::new(workers, queue);
        self
    }

    /// A place in the queue of image and PDF verifications, taken before
    /// a large body is read.
    pub fn admit_heavy(&self) -> Result<Admission<'_>, Busy> {
        self.heavy.admit()
    }

    /// Takes one verification from `client`'s allowance, or says in how
    /// many seconds to try again.
    pub fn admit(&self, client: IpAddr) -> Result<(), u64> {
        self.limiter.admit(client, Instant::now())
    }

    /// Verifies `bytes` (seal text, PNG, JPEG or PDF, told by their bytes),
    /// with the file size bounded by what the server reads. The seal's text
    /// is verified at once; an image or a PDF takes a place in the queue
    /// (`admission`, if one was taken before its body was read) and waits
    /// for a worker, or is refused with [`NotVerified::Busy`].
    pub async fn verify(
        &self,
        bytes: Bytes,
        admission: Option<Admission<'_>>,
    ) -> Result<Report, NotVerified> {
        let limits = Limits {
            max_file_bytes: MAX_VERIFY_BYTES,
            ..Limits::default()
        };
        let heavy = !matches!(verifier::Input::sniff(&bytes), verifier::Input::Text(_));
        let admission = match (heavy, admission) {
            (false, _) => None,
            (true, Some(admission)) => Some(admission),
            (true, None) => Some(self.heavy.admit().map_err(|Busy| NotVerified::Busy)?),
        };
        let _worker = match &admission {
            Some(admission) => Some(
                self.heavy
                    .start(admission)
                    .await
                    .map_err(|Busy| NotVerified::Busy)?,
            ),
            None => None,
        };
        self.published
            .verify(Vec::from(bytes), limits)
            .await
            .map_err(NotVerified::Failed)
    }

    /// The published lists and the CA certificate.
    pub fn published(&self) -> &issuer::publish::Verification {
        &self.published
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
pub(crate) struct ClientIp(pub(crate) IpAddr);

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
    request: Request,
) -> Result<Response, ApiError> {
    let verification = state.verification();
    verification.admit(client).map_err(ApiError::rate_limited)?;
    let early = if admit_before_reading(request.headers()) {
        Some(verification.admit_heavy().map_err(|Busy| busy())?)
    } else {
        None
    };
    let headers = request.headers().clone();
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection: BytesRejection| ApiError::body(&rejection, too_large))?;
    let input = api_input(&headers, body)?;
    let report = verification
        .verify(input, early)
        .await
        .map_err(|refused| match refused {
            NotVerified::Busy => busy(),
            NotVerified::Failed(error) => internal(error),
        })?;
    Ok(report_response(&report))
}

/// 503 for a full queue.
fn busy() -> ApiError {
    ApiError::busy(RETRY_AFTER_SECONDS)
}

/// 413 for a body over [`MAX_VERIFY_BYTES`].
pub(super) fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "file troppo grande: al massimo 10 MB; per una foto, ridurne la risoluzione",
    )
}

fn internal(error: PublishError) -> ApiError {
    ApiError::internal(&error)
}

/// The bytes to verify: the body itself, or the `seal` of a JSON body.
fn api_input(headers: &HeaderMap, body: Bytes) -> Result<Bytes, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    let body = match verifier::utf8_text(&body) {
        Some(std::borrow::Cow::Borrowed(_)) => body,
        Some(std::borrow::Cow::Owned(text)) => Bytes::from(text),
        None => {
            return Err(ApiError::invalid(
                "il testo è in UTF-16 ma non è valido: inviarlo in UTF-8",
            ));
        }
    };
    let input = if json {
        let body: SealBody = serde_json::from_slice(&body).map_err(|error| {
            tracing::debug!(%error, "verification JSON refused");
            ApiError::invalid("JSON non valido: atteso {\"seal\": \"testo del sigillo\"}")
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
        .published()
        .status_list(comune)
        .await
        .map_err(published_error)?;
    Ok(published(
        verifier::STATUS_LIST_TYPE,
        STATUS_LIST_TTL,
        Bytes::from(token),
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
        .published()
        .trust_list(comune)
        .map_err(published_error)?;
    Ok(published(
        verifier::TRUST_LIST_TYPE,
        TRUST_LIST_TTL,
        Bytes::from(token),
    ))
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
        .published()
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

fn published_error(error: PublishError) -> ApiError {
    match error {
        PublishError::Keys(KeyError::NoKeys(_)) => unknown_comune(),
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
