//! The citizen portal: the service page, login, the request flow, the area
//! personale, and the pages every public site of a comune must have.
//!
//! The flow follows the service model of Designers Italia
//! (`design-comuni-pagine-statiche`, `servizi/`): service page → login →
//! privacy notice → «i tuoi dati» (what the registry holds) → choice of
//! certificate, person and use → summary → payment → done, with the
//! request then followed in the area personale.
//!
//! Every page but the service page and the public notices needs a session
//! ([`session`]); every POST carries the session's CSRF token. A citizen
//! sees and downloads only the requests they made or that are about them,
//! whatever the URL says. The comune is the portal's
//! ([`PortalSettings::comune`]).
//!
//! Login: the demo login ([`PortalSettings::demo_login`]) lets a visitor
//! of the demo comune pick one of its residents; it is never offered in
//! production or for a comune that is not a demo.

pub(crate) mod flow;
pub(crate) mod login;
pub(crate) mod session;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use seal::{CodiceFiscale, ComuneCode};
use serde::{Deserialize, Serialize};
use store::model::{ComuneRecord, Person};
use store::{NewSession, SessionKind, SessionRecord};
use time::OffsetDateTime;

use crate::AppState;
use crate::templates;

pub(crate) use session::TIMEOUTS;

/// The portal's settings.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// The comune the portal serves.
    pub comune: ComuneCode,
    /// Whether the demo login is offered (only ever for a demo comune
    /// outside production; the binary decides, the portal checks the
    /// comune too).
    pub demo_login: bool,
    /// Who to contact, for the contacts page and the privacy notice.
    pub contacts: Contacts,
    /// Login with SPID and CIE, when configured.
    pub oidc: Option<std::sync::Arc<oidc::RelyingParty>>,
}

/// The comune's contacts, as its configuration gives them. What is not
/// given is not shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contacts {
    /// The office that issues certificates, e.g. «Ufficio anagrafe».
    pub office: Option<String>,
    /// Its address.
    pub address: Option<String>,
    /// Its opening hours.
    pub hours: Option<String>,
    /// Its telephone number.
    pub phone: Option<String>,
    /// Its e-mail.
    pub email: Option<String>,
    /// The comune's PEC.
    pub pec: Option<String>,
    /// The data protection officer's e-mail (GDPR art. 37).
    pub dpo_email: Option<String>,
}

/// The portal's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/accedi", get(login_page))
        .route("/accedi/demo", post(demo_login))
        .route("/accedi/oidc/{provider}", get(login::begin))
        .route("/accedi/ritorno", get(login::finish))
        .route(
            "/.well-known/openid-federation",
            get(login::entity_configuration),
        )
        .route("/oidc/jwks.json", get(login::jwks))
        .route("/esci", post(logout))
        .route("/richiesta", get(flow::privacy_step))
        .route("/richiesta/privacy", post(flow::privacy_read))
        .route("/richiesta/dati", get(flow::your_data))
        .route("/richiesta/certificato", get(flow::choose))
        .route("/richiesta/riepilogo", post(flow::summary))
        .route("/richiesta/invia", post(flow::send))
        .route("/area-personale", get(flow::area))
        .route("/area-personale/richieste/{id}", get(flow::request_page))
        .route(
            "/area-personale/richieste/{id}/certificato.pdf",
            get(flow::download),
        )
        .route(
            "/area-personale/richieste/{id}/avviso.pdf",
            get(flow::payment_notice),
        )
        .route("/informativa-privacy", get(privacy_notice))
        .route("/dichiarazione-accessibilita", get(accessibility))
        .route("/contatti", get(contacts))
}

/// A crumb of the breadcrumbs: the last has no link.
#[derive(Debug, Serialize)]
pub(crate) struct Crumb {
    label: &'static str,
    href: Option<&'static str>,
}

pub(crate) const HOME: Crumb = Crumb {
    label: "Home",
    href: Some("/"),
};

pub(crate) const fn crumb(label: &'static str, href: &'static str) -> Crumb {
    Crumb {
        label,
        href: Some(href),
    }
}

pub(crate) const fn here(label: &'static str) -> Crumb {
    Crumb { label, href: None }
}

/// The portal's comune and settings, or the answer when there is none.
pub(crate) struct Portal {
    pub(crate) settings: PortalSettings,
    pub(crate) comune: ComuneRecord,
}

