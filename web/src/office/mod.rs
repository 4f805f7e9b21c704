//! The office: the pages of the comune's staff, at the counter and in the
//! back office.
//!
//! - Login at `/accedi/ufficio`: through the comune's SPID/CIE providers
//!   (a staff member is a fiscal code with roles) or, where a comune has
//!   none, with a local password and a TOTP code
//!   ([`issuer::staff::local_login`]). The session is of kind
//!   [`SessionKind::Staff`], with a cookie of its own, bound to the comune
//!   chosen at login: someone with roles in two comuni acts in one at a
//!   time.
//! - Every page names the [`Action`] it performs; [`office`] reads the
//!   member's roles from the store on each request (a role taken away, or
//!   an account disabled, counts at once) and refuses what the roles do
//!   not allow, with 403. Without a session a page sends to the login.
//! - Every form carries the session's CSRF token. What staff do is in the
//!   comune's audit chain with their identifier and address.

mod admin;
mod counter;
mod records;

use std::net::IpAddr;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use issuer::staff::{Action, LocalLogin, Role, roles_of};
use minijinja::{Value, context};
use seal::{CodiceFiscale, ComuneCode};
use serde::{Deserialize, Serialize};
use store::model::ComuneRecord;
use store::{AuditEntry, NewSession, ProviderTokens, SessionKind, SessionRecord, StaffRecord};
use time::OffsetDateTime;

use crate::AppState;
use crate::portal::{Portal, ser, session};
use crate::templates;
use crate::verify::ClientIp;

/// The office's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/accedi/ufficio", get(login_page).post(local_login))
        .route("/accedi/ufficio/oidc/{provider}", get(oidc_login))
        .route("/sportello", get(home))
        .route("/sportello/esci", post(logout))
        .route("/sportello/verifica", get(scan_page))
        .merge(counter::routes())
        .merge(records::routes())
        .merge(admin::routes())
}

/// A page of the office's navigation, open to some roles.
#[derive(Debug, Serialize)]
struct NavItem {
    label: &'static str,
    href: &'static str,
}

/// The office's pages, each with the action that opens it.
const NAV: [(Action, &str, &str); 5] = [
    (Action::IssueAnagrafe, "Rilascio", "/sportello/rilascio"),
    (Action::Verify, "Verifica", "/sportello/verifica"),
    (
        Action::ReadCertificates,
        "Certificati",
        "/sportello/certificati",
    ),
    (
        Action::ReadAudit,
        "Registro delle operazioni",
        "/sportello/registro",
    ),
    (
        Action::Administer,
        "Amministrazione",
        "/sportello/amministrazione",
    ),
];

/// A staff member at work: their session, their record and roles as the
/// store holds them now, their comune, and where they connect from.
pub(crate) struct Office {
    pub(crate) session: SessionRecord,
    pub(crate) member: StaffRecord,
    pub(crate) roles: Vec<Role>,
    pub(crate) comune: ComuneRecord,
    pub(crate) client: IpAddr,
    /// The portal's settings, for the identity providers.
    settings: Option<crate::PortalSettings>,
}

impl Office {
    /// Whether the member's roles allow `action`.
    pub(crate) fn may(&self, action: Action) -> bool {
        action.allowed(&self.roles)
    }

    /// Who they are in the audit chain.
    pub(crate) fn actor(&self) -> String {
        format!("staff:{}", self.member.fiscal_code.as_str())
    }

    /// What every office page shows.
    pub(crate) fn base(&self) -> Value {
        let nav: Vec<NavItem> = NAV
            .iter()
            .filter(|(action, ..)| self.may(*action))
            .map(|(_, label, href)| NavItem { label, href })
            .collect();
        let roles: Vec<&str> = self.roles.iter().map(|role| role.label()).collect();
        context! {
            comune => self.comune.name.clone(),
            office => true,
            user => self.member.display_name.clone(),
            roles => roles.join(", "),
            csrf => self.session.csrf.clone(),
            office_nav => ser(&nav),
        }
    }

    /// A page in the office's layout; its logout form may end at the
    /// identity provider.
    pub(crate) fn page(&self, status: StatusCode, template: &str, context: Value) -> Response {
        crate::portal::allow_provider_forms(
            templates::page(status, template, context),
            self.settings.as_ref(),
        )
    }

