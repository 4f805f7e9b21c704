//! Crash safety of the request flow: the server process is killed with
//! SIGKILL at each step — after the request is stored, after its
//! certificate is prepared, after pagoPA created the position but before
//! Sigillo recorded it, after it was recorded, after the receipt was
//! checked but before the certificate was issued, and right after — then
//! restarted. Every paid request must end issued exactly once, nothing may
//! be issued unpaid, and no number may be used twice.
#![cfg(unix)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{HOLDER, fixture, virtuale};
use pagopa::emulator::Emulator;
use store::model::{CertificateStatus, RequestState};
use store::{CertificateFilter, Store};

const POINTS: [&str; 6] = [
    "request-stored",
    "certificate-prepared",
    "payment-opened",
    "payment-recorded",
    "receipt-checked",
    "certificate-issued",
];

/// Points reached only once the payer has paid.
fn after_payment(point: &str) -> bool {
    matches!(point, "receipt-checked" | "certificate-issued")
}

struct Running {
    child: Child,
    base: String,
    key: String,
    lines: mpsc::Receiver<String>,
}

fn start(dir: &Path, crash_point: Option<&str>) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigillo"));
    command
        .current_dir(dir)
        .args(["--config", "sigillo.toml", "serve"])
        .env("RUST_LOG", "warn")
        .env_remove("SIGILLO_DATA_DIR")
        .env_remove(issuer::requests::CRASH_POINT_VARIABLE)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(point) = crash_point {
        command.env(issuer::requests::CRASH_POINT_VARIABLE, point);
    }
    let mut child = command.spawn().expect("sigillo starts");
    let (send, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    for stream in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let send = send.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let mut base = None;
    let mut key = None;
    let deadline = Instant::now() + Duration::from_secs(60);
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
    Running {
        child,
        base: base.unwrap_or_default(),
        key: key.unwrap_or_default(),
        lines,
    }
}

impl Running {
    /// Waits until the process reports the crash point, then kills it.
    fn kill_at(mut self, point: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("crash point {point} never reached"));
            if line.contains(&format!("crash point reached: {point}")) {
                break;
            }
        }
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post_request(base: &str, key: &str) {
    // The server may die while answering: the outcome is read from the
    // database after the restart, not from this answer.
    let _ = reqwest::Client::new()
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(key)
        .json(&serde_json::json!({
            "kind": "residenza", "holder": HOLDER, "requester": HOLDER, "use": "bollo"
        }))
        .timeout(Duration::from_secs(20))
        .send()
        .await;
}

async fn poke(running: &Running, id: &str) {
    let _ = reqwest::Client::new()
        .get(format!("{}/api/v1/requests/{id}", running.base))
        .bearer_auth(&running.key)
        .timeout(Duration::from_secs(20))
        .send()
        .await;
}

/// The open request that is not one of those already `seen`.
async fn newest_request(store: &Store, seen: &[String]) -> Option<String> {
    let open = store.open_requests(1000).await.expect("open");
    open.into_iter()
        .map(|request| request.id)
        .find(|id| !seen.contains(id))
}

