//! The server under test: `spawn_app()` starts Sigillo on port 0 with a
//! fresh data directory (keys, SQLite, the demo comune) against a pagoPA
//! emulator of its own on another port 0, and returns a client with one
//! method per endpoint.
#![allow(dead_code, unreachable_pub)] // each test file uses part of it

use std::path::{Path, PathBuf};

use keys::{Comune, KeyStore};
use pagopa::emulator::{Emulator, EmulatorHandle};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sigillo::app::App;
use sigillo::config::{Config, Overrides};
use sqlx::Connection as _;
use store::model::{BolloMode, ComuneRecord};
use store::{ApiKeyRole, Store};
use time::OffsetDateTime;
use web::AppState;

/// The demo holder: Roberta Parisi, resident, head of a family of three.
pub const HOLDER: &str = "PRSRRT80H69G504L";

/// A running server, its emulator and a client.
pub struct TestApp {
    /// The public base URL (the listening address unless configured).
    pub base: String,
    /// `http://` + the listening address.
    pub local: String,
    pub key: String,
    pub http: reqwest::Client,
    pub emulator: Emulator,
    pub state: AppState,
    pub store: Store,
    pub data_dir: PathBuf,
    _emulator_handle: EmulatorHandle,
    _dir: tempfile::TempDir,
}

/// The demo comune set up in `data_dir` as `sigillo init --demo` does it,
/// with the stamp duty collected in `mode`.
pub async fn set_up_demo(data_dir: &Path, database_url: &str, mode: BolloMode) -> Store {
    let keys = KeyStore::new(data_dir);
    let comune = store::demo::comune();
    if !keys.has_keys(comune.code) {
        keys.init(
            &Comune {
                code: comune.code,
                name: comune.name.clone(),
            },
            OffsetDateTime::now_utc(),
            false,
        )
        .expect("keys");
    }
    let store = Store::connect(database_url).await.expect("store");
    store::demo::load(&store).await.expect("demo data");
    let record = ComuneRecord {
        bollo_mode: mode,
        signer_kid: Some(keys.certificates(comune.code).expect("certs").current),
        ..comune
    };
    store.upsert_comune(&record).await.expect("comune");
    store
}

/// The bollo virtuale of the demo comune.
pub fn virtuale() -> BolloMode {
    store::demo::comune().bollo_mode
}

/// A data directory with the demo comune, an emulator on a port of its
/// own, and a `sigillo.toml` pointing at both.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub store: Store,
    pub emulator: Emulator,
    pub emulator_handle: EmulatorHandle,
    pub config_path: PathBuf,
}

/// Sets up a [`Fixture`]; `mounted` leaves pagoPA unconfigured (the server
/// mounts its own emulator); `pagopa` adds settings to `[pagopa]`.
pub async fn fixture(mode: BolloMode, mounted: bool, pagopa: &str) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let database_url = format!("sqlite:{}?mode=rwc", data_dir.join("sigillo.db").display());
    let store = set_up_demo(&data_dir, &database_url, mode).await;
    let emulator = Emulator::new();
    let emulator_handle = emulator
        .serve("127.0.0.1:0")
        .await
        .expect("emulator starts");
    let endpoint = if mounted {
        String::new()
    } else {
        format!("emulator_base_url = \"{}\"\n", emulator_handle.base_url())
    };
    let config_path = dir.path().join("sigillo.toml");
    std::fs::write(
        &config_path,
        format!(
            "data_dir = {data_dir:?}\n\
             [server]\nlisten = \"127.0.0.1:0\"\n\
             [pagopa]\n{endpoint}{pagopa}"
        ),
    )
    .expect("config");
    Fixture {
        dir,
        data_dir,
        store,
        emulator,
        emulator_handle,
        config_path,
    }
}

/// Starts the app with the stamp duty in `mode`, against an emulator on a
/// port of its own.
pub async fn spawn_app(mode: BolloMode) -> TestApp {
    spawn(mode, false).await
}

/// Starts the app as the demo does: the emulator mounted in the server
/// under `/sandbox/pagopa`.
pub async fn spawn_app_with_mounted_emulator() -> TestApp {
    spawn(virtuale(), true).await
}

/// Starts the app with `workers` image and PDF verifications at once and
/// `queue` waiting.
pub async fn spawn_app_with_queue(workers: usize, queue: usize) -> TestApp {
    spawn_configured(virtuale(), false, |config| {
        config.server.verify_workers = Some(workers);
        config.server.verify_queue = Some(queue);
    })
    .await
}

/// Starts the app with the configuration `adjust`ed.
pub async fn spawn_app_configured(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_configured(virtuale(), false, adjust).await
}

