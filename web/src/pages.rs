//! Pages people see. For now: where pagoPA's checkout sends the payer back.
//!
//! The return address is not proof of payment: anyone can open it with any
//! parameters. It only makes Sigillo ask pagoPA's receipt API at once
//! (instead of at the next reconciliation pass); what the page says comes
//! from the request's state after that, never from the query string.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use issuer::requests::RequestError;
use seal::ComuneCode;
use serde::Deserialize;
use store::model::RequestState;
use time::OffsetDateTime;

use super::AppState;

/// What the checkout appends to the return address.
#[derive(Debug, Deserialize)]
pub(super) struct ReturnQuery {
    outcome: Option<String>,
}

/// `GET /pagamenti/{comune}/{id}`: the payer is back from the checkout.
#[tracing::instrument(skip_all)]
pub(super) async fn payment_return(
    State(state): State<AppState>,
    Path((comune, id)): Path<(String, String)>,
    Query(query): Query<ReturnQuery>,
) -> Response {
    let Ok(comune) = ComuneCode::parse(&comune) else {
        return page(
            StatusCode::NOT_FOUND,
            "Richiesta non trovata",
            "L'indirizzo non corrisponde a nessuna richiesta.",
        );
    };
    let record = match state
        .requests()
        .advance(comune, &id, OffsetDateTime::now_utc())
        .await
    {
        Ok(record) => record,
        Err(RequestError::NotFound) => {
            return page(
                StatusCode::NOT_FOUND,
                "Richiesta non trovata",
                "L'indirizzo non corrisponde a nessuna richiesta.",
            );
        }
        Err(error) => {
            tracing::warn!(%error, "payment return: request not advanced");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Verifica del pagamento non riuscita",
                "Non è stato possibile verificare il pagamento in questo momento. Se avete pagato, il certificato sarà rilasciato appena pagoPA conferma la ricevuta: non occorre pagare di nuovo.",
            );
        }
    };
    tracing::info!(request = %record.id, state = record.state.code(), "payment return");
    let (title, text) = match record.state {
        RequestState::Issued => (
            "Pagamento ricevuto",
            "Il pagamento è confermato e il certificato è rilasciato: potete scaricarlo dal portale del comune.",
        ),
        RequestState::AwaitingPayment if query.outcome.as_deref() == Some("cancelled") => (
            "Pagamento annullato",
            "Il pagamento non è stato eseguito. Potete riprovare dallo stesso avviso finché la richiesta è aperta.",
        ),
        RequestState::AwaitingPayment => (
            "Pagamento in verifica",
            "pagoPA non ha ancora confermato il pagamento. Il certificato sarà rilasciato appena arriva la ricevuta: non occorre pagare di nuovo.",
        ),
        RequestState::Expired | RequestState::Cancelled => (
            "Richiesta chiusa",
            "La richiesta è scaduta o è stata annullata senza pagamento. Per avere il certificato occorre una nuova richiesta.",
        ),
        _ => ("Richiesta in lavorazione", "La richiesta è in lavorazione."),
    };
    page(StatusCode::OK, title, text)
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\
         <body><main><h1>{title}</h1><p>{text}</p></main></body></html>\n"
    );
    (status, Html(html)).into_response()
}
