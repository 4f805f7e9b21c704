//! The pages' HTML: the minijinja templates of `web/templates/`, embedded
//! at build time and loaded once into one [`Environment`], and the answer
//! every page gives ([`page`]).
//!
//! Every template extends `layout.html`. Their names end in `.html`, for
//! which minijinja escapes every value it prints (its default auto-escape
//! rule): handlers pass plain strings and serde structs (wrapped in
//! [`minijinja::value::Serde`]), and nothing a seal,
//! an upload or the database holds can become markup. The styles and
//! scripts are the embedded files of [`assets`], named by their content and
//! linked through the `asset("sigillo.css")` function, so the pages carry
//! no inline script or style and [`CONTENT_SECURITY_POLICY`] forbids them.
//!
//! ```text
//! templates::page(StatusCode::OK, "verify.html", context! {})
//! ```
//!
//! A page that fails to render (a template defect) is logged and answered
//! with an opaque 500 error page; never a panic.

pub(crate) mod assets;
pub(crate) mod vendor;

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value, context};

/// The policy every page is answered with. Nothing inline, nothing from
/// elsewhere but `data:` fonts (the vendored Bootstrap Italia sheet carries
/// one): scripts, styles, `fetch` (the verification API) and forms
/// stay on this origin. `img-src`/`media-src` allow `blob:` and `data:`
/// for what the counter's webcam code makes locally (the stream, the still
/// drawn on a canvas and sent as a PNG blob); the stream itself, attached
/// through `srcObject`, is not a fetch that CSP governs.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
     media-src 'self' blob:; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
     form-action 'self'";

/// The templates, by the names they extend and include each other with.
const TEMPLATES: [(&str, &str); 30] = [
    ("layout.html", include_str!("../templates/layout.html")),
    ("verify.html", include_str!("../templates/verify.html")),
    (
        "verify_forms.html",
        include_str!("../templates/verify_forms.html"),
    ),
    (
        "verify_result.html",
        include_str!("../templates/verify_result.html"),
    ),
    ("counter.html", include_str!("../templates/counter.html")),
    ("error.html", include_str!("../templates/error.html")),
    (
        "payment_return.html",
        include_str!("../templates/payment_return.html"),
    ),
    (
        "portal_home.html",
        include_str!("../templates/portal_home.html"),
    ),
    (
        "portal_login.html",
        include_str!("../templates/portal_login.html"),
    ),
    (
        "portal_privacy_step.html",
        include_str!("../templates/portal_privacy_step.html"),
    ),
    (
        "portal_data.html",
        include_str!("../templates/portal_data.html"),
    ),
    (
        "portal_choose.html",
        include_str!("../templates/portal_choose.html"),
    ),
    (
        "portal_summary.html",
        include_str!("../templates/portal_summary.html"),
    ),
    (
        "portal_area.html",
        include_str!("../templates/portal_area.html"),
    ),
    (
        "portal_request.html",
        include_str!("../templates/portal_request.html"),
    ),
    (
        "portal_steps.html",
        include_str!("../templates/portal_steps.html"),
    ),
    ("privacy.html", include_str!("../templates/privacy.html")),
    (
        "accessibility.html",
        include_str!("../templates/accessibility.html"),
    ),
    ("contacts.html", include_str!("../templates/contacts.html")),
    (
        "choice_kind.html",
        include_str!("../templates/choice_kind.html"),
    ),
    (
        "choice_use.html",
        include_str!("../templates/choice_use.html"),
    ),
    (
        "office_login.html",
        include_str!("../templates/office_login.html"),
    ),
    (
        "office_home.html",
        include_str!("../templates/office_home.html"),
    ),
    (
        "office_search.html",
        include_str!("../templates/office_search.html"),
    ),
    (
        "office_issue.html",
        include_str!("../templates/office_issue.html"),
    ),
    (
        "office_request.html",
        include_str!("../templates/office_request.html"),
    ),
    (
        "office_certificates.html",
        include_str!("../templates/office_certificates.html"),
    ),
    (
        "office_certificate.html",
        include_str!("../templates/office_certificate.html"),
    ),
    (
        "office_audit.html",
        include_str!("../templates/office_audit.html"),
    ),
    (
        "office_admin.html",
        include_str!("../templates/office_admin.html"),
    ),
];

/// Why a page was not rendered: a defect of the embedded templates, which
/// the tests render one by one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    /// The templates did not load (a syntax error in one of them).
    #[error("templates not loaded: {0}")]
    Setup(String),
    /// A template failed while rendering (an unknown variable or asset).
    #[error("template {template} not rendered: {source:#}")]
    Render {
        /// The template.
        template: String,
        /// minijinja's account, with the line.
        source: minijinja::Error,
    },
}

