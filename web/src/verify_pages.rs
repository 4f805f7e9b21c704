//! The verification pages: `/v` (and `/V`, which the printed QR code
//! opens, the seal in the fragment) and the counter's `/sportello/verifica`.
//!
//! The fragment never reaches the server: the page's small script reads it
//! and posts it to `POST /api/v1/verify`, then shows the report. Without
//! the script (or without a fragment) the page explains itself and offers
//! two forms, the seal's text and a file, posting to `POST /v`, which
//! shows the same report rendered here. Both show the verifier's own
//! Italian headline and detail, and for an authentic seal its facts line by
//! line, as the paper states them. Everything a seal or an upload carries
//! is escaped (the script sets text, never markup). No external resource:
//! styles and script are inline.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Form, body::Bytes, extract::DefaultBodyLimit};
use serde::Deserialize;
use verifier::{Outcome, Report, Status};

use super::AppState;
use super::verify::{ClientIp, MAX_VERIFY_BYTES};

/// `GET` and `POST` of `/v` and `/V`.
pub(super) fn routes() -> MethodRouter<AppState> {
    get(page)
        .post(submit)
        .layer(DefaultBodyLimit::max(MAX_VERIFY_BYTES))
}

/// `GET /v`, `GET /V`: the page the QR code opens.
pub(super) async fn page() -> Html<String> {
    Html(layout(
        "Verifica di un certificato",
        &format!(
            "<h1>Verifica di un certificato</h1>\n\
             <div id=\"esito\" aria-live=\"polite\"></div>\n\
             <div id=\"spiegazione\">{EXPLANATION}</div>\n{FORMS}"
        ),
        Some(&format!("{SCRIPT}{PAGE_SCRIPT}")),
    ))
}

/// `GET /sportello/verifica`: the counter's page, for a barcode scanner
/// that types, a file, or the webcam.
pub(super) async fn counter() -> Html<String> {
    Html(layout(
        "Verifica allo sportello",
        &format!("<h1>Verifica allo sportello</h1>\n{COUNTER_BODY}"),
        Some(&format!("{SCRIPT}{COUNTER_SCRIPT}")),
    ))
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
    let input = match read_form(&state, request).await {
        Ok(input) => input,
        Err(response) => return response,
    };
    match state.verification().verify(input).await {
        Ok(report) => result_page(&report),
        Err(error) => {
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
        "Il file supera 10 MiB. Per una foto, ridurne la risoluzione o fotografare solo il codice QR; per un PDF, caricare il certificato così come è stato scaricato.",
    )
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
    Html(layout(
        report.headline.as_str(),
        &format!(
            "<h1>Verifica di un certificato</h1>\n\
             <div id=\"esito\" aria-live=\"polite\">{}</div>\n{FORMS}",
            render_report(report)
        ),
        Some(&format!("{SCRIPT}{PAGE_SCRIPT}")),
    ))
    .into_response()
}

/// The report's verdict: headline, detail, the failing step, the status
/// and the facts. The same structure the script builds.
fn render_report(report: &Report) -> String {
    let mut html = String::new();
    let class = match &report.outcome {
        Outcome::Authentic { status, .. } if status.is_valid() => "ok",
        Outcome::Authentic { .. } => "attenzione",
        Outcome::Invalid { .. } | Outcome::NotFound => "ko",
    };
    html.push_str(&format!(
        "<section class=\"verdetto {class}\" aria-labelledby=\"esito-titolo\">\
         <h2 id=\"esito-titolo\">{}</h2><p>{}</p>",
        escape(&report.headline),
        escape(&report.detail)
    ));
    match &report.outcome {
        Outcome::Invalid { step, .. } => html.push_str(&format!(
            "<p class=\"passo\">Passo non superato: {}. {}</p>",
            step.number(),
            escape(step.label())
        )),
        Outcome::Authentic { status, facts } => {
            html.push_str(&format!(
                "<h3>Stato</h3><p class=\"stato\">{}</p>\
                 <h3>Cosa riporta il sigillo</h3>\
                 <p class=\"nota\">Confrontare ogni riga con il documento: devono coincidere.</p><dl>",
                escape(&status_text(status))
            ));
            for line in &facts.lines {
                html.push_str(&format!(
                    "<dt>{}</dt><dd>{}</dd>",
                    escape(&line.label),
                    escape(&line.value)
                ));
            }
            html.push_str("</dl>");
        }
        Outcome::NotFound => {}
    }
    html.push_str("</section>");
    html
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

/// An Italian error page that says what to do next.
fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        Html(layout(
            title,
            &format!(
                "<h1>{}</h1><p>{}</p><p><a href=\"/v\">Torna alla verifica</a></p>",
                escape(title),
                escape(text)
            ),
            None,
        )),
    )
        .into_response()
}

