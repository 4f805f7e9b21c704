//! The counter page in daily use, in headless Chromium driven by
//! playwright-core (`tests/browser/counter.mjs`): three scans typed in a
//! row as a USB scanner types them — a valid certificate, a revoked one, a
//! forged seal — with no click in between. After each, the verdict is shown
//! in its colour and the scan field has the focus again, empty; the
//! session's list holds the three, newest first; axe-core finds nothing.
//! The page is behind the staff login: an operatore anagrafe's session.
//!
//! Needs node with `tests/browser/node_modules` (`npm ci` there; `.ci/run`
//! does it) and Chromium; without them the test is skipped, and fails
//! under CI=true.

mod common;

use common::{browser_scripts, digits, run_script, spawn_app, virtuale};
use serde_json::Value;

#[tokio::test]
async fn three_scans_in_a_row_need_no_click_and_each_shows_its_verdict() {
    let Some(scripts) = browser_scripts() else {
        return;
    };
    let app = spawn_app(virtuale()).await;
    let (valid, _) = app.issue_exempt().await;
    let (revoked, _) = app.issue_exempt().await;
    app.revoke(&revoked).await;
    let mut forged = valid.seal.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    // As the QR code carries them: the URL in capitals.
    let typed = |digits: String| format!("HTTPS://LOCALHOST/V#{digits}");
    let texts = [
        typed(digits(&valid)),
        typed(digits(&revoked)),
        typed(seal::text::to_digits(&forged)),
    ];

    let cookie = common::operator_cookie(&app).await;
    let mut args = vec![app.base.clone(), cookie];
    args.extend(texts);
    let result = run_script(&scripts, "counter.mjs", args).await;

    let scans = result["scans"].as_array().expect("scans");
    assert_eq!(scans.len(), 3, "{result}");
    let expected = [
        (
            "Documento autentico e in corso di validità",
            "verdetto ok",
            "rgb(27, 110, 42)",
        ),
        (
            "NON VALIDO — revocato il ",
            "verdetto ko",
            "rgb(164, 22, 26)",
        ),
        (
            "Sigillo falso o alterato",
            "verdetto ko",
            "rgb(164, 22, 26)",
        ),
    ];
    for (scan, (headline, class, colour)) in scans.iter().zip(expected) {
        let shown = scan["headline"].as_str().expect("headline");
        assert!(shown.starts_with(headline), "{scan}");
        assert_eq!(scan["class"], class, "{scan}");
        assert_eq!(scan["colour"], colour, "{scan}");
        assert_eq!(
            scan["focused"], "sigillo",
            "the scan field has the focus: {scan}"
        );
        assert_eq!(scan["field"], "", "and is empty: {scan}");
    }
    // Each line of the list in its verdict's colour too.
    let colours = result["historyColours"].as_array().expect("colours");
    assert_eq!(
        colours,
        &["rgb(164, 22, 26)", "rgb(164, 22, 26)", "rgb(27, 110, 42)"]
            .map(|c| Value::String(c.into()))
            .to_vec(),
        "{result}"
    );
    let history: Vec<&str> = result["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(history.len(), 3, "{result}");
    assert!(
        history[0].contains("Sigillo falso"),
        "newest first: {history:?}"
    );
    assert!(
        history[2].contains(&format!("n. {}", valid.number)),
        "{history:?}"
    );
    assert_eq!(
        result["violations"],
        Value::Array(Vec::new()),
        "axe-core: {result}"
    );
    assert_eq!(
        result["consoleErrors"],
        Value::Array(Vec::new()),
        "{result}"
    );
}
