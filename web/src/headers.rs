//! Headers every answer of ours carries, set in one place: browsers are
//! told not to guess types (`nosniff`) and not to send our addresses —
//! which may carry a seal — to other sites (`Referrer-Policy`); HTML pages
//! get the Content Security Policy and are never stored by caches (they
//! may show what a seal says of a person); over HTTPS, browsers are told
//! to keep to it (HSTS). Under `/api/`, an unknown route or a wrong method
//! answers in the API's JSON error shape.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use crate::error::ApiError;
use crate::templates::CONTENT_SECURITY_POLICY;

/// One year, as HSTS preload lists ask.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Adds the headers to `response`. `https` tells whether the service is
/// reached over HTTPS (its public address is `https://…`): HSTS is
/// meaningless, and harmful to a plain-HTTP demo on localhost, otherwise.
pub(crate) fn secure(mut response: Response, https: bool) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if is_html(headers) {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}

/// An unknown address under `/api/`.
pub(crate) async fn api_not_found() -> Response {
    ApiError::not_found("indirizzo sconosciuto: l'elenco è in /api/v1/openapi.json").into_response()
}

/// A known address of the API asked with a method it does not take.
pub(crate) async fn api_method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "metodo non ammesso per questo indirizzo: vedere /api/v1/openapi.json",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::Html;

    #[test]
    fn hsts_is_sent_only_over_https_and_html_is_never_stored() {
        let page = secure(Html("<p>ciao</p>").into_response(), true);
        assert_eq!(
            page.headers()[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000; includeSubDomains"
        );
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
        assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let plain = secure(Html("<p>ciao</p>").into_response(), false);
        assert!(
            !plain
                .headers()
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
        let json = secure(axum::Json("x").into_response(), true);
        assert!(!json.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        assert_eq!(json.headers()[header::REFERRER_POLICY], "no-referrer");
    }
}