async fn wait_for_state(store: &Store, id: &str, wanted: RequestState) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = store
            .request(store::demo::code(), id)
            .await
            .expect("read")
            .map(|request| request.state);
        if state == Some(wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "request {id} stuck in {state:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_at_any_step_never_loses_a_payment_nor_issues_twice_or_unpaid() {
    let fixture = fixture(
        virtuale(),
        false,
        "reconcile_every_seconds = 1\ntimeout_seconds = 5\n",
    )
    .await;
    let (dir, store, emulator) = (&fixture.dir, &fixture.store, &fixture.emulator);

    let mut done: Vec<String> = Vec::new();
    for point in POINTS {
        let id = if after_payment(point) {
            // Up to awaiting payment normally, then pay and crash while
            // the receipt is handled.
            let running = start(dir.path(), None);
            post_request(&running.base, &running.key).await;
            let id = newest_request(store, &done).await.expect("stored");
            wait_for_state(store, &id, RequestState::AwaitingPayment).await;
            running.stop();
            let running = start(dir.path(), Some(point));
            pay(emulator, store, &id).await;
            poke(&running, &id).await;
            running.kill_at(point);
            id
        } else {
            let running = start(dir.path(), Some(point));
            let request = tokio::spawn({
                let (base, key) = (running.base.clone(), running.key.clone());
                async move { post_request(&base, &key).await }
            });
            running.kill_at(point);
            let _ = request.await;
            newest_request(store, &done)
                .await
                .expect("the request was stored first")
        };

        // Restarted, reconciliation finishes the work.
        let running = start(dir.path(), None);
        let state = store
            .request(store::demo::code(), &id)
            .await
            .expect("read")
            .expect("stored")
            .state;
        if !after_payment(point) {
            assert_ne!(
                state,
                RequestState::Issued,
                "{point}: issued before payment"
            );
            wait_for_state(store, &id, RequestState::AwaitingPayment).await;
            pay(emulator, store, &id).await;
        }
        poke(&running, &id).await;
        wait_for_state(store, &id, RequestState::Issued).await;
        running.stop();
        done.push(id);
    }

    // Every request issued exactly once, each certificate paid.
    let certificates = store
        .list_certificates(
            store::demo::code(),
            &CertificateFilter {
                limit: 1000,
                ..CertificateFilter::default()
            },
        )
        .await
        .expect("list");
    let mut numbers: Vec<String> = certificates.iter().map(|c| c.number.to_string()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), certificates.len(), "a number was used twice");
    for id in &done {
        let request = store
            .request(store::demo::code(), id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(request.state, RequestState::Issued);
        let payment = request.payment.as_ref().expect("paid");
        assert!(payment.receipt_id.is_some() && payment.paid_at.is_some());
        let issued_events = store
            .audit_entries(store::demo::code(), Some(id), 100)
            .await
            .expect("audit")
            .into_iter()
            .filter(|entry| entry.event == "certificate.issued")
            .count();
        assert_eq!(
            issued_events, 1,
            "request {id} issued {issued_events} times"
        );
    }
    let issued: Vec<_> = certificates
        .iter()
        .filter(|c| c.status == CertificateStatus::Issued)
        .collect();
    assert_eq!(issued.len(), POINTS.len(), "{certificates:#?}");
    assert!(
        certificates.iter().all(|c| matches!(
            c.status,
            CertificateStatus::Issued | CertificateStatus::Void
        )),
        "{certificates:#?}"
    );
    assert_eq!(
        store
            .verify_audit_chain(store::demo::code())
            .await
            .expect("chain"),
        Ok(store
            .audit_entries(store::demo::code(), None, 100_000)
            .await
            .expect("all")
            .len() as i64)
    );
}

/// Pays the request's notice in the emulator, as the «Paga» button does.
async fn pay(emulator: &Emulator, store: &Store, id: &str) {
    let request = store
        .request(store::demo::code(), id)
        .await
        .expect("read")
        .expect("stored");
    let notice = request.payment.expect("a payment is open").notice_number;
    emulator.pay(&notice).expect("paid in the emulator");
}

/// Killed after it claimed the notifications of an issued certificate and
/// before it sent them, the server sends them after its restart, once the
/// claim's lease ended: one App IO message and one e-mail, none lost, none
/// twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_between_issuing_and_telling_loses_no_message_and_doubles_none() {
    let io = notify::emulator::IoEmulator::new();
    let io_base = io.serve("127.0.0.1:0").await.expect("IO emulator");
    let sink = notify::emulator::SmtpSink::start("127.0.0.1:0")
        .await
        .expect("sink");
    let fixture = fixture(
        virtuale(),
        false,
        &format!(
            "timeout_seconds = 5\n\
             [notifications]\n\
             io_base_url = \"{io_base}\"\n\
             io_subscription_key = \"chiave\"\n\
             smtp_host = \"127.0.0.1\"\n\
             smtp_port = {}\n\
             mail_from = \"Comune di Borgo Sigillo <certificati@borgosigillo.example.it>\"\n\
             every_seconds = 1\n\
             lease_seconds = 2\n",
            sink.addr().port()
        ),
    )
    .await;
    let (dir, store) = (&fixture.dir, &fixture.store);

    let running = start(dir.path(), Some("notification-claimed"));
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/requests", running.base))
        .bearer_auth(&running.key)
        .json(&serde_json::json!({
            "kind": "residenza", "holder": HOLDER, "requester": HOLDER,
            "use": "esente:7", "email": "richiedente@example.org"
        }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["state"], "issued", "{answer}");
    let id = answer["id"].as_str().expect("id").to_owned();
    running.kill_at("notification-claimed");
    assert!(
        io.messages().is_empty() && sink.mails().is_empty(),
        "nothing sent yet"
    );

    let running = start(dir.path(), None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while (io.messages().is_empty() || sink.mails().is_empty()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    running.stop();
    assert_eq!(io.messages().len(), 1, "{:?}", io.messages());
    assert_eq!(sink.mails().len(), 1);
    let rows = store
        .notifications_of(store::demo::code(), &id)
        .await
        .expect("outbox");
    assert!(
        rows.iter().all(|r| r.outcome.as_deref() == Some("sent")),
        "{rows:?}"
    );
}
