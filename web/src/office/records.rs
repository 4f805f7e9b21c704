//! The registry as staff see it: a certificate by number, its history and
//! a new print; revocation and supersession
//! ([`issuer::withdraw::withdraw_from`]); the audit trail, filtered by
//! certificate, person (by fiscal code), operator and date, and exported
//! as CSV.
//!
//! The audit chain names certificates and requests by their opaque ids,
//! never people: a filter by person looks up the ids of the person's
//! certificates and requests first.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use issuer::staff::Action;
use issuer::withdraw::{WithdrawError, Withdrawal, withdraw_from};
use minijinja::context;
use seal::{CertificateNumber, CodiceFiscale};
use serde::{Deserialize, Serialize};
use store::model::CertificateRecord;
use store::{AuditQuery, AuditRecord, CertificateFilter};
use time::{Date, OffsetDateTime};

use super::{Office, office, try_page};
use crate::AppState;
use crate::portal::{pdf_response, ser};
use crate::verify::ClientIp;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sportello/certificati", get(find))
        .route("/sportello/certificati/{id}", get(certificate_page))
        .route("/sportello/certificati/{id}/certificato.pdf", get(pdf))
        .route("/sportello/certificati/{id}/revoca", post(revoke))
        .route("/sportello/certificati/{id}/sostituzione", post(supersede))
        .route("/sportello/registro", get(audit_page))
        .route("/sportello/registro.csv", get(audit_csv))
}

/// The search by number.
#[derive(Debug, Default, Deserialize)]
struct FindQuery {
    numero: Option<String>,
}

/// A certificate in a list.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    number: String,
    kind: &'static str,
    status: &'static str,
    issued: String,
}

impl Row {
    fn of(record: &CertificateRecord) -> Self {
        Self {
            id: record.id.clone(),
            number: record.number.to_string(),
            kind: record.kind.title(),
            status: record.status.italian(),
            issued: record
                .issued_at
                .map(seal::rome::date_time_text)
                .unwrap_or_else(|| "non rilasciato".to_owned()),
        }
    }
}

/// `GET /sportello/certificati?numero=`: a certificate by number, or the
/// latest ones.
async fn find(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(query): Query<FindQuery>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::ReadCertificates)).await);
    let store = state.requests().issuer().store();
    let wanted = query.numero.as_deref().map(str::trim).unwrap_or_default();
    let mut error = None;
    if !wanted.is_empty() {
        match CertificateNumber::parse(wanted) {
            Ok(number) => match store
                .certificate_by_number(office.comune.code, number)
                .await
            {
                Ok(Some(record)) => {
                    return Redirect::to(&format!("/sportello/certificati/{}", record.id))
                        .into_response();
                }
                Ok(None) => error = Some(format!("Nessun certificato n. {number} nel registro.")),
                Err(e) => {
                    tracing::error!(error = %e, "office: certificate not read");
                    return office.unavailable();
                }
            },
            Err(_) => {
                error =
                    Some("Il numero si scrive anno/progressivo, per esempio 2026/000123.".into())
            }
        }
    }
    let latest = match store
        .list_certificates(
            office.comune.code,
            &CertificateFilter {
                limit: 20,
                ..CertificateFilter::default()
            },
        )
        .await
    {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(error = %e, "office: certificates not listed");
            return office.unavailable();
        }
    };
    let rows: Vec<Row> = latest.iter().map(Row::of).collect();
    let base = office.base();
    office.page(
        if error.is_some() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        },
        "office_certificates.html",
        context! { numero => wanted, error, rows => ser(&rows), ..base },
    )
}

/// An audit entry as the pages show it.
#[derive(Debug, Serialize)]
struct Entry {
    seq: i64,
    at: String,
    event: String,
    subject: String,
    actor: String,
    detail: String,
}

impl Entry {
    fn of(record: &AuditRecord) -> Self {
        Self {
            seq: record.seq,
            at: seal::rome::date_time_text(record.at),
            event: event_label(&record.event).to_owned(),
            subject: record.subject.clone(),
            actor: record.actor.clone(),
            detail: record.detail.clone(),
        }
    }
}

