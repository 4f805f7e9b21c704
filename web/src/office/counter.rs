//! Issuance at the counter: find the person (by fiscal code or name, the
//! registry's data shown), choose kind, parts and use, and the stamp duty
//! as a marca da bollo on paper (its 14-digit identifier and issue date,
//! printed in the bollo box and sealed; one stamp pays one certificate of
//! the comune), as a pagoPA notice printed for the person to pay, or an
//! exemption. The PDF is then downloaded and printed.
//!
//! The choice is checked as the portal checks it
//! ([`crate::portal::flow::check_choice`]); who may ask is the counter's
//! rule ([`issuer::requests::requester_allowed`]).

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use issuer::eligibility::Subject;
use issuer::register::{BolloPlan, Issuance, IssueError};
use issuer::requests::{RequestError, Submission, requester_allowed};
use issuer::staff::Action;
use minijinja::context;
use seal::{CodiceFiscale, Stamp};
use serde::{Deserialize, Serialize};
use store::ApiKeyRole;
use store::model::{Channel, Person, RequestState};
use time::OffsetDateTime;

use super::{Office, office, try_page};
use crate::AppState;
use crate::portal::flow::{
    Choice, ChoiceErrors, ChoiceForm, check_choice, exemption_choices, kind_choices, part_choices,
    people_of,
};
use crate::portal::{display_name, euro, pdf_response, ser};
use crate::verify::ClientIp;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sportello/rilascio", get(search_page).post(search))
        .route("/sportello/rilascio/persona", post(person_page))
        .route("/sportello/rilascio/emetti", post(issue))
        .route("/sportello/richieste/{id}", get(request_page))
        .route("/sportello/richieste/{id}/avviso.pdf", get(notice))
}

/// Most people a search lists.
const SEARCH_LIMIT: u32 = 20;

/// A person found.
#[derive(Debug, Serialize)]
struct Found {
    fiscal_code: String,
    name: String,
    born: String,
    status: &'static str,
}

impl Found {
    fn of(person: &Person) -> Self {
        Self {
            fiscal_code: person.fiscal_code.as_str().to_owned(),
            name: display_name(person),
            born: format!(
                "{} a {}",
                seal::rome::day_text(person.birth_date),
                person.birth_place
            ),
            status: match person.registration {
                store::model::Registration::Resident => "residente",
                store::model::Registration::Aire(_) => "iscritto all'AIRE",
                store::model::Registration::Cancelled { .. } => "cancellato dall'anagrafe",
            },
        }
    }
}

/// `GET /sportello/rilascio`: the search.
async fn search_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::IssueAnagrafe)).await);
    let base = office.base();
    office.page(
        StatusCode::OK,
        "office_search.html",
        context! { query => "", searched => false, found => ser(Vec::<Found>::new()), ..base },
    )
}

/// The search form.
#[derive(Debug, Deserialize)]
struct SearchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    q: String,
}

/// `POST /sportello/rilascio`: the people whose fiscal code or name match.
async fn search(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SearchForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::IssueAnagrafe)).await);
    try_page!(office.check_csrf(&form.csrf));
    let query = form.q.trim();
    let store = state.requests().issuer().store();
    let found = if query.chars().count() < 2 || query.len() > 100 {
        Vec::new()
    } else {
        match store
            .search_people(office.comune.code, query, SEARCH_LIMIT)
            .await
        {
            Ok(people) => people.iter().map(Found::of).collect(),
            Err(error) => {
                tracing::error!(%error, "office: registry search failed");
                return office.unavailable();
            }
        }
    };
    let base = office.base();
    office.page(
        StatusCode::OK,
        "office_search.html",
        context! { query, searched => true, found => ser(&found), ..base },
    )
}

/// The person's form: the holder chosen.
#[derive(Debug, Deserialize)]
struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    persona: String,
}

