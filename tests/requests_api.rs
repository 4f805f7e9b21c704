//! The request API end to end over real HTTP: Sigillo on port 0, the pagoPA
//! emulator on another port 0. Request → pay in the emulator → receipt →
//! certificate issued with its IUV (or IUBD) → seal verifies; exempt uses;
//! hostile receipts and callbacks; authentication and bad input.

mod common;

use common::{
    HOLDER, TestApp, assert_schema_valid, openapi_schema, spawn_app,
    spawn_app_with_mounted_emulator, virtuale,
};
use pagopa::emulator::Fault;
use reqwest::StatusCode;
use seal::{BolloRef, ComuneCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use store::model::{BolloMode, CertificateStatus};

fn demo() -> ComuneCode {
    store::demo::code()
}

async fn certificate_of(
    app: &TestApp,
    request: &serde_json::Value,
) -> store::model::CertificateRecord {
    let stored = app
        .store
        .request(demo(), request["id"].as_str().expect("id"))
        .await
        .expect("read")
        .expect("stored");
    app.store
        .certificate(demo(), stored.certificate_id.as_deref().expect("prepared"))
        .await
        .expect("read")
        .expect("certificate")
}

fn verified_claims(app: &TestApp, seal: &[u8]) -> seal::Claims {
    let trust = keys::KeyStore::new(&app.data_dir)
        .trust_store()
        .expect("trust");
    let parsed = seal::ParsedSeal::parse(seal).expect("parses");
    seal::verify_parsed(&parsed, &trust, time::OffsetDateTime::now_utc())
        .expect("the seal verifies")
        .claims()
        .clone()
}

async fn audit_events(app: &TestApp, id: &str) -> Vec<String> {
    app.store
        .audit_entries(demo(), Some(id), 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.event)
        .collect()
}

#[tokio::test]
async fn a_residenza_in_bollo_virtuale_is_issued_once_paid_with_its_iuv_printed_and_sealed() {
    let app = spawn_app(virtuale()).await;

    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["state"], "awaiting_payment", "{request}");
    assert_eq!(request["payment"]["mode"], "virtuale");
    assert_eq!(request["payment"]["amount_cents"], 1652);
    let notice = request["payment"]["notice_number"]
        .as_str()
        .expect("notice");
    assert!(notice.starts_with("301"), "{notice}");
    assert!(
        request["payment"]["payment_notice_qr"]
            .as_str()
            .expect("qr")
            .starts_with(&format!("PAGOPA|002|{notice}|")),
    );
    let id = request["id"].as_str().expect("id");
    let early = app.pdf(id).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);

    let (status, page) = app.pay(&request).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Pagamento ricevuto"), "{page}");

    let (_, after) = app.get(id).await;
    assert_eq!(after["state"], "issued", "{after}");
    assert_eq!(after["certificate"]["status"], "issued");
    let pdf = app.pdf(id).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let bytes = pdf.bytes().await.expect("pdf");
    assert!(bytes.starts_with(b"%PDF-"));

    let certificate = certificate_of(&app, &request).await;
    assert_eq!(certificate.status, CertificateStatus::Issued);
    assert_eq!(
        certificate.pdf_sha256.to_hex(),
        hex::encode(Sha256::digest(&bytes))
    );
    let claims = verified_claims(&app, &certificate.seal);
    let iuv = request["payment"]["iuv"].as_str().expect("iuv");
    assert_eq!(claims.bollo, Some(BolloRef::Iuv(iuv.to_owned())));
    if let Some(text) = testkit::pdf_tools::pdf_text(&bytes) {
        assert!(text.contains(&format!("IUV {iuv}")), "{text}");
        assert!(
            text.contains("Imposta di bollo assolta in modo virtuale"),
            "{text}"
        );
    }
    let events = audit_events(&app, id).await;
    assert_eq!(
        events,
        [
            "request.created",
            "certificate.prepared",
            "payment.opened",
            "certificate.issued",
            "certificate.downloaded"
        ]
    );
}