/// An event's name for people.
fn event_label(event: &str) -> &str {
    match event {
        "request.created" => "Richiesta ricevuta",
        "certificate.prepared" => "Certificato preparato",
        "certificate.issued" => "Certificato rilasciato",
        "certificate.downloaded" => "Certificato scaricato",
        "certificate.printed" => "Certificato scaricato allo sportello per la stampa",
        "certificate.revoked" => "Certificato revocato",
        "certificate.superseded" => "Certificato sostituito",
        "receipt.rejected" => "Ricevuta di pagamento rifiutata",
        "payment.opened" => "Pagamento aperto",
        "request.issued" => "Richiesta evasa",
        "staff.login" => "Accesso del personale",
        "counter.request" => "Richiesta allo sportello con avviso pagoPA",
        "comune.fees_changed" => "Tariffe modificate",
        "staff.changed" => "Personale modificato",
        "comune.settings_changed" => "Dati del Comune modificati",
        "api_key.created" => "Chiave API creata",
        "api_key.revoked" => "Chiave API revocata",
        "certificate_withdrawn" => "Certificato ritirato",
        other => other,
    }
}

/// The certificate's page: its `rilasciato` flag says it was just issued.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    rilasciato: Option<String>,
}

async fn load(
    state: &AppState,
    office: &Office,
    id: &str,
) -> Result<CertificateRecord, Box<Response>> {
    if id.len() > 64 {
        return Err(Box::new(not_found(office)));
    }
    match state
        .requests()
        .issuer()
        .store()
        .certificate(office.comune.code, id)
        .await
    {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(Box::new(not_found(office))),
        Err(error) => {
            tracing::error!(%error, "office: certificate not read");
            Err(Box::new(office.unavailable()))
        }
    }
}

fn not_found(office: &Office) -> Response {
    office.error(
        StatusCode::NOT_FOUND,
        "Certificato non trovato",
        "Nessun certificato con questo identificativo nel registro del Comune.",
    )
}

/// `GET /sportello/certificati/{id}`.
async fn certificate_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::ReadCertificates)).await);
    let record = try_page!(load(&state, &office, &id).await);
    render(
        &state,
        &office,
        &record,
        query.rilasciato.is_some(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    office: &Office,
    record: &CertificateRecord,
    just_issued: bool,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let store = state.requests().issuer().store();
    let history = match store
        .audit_entries(office.comune.code, Some(&record.id), 200)
        .await
    {
        Ok(entries) => entries,
        Err(e) => {
            tracing::error!(error = %e, "office: history not read");
            return office.unavailable();
        }
    };
    let history: Vec<Entry> = history.iter().map(Entry::of).collect();
    let verification_url = Some(seal::text::to_url(
        &office.comune.verification_host,
        &record.seal,
    ));
    let claims_bollo = state
        .requests()
        .issuer()
        .trust()
        .ok()
        .and_then(|trust| seal::verify(&record.seal, &trust, OffsetDateTime::now_utc()).ok())
        .and_then(|verified| verified.claims().bollo.clone())
        .map(|bollo| match bollo {
            seal::BolloRef::Iuv(iuv) => format!("virtuale, pagoPA, IUV {iuv}"),
            seal::BolloRef::Iubd(iubd) => format!("marca da bollo digitale, IUBD {iubd}"),
            seal::BolloRef::MarcaDigitale => {
                "marca da bollo digitale sull'impronta del PDF".to_owned()
            }
            seal::BolloRef::Marca { id, issued_on } => format!(
                "marca da bollo n. {id} emessa il {}",
                seal::rome::day_text(issued_on)
            ),
        });
    let withdrawable = matches!(
        record.status,
        store::model::CertificateStatus::Issued | store::model::CertificateStatus::Expired
    );
    let base = office.base();
    office.page(
        status,
        "office_certificate.html",
        context! {
            id => record.id.clone(),
            number => record.number.to_string(),
            kind => record.kind.title(),
            holder => record.holder.as_str(),
            usage => record.usage.to_string(),
            bollo => claims_bollo,
            status => record.status.italian(),
            status_code => record.status.code(),
            issued => record.issued_at.map(seal::rome::date_time_text),
            expires => record.expires_at.map(seal::rome::date_text),
            issued_by => record.issued_by.clone(),
            reason => record.revocation_reason.clone(),
            revoked_at => record.revoked_at.map(seal::rome::date_time_text),
            downloadable => record.status.pdf_available(),
            verification_url,
            just_issued,
            may_withdraw => office.may(Action::Withdraw) && withdrawable,
            error,
            history => ser(&history),
            ..base
        },
    )
}

/// `GET /sportello/certificati/{id}/certificato.pdf`: the PDF again, to
/// print.
async fn pdf(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::ReadCertificates)).await);
    let record = try_page!(load(&state, &office, &id).await);
    let store = state.requests().issuer().store();
    match store.certificate_pdf(office.comune.code, &record.id).await {
        Ok(bytes) => {
            if let Err(error) = office
                .audit(&state, "certificate.printed", &record.id, "")
                .await
            {
                tracing::error!(%error, "office: print not audited, not handed out");
                return office.unavailable();
            }
            let name = format!(
                "certificato-{}.pdf",
                record.number.to_string().replace('/', "-")
            );
            pdf_response(bytes, &name)
        }
        Err(store::StoreError::PdfNotAvailable { status }) => office.error(
            StatusCode::CONFLICT,
            "PDF non disponibile",
            &format!(
                "Il certificato è nello stato «{}»: il PDF si consegna solo dopo il rilascio.",
                status.italian()
            ),
        ),
        Err(error) => {
            tracing::error!(%error, "office: pdf not read");
            office.unavailable()
        }
    }
}

