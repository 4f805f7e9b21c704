//! `GET /dati-aperti/{istat}/certificati.csv` and `.json`: the comune's
//! certificates released per kind per month, in bollo and exempt, with
//! small counts suppressed ([`issuer::opendata`]). Public, no key, cached
//! for an hour.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use seal::ComuneCode;

use crate::AppState;
use crate::error::ApiError;

/// How long a copy may be kept.
const CACHE: &str = "public, max-age=3600";

/// `GET /dati-aperti/{istat}/certificati.csv`.
pub(crate) async fn csv(State(state): State<AppState>, Path(istat): Path<String>) -> Response {
    match rows(&state, &istat).await {
        Ok(rows) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(CACHE)),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("inline; filename=\"certificati.csv\""),
                ),
            ],
            issuer::opendata::csv(&rows),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /dati-aperti/{istat}/certificati.json`.
pub(crate) async fn json(State(state): State<AppState>, Path(istat): Path<String>) -> Response {
    match rows(&state, &istat).await {
        Ok(rows) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(CACHE)),
            ],
            serde_json::json!({
                "comune": istat,
                "soglia": issuer::opendata::THRESHOLD,
                "righe": rows,
            })
            .to_string(),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

async fn rows(state: &AppState, istat: &str) -> Result<Vec<issuer::opendata::Row>, ApiError> {
    let unknown =
        || ApiError::not_found("comune sconosciuto: controllare il codice ISTAT nell'indirizzo");
    let comune = ComuneCode::parse(istat).map_err(|_| unknown())?;
    let store = state.requests().issuer().store();
    match store.comune(comune).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(unknown()),
        Err(error) => return Err(ApiError::internal(&error)),
    }
    match store.released_certificates(comune).await {
        Ok(released) => Ok(issuer::opendata::monthly(&released)),
        Err(error) => Err(ApiError::internal(&error)),
    }
}
