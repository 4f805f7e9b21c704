//! The citizen portal in headless Chromium driven by playwright-core
//! (`tests/browser/portal.mjs`), at a phone's size (390×844) and a
//! desktop's (1280×900), each against a fresh server with the demo comune
//! and an emulated pagoPA: a citizen logs in, asks for a residenza in bollo,
//! pays in the emulator's Checkout (with a reload and a second click on the
//! pay button on the way; the printed notice is there too), downloads the
//! PDF, which verifies; asks for a
//! stato di famiglia for a family member with an exemption using the
//! keyboard only; and a citizen of another family cannot see or download
//! the first one's request, by direct address either. axe-core runs on
//! every page: no serious or critical violation. Screenshots are kept under
//! `target/browser-screenshots/`.
//!
//! Needs node with `tests/browser/node_modules` (`npm ci` there; `.ci/run`
//! does it) and Chromium; without them the test is skipped, and fails
//! under CI=true.

mod common;

use std::path::{Path, PathBuf};

use common::{browser_scripts, run_script, spawn_app, virtuale};
use reqwest::StatusCode;
use serde_json::Value;

/// Where the screenshots are kept.
fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots folder");
    dir
}

/// A family head with at least one other member, that member, and the head
/// of another family.
async fn people(store: &store::Store) -> (String, String, String) {
    let comune = store::demo::code();
    // The ones the login page offers.
    let heads = store.family_heads(comune, 12).await.expect("heads");
    let mut with_family = None;
    for head in &heads {
        let family = store
            .family(comune, head.family_id.expect("a head has a family"))
            .await
            .expect("family")
            .expect("exists");
        if let Some(member) = family
            .members
            .iter()
            .find(|member| member.fiscal_code != head.fiscal_code && member.death_date.is_none())
        {
            with_family = Some((head.clone(), member.fiscal_code.as_str().to_owned()));
            break;
        }
    }
    let (head, member) = with_family.expect("a family of two in the demo");
    let other = heads
        .iter()
        .find(|other| other.family_id != head.family_id)
        .expect("another family");
    (
        head.fiscal_code.as_str().to_owned(),
        member,
        other.fiscal_code.as_str().to_owned(),
    )
}

async fn run_at(width: u32, height: u32) {
    let Some(scripts) = browser_scripts() else {
        return;
    };
    let app = spawn_app(virtuale()).await;
    let (head, member, other) = people(&app.store).await;
    let shots = shots_dir();
    let base = app.base.clone();
    let args = [
        base,
        width.to_string(),
        height.to_string(),
        shots.display().to_string(),
        head,
        member,
        other,
    ];
    let result = run_script(&scripts, "portal.mjs", args.to_vec()).await;

    // axe-core on every page: nothing serious or critical.
    let pages = result["pages"].as_array().expect("pages");
    assert!(pages.len() >= 16, "{result}");
    for page in pages {
        let bad: Vec<&Value> = page["violations"]
            .as_array()
            .expect("violations")
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(bad.is_empty(), "axe-core on {}: {bad:?}", page["path"]);
    }
    assert_eq!(result["consoleErrors"], Value::Array(vec![]), "{result}");

    // Nothing chosen: each missing choice said.
    let missing = result["missing"].as_array().expect("missing");
    assert_eq!(missing.len(), 3, "{result}");
    let summary = result["summary"].as_str().expect("summary");
    assert!(summary.contains("Certificato di residenza"), "{summary}");
    assert!(summary.contains("16,00 €"), "{summary}");

    // One request, one notice, however often the pay button is followed.
    assert_eq!(result["firstState"], "in attesa di pagamento", "{result}");
    assert_eq!(
        result["notice"]["status"], 200,
        "the printed notice: {result}"
    );
    assert_eq!(result["notice"]["type"], "application/pdf", "{result}");
    let notices = result["notices"].as_array().expect("notices");
    assert_eq!(notices.len(), 3);
    assert!(
        notices.iter().all(|notice| notice == &notices[0]),
        "{notices:?}"
    );
    let seen = app.emulator.requests_seen();
    let positions = seen
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/debtpositions"))
        .count();
    let carts = seen
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/carts"))
        .count();
    assert_eq!(positions, 1, "one debt position: {seen:?}");
    assert_eq!(carts, 2, "a cart per click on «Paga con pagoPA»: {seen:?}");
    assert_eq!(result["returned"], "Pagamento ricevuto", "{result}");
    assert_eq!(result["issuedState"], "evasa", "{result}");

    // The downloaded PDF verifies.
    let pdf = std::fs::read(result["pdfPath"].as_str().expect("pdf path")).expect("the PDF");
    assert!(pdf.starts_with(b"%PDF-"));
    let (status, report) = app.verify(pdf, "application/pdf").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["headline"], "Documento autentico e in corso di validità",
        "{report}"
    );

    // The family member's exempt certificate, by keyboard: issued at once.
    let exempt = result["exemptSummary"].as_str().expect("summary");
    assert!(exempt.contains("separazione o divorzio"), "{exempt}");
    assert!(exempt.contains("0,00 €"), "{exempt}");
    assert_eq!(result["secondState"], "evasa", "{result}");
    assert_eq!(result["secondHasPdf"], true, "{result}");

    // Logged out, the request's page sends to the login; another family
    // gets 404 for the page and the PDF, and does not see it listed.
    assert_eq!(result["afterLogout"]["status"], 303, "{result}");
    assert_eq!(result["afterLogout"]["location"], "/accedi", "{result}");
    assert_eq!(result["other"]["page"], 404, "{result}");
    assert_eq!(result["other"]["pdf"], 404, "{result}");
    assert_eq!(result["other"]["notice"], 404, "{result}");
    assert_ne!(result["other"]["pdfType"], "application/pdf", "{result}");
    assert_eq!(result["other"]["listShowsFirst"], false, "{result}");
}

#[tokio::test]
async fn a_citizen_asks_pays_and_downloads_on_a_phone() {
    run_at(390, 844).await;
}

#[tokio::test]
async fn a_citizen_asks_pays_and_downloads_on_a_desktop() {
    run_at(1280, 900).await;
}
