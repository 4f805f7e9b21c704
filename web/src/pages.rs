//! Where the payer goes to pay (`/pagamenti/{comune}/{id}/paga`, the
//! request's `checkout_url`) and where pagoPA's checkout sends them back.
//!
//! The pay address puts the request's notice in a pagoPA Checkout cart and
//! sends the payer there (303); followed again, it is the same notice, so a
//! reload or a second click never makes a second payment.
//!
//! The return address is not proof of payment: anyone can open it with any
//! parameters. It only makes Sigillo ask pagoPA's receipt API at once
//! (instead of at the next reconciliation pass); what the page says comes
//! from the request's state after that, never from the query string. The
//! page is `payment_return.html`, headed with the comune's name.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use issuer::requests::{PayStep, RequestError};
use minijinja::context;
use seal::ComuneCode;
use serde::Deserialize;
use store::model::{RequestRecord, RequestState};
use time::OffsetDateTime;

use super::AppState;
use super::templates;

/// What the checkout appends to the return address.
#[derive(Debug, Deserialize)]
pub(super) struct ReturnQuery {
    outcome: Option<String>,
}

const NOT_FOUND: (StatusCode, &str, &str) = (
    StatusCode::NOT_FOUND,
    "Richiesta non trovata",
    "L'indirizzo non corrisponde a nessuna richiesta.",
);

/// `GET /pagamenti/{comune}/{id}`: the payer is back from the checkout.
#[tracing::instrument(skip_all)]
pub(super) async fn payment_return(
    State(state): State<AppState>,
    Path((comune, id)): Path<(String, String)>,
    Query(query): Query<ReturnQuery>,
) -> Response {
    let Ok(code) = ComuneCode::parse(&comune) else {
        return page(NOT_FOUND, None);
    };
    let name = comune_name(&state, code).await;
    let advanced = state
        .requests()
        .advance(code, &id, OffsetDateTime::now_utc())
        .await;
    // The request's page in the area personale, where the portal runs;
    // the owner check is that page's.
    let follow = (advanced.is_ok() && state.portal().is_some())
        .then(|| format!("/area-personale/richieste/{id}"));
    let (status, title, text) = what_to_say(advanced, query.outcome.as_deref());
    templates::page(
        status,
        "payment_return.html",
        context! { title, text, comune => name, follow, portal => state.portal().is_some() },
    )
}

/// `GET /pagamenti/{comune}/{id}/paga`: to pagoPA Checkout.
#[tracing::instrument(skip_all)]
pub(super) async fn pay(
    State(state): State<AppState>,
    Path((comune, id)): Path<(String, String)>,
) -> Response {
    let Ok(code) = ComuneCode::parse(&comune) else {
        return page(NOT_FOUND, None);
    };
    let name = comune_name(&state, code).await;
    match state.requests().checkout(code, &id).await {
        Ok(PayStep::Checkout(url)) => axum::response::Redirect::to(&url).into_response(),
        Ok(PayStep::NotPayable(record)) => {
            tracing::info!(request = %record.id, state = record.state.code(), "pay: not payable");
            page(what_to_say(Ok(*record), None), name)
        }
        Err(RequestError::NotFound) => page(NOT_FOUND, name),
        Err(error) => {
            tracing::warn!(%error, "pay: checkout not reached");
            page(
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Pagamento non disponibile",
                    "Il servizio pagoPA non risponde in questo momento. Riprovare tra qualche minuto: l'avviso resta lo stesso, e lo si può pagare anche presso qualunque prestatore di servizi di pagamento con il codice avviso.",
                ),
                name,
            )
        }
    }
}

/// The comune's name for the header; without it (unknown code, store
/// unavailable) the page keeps the neutral header.
async fn comune_name(state: &AppState, code: ComuneCode) -> Option<String> {
    match state.requests().issuer().store().comune(code).await {
        Ok(record) => record.map(|record| record.name),
        Err(error) => {
            tracing::warn!(%error, "payment return: comune not read");
            None
        }
    }
}

/// The status, title and text for the request's state after asking
/// pagoPA.
fn what_to_say(
    advanced: Result<RequestRecord, RequestError>,
    outcome: Option<&str>,
) -> (StatusCode, &'static str, &'static str) {
    let record = match advanced {
        Ok(record) => record,
        Err(RequestError::NotFound) => return NOT_FOUND,
        Err(error) => {
            tracing::warn!(%error, "payment return: request not advanced");
            return (
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
        RequestState::AwaitingPayment if outcome == Some("cancelled") => (
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
    (StatusCode::OK, title, text)
}

fn page((status, title, text): (StatusCode, &str, &str), comune: Option<String>) -> Response {
    templates::page(
        status,
        "payment_return.html",
        context! { title, text, comune },
    )
}
