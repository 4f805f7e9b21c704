//! The request flow and the area personale.
//!
//! The steps pass what was chosen from page to page in the forms (POST, so
//! fiscal codes never appear in addresses or access logs); every step
//! checks it all again, and the issuer checks it once more when the request
//! is sent. The summary's form carries a random key: the same form sent
//! twice (a double click, a reload after sending) is one request.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use issuer::catalogue::{CATALOGUE, KindSpec, STATO_CIVILE_EXEMPTION, kind_by_slug};
use issuer::content::{CONTESTUALE_ORDER, civil_status_text};
use issuer::register::IssueError;
use issuer::requests::{RequestError, Submission};
use minijinja::context;
use seal::{CertificateKind, CodiceFiscale, Stamp, Usage};
use serde::{Deserialize, Serialize};
use store::model::{Channel, Person, RequestRecord, RequestState, Subject};
use store::{ApiKeyRole, SessionRecord};
use time::OffsetDateTime;

use super::session;
use super::{
    HOME, Portal, check_csrf, citizen, crumb, error_page, euro, here, not_found_page, pdf_response,
    ser, try_page,
};
use crate::AppState;

/// The kinds a citizen asks for here: the catalogue but the CDU (a case of
/// its own).
fn offered() -> impl Iterator<Item = &'static KindSpec> {
    CATALOGUE
        .iter()
        .filter(|spec| spec.kind != CertificateKind::DestinazioneUrbanistica)
}

/// The form field of a contestuale's part: `parte_<slug>`.
fn part_field(slug: &str) -> String {
    format!("parte_{slug}")
}

/// Most requests the area personale lists.
const AREA_LIMIT: u32 = 200;

/// `GET /richiesta`: the first step, the privacy notice.
pub(super) async fn privacy_step(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let session = try_page!(citizen(&state, &portal, &headers).await);
    let base = portal.base(Some(&session));
    portal.page(
        StatusCode::OK,
        "portal_privacy_step.html",
        context! {
            step => 1,
            already => session.privacy_read_at.is_some(),
            breadcrumbs => ser(flow_crumbs("Informativa sulla privacy")),
            ..base
        },
    )
}

/// The privacy step's form.
#[derive(Debug, Deserialize)]
pub(super) struct PrivacyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    letto: Option<String>,
}

/// `POST /richiesta/privacy`: the notice is acknowledged.
pub(super) async fn privacy_read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<PrivacyForm>,
) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let session = try_page!(citizen(&state, &portal, &headers).await);
    try_page!(check_csrf(&portal, &session, &form.csrf));
    if form.letto.as_deref() != Some("si") {
        let base = portal.base(Some(&session));
        return portal.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "portal_privacy_step.html",
            context! {
                step => 1,
                already => false,
                error => "Per continuare occorre dichiarare di aver letto l'informativa sulla privacy.",
                breadcrumbs => ser(flow_crumbs("Informativa sulla privacy")),
                ..base
            },
        );
    }
    let store = state.requests().issuer().store();
    if let Err(error) = store
        .mark_privacy_read(&session.id, OffsetDateTime::now_utc())
        .await
    {
        tracing::error!(%error, "portal: privacy acknowledgement not stored");
        return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
    }
    Redirect::to("/richiesta/dati").into_response()
}

/// The logged-in person's registry data, or the page that says they are
/// not in the registry.
async fn registry_subject(
    state: &AppState,
    portal: &Portal,
    session: &SessionRecord,
) -> Result<Subject, Box<Response>> {
    match state
        .requests()
        .issuer()
        .subject(portal.comune.code, &session.fiscal_code)
        .await
    {
        Ok(subject) => Ok(subject),
        Err(IssueError::UnknownPerson) => Err(Box::new(portal.error(
            Some(session),
            StatusCode::OK,
            "Non risulti nell'anagrafe del Comune",
            "L'anagrafe del Comune non ha una persona con il tuo codice fiscale: i certificati anagrafici si chiedono al comune di residenza. Se pensi che sia un errore, contatta l'ufficio anagrafe.",
        ))),
        Err(error) => {
            tracing::error!(%error, "portal: registry not read");
            Err(Box::new(error_page(
                Some(portal),
                StatusCode::SERVICE_UNAVAILABLE,
            )))
        }
    }
}

