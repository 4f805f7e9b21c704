//! The verification pages: in a real browser (headless Chromium runs the
//! page's script, which reads the seal from the fragment and asks the
//! API), and without a script (the forms post to `/v`, answered with the
//! verdict rendered by the server).

mod common;

use std::process::Command;

use common::{TestApp, digits, spawn_app, virtuale};
use reqwest::StatusCode;

/// The DOM of `url` after its scripts ran, as headless Chromium sees it;
/// `None` when Chromium is not installed (the test is then skipped).
async fn browser_dom(url: String) -> Option<String> {
    if !testkit::command_available("chromium", "--version") {
        return None;
    }
    let output = tokio::task::spawn_blocking(move || {
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--virtual-time-budget=10000",
                "--dump-dom",
                &url,
            ])
            .output()
    })
    .await
    .expect("join")
    .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn surname(app: &TestApp, digits: &str) -> String {
    let (_, report) = app.verify(digits.to_owned(), "text/plain").await;
    report["facts"]["holder"]["surname"]
        .as_str()
        .expect("surname")
        .to_owned()
}

#[tokio::test]
async fn the_page_the_qr_code_opens_shows_the_verdict_and_the_holder_in_a_browser() {
    let app = spawn_app(virtuale()).await;
    let (record, _) = app.issue_exempt().await;
    let digits = digits(&record);
    let surname = surname(&app, &digits).await;

    for path in ["V", "v"] {
        let Some(dom) = browser_dom(format!("{}/{path}#{digits}", app.base)).await else {
            return;
        };
        assert!(
            dom.contains("Documento autentico e in corso di validità"),
            "/{path}: {dom}"
        );
        assert!(dom.contains(&surname), "/{path}: {dom}");
        assert!(dom.contains(&record.number.to_string()), "/{path}: {dom}");
    }
}

#[tokio::test]
async fn a_revoked_certificate_leads_with_not_valid_in_red_in_a_browser() {
    let app = spawn_app(virtuale()).await;
    let (record, _) = app.issue_exempt().await;
    app.revoke(&record).await;
    let digits = digits(&record);

    let Some(dom) = browser_dom(format!("{}/V#{digits}", app.base)).await else {
        return;
    };

    // The verdict box is the red one, and its headline's first words say
    // not to rely on the document; that the seal is authentic comes after.
    assert!(
        dom.contains("<section class=\"verdetto ko\""),
        "red verdict: {dom}"
    );
    let headline = dom
        .split("<h2 id=\"esito-titolo\"")
        .nth(1)
        .and_then(|rest| rest.split_once('>'))
        .and_then(|(_, rest)| rest.split("</h2>").next())
        .unwrap_or_else(|| panic!("a headline: {dom}"));
    assert!(
        headline.starts_with("NON VALIDO — revocato il "),
        "{headline}"
    );
    assert!(headline.ends_with("il sigillo è autentico"), "{headline}");
    assert!(!dom.contains("verdetto ok"), "{dom}");
    let css = app
        .http
        .get(format!("{}{}", app.base, stylesheet(&dom)))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("css");
    assert!(
        css.contains(".ko { border-color: #a4161a; background: #fdeeee; }"),
        "the red of .ko: {css}"
    );
}

/// The address of the page's stylesheet.
/// Sigillo's own style sheet (the last linked, after Bootstrap Italia's).
fn stylesheet(html: &str) -> &str {
    html.split("<link rel=\"stylesheet\" href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/static/sigillo."))
        .expect("Sigillo's style sheet")
}

#[tokio::test]
async fn a_tampered_fragment_shows_the_invalid_verdict_in_a_browser() {
    let app = spawn_app(virtuale()).await;
    let (record, _) = app.issue_exempt().await;
    let mut tampered = record.seal.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let url = format!("{}/V#{}", app.base, seal::text::to_digits(&tampered));

    let Some(dom) = browser_dom(url).await else {
        return;
    };

    assert!(
        dom.contains("Sigillo falso o alterato: documento non autentico"),
        "{dom}"
    );
    assert!(dom.contains("Passo non superato: 5."), "{dom}");
    assert!(!dom.contains("Documento autentico e in corso"), "{dom}");
}

#[tokio::test]
async fn without_a_script_the_text_form_is_answered_with_the_verdict() {
    let app = spawn_app(virtuale()).await;
    let (record, _) = app.issue_exempt().await;
    let digits = digits(&record);
    let surname = surname(&app, &digits).await;

    let response = app
        .http
        .post(format!("{}/v", app.base))
        .form(&[("seal", format!("HTTPS://LOCALHOST/V#{digits}"))])
        .send()
        .await
        .expect("POST /v");

    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(html.contains("<html lang=\"it\">"));
    assert!(
        html.contains("Documento autentico e in corso di validità"),
        "{html}"
    );
    assert!(html.contains(&surname), "{html}");
}

#[tokio::test]
async fn without_a_script_the_upload_form_verifies_the_pdf() {
    let app = spawn_app(virtuale()).await;
    let (_, pdf) = app.issue_exempt().await;
    let boundary = "sigillo-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"seal\"\r\n\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"certificato.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());

    let response = app
        .http
        .post(format!("{}/V", app.base))
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("POST /V");

    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(
        html.contains("Documento autentico e in corso di validità"),
        "{html}"
    );
}

#[tokio::test]
async fn what_a_form_sends_is_escaped_and_an_empty_form_says_what_to_do() {
    let app = spawn_app(virtuale()).await;
    let hostile = "HTTPS://X/V#<script>alert(1)</script>";

    let html = app
        .http
        .post(format!("{}/v", app.base))
        .form(&[("seal", hostile)])
        .send()
        .await
        .expect("POST")
        .text()
        .await
        .expect("html");
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("Sigillo illeggibile"), "{html}");

    let empty = app
        .http
        .post(format!("{}/v", app.base))
        .form(&[("seal", " ")])
        .send()
        .await
        .expect("POST");
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(
        empty
            .text()
            .await
            .expect("html")
            .contains("Incollare il testo")
    );
}

#[tokio::test]
async fn the_pages_load_nothing_from_elsewhere_and_the_counter_field_has_the_focus() {
    let app = spawn_app(virtuale()).await;
    let cookie = common::operator_cookie(&app).await;
    for path in ["/v", "/V", "/sportello/verifica"] {
        let html = app
            .http
            .get(format!("{}{path}", app.base))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("html");
        assert!(html.contains("<html lang=\"it\">"), "{path}");
        for external in ["src=\"http", "href=\"http", "@import", "url("] {
            assert!(!html.contains(external), "{path} loads {external}");
        }
        assert!(html.contains("<label for=\"sigillo\">"), "{path}");
    }
    let counter = app
        .http
        .get(format!("{}/sportello/verifica", app.base))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("html");
    assert!(counter.contains("autofocus"));
    // The webcam code is the counter's own script, served beside the page.
    let script = counter
        .split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|src| src.starts_with("/static/sportello."))
        .expect("the counter loads its script");
    let script = app
        .http
        .get(format!("{}{script}", app.base))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("script");
    assert!(script.contains("getUserMedia"));
}
