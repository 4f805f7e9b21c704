//! The citizen's session as HTTP carries it: the cookie, the lookup in
//! the store, the CSRF token of every form.
//!
//! - The cookie is `__Host-sigillo_sessione` (`Secure`, `Path=/`, no
//!   `Domain`: only this host, only over HTTPS) when the public base URL is
//!   https. On plain-HTTP localhost a browser refuses `Secure` cookies and
//!   the `__Host-` prefix without it, so there it is `sigillo_sessione`
//!   without `Secure`. Always `HttpOnly` and `SameSite=Lax`, and without
//!   `Max-Age`: the server ends sessions ([`TIMEOUTS`]).
//! - Every form carries the session's token in the field `csrf`; a POST
//!   whose token is not the session's is refused before it does anything.
//! - Before login there is no session: the login form carries a random
//!   token that a short-lived cookie `sigillo_accesso` holds too (a
//!   double-submit), so no other site can log a browser in.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use store::{SessionKind, SessionLookup, SessionRecord, SessionTimeouts};
use time::{Duration, OffsetDateTime};

use crate::AppState;

/// 30 minutes without a request, or 8 hours after login.
pub(crate) const TIMEOUTS: SessionTimeouts = SessionTimeouts {
    idle: Duration::minutes(30),
    absolute: Duration::hours(8),
};

const SECURE_NAME: &str = "__Host-sigillo_sessione";
const PLAIN_NAME: &str = "sigillo_sessione";
/// The office's session has a cookie of its own, so a staff member may be
/// logged in to the portal as a citizen in the same browser, and neither
/// session opens the other's pages.
const STAFF_SECURE_NAME: &str = "__Host-sigillo_ufficio";
const STAFF_PLAIN_NAME: &str = "sigillo_ufficio";
/// The login form's double-submit cookie.
pub(crate) const LOGIN_COOKIE: &str = "sigillo_accesso";
/// The cookie that binds a login with a provider to the browser that
/// began it.
pub(crate) const OIDC_COOKIE: &str = "sigillo_oidc";

/// What the request's cookie says.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per request and matched at once; a box would buy nothing"
)]
pub(crate) enum Found {
    /// An open session.
    Active(SessionRecord),
    /// A session that timed out (now deleted).
    Expired,
    /// No cookie, or one that names nothing.
    None,
}

/// Whether cookies are `Secure` (the public base URL is https).
pub(crate) fn secure(state: &AppState) -> bool {
    state
        .requests()
        .settings()
        .public_base_url
        .starts_with("https://")
}

fn cookie_name(secure: bool, kind: SessionKind) -> &'static str {
    match (kind, secure) {
        (SessionKind::Citizen, true) => SECURE_NAME,
        (SessionKind::Citizen, false) => PLAIN_NAME,
        (SessionKind::Staff, true) => STAFF_SECURE_NAME,
        (SessionKind::Staff, false) => STAFF_PLAIN_NAME,
    }
}

/// The value of cookie `name` in the request, if any.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// The citizen's session the request's cookie names, at `now`.
pub(crate) async fn find(
    state: &AppState,
    headers: &HeaderMap,
    now: OffsetDateTime,
) -> Result<Found, store::StoreError> {
    find_kind(state, headers, now, SessionKind::Citizen).await
}

/// The session of `kind` the request's cookie for that kind names, at
/// `now`; a session of the other kind is no session here.
pub(crate) async fn find_kind(
    state: &AppState,
    headers: &HeaderMap,
    now: OffsetDateTime,
    kind: SessionKind,
) -> Result<Found, store::StoreError> {
    let Some(token) = cookie(headers, cookie_name(secure(state), kind)) else {
        return Ok(Found::None);
    };
    // A token is 64 hex digits; anything else is not looked up.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Found::None);
    }
    let store = state.requests().issuer().store();
    Ok(match store.session(&token, now, TIMEOUTS).await? {
        SessionLookup::Active(record) if record.kind == kind => Found::Active(record),
        SessionLookup::Active(_) => Found::None,
        SessionLookup::Expired => Found::Expired,
        SessionLookup::Unknown => Found::None,
    })
}

/// The `Set-Cookie` that opens the citizen's session `token`.
pub(crate) fn open_cookie(state: &AppState, token: &str) -> HeaderValue {
    open_cookie_kind(state, token, SessionKind::Citizen)
}

/// The `Set-Cookie` that opens session `token` of `kind`.
pub(crate) fn open_cookie_kind(state: &AppState, token: &str, kind: SessionKind) -> HeaderValue {
    let secure = secure(state);
    let flags = if secure { "; Secure" } else { "" };
    header_value(format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{flags}",
        cookie_name(secure, kind)
    ))
}

/// The `Set-Cookie` that forgets the citizen's session.
pub(crate) fn clear_cookie(state: &AppState) -> HeaderValue {
    clear_cookie_kind(state, SessionKind::Citizen)
}

/// The `Set-Cookie` that forgets the session of `kind`.
pub(crate) fn clear_cookie_kind(state: &AppState, kind: SessionKind) -> HeaderValue {
    let secure = secure(state);
    let flags = if secure { "; Secure" } else { "" };
    header_value(format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{flags}",
        cookie_name(secure, kind)
    ))
}

/// The login form's cookie, holding `token` for ten minutes.
pub(crate) fn login_cookie(state: &AppState, token: &str) -> HeaderValue {
    let flags = if secure(state) { "; Secure" } else { "" };
    header_value(format!(
        "{LOGIN_COOKIE}={token}; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age=600{flags}"
    ))
}

/// The cookie of a login with a provider: holding `token` for ten
/// minutes, or (`None`) forgotten. `SameSite=Lax` lets the provider's
/// redirect back carry it.
pub(crate) fn oidc_cookie(state: &AppState, token: Option<&str>) -> HeaderValue {
    let flags = if secure(state) { "; Secure" } else { "" };
    let (value, age) = match token {
        Some(token) => (token, 600),
        None => ("", 0),
    };
    header_value(format!(
        "{OIDC_COOKIE}={value}; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age={age}{flags}"
    ))
}

/// Adds `cookie` to `headers` as a `Set-Cookie`.
pub(crate) fn set(headers: &mut HeaderMap, cookie: HeaderValue) {
    headers.append(SET_COOKIE, cookie);
}

fn header_value(text: String) -> HeaderValue {
    // Built from a fixed name, hex digits and fixed flags: always valid.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A fresh random token for the login form: 256 bits, hex.
pub(crate) fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

/// Whether `given` is `expected`, compared in constant time.
pub(crate) fn same_token(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && !expected.is_empty()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A short name of the session for logs and the audit: the first digits of
/// its stored hash, never the token.
pub(crate) fn log_name(record: &SessionRecord) -> &str {
    record.id.get(..16).unwrap_or(&record.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole_and_never_empty() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abd", "abc"));
        assert!(!same_token("ab", "abc"));
        assert!(!same_token("", ""));
    }

    #[test]
    fn the_named_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; sigillo_sessione=ff00 ; b=2"),
        );
        assert_eq!(cookie(&headers, PLAIN_NAME).as_deref(), Some("ff00"));
        assert_eq!(cookie(&headers, SECURE_NAME), None);
    }
}