/// Sends a person who has not acknowledged the privacy notice back to it.
fn require_privacy(session: &SessionRecord) -> Result<(), Box<Response>> {
    match session.privacy_read_at {
        Some(_) => Ok(()),
        None => Err(Box::new(Redirect::to("/richiesta").into_response())),
    }
}

/// A person as the pages show them.
#[derive(Debug, Serialize)]
struct PersonView {
    fiscal_code: String,
    name: String,
    birth: String,
    citizenship: String,
    civil_status: &'static str,
    relationship: Option<&'static str>,
}

impl PersonView {
    fn of(person: &Person) -> Self {
        Self {
            fiscal_code: person.fiscal_code.as_str().to_owned(),
            name: super::display_name(person),
            birth: format!(
                "{} a {}",
                seal::rome::day_text(person.birth_date),
                person.birth_place
            ),
            citizenship: person.citizenship.clone(),
            civil_status: civil_status_text(person.civil_status, person.sex),
            relationship: person.relationship.map(seal::wording::relationship_name),
        }
    }
}

/// The people a citizen may ask for: themselves, then their registry
/// family.
pub(crate) fn people_of(subject: &Subject) -> Vec<&Person> {
    let mut people = vec![&subject.person];
    if let Some(family) = &subject.family {
        people.extend(
            family
                .members
                .iter()
                .filter(|member| member.fiscal_code != subject.person.fiscal_code),
        );
    }
    people
}

/// `GET /richiesta/dati`: what the registry holds.
pub(super) async fn your_data(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let session = try_page!(citizen(&state, &portal, &headers).await);
    try_page!(require_privacy(&session));
    let subject = try_page!(registry_subject(&state, &portal, &session).await);
    let address = subject
        .family
        .as_ref()
        .and_then(|family| family.address.as_ref())
        .map(store::model::Address::line);
    let family: Vec<PersonView> = people_of(&subject)
        .into_iter()
        .skip(1)
        .map(PersonView::of)
        .collect();
    let base = portal.base(Some(&session));
    portal.page(
        StatusCode::OK,
        "portal_data.html",
        context! {
            step => 2,
            person => ser(PersonView::of(&subject.person)),
            address,
            family => ser(&family),
            breadcrumbs => ser(flow_crumbs("I tuoi dati")),
            ..base
        },
    )
}

/// One option of a choice.
#[derive(Debug, Serialize)]
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) note: Option<String>,
    pub(crate) checked: bool,
}

/// The kinds offered, the form's one checked.
pub(crate) fn kind_choices(form: &ChoiceForm) -> Vec<Choice> {
    offered()
        .map(|spec| Choice {
            value: spec.slug.to_owned(),
            label: spec.kind.title().to_owned(),
            note: spec
                .stato_civile
                .then(|| "Esente da bollo e diritti per legge".to_owned()),
            checked: form.tipo == spec.slug,
        })
        .collect()
}

/// The contestuale's parts, the form's ones ticked.
pub(crate) fn part_choices(form: &ChoiceForm) -> Vec<Choice> {
    let ticked = form.parts();
    CONTESTUALE_ORDER
        .iter()
        .filter_map(|slug| kind_by_slug(slug).ok())
        .map(|spec| Choice {
            value: part_field(spec.slug),
            label: spec.kind.title().to_owned(),
            note: None,
            checked: ticked.contains(&spec.slug),
        })
        .collect()
}

/// The comune's exemptions with their norms, the form's one checked.
pub(crate) fn exemption_choices(
    exemptions: &[issuer::fees::ExemptionFee],
    form: &ChoiceForm,
) -> Vec<Choice> {
    exemptions
        .iter()
        .map(|exemption| Choice {
            value: exemption.id.to_string(),
            label: exemption.description.clone(),
            note: Some(exemption.norm.clone()),
            checked: form.esenzione == exemption.id.to_string(),
        })
        .collect()
}

/// What the choice form sends, and the summary's form again.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChoiceForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) tipo: String,
    #[serde(default)]
    pub(crate) persona: String,
    #[serde(default)]
    pub(crate) uso: String,
    #[serde(default)]
    pub(crate) esenzione: String,
    #[serde(default)]
    pub(crate) motivo: String,
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) modulo: String,
    /// The contestuale's parts, one checkbox each (`parte_<slug>=si`).
    #[serde(flatten)]
    pub(crate) rest: std::collections::BTreeMap<String, String>,
}