async fn spawn(mode: BolloMode, mounted: bool) -> TestApp {
    spawn_configured(mode, mounted, |_| {}).await
}

async fn spawn_configured(
    mode: BolloMode,
    mounted: bool,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let Fixture {
        dir,
        data_dir,
        store,
        emulator,
        emulator_handle,
        config_path,
    } = fixture(mode, mounted, "timeout_seconds = 2\nretries = 2\n").await;
    let mut config = Config::load(Some(&config_path), Overrides::default()).expect("config loads");
    adjust(&mut config);
    let server = App::build(&config).await.expect("server binds");
    let base = server.base_url().to_owned();
    let local = format!("http://{}", server.local_addr().expect("listening"));
    let state = server.state().clone();
    tokio::spawn(server.serve());
    let key = store
        .create_api_key(
            store::demo::code(),
            "test",
            ApiKeyRole::Sportello,
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("key")
        .secret;
    TestApp {
        base,
        local,
        key,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .expect("client"),
        emulator,
        state,
        store,
        data_dir,
        _emulator_handle: emulator_handle,
        _dir: dir,
    }
}

impl TestApp {
    /// `POST /api/v1/requests`.
    pub async fn request(&self, kind: &str, holder: &str, usage: &str) -> (StatusCode, Value) {
        self.post_request(json!({
            "kind": kind,
            "holder": holder,
            "requester": holder,
            "use": usage,
            "email": "richiedente@example.org",
        }))
        .await
    }

    /// `POST /api/v1/requests` with any body.
    pub async fn post_request(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/requests", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .expect("POST");
        json_of(response).await
    }

    /// `GET /api/v1/requests/{id}`.
    pub async fn get(&self, id: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/api/v1/requests/{id}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("GET");
        json_of(response).await
    }

    /// `GET /api/v1/requests/{id}/pdf`.
    pub async fn pdf(&self, id: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/api/v1/requests/{id}/pdf", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("GET pdf")
    }

    /// `POST /api/v1/requests/{id}/cancel`.
    pub async fn cancel(&self, id: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/requests/{id}/cancel", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("POST cancel");
        json_of(response).await
    }

    /// Presses «Paga» on the emulator's checkout page of `request`, as the
    /// payer's browser does, following the redirect back to Sigillo.
    pub async fn pay(&self, request: &Value) -> (StatusCode, String) {
        self.checkout_button(request, "pay").await
    }

    /// Presses «Annulla».
    pub async fn abandon(&self, request: &Value) -> (StatusCode, String) {
        self.checkout_button(request, "cancel").await
    }

    async fn checkout_button(&self, request: &Value, button: &str) -> (StatusCode, String) {
        let checkout = request["payment"]["checkout_url"]
            .as_str()
            .expect("a payment with a checkout URL");
        // Sigillo's pay address redirects to the checkout page (a pagoPA
        // Checkout cart for the bollo virtuale): the form is the final page's.
        let page = self.http.get(checkout).send().await.expect("checkout page");
        assert_eq!(page.status(), StatusCode::OK);
        let landed = page.url().clone();
        let html = page.text().await.expect("checkout html");
        let (action, fields) = form(&html, button);
        let url = landed.join(&action).expect("form action");
        let response = self
            .http
            .post(url)
            .form(&fields)
            .send()
            .await
            .expect("press the button");
        let status = response.status();
        (status, response.text().await.expect("return page"))
    }
}

impl TestApp {
    /// `POST /api/v1/verify` with `body` sent as `content_type`.
    pub async fn verify(
        &self,
        body: impl Into<reqwest::Body>,
        content_type: &str,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/verify", self.base))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("POST verify");
        json_of(response).await
    }

    /// Revokes `record` as staff would, through the library call.
    pub async fn revoke(&self, record: &store::model::CertificateRecord) {
        issuer::withdraw::withdraw(
            &self.store,
            record.comune,
            record.number,
            issuer::withdraw::Withdrawal::Revoke {
                reason: "rilasciato per errore".into(),
            },
            "test",
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("revoked");
    }

    /// Issues an exempt residenza of the demo holder at once: its
    /// registry record and its PDF.
    pub async fn issue_exempt(&self) -> (store::model::CertificateRecord, Vec<u8>) {
        let (status, request) = self.request("residenza", HOLDER, "esente:7").await;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        let id = request["id"].as_str().expect("id");
        let pdf = self.pdf(id).await.bytes().await.expect("pdf").to_vec();
        (self.certificate_of(&request).await, pdf)
    }

    /// The registry record of the certificate prepared for `request`.
    pub async fn certificate_of(&self, request: &Value) -> store::model::CertificateRecord {
        let comune = store::demo::code();
        let stored = self
            .store
            .request(comune, request["id"].as_str().expect("id"))
            .await
            .expect("read")
            .expect("stored");
        self.store
            .certificate(comune, stored.certificate_id.as_deref().expect("prepared"))
            .await
            .expect("read")
            .expect("certificate")
    }
}

/// The decimal digits of a seal, as the QR code's fragment carries them.
pub fn digits(record: &store::model::CertificateRecord) -> String {
    seal::text::to_digits(&record.seal)
}

/// The named component schema of an OpenAPI document as plain JSON
/// Schema: OpenAPI 3.0's `nullable` becomes a `null` type, references
/// point into the document.
pub fn openapi_schema(document: &Value, name: &str) -> Value {
    fn convert(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (key, item) in map {
                    if key == "nullable" || key == "example" {
                        continue;
                    }
                    out.insert(key.clone(), convert(item));
                }
                if map.get("nullable") == Some(&Value::Bool(true)) {
                    if let Some(kind) = out.get("type").cloned() {
                        out.insert("type".into(), json!([kind, "null"]));
                    }
                    if let Some(values) = out.get_mut("enum").and_then(|e| e.as_array_mut()) {
                        values.push(Value::Null);
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
            other => other.clone(),
        }
    }
    let mut root = convert(&document["components"]["schemas"][name]);
    root["components"] = json!({"schemas": convert(&document["components"]["schemas"])});
    root
}

/// Asserts that `value` is valid against `schema`.
pub fn assert_schema_valid(schema: &Value, value: &Value) {
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|error| format!("{error} at {}", error.instance_path))
        .collect();
    assert!(errors.is_empty(), "{value}\n{errors:#?}");
}

/// The `action` and hidden fields of the checkout form whose action ends
/// with `/<button>`.
fn form(html: &str, button: &str) -> (String, Vec<(String, String)>) {
    let form = html
        .split("<form")
        .skip(1)
        .find(|form| {
            attribute(form, "action").is_some_and(|action| action.ends_with(&format!("/{button}")))
        })
        .unwrap_or_else(|| panic!("no {button} form in the checkout page:\n{html}"));
    let form = form.split("</form>").next().unwrap_or(form);
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
        .collect();
    (attribute(form, "action").unwrap_or_default(), fields)
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let value = &tag[start..start + tag[start..].find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// The browser scripts' folder (`tests/browser`), when node, Chromium and
/// the scripts' packages are there; otherwise `None` with a printed
/// `SKIPPED:` reason, or a failure under `CI=true`.
pub fn browser_scripts() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !testkit::command_available("node", "--version")
        || !testkit::command_available("chromium", "--version")
    {
        return None;
    }
    if !dir.join("node_modules/playwright-core").is_dir() {
        let reason = "tests/browser/node_modules is missing (run npm ci in tests/browser)";
        assert!(
            std::env::var("CI").map_or(true, |value| value != "true"),
            "{reason}, and CI=true requires it (.ci/run installs it)"
        );
        eprintln!("SKIPPED: {reason}; the test did not run");
        return None;
    }
    Some(dir)
}

/// An HTTP client that follows no redirect and keeps no cookie: the test
/// carries the cookies and sees where each answer leads.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of the form field `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in:\n{html}"))
        + needle.len();
    html[start..start + html[start..].find('"').expect("end")].to_owned()
}

/// The whole first `Set-Cookie` of `response` that sets `name`.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Runs the browser script `name` of `scripts` with `args`, off the async
/// runtime, and answers the JSON it prints; a failing script fails the
/// test with what it wrote on stderr.
pub async fn run_script(scripts: &Path, name: &str, args: Vec<String>) -> Value {
    let script = scripts.join(name);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args(&args)
            .output()
    })
    .await
    .expect("join")
    .expect("node runs");
    assert!(
        output.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

/// A schema of its own on the test server, dropped at the end.
pub struct Schema {
    base: String,
    name: String,
}

impl Schema {
    /// A fresh schema named after `prefix`, and the URL that works in it;
    /// `None` (skipped, or a failure under CI=true) without a server.
    pub async fn create(prefix: &str) -> Option<(Self, String)> {
        let Ok(base) = std::env::var("SIGILLO_TEST_DATABASE_URL") else {
            let reason = "SIGILLO_TEST_DATABASE_URL is not set";
            assert!(
                std::env::var("CI").map_or(true, |value| value != "true"),
                "{reason}, and CI=true requires it (.ci/run sets it)"
            );
            eprintln!("SKIPPED: {reason}; the test did not run");
            return None;
        };
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        sqlx::any::install_default_drivers();
        let mut connection = sqlx::AnyConnection::connect(&base)
            .await
            .expect("PostgreSQL");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .execute(&mut connection)
            .await
            .expect("drop");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut connection)
            .await
            .expect("create");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{name}");
        Some((Self { base, name }, url))
    }

    /// Drops the schema.
    pub async fn drop_now(self) {
        if let Ok(mut connection) = sqlx::AnyConnection::connect(&self.base).await {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
                .execute(&mut connection)
                .await;
        }
    }
}

/// A browser script's `pages` (each with its axe `violations`) carry no
/// serious or critical violation, and its `consoleErrors` are none.
pub fn assert_pages_clean(result: &Value) {
    for page in result["pages"].as_array().expect("pages") {
        let bad: Vec<&Value> = page["violations"]
            .as_array()
            .expect("violations")
            .iter()
            .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
            .collect();
        assert!(bad.is_empty(), "{}: {bad:?}", page["name"]);
    }
    assert_eq!(result["consoleErrors"], json!([]), "{result}");
}

/// The registry's surname of `fiscal_code`, a resident of the demo comune.
pub async fn demo_surname(store: &Store, fiscal_code: &str) -> String {
    store
        .person_by_fiscal_code(
            store::demo::code(),
            &seal::CodiceFiscale::parse(fiscal_code).expect("valid"),
        )
        .await
        .expect("read")
        .expect("resident")
        .surname
        .to_lowercase()
}

/// Runs the `sigillo` binary in `dir` against `database_url` (data in
/// `dir/data`), with `stdin` written to its standard input, as an operator
/// runs it: none of the environment's settings.
pub fn sigillo_cli(
    dir: &Path,
    database_url: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigillo"))
        .current_dir(dir)
        .env_remove("SIGILLO_DATA_DIR")
        .env_remove("SIGILLO_CONFIG")
        .env_remove("SIGILLO_COMUNE_CODE")
        .env_remove("SIGILLO_COMUNE_NAME")
        .args(["--data-dir", "data", "--database-url", database_url])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sigillo runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("stdin");
    }
    drop(input);
    child.wait_with_output().expect("sigillo ends")
}

