//! Two `sigillo` processes on one PostgreSQL: one serving the counter, one
//! the portal's API, issuing at the same time. The counter's operators
//! present paper marche da bollo, each of them twice, from parallel
//! sessions; the other process issues exempt certificates through the API.
//! Afterwards: every number taken once and without gaps, every marca paying
//! one certificate (the second presentation refused), and one unbroken
//! audit chain.
//!
//! Needs `SIGILLO_TEST_DATABASE_URL`; without it the test is skipped (a
//! failure under CI=true). Each run works in a schema of its own.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use sqlx::{Connection as _, Row as _};

/// A `sigillo serve` process, killed when dropped.
struct Node {
    child: Child,
    base: String,
    key: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigillo"))
        .current_dir(dir)
        .args(["--config", "sigillo.toml", "serve"])
        .env("RUST_LOG", "warn")
        .env_remove("SIGILLO_DATA_DIR")
        .env_remove("SIGILLO_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sigillo starts");
    let (send, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let (mut base, mut key) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(90);
    while base.is_none() || key.is_none() {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server says where it listens and prints a key");
        if let Some(rest) = line.strip_prefix("Sigillo in ascolto su ") {
            base = Some(rest.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("Chiave API demo (ruolo sportello): ") {
            key = Some(rest.trim().to_owned());
        }
    }
    Node {
        child,
        base: base.unwrap_or_default(),
        key: key.unwrap_or_default(),
    }
}

#[tokio::test]
async fn counter_and_portal_processes_issue_at_once_without_a_clash() {
    let Some((schema, url)) = common::Schema::create("sigillo_office_nodes").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("sigillo.toml"),
        format!(
            "data_dir = \"data\"\ndatabase_url = {url:?}\n[server]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .expect("config");
    // The first sets the demo comune up; the second finds it there.
    let counter = start(dir.path());
    let portal = start(dir.path());
    let store = store::Store::connect(&url).await.expect("store");
    let comune = store::demo::code();
    let heads = store.family_heads(comune, 4).await.expect("people");
    let mut cookies = Vec::new();
    for person in &heads[1..3] {
        let code = person.fiscal_code.as_str().to_owned();
        common::add_staff(&store, comune, &code, &["operatore_anagrafe"]).await;
        for _ in 0..2 {
            cookies.push(common::staff_cookie(&store, comune, &code).await);
        }
    }
    let http = common::no_redirects();
    let mut csrfs = Vec::new();
    for cookie in &cookies {
        let home = http
            .get(format!("{}/sportello", counter.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("home");
        assert_eq!(home.status(), StatusCode::OK);
        csrfs.push(common::hidden(&home.text().await.expect("html"), "csrf"));
    }
    let today = seal::rome::local(time::OffsetDateTime::now_utc())
        .date()
        .to_string();

    // Eight presentations of four marche on the counter's process, eight
    // exempt requests on the portal's, all at once.
    let mut counter_tasks = Vec::new();
    for n in 0..8 {
        let http = http.clone();
        let url = format!("{}/sportello/rilascio/emetti", counter.base);
        let cookie = cookies[n % cookies.len()].clone();
        let csrf = csrfs[n % csrfs.len()].clone();
        let marca = format!("0000000000010{}", n % 4);
        let today = today.clone();
        counter_tasks.push(tokio::spawn(async move {
            http.post(url)
                .header(COOKIE, cookie)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("intestatario", common::HOLDER),
                    ("persona", common::HOLDER),
                    ("richiedente", common::HOLDER),
                    ("tipo", "residenza"),
                    ("uso", "bollo"),
                    ("pagamento", "marca"),
                    ("marca_numero", marca.as_str()),
                    ("marca_data", today.as_str()),
                ])
                .send()
                .await
                .expect("counter")
                .status()
        }));
    }
    let mut portal_tasks = Vec::new();
    for _ in 0..8 {
        let http = http.clone();
        let url = format!("{}/api/v1/requests", portal.base);
        let key = portal.key.clone();
        portal_tasks.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(key)
                .json(&serde_json::json!({
                    "kind": "residenza",
                    "holder": common::HOLDER,
                    "requester": common::HOLDER,
                    "use": "esente:7",
                }))
                .send()
                .await
                .expect("portal");
            let status = response.status();
            let body: serde_json::Value = response.json().await.expect("json");
            (status, body["state"].clone())
        }));
    }
    let mut issued_at_counter = 0;
    let mut refused = 0;
    for task in counter_tasks {
        match task.await.expect("task") {
            StatusCode::SEE_OTHER => issued_at_counter += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("the counter answered {other}"),
        }
    }
    assert_eq!((issued_at_counter, refused), (4, 4));
    for task in portal_tasks {
        let (status, state) = task.await.expect("task");
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(state, "issued");
    }

    // Twelve certificates, numbered 1 to 12; four marche, each on one.
    let mut connection = sqlx::AnyConnection::connect(&url).await.expect("connect");
    let sequences: Vec<i64> =
        sqlx::query("SELECT sequence FROM certificates WHERE comune = $1 ORDER BY sequence")
            .bind(comune.as_str().to_owned())
            .fetch_all(&mut connection)
            .await
            .expect("sequences")
            .iter()
            .map(|row| row.get::<i64, _>("sequence"))
            .collect();
    assert_eq!(sequences, (1..=12).collect::<Vec<i64>>());
    let marche = sqlx::query(
        "SELECT COUNT(marca_id) AS used, COUNT(DISTINCT marca_id) AS distinct_used \
         FROM certificates WHERE comune = $1",
    )
    .bind(comune.as_str().to_owned())
    .fetch_one(&mut connection)
    .await
    .expect("marche");
    assert_eq!(marche.get::<i64, _>("used"), 4);
    assert_eq!(marche.get::<i64, _>("distinct_used"), 4);
    drop(connection);

    // One chain, unbroken, with every issuance in it.
    let chain = store.verify_audit_chain(comune).await.expect("chain");
    let entries = chain.expect("the audit chain holds");
    assert!(entries >= 12, "{entries} entries");
    let issued = store
        .search_audit(
            comune,
            &store::AuditQuery {
                limit: 1000,
                ..store::AuditQuery::default()
            },
        )
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.event == "certificate.issued" && e.detail.contains("bollo=marca"))
        .count();
    assert_eq!(issued, 4);
    store.close().await;
    drop(counter);
    drop(portal);
    schema.drop_now().await;
}