impl ChoiceForm {
    /// The contestuale's parts ticked, in the printed order.
    pub(crate) fn parts(&self) -> Vec<&'static str> {
        CONTESTUALE_ORDER
            .iter()
            .copied()
            .filter(|slug| self.rest.get(&part_field(slug)).is_some_and(|v| v == "si"))
            .collect()
    }
}

/// A choice that holds together.
pub(crate) struct Chosen<'a> {
    pub(crate) spec: &'static KindSpec,
    /// For a contestuale, the kinds it combines.
    pub(crate) parts: Vec<CertificateKind>,
    pub(crate) holder: &'a Person,
    pub(crate) usage: Usage,
    pub(crate) email: Option<String>,
}

/// What is wrong with a choice, field by field, in Italian.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ChoiceErrors {
    pub(crate) tipo: Option<&'static str>,
    pub(crate) persona: Option<&'static str>,
    pub(crate) uso: Option<&'static str>,
    pub(crate) motivo: Option<&'static str>,
    pub(crate) email: Option<&'static str>,
}

impl ChoiceErrors {
    pub(crate) fn any(&self) -> bool {
        self.tipo.is_some()
            || self.persona.is_some()
            || self.uso.is_some()
            || self.motivo.is_some()
            || self.email.is_some()
    }
}

/// The comune's exemptions a citizen may declare (never the stato civile
/// one, which follows from the kind).
async fn exemptions(
    state: &AppState,
    portal: &Portal,
) -> Result<Vec<issuer::fees::ExemptionFee>, Box<Response>> {
    match state.requests().issuer().fee_schedule(&portal.comune).await {
        Ok(schedule) => Ok(schedule
            .exemptions
            .into_iter()
            .filter(|exemption| exemption.id != STATO_CIVILE_EXEMPTION)
            .collect()),
        Err(error) => {
            tracing::error!(%error, "portal: fee schedule not read");
            Err(Box::new(error_page(
                Some(portal),
                StatusCode::SERVICE_UNAVAILABLE,
            )))
        }
    }
}

/// Checks a choice against the registry and the comune's exemptions.
pub(crate) fn check_choice<'a>(
    form: &ChoiceForm,
    people: &[&'a Person],
    exemptions: &[issuer::fees::ExemptionFee],
    marca: bool,
) -> Result<Chosen<'a>, ChoiceErrors> {
    let mut errors = ChoiceErrors::default();
    let spec = kind_by_slug(form.tipo.trim())
        .ok()
        .filter(|spec| offered().any(|offered| offered.kind == spec.kind));
    if spec.is_none() {
        errors.tipo = Some("Scegliere il certificato.");
    }
    let parts: Vec<CertificateKind> = form
        .parts()
        .into_iter()
        .filter_map(|slug| kind_by_slug(slug).ok().map(|spec| spec.kind))
        .collect();
    let contestuale = spec.is_some_and(|spec| spec.kind == CertificateKind::Contestuale);
    if contestuale && parts.len() < 2 {
        errors.tipo =
            Some("Per il certificato contestuale scegliere almeno due certificati da riunire.");
    }
    let parts = if contestuale { parts } else { Vec::new() };
    let holder = people
        .iter()
        .find(|person| person.fiscal_code.as_str() == form.persona.trim())
        .copied();
    if holder.is_none() {
        errors.persona = Some("Scegliere la persona a cui si riferisce il certificato.");
    }
    let stato_civile = spec.is_some_and(|spec| spec.stato_civile);
    let usage = if stato_civile {
        // Exempt by law whatever the use: nothing to declare.
        Some(Usage {
            stamp: Stamp::Bollo,
            clause: seal::Clause::Standard,
        })
    } else {
        match form.uso.as_str() {
            "bollo" => Some(Usage {
                stamp: Stamp::Bollo,
                clause: seal::Clause::Standard,
            }),
            "esente" => {
                let exemption = form
                    .esenzione
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .and_then(|id| exemptions.iter().find(|exemption| exemption.id == id));
                match exemption {
                    None => {
                        errors.uso = Some("Scegliere il motivo dell'esenzione dall'elenco.");
                        None
                    }
                    Some(exemption) if exemption.id == 99 => {
                        let reason = form.motivo.trim();
                        if reason.is_empty() || reason.chars().count() > 200 {
                            errors.motivo = Some(
                                "Per «altro» indicare la norma che prevede l'esenzione (al massimo 200 caratteri).",
                            );
                            None
                        } else {
                            Some(Usage {
                                stamp: Stamp::Exempt {
                                    code: 99,
                                    note: Some(reason.to_owned()),
                                },
                                clause: seal::Clause::Standard,
                            })
                        }
                    }
                    Some(exemption) => Some(Usage {
                        stamp: Stamp::Exempt {
                            code: exemption.id,
                            note: None,
                        },
                        clause: seal::Clause::Standard,
                    }),
                }
            }
            _ => {
                errors.uso = Some(
                    "Scegliere l'uso: in bollo, oppure esente indicando il motivo dell'esenzione.",
                );
                None
            }
        }
    };
    let email = form.email.trim();
    let email = (!email.is_empty()).then(|| email.to_owned());
    if email.as_deref().is_some_and(|email| !valid_email(email)) {
        errors.email = Some("L'indirizzo e-mail non è valido.");
    }
    let in_bollo = usage
        .as_ref()
        .is_some_and(|usage| usage.stamp == Stamp::Bollo && !stato_civile);
    if marca && in_bollo && email.is_none() {
        errors.email = Some(
            "Per pagare la marca da bollo digitale occorre un indirizzo e-mail, dove pagoPA invia la ricevuta.",
        );
    }
    match (spec, holder, usage) {
        (Some(spec), Some(holder), Some(usage)) if !errors.any() => Ok(Chosen {
            spec,
            parts,
            holder,
            usage,
            email,
        }),
        _ => Err(errors),
    }
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `GET /richiesta/certificato`: the choice.
pub(super) async fn choose(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let session = try_page!(citizen(&state, &portal, &headers).await);
    try_page!(require_privacy(&session));
    let subject = try_page!(registry_subject(&state, &portal, &session).await);
    let exemptions = try_page!(exemptions(&state, &portal).await);
    choice_page(
        &portal,
        &session,
        &subject,
        &exemptions,
        &ChoiceForm::default(),
        &ChoiceErrors::default(),
        StatusCode::OK,
    )
}