/// What a command printed, standard output then standard error.
pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The password test staff members get.
pub const STAFF_PASSWORD: &str = "una password di prova";

/// Adds `fiscal_code` to `comune`'s staff with `roles` (slugs), with the
/// local password [`STAFF_PASSWORD`] and a fresh TOTP secret, answered.
pub async fn add_staff(
    store: &Store,
    comune: seal::ComuneCode,
    fiscal_code: &str,
    roles: &[&str],
) -> String {
    let code = seal::CodiceFiscale::parse(fiscal_code).expect("valid");
    store
        .upsert_staff(&store::NewStaff {
            comune,
            fiscal_code: &code,
            display_name: &format!("Addetto {}", &fiscal_code[..6]),
            roles,
            now: OffsetDateTime::now_utc(),
        })
        .await
        .expect("staff");
    let secret = issuer::staff::new_totp_secret().expect("secret");
    let hash = issuer::staff::hash_password(STAFF_PASSWORD).expect("hash");
    store
        .set_staff_credentials(comune, &code, Some(&hash), Some(&secret))
        .await
        .expect("credentials");
    secret
}

/// An open office session of `fiscal_code` in `comune`, as the `Cookie`
/// header carries it on plain HTTP.
pub async fn staff_cookie(store: &Store, comune: seal::ComuneCode, fiscal_code: &str) -> String {
    let code = seal::CodiceFiscale::parse(fiscal_code).expect("valid");
    let (token, _) = store
        .create_session(&store::NewSession {
            kind: store::SessionKind::Staff,
            comune,
            fiscal_code: &code,
            display_name: "Addetto",
            provider: "locale",
            tokens: None,
            now: OffsetDateTime::now_utc(),
        })
        .await
        .expect("session");
    format!("sigillo_ufficio={token}")
}

/// An operatore anagrafe of the demo comune, logged in: their office
/// session's `Cookie` header.
pub async fn operator_cookie(app: &TestApp) -> String {
    let comune = store::demo::code();
    let operator = app.store.family_heads(comune, 1).await.expect("people")[0]
        .fiscal_code
        .as_str()
        .to_owned();
    add_staff(&app.store, comune, &operator, &["operatore_anagrafe"]).await;
    staff_cookie(&app.store, comune, &operator).await
}