impl Portal {
    pub(crate) async fn load(state: &AppState) -> Result<Self, Box<Response>> {
        let Some(settings) = state.portal().cloned() else {
            return Err(Box::new(not_found_page(None)));
        };
        match state
            .requests()
            .issuer()
            .store()
            .comune(settings.comune)
            .await
        {
            Ok(Some(comune)) => Ok(Self { settings, comune }),
            Ok(None) => {
                tracing::error!(comune = %settings.comune, "portal: the comune is not in the store");
                Err(Box::new(error_page(
                    None,
                    StatusCode::INTERNAL_SERVER_ERROR,
                )))
            }
            Err(error) => {
                tracing::error!(%error, "portal: comune not read");
                Err(Box::new(error_page(None, StatusCode::SERVICE_UNAVAILABLE)))
            }
        }
    }

    /// Whether the demo login may be used here.
    pub(crate) fn demo_login(&self) -> bool {
        self.settings.demo_login && self.comune.demo
    }

    /// What every page of the portal shows: the comune, and the person
    /// logged in with the logout form's token.
    pub(crate) fn base(&self, session: Option<&SessionRecord>) -> Value {
        context! {
            comune => self.comune.name.clone(),
            portal => true,
            user => session.map(|s| s.display_name.clone()),
            csrf => session.map(|s| s.csrf.clone()),
        }
    }

    pub(crate) fn page(&self, status: StatusCode, template: &str, context: Value) -> Response {
        let response = templates::page(status, template, context);
        allow_provider_forms(response, Some(&self.settings))
    }

    /// The error page in the portal's layout.
    pub(crate) fn error(
        &self,
        session: Option<&SessionRecord>,
        status: StatusCode,
        title: &str,
        text: &str,
    ) -> Response {
        let base = self.base(session);
        self.page(
            status,
            "error.html",
            context! { title, text, home => true, ..base },
        )
    }
}

/// `response` with the identity providers' origins allowed as form
/// targets: a login form (the office's) goes there through our redirect,
/// and the logout form ends at the provider, and a form's redirects are
/// governed by `form-action` too.
pub(crate) fn allow_provider_forms(
    mut response: Response,
    settings: Option<&PortalSettings>,
) -> Response {
    if let Some(rp) = settings.and_then(|settings| settings.oidc.as_ref()) {
        let origins = rp.provider_origins();
        if !origins.is_empty() {
            let policy = templates::CONTENT_SECURITY_POLICY.replace(
                "form-action 'self'",
                &format!("form-action 'self' {}", origins.join(" ")),
            );
            if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, value);
            }
        }
    }
    response
}

/// The citizen's session, or where to send them.
pub(crate) async fn citizen(
    state: &AppState,
    portal: &Portal,
    headers: &HeaderMap,
) -> Result<SessionRecord, Box<Response>> {
    match session::find(state, headers, OffsetDateTime::now_utc()).await {
        Ok(session::Found::Active(record)) if record.comune == portal.comune.code => Ok(record),
        Ok(session::Found::Active(_) | session::Found::None) => {
            Err(Box::new(Redirect::to("/accedi").into_response()))
        }
        Ok(session::Found::Expired) => {
            let mut response = portal.error(
                None,
                StatusCode::UNAUTHORIZED,
                "Sessione scaduta",
                "Per sicurezza la sessione si chiude dopo 30 minuti senza attività, o dopo 8 ore dall'accesso. Accedere di nuovo per continuare: le richieste già inviate restano nell'area personale.",
            );
            session::set(response.headers_mut(), session::clear_cookie(state));
            Err(Box::new(response))
        }
        Err(error) => {
            tracing::error!(%error, "portal: session not read");
            Err(Box::new(portal.error(
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                "Servizio non disponibile",
                "Il servizio non è al momento disponibile. Riprovare tra qualche minuto.",
            )))
        }
    }
}

/// Refuses a form whose token is not the session's.
pub(crate) fn check_csrf(
    portal: &Portal,
    session: &SessionRecord,
    given: &str,
) -> Result<(), Box<Response>> {
    if session::same_token(given, &session.csrf) {
        return Ok(());
    }
    tracing::warn!(
        session = session::log_name(session),
        "portal: form refused, CSRF token does not match"
    );
    Err(Box::new(portal.error(
        Some(session),
        StatusCode::FORBIDDEN,
        "Modulo non valido",
        "Il modulo inviato non appartiene a questa sessione (forse è stato aperto in un'altra finestra o la sessione è cambiata). Tornare alla pagina e riprovare.",
    )))
}

/// The session, when there is one, for pages that do not need it.
async fn optional_session(
    state: &AppState,
    portal: &Portal,
    headers: &HeaderMap,
) -> Option<SessionRecord> {
    match session::find(state, headers, OffsetDateTime::now_utc()).await {
        Ok(session::Found::Active(record)) if record.comune == portal.comune.code => Some(record),
        _ => None,
    }
}