    /// The error page in the office's layout.
    pub(crate) fn error(&self, status: StatusCode, title: &str, text: &str) -> Response {
        let base = self.base();
        self.page(status, "error.html", context! { title, text, ..base })
    }

    /// The 503 page: the store or a service failed.
    pub(crate) fn unavailable(&self) -> Response {
        self.error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Servizio non disponibile",
            "Il servizio non è al momento disponibile. Riprovare tra qualche minuto; se il problema persiste, avvisare l'amministratore.",
        )
    }

    /// Refuses a form whose token is not the session's.
    pub(crate) fn check_csrf(&self, given: &str) -> Result<(), Box<Response>> {
        if session::same_token(given, &self.session.csrf) {
            return Ok(());
        }
        tracing::warn!(
            session = session::log_name(&self.session),
            "office: form refused, CSRF token does not match"
        );
        Err(Box::new(self.error(
            StatusCode::FORBIDDEN,
            "Modulo non valido",
            "Il modulo inviato non appartiene a questa sessione (forse è stato aperto in un'altra finestra o la sessione è cambiata). Tornare alla pagina e riprovare.",
        )))
    }

    /// Appends what the member did to the comune's audit chain, with
    /// their address.
    pub(crate) async fn audit(
        &self,
        state: &AppState,
        event: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(), store::StoreError> {
        let detail = if detail.is_empty() {
            format!("from={}", self.client)
        } else {
            format!("{detail} from={}", self.client)
        };
        state
            .requests()
            .issuer()
            .store()
            .audit(
                self.comune.code,
                &AuditEntry {
                    at: OffsetDateTime::now_utc(),
                    event,
                    subject,
                    actor: &self.actor(),
                    detail: &detail,
                },
            )
            .await
    }
}

/// A page answered outside a staff session (login, refusals before it).
fn outside(status: StatusCode, title: &str, text: &str, comune: Option<String>) -> Response {
    templates::page(
        status,
        "error.html",
        context! { title, text, office => true, comune },
    )
}

/// The 503 page outside a staff session.
fn unavailable_outside() -> Response {
    outside(
        StatusCode::SERVICE_UNAVAILABLE,
        "Servizio non disponibile",
        "Il servizio non è al momento disponibile. Riprovare tra qualche minuto.",
        None,
    )
}

/// The staff member of the request's session, allowed `action` (or any
/// role, with `None`); otherwise the answer: to the login without a
/// session, 401 for one that timed out, 403 for a role that does not
/// allow it or an account no longer active.
pub(crate) async fn office(
    state: &AppState,
    headers: &HeaderMap,
    client: IpAddr,
    action: Option<Action>,
) -> Result<Office, Box<Response>> {
    let now = OffsetDateTime::now_utc();
    let session = match session::find_kind(state, headers, now, SessionKind::Staff).await {
        Ok(session::Found::Active(record)) => record,
        Ok(session::Found::None) => {
            return Err(Box::new(Redirect::to("/accedi/ufficio").into_response()));
        }
        Ok(session::Found::Expired) => {
            let mut response = outside(
                StatusCode::UNAUTHORIZED,
                "Sessione scaduta",
                "Per sicurezza la sessione si chiude dopo 30 minuti senza attività, o dopo 8 ore dall'accesso. Accedere di nuovo per continuare.",
                None,
            );
            session::set(
                response.headers_mut(),
                session::clear_cookie_kind(state, SessionKind::Staff),
            );
            return Err(Box::new(response));
        }
        Err(error) => {
            tracing::error!(%error, "office: session not read");
            return Err(Box::new(unavailable_outside()));
        }
    };
    let store = state.requests().issuer().store();
    let found = match (
        store.staff(session.comune, &session.fiscal_code).await,
        store.comune(session.comune).await,
    ) {
        (Ok(member), Ok(comune)) => member.zip(comune),
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "office: staff member not read");
            return Err(Box::new(unavailable_outside()));
        }
    };
    let active = found.filter(|(member, _)| member.disabled_at.is_none());
    let Some((member, comune)) = active.filter(|(member, _)| !roles_of(member).is_empty()) else {
        // Disabled, removed, or left without roles since login.
        tracing::warn!(
            session = session::log_name(&session),
            "office: session of a member no longer active, ended"
        );
        let _ = store.end_session(&session.id).await;
        let mut response = outside(
            StatusCode::FORBIDDEN,
            "Accesso non più consentito",
            "L'utenza non è più attiva in questo Comune, o non ha più ruoli. Per informazioni rivolgersi all'amministratore.",
            None,
        );
        session::set(
            response.headers_mut(),
            session::clear_cookie_kind(state, SessionKind::Staff),
        );
        return Err(Box::new(response));
    };
    let roles = roles_of(&member);
    let office = Office {
        session,
        member,
        roles,
        comune,
        client,
        settings: state.portal().cloned(),
    };
    if let Some(action) = action
        && !office.may(action)
    {
        tracing::info!(
            session = session::log_name(&office.session),
            action = ?action,
            "office: action not allowed to the member's roles"
        );
        return Err(Box::new(office.error(
            StatusCode::FORBIDDEN,
            "Operazione non consentita",
            "I ruoli della tua utenza in questo Comune non consentono questa operazione. Se ti serve, chiedi all'amministratore di assegnarti il ruolo.",
        )));
    }
    Ok(office)
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