fn choice_page(
    portal: &Portal,
    session: &SessionRecord,
    subject: &Subject,
    exemptions: &[issuer::fees::ExemptionFee],
    form: &ChoiceForm,
    errors: &ChoiceErrors,
    status: StatusCode,
) -> Response {
    let kinds = kind_choices(form);
    let people: Vec<Choice> = people_of(subject)
        .into_iter()
        .enumerate()
        .map(|(index, person)| Choice {
            value: person.fiscal_code.as_str().to_owned(),
            label: if index == 0 {
                format!("{} (tu)", super::display_name(person))
            } else {
                super::display_name(person)
            },
            note: person
                .relationship
                .filter(|_| index > 0)
                .map(|code| seal::wording::relationship_name(code).to_owned()),
            checked: form.persona == person.fiscal_code.as_str(),
        })
        .collect();
    let exemption_choices = exemption_choices(exemptions, form);
    let parts = part_choices(form);
    let base = portal.base(Some(session));
    portal.page(
        status,
        "portal_choose.html",
        context! {
            step => 3,
            kinds => ser(&kinds),
            parts => ser(&parts),
            people => ser(&people),
            exemptions => ser(exemption_choices),
            uso => form.uso.clone(),
            motivo => form.motivo.clone(),
            email => form.email.clone(),
            marca => portal.comune.bollo_mode == store::model::BolloMode::MarcaDigitale,
            errors => ser(errors),
            has_errors => errors.any(),
            bollo => euro(portal.comune.bollo_cents),
            breadcrumbs => ser(flow_crumbs("Scelta del certificato")),
            ..base
        },
    )
}

/// What the steps that take the choice form need, checked: the session
/// (with the form's CSRF token and the privacy notice acknowledged), the
/// registry's subject, the comune's exemptions.
struct FormStep {
    portal: Portal,
    session: SessionRecord,
    subject: Subject,
    exemptions: Vec<issuer::fees::ExemptionFee>,
    marca: bool,
}

