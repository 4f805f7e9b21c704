//! Login with SPID and CIE through OpenID Connect ([`oidc`]), and what the
//! relying party publishes for the federation.
//!
//! - `GET /accedi/oidc/{provider}` records the login under way (`state`,
//!   nonce and PKCE verifier in the store, on any node) and sends the
//!   browser to the provider with a cookie `sigillo_oidc` (`Path=/accedi`,
//!   ten minutes) that binds the login to this browser.
//! - `GET /accedi/ritorno` takes the login back, once, by its `state` and
//!   that cookie, lets [`oidc::RelyingParty::finish`] check everything the
//!   provider sends, and opens the session. Every refusal is a page that
//!   says what to do, and a log line with the provider and a code, never
//!   the person.
//! - `GET /.well-known/openid-federation` is the Entity Configuration;
//!   `GET /oidc/jwks.json` the OIDC public keys.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use seal::CodiceFiscale;
use serde::Deserialize;
use store::{LoginLookup, NewLogin, NewSession, ProviderTokens, SessionKind};
use time::OffsetDateTime;

use super::{
    Portal, display_name, error_page, not_found_page, optional_session, session, try_page,
};
use crate::AppState;

/// `GET /accedi/oidc/{provider}`: off to the provider.
pub(crate) async fn begin(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    if optional_session(&state, &portal, &headers).await.is_some() {
        return Redirect::to("/area-personale").into_response();
    }
    let comune = portal.comune.code;
    begin_login(&state, &portal, &provider, SessionKind::Citizen, comune).await
}

/// Records a login of `kind` to `comune` with `provider` and sends the
/// browser there.
pub(crate) async fn begin_login(
    state: &AppState,
    portal: &Portal,
    provider: &str,
    kind: SessionKind,
    comune: seal::ComuneCode,
) -> Response {
    let Some(rp) = portal.settings.oidc.clone() else {
        return not_found_page(Some(portal));
    };
    let now = OffsetDateTime::now_utc();
    let begun = match rp.begin(provider, now).await {
        Ok(begun) => begun,
        Err(oidc::Error::UnknownProvider) => return not_found_page(Some(portal)),
        Err(error) => {
            tracing::warn!(provider, code = error.code(), %error, "portal: login not begun");
            return unreachable(portal);
        }
    };
    let Some(browser) = session::random_token() else {
        return error_page(Some(portal), StatusCode::INTERNAL_SERVER_ERROR);
    };
    let recorded = state
        .requests()
        .issuer()
        .store()
        .create_login(&NewLogin {
            kind,
            state: &begun.state,
            browser: &browser,
            comune,
            provider,
            nonce: &begun.nonce,
            code_verifier: &begun.code_verifier,
            now,
        })
        .await;
    if let Err(error) = recorded {
        tracing::error!(%error, "portal: login not recorded");
        return error_page(Some(portal), StatusCode::SERVICE_UNAVAILABLE);
    }
    tracing::info!(provider, kind = kind.code(), "portal: login begun");
    let mut response = Redirect::to(&begun.authorization_url).into_response();
    session::set(
        response.headers_mut(),
        session::oidc_cookie(state, Some(&browser)),
    );
    response
}