/// A comune offered at login.
#[derive(Debug, Serialize)]
struct ComuneChoice {
    code: String,
    name: String,
    selected: bool,
}

/// `GET /accedi/ufficio?comune=`: the staff login.
async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    if let Ok(session::Found::Active(_)) =
        session::find_kind(&state, &headers, now, SessionKind::Staff).await
    {
        return Redirect::to("/sportello").into_response();
    }
    login_form(&state, StatusCode::OK, None, query.comune.as_deref(), "").await
}

/// The comune asked for, kept across the login form.
#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    comune: Option<String>,
}

/// The login form, with `error` above it.
async fn login_form(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    comune: Option<&str>,
    fiscal_code: &str,
) -> Response {
    let store = state.requests().issuer().store();
    let comuni = match store.list_comuni().await {
        Ok(comuni) => comuni,
        Err(error) => {
            tracing::error!(%error, "office: comuni not read");
            return unavailable_outside();
        }
    };
    // The portal's comune first chosen, else the first.
    let wanted = comune
        .map(str::to_owned)
        .or_else(|| state.portal().map(|p| p.comune.as_str().to_owned()));
    let selected = comuni
        .iter()
        .find(|c| Some(c.code.as_str()) == wanted.as_deref())
        .or(comuni.first())
        .map(|c| c.code);
    let choices: Vec<ComuneChoice> = comuni
        .iter()
        .map(|c| ComuneChoice {
            code: c.code.as_str().to_owned(),
            name: c.name.clone(),
            selected: Some(c.code) == selected,
        })
        .collect();
    let header = comuni
        .iter()
        .find(|c| Some(c.code) == selected)
        .map(|c| c.name.clone());
    let providers = state
        .portal()
        .and_then(|p| p.oidc.as_ref())
        .map(|rp| rp.providers())
        .unwrap_or_default();
    let Some(token) = session::random_token() else {
        return outside(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Errore interno",
            "Si è verificato un errore interno. Riprovare più tardi.",
            None,
        );
    };
    let page = templates::page(
        status,
        "office_login.html",
        context! {
            office => true,
            comune => header,
            comuni => ser(&choices),
            single => choices.len() == 1,
            providers => ser(&providers),
            login_token => token.clone(),
            error,
            fiscal_code,
        },
    );
    // The provider buttons' form goes to the provider through our redirect.
    let mut response = crate::portal::allow_provider_forms(page, state.portal());
    session::set(response.headers_mut(), session::login_cookie(state, &token));
    response
}

/// The local login form.
#[derive(Debug, Deserialize)]
struct LocalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comune: String,
    #[serde(default)]
    codice_fiscale: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    codice: String,
}