async fn form_step(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<FormStep, Box<Response>> {
    let portal = Portal::load(state).await?;
    let session = citizen(state, &portal, headers).await?;
    check_csrf(&portal, &session, csrf)?;
    require_privacy(&session)?;
    let subject = registry_subject(state, &portal, &session).await?;
    let exemptions = exemptions(state, &portal).await?;
    let marca = portal.comune.bollo_mode == store::model::BolloMode::MarcaDigitale;
    Ok(FormStep {
        portal,
        session,
        subject,
        exemptions,
        marca,
    })
}

/// The choice page again, 422, with what is wrong.
fn choice_again(
    portal: &Portal,
    session: &SessionRecord,
    subject: &Subject,
    exemptions: &[issuer::fees::ExemptionFee],
    form: &ChoiceForm,
    errors: &ChoiceErrors,
) -> Response {
    choice_page(
        portal,
        session,
        subject,
        exemptions,
        form,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// `POST /richiesta/riepilogo`: the summary, or the choice again with
/// what is wrong.
pub(super) async fn summary(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ChoiceForm>,
) -> Response {
    let FormStep {
        portal,
        session,
        subject,
        exemptions,
        marca,
    } = try_page!(form_step(&state, &headers, &form.csrf).await);
    let people = people_of(&subject);
    let chosen = match check_choice(&form, &people, &exemptions, marca) {
        Ok(chosen) => chosen,
        Err(errors) => {
            return choice_again(&portal, &session, &subject, &exemptions, &form, &errors);
        }
    };
    let quote = match state
        .requests()
        .quote(
            portal.comune.code,
            chosen.spec.kind,
            &chosen.usage,
            Channel::Online,
        )
        .await
    {
        Ok(quote) => quote,
        Err(error) => {
            tracing::error!(%error, "portal: quote not made");
            return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let Some(form_key) = session::random_token() else {
        return error_page(Some(&portal), StatusCode::INTERNAL_SERVER_ERROR);
    };
    let use_text = use_text(&chosen, &exemptions);
    // The choice again, for the send: the same fields, and the parts.
    let mut hidden = std::collections::BTreeMap::new();
    for (name, value) in [
        ("tipo", form.tipo.trim()),
        ("persona", form.persona.trim()),
        ("uso", form.uso.trim()),
        ("esenzione", form.esenzione.trim()),
        ("motivo", form.motivo.trim()),
        ("email", form.email.trim()),
        ("modulo", form_key.as_str()),
    ] {
        hidden.insert(name.to_owned(), value.to_owned());
    }
    for slug in form.parts() {
        hidden.insert(part_field(slug), "si".to_owned());
    }
    let base = portal.base(Some(&session));
    portal.page(
        StatusCode::OK,
        "portal_summary.html",
        context! {
            step => 4,
            kind => kind_text(&chosen),
            holder => ser(PersonView::of(chosen.holder)),
            use_text,
            email => chosen.email.clone(),
            bollo => (quote.bollo_cents > 0).then(|| euro(quote.bollo_cents)),
            diritti => (quote.diritti_cents > 0).then(|| euro(quote.diritti_cents)),
            total => euro(quote.total_cents()),
            free => quote.total_cents() == 0,
            marca,
            form => ser(&hidden),
            breadcrumbs => ser(flow_crumbs("Riepilogo")),
            ..base
        },
    )
}

/// The certificate as the summary says it: a contestuale with its parts.
fn kind_text(chosen: &Chosen<'_>) -> String {
    let title = chosen.spec.kind.title();
    if chosen.parts.is_empty() {
        return title.to_owned();
    }
    let parts: Vec<&str> = chosen.parts.iter().map(|kind| kind.title()).collect();
    format!("{title}: {}", parts.join("; "))
}

/// The use as the summary says it.
fn use_text(chosen: &Chosen<'_>, exemptions: &[issuer::fees::ExemptionFee]) -> String {
    if chosen.spec.stato_civile {
        return "Esente da imposta di bollo e diritti di segreteria per legge (L. 405/1990 art. 7)"
            .to_owned();
    }
    match &chosen.usage.stamp {
        Stamp::Bollo => "In bollo".to_owned(),
        Stamp::Exempt { code, note } => {
            let exemption = exemptions.iter().find(|exemption| exemption.id == *code);
            match (exemption, note) {
                (_, Some(note)) => format!("Esente da bollo: {note}"),
                (Some(exemption), None) => format!(
                    "Esente da bollo: {} ({})",
                    exemption.description, exemption.norm
                ),
                (None, None) => "Esente da bollo".to_owned(),
            }
        }
    }
}

/// `POST /richiesta/invia`: the request is sent.
pub(super) async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ChoiceForm>,
) -> Response {
    let FormStep {
        portal,
        session,
        subject,
        exemptions,
        marca,
    } = try_page!(form_step(&state, &headers, &form.csrf).await);
    let people = people_of(&subject);
    let form_key = form.modulo.trim();
    if form_key.len() != 64 || !form_key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return portal.error(
            Some(&session),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Modulo non valido",
            "Il modulo di riepilogo non è completo. Tornare alla scelta del certificato e riprovare.",
        );
    }
    let chosen = match check_choice(&form, &people, &exemptions, marca) {
        Ok(chosen) => chosen,
        Err(errors) => {
            return choice_again(&portal, &session, &subject, &exemptions, &form, &errors);
        }
    };
    let submission = Submission {
        comune: portal.comune.code,
        kind: chosen.spec.kind,
        parts: chosen.parts.clone(),
        holder: chosen.holder.fiscal_code.clone(),
        requester: session.fiscal_code.clone(),
        email: chosen.email.clone(),
        usage: chosen.usage.clone(),
        role: ApiKeyRole::Portale,
        key_id: format!("sessione:{}", session::log_name(&session)),
        form_key: Some(form_key.to_ascii_lowercase()),
    };
    match state
        .requests()
        .submit(&submission, OffsetDateTime::now_utc())
        .await
    {
        Ok(record) => {
            tracing::info!(
                session = session::log_name(&session),
                request = %record.id,
                state = record.state.code(),
                "portal: request sent"
            );
            Redirect::to(&format!("/area-personale/richieste/{}", record.id)).into_response()
        }
        Err(RequestError::Payment(error)) => {
            // The request is stored; its payment opens at the next
            // reconciliation pass.
            tracing::warn!(%error, "portal: request stored, payment not opened yet");
            portal.error(
                Some(&session),
                StatusCode::ACCEPTED,
                "Richiesta registrata",
                "La richiesta è registrata, ma il servizio pagoPA non risponde in questo momento: l'avviso di pagamento sarà pronto tra qualche minuto nell'area personale. Non occorre inviare di nuovo la richiesta.",
            )
        }
        Err(RequestError::NotAllowed) => portal.error(
            Some(&session),
            StatusCode::FORBIDDEN,
            "Richiesta non consentita",
            "Online si possono chiedere certificati solo per sé o per i componenti della propria famiglia anagrafica.",
        ),
        Err(
            error @ (RequestError::UsageNotAccepted(_)
            | RequestError::EmailRequired
            | RequestError::Catalogue(_)
            | RequestError::KindNotRequestable),
        ) => portal.error(
            Some(&session),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Richiesta non accettata",
            &format!("{error}. Tornare alla scelta del certificato e correggere."),
        ),
        Err(error) => {
            tracing::error!(%error, "portal: request not sent");
            error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// A request as the area personale lists it.
#[derive(Debug, Serialize)]
struct RequestRow {
    id: String,
    kind: &'static str,
    holder: String,
    state: &'static str,
    state_class: &'static str,
    created: String,
}

fn state_class(state: RequestState) -> &'static str {
    match state {
        RequestState::Issued => "success",
        RequestState::AwaitingPayment | RequestState::Requested | RequestState::Prepared => {
            "warning"
        }
        RequestState::Refused | RequestState::Cancelled | RequestState::Expired => "danger",
    }
}

fn kind_title(record: &RequestRecord) -> &'static str {
    record.kind.title()
}

/// Whether the citizen may see `record`: they made it, or it is about them.
fn owns(session: &SessionRecord, record: &RequestRecord) -> bool {
    record.requester == session.fiscal_code || record.holder == session.fiscal_code
}

/// The names of the people of the citizen's registry family, by fiscal
/// code; others are shown by fiscal code only.
async fn names(
    state: &AppState,
    portal: &Portal,
    session: &SessionRecord,
) -> Vec<(String, String)> {
    match state
        .requests()
        .issuer()
        .subject(portal.comune.code, &session.fiscal_code)
        .await
    {
        Ok(subject) => people_of(&subject)
            .into_iter()
            .map(|person| {
                (
                    person.fiscal_code.as_str().to_owned(),
                    super::display_name(person),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn name_of(names: &[(String, String)], code: &CodiceFiscale) -> String {
    names
        .iter()
        .find(|(known, _)| known == code.as_str())
        .map_or_else(|| code.as_str().to_owned(), |(_, name)| name.clone())
}

/// `GET /area-personale`: every request of the citizen.
pub(super) async fn area(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let session = try_page!(citizen(&state, &portal, &headers).await);
    let store = state.requests().issuer().store();
    let records = match store
        .requests_of_person(portal.comune.code, &session.fiscal_code, AREA_LIMIT)
        .await
    {
        Ok(records) => records,
        Err(error) => {
            tracing::error!(%error, "portal: requests not listed");
            return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let names = names(&state, &portal, &session).await;
    let rows: Vec<RequestRow> = records
        .iter()
        .map(|record| RequestRow {
            id: record.id.clone(),
            kind: kind_title(record),
            holder: name_of(&names, &record.holder),
            state: record.state.italian(),
            state_class: state_class(record.state),
            created: seal::rome::date_time_text(record.created_at),
        })
        .collect();
    let base = portal.base(Some(&session));
    portal.page(
        StatusCode::OK,
        "portal_area.html",
        context! {
            rows => ser(&rows),
            breadcrumbs => ser(vec![HOME, here("Area personale")]),
            ..base
        },
    )
}

/// One line of a request's history.
#[derive(Debug, Serialize)]
struct Event {
    at: String,
    what: &'static str,
}

fn event_text(event: &str) -> Option<&'static str> {
    Some(match event {
        "request.created" => "Richiesta ricevuta",
        "request.refused" => "Richiesta respinta",
        "payment.opened" => "Avviso di pagamento pagoPA emesso",
        "certificate.issued" => "Pagamento confermato, certificato rilasciato",
        "request.cancelled" => "Richiesta annullata",
        "request.expired" => "Richiesta scaduta senza pagamento",
        "certificate.downloaded" => "Certificato scaricato",
        "receipt.rejected" => "Ricevuta di pagamento non accettata",
        _ => return None,
    })
}

/// The request's certificate as its page shows it.
#[derive(Debug, Serialize)]
struct CertificateView {
    number: String,
    status: &'static str,
    in_force: bool,
    issued: Option<String>,
    expires: Option<String>,
    verify_url: String,
    revocation_reason: Option<String>,
}

/// `GET /area-personale/richieste/{id}`.
pub(super) async fn request_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let session = try_page!(citizen(&state, &portal, &headers).await);
    let record = try_page!(owned_request(&state, &portal, &session, &id).await);
    let store = state.requests().issuer().store();
    let history: Vec<Event> = match store
        .audit_entries(portal.comune.code, Some(&record.id), 100)
        .await
    {
        Ok(entries) => entries
            .iter()
            .filter_map(|entry| {
                event_text(&entry.event).map(|what| Event {
                    at: seal::rome::date_time_text(entry.at),
                    what,
                })
            })
            .collect(),
        Err(error) => {
            tracing::error!(%error, "portal: request history not read");
            Vec::new()
        }
    };
    let certificate = match (&record.state, &record.certificate_id) {
        (RequestState::Issued, Some(certificate)) => {
            match store.certificate(portal.comune.code, certificate).await {
                Ok(Some(certificate)) => Some(CertificateView {
                    number: certificate.number.to_string(),
                    status: certificate.status.italian(),
                    in_force: certificate.status == store::model::CertificateStatus::Issued
                        && certificate
                            .expires_at
                            .is_none_or(|expiry| expiry > OffsetDateTime::now_utc()),
                    issued: certificate.issued_at.map(seal::rome::date_time_text),
                    expires: certificate.expires_at.map(seal::rome::date_text),
                    verify_url: format!("/v#{}", seal::text::to_digits(&certificate.seal)),
                    revocation_reason: certificate.revocation_reason.clone(),
                }),
                Ok(None) => None,
                Err(error) => {
                    tracing::error!(%error, "portal: certificate not read");
                    None
                }
            }
        }
        _ => None,
    };
    let names = names(&state, &portal, &session).await;
    let payment = record.payment.as_ref().map(|payment| {
        context! {
            notice => payment.notice_number.as_str(),
            amount => euro(payment.amount_cents),
            pay_by => seal::rome::date_time_text(payment.pay_by),
            paid => payment.paid_at.map(seal::rome::date_time_text),
            marca => payment.mode == store::model::PaymentMode::Marca,
            url => payment.checkout_url.clone(),
            creditor => portal.comune.creditor_fiscal_code.clone(),
        }
    });
    let base = portal.base(Some(&session));
    portal.page(
        StatusCode::OK,
        "portal_request.html",
        context! {
            id => record.id.clone(),
            kind => kind_title(&record),
            holder => ser(name_of(&names, &record.holder)),
            state => record.state.italian(),
            state_class => state_class(record.state),
            awaiting => record.state == RequestState::AwaitingPayment,
            issued => record.state == RequestState::Issued,
            refusal => record.refusal.clone(),
            created => seal::rome::date_time_text(record.created_at),
            payment,
            certificate => ser(&certificate),
            history => ser(&history),
            breadcrumbs => ser(vec![HOME, crumb("Area personale", "/area-personale"), here("Richiesta")]),
            ..base
        },
    )
}

/// The citizen's request `id`, or the 404 page: another person's request
/// is not said to exist.
async fn owned_request(
    state: &AppState,
    portal: &Portal,
    session: &SessionRecord,
    id: &str,
) -> Result<RequestRecord, Box<Response>> {
    match state.requests().get(portal.comune.code, id).await {
        Ok(record) if owns(session, &record) => Ok(record),
        Ok(_) => {
            tracing::warn!(
                session = session::log_name(session),
                "portal: a request of someone else was asked for"
            );
            Err(Box::new(not_found_page(Some(portal))))
        }
        Err(RequestError::NotFound) => Err(Box::new(not_found_page(Some(portal)))),
        Err(error) => {
            tracing::error!(%error, "portal: request not read");
            Err(Box::new(error_page(
                Some(portal),
                StatusCode::SERVICE_UNAVAILABLE,
            )))
        }
    }
}

/// A document of the citizen's request.
#[derive(Debug, Clone, Copy)]
enum Document {
    /// The issued certificate.
    Certificate,
    /// The printed pagoPA notice.
    Notice,
}

/// `GET /area-personale/richieste/{id}/certificato.pdf`.
pub(super) async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    document(&state, &headers, &id, Document::Certificate).await
}

/// `GET /area-personale/richieste/{id}/avviso.pdf`: the printed pagoPA
/// notice, for paying at a PSP.
pub(super) async fn payment_notice(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    document(&state, &headers, &id, Document::Notice).await
}

/// A PDF of the citizen's own request `id`.
async fn document(state: &AppState, headers: &HeaderMap, id: &str, which: Document) -> Response {
    let portal = try_page!(Portal::load(state).await);
    let session = try_page!(citizen(state, &portal, headers).await);
    let record = try_page!(owned_request(state, &portal, &session, id).await);
    let requests = state.requests();
    let made = match which {
        Document::Certificate => {
            let actor = format!("sessione:{}", session::log_name(&session));
            requests
                .download(
                    portal.comune.code,
                    &record.id,
                    &actor,
                    OffsetDateTime::now_utc(),
                )
                .await
        }
        Document::Notice => {
            requests
                .payment_notice_pdf(portal.comune.code, &record.id)
                .await
        }
    };
    let (name, title, what) = match which {
        Document::Certificate => (
            "certificato",
            "Certificato non ancora disponibile",
            "Il certificato non è ancora rilasciato",
        ),
        Document::Notice => (
            "avviso",
            "Nessun avviso da pagare",
            "Questa richiesta non ha un avviso di pagamento da stampare",
        ),
    };
    match made {
        Ok(pdf) => pdf_response(pdf, &format!("{name}-{}.pdf", record.id)),
        Err(RequestError::NotIssued(state) | RequestError::NoNotice(state)) => portal.error(
            Some(&session),
            StatusCode::CONFLICT,
            title,
            &format!("{what}: la richiesta è {}.", state.italian()),
        ),
        Err(error) => {
            tracing::error!(%error, "portal: document not made");
            error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// The flow's breadcrumbs, ending at `step`.
fn flow_crumbs(step: &'static str) -> Vec<super::Crumb> {
    vec![
        HOME,
        crumb("Certificati anagrafici online", "/"),
        here(step),
    ]
}
