//! Verification over real HTTP: `POST /api/v1/verify` with the seal's
//! text, its URL, JSON, the PDF and a scan of the page, against the
//! registry's status (valid, revoked, pending, void); tampered seals;
//! limits; and the lists offline verifiers fetch from
//! `/.well-known/sigillo/{istat}/`, checked with the verifier's own
//! decoders against the comune's CA.

mod common;

use common::{
    HOLDER, assert_schema_valid, digits, openapi_schema, spawn_app, spawn_app_with_queue, virtuale,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use store::StatusChange;
use time::OffsetDateTime;
use verifier::{RegistryStatus, SignedTrustList, StatusList, Trust};

const TEXT: &str = "text/plain; charset=utf-8";

fn assert_authentic_and_valid(report: &Value) {
    assert_eq!(report["outcome"], "authentic", "{report}");
    assert_eq!(report["status"]["state"], "valid", "{report}");
    assert_eq!(
        report["headline"], "Documento autentico e in corso di validità",
        "{report}"
    );
    assert_eq!(report["facts"]["holder"]["fiscal_code"], HOLDER, "{report}");
}

#[tokio::test]
async fn an_issued_certificate_is_authentic_and_valid_from_its_digits_url_json_and_pdf() {
    let app = spawn_app(virtuale()).await;
    let (record, pdf) = app.issue_exempt().await;
    let digits = digits(&record);

    let (status, from_digits) = app.verify(digits.clone(), TEXT).await;
    assert_eq!(status, StatusCode::OK);
    assert_authentic_and_valid(&from_digits);
    assert_eq!(from_digits["input"], "text");
    assert_eq!(from_digits["facts"]["number"], record.number.to_string());

    let url = format!("HTTPS://LOCALHOST/V#{digits}\r\n");
    let (_, from_url) = app.verify(url, TEXT).await;
    assert_authentic_and_valid(&from_url);

    let body = json!({ "seal": digits }).to_string();
    let (_, from_json) = app.verify(body, "application/json").await;
    assert_authentic_and_valid(&from_json);

    let (status, from_pdf) = app.verify(pdf, "application/pdf").await;
    assert_eq!(status, StatusCode::OK);
    assert_authentic_and_valid(&from_pdf);
    assert_eq!(from_pdf["input"], "pdf");
    assert!(from_pdf["pdf_signature"].is_object(), "{from_pdf}");
}

#[tokio::test]
async fn a_tampered_seal_is_invalid_and_names_the_failing_step() {
    let app = spawn_app(virtuale()).await;
    let (record, _) = app.issue_exempt().await;
    let mut tampered = record.seal.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;

    let (status, report) = app.verify(seal::text::to_digits(&tampered), TEXT).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["outcome"], "invalid", "{report}");
    assert_eq!(report["step"]["name"], "signature", "{report}");
    assert!(
        report.get("facts").is_none(),
        "no claims of a forged seal: {report}"
    );
}

#[tokio::test]
async fn text_that_is_not_a_seal_is_invalid_at_reading() {
    let app = spawn_app(virtuale()).await;

    let (status, report) = app.verify("ciao <b>mondo</b>", TEXT).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["outcome"], "invalid", "{report}");
    assert_eq!(report["step"]["number"], 1, "{report}");
}

#[tokio::test]
async fn a_revoked_certificate_is_authentic_but_revoked_with_its_reason() {
    let app = spawn_app(virtuale()).await;
    let (record, pdf) = app.issue_exempt().await;
    app.store
        .set_certificate_status(
            record.comune,
            &record.id,
            StatusChange::Revoke {
                reason: "rilasciato per errore".into(),
                at: OffsetDateTime::now_utc(),
            },
        )
        .await
        .expect("revoke");

    for (body, kind) in [
        (digits(&record).into_bytes(), TEXT),
        (pdf, "application/pdf"),
    ] {
        let (_, report) = app.verify(body, kind).await;
        assert_eq!(report["outcome"], "authentic", "{report}");
        assert_eq!(report["status"]["state"], "revoked", "{report}");
        assert_eq!(report["status"]["reason"], "rilasciato per errore");
        let headline = report["headline"].as_str().expect("headline");
        assert!(
            headline.starts_with("NON VALIDO — revocato il "),
            "{headline}"
        );
    }
}

#[tokio::test]
async fn a_certificate_awaiting_payment_is_not_yet_released_and_once_voided_never_valid() {
    let app = spawn_app(virtuale()).await;
    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let record = app.certificate_of(&request).await;

    let (_, pending) = app.verify(digits(&record), TEXT).await;
    assert_eq!(pending["status"]["state"], "pending", "{pending}");

    let (status, _) = app.cancel(request["id"].as_str().expect("id")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, void) = app.verify(digits(&record), TEXT).await;
    assert_eq!(void["outcome"], "authentic", "{void}");
    assert_eq!(void["status"]["state"], "revoked", "{void}");
}