/// The environment, built on first use. A failure is kept, not panicked
/// on: every page then answers the plain-text 500 of [`internal_error`].
static ENVIRONMENT: LazyLock<Result<Environment<'static>, minijinja::Error>> =
    LazyLock::new(environment);

/// `template` rendered with `context`, answered with `status`, as HTML
/// under the [`CONTENT_SECURITY_POLICY`]; a rendering failure is logged
/// and answered as the opaque 500 page.
pub(crate) fn page(status: StatusCode, template: &str, context: impl Into<Value>) -> Response {
    match render(template, context) {
        Ok(html) => html_response(status, html),
        Err(error) => {
            tracing::error!(%error, "page not rendered");
            internal_error()
        }
    }
}

/// `template` rendered with `context`.
pub(crate) fn render(template: &str, context: impl Into<Value>) -> Result<String, RenderError> {
    let environment = ENVIRONMENT
        .as_ref()
        .map_err(|error| RenderError::Setup(format!("{error:#}")))?;
    environment
        .get_template(template)
        .and_then(|found| found.render(context))
        .map_err(|source| RenderError::Render {
            template: template.to_owned(),
            source,
        })
}

/// The opaque 500 page; plain text if even the error page does not render.
fn internal_error() -> Response {
    let text = "Si è verificato un errore interno. Riprovare più tardi; se il problema persiste, contattare il Comune.";
    let rendered = render(
        "error.html",
        context! { title => "Errore interno", text, back_to_verification => false },
    );
    match rendered {
        Ok(html) => html_response(StatusCode::INTERNAL_SERVER_ERROR, html),
        Err(error) => {
            tracing::error!(%error, "error page not rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                text,
            )
                .into_response()
        }
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Html(html),
    )
        .into_response()
}

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut environment = Environment::new();
    // Block tags on their own lines leave no blank lines in the output.
    environment.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    // A misspelt variable fails the render (and so the tests) instead of
    // printing nothing; `{% if name %}` on an absent one stays allowed.
    environment.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    for (name, source) in TEMPLATES {
        environment.add_template(name, source)?;
    }
    environment.add_function("asset", asset);
    environment.add_function("vendor", vendored);
    Ok(environment)
}

/// `asset("sigillo.css")`: the file's hashed address; an unknown name fails
/// the render rather than link to nothing. The address is marked safe, so
/// it is printed as is (auto-escape would write its slashes as `&#x2f;`):
/// it is built from our own file names and hex digits, never from input.
fn asset(name: &str) -> Result<Value, minijinja::Error> {
    assets::url(name)
        .map(Value::from_safe_string)
        .ok_or_else(|| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("no embedded asset named {name}"),
            )
        })
}

/// `vendor("css/bootstrap-italia.min.css")`: the address of a vendored
/// Bootstrap Italia file; an unknown one fails the render.
fn vendored(path: &str) -> Result<Value, minijinja::Error> {
    vendor::url(path)
        .map(Value::from_safe_string)
        .ok_or_else(|| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("no vendored file named {path}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_load() {
        assert!(ENVIRONMENT.is_ok(), "{:?}", ENVIRONMENT.as_ref().err());
    }

    #[test]
    fn the_error_page_escapes_what_it_is_given_and_names_the_comune() {
        let html = render(
            "error.html",
            context! {
                title => "<b>Titolo</b>",
                text => "<script>alert('x') & \"y\"</script>",
                comune => "Borgo <Fittizio>",
                back_to_verification => true,
            },
        )
        .expect("renders");

        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"it\">"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;Titolo&lt;&#x2f;b&gt;"), "{html}");
        assert!(
            html.contains(
                "&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;&#x2f;script&gt;"
            ),
            "{html}"
        );
        assert!(html.contains("Comune di Borgo &lt;Fittizio&gt;"), "{html}");
        assert!(
            html.contains("<a href=\"/v\">Torna alla verifica</a>"),
            "{html}"
        );
    }

    #[test]
    fn without_a_comune_the_header_is_neutral() {
        let html = render(
            "error.html",
            context! { title => "Titolo", text => "Testo" },
        )
        .expect("renders");

        assert!(html.contains("Verifica dei certificati"), "{html}");
        assert!(!html.contains("Comune di"), "{html}");
        assert!(!html.contains("Torna alla verifica"), "{html}");
    }

    #[test]
    fn an_unknown_asset_fails_the_render() {
        assert!(asset("nessuno.js").is_err());
    }

    #[test]
    fn a_page_carries_the_content_security_policy() {
        let response = page(
            StatusCode::OK,
            "error.html",
            context! { title => "Titolo", text => "Testo" },
        );

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
    }

    #[test]
    fn a_template_that_fails_is_answered_with_the_opaque_error_page() {
        let response = page(StatusCode::OK, "nessuna.html", context! {});

        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
    }
}