/// `POST /sportello/rilascio/persona`: the person's data and the form.
async fn person_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PersonForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::IssueAnagrafe)).await);
    try_page!(office.check_csrf(&form.csrf));
    let subject = try_page!(subject(&state, &office, form.persona.trim()).await);
    let exemptions = try_page!(exemptions(&state, &office).await);
    let choice = ChoiceForm {
        persona: subject.person.fiscal_code.as_str().to_owned(),
        ..ChoiceForm::default()
    };
    let counter = CounterFields {
        richiedente: subject.person.fiscal_code.as_str().to_owned(),
        ..CounterFields::default()
    };
    issue_form(
        &state,
        &office,
        &subject,
        &exemptions,
        &choice,
        &counter,
        &ChoiceErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The registry's subject of `fiscal_code`, or the page that says why not.
async fn subject(
    state: &AppState,
    office: &Office,
    fiscal_code: &str,
) -> Result<Subject, Box<Response>> {
    let not_found = || {
        Box::new(office.error(
            StatusCode::NOT_FOUND,
            "Persona non trovata",
            "Nessuna persona con questo codice fiscale nell'anagrafe del Comune. Tornare alla ricerca.",
        ))
    };
    let Ok(code) = CodiceFiscale::parse(fiscal_code) else {
        return Err(not_found());
    };
    match state
        .requests()
        .issuer()
        .subject(office.comune.code, &code)
        .await
    {
        Ok(subject) => Ok(subject),
        Err(IssueError::UnknownPerson) => Err(not_found()),
        Err(error) => {
            tracing::error!(%error, "office: registry not read");
            Err(Box::new(office.unavailable()))
        }
    }
}

async fn exemptions(
    state: &AppState,
    office: &Office,
) -> Result<Vec<issuer::fees::ExemptionFee>, Box<Response>> {
    match state.requests().issuer().fee_schedule(&office.comune).await {
        Ok(schedule) => Ok(schedule
            .exemptions
            .into_iter()
            .filter(|e| e.id != issuer::catalogue::STATO_CIVILE_EXEMPTION)
            .collect()),
        Err(error) => {
            tracing::error!(%error, "office: fee schedule not read");
            Err(Box::new(office.unavailable()))
        }
    }
}

/// The counter's own fields of the issuance form.
#[derive(Debug, Default, Serialize)]
struct CounterFields {
    /// Who asks, by fiscal code.
    richiedente: String,
    /// `marca` or `pagopa`.
    pagamento: String,
    /// The marca's 14 digits.
    marca_numero: String,
    /// The marca's issue date, `YYYY-MM-DD`.
    marca_data: String,
}

impl CounterFields {
    fn of(form: &ChoiceForm) -> Self {
        let field = |name: &str| {
            form.rest
                .get(name)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        Self {
            richiedente: field("richiedente").to_ascii_uppercase(),
            pagamento: field("pagamento"),
            marca_numero: field("marca_numero").replace(' ', ""),
            marca_data: field("marca_data"),
        }
    }
}

/// What is wrong with the counter's fields.
#[derive(Debug, Default, Serialize)]
struct CounterErrors {
    richiedente: Option<String>,
    pagamento: Option<&'static str>,
    marca_numero: Option<String>,
    marca_data: Option<&'static str>,
}

impl CounterErrors {
    fn any(&self) -> bool {
        self.richiedente.is_some()
            || self.pagamento.is_some()
            || self.marca_numero.is_some()
            || self.marca_data.is_some()
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one form, its values and its errors"
)]
async fn issue_form(
    state: &AppState,
    office: &Office,
    subject: &Subject,
    exemptions: &[issuer::fees::ExemptionFee],
    form: &ChoiceForm,
    counter: &CounterFields,
    errors: &ChoiceErrors,
    counter_errors: Option<&CounterErrors>,
    status: StatusCode,
) -> Response {
    let store = state.requests().issuer().store();
    let address = store
        .address_of(office.comune.code, subject.person.id)
        .await
        .ok()
        .flatten()
        .map(|address| address.line());
    let kinds = kind_choices(form);
    let parts = part_choices(form);
    let people: Vec<Choice> = people_of(subject)
        .into_iter()
        .map(|person| Choice {
            value: person.fiscal_code.as_str().to_owned(),
            label: display_name(person),
            note: person
                .relationship
                .map(|code| seal::wording::relationship_name(code).to_owned()),
            checked: form.persona == person.fiscal_code.as_str(),
        })
        .collect();
    let exemption_choices = exemption_choices(exemptions, form);
    let none = CounterErrors::default();
    let counter_errors = counter_errors.unwrap_or(&none);
    let base = office.base();
    office.page(
        status,
        "office_issue.html",
        context! {
            person => ser(Found::of(&subject.person)),
            fiscal_code => subject.person.fiscal_code.as_str(),
            address,
            citizenship => subject.person.citizenship.clone(),
            kinds => ser(&kinds),
            parts => ser(&parts),
            people => ser(&people),
            exemptions => ser(exemption_choices),
            uso => form.uso.clone(),
            motivo => form.motivo.clone(),
            counter => ser(counter),
            errors => ser(errors),
            counter_errors => ser(counter_errors),
            has_errors => errors.any() || counter_errors.any(),
            bollo => euro(office.comune.bollo_cents),
            ..base
        },
    )
}

/// The issuance form as it was sent, to show again with its errors.
struct FormAgain<'a> {
    state: &'a AppState,
    office: &'a Office,
    subject: &'a Subject,
    exemptions: &'a [issuer::fees::ExemptionFee],
    form: &'a ChoiceForm,
    counter: &'a CounterFields,
}

impl FormAgain<'_> {
    async fn show(
        &self,
        errors: &ChoiceErrors,
        counter_errors: &CounterErrors,
        status: StatusCode,
    ) -> Response {
        issue_form(
            self.state,
            self.office,
            self.subject,
            self.exemptions,
            self.form,
            self.counter,
            errors,
            Some(counter_errors),
            status,
        )
        .await
    }
}

