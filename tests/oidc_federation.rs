//! Login with SPID through the OpenID Federation, against spid-cie-oidc
//! (the reference implementation of the Italian profile, PyPI
//! `spid-cie-oidc`) run on loopback by `tests/federation/federation.py`: a
//! trust anchor and a provider in one Django process. Sigillo is onboarded
//! as the trust anchor's subordinate; the provider resolves Sigillo's trust
//! chain from its Entity Configuration, and Sigillo resolves the
//! provider's (no OpenID discovery: it is switched off) with the trust
//! anchor's keys pinned. In headless Chromium at a phone's and a desktop's
//! size: the provider's login and consent pages, the area personale,
//! logout through the provider. A provider whose trust anchor keys are
//! pinned wrong is refused before the browser leaves.
//!
//! Needs the package in `tests/federation/.venv` (`.ci/run` makes it), node
//! with `tests/browser/node_modules` and Chromium; without them the test is
//! skipped, and fails under CI=true.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::{browser_scripts, no_redirects, spawn_app_configured};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

const PASSWORD: &str = "prova-federazione-1";

/// The federation, running until dropped.
struct Federation {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    ready: Value,
}

impl Federation {
    async fn start(users: Value, log: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/federation/federation.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg("--users")
            .arg(users.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = stdout.next_line().await.expect("read").unwrap_or_else(|| {
            panic!(
                "the federation did not start: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
        let ready = serde_json::from_str(&line).expect("JSON");
        Self {
            child,
            stdin,
            stdout,
            ready,
        }
    }

    async fn command(&mut self, line: &str) -> Value {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("command");
        let answer = self
            .stdout
            .next_line()
            .await
            .expect("read")
            .expect("answer");
        serde_json::from_str(&answer).expect("JSON")
    }
}

impl Drop for Federation {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Whether the federation's package can run here; otherwise why not.
fn federation_available() -> bool {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/federation/.venv/bin/python");
    let importable = |python: &Path| {
        std::process::Command::new(python)
            .args(["-c", "import spid_cie_oidc"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if importable(&venv) || importable(Path::new("python3")) {
        return true;
    }
    let reason = "spid-cie-oidc is not installed (tests/federation/requirements.txt into tests/federation/.venv)";
    assert!(
        std::env::var("CI").map_or(true, |value| value != "true"),
        "{reason}, and CI=true requires it (.ci/run installs it)"
    );
    eprintln!("SKIPPED: {reason}; the test did not run");
    false
}

async fn run_at(width: u32, height: u32) {
    let Some(scripts) = browser_scripts() else {
        return;
    };
    if !federation_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("federation.log");
    // The resident who logs in: the demo's first head of family.
    let demo = store::demo::code();
    let probe = spawn_app_configured(|_| {}).await;
    let head = probe.store.family_heads(demo, 1).await.expect("heads")[0]
        .fiscal_code
        .as_str()
        .to_owned();
    drop(probe);
    let mut federation = Federation::start(
        json!({ head.clone(): { "given_name": "Nome", "family_name": "Cognome", "password": PASSWORD } }),
        &log,
    )
    .await;
    let anchor = federation.ready["trust_anchor"]
        .as_str()
        .expect("anchor")
        .to_owned();
    let provider = federation.ready["provider"]
        .as_str()
        .expect("provider")
        .to_owned();
    let pinned = dir.path().join("trust-anchor.jwks.json");
    std::fs::write(&pinned, federation.ready["trust_anchor_jwks"].to_string()).expect("jwks");
    // Keys that are not the trust anchor's.
    let wrong = dir.path().join("wrong.jwks.json");
    std::fs::write(&wrong, wrong_jwks()).expect("jwks");

    let settings: oidc::Settings = serde_json::from_value(json!({
        "authority_hints": [anchor],
        "contacts": ["anagrafe@comune.example.it"],
        "providers": [
            { "id": "spid", "label": "SPID", "kind": "spid", "issuer": provider,
              "trust_anchor": anchor, "trust_anchor_jwks": pinned },
            { "id": "spid-chiavi-sbagliate", "label": "SPID di prova", "kind": "spid",
              "issuer": provider, "trust_anchor": anchor, "trust_anchor_jwks": wrong },
        ],
    }))
    .expect("settings");
    let app = spawn_app_configured(move |config| config.portal.oidc = Some(settings)).await;
    let onboarded = federation.command(&format!("onboard {}", app.base)).await;
    assert_eq!(onboarded["ok"], true, "{onboarded}");

    // The wrongly pinned provider: refused before the browser leaves.
    let refused = no_redirects()
        .get(format!("{}/accedi/oidc/spid-chiavi-sbagliate", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        refused
            .text()
            .await
            .expect("page")
            .contains("non raggiungibile")
    );

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots folder");
    let result = common::run_script(
        &scripts,
        "oidc_federation.mjs",
        vec![
            app.base.clone(),
            width.to_string(),
            height.to_string(),
            shots.display().to_string(),
            head.clone(),
            PASSWORD.to_owned(),
        ],
    )
    .await;
    common::assert_pages_clean(&result);
    assert_eq!(result["area"]["path"], "/area-personale", "{result}");
    let surname = common::demo_surname(&app.store, &head).await;
    assert!(
        result["area"]["header"]
            .as_str()
            .expect("header")
            .to_lowercase()
            .contains(&surname),
        "{result}"
    );
    assert_eq!(result["afterLogout"]["path"], "/", "{result}");
    assert_eq!(result["afterLogout"]["loggedOut"], true, "{result}");

    let events = federation.command("events").await;
    let seen: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [
        "authorization",
        "login",
        "consent",
        "token",
        "token:private_key_jwt",
        "userinfo",
        "revocation",
        "end_session",
    ] {
        assert!(
            seen.contains(&expected),
            "{expected} not seen: {seen:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    assert!(
        !seen.iter().any(|event| event.contains(":error")),
        "{seen:?}"
    );
}

/// A JWKS of a key that is nobody's here.
fn wrong_jwks() -> String {
    json!({ "keys": [{
        "kty": "RSA", "use": "sig", "kid": "not-the-anchor", "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    }]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn spid_through_the_federation_at_phone_size() {
    run_at(390, 844).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn spid_through_the_federation_at_desktop_size() {
    run_at(1280, 900).await;
}
