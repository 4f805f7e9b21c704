//! The comune's administration, for the amministratore: the comune's
//! settings (verification host, creditor's fiscal code, IBAN, how the
//! stamp duty is collected, with the bollo virtuale's authorisation), the
//! fees and the exemptions accepted (in the comune's fee schedule), the
//! staff and their roles (credentials are set with `sigillo staff
//! password`), and the API keys (made here, the secret shown once, and
//! revoked). Every change is audited in the same transaction or right
//! after it, with the administrator and their address.

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use issuer::fees::DirittiOnline;
use issuer::staff::{Action, Role, roles_of};
use minijinja::context;
use seal::CodiceFiscale;
use serde::{Deserialize, Serialize};
use store::model::BolloMode;
use store::{AuditEntry, NewStaff};
use time::OffsetDateTime;

use super::{Office, office, try_page};
use crate::AppState;
use crate::portal::{euro, ser};
use crate::verify::ClientIp;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sportello/amministrazione", get(page))
        .route("/sportello/amministrazione/tariffe", post(fees))
        .route("/sportello/amministrazione/personale", post(staff))
        .route("/sportello/amministrazione/comune", post(settings))
        .route("/sportello/amministrazione/esenzioni", post(exemptions))
        .route("/sportello/amministrazione/chiavi", post(create_key))
        .route("/sportello/amministrazione/chiavi/revoca", post(revoke_key))
}

/// A staff member as the page lists them.
#[derive(Debug, Serialize)]
struct Member {
    fiscal_code: String,
    name: String,
    roles: String,
    local: bool,
    disabled: bool,
}

/// An API key as the page lists it (never its secret).
#[derive(Debug, Serialize)]
struct Key {
    id: String,
    name: String,
    role: &'static str,
    created: String,
    revoked: Option<String>,
}

/// A role offered in the staff form.
#[derive(Debug, Serialize)]
struct RoleChoice {
    slug: &'static str,
    label: &'static str,
}

/// `GET /sportello/amministrazione`.
async fn page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Administer)).await);
    render(&state, &office, None, None, StatusCode::OK).await
}

/// An exemption the comune may accept, as the page offers it.
#[derive(Debug, Serialize)]
struct ExemptionChoice {
    id: u16,
    description: &'static str,
    norm: &'static str,
    accepted: bool,
}

/// Every exemption a fee schedule may list: ANPR's (not the stato civile
/// one, which follows from the kind) and the extra Tabella B uses.
fn offered_exemptions() -> impl Iterator<Item = &'static issuer::catalogue::Exemption> {
    issuer::catalogue::EXEMPTIONS
        .iter()
        .filter(|e| e.id != issuer::catalogue::STATO_CIVILE_EXEMPTION)
        .chain(issuer::fees::EXTRA_EXEMPTIONS.iter())
}

async fn render(
    state: &AppState,
    office: &Office,
    notice: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    render_with(state, office, notice, error, None, status).await
}