/// The revocation form.
#[derive(Debug, Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    motivo: String,
}

/// `POST /sportello/certificati/{id}/revoca`.
async fn revoke(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Withdraw)).await);
    try_page!(office.check_csrf(&form.csrf));
    let record = try_page!(load(&state, &office, &id).await);
    let withdrawal = Withdrawal::Revoke {
        reason: form.motivo,
    };
    withdrawn(&state, &office, &record, withdrawal).await
}

/// The supersession form.
#[derive(Debug, Deserialize)]
struct SupersedeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sostituto: String,
}

/// `POST /sportello/certificati/{id}/sostituzione`.
async fn supersede(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<SupersedeForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Withdraw)).await);
    try_page!(office.check_csrf(&form.csrf));
    let record = try_page!(load(&state, &office, &id).await);
    let Ok(by) = CertificateNumber::parse(form.sostituto.trim()) else {
        return render(
            &state,
            &office,
            &record,
            false,
            Some("Il numero del certificato sostitutivo si scrive anno/progressivo, per esempio 2026/000123.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    withdrawn(&state, &office, &record, Withdrawal::Supersede { by }).await
}

async fn withdrawn(
    state: &AppState,
    office: &Office,
    record: &CertificateRecord,
    withdrawal: Withdrawal,
) -> Response {
    let store = state.requests().issuer().store();
    let origin = office.client.to_string();
    match withdraw_from(
        store,
        office.comune.code,
        record.number,
        withdrawal,
        &office.actor(),
        Some(&origin),
        OffsetDateTime::now_utc(),
    )
    .await
    {
        Ok(changed) => {
            Redirect::to(&format!("/sportello/certificati/{}", changed.id)).into_response()
        }
        Err(WithdrawError::Store(error)) => {
            tracing::error!(%error, "office: not withdrawn");
            office.unavailable()
        }
        Err(error) => {
            render(
                state,
                office,
                record,
                false,
                Some(error.to_string()),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// The audit trail's filters, as the form sends them.
#[derive(Debug, Default, Deserialize, Serialize)]
struct AuditFilter {
    #[serde(default)]
    certificato: String,
    #[serde(default)]
    persona: String,
    #[serde(default)]
    operatore: String,
    #[serde(default)]
    dal: String,
    #[serde(default)]
    al: String,
}

/// Most entries the page shows; the CSV has up to the store's maximum.
const PAGE_ENTRIES: u32 = 200;

/// The entries the filter selects, or what is wrong with it.
async fn search(
    state: &AppState,
    office: &Office,
    filter: &AuditFilter,
    limit: u32,
) -> Result<Vec<AuditRecord>, Result<String, Box<Response>>> {
    let store = state.requests().issuer().store();
    let comune = office.comune.code;
    let unavailable =
        |error: store::StoreError| -> Result<Vec<AuditRecord>, Result<String, Box<Response>>> {
            tracing::error!(%error, "office: audit not searched");
            Err(Err(Box::new(office.unavailable())))
        };
    let mut subjects: Option<Vec<String>> = None;
    let certificate = filter.certificato.trim();
    if !certificate.is_empty() {
        let Ok(number) = CertificateNumber::parse(certificate) else {
            return Err(Ok(
                "Il numero del certificato si scrive anno/progressivo, per esempio 2026/000123."
                    .into(),
            ));
        };
        let mut ids = Vec::new();
        match store.certificate_by_number(comune, number).await {
            Ok(Some(record)) => {
                ids.push(record.id.clone());
                // The request that led to it, if any.
                match store.request_of_certificate(comune, &record.id).await {
                    Ok(Some(request)) => ids.push(request),
                    Ok(None) => {}
                    Err(error) => return unavailable(error),
                }
            }
            Ok(None) => {}
            Err(error) => return unavailable(error),
        }
        subjects = Some(ids);
    }
    let person = filter.persona.trim().to_ascii_uppercase();
    if !person.is_empty() {
        let Ok(code) = CodiceFiscale::parse(&person) else {
            return Err(Ok("Il codice fiscale della persona non è valido.".into()));
        };
        let mut ids = Vec::new();
        let certificates = store
            .list_certificates(
                comune,
                &CertificateFilter {
                    holder: Some(code.clone()),
                    limit: store::MAX_LIST_RESULTS,
                    ..CertificateFilter::default()
                },
            )
            .await;
        match certificates {
            Ok(list) => ids.extend(list.into_iter().map(|c| c.id)),
            Err(error) => return unavailable(error),
        }
        match store.requests_of_person(comune, &code, 1000).await {
            Ok(list) => ids.extend(list.into_iter().map(|r| r.id)),
            Err(error) => return unavailable(error),
        }
        subjects = Some(match subjects {
            Some(previous) => previous.into_iter().filter(|id| ids.contains(id)).collect(),
            None => ids,
        });
    }
    let operator = filter.operatore.trim().to_ascii_uppercase();
    let actor = if operator.is_empty() {
        None
    } else if CodiceFiscale::parse(&operator).is_ok() {
        Some(format!("staff:{operator}"))
    } else {
        // An API key's id, `cli`, `reconciliation`, a portal session.
        Some(filter.operatore.trim().to_owned())
    };
    let day = |text: &str| -> Result<Option<OffsetDateTime>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(text, format)
            .map(|date| Some(start_of_day(date)))
            .map_err(|_| "Le date si scrivono aaaa-mm-gg.".to_owned())
    };
    let from = day(&filter.dal).map_err(Ok)?;
    let until = day(&filter.al)
        .map_err(Ok)?
        .map(|start| start + time::Duration::days(1));
    let query = AuditQuery {
        subjects,
        actor,
        from,
        until,
        limit,
    };
    match store.search_audit(comune, &query).await {
        Ok(entries) => Ok(entries),
        Err(error) => unavailable(error),
    }
}

/// `GET /sportello/registro`: the audit trail, filtered.
async fn audit_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::ReadAudit)).await);
    let (entries, error) = match search(&state, &office, &filter, PAGE_ENTRIES).await {
        Ok(entries) => (entries, None),
        Err(Ok(message)) => (Vec::new(), Some(message)),
        Err(Err(response)) => return *response,
    };
    let rows: Vec<Entry> = entries.iter().map(Entry::of).collect();
    let query = serde_urlencoded::to_string(&filter).unwrap_or_default();
    let base = office.base();
    office.page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        "office_audit.html",
        context! {
            filter => ser(&filter),
            error,
            rows => ser(&rows),
            limit => PAGE_ENTRIES,
            full => rows.len() == PAGE_ENTRIES as usize,
            csv => format!("/sportello/registro.csv?{query}"),
            ..base
        },
    )
}

