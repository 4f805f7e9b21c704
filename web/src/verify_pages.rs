//! The verification pages: `/v` (and `/V`, which the printed QR code
//! opens, the seal in the fragment) and the counter's `/sportello/verifica`.
//!
//! The fragment never reaches the server: the page's script
//! (`static/verifica.js` over `static/sigillo.js`) reads it and posts it to
//! `POST /api/v1/verify`, then shows the report. Without the script (or
//! without a fragment) the page explains itself and offers two forms, the
//! seal's text and a file, posting to `POST /v`, which shows the same
//! report rendered here. Both show the verifier's own Italian headline and
//! detail, and for an authentic seal its facts line by line, as the paper
//! states them. The HTML is the templates' (`verify.html`,
//! `verify_result.html`, `counter.html`, `error.html`), which escape
//! everything a seal or an upload carries; the script sets text, never
//! markup. Nothing is loaded from elsewhere.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use axum::{Form, body::Bytes, extract::DefaultBodyLimit};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use verifier::{FactLine, Outcome, Report, Status};

use super::AppState;
use super::queue::{Busy, RETRY_AFTER_SECONDS};
use super::templates;
use super::verify::{ClientIp, MAX_VERIFY_BYTES, NotVerified};

/// `GET` and `POST` of `/v` and `/V`.
pub(super) fn routes() -> MethodRouter<AppState> {
    get(page)
        .post(submit)
        .layer(DefaultBodyLimit::max(MAX_VERIFY_BYTES))
}

/// `GET /v`, `GET /V`: the page the QR code opens.
pub(super) async fn page() -> Response {
    templates::page(StatusCode::OK, "verify.html", context! {})
}

/// The form fields of `POST /v` (URL-encoded).
#[derive(Debug, Deserialize)]
pub(super) struct SealForm {
    #[serde(default)]
    seal: String,
}

/// `POST /v`: the forms without the script; the report rendered here.
#[tracing::instrument(skip_all)]
pub(super) async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    request: Request,
) -> Response {
    if let Err(seconds) = state.verification().admit(client) {
        return error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Troppe verifiche",
            &format!(
                "Da questo indirizzo sono arrivate troppe verifiche in poco tempo. Riprovare tra {seconds} secondi."
            ),
        );
    }
    let early = if super::verify::admit_before_reading(request.headers()) {
        match state.verification().admit_heavy() {
            Ok(admission) => Some(admission),
            Err(Busy) => return busy_page(),
        }
    } else {
        None
    };
    let input = match read_form(&state, request).await {
        Ok(input) => input,
        Err(response) => return response,
    };
    match state.verification().verify(input, early).await {
        Ok(report) => result_page(&report),
        Err(NotVerified::Busy) => busy_page(),
        Err(NotVerified::Failed(error)) => {
            tracing::error!(%error, "verification page failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Verifica non riuscita",
                "Si è verificato un errore interno. Riprovare più tardi; se il problema persiste, contattare il Comune.",
            )
        }
    }
}

/// The bytes to verify from the form: the file if one was chosen, else
/// the text.
async fn read_form(state: &AppState, request: Request) -> Result<Bytes, Response> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let input = if multipart {
        let form = Multipart::from_request(request, state)
            .await
            .map_err(|_| bad_form())?;
        read_multipart(form).await?
    } else {
        let Form(form) = Form::<SealForm>::from_request(request, state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => too_large(),
                _ => bad_form(),
            })?;
        Bytes::from(form.seal.into_bytes())
    };
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Niente da verificare",
            "Incollare il testo del sigillo oppure scegliere un PDF o una foto del certificato, poi premere «Verifica».",
        ));
    }
    Ok(input)
}

async fn read_multipart(mut form: Multipart) -> Result<Bytes, Response> {
    let mut text = Bytes::new();
    let mut file = Bytes::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large());
            }
            Err(_) => return Err(bad_form()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|error| {
            if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                bad_form()
            }
        })?;
        match name.as_str() {
            "file" => file = bytes,
            "seal" => text = bytes,
            _ => {}
        }
    }
    Ok(if file.is_empty() { text } else { file })
}

fn too_large() -> Response {
    error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "File troppo grande",
        "Il file supera 10 MB. Per una foto, ridurne la risoluzione o fotografare solo il codice QR; per un PDF, caricare il certificato così come è stato scaricato.",
    )
}

/// 503 for a full queue, with `Retry-After`.
fn busy_page() -> Response {
    let mut response = error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Troppe verifiche in corso",
        &format!(
            "In questo momento il servizio sta verificando molte immagini e PDF. Riprovare tra {RETRY_AFTER_SECONDS} secondi; il testo del sigillo, invece, si verifica subito."
        ),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from(RETRY_AFTER_SECONDS),
    );
    response
}

fn bad_form() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Modulo non leggibile",
        "Il modulo inviato non è leggibile. Tornare alla pagina di verifica e riprovare.",
    )
}

/// The report as a page, with the forms to verify another document.
fn result_page(report: &Report) -> Response {
    templates::page(
        StatusCode::OK,
        "verify_result.html",
        context! { verdict => Serde(Verdict::of(report)) },
    )
}