async fn render_with(
    state: &AppState,
    office: &Office,
    notice: Option<&str>,
    error: Option<String>,
    new_key: Option<String>,
    status: StatusCode,
) -> Response {
    let issuer = state.requests().issuer();
    let store = issuer.store();
    let comune = &office.comune;
    let (schedule, staff, keys, iban) = match (
        issuer.fee_schedule(comune).await,
        store.list_staff(comune.code).await,
        store.list_api_keys(comune.code).await,
        store.comune_iban(comune.code).await,
    ) {
        (Ok(schedule), Ok(staff), Ok(keys), Ok(iban)) => (schedule, staff, keys, iban),
        _ => {
            tracing::error!("office: administration not read");
            return office.unavailable();
        }
    };
    let members: Vec<Member> = staff
        .iter()
        .map(|m| Member {
            fiscal_code: m.fiscal_code.as_str().to_owned(),
            name: m.display_name.clone(),
            roles: roles_of(m)
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join(", "),
            local: m.password_hash.is_some() && m.totp_secret.is_some(),
            disabled: m.disabled_at.is_some(),
        })
        .collect();
    let keys: Vec<Key> = keys
        .iter()
        .map(|k| Key {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role.code(),
            created: seal::rome::date_text(k.created_at),
            revoked: k.revoked_at.map(seal::rome::date_text),
        })
        .collect();
    let roles: Vec<RoleChoice> = Role::ALL
        .iter()
        .map(|r| RoleChoice {
            slug: r.slug(),
            label: r.label(),
        })
        .collect();
    let exemption_choices: Vec<ExemptionChoice> = offered_exemptions()
        .map(|e| ExemptionChoice {
            id: e.id,
            description: e.description,
            norm: e.norm,
            accepted: schedule
                .exemptions
                .iter()
                .any(|accepted| accepted.id == e.id),
        })
        .collect();
    let (virtuale, authorization, authorized_on) = match &comune.bollo_mode {
        BolloMode::Virtuale {
            authorization,
            authorized_on,
        } => (true, authorization.clone(), authorized_on.to_string()),
        BolloMode::MarcaDigitale => (false, String::new(), String::new()),
    };
    let bollo_mode = match &comune.bollo_mode {
        BolloMode::Virtuale {
            authorization,
            authorized_on,
        } => format!(
            "bollo virtuale, autorizzazione n. {authorization} del {}",
            seal::rome::day_text(*authorized_on)
        ),
        BolloMode::MarcaDigitale => "marca da bollo digitale (@e.bollo)".to_owned(),
    };
    let base = office.base();
    office.page(
        status,
        "office_admin.html",
        context! {
            istat => comune.code.as_str(),
            name => comune.name.clone(),
            verification_host => comune.verification_host.clone(),
            bollo_mode,
            bollo => euro(schedule.bollo_cents),
            diritti_bollo => cents_field(schedule.diritti_bollo_cents),
            diritti_esente => cents_field(schedule.diritti_esente_cents),
            waived_online => schedule.diritti_online == DirittiOnline::Waived,
            exemptions => schedule.exemptions.len(),
            exemption_choices => ser(&exemption_choices),
            creditor => comune.creditor_fiscal_code.clone(),
            iban,
            virtuale,
            authorization,
            authorized_on,
            new_key,
            members => ser(&members),
            keys => ser(&keys),
            role_choices => ser(&roles),
            notice,
            error,
            ..base
        },
    )
}

/// Cents as the form shows them: `0,52`.
fn cents_field(cents: i64) -> String {
    format!("{},{:02}", cents / 100, (cents % 100).abs())
}

/// `0,52`, `0.52`, `1` as cents; at most €100 (diritti are cents to a few
/// euro: L. 604/1962 Tab. D; the CDU's up to €51.65).
fn parse_cents(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    let cents = whole.checked_mul(100)?.checked_add(fraction)?;
    (cents <= 10_000).then_some(cents)
}

/// The fees form.
#[derive(Debug, Deserialize)]
struct FeesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    diritti_bollo: String,
    #[serde(default)]
    diritti_esente: String,
    #[serde(default)]
    diritti_online: String,
}