/// `GET /sportello/registro.csv`: the same entries as CSV (RFC 4180).
async fn audit_csv(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::ReadAudit)).await);
    let entries = match search(&state, &office, &filter, store::MAX_AUDIT_RESULTS).await {
        Ok(entries) => entries,
        Err(Ok(message)) => {
            return office.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Filtro non valido",
                &message,
            );
        }
        Err(Err(response)) => return *response,
    };
    let mut out = String::from("seq,data_ora,evento,oggetto,autore,dettaglio,hash\r\n");
    for entry in &entries {
        let fields = [
            entry.seq.to_string(),
            time_rfc3339(entry.at),
            entry.event.clone(),
            entry.subject.clone(),
            entry.actor.clone(),
            entry.detail.clone(),
            entry.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"registro-{}.csv\"",
                    office.comune.code
                ),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        out,
    )
        .into_response()
}

/// Midnight of `date` in Italy.
fn start_of_day(date: Date) -> OffsetDateTime {
    let naive = date.midnight();
    // The offset an hour into the day is the day's (the switch is at 01:00
    // UTC, never at midnight in Rome).
    let offset = seal::rome::offset_at(naive.assume_utc());
    naive.assume_offset(offset)
}

fn time_rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One CSV field: quoted when it holds a comma, a quote or a line break;
/// a leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet
/// never reads it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("plain"), "plain");
    }
}
