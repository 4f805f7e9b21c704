//! The comune's administration, for the amministratore: the comune's data
//! as configured, the fees (changed here, in the comune's fee schedule,
//! and audited), the staff and their roles (changed here; credentials are
//! set with `sigillo staff password`), and the API keys.

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

async fn render(
    state: &AppState,
    office: &Office,
    notice: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let issuer = state.requests().issuer();
    let store = issuer.store();
    let comune = &office.comune;
    let (schedule, staff, keys) = match (
        issuer.fee_schedule(comune).await,
        store.list_staff(comune.code).await,
        store.list_api_keys(comune.code).await,
    ) {
        (Ok(schedule), Ok(staff), Ok(keys)) => (schedule, staff, keys),
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
            members => ser(&members),
            keys => ser(&keys),
            roles => ser(&roles),
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
    let changed = issuer
        .store()
        .change_comune_fees(
            office.comune.code,
            &schedule.to_toml(),
            &AuditEntry {
                at: OffsetDateTime::now_utc(),
                event: "comune.fees_changed",
                subject: office.comune.code.as_str(),
                actor: &office.actor(),
                detail: &detail,
            },
        )
        .await;
    if let Err(error) = changed {
        tracing::error!(%error, "office: fees not changed");
        return office.unavailable();
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

#[cfg(test)]
mod tests {
    use super::parse_cents;

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
