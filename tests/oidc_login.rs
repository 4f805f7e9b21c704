//! Login with SPID and CIE against a real OpenID provider run on loopback:
//! npm `oidc-provider` (`tests/browser/oidc_op.mjs`), requiring PKCE,
//! signed request objects and `private_key_jwt`, encrypting and signing
//! userinfo, returning SPID's claims. It registers Sigillo by fetching its
//! Entity Configuration, as a federation's automatic registration does.
//!
//! Headless Chromium (`tests/browser/oidc.mjs`), at a phone's size and a
//! desktop's: a resident logs in with SPID and out again (the token revoked,
//! the provider's session ended); a person not in the registry logs in with
//! CIE; a tampered `state`, an answer used twice, a used code, an answer
//! opened in another browser, a wrong `iss`, a wrong `nonce`, a forged ID
//! token signature, a login that took too long and an expired session are
//! each refused with a page. axe-core runs on every page of ours. The log
//! names each refusal by its code and never names the person.
//!
//! Needs node with `tests/browser/node_modules` (`npm ci` there) and
//! Chromium; without them the test is skipped, and fails under CI=true.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};

use common::{browser_scripts, spawn_app_configured};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// A person not in the demo registry.
const NONRESIDENT: &str = "RSSMRA85T10A562S";

/// What the server logged, for the whole test binary.
fn log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Log(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        buffer
    })
    .clone()
}

struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots folder");
    dir
}

/// The test provider, running until dropped.
struct Provider {
    issuer: String,
    child: tokio::process::Child,
}