/// `POST /accedi/ufficio`: the local login (password and TOTP code).
async fn local_login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LocalForm>,
) -> Response {
    let expected = session::cookie(&headers, session::LOGIN_COOKIE).unwrap_or_default();
    let comune_text = form.comune.trim();
    if !session::same_token(&form.csrf, &expected) {
        tracing::warn!("office: login refused, login token does not match");
        return login_form(
            &state,
            StatusCode::FORBIDDEN,
            Some("Il modulo di accesso è scaduto o non è stato aperto da questo sito: riprovare."),
            Some(comune_text),
            "",
        )
        .await;
    }
    let given_code = form.codice_fiscale.trim().to_ascii_uppercase();
    let refused = |status, text: &'static str| {
        let state = state.clone();
        let comune = comune_text.to_owned();
        let code = given_code.clone();
        async move { login_form(&state, status, Some(text), Some(&comune), &code).await }
    };
    let (Ok(comune), Ok(fiscal_code)) = (
        ComuneCode::parse(comune_text),
        CodiceFiscale::parse(&given_code),
    ) else {
        return refused(
            StatusCode::UNAUTHORIZED,
            "Codice fiscale, password o codice non corretti.",
        )
        .await;
    };
    let now = OffsetDateTime::now_utc();
    let store = state.requests().issuer().store();
    let outcome = issuer::staff::local_login(
        store,
        comune,
        &fiscal_code,
        &form.password,
        form.codice.trim(),
        now,
    )
    .await;
    match outcome {
        Ok(LocalLogin::Ok(_)) => {
            open_session_from(&state, comune, &fiscal_code, "locale", None, now, Some(client))
                .await
        }
        Ok(LocalLogin::Refused) => {
            tracing::info!(comune = %comune, "office: local login refused");
            refused(
                StatusCode::UNAUTHORIZED,
                "Codice fiscale, password o codice non corretti.",
            )
            .await
        }
        Ok(LocalLogin::CodeReused) => {
            refused(
                StatusCode::UNAUTHORIZED,
                "Questo codice è già stato usato: attendere il codice successivo dell'app di autenticazione.",
            )
            .await
        }
        Ok(LocalLogin::Locked(_)) => {
            tracing::warn!(comune = %comune, "office: local login on a locked account");
            refused(
                StatusCode::FORBIDDEN,
                "Troppi tentativi non riusciti: l'utenza è bloccata per 15 minuti. Riprovare più tardi, o rivolgersi all'amministratore.",
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "office: local login not checked");
            unavailable_outside()
        }
    }
}

/// `GET /accedi/ufficio/oidc/{provider}?comune=`: a staff login with an
/// identity provider, for the comune chosen.
async fn oidc_login(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let portal = match Portal::load(&state).await {
        Ok(portal) => portal,
        Err(response) => return *response,
    };
    let Some(comune) = query
        .comune
        .as_deref()
        .and_then(|c| ComuneCode::parse(c).ok())
    else {
        return Redirect::to("/accedi/ufficio").into_response();
    };
    crate::portal::login::begin_login(&state, &portal, &provider, SessionKind::Staff, comune).await
}

/// Opens a staff session in `comune` for `fiscal_code`, vouched for by
/// `provider` (an identity provider with its `tokens`): only for an active
/// member with a role there.
pub(crate) async fn open_session(
    state: &AppState,
    comune: ComuneCode,
    fiscal_code: &CodiceFiscale,
    provider: &str,
    tokens: Option<ProviderTokens>,
    now: OffsetDateTime,
) -> Response {
    let mut response =
        open_session_from(state, comune, fiscal_code, provider, tokens, now, None).await;
    session::set(response.headers_mut(), session::oidc_cookie(state, None));
    response
}

