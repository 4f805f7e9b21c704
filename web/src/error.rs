//! The API's one error shape, and how library errors map to it.
//!
//! Every error answers `{"error": {"code": "...", "message": "..."}}`: `code`
//! is stable and meant for programs, `message` is Italian and says what to
//! do next. A 5xx answer says only that something failed on our side; the
//! cause goes to the log (without personal data), never to the caller.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use issuer::register::IssueError;
use issuer::requests::RequestError;
use serde::Serialize;
use store::StoreError;

/// An error answered by the JSON API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429: too many requests from this client; try again in `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("troppe richieste: riprovare tra {seconds} secondi"),
            )
        }
    }

    /// 503: too many image and PDF verifications running and waiting;
    /// try again in `seconds`.
    pub fn busy(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!(
                    "troppe verifiche di immagini e PDF in corso: riprovare tra {seconds} secondi (il testo del sigillo si verifica subito)"
                ),
            )
        }
    }

    /// 400: the request body or a parameter is not valid.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 400 or 413 for a JSON body that could not be taken, in Italian;
    /// the parser's own words go to the log. `expected` says what the body
    /// should be.
    pub fn json_body(rejection: &JsonRejection, expected: &str) -> Self {
        tracing::debug!(cause = %rejection.body_text(), "JSON body refused");
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "inviare il corpo come JSON, con «Content-Type: application/json»",
            ),
            JsonRejection::JsonSyntaxError(_) => {
                Self::invalid(format!("il corpo non è JSON valido: atteso {expected}"))
            }
            JsonRejection::JsonDataError(_) => Self::invalid(format!(
                "campi mancanti, sconosciuti o di tipo errato nel JSON: atteso {expected}"
            )),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "richiesta troppo grande: al massimo 16 KB",
            ),
            _ => Self::invalid("il corpo della richiesta non è leggibile"),
        }
    }

    /// 400 or 413 for a body that could not be read.
    pub fn body(rejection: &BytesRejection, too_large: impl FnOnce() -> Self) -> Self {
        tracing::debug!(cause = %rejection.body_text(), "body refused");
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            Self::invalid("il corpo della richiesta non è leggibile: inviarlo di nuovo")
        }
    }

    /// 401: no valid API key.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "chiave API mancante, non valida o revocata: inviare «Authorization: Bearer <chiave>»",
        )
    }

    /// 404: nothing here.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500: our fault; `cause` is logged, not answered.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "errore interno: riprovare più tardi; se persiste, contattare il comune",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> Self {
        use StatusCode as S;
        let message = error.to_string();
        match error {
            RequestError::NotFound => Self::not_found(message),
            RequestError::Catalogue(_) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "invalid_use", message)
            }
            RequestError::KindNotRequestable => {
                Self::new(S::UNPROCESSABLE_ENTITY, "kind_not_requestable", message)
            }
            RequestError::UsageNotAccepted(_) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "invalid_use", message)
            }
            RequestError::EmailRequired => {
                Self::new(S::UNPROCESSABLE_ENTITY, "email_required", message)
            }
            RequestError::NotAllowed => Self::new(S::FORBIDDEN, "requester_not_allowed", message),
            RequestError::NotIssued(_) => Self::new(S::CONFLICT, "not_issued", message),
            RequestError::NotCancellable(_) => Self::new(S::CONFLICT, "not_cancellable", message),
            RequestError::NoNotice(_) => Self::new(S::CONFLICT, "no_notice", message),
            RequestError::Notice(cause) => Self::internal(&cause),
            RequestError::Payment(cause) => {
                tracing::warn!(%cause, "pagoPA unavailable");
                Self::new(S::SERVICE_UNAVAILABLE, "payments_unavailable", message)
            }
            RequestError::Service(IssueError::UnknownPerson) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "unknown_holder", message)
            }
            RequestError::Service(IssueError::Refused(_)) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "refused", message)
            }
            RequestError::Store(StoreError::PdfNotAvailable { .. }) => {
                Self::new(S::CONFLICT, "not_issued", message)
            }
            RequestError::Service(cause) => Self::internal(&cause),
            RequestError::Fees(cause) => Self::internal(&cause),
            RequestError::Config(cause) => Self::internal(&cause),
            RequestError::Store(cause) => Self::internal(&cause),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(&error)
    }
}