#[tokio::test]
async fn the_demo_set_up_pays_through_the_emulator_mounted_in_the_server() {
    let app = spawn_app_with_mounted_emulator().await;
    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let checkout = request["payment"]["checkout_url"]
        .as_str()
        .expect("checkout");
    // Sigillo's own pay address, which puts the notice in a Checkout cart
    // of the mounted emulator.
    assert_eq!(
        checkout,
        format!(
            "{}/pagamenti/{}/{}/paga",
            app.base,
            store::demo::code(),
            request["id"].as_str().expect("id")
        )
    );
    let landed = app
        .http
        .get(checkout)
        .send()
        .await
        .expect("follow the pay address");
    assert!(
        landed
            .url()
            .as_str()
            .starts_with(&format!("{}/sandbox/pagopa/checkout/", app.base)),
        "{}",
        landed.url()
    );
    let (_, page) = app.pay(&request).await;
    assert!(page.contains("Pagamento ricevuto"), "{page}");
    let pdf = app.pdf(request["id"].as_str().expect("id")).await;
    assert_eq!(pdf.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_printed_notice_carries_the_same_notice_in_a_qr_code_pagopa_channels_read() {
    let app = spawn_app(virtuale()).await;
    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let id = request["id"].as_str().expect("id");
    let notice_url = format!("{}/api/v1/requests/{id}/notice.pdf", app.base);
    let response = app
        .http
        .get(&notice_url)
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("GET notice");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.expect("bytes").to_vec();
    let notice = request["payment"]["notice_number"]
        .as_str()
        .expect("notice");
    assert_eq!(
        request["payment"]["payment_notice_qr"],
        format!("PAGOPA|002|{notice}|99999999999|1652").as_str(),
        "{request}"
    );

    if let Some(text) = testkit::pdf_tools::pdf_text(&pdf) {
        for shown in [
            "AVVISO DI PAGAMENTO",
            "Comune di Borgo Sigillo",
            "99999999999",
            "16,52 €",
            "DEMO",
        ] {
            assert!(text.contains(shown), "{shown}: {text}");
        }
        let grouped: Vec<String> = notice
            .as_bytes()
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect();
        assert!(text.contains(&grouped.join(" ")), "{text}");
    }
    // zbarimg reads the payment code at 200 and 150 dpi, as a shop's
    // terminal would from the printed page.
    if testkit::command_available("pdftoppm", "-v")
        && testkit::command_available("zbarimg", "--version")
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("avviso.pdf");
        std::fs::write(&path, &pdf).expect("write");
        for dpi in ["200", "150"] {
            let prefix = dir.path().join(format!("p{dpi}"));
            let done = std::process::Command::new("pdftoppm")
                .args(["-r", dpi, "-gray", "-png"])
                .arg(&path)
                .arg(&prefix)
                .status()
                .expect("pdftoppm runs");
            assert!(done.success());
            let read = std::process::Command::new("zbarimg")
                .args(["-q", "--raw"])
                .arg(dir.path().join(format!("p{dpi}-1.png")))
                .output()
                .expect("zbarimg runs");
            assert_eq!(
                String::from_utf8_lossy(&read.stdout).trim(),
                request["payment"]["payment_notice_qr"]
                    .as_str()
                    .expect("qr"),
                "{dpi} dpi"
            );
        }
    }

    // Paid: no notice left to print; an exempt request never had one.
    let (status, _) = app.pay(&request).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let (_, exempt) = app.request("residenza", HOLDER, "esente:7").await;
    for url in [
        notice_url,
        format!(
            "{}/api/v1/requests/{}/notice.pdf",
            app.base,
            exempt["id"].as_str().expect("id")
        ),
    ] {
        let response = app
            .http
            .get(&url)
            .bearer_auth(&app.key)
            .send()
            .await
            .expect("GET notice");
        assert_eq!(response.status(), StatusCode::CONFLICT, "{url}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "no_notice", "{body}");
    }
}

#[tokio::test]
async fn a_marca_da_bollo_digitale_binds_the_final_pdf_and_its_iubd_is_recorded() {
    let app = spawn_app(BolloMode::MarcaDigitale).await;

    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["payment"]["mode"], "marca", "{request}");
    assert_eq!(request["payment"]["amount_cents"], 1600);
    let certificate = certificate_of(&app, &request).await;
    assert_eq!(certificate.status, CertificateStatus::Pending);

    let (_, page) = app.pay(&request).await;
    assert!(page.contains("Pagamento ricevuto"), "{page}");
    let id = request["id"].as_str().expect("id");
    let bytes = app.pdf(id).await.bytes().await.expect("pdf");
    // The stamp was bought for exactly the PDF released.
    let sent = app
        .emulator
        .requests_seen()
        .into_iter()
        .find(|seen| seen.path.ends_with("/mbd"))
        .expect("the marca was asked for");
    let body: serde_json::Value = serde_json::from_str(&sent.body).expect("json");
    let hash = body["paymentNotices"][0]["documentHash"]
        .as_str()
        .expect("hash");
    use base64::Engine as _;
    assert_eq!(
        hash,
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes))
    );
    let issued = certificate_of(&app, &request).await;
    assert_eq!(issued.status, CertificateStatus::Issued);
    assert!(
        issued
            .bollo_reference
            .as_deref()
            .is_some_and(|iubd| !iubd.is_empty())
    );
    let claims = verified_claims(&app, &issued.seal);
    assert_eq!(claims.bollo, Some(BolloRef::MarcaDigitale));
    // The PDF promises the IUBD on the online check: the registry gives it.
    let iubd = issued.bollo_reference.clone().expect("an IUBD");
    let (status, report) = app.verify(bytes.to_vec(), "application/pdf").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["facts"]["bollo"]["kind"], "MARCA", "{report}");
    assert_eq!(report["facts"]["bollo"]["iubd"], iubd.as_str(), "{report}");
    let lines = report["facts"]["lines"].to_string();
    assert!(lines.contains(&format!("IUBD {iubd}")), "{lines}");
}