/// The provider's answer (RFC 6749 §4.1.2, RFC 9207's `iss`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /accedi/ritorno`: back from the provider.
pub(crate) async fn finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Callback>, QueryRejection>,
) -> Response {
    let portal = try_page!(Portal::load(&state).await);
    let Some(rp) = portal.settings.oidc.clone() else {
        return not_found_page(Some(&portal));
    };
    let callback = query.map(|Query(callback)| callback).unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let Some(given_state) = callback.state.as_deref().filter(|s| s.len() <= 512) else {
        tracing::warn!(code = "no_state", "portal: login refused");
        return not_ours(&portal);
    };
    let browser = session::cookie(&headers, session::OIDC_COOKIE).unwrap_or_default();
    let store = state.requests().issuer().store();
    let pending = match store
        .take_login(given_state, &browser, now, oidc::LOGIN_TTL)
        .await
    {
        // A citizen logs in to the portal's comune; staff to the comune
        // they chose, where their roles are checked below.
        Ok(LoginLookup::Found(pending))
            if pending.kind == SessionKind::Staff || pending.comune == portal.comune.code =>
        {
            pending
        }
        Ok(LoginLookup::Found(_) | LoginLookup::Unknown) => {
            tracing::warn!(code = "state_unknown", "portal: login refused");
            return not_ours(&portal);
        }
        Ok(LoginLookup::OtherBrowser) => {
            tracing::warn!(code = "state_other_browser", "portal: login refused");
            return not_ours(&portal);
        }
        Ok(LoginLookup::Expired) => {
            tracing::warn!(code = "login_expired", "portal: login refused");
            return refusal(
                &state,
                &portal,
                StatusCode::UNAUTHORIZED,
                "Accesso scaduto",
                "Sono passati più di 10 minuti da quando l'accesso è cominciato. Per sicurezza va ripetuto dall'inizio.",
                None,
            );
        }
        Err(error) => {
            tracing::error!(%error, "portal: login not read");
            return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let provider = pending.provider.as_str();
    if let Some(error) = callback.error.as_deref() {
        let code = if error == "access_denied" {
            "access_denied"
        } else {
            "authorization_error"
        };
        tracing::info!(
            provider,
            code,
            "portal: login not completed at the provider"
        );
        return refusal(
            &state,
            &portal,
            StatusCode::FORBIDDEN,
            "Accesso annullato",
            "L'accesso non è stato completato presso il gestore dell'identità digitale (annullato, o consenso non dato). Si può riprovare quando si vuole.",
            None,
        );
    }
    let Some(code) = callback
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        tracing::warn!(provider, code = "no_code", "portal: login refused");
        return not_ours(&portal);
    };
    let login = match rp
        .finish(
            provider,
            code,
            callback.iss.as_deref(),
            &pending.nonce,
            &pending.code_verifier,
            now,
        )
        .await
    {
        Ok(login) => login,
        Err(error @ (oidc::Error::Unreachable(_) | oidc::Error::Metadata(_))) => {
            tracing::warn!(provider, code = error.code(), %error, "portal: login failed");
            return unreachable(&portal);
        }
        Err(error) => {
            tracing::warn!(provider, code = error.code(), "portal: login refused");
            return refusal(
                &state,
                &portal,
                StatusCode::FORBIDDEN,
                "Accesso non riuscito",
                "La risposta del gestore dell'identità digitale non ha superato i controlli di sicurezza, e l'accesso non è stato aperto. Riprovare dalla pagina di accesso; se il problema si ripete, contattare il Comune indicando il codice qui sotto.",
                Some(error.code()),
            );
        }
    };
    let Ok(fiscal_code) = CodiceFiscale::parse(&login.fiscal_code) else {
        tracing::warn!(
            provider,
            code = "fiscal_code_invalid",
            "portal: login refused"
        );
        return refusal(
            &state,
            &portal,
            StatusCode::FORBIDDEN,
            "Accesso non riuscito",
            "Il gestore dell'identità digitale non ha fornito un codice fiscale valido, che serve per chiedere certificati.",
            Some("fiscal_code_invalid"),
        );
    };
    if pending.kind == SessionKind::Staff {
        let tokens = ProviderTokens {
            id_token: login.id_token.clone(),
            access_token: login.access_token.clone(),
        };
        return crate::office::open_session(
            &state,
            pending.comune,
            &fiscal_code,
            provider,
            Some(tokens),
            now,
        )
        .await;
    }
    let resident = match store
        .person_by_fiscal_code(portal.comune.code, &fiscal_code)
        .await
    {
        Ok(person) => person,
        Err(error) => {
            tracing::error!(%error, "portal: login, registry not read");
            return error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    // The registry's name for a resident; the provider's for anyone else
    // (a person not resident may still ask for what concerns them).
    let name = match &resident {
        Some(person) => display_name(person),
        None => [login.given_name.as_deref(), login.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let name = if name.is_empty() {
        fiscal_code.as_str().to_owned()
    } else {
        name
    };
    let opened = store
        .create_session(&NewSession {
            kind: SessionKind::Citizen,
            comune: portal.comune.code,
            fiscal_code: &fiscal_code,
            display_name: &name,
            provider,
            tokens: Some(ProviderTokens {
                id_token: login.id_token.clone(),
                access_token: login.access_token.clone(),
            }),
            now,
        })
        .await;
    match opened {
        Ok((token, record)) => {
            tracing::info!(
                session = session::log_name(&record),
                provider,
                acr = login.acr,
                resident = resident.is_some(),
                "portal: login"
            );
            let mut response = Redirect::to("/area-personale").into_response();
            session::set(response.headers_mut(), session::open_cookie(&state, &token));
            session::set(response.headers_mut(), session::oidc_cookie(&state, None));
            response
        }
        Err(error) => {
            tracing::error!(%error, "portal: session not opened");
            error_page(Some(&portal), StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// The refusal of an answer that is not for a login of this browser. The
/// login cookie stays: a login of this browser may still be under way,
/// and a forged answer must not end it.
fn not_ours(portal: &Portal) -> Response {
    portal.error(
        None,
        StatusCode::BAD_REQUEST,
        "Accesso non riuscito",
        "La risposta ricevuta non corrisponde a un accesso in corso da questo browser: forse è già stata usata, oppure l'accesso è cominciato altrove. Riprovare dalla pagina di accesso.",
    )
}

/// A login refused: the page, with the login cookie cleared.
fn refusal(
    state: &AppState,
    portal: &Portal,
    status: StatusCode,
    title: &str,
    text: &str,
    code: Option<&str>,
) -> Response {
    let text = match code {
        Some(code) => format!("{text} Codice: {code}."),
        None => text.to_owned(),
    };
    let mut response = portal.error(None, status, title, &text);
    session::set(response.headers_mut(), session::oidc_cookie(state, None));
    response
}

fn unreachable(portal: &Portal) -> Response {
    portal.error(
        None,
        StatusCode::SERVICE_UNAVAILABLE,
        "Gestore dell'identità non raggiungibile",
        "Il gestore dell'identità digitale non risponde in questo momento. Riprovare tra qualche minuto, oppure accedere con un altro gestore.",
    )
}

/// `GET /.well-known/openid-federation`: the Entity Configuration.
pub(crate) async fn entity_configuration(State(state): State<AppState>) -> Response {
    let Some(rp) = state.portal().and_then(|portal| portal.oidc.clone()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match rp.entity_configuration(OffsetDateTime::now_utc()) {
        Ok(jwt) => (
            [
                (header::CONTENT_TYPE, "application/entity-statement+jwt"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            jwt,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(code = error.code(), %error, "oidc: entity configuration not signed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /oidc/jwks.json`: the relying party's OIDC public keys.
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    let Some(rp) = state.portal().and_then(|portal| portal.oidc.clone()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        rp.jwks().to_string(),
    )
        .into_response()
}