impl Provider {
    async fn start(scripts: &Path, accounts: Value) -> Self {
        let mut child = tokio::process::Command::new("node")
            .arg(scripts.join("oidc_op.mjs"))
            .arg("--accounts")
            .arg(accounts.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .next_line()
            .await
            .expect("read")
            .expect("the provider says where it is");
        let ready: Value = serde_json::from_str(&line).expect("JSON");
        Self {
            issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
            child,
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn settings(issuer: &str) -> oidc::Settings {
    serde_json::from_value(json!({
        "contacts": ["anagrafe@comune.example.it"],
        "authority_hints": ["http://127.0.0.1:9/trust-anchor"],
        "providers": [
            { "id": "spid", "label": "SPID", "kind": "spid", "issuer": issuer },
            { "id": "cie", "label": "CIE", "kind": "cie", "issuer": issuer,
              "acr_values": ["https://www.spid.gov.it/SpidL2"] },
        ],
    }))
    .expect("settings")
}

async fn run_at(width: u32, height: u32) {
    let Some(scripts) = browser_scripts() else {
        return;
    };
    if !scripts.join("node_modules/oidc-provider").is_dir() {
        let reason =
            "tests/browser/node_modules has no oidc-provider (run npm ci in tests/browser)";
        assert!(
            std::env::var("CI").map_or(true, |value| value != "true"),
            "{reason}, and CI=true requires it"
        );
        eprintln!("SKIPPED: {reason}; the test did not run");
        return;
    }
    let log = log();
    let provider = Provider::start(
        &scripts,
        json!({ NONRESIDENT: { "given_name": "Mario", "family_name": "Rossi" } }),
    )
    .await;
    let issuer = provider.issuer.clone();
    let app =
        spawn_app_configured(move |config| config.portal.oidc = Some(settings(&issuer))).await;
    let comune = store::demo::code();
    // The resident: the first head of family the demo offers.
    let heads = app.store.family_heads(comune, 1).await.expect("heads");
    let head = heads[0].fiscal_code.as_str().to_owned();
    let nonresident = seal::CodiceFiscale::parse(NONRESIDENT).expect("valid");
    assert!(
        app.store
            .person_by_fiscal_code(comune, &nonresident)
            .await
            .expect("read")
            .is_none(),
        "the non-resident is not in the demo registry"
    );

    // What the relying party publishes: the Entity Configuration (the
    // provider registers Sigillo from it) and the OIDC keys, public only.
    let published = app
        .http
        .get(format!("{}/.well-known/openid-federation", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        published.headers()["content-type"],
        "application/entity-statement+jwt"
    );
    assert_eq!(published.text().await.expect("body").split('.').count(), 3);
    let jwks: Value = app
        .http
        .get(format!("{}/oidc/jwks.json", app.base))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter()
            .all(|key| key.get("d").is_none() && key["kid"].is_string())
    );

    // The head is also an operatore anagrafe of the comune: their SPID
    // login at the office's page opens the office.
    app.store
        .upsert_staff(&store::NewStaff {
            comune,
            fiscal_code: &heads[0].fiscal_code,
            display_name: "Addetto SPID",
            roles: &["operatore_anagrafe"],
            now: time::OffsetDateTime::now_utc(),
        })
        .await
        .expect("staff");

    let database = format!("sqlite:{}", app.data_dir.join("sigillo.db").display());
    let mut child = tokio::process::Command::new("node")
        .arg(scripts.join("oidc.mjs"))
        .args([
            app.base.clone(),
            provider.issuer.clone(),
            width.to_string(),
            height.to_string(),
            shots_dir().display().to_string(),
            head.clone(),
            NONRESIDENT.to_owned(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut to_script = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut result = None;
    while let Some(line) = lines.next_line().await.expect("read") {
        if let Some(what) = line.strip_prefix("ASK ") {
            // The store's clock, moved back an hour for what is asked.
            let sql = match what {
                "expire-logins" => "UPDATE portal_logins SET created_at = created_at - 3600",
                "expire-sessions" => {
                    "UPDATE portal_sessions SET created_at = created_at - 3600, last_seen = last_seen - 3600"
                }
                other => panic!("the script asked for {other}"),
            };
            sqlx::any::install_default_drivers();
            let mut connection = sqlx::AnyConnection::connect(&database)
                .await
                .expect("database");
            let done = sqlx::query(sql)
                .execute(&mut connection)
                .await
                .expect("updated");
            assert!(done.rows_affected() > 0, "{what}: nothing to change");
            to_script.write_all(b"ok\n").await.expect("answer");
        } else if let Some(json) = line.strip_prefix("RESULT ") {
            result = Some(serde_json::from_str::<Value>(json).expect("JSON"));
        }
    }
    let output = child.wait_with_output().await.expect("script ends");
    assert!(
        output.status.success(),
        "oidc.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = result.expect("the script gives its result");

    // Every page of ours: no serious or critical axe violation, no console
    // error.
    common::assert_pages_clean(&result);

    // 1. The resident: logged in by the registry's name, then out at the
    // provider too.
    assert_eq!(result["headArea"]["path"], "/area-personale", "{result}");
    let surname = common::demo_surname(&app.store, &head).await;
    assert!(
        result["headHeader"]
            .as_str()
            .expect("header")
            .to_lowercase()
            .contains(&surname),
        "{result}"
    );
    assert_eq!(result["headData"]["showsCode"], true, "{result}");
    let logout = &result["afterLogout"];
    assert_eq!(logout["path"], "/", "{result}");
    assert_eq!(logout["loggedOut"], true, "{result}");
    assert_eq!(logout["areaPath"], "/accedi", "{result}");
    let seen: Vec<&str> = logout["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(seen.contains(&"revocation"), "{seen:?}");
    assert!(seen.contains(&"end_session"), "{seen:?}");

    // Staff through the same provider: the member into the office, someone
    // who is not staff refused.
    assert_eq!(result["staff"]["path"], "/sportello", "{result}");
    assert_eq!(result["staff"]["h1"], "Sportello", "{result}");
    assert_eq!(result["notStaff"]["h1"], "Utenza non abilitata", "{result}");

    // 2. The non-resident: the provider's name; not in the registry.
    assert_eq!(result["nonresidentArea"]["path"], "/area-personale");
    assert!(
        result["nonresidentHeader"]
            .as_str()
            .expect("header")
            .contains("Mario Rossi"),
        "{result}"
    );
    assert_eq!(
        result["nonresidentData"]["h1"], "Non risulti nell'anagrafe del Comune",
        "{result}"
    );

    // The provider saw request objects and private_key_jwt, never a
    // token request without them.
    let events: Vec<&str> = result["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let tokens = events.iter().filter(|e| **e == "token").count();
    let signed = events
        .iter()
        .filter(|e| **e == "token:private_key_jwt")
        .count();
    assert!(tokens >= 5 && tokens == signed, "{events:?}");
    assert!(events.contains(&"authorization"));
    assert!(
        events.iter().any(|e| e.starts_with("token:error:")),
        "the used code was refused by the provider: {events:?}"
    );

    // 3. Each hostile answer refused with its page.
    assert!(result["stateLength"].as_u64().expect("length") >= 32);
    assert_eq!(result["genuineAfterTamper"], "/area-personale", "{result}");
    let refusals = &result["refusals"];
    let expect = |name: &str, status: u64, h1: &str, code: Option<&str>| {
        let refusal = &refusals[name];
        assert_eq!(refusal["status"], status, "{name}: {refusal}");
        assert_eq!(refusal["h1"], h1, "{name}: {refusal}");
        if let Some(code) = code {
            assert!(
                refusal["text"].as_str().expect("text").contains(code),
                "{name}: {refusal}"
            );
        }
    };
    expect("state-alterato", 400, "Accesso non riuscito", None);
    expect("altro-browser", 400, "Accesso non riuscito", None);
    expect("risposta-ripetuta", 400, "Accesso non riuscito", None);
    expect(
        "codice-riusato",
        403,
        "Accesso non riuscito",
        Some("token_refused"),
    );
    expect(
        "iss-alterato",
        403,
        "Accesso non riuscito",
        Some("iss_mismatch"),
    );
    expect(
        "id-token-nonce",
        403,
        "Accesso non riuscito",
        Some("id_token_nonce"),
    );
    expect(
        "id-token-signature",
        403,
        "Accesso non riuscito",
        Some("id_token_signature"),
    );
    expect("accesso-scaduto", 401, "Accesso scaduto", None);
    expect("sessione-scaduta", 401, "Sessione scaduta", None);

    // The log names each refusal by its code and never the person.
    let text = String::from_utf8_lossy(&log.lock().expect("log")).into_owned();
    for code in [
        "state_unknown",
        "state_other_browser",
        "token_refused",
        "iss_mismatch",
        "id_token_nonce",
        "id_token_signature",
        "login_expired",
    ] {
        assert!(text.contains(code), "{code} not logged");
    }
    for personal in [head.as_str(), NONRESIDENT, "TINIT-", "Mario", "Rossi"] {
        assert!(!text.contains(personal), "the log names {personal}");
    }
    let _ = std::io::stderr().flush();
}

#[tokio::test(flavor = "multi_thread")]
async fn spid_and_cie_login_at_phone_size() {
    run_at(390, 844).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn spid_and_cie_login_at_desktop_size() {
    run_at(1280, 900).await;
}