/// The report as `verify_result.html` shows it: the verdict's class,
/// headline and detail, the failing step, and for an authentic seal the
/// status and the facts. The same structure the script builds from the
/// API's JSON.
#[derive(Debug, Serialize)]
struct Verdict<'a> {
    class: &'static str,
    headline: &'a str,
    detail: &'a str,
    step: Option<FailedStep>,
    authentic: Option<Authentic<'a>>,
}

/// The checklist step an invalid seal failed, by number and name.
#[derive(Debug, Serialize)]
struct FailedStep {
    number: u8,
    label: &'static str,
}

/// What an authentic seal adds: its status in words and its facts.
#[derive(Debug, Serialize)]
struct Authentic<'a> {
    status: String,
    lines: &'a [FactLine],
}

impl<'a> Verdict<'a> {
    fn of(report: &'a Report) -> Self {
        // The colour agrees with the headline's first words: green only
        // for «in corso di validità», amber for a status not checked, red
        // for every certificate not to be relied on.
        let class = match &report.outcome {
            Outcome::Authentic { status, .. } if status.is_valid() => "ok",
            Outcome::Authentic {
                status: Status::Unknown { .. },
                ..
            } => "attenzione",
            Outcome::Authentic { .. } | Outcome::Invalid { .. } | Outcome::NotFound => "ko",
        };
        let step = match &report.outcome {
            Outcome::Invalid { step, .. } => Some(FailedStep {
                number: step.number(),
                label: step.label(),
            }),
            _ => None,
        };
        let authentic = match &report.outcome {
            Outcome::Authentic { status, facts } => Some(Authentic {
                status: status_text(status),
                lines: &facts.lines,
            }),
            _ => None,
        };
        Self {
            class,
            headline: &report.headline,
            detail: &report.detail,
            step,
            authentic,
        }
    }
}

/// The status in a few words (the headline and detail say the rest).
fn status_text(status: &Status) -> String {
    match status {
        Status::Valid => "In corso di validità".into(),
        Status::Expired { .. } => "Scaduto".into(),
        Status::Revoked { reason, .. } => match reason {
            Some(reason) => format!("Revocato: {reason}"),
            None => "Revocato".into(),
        },
        Status::Superseded => "Sostituito da un certificato successivo".into(),
        Status::Pending => "Non ancora rilasciato".into(),
        Status::Unknown { reason } => format!("Non verificabile: {}", reason.message()),
    }
}

/// An Italian error page that says what to do next, with the way back to
/// the verification page.
fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    templates::page(
        status,
        "error.html",
        context! { title, text, back_to_verification => true },
    )
}

#[cfg(test)]
mod tests {
    use verifier::{Input, NoStatus, Trust, Verifier};

    use super::*;

    const HOSTILE: &str = "<script>alert('x') & \"y\"</script>";

    /// An authentic report whose holder's surname is [`HOSTILE`]: a seal
    /// signed with the demo comune's test keys, verified for real.
    fn hostile_report() -> Report {
        let keys = testkit::comune_keys(&testkit::demo_comune(), testkit::KEYS_MADE);
        let mut claims = seal::samples::residenza();
        claims.holder.surname = HOSTILE.to_owned();
        let sealed = seal::Seal::sign(&claims, &keys.signer).expect("signs");
        let trust = Trust::new(keys.trust.clone());
        let digits = sealed.to_digits();
        Verifier::new(&trust).verify_now(Input::Text(&digits), &NoStatus, testkit::sample_now())
    }

    #[test]
    fn a_report_line_with_markup_comes_out_escaped() {
        let report = hostile_report();
        let Outcome::Authentic { facts, .. } = &report.outcome else {
            panic!("not authentic: {}", report.detail);
        };
        assert!(facts.lines.iter().any(|line| line.value.contains(HOSTILE)));

        let html = templates::render(
            "verify_result.html",
            context! { verdict => Serde(Verdict::of(&report)) },
        )
        .expect("renders");

        assert!(
            html.contains(
                "&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;&#x2f;script&gt;"
            ),
            "{html}"
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("alert('x')"), "{html}");
    }

    #[test]
    fn the_rendered_report_leads_with_the_verdict_and_states_the_facts() {
        let report = hostile_report();

        let html = templates::render(
            "verify_result.html",
            context! { verdict => Serde(Verdict::of(&report)) },
        )
        .expect("renders");

        assert!(
            html.contains("<section class=\"verdetto attenzione\""),
            "{html}"
        );
        assert!(html.contains(&format!("<h2 id=\"esito-titolo\">{}</h2>", report.headline)));
        assert!(html.contains("<h3>Stato</h3>"), "{html}");
        assert!(html.contains("<dt>Cognome</dt>"), "{html}");
        assert!(html.contains("<form id=\"modulo-testo\""), "{html}");
    }

    #[test]
    fn every_page_renders() {
        for template in ["verify.html", "counter.html"] {
            let html =
                templates::render(template, context! { scan_key => "0123abcd" }).expect(template);
            assert!(html.contains("<label for=\"sigillo\">"), "{template}");
        }
    }
}