macro_rules! try_page {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(response) => return *response,
        }
    };
}
pub(crate) use try_page;

/// `GET /`: the service page.
async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let session = optional_session(&state, &portal, &headers).await;
    let base = portal.base(session.as_ref());
    // The amounts the next request will be charged: the comune's fee
    // schedule, as the administration last set it.
    let schedule = match state.requests().issuer().fee_schedule(&portal.comune).await {
        Ok(schedule) => schedule,
        Err(error) => {
            tracing::error!(%error, "portal: fee schedule not read");
            return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    portal.page(
        StatusCode::OK,
        "portal_home.html",
        context! {
            bollo => euro(schedule.bollo_cents),
            diritti_bollo => euro(schedule.diritti_bollo_cents),
            diritti_esente => euro(schedule.diritti_esente_cents),
            logged_in => session.is_some(),
            breadcrumbs => ser(vec![HOME, here("Certificati anagrafici online")]),
            ..base
        },
    )
}

/// `GET /accedi`: how to log in.
async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    if optional_session(&state, &portal, &headers).await.is_some() {
        return Redirect::to("/area-personale").into_response();
    }
    let (demo, token) = if portal.demo_login() {
        let store = state.requests().issuer().store();
        let heads = store.family_heads(portal.comune.code, 12).await;
        let people: Vec<DemoPerson> = match heads {
            Ok(people) => people.iter().map(DemoPerson::of).collect(),
            Err(error) => {
                tracing::error!(%error, "portal: demo residents not read");
                Vec::new()
            }
        };
        (Some(people), session::random_token())
    } else {
        (None, None)
    };
    let providers = portal
        .settings
        .oidc
        .as_ref()
        .map(|rp| rp.providers())
        .unwrap_or_default();
    let base = portal.base(None);
    let mut response = portal.page(
        StatusCode::OK,
        "portal_login.html",
        context! {
            providers => ser(&providers),
            demo => ser(&demo),
            login_token => token.clone(),
            breadcrumbs => ser(vec![HOME, here("Accesso")]),
            ..base
        },
    );
    if let Some(token) = token {
        session::set(
            response.headers_mut(),
            session::login_cookie(&state, &token),
        );
    }
    response
}

/// A demo resident offered by the demo login.
#[derive(Debug, Serialize)]
struct DemoPerson {
    fiscal_code: String,
    name: String,
}

impl DemoPerson {
    fn of(person: &Person) -> Self {
        Self {
            fiscal_code: person.fiscal_code.as_str().to_owned(),
            name: display_name(person),
        }
    }
}

