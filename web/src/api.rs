//! The request API, `/api/v1/requests`: how a comune's portal or counter
//! software asks for a certificate, follows its payment and downloads it.
//! Authenticated by the comune's API keys; every lookup is scoped to the
//! key's comune.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use issuer::catalogue::{kind_by_slug, parse_usage, usage_text};
use issuer::requests::Submission;
use seal::CodiceFiscale;
use serde::{Deserialize, Serialize};
use store::ApiKey;
use store::model::{RequestRecord, RequestState};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::AppState;
use super::error::ApiError;

/// The caller's API key, from `Authorization: Bearer sig_…`.
#[derive(Debug)]
pub(super) struct Caller(pub(super) ApiKey);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        let key = state
            .requests()
            .issuer()
            .store()
            .authenticate_api_key(presented.trim())
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Self(key))
    }
}

/// `POST /api/v1/requests` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewRequestBody {
    kind: String,
    holder: String,
    requester: String,
    #[serde(rename = "use")]
    usage: String,
    #[serde(default)]
    parts: Vec<String>,
    #[serde(default)]
    email: Option<String>,
}

/// A request as the API shows it.
#[derive(Debug, Serialize)]
pub(super) struct RequestView {
    id: String,
    state: &'static str,
    kind: &'static str,
    #[serde(rename = "use")]
    usage: String,
    channel: &'static str,
    created_at: String,
    updated_at: String,
    refusal: Option<String>,
    certificate: Option<CertificateView>,
    payment: Option<PaymentView>,
    pdf_url: Option<String>,
}

#[derive(Debug, Serialize)]
struct CertificateView {
    number: String,
    status: &'static str,
    expires_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct PaymentView {
    mode: &'static str,
    amount_cents: i64,
    notice_number: String,
    iuv: Option<String>,
    payment_notice_qr: Option<String>,
    checkout_url: String,
    pay_by: String,
    paid_at: Option<String>,
}

/// `POST /api/v1/requests`: asks for a certificate.
#[tracing::instrument(skip_all, fields(key = %caller.0.id))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewRequestBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|rejection| {
        ApiError::json_body(
            &rejection,
            "un oggetto con kind, holder, requester e usage (vedere /api/v1/openapi.json)",
        )
    })?;
    let spec = kind_by_slug(&body.kind).map_err(|error| ApiError::invalid(error.to_string()))?;
    let parts = body
        .parts
        .iter()
        .map(|slug| kind_by_slug(slug).map(|spec| spec.kind))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ApiError::invalid(error.to_string()))?;
    let fiscal_code = |field: &str, text: &str| {
        CodiceFiscale::parse(text.trim())
            .map_err(|error| ApiError::invalid(format!("{field}: {error}")))
    };
    let submission = Submission {
        comune: caller.0.comune,
        kind: spec.kind,
        parts,
        holder: fiscal_code("holder", &body.holder)?,
        requester: fiscal_code("requester", &body.requester)?,
        usage: parse_usage(&body.usage).map_err(|error| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_use",
                error.to_string(),
            )
        })?,
        email: body.email.map(|email| email.trim().to_owned()),
        role: caller.0.role,
        key_id: caller.0.id.clone(),
        form_key: None,
    };
    let record = state
        .requests()
        .submit(&submission, OffsetDateTime::now_utc())
        .await?;
    let view = view(&state, &record).await?;
    let location = format!("/api/v1/requests/{}", record.id);
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `GET /api/v1/requests/{id}`: where the request stands. Asking also
/// moves it on (a receipt arrived, a deadline passed).
#[tracing::instrument(skip_all, fields(key = %caller.0.id))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    let record = state
        .requests()
        .advance(caller.0.comune, &id, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(view(&state, &record).await?))
}

/// `GET /api/v1/requests/{id}/pdf`: the certificate, once issued. A read:
/// it never prepares, signs or opens a payment.
#[tracing::instrument(skip_all, fields(key = %caller.0.id))]
pub(super) async fn pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pdf = state
        .requests()
        .download(
            caller.0.comune,
            &id,
            &caller.0.id,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(pdf_answer(pdf))
}

/// A PDF, kept by no cache.
fn pdf_answer(pdf: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        pdf,
    )
        .into_response()
}

/// `GET /api/v1/requests/{id}/notice.pdf`: the printed pagoPA notice of a
/// request awaiting a bollo virtuale payment.
#[tracing::instrument(skip_all, fields(key = %caller.0.id))]
pub(super) async fn notice_pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pdf = state
        .requests()
        .payment_notice_pdf(caller.0.comune, &id)
        .await?;
    Ok(pdf_answer(pdf))
}

/// `POST /api/v1/requests/{id}/cancel`: withdraws an unpaid request.
#[tracing::instrument(skip_all, fields(key = %caller.0.id))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    let record = state
        .requests()
        .cancel(
            caller.0.comune,
            &id,
            &caller.0.id,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(Json(view(&state, &record).await?))
}

/// The API's view of a request, with its certificate and payment.
pub(super) async fn view(
    state: &AppState,
    record: &RequestRecord,
) -> Result<RequestView, ApiError> {
    let store = state.requests().issuer().store();
    let certificate = match &record.certificate_id {
        Some(id) => store.certificate(record.comune, id).await?,
        None => None,
    };
    let creditor = match &record.payment {
        Some(_) => store
            .comune(record.comune)
            .await?
            .map(|comune| comune.creditor_fiscal_code),
        None => None,
    };
    let payment = record.payment.as_ref().map(|payment| {
        let notice = payment.notice_number;
        PaymentView {
            mode: payment.mode.code(),
            amount_cents: payment.amount_cents,
            notice_number: notice.to_string(),
            iuv: Some(notice.iuv().to_owned()),
            payment_notice_qr: creditor
                .as_deref()
                .map(|creditor| notice.payment_qr_text(creditor, payment.amount_cents)),
            checkout_url: payment.checkout_url.clone(),
            pay_by: rfc3339(payment.pay_by),
            paid_at: payment.paid_at.map(rfc3339),
        }
    });
    Ok(RequestView {
        id: record.id.clone(),
        state: record.state.code(),
        kind: issuer::catalogue::spec_of(record.kind)
            .map(|spec| spec.slug)
            .unwrap_or("sconosciuto"),
        usage: usage_text(&record.usage),
        channel: record.channel.code(),
        created_at: rfc3339(record.created_at),
        updated_at: rfc3339(record.updated_at),
        refusal: record.refusal.clone(),
        certificate: certificate.map(|certificate| CertificateView {
            number: certificate.number.to_string(),
            status: certificate.status.code(),
            expires_at: certificate.expires_at.map(rfc3339),
        }),
        payment,
        pdf_url: (record.state == RequestState::Issued)
            .then(|| format!("/api/v1/requests/{}/pdf", record.id)),
    })
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}