/// `POST /sportello/rilascio/emetti`: issues, or opens the pagoPA notice.
async fn issue(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ChoiceForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::IssueAnagrafe)).await);
    try_page!(office.check_csrf(&form.csrf));
    // The form's person is the holder; the page was about their family.
    let subject_code = form
        .rest
        .get("intestatario")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let subject = try_page!(subject(&state, &office, &subject_code).await);
    let exemptions = try_page!(exemptions(&state, &office).await);
    let counter = CounterFields::of(&form);
    // The form again, with what is wrong.
    let form_again = FormAgain {
        state: &state,
        office: &office,
        subject: &subject,
        exemptions: &exemptions,
        form: &form,
        counter: &counter,
    };
    let people = people_of(&subject);
    let checked = check_choice(&form, &people, &exemptions, false);
    let mut counter_errors = CounterErrors::default();
    let requester = CodiceFiscale::parse(&counter.richiedente).ok();
    if requester.is_none() {
        counter_errors.richiedente =
            Some("Indicare il codice fiscale di chi chiede il certificato.".to_owned());
    }
    let in_bollo = checked
        .as_ref()
        .ok()
        .is_some_and(|chosen| chosen.usage.stamp == Stamp::Bollo && !chosen.spec.stato_civile);
    let mut marca = None;
    if in_bollo {
        match counter.pagamento.as_str() {
            "marca" => {
                if !seal::BolloRef::is_marca_id(&counter.marca_numero) {
                    counter_errors.marca_numero = Some(
                        "Il numero identificativo della marca da bollo è di 14 cifre.".to_owned(),
                    );
                }
                let format = time::macros::format_description!("[year]-[month]-[day]");
                let today = seal::rome::local(OffsetDateTime::now_utc()).date();
                match time::Date::parse(&counter.marca_data, format) {
                    Ok(day) if day <= today && day.year() >= 2000 => {
                        marca = Some((counter.marca_numero.clone(), day));
                    }
                    _ => {
                        counter_errors.marca_data =
                            Some("Indicare la data di emissione stampata sulla marca.");
                    }
                }
            }
            "pagopa" => {}
            _ => {
                counter_errors.pagamento =
                    Some("Scegliere come si paga il bollo: marca da bollo o avviso pagoPA.");
            }
        }
    }
    let chosen = match checked {
        Ok(chosen) if !counter_errors.any() => chosen,
        Ok(_) => {
            return form_again
                .show(
                    &ChoiceErrors::default(),
                    &counter_errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
        }
        Err(errors) => {
            return form_again
                .show(&errors, &counter_errors, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let requester = requester.unwrap_or_else(|| chosen.holder.fiscal_code.clone());
    let holder_subject = if chosen.holder.fiscal_code == subject.person.fiscal_code {
        subject.clone()
    } else {
        try_page!(self::subject(&state, &office, chosen.holder.fiscal_code.as_str()).await)
    };
    if !requester_allowed(
        chosen.spec.kind,
        Channel::Counter,
        &holder_subject,
        &requester,
    ) {
        counter_errors.richiedente = Some(
            "Questo certificato si rilascia solo all'intestatario o a un componente della sua famiglia anagrafica (residenza e stato di famiglia a chiunque).".to_owned(),
        );
        return form_again
            .show(
                &ChoiceErrors::default(),
                &counter_errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
    }
    let now = OffsetDateTime::now_utc();
    if in_bollo && marca.is_none() {
        // The pagoPA notice, printed for the person to pay: a request of
        // the counter's channel, released when the receipt arrives.
        let submitted = state
            .requests()
            .submit(
                &Submission {
                    comune: office.comune.code,
                    kind: chosen.spec.kind,
                    parts: chosen.parts.clone(),
                    holder: chosen.holder.fiscal_code.clone(),
                    requester,
                    email: None,
                    usage: chosen.usage.clone(),
                    role: ApiKeyRole::Sportello,
                    key_id: office.actor(),
                    form_key: None,
                },
                now,
            )
            .await;
        return match submitted {
            Ok(record) => {
                let _ = office
                    .audit(&state, "counter.request", &record.id, "payment=pagopa")
                    .await;
                Redirect::to(&format!("/sportello/richieste/{}", record.id)).into_response()
            }
            Err(error) => request_error(&office, &error),
        };
    }
    let plan = match marca {
        Some((id, issued_on)) => BolloPlan::Paper { id, issued_on },
        None => BolloPlan::None,
    };
    let issuance = Issuance {
        comune: office.comune.code,
        spec: chosen.spec,
        fiscal_code: chosen.holder.fiscal_code.clone(),
        parts: chosen.parts.clone(),
        parcels: Vec::new(),
        usage: chosen.usage.clone(),
        issued_by: office.actor(),
        now,
    };
    match state
        .requests()
        .issuer()
        .issue_at_counter(&issuance, plan, Some(office.client.to_string()))
        .await
    {
        Ok(issued) => {
            tracing::info!(number = %issued.record.number, "office: issued at the counter");
            Redirect::to(&format!(
                "/sportello/certificati/{}?rilasciato=1",
                issued.record.id
            ))
            .into_response()
        }
        Err(IssueError::MarcaUsed(id)) => {
            tracing::info!("office: marca da bollo already used, refused");
            counter_errors.marca_numero = Some(format!(
                "La marca da bollo n. {id} è già stata usata per un altro certificato del Comune: una marca vale per un solo certificato."
            ));
            form_again
                .show(
                    &ChoiceErrors::default(),
                    &counter_errors,
                    StatusCode::CONFLICT,
                )
                .await
        }
        Err(IssueError::Refused(refusal)) => office.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Certificato non rilasciabile",
            &refusal.to_string(),
        ),
        Err(error) => {
            tracing::error!(%error, "office: not issued");
            office.unavailable()
        }
    }
}

fn request_error(office: &Office, error: &RequestError) -> Response {
    match error {
        RequestError::NotAllowed
        | RequestError::UsageNotAccepted(_)
        | RequestError::Catalogue(_) => office.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Richiesta non accettata",
            &error.to_string(),
        ),
        RequestError::Service(IssueError::Refused(refusal)) => office.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Certificato non rilasciabile",
            &refusal.to_string(),
        ),
        RequestError::Payment(_) => office.error(
            StatusCode::SERVICE_UNAVAILABLE,
            "pagoPA non raggiungibile",
            "Il servizio pagoPA non risponde in questo momento: la richiesta è registrata e l'avviso sarà disponibile appena risponde. Riaprire la richiesta tra qualche minuto.",
        ),
        other => {
            tracing::error!(error = %other, "office: request not made");
            office.unavailable()
        }
    }
}

/// `GET /sportello/richieste/{id}`: a request made at the counter, with
/// its pagoPA notice until it is paid, then its certificate.
async fn request_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::IssueAnagrafe)).await);
    let record = match state
        .requests()
        .advance(office.comune.code, &id, OffsetDateTime::now_utc())
        .await
    {
        Ok(record) => record,
        Err(RequestError::NotFound) => {
            return office.error(
                StatusCode::NOT_FOUND,
                "Richiesta non trovata",
                "Nessuna richiesta con questo identificativo nel Comune.",
            );
        }
        Err(error) => return request_error(&office, &error),
    };
    let payment = record.payment.as_ref();
    let base = office.base();
    office.page(
        StatusCode::OK,
        "office_request.html",
        context! {
            id => record.id.clone(),
            kind => record.kind.title(),
            state => record.state.italian(),
            issued => record.state == RequestState::Issued,
            awaiting => record.state == RequestState::AwaitingPayment,
            certificate => record.certificate_id.clone(),
            notice_number => payment.map(|p| p.notice_number.to_string()),
            amount => payment.map(|p| euro(p.amount_cents)),
            ..base
        },
    )
}

/// `GET /sportello/richieste/{id}/avviso.pdf`: the printed pagoPA notice.
async fn notice(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::IssueAnagrafe)).await);
    match state
        .requests()
        .payment_notice_pdf(office.comune.code, &id)
        .await
    {
        Ok(pdf) => pdf_response(pdf, "avviso-pagopa.pdf"),
        Err(RequestError::NotFound) => office.error(
            StatusCode::NOT_FOUND,
            "Richiesta non trovata",
            "Nessuna richiesta con questo identificativo nel Comune.",
        ),
        Err(error @ RequestError::NoNotice(_)) => office.error(
            StatusCode::CONFLICT,
            "Nessun avviso da pagare",
            &error.to_string(),
        ),
        Err(error) => request_error(&office, &error),
    }
}