#[tokio::test]
async fn empty_and_oversized_bodies_get_the_error_shape() {
    let app = spawn_app(virtuale()).await;

    let (status, empty) = app.verify(" \n", TEXT).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(empty["error"]["code"], "invalid_request", "{empty}");

    let (status, bad_json) = app.verify("{\"sigillo\": 1}", "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_json["error"]["code"], "invalid_request", "{bad_json}");

    let (status, large) = app
        .verify(vec![b'7'; 10 * 1024 * 1024 + 1], "application/pdf")
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(large["error"]["code"], "payload_too_large", "{large}");
}

#[tokio::test]
async fn too_many_verifications_from_one_address_get_429_with_retry_after() {
    let app = spawn_app(virtuale()).await;
    for _ in 0..sigillo::config::DEFAULT_VERIFY_PER_MINUTE {
        let (status, _) = app.verify("0", TEXT).await;
        assert_eq!(status, StatusCode::OK);
    }

    let response = app
        .http
        .post(format!("{}/api/v1/verify", app.base))
        .body("0")
        .send()
        .await
        .expect("POST");

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

#[tokio::test]
async fn the_published_lists_verify_against_the_ca_and_tell_a_revocation_offline() {
    let app = spawn_app(virtuale()).await;
    let (valid, _) = app.issue_exempt().await;
    let (revoked, _) = app.issue_exempt().await;
    app.store
        .set_certificate_status(
            revoked.comune,
            &revoked.id,
            StatusChange::Revoke {
                reason: "errore".into(),
                at: OffsetDateTime::now_utc(),
            },
        )
        .await
        .expect("revoke");
    let well_known = format!("{}/.well-known/sigillo/{}", app.base, valid.comune);
    let get = |path: &'static str| {
        let url = format!("{well_known}/{path}");
        let http = app.http.clone();
        async move { http.get(url).send().await.expect("GET") }
    };

    let ca = get("ca.pem").await.text().await.expect("pem");
    let ca = keys::CertificateInfo::from_pem(&ca).expect("a CA certificate");
    let trust_list = get("trust-list").await;
    assert_eq!(
        trust_list.headers()["content-type"],
        verifier::TRUST_LIST_TYPE
    );
    let trust_list = trust_list.bytes().await.expect("bytes");
    let status_list = get("status-list").await;
    assert_eq!(
        status_list.headers()["content-type"],
        verifier::STATUS_LIST_TYPE
    );
    assert_eq!(
        status_list.headers()["cache-control"],
        "public, max-age=300"
    );
    let status_list = status_list.bytes().await.expect("bytes");

    let now = OffsetDateTime::now_utc();
    let list = SignedTrustList::open(&trust_list, &ca, now).expect("signed by the pinned CA");
    let mut trust = Trust::default();
    trust.add_list(&list).expect("trusted");
    let statuses = StatusList::from_cwt(&status_list, &trust, now).expect("signed by a signer");
    assert!(
        statuses.subject.ends_with("/status-list"),
        "{}",
        statuses.subject
    );
    assert_eq!(
        statuses.list.status_of(valid.status_index),
        RegistryStatus::Valid
    );
    assert!(matches!(
        statuses.list.status_of(revoked.status_index),
        RegistryStatus::Revoked { .. }
    ));

    let mut lists = verifier::StatusLists::new();
    lists.load(&status_list, &trust, now).expect("loads");
    let report = verifier::Verifier::new(&trust).verify_now(
        verifier::Input::Text(&digits(&revoked)),
        &lists,
        now,
    );
    assert!(report.is_authentic());
    assert!(
        report.headline.starts_with("NON VALIDO — revocato"),
        "{}",
        report.headline
    );
}

#[tokio::test]
async fn an_unknown_comune_has_no_lists() {
    let app = spawn_app(virtuale()).await;
    for path in ["999999/status-list", "999999/trust-list", "abc/ca.pem"] {
        let response = app
            .http
            .get(format!("{}/.well-known/sigillo/{path}", app.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "not_found", "{body}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_verify_and_its_reports_match_the_schema() {
    let app = spawn_app(virtuale()).await;
    let document: Value = app
        .http
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert!(document["paths"]["/verify"]["post"].is_object());
    let report_schema = openapi_schema(&document, "Report");
    let error_schema = openapi_schema(&document, "Error");
    let (record, pdf) = app.issue_exempt().await;

    let (_, valid) = app.verify(digits(&record), TEXT).await;
    assert_schema_valid(&report_schema, &valid);
    let (_, from_pdf) = app.verify(pdf, "application/pdf").await;
    assert_schema_valid(&report_schema, &from_pdf);
    let (_, invalid) = app.verify("123", TEXT).await;
    assert_schema_valid(&report_schema, &invalid);
    let (_, not_found) = app
        .verify(b"%PDF-1.7\n%%EOF\n".to_vec(), "application/pdf")
        .await;
    assert_schema_valid(&report_schema, &not_found);
    let (_, error) = app.verify("", TEXT).await;
    assert_schema_valid(&error_schema, &error);
}

#[tokio::test]
async fn a_scan_of_the_printed_page_verifies_as_png_and_as_jpeg() {
    if !testkit::command_available("pdftoppm", "-v") {
        return;
    }
    let app = spawn_app(virtuale()).await;
    let (_, pdf) = app.issue_exempt().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf_path = dir.path().join("certificato.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write");

    for (format, content_type) in [("-png", "image/png"), ("-jpeg", "image/jpeg")] {
        let page = dir.path().join("pagina");
        let status = std::process::Command::new("pdftoppm")
            .args([format, "-r", "200", "-singlefile"])
            .arg(&pdf_path)
            .arg(&page)
            .status()
            .expect("pdftoppm runs");
        assert!(status.success());
        let extension = if format == "-png" { "png" } else { "jpg" };
        let image = std::fs::read(page.with_extension(extension)).expect("the page image");

        let (status, report) = app.verify(image, content_type).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["input"], "image", "{report}");
        assert_authentic_and_valid(&report);
    }
}

#[tokio::test]
async fn pages_and_answers_carry_the_security_headers_and_the_api_answers_json_everywhere() {
    let app = spawn_app(virtuale()).await;
    let (record, _) = app.issue_exempt().await;
    for path in ["/v", "/sportello/verifica"] {
        let page = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("GET");
        let headers = page.headers();
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        // Served over plain HTTP here: no HSTS.
        assert!(headers.get("strict-transport-security").is_none());
    }
    // The result page shows a person's data: never stored.
    let result = app
        .http
        .post(format!("{}/v", app.base))
        .form(&[("seal", digits(&record))])
        .send()
        .await
        .expect("POST /v");
    assert_eq!(result.status(), StatusCode::OK);
    assert_eq!(result.headers()["cache-control"], "no-store");
    assert_eq!(result.headers()["referrer-policy"], "no-referrer");

    // Unknown addresses and wrong methods under /api/ answer the JSON error.
    for (method, path, status, code) in [
        ("GET", "/api/v1/nothing", StatusCode::NOT_FOUND, "not_found"),
        ("GET", "/api/v2/verify", StatusCode::NOT_FOUND, "not_found"),
        ("GET", "/api/", StatusCode::NOT_FOUND, "not_found"),
        (
            "GET",
            "/api/v1/verify",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "DELETE",
            "/api/v1/requests",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let response = app
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", app.base),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        assert_eq!(body["error"]["code"], code, "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn a_utf16_text_body_is_read_as_text_and_broken_utf16_refused_as_such() {
    let app = spawn_app(virtuale()).await;
    let (record, _) = app.issue_exempt().await;
    let url = format!("HTTPS://LOCALHOST/V#{}", digits(&record));
    let utf16le = |text: &str, bom: bool| {
        let mut bytes = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    };
    for body in [utf16le(&url, true), utf16le(&url, false)] {
        let (status, report) = app.verify(body, "text/plain; charset=utf-16").await;
        assert_eq!(status, StatusCode::OK);
        assert_authentic_and_valid(&report);
        assert_eq!(report["input"], "text");
    }
    let mut big_endian = vec![0xFE, 0xFF];
    big_endian.extend(url.encode_utf16().flat_map(u16::to_be_bytes));
    let (_, report) = app.verify(big_endian, "text/plain").await;
    assert_authentic_and_valid(&report);
    // A lone surrogate after the byte-order mark: refused as text.
    let (status, refused) = app
        .verify(vec![0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00], TEXT)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("UTF-16")),
        "{refused}"
    );
}

#[tokio::test]
async fn past_the_queue_an_upload_gets_503_with_retry_after_and_the_text_is_verified_meanwhile() {
    let app = spawn_app_with_queue(1, 0).await;
    let (record, _) = app.issue_exempt().await;
    // A large white image: every pass of the QR search runs, for a while.
    let mut png = Vec::new();
    image::GrayImage::from_pixel(6000, 6000, image::Luma([255]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encodes");
    let slow = {
        let (http, url, png) = (
            app.http.clone(),
            format!("{}/api/v1/verify", app.base),
            png.clone(),
        );
        tokio::spawn(async move {
            http.post(url)
                .header("Content-Type", "image/png")
                .body(png)
                .send()
                .await
                .expect("POST")
                .status()
        })
    };
    // Wait until the first is running, then knock.
    let mut refused = None;
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        let response = app
            .http
            .post(format!("{}/api/v1/verify", app.base))
            .header("Content-Type", "image/png")
            .body(png.clone())
            .send()
            .await
            .expect("POST");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("a second upload is refused while the first runs");
    assert_eq!(refused.headers()["retry-after"], "5");
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "busy", "{body}");
    // The text does not wait for the image.
    let (status, report) = app.verify(digits(&record), TEXT).await;
    assert_eq!(status, StatusCode::OK);
    assert_authentic_and_valid(&report);
    assert!(
        !slow.is_finished(),
        "the image was still being read when the text was answered"
    );
    assert_eq!(slow.await.expect("joins"), StatusCode::OK);
}