async fn open_session_from(
    state: &AppState,
    comune: ComuneCode,
    fiscal_code: &CodiceFiscale,
    provider: &str,
    tokens: Option<ProviderTokens>,
    now: OffsetDateTime,
    client: Option<IpAddr>,
) -> Response {
    let store = state.requests().issuer().store();
    let member = match store.staff(comune, fiscal_code).await {
        Ok(member) => member.filter(|m| m.disabled_at.is_none() && !roles_of(m).is_empty()),
        Err(error) => {
            tracing::error!(%error, "office: staff member not read");
            return unavailable_outside();
        }
    };
    let Some(member) = member else {
        tracing::info!(comune = %comune, provider, "office: login of someone who is not staff here");
        return outside(
            StatusCode::FORBIDDEN,
            "Utenza non abilitata",
            "L'identità è stata riconosciuta, ma non risulta un'utenza attiva del personale di questo Comune. Per essere abilitati rivolgersi all'amministratore.",
            None,
        );
    };
    let opened = store
        .create_session(&NewSession {
            kind: SessionKind::Staff,
            comune,
            fiscal_code,
            display_name: &member.display_name,
            provider,
            tokens,
            now,
        })
        .await;
    let (token, record) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(%error, "office: session not opened");
            return unavailable_outside();
        }
    };
    let detail = match client {
        Some(client) => format!("provider={provider} from={client}"),
        None => format!("provider={provider}"),
    };
    let audited = store
        .audit(
            comune,
            &AuditEntry {
                at: now,
                event: "staff.login",
                subject: session::log_name(&record),
                actor: &format!("staff:{}", fiscal_code.as_str()),
                detail: &detail,
            },
        )
        .await;
    if let Err(error) = audited {
        tracing::error!(%error, "office: login not audited, session ended");
        let _ = store.end_session(&record.id).await;
        return unavailable_outside();
    }
    tracing::info!(
        session = session::log_name(&record),
        provider,
        "office: login"
    );
    let mut response = Redirect::to("/sportello").into_response();
    session::set(
        response.headers_mut(),
        session::open_cookie_kind(state, &token, SessionKind::Staff),
    );
    response
}

/// `POST /sportello/esci`: ends the staff session.
async fn logout(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<crate::portal::CsrfForm>,
) -> Response {
    let office = match office(&state, &headers, client, None).await {
        Ok(office) => office,
        Err(_) => {
            let mut response = Redirect::to("/accedi/ufficio").into_response();
            session::set(
                response.headers_mut(),
                session::clear_cookie_kind(&state, SessionKind::Staff),
            );
            return response;
        }
    };
    try_page!(office.check_csrf(&form.csrf));
    let store = state.requests().issuer().store();
    if let Err(error) = store.end_session(&office.session.id).await {
        tracing::error!(%error, "office: session not ended");
        return office.unavailable();
    }
    tracing::info!(
        session = session::log_name(&office.session),
        "office: logout"
    );
    let provider_logout = match (
        &office.session.tokens,
        state.portal().and_then(|p| p.oidc.as_ref()),
    ) {
        (Some(tokens), Some(rp)) => {
            rp.logout(
                &office.session.provider,
                &tokens.id_token,
                &tokens.access_token,
                OffsetDateTime::now_utc(),
            )
            .await
        }
        _ => None,
    };
    let mut response =
        Redirect::to(provider_logout.as_deref().unwrap_or("/accedi/ufficio")).into_response();
    session::set(
        response.headers_mut(),
        session::clear_cookie_kind(&state, SessionKind::Staff),
    );
    response
}

/// What the home page lists: each page the roles open.
#[derive(Debug, Serialize)]
struct Tile {
    label: &'static str,
    href: &'static str,
    text: &'static str,
}

/// `GET /sportello`: what the member can do here.
async fn home(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    let office = try_page!(office(&state, &headers, client, None).await);
    let texts = [
        "Cerca la persona, scegli certificato e uso, registra la marca da bollo o l'esenzione, stampa.",
        "Leggi il QR di un certificato presentato allo sportello, o caricane il PDF o la scansione.",
        "Cerca un certificato per numero: stato, storia, nuova stampa, revoca o sostituzione.",
        "Chi ha fatto cosa, quando e da dove; filtri ed esportazione CSV.",
        "Dati del Comune, tariffe, personale e ruoli, chiavi API.",
    ];
    let tiles: Vec<Tile> = NAV
        .iter()
        .zip(texts)
        .filter(|((action, ..), _)| office.may(*action))
        .map(|((_, label, href), text)| Tile { label, href, text })
        .collect();
    let base = office.base();
    office.page(
        StatusCode::OK,
        "office_home.html",
        context! { tiles => ser(&tiles), ..base },
    )
}

/// `GET /sportello/verifica`: the counter's scanning page.
async fn scan_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Verify)).await);
    let base = office.base();
    office.page(
        StatusCode::OK,
        "counter.html",
        context! { scan_key => session::log_name(&office.session).to_owned(), ..base },
    )
}