/// «Mario Rossi», as the header greets them.
pub(crate) fn display_name(person: &Person) -> String {
    let title = |text: &str| {
        text.split(' ')
            .map(|word| {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => {
                        first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase()
                    }
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!("{} {}", title(&person.given_names), title(&person.surname))
}

/// The demo login form.
#[derive(Debug, Deserialize)]
struct DemoLoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    persona: String,
}

/// `POST /accedi/demo`: logs in as a demo resident.
async fn demo_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<DemoLoginForm>,
) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    if !portal.demo_login() {
        return not_found_page(Some(&portal));
    }
    let expected = session::cookie(&headers, session::LOGIN_COOKIE).unwrap_or_default();
    if !session::same_token(&form.csrf, &expected) {
        tracing::warn!("portal: demo login refused, login token does not match");
        return portal.error(
            None,
            StatusCode::FORBIDDEN,
            "Accesso non riuscito",
            "Il modulo di accesso è scaduto o non è stato aperto da questo sito. Riaprire la pagina di accesso e riprovare.",
        );
    }
    let store = state.requests().issuer().store();
    let person = match CodiceFiscale::parse(form.persona.trim()) {
        Ok(code) => store.person_by_fiscal_code(portal.comune.code, &code).await,
        Err(_) => Ok(None),
    };
    let person = match person {
        Ok(Some(person)) => person,
        Ok(None) => {
            return portal.error(
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Accesso non riuscito",
                "La persona scelta non è tra i residenti del comune dimostrativo. Tornare alla pagina di accesso e sceglierne una dall'elenco.",
            );
        }
        Err(error) => {
            tracing::error!(%error, "portal: demo login, registry not read");
            return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let name = display_name(&person);
    let opened = store
        .create_session(&NewSession {
            kind: SessionKind::Citizen,
            comune: portal.comune.code,
            fiscal_code: &person.fiscal_code,
            display_name: &name,
            provider: "demo",
            tokens: None,
            now: OffsetDateTime::now_utc(),
        })
        .await;
    match opened {
        Ok((token, record)) => {
            tracing::info!(
                session = session::log_name(&record),
                provider = "demo",
                "portal: login"
            );
            let mut response = Redirect::to("/area-personale").into_response();
            session::set(response.headers_mut(), session::open_cookie(&state, &token));
            response
        }
        Err(error) => {
            tracing::error!(%error, "portal: session not opened");
            error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// The logout form.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

/// `POST /esci`: ends the session.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let record = match session::find(&state, &headers, OffsetDateTime::now_utc()).await {
        Ok(session::Found::Active(record)) => record,
        _ => {
            let mut response = Redirect::to("/").into_response();
            session::set(response.headers_mut(), session::clear_cookie(&state));
            return response;
        }
    };
    try_page!(check_csrf(&portal, &record, &form.csrf));
    if let Err(error) = state
        .requests()
        .issuer()
        .store()
        .end_session(&record.id)
        .await
    {
        tracing::error!(%error, "portal: session not ended");
        return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
    }
    tracing::info!(session = session::log_name(&record), "portal: logout");
    // A provider's login ends there too, where it can.
    let provider_logout = match (&record.tokens, &portal.settings.oidc) {
        (Some(tokens), Some(rp)) => {
            rp.logout(
                &record.provider,
                &tokens.id_token,
                &tokens.access_token,
                OffsetDateTime::now_utc(),
            )
            .await
        }
        _ => None,
    };
    let mut response = Redirect::to(provider_logout.as_deref().unwrap_or("/")).into_response();
    session::set(response.headers_mut(), session::clear_cookie(&state));
    response
}

/// `GET /informativa-privacy`.
async fn privacy_notice(State(state): State<AppState>, headers: HeaderMap) -> Response {
    info_page(
        &state,
        &headers,
        "privacy.html",
        "Informativa sulla privacy",
    )
    .await
}

/// `GET /dichiarazione-accessibilita`.
async fn accessibility(State(state): State<AppState>, headers: HeaderMap) -> Response {
    info_page(
        &state,
        &headers,
        "accessibility.html",
        "Dichiarazione di accessibilità",
    )
    .await
}

/// `GET /contatti`.
async fn contacts(State(state): State<AppState>, headers: HeaderMap) -> Response {
    info_page(&state, &headers, "contacts.html", "Contatti").await
}

async fn info_page(
    state: &AppState,
    headers: &HeaderMap,
    template: &str,
    title: &'static str,
) -> Response {
    let portal = try_page!(Portal::load(state).await);
    let session = optional_session(state, &portal, headers).await;
    let base = portal.base(session.as_ref());
    portal.page(
        StatusCode::OK,
        template,
        context! {
            title,
            contacts => ser(portal.settings.contacts.clone()),
            public_base_url => state.requests().settings().public_base_url.clone(),
            breadcrumbs => ser(vec![HOME, here(title)]),
            ..base
        },
    )
}

/// The 404 page in the portal's layout.
pub(crate) fn not_found_page(portal: Option<&Portal>) -> Response {
    let (title, text) = (
        "Pagina non trovata",
        "L'indirizzo non corrisponde a nessuna pagina. Controllare l'indirizzo, oppure tornare alla pagina iniziale.",
    );
    match portal {
        Some(portal) => portal.error(None, StatusCode::NOT_FOUND, title, text),
        None => templates::page(
            StatusCode::NOT_FOUND,
            "error.html",
            context! { title, text, home => true },
        ),
    }
}

/// A 5xx page in the portal's layout: only that something failed.
pub(crate) fn error_page(portal: Option<&Portal>, status: StatusCode) -> Response {
    let (title, text) = if status == StatusCode::SERVICE_UNAVAILABLE {
        (
            "Servizio non disponibile",
            "Il servizio non è al momento disponibile. Riprovare tra qualche minuto; se il problema persiste, contattare il Comune.",
        )
    } else {
        (
            "Errore interno",
            "Si è verificato un errore interno. Riprovare più tardi; se il problema persiste, contattare il Comune.",
        )
    };
    match portal {
        Some(portal) => portal.error(None, status, title, text),
        None => templates::page(status, "error.html", context! { title, text, home => true }),
    }
}

/// `GET` of any other path outside `/api/`: the 404 page.
pub(crate) async fn fallback(State(state): State<AppState>) -> Response {
    match Portal::load(&state).await {
        Ok(portal) => not_found_page(Some(&portal)),
        Err(_) => not_found_page(None),
    }
}

/// A serde value for a template.
pub(crate) fn ser(value: impl Serialize) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Cents as «16,00 €».
pub(crate) fn euro(cents: i64) -> String {
    format!("{},{:02} €", cents / 100, (cents % 100).abs())
}

/// A PDF download.
pub(crate) fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