/// `POST /sportello/amministrazione/tariffe`: the diritti di segreteria.
async fn fees(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<FeesForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Administer)).await);
    try_page!(office.check_csrf(&form.csrf));
    let (Some(bollo), Some(esente)) = (
        parse_cents(&form.diritti_bollo),
        parse_cents(&form.diritti_esente),
    ) else {
        return render(
            &state,
            &office,
            None,
            Some(
                "Gli importi si scrivono in euro, per esempio 0,52, e non superano 100,00.".into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let issuer = state.requests().issuer();
    let Ok(mut schedule) = issuer.fee_schedule(&office.comune).await else {
        return office.unavailable();
    };
    schedule.diritti_bollo_cents = bollo;
    schedule.diritti_esente_cents = esente;
    schedule.diritti_online = if form.diritti_online == "si" {
        DirittiOnline::Waived
    } else {
        DirittiOnline::Charged
    };
    if let Err(error) = schedule.validate() {
        return render(
            &state,
            &office,
            None,
            Some(error.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let detail = format!(
        "diritti_bollo={bollo} diritti_esente={esente} online={} from={}",
        if schedule.diritti_online == DirittiOnline::Waived {
            "waived"
        } else {
            "charged"
        },
        office.client
    );
    if let Err(response) = save_schedule(&state, &office, &schedule, &detail).await {
        return *response;
    }
    tracing::info!("office: fees changed");
    render(
        &state,
        &office,
        Some("Tariffe aggiornate: valgono dalle prossime richieste."),
        None,
        StatusCode::OK,
    )
    .await
}

/// Saves the comune's fee schedule with its audit entry (`detail`), in one
/// transaction.
async fn save_schedule(
    state: &AppState,
    office: &Office,
    schedule: &issuer::fees::FeeSchedule,
    detail: &str,
) -> Result<(), Box<Response>> {
    let changed = state
        .requests()
        .issuer()
        .store()
        .change_comune_fees(
            office.comune.code,
            &schedule.to_toml(),
            &AuditEntry {
                at: OffsetDateTime::now_utc(),
                event: "comune.fees_changed",
                subject: office.comune.code.as_str(),
                actor: &office.actor(),
                detail,
            },
        )
        .await;
    changed.map_err(|error| {
        tracing::error!(%error, "office: fee schedule not saved");
        Box::new(office.unavailable())
    })
}

/// The staff form: add a member or change their name, roles and state.
#[derive(Debug, Deserialize)]
struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    codice_fiscale: String,
    #[serde(default)]
    nome: String,
    #[serde(default)]
    stato: String,
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, String>,
}

/// `POST /sportello/amministrazione/personale`.
async fn staff(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<StaffForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Administer)).await);
    try_page!(office.check_csrf(&form.csrf));
    let code = form.codice_fiscale.trim().to_ascii_uppercase();
    let Ok(fiscal_code) = CodiceFiscale::parse(&code) else {
        return render(
            &state,
            &office,
            None,
            Some("Il codice fiscale non è valido.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let slugs: Vec<&str> = Role::ALL
        .iter()
        .map(|r| r.slug())
        .filter(|slug| {
            form.rest
                .get(&format!("ruolo_{slug}"))
                .is_some_and(|v| v == "si")
        })
        .collect();
    let name = form.nome.trim();
    if slugs.is_empty() || name.is_empty() || name.chars().count() > 100 {
        return render(
            &state,
            &office,
            None,
            Some("Indicare nome e cognome e almeno un ruolo.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // An administrator never takes their own administration away: the
    // comune would be left without one.
    if fiscal_code == office.member.fiscal_code
        && (!slugs.contains(&Role::Amministratore.slug()) || form.stato == "disabilitato")
    {
        return render(
            &state,
            &office,
            None,
            Some("Non si può togliere a se stessi il ruolo di amministratore né disabilitare la propria utenza.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let store = state.requests().issuer().store();
    let now = OffsetDateTime::now_utc();
    let saved = store
        .upsert_staff(&NewStaff {
            comune: office.comune.code,
            fiscal_code: &fiscal_code,
            display_name: name,
            roles: &slugs,
            now,
        })
        .await;
    if let Err(error) = saved {
        tracing::error!(%error, "office: staff not saved");
        return office.unavailable();
    }
    let disabled = form.stato == "disabilitato";
    if let Err(error) = store
        .set_staff_disabled(office.comune.code, &fiscal_code, disabled.then_some(now))
        .await
    {
        tracing::error!(%error, "office: staff state not saved");
        return office.unavailable();
    }
    let detail = format!(
        "member={} roles={} disabled={disabled}",
        fiscal_code.as_str(),
        slugs.join(",")
    );
    if let Err(error) = office
        .audit(
            &state,
            "staff.changed",
            office.comune.code.as_str(),
            &detail,
        )
        .await
    {
        tracing::error!(%error, "office: staff change not audited");
        return office.unavailable();
    }
    Redirect::to("/sportello/amministrazione").into_response()
}

/// The comune's settings form.
#[derive(Debug, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    verifica: String,
    #[serde(default)]
    creditore: String,
    #[serde(default)]
    iban: String,
    #[serde(default)]
    bollo: String,
    #[serde(default)]
    autorizzazione: String,
    #[serde(default)]
    autorizzazione_data: String,
}

/// A host name as the QR code carries it: letters, digits, dots, hyphens,
/// an optional port; no scheme, no path.
fn valid_host(host: &str) -> bool {
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !name.starts_with(['.', '-'])
        && (port.is_empty() || port.parse::<u16>().is_ok())
}

/// An IBAN (ISO 13616): two letters, two check digits, up to 30
/// alphanumerics, whose mod-97 check holds; an Italian one has 27
/// characters.
fn valid_iban(iban: &str) -> bool {
    let iban = iban.to_ascii_uppercase();
    if !(15..=34).contains(&iban.len()) || !iban.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    if iban.starts_with("IT") && iban.len() != 27 {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut remainder: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(value) => value,
            None => return false,
        };
        for digit in value.to_string().chars() {
            remainder = (remainder * 10 + digit.to_digit(10).unwrap_or(0)) % 97;
        }
    }
    remainder == 1
}

/// `POST /sportello/amministrazione/comune`.
async fn settings(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Administer)).await);
    try_page!(office.check_csrf(&form.csrf));
    let refuse = |text: &str| {
        render(
            &state,
            &office,
            None,
            Some(text.to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let host = form.verifica.trim().to_ascii_lowercase();
    if !valid_host(&host) {
        return refuse("L'indirizzo di verifica è il nome del sito, per esempio certificati.comune.esempio.it, senza https:// né percorso.").await;
    }
    let creditor = form.creditore.trim();
    if creditor.len() != 11 || !creditor.bytes().all(|b| b.is_ascii_digit()) {
        return refuse("Il codice fiscale del Comune come ente creditore è di 11 cifre.").await;
    }
    let iban = form.iban.trim().replace(' ', "").to_ascii_uppercase();
    if !iban.is_empty() && !valid_iban(&iban) {
        return refuse(
            "L'IBAN non è valido (controllare le cifre: il codice di controllo non torna).",
        )
        .await;
    }
    let bollo_mode = match form.bollo.as_str() {
        "virtuale" => {
            let number = form.autorizzazione.trim();
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = time::Date::parse(form.autorizzazione_data.trim(), format);
            match day {
                Ok(day) if !number.is_empty() && number.chars().count() <= 50 => {
                    BolloMode::Virtuale {
                        authorization: number.to_owned(),
                        authorized_on: day,
                    }
                }
                _ => {
                    return refuse("Per il bollo virtuale indicare numero e data dell'autorizzazione dell'Agenzia delle Entrate.").await;
                }
            }
        }
        "marca" => BolloMode::MarcaDigitale,
        _ => return refuse("Scegliere come si riscuote l'imposta di bollo.").await,
    };
    let detail = format!(
        "verification_host={host} bollo={} iban={} from={}",
        form.bollo,
        if iban.is_empty() { "none" } else { "set" },
        office.client
    );
    let changed = state
        .requests()
        .issuer()
        .store()
        .change_comune_settings(
            office.comune.code,
            &store::ComuneSettings {
                verification_host: host,
                creditor_fiscal_code: creditor.to_owned(),
                iban: (!iban.is_empty()).then_some(iban),
                bollo_mode,
            },
            &AuditEntry {
                at: OffsetDateTime::now_utc(),
                event: "comune.settings_changed",
                subject: office.comune.code.as_str(),
                actor: &office.actor(),
                detail: &detail,
            },
        )
        .await;
    if let Err(error) = changed {
        tracing::error!(%error, "office: settings not changed");
        return office.unavailable();
    }
    // The page again, with the comune as it now is.
    Redirect::to("/sportello/amministrazione").into_response()
}

/// The exemptions form: `esenzione_<id>=si` for each accepted.
#[derive(Debug, Deserialize)]
struct ExemptionsForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, String>,
}

/// `POST /sportello/amministrazione/esenzioni`: the exemptions accepted.
async fn exemptions(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ExemptionsForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Administer)).await);
    try_page!(office.check_csrf(&form.csrf));
    let issuer = state.requests().issuer();
    let Ok(mut schedule) = issuer.fee_schedule(&office.comune).await else {
        return office.unavailable();
    };
    let accepted: Vec<issuer::fees::ExemptionFee> = offered_exemptions()
        .filter(|e| {
            form.rest
                .get(&format!("esenzione_{}", e.id))
                .is_some_and(|v| v == "si")
        })
        .map(|e| {
            // A wording the comune set already stays.
            schedule
                .exemptions
                .iter()
                .find(|kept| kept.id == e.id)
                .cloned()
                .unwrap_or_else(|| issuer::fees::ExemptionFee {
                    id: e.id,
                    description: e.description.to_owned(),
                    norm: e.norm.to_owned(),
                    waives_diritti: e.waives_diritti,
                })
        })
        .collect();
    let ids: Vec<String> = accepted.iter().map(|e| e.id.to_string()).collect();
    schedule.exemptions = accepted;
    if let Err(error) = schedule.validate() {
        return render(
            &state,
            &office,
            None,
            Some(error.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let detail = format!("exemptions={} from={}", ids.join(","), office.client);
    if let Err(response) = save_schedule(&state, &office, &schedule, &detail).await {
        return *response;
    }
    render(
        &state,
        &office,
        Some("Esenzioni aggiornate: valgono dalle prossime richieste."),
        None,
        StatusCode::OK,
    )
    .await
}

/// The new API key form.
#[derive(Debug, Deserialize)]
struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    nome: String,
    #[serde(default)]
    ruolo: String,
}

/// `POST /sportello/amministrazione/chiavi`: a new API key, its secret
/// shown once on the page that answers.
async fn create_key(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Administer)).await);
    try_page!(office.check_csrf(&form.csrf));
    let name = form.nome.trim();
    let role = store::ApiKeyRole::from_code(form.ruolo.trim());
    let (Some(role), false) = (role, name.is_empty() || name.chars().count() > 100) else {
        return render(
            &state,
            &office,
            None,
            Some("Indicare il nome del programma che userà la chiave e il suo ruolo.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let store = state.requests().issuer().store();
    let created = match store
        .create_api_key(office.comune.code, name, role, OffsetDateTime::now_utc())
        .await
    {
        Ok(created) => created,
        Err(error) => {
            tracing::error!(%error, "office: API key not created");
            return office.unavailable();
        }
    };
    let detail = format!("key={} role={}", created.key.id, role.code());
    if let Err(error) = office
        .audit(&state, "api_key.created", &created.key.id, &detail)
        .await
    {
        tracing::error!(%error, "office: key creation not audited, key revoked");
        let _ = store
            .revoke_api_key(
                office.comune.code,
                &created.key.id,
                OffsetDateTime::now_utc(),
            )
            .await;
        return office.unavailable();
    }
    render_with(
        &state,
        &office,
        Some("Chiave creata: copiarla ora, non sarà più mostrata."),
        None,
        Some(created.secret),
        StatusCode::OK,
    )
    .await
}

/// The revocation form of an API key.
#[derive(Debug, Deserialize)]
struct RevokeKeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    chiave: String,
}

/// `POST /sportello/amministrazione/chiavi/revoca`.
async fn revoke_key(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<RevokeKeyForm>,
) -> Response {
    let office = try_page!(office(&state, &headers, client, Some(Action::Administer)).await);
    try_page!(office.check_csrf(&form.csrf));
    let id = form.chiave.trim();
    let store = state.requests().issuer().store();
    match store
        .revoke_api_key(office.comune.code, id, OffsetDateTime::now_utc())
        .await
    {
        Ok(true) => {
            if let Err(error) = office.audit(&state, "api_key.revoked", id, "").await {
                tracing::error!(%error, "office: key revocation not audited");
                return office.unavailable();
            }
            Redirect::to("/sportello/amministrazione").into_response()
        }
        // Not a key of this comune.
        Ok(false) => office.error(
            StatusCode::NOT_FOUND,
            "Chiave non trovata",
            "Nessuna chiave API con questo identificativo nel Comune.",
        ),
        Err(error) => {
            tracing::error!(%error, "office: key not revoked");
            office.unavailable()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_cents, valid_host, valid_iban};

    #[test]
    fn hosts_and_ibans_are_checked() {
        assert!(valid_host("certificati.comune.esempio.it"));
        assert!(valid_host("127.0.0.1:8080"));
        assert!(!valid_host("https://certificati.example.it"));
        assert!(!valid_host("example.it/v"));
        // The example IBAN of the Banca d'Italia's documentation.
        assert!(valid_iban("IT60X0542811101000000123456"));
        assert!(!valid_iban("IT60X0542811101000000123457"));
        assert!(!valid_iban("IT60X054281110100000012345"));
    }

    #[test]
    fn amounts_read_in_euro_with_a_comma_or_a_point() {
        assert_eq!(parse_cents("0,52"), Some(52));
        assert_eq!(parse_cents("1.5"), Some(150));
        assert_eq!(parse_cents("2"), Some(200));
        assert_eq!(parse_cents("0,521"), None);
        assert_eq!(parse_cents("-1"), None);
        assert_eq!(parse_cents("100,01"), None);
        assert_eq!(parse_cents(""), None);
    }
}