#[tokio::test]
async fn an_exempt_use_is_issued_at_once_with_its_norm_and_no_payment() {
    let app = spawn_app(virtuale()).await;

    let (status, request) = app.request("residenza", HOLDER, "esente:7").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["state"], "issued", "{request}");
    assert!(request["payment"].is_null());
    assert!(app.emulator.requests_seen().is_empty());
    let bytes = app
        .pdf(request["id"].as_str().expect("id"))
        .await
        .bytes()
        .await
        .expect("pdf");
    if let Some(text) = testkit::pdf_tools::pdf_text(&bytes) {
        assert!(text.contains("Esente dall'imposta di bollo"), "{text}");
        assert!(text.contains("L. 74/1987"), "{text}");
    }
}

#[tokio::test]
async fn a_refused_certificate_is_recorded_with_its_reason_and_no_payment() {
    let app = spawn_app(virtuale()).await;
    // The demo registry's person with an open administrative procedure.
    let (status, request) = app.request("residenza", "CNTPLG95P05L185B", "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["state"], "refused", "{request}");
    assert!(
        request["refusal"]
            .as_str()
            .is_some_and(|reason| reason.contains("procedimento")),
        "{request}"
    );
    assert!(request["certificate"].is_null(), "no number was taken");
    assert!(app.emulator.requests_seen().is_empty());
}

/// Runs one hostile receipt: asks, injects the fault, pays, asks again;
/// the certificate must stay unissued and the rejection be audited.
async fn hostile_receipt_is_rejected(mode: BolloMode, fault: Fault, reason: &str) {
    let app = spawn_app(mode).await;
    let (_, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(request["state"], "awaiting_payment", "{request}");
    app.emulator.inject(fault);
    app.pay(&request).await;
    let id = request["id"].as_str().expect("id");
    let (_, after) = app.get(id).await;
    assert_eq!(after["state"], "awaiting_payment", "{after}");
    assert_eq!(
        certificate_of(&app, &request).await.status,
        CertificateStatus::Pending
    );
    assert_eq!(app.pdf(id).await.status(), StatusCode::CONFLICT);
    let rejections = app
        .store
        .audit_entries(demo(), Some(id), 100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|entry| entry.event == "receipt.rejected")
        .collect::<Vec<_>>();
    assert!(!rejections.is_empty(), "no audit entry");
    assert!(
        rejections
            .iter()
            .all(|entry| entry.detail == format!("reason={reason}")),
        "{rejections:?}"
    );
}

#[tokio::test]
async fn a_receipt_with_the_wrong_amount_issues_nothing() {
    hostile_receipt_is_rejected(virtuale(), Fault::WrongAmount, "wrong_amount").await;
}

#[tokio::test]
async fn a_receipt_for_another_creditor_issues_nothing() {
    hostile_receipt_is_rejected(virtuale(), Fault::WrongCreditor, "wrong_creditor").await;
}

#[tokio::test]
async fn a_receipt_for_another_debtor_issues_nothing() {
    hostile_receipt_is_rejected(virtuale(), Fault::WrongDebtor, "wrong_debtor").await;
}

#[tokio::test]
async fn a_receipt_for_an_unknown_notice_issues_nothing() {
    hostile_receipt_is_rejected(virtuale(), Fault::UnknownNotice, "unknown_notice").await;
}

#[tokio::test]
async fn a_negative_receipt_issues_nothing() {
    hostile_receipt_is_rejected(virtuale(), Fault::NegativeOutcome, "not_positive").await;
}

#[tokio::test]
async fn a_marca_bound_to_another_digest_issues_nothing() {
    hostile_receipt_is_rejected(BolloMode::MarcaDigitale, Fault::WrongDigest, "wrong_digest").await;
}

#[tokio::test]
async fn a_forged_return_call_only_makes_sigillo_ask_pagopa() {
    let app = spawn_app(virtuale()).await;
    let (_, request) = app.request("residenza", HOLDER, "bollo").await;
    let id = request["id"].as_str().expect("id");
    let forged = app
        .http
        .get(format!(
            "{}/pagamenti/{}/{id}?outcome=ok&paid=true",
            app.base,
            demo()
        ))
        .send()
        .await
        .expect("GET");
    let page = forged.text().await.expect("page");
    assert!(page.contains("Pagamento in verifica"), "{page}");
    let (_, after) = app.get(id).await;
    assert_eq!(after["state"], "awaiting_payment");
    assert_eq!(
        certificate_of(&app, &request).await.status,
        CertificateStatus::Pending
    );
}

#[tokio::test]
async fn a_duplicate_receipt_and_a_replayed_return_change_nothing() {
    let app = spawn_app(virtuale()).await;
    let (_, request) = app.request("residenza", HOLDER, "bollo").await;
    app.pay(&request).await;
    let id = request["id"].as_str().expect("id");
    app.emulator.inject(Fault::DuplicateReceipt);
    for _ in 0..3 {
        let (_, after) = app.get(id).await;
        assert_eq!(after["state"], "issued");
        app.http
            .get(format!("{}/pagamenti/{}/{id}?outcome=ok", app.base, demo()))
            .send()
            .await
            .expect("replayed return");
    }
    let issued = audit_events(&app, id)
        .await
        .into_iter()
        .filter(|event| event == "certificate.issued")
        .count();
    assert_eq!(issued, 1);
}

#[tokio::test]
async fn an_abandoned_checkout_leaves_the_request_open_and_cancelling_voids_its_number() {
    let app = spawn_app(virtuale()).await;
    let (_, request) = app.request("residenza", HOLDER, "bollo").await;
    let (_, page) = app.abandon(&request).await;
    assert!(page.contains("Pagamento annullato"), "{page}");
    let id = request["id"].as_str().expect("id");
    let (status, cancelled) = app.cancel(id).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(
        certificate_of(&app, &request).await.status,
        CertificateStatus::Void
    );
    let (status, error) = app.cancel(id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    // The next request takes the next number: the void one is not reused.
    let (_, next) = app.request("residenza", HOLDER, "bollo").await;
    assert_ne!(
        next["certificate"]["number"],
        request["certificate"]["number"]
    );
}

#[tokio::test]
async fn an_unpaid_request_expires_after_its_deadline_and_its_position_is_invalidated() {
    let app = spawn_app(virtuale()).await;
    let (_, request) = app.request("residenza", HOLDER, "bollo").await;
    let id = request["id"].as_str().expect("id");
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    let expired = app
        .state
        .requests()
        .advance(demo(), id, later)
        .await
        .expect("advance");
    assert_eq!(expired.state.code(), "expired");
    assert_eq!(
        certificate_of(&app, &request).await.status,
        CertificateStatus::Void
    );
    assert!(
        app.emulator
            .requests_seen()
            .iter()
            .any(|seen| seen.path.ends_with("/invalidate")),
    );
}

#[tokio::test]
async fn pagopa_errors_are_retried_and_an_outage_leaves_the_request_to_reconciliation() {
    let app = spawn_app(virtuale()).await;
    app.emulator.inject(Fault::ServerError {
        count: 2,
        status: 503,
    });
    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["state"], "awaiting_payment");

    app.emulator.inject(Fault::ServerError {
        count: 10,
        status: 500,
    });
    let (status, error) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    assert_eq!(error["error"]["code"], "payments_unavailable");
    app.emulator.clear_faults();
    let summary = app
        .state
        .requests()
        .reconcile(time::OffsetDateTime::now_utc())
        .await;
    assert_eq!(summary.failed, 0, "{summary:?}");
    let open = app.store.open_requests(10).await.expect("open");
    assert!(
        open.iter().all(|r| r.state.code() == "awaiting_payment"),
        "{open:?}"
    );
}

#[tokio::test]
async fn calls_without_a_valid_key_are_refused() {
    let app = spawn_app(virtuale()).await;
    let url = format!("{}/api/v1/requests", app.base);
    let body = json!({"kind": "residenza", "holder": HOLDER, "requester": HOLDER, "use": "bollo"});
    for key in [None, Some("sig_000000000000_nope"), Some("garbage")] {
        let mut call = app.http.post(&url).json(&body);
        if let Some(key) = key {
            call = call.bearer_auth(key);
        }
        let response = call.send().await.expect("POST");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let error: serde_json::Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], "unauthorized");
    }
    let id = app.key.split('_').nth(1).expect("id");
    app.store
        .revoke_api_key(demo(), id, time::OffsetDateTime::now_utc())
        .await
        .expect("revoke");
    let (status, _) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_gets_a_typed_error_and_stores_nothing() {
    let app = spawn_app(virtuale()).await;
    let cases = [
        (
            json!({"kind": "residenza", "holder": "RSSMRA85T10A562X", "requester": HOLDER, "use": "bollo"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"kind": "passaporto", "holder": HOLDER, "requester": HOLDER, "use": "bollo"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"kind": "residenza", "holder": HOLDER, "requester": HOLDER, "use": "gratis"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_use",
        ),
        (
            json!({"kind": "residenza", "holder": "RSSMRA85T10A562S", "requester": "RSSMRA85T10A562S", "use": "bollo"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_holder",
        ),
        (
            json!({"kind": "residenza", "holder": HOLDER, "requester": HOLDER, "use": "bollo", "extra": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"kind": "cdu", "holder": HOLDER, "requester": HOLDER, "use": "bollo"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "kind_not_requestable",
        ),
    ];
    for (body, status, code) in cases {
        let (got, error) = app.post_request(body.clone()).await;
        assert_eq!(got, status, "{body} → {error}");
        assert_eq!(error["error"]["code"], code, "{body} → {error}");
    }
    let huge = "x".repeat(64 * 1024);
    let (status, _) = app
        .post_request(json!({"kind": huge, "holder": HOLDER, "requester": HOLDER, "use": "bollo"}))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = app.get("0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(app.store.open_requests(10).await.expect("open").is_empty());
}

#[tokio::test]
async fn the_served_openapi_document_describes_every_route_and_the_answers_match_it() {
    let app = spawn_app(virtuale()).await;
    let document: serde_json::Value = app
        .http
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/requests",
        "/requests/{id}",
        "/requests/{id}/pdf",
        "/requests/{id}/cancel",
    ] {
        assert!(paths.contains_key(path), "{path} not documented");
    }
    let request_schema = openapi_schema(&document, "Request");
    let error_schema = openapi_schema(&document, "Error");
    let (_, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_schema_valid(&request_schema, &request);
    let (_, issued) = app.request("residenza", HOLDER, "esente:7").await;
    assert_schema_valid(&request_schema, &issued);
    let (_, error) = app.request("residenza", HOLDER, "gratis").await;
    assert_schema_valid(&error_schema, &error);
}

/// What the database holds about a request: the request, its certificate
/// and the comune's whole audit chain.
async fn database_state(
    app: &TestApp,
    id: &str,
) -> (
    Option<store::model::RequestRecord>,
    Option<store::model::CertificateRecord>,
    Vec<store::AuditRecord>,
) {
    let comune = store::demo::code();
    let request = app.store.request(comune, id).await.expect("request");
    let certificate = match request.as_ref().and_then(|r| r.certificate_id.clone()) {
        Some(certificate) => app
            .store
            .certificate(comune, &certificate)
            .await
            .expect("certificate"),
        None => None,
    };
    let audit = app
        .store
        .audit_entries(comune, None, 10_000)
        .await
        .expect("audit");
    (request, certificate, audit)
}

#[tokio::test]
async fn downloading_an_unpaid_request_changes_nothing_and_only_asks_pagopa_for_its_receipt() {
    let app = spawn_app(virtuale()).await;
    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["state"], "awaiting_payment", "{request}");
    let id = request["id"].as_str().expect("id");
    let before = database_state(&app, id).await;
    app.emulator.clear_requests();

    let response = app.pdf(id).await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    let seen = app.emulator.requests_seen();
    assert!(!seen.is_empty(), "the receipt is asked for");
    assert!(
        seen.iter()
            .all(|call| call.method == "GET" && call.path.contains("/receipts/")),
        "only receipt lookups: {seen:?}"
    );
    assert_eq!(database_state(&app, id).await, before);
}

#[tokio::test]
async fn downloading_a_request_whose_payment_is_not_open_opens_nothing() {
    let app = spawn_app(virtuale()).await;
    app.emulator.inject(Fault::ServerError {
        count: 10,
        status: 500,
    });
    let (status, _) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    app.emulator.clear_faults();
    let open = app.store.open_requests(10).await.expect("open");
    let [prepared] = open.as_slice() else {
        panic!("one open request: {open:?}");
    };
    assert_eq!(prepared.state.code(), "prepared");
    let before = database_state(&app, &prepared.id).await;
    app.emulator.clear_requests();

    let response = app.pdf(&prepared.id).await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(app.emulator.requests_seen(), Vec::new());
    assert_eq!(database_state(&app, &prepared.id).await, before);
}

#[tokio::test]
async fn a_certificate_paid_a_day_later_is_dated_and_valid_from_its_release_not_its_request() {
    let app = spawn_app(virtuale()).await;
    let (_, request) = app.request("residenza", HOLDER, "bollo").await;
    let prepared = certificate_of(&app, &request).await;
    let notice = seal::notice::NoticeNumber::parse(
        request["payment"]["notice_number"]
            .as_str()
            .expect("notice"),
    )
    .expect("a notice number");
    // Paid at pagoPA; Sigillo learns of it a day later.
    app.emulator.pay(&notice).expect("paid");
    let release = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let id = request["id"].as_str().expect("id");
    let advanced = app
        .state
        .requests()
        .advance(demo(), id, release)
        .await
        .expect("advanced");
    assert_eq!(advanced.state, store::model::RequestState::Issued);
    let issued = certificate_of(&app, &request).await;
    assert_eq!(issued.number, prepared.number, "the number stays");
    assert_eq!(issued.status_index, prepared.status_index);
    assert_ne!(issued.seal, prepared.seal, "sealed again at the release");
    let released_at = issued.issued_at.expect("released");
    assert!((released_at - release).abs() < time::Duration::seconds(1));
    assert_eq!(
        issued.expires_at,
        issuer::catalogue::Validity::SixMonths.expiry(release),
        "six months from the release"
    );
    let trust = keys::KeyStore::new(&app.data_dir)
        .trust_store()
        .expect("trust");
    let verified = seal::verify(&issued.seal, &trust, release + time::Duration::hours(1))
        .expect("the new seal verifies");
    assert_eq!(
        verified.claims().issued_at.unix_timestamp(),
        release.unix_timestamp()
    );
    assert!(matches!(&verified.claims().bollo, Some(BolloRef::Iuv(iuv)) if iuv == notice.iuv()));
    let bytes = app
        .store
        .certificate_pdf(demo(), &issued.id)
        .await
        .expect("pdf");
    assert_eq!(seal::digest::DocumentDigest::of(&bytes), issued.pdf_sha256);
    if let Some(text) = testkit::pdf_tools::pdf_text(&bytes) {
        let day = seal::rome::date_text(release);
        assert!(text.contains(&format!("Borgo Sigillo, {day}")), "{text}");
        assert!(text.contains(notice.iuv()), "{text}");
    }
}