/// The one layout of the verification pages.
fn layout(title: &str, body: &str, script: Option<&str>) -> String {
    let script = script
        .map(|script| format!("<script>{script}</script>"))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{} — Sigillo</title><style>{STYLE}</style></head>\n\
         <body><main>\n{body}\n</main>{script}</body></html>\n",
        escape(title)
    )
}

/// Escapes text for HTML content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1a1a1a;background:#fff}\
main{max-width:42rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:0 0 .5rem}h3{font-size:1.05rem;margin:1rem 0 .25rem}\
label{display:block;font-weight:600;margin:.75rem 0 .25rem}\
input[type=text],textarea{width:100%;font:inherit;padding:.5rem;border:2px solid #555;border-radius:4px}\
input[type=file]{font:inherit}\
button{font:inherit;margin-top:.5rem;padding:.5rem 1.25rem;border:0;border-radius:4px;background:#0b4f8a;color:#fff;cursor:pointer}\
button:focus,input:focus,textarea:focus,a:focus{outline:3px solid #f0a000;outline-offset:2px}\
fieldset{border:1px solid #888;border-radius:4px;margin:1rem 0;padding:.75rem}\
.verdetto{border-left:.5rem solid;padding:.75rem 1rem;margin:1rem 0;background:#f6f6f6}\
.ok{border-color:#1b6e2a;background:#eef8ef}.attenzione{border-color:#9a5b00;background:#fff6e5}.ko{border-color:#a4161a;background:#fdeeee}\
dl{display:grid;grid-template-columns:minmax(8rem,auto) 1fr;gap:.25rem .75rem;margin:.5rem 0}\
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
.nota{font-size:.95rem;color:#333}\
video,canvas{max-width:100%}\
@media (max-width:30rem){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}}";

const EXPLANATION: &str = "\
<p>Questa pagina verifica il sigillo stampato sui certificati del Comune: \
dice se il documento è autentico, che cosa deve riportare e se è ancora valido.</p>\
<p>Inquadrando il codice QR del certificato con la fotocamera del telefono, la verifica parte da sola. \
In alternativa, incollare qui sotto il testo letto dal codice QR, oppure caricare il PDF del certificato \
o una foto o scansione della pagina con il codice QR.</p>";

const FORMS: &str = "\
<h2>Verificare un documento</h2>\
<form id=\"modulo-testo\" method=\"post\" action=\"/v\">\
<label for=\"sigillo\">Testo del sigillo (indirizzo o cifre lette dal codice QR)</label>\
<textarea id=\"sigillo\" name=\"seal\" rows=\"3\" autocomplete=\"off\" spellcheck=\"false\"></textarea>\
<button type=\"submit\">Verifica il testo</button></form>\
<form id=\"modulo-file\" method=\"post\" action=\"/v\" enctype=\"multipart/form-data\">\
<label for=\"file\">PDF del certificato, oppure foto o scansione (PNG o JPEG, al massimo 10 MiB)</label>\
<input id=\"file\" name=\"file\" type=\"file\" accept=\"application/pdf,image/png,image/jpeg\">\
<button type=\"submit\">Verifica il file</button></form>";

const COUNTER_BODY: &str = "\
<p>Leggere il codice QR del certificato con il lettore (il testo arriva nel campo e la verifica parte con Invio), \
oppure caricare il PDF o la scansione, oppure inquadrarlo con la webcam.</p>\
<form id=\"modulo-testo\" method=\"post\" action=\"/v\">\
<label for=\"sigillo\">Testo del sigillo</label>\
<input id=\"sigillo\" name=\"seal\" type=\"text\" autofocus autocomplete=\"off\" spellcheck=\"false\">\
<button type=\"submit\">Verifica</button></form>\
<div id=\"esito\" aria-live=\"polite\"></div>\
<form id=\"modulo-file\" method=\"post\" action=\"/v\" enctype=\"multipart/form-data\">\
<label for=\"file\">PDF, foto o scansione (PNG o JPEG, al massimo 10 MiB)</label>\
<input id=\"file\" name=\"file\" type=\"file\" accept=\"application/pdf,image/png,image/jpeg\">\
<button type=\"submit\">Verifica il file</button></form>\
<fieldset id=\"webcam\" hidden><legend>Webcam</legend>\
<button type=\"button\" id=\"webcam-avvia\">Accendi la webcam</button>\
<video id=\"webcam-video\" playsinline muted hidden></video>\
<button type=\"button\" id=\"webcam-scatta\" hidden>Scatta e verifica</button>\
<canvas id=\"webcam-tela\" hidden></canvas></fieldset>";

/// What both pages share: `sigillo.send(body, type)` posts to the API and
/// shows the report in `#esito`; the forms go through it too.
const SCRIPT: &str = r#"
"use strict";
var sigillo = (function () {
  var out = document.getElementById("esito");
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function statusText(s) {
    switch (s && s.state) {
      case "valid": return "In corso di validità";
      case "expired": return "Scaduto";
      case "revoked": return s.reason ? "Revocato: " + s.reason : "Revocato";
      case "superseded": return "Sostituito da un certificato successivo";
      case "pending": return "Non ancora rilasciato";
      default: return "Non verificabile";
    }
  }
  function render(r) {
    var cls = r.outcome === "authentic" ? (r.status && r.status.state === "valid" ? "ok" : "attenzione") : "ko";
    var box = el("section", null, "verdetto " + cls);
    box.setAttribute("aria-labelledby", "esito-titolo");
    var h = el("h2", r.headline);
    h.id = "esito-titolo";
    box.appendChild(h);
    box.appendChild(el("p", r.detail));
    if (r.outcome === "invalid" && r.step) {
      box.appendChild(el("p", "Passo non superato: " + r.step.number + ". " + r.step.label, "passo"));
    }
    if (r.outcome === "authentic") {
      box.appendChild(el("h3", "Stato"));
      box.appendChild(el("p", statusText(r.status), "stato"));
      box.appendChild(el("h3", "Cosa riporta il sigillo"));
      box.appendChild(el("p", "Confrontare ogni riga con il documento: devono coincidere.", "nota"));
      var dl = el("dl");
      (r.facts && r.facts.lines || []).forEach(function (line) {
        dl.appendChild(el("dt", line.label));
        dl.appendChild(el("dd", line.value));
      });
      box.appendChild(dl);
    }
    show(box, h);
  }
  function fail(message) {
    var box = el("section", null, "verdetto ko");
    box.setAttribute("role", "alert");
    var h = el("h2", "Verifica non eseguita");
    box.appendChild(h);
    box.appendChild(el("p", message));
    show(box, h);
  }
  function show(box, heading) {
    out.textContent = "";
    out.appendChild(box);
    heading.tabIndex = -1;
    heading.focus();
  }
  function send(body, type) {
    out.textContent = "";
    out.appendChild(el("p", "Verifica in corso…"));
    return fetch("/api/v1/verify", { method: "POST", headers: { "Content-Type": type }, body: body })
      .then(function (res) {
        return res.json().then(function (json) {
          if (!res.ok) { throw new Error(json.error ? json.error.message : "errore " + res.status); }
          return json;
        });
      })
      .then(render, function (e) { fail(e.message || "Verifica non riuscita: riprovare."); });
  }
  var text = document.getElementById("modulo-testo");
  var file = document.getElementById("modulo-file");
  text.addEventListener("submit", function (event) {
    var value = document.getElementById("sigillo").value.trim();
    if (!value) { return; }
    event.preventDefault();
    send(value, "text/plain; charset=utf-8");
  });
  file.addEventListener("submit", function (event) {
    var chosen = document.getElementById("file").files[0];
    if (!chosen) { return; }
    event.preventDefault();
    send(chosen, chosen.type || "application/octet-stream");
  });
  return { send: send, fail: fail };
})();
"#;

/// The QR code's page: the seal in the fragment is verified at once.
const PAGE_SCRIPT: &str = r#"
(function () {
  var digits = location.hash.replace(/^#/, "").trim();
  var explanation = document.getElementById("spiegazione");
  if (digits) {
    if (explanation) { explanation.hidden = true; }
    sigillo.send(digits, "text/plain; charset=utf-8");
  }
})();
"#;

/// The counter: the field empties and takes the focus again after each
/// scan; the webcam, where there is one, takes a still and sends it as PNG.
const COUNTER_SCRIPT: &str = r#"
(function () {
  var field = document.getElementById("sigillo");
  document.getElementById("modulo-testo").addEventListener("submit", function () {
    setTimeout(function () { field.value = ""; field.focus(); }, 0);
  });
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) { return; }
  var box = document.getElementById("webcam");
  var video = document.getElementById("webcam-video");
  var shoot = document.getElementById("webcam-scatta");
  var canvas = document.getElementById("webcam-tela");
  box.hidden = false;
  document.getElementById("webcam-avvia").addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      shoot.hidden = false;
      return video.play();
    }, function () {
      sigillo.fail("Webcam non disponibile: consentire l'accesso alla fotocamera, oppure usare il lettore o caricare un file.");
    });
  });
  shoot.addEventListener("click", function () {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) { sigillo.send(blob, "image/png"); }, "image/png");
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
