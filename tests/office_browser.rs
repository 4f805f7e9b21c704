//! The office in headless Chromium driven by playwright-core
//! (`tests/browser/office.mjs`), at a phone's size (390×844) and a
//! desktop's (1280×900), each against a fresh server with the demo comune:
//! an operatore anagrafe logs in with password and TOTP code, issues a
//! residenza at the counter with a paper marca da bollo and downloads it
//! (the PDF verifies, its seal names the marca); the same marca is refused
//! for a second certificate; a responsabile revokes the certificate and the
//! public verification page says so, as does the published status list;
//! the audit trail and its CSV show the operations; an amministratore
//! changes the diritti and the next request's amount and the service page
//! carry them. axe-core runs on every page: no serious or critical
//! violation; and no page is wider than the screen. Screenshots are kept
//! under `target/browser-screenshots/`.
//!
//! Needs node with `tests/browser/node_modules` (`npm ci` there; `.ci/run`
//! does it) and Chromium; without them the test is skipped, and fails
//! under CI=true.

mod common;

use std::path::Path;

use common::{
    STAFF_PASSWORD, add_staff, assert_pages_clean, browser_scripts, run_script, spawn_app, virtuale,
};
use reqwest::StatusCode;
use time::OffsetDateTime;

async fn run_at(width: u32, height: u32) {
    let Some(scripts) = browser_scripts() else {
        return;
    };
    let app = spawn_app(virtuale()).await;
    let comune = store::demo::code();
    let heads = app.store.family_heads(comune, 12).await.expect("people");
    let holder = &heads[0];
    let staff: Vec<String> = heads[1..4]
        .iter()
        .map(|p| p.fiscal_code.as_str().to_owned())
        .collect();
    let mut logins = Vec::new();
    for (person, role) in staff
        .iter()
        .zip(["operatore_anagrafe", "responsabile", "amministratore"])
    {
        let secret = add_staff(&app.store, comune, person, &[role]).await;
        let code = issuer::staff::totp_code(&secret, OffsetDateTime::now_utc()).expect("code");
        logins.push(format!("{person}:{code}"));
    }
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots folder");
    let marca = "01234567890123";
    let mut args = vec![
        app.base.clone(),
        width.to_string(),
        height.to_string(),
        shots.display().to_string(),
        STAFF_PASSWORD.to_owned(),
        holder.surname.clone(),
        holder.fiscal_code.as_str().to_owned(),
        marca.to_owned(),
        "0,70".to_owned(),
    ];
    args.extend(logins);
    let result = run_script(&scripts, "office.mjs", args).await;
    assert_pages_clean(&result);
    for page in result["pages"].as_array().expect("pages") {
        assert!(
            page["scrollWidth"].as_u64().expect("width") <= u64::from(width),
            "{} scrolls sideways: {}",
            page["name"],
            page["widest"]
        );
    }
    assert!(
        result["pages"].as_array().expect("pages").len() >= 15,
        "{result}"
    );

    // Issued at the counter, printed: the PDF verifies and its seal names
    // the marca.
    assert!(
        result["issuedBanner"]
            .as_str()
            .expect("banner")
            .contains("rilasciato"),
        "{result}"
    );
    let pdf = std::fs::read(result["pdfPath"].as_str().expect("path")).expect("pdf");
    let (status, report) = app.verify(pdf, "application/pdf").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["facts"]["bollo"]["kind"], "CONTRASSEGNO", "{report}");
    let reference = report["facts"]["bollo"]["reference"].as_str().expect("ref");
    assert!(reference.contains(marca), "{reference}");

    // The same marca again: refused, nothing issued.
    assert_eq!(result["refusal"]["status"], 409, "{result}");
    assert!(
        result["refusal"]["text"]
            .as_str()
            .expect("text")
            .contains("già stata usata"),
        "{result}"
    );
    let issued = app
        .store
        .list_certificates(comune, &store::CertificateFilter::default())
        .await
        .expect("list");
    assert_eq!(issued.len(), 1, "one certificate only");
    assert_eq!(result["forbiddenStatus"], 403, "{result}");

    // Revoked by the responsabile: the public page says so.
    assert_eq!(result["statusAfter"], "revocato", "{result}");
    let headline = result["publicHeadline"].as_str().expect("headline");
    assert!(headline.to_lowercase().contains("revocat"), "{headline}");
    assert!(
        result["publicText"]
            .as_str()
            .expect("text")
            .contains("dati anagrafici da rettificare"),
        "{result}"
    );
    // The published status list says so at once; offline checkers have it
    // within its refresh time (max-age, 5 minutes).
    let revoked = app
        .store
        .list_certificates(comune, &store::CertificateFilter::default())
        .await
        .expect("list")
        .remove(0);
    let well_known = format!("{}/.well-known/sigillo/{comune}", app.base);
    let fetch = |path: &str| {
        let url = format!("{well_known}/{path}");
        let http = app.http.clone();
        async move { http.get(url).send().await.expect("GET") }
    };
    let ca = fetch("ca.pem").await.text().await.expect("pem");
    let ca = keys::CertificateInfo::from_pem(&ca).expect("CA");
    let trust_list = fetch("trust-list").await.bytes().await.expect("bytes");
    let status_list = fetch("status-list").await;
    assert_eq!(
        status_list.headers()["cache-control"],
        "public, max-age=300"
    );
    let status_list = status_list.bytes().await.expect("bytes");
    let now = OffsetDateTime::now_utc();
    let mut trust = verifier::Trust::default();
    trust
        .add_list(&verifier::SignedTrustList::open(&trust_list, &ca, now).expect("trust list"))
        .expect("trusted");
    let statuses = verifier::StatusList::from_cwt(&status_list, &trust, now).expect("status list");
    assert!(matches!(
        statuses.list.status_of(revoked.status_index),
        verifier::RegistryStatus::Revoked { .. }
    ));
    let rows = result["auditRows"].as_array().expect("rows");
    let rows: Vec<&str> = rows.iter().filter_map(|r| r.as_str()).collect();
    assert!(
        rows.iter().any(|r| r.contains("Certificato revocato")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.contains("Certificato rilasciato")),
        "{rows:?}"
    );
    assert_eq!(
        result["csvFirst"], "seq,data_ora,evento,oggetto,autore,dettaglio,hash",
        "{result}"
    );
    assert!(result["csvLines"].as_u64().expect("lines") >= 4, "{result}");

    // The administrator's new diritti: on the service page, and in the
    // next request's amount (€16.00 + €0.70).
    assert!(
        result["saved"]
            .as_str()
            .expect("saved")
            .contains("aggiornate"),
        "{result}"
    );
    assert!(
        result["homeText"]
            .as_str()
            .expect("home")
            .contains("0,70 €"),
        "{result}"
    );
    let (status, request) = app.request("residenza", common::HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["payment"]["amount_cents"], 1670, "{request}");
    assert_eq!(result["consoleErrors"], serde_json::json!([]), "{result}");
}

#[tokio::test]
async fn the_office_on_a_phone() {
    run_at(390, 844).await;
}

#[tokio::test]
async fn the_office_on_a_desktop() {
    run_at(1280, 900).await;
}
