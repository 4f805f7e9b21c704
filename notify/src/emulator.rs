//! An App IO in memory and an SMTP sink, for the demo and the tests.
//!
//! [`IoEmulator`] answers the paths the client calls, below its mount point
//! (`/profiles/{fiscal_code}`, `/messages/{fiscal_code}`), wants the
//! subscription key header, checks the message's limits as App IO does,
//! keeps what it received, and can be told that a citizen refuses the
//! service, has no profile, or that the next calls fail.
//!
//! [`SmtpSink`] is an SMTP server on loopback that accepts every message
//! and keeps it (envelope and data), for reading back.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

use crate::io::{
    LimitedProfile, MARKDOWN_CHARS, NewMessage, SUBJECT_CHARS, SUBSCRIPTION_KEY_HEADER,
};

/// A message App IO received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoMessage {
    /// The id answered.
    pub id: String,
    /// The citizen.
    pub fiscal_code: String,
    /// The subject.
    pub subject: String,
    /// The text.
    pub markdown: String,
}

#[derive(Debug, Default)]
struct IoState {
    messages: Vec<IoMessage>,
    refusing: HashSet<String>,
    without_profile: HashSet<String>,
    failures: u32,
    profile_calls: u32,
}

/// An in-memory App IO. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct IoEmulator {
    state: Arc<Mutex<IoState>>,
}

impl IoEmulator {
    /// An empty App IO where every citizen accepts the service.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, IoState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The routes, to mount (e.g. under `/sandbox/io/api/v1`).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/profiles/{fiscal_code}", get(profile))
            .route("/messages/{fiscal_code}", post(message))
            .route("/_messages", get(received))
            .with_state(self.clone())
    }

    /// Serves it alone on `addr` (e.g. `127.0.0.1:0`), under `/api/v1`;
    /// answers the base URL.
    pub async fn serve(&self, addr: &str) -> std::io::Result<String> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let app = Router::new().nest("/api/v1", self.router());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the App IO emulator stopped");
            }
        });
        Ok(format!("http://{local}/api/v1"))
    }

    /// What it received, oldest first.
    pub fn messages(&self) -> Vec<IoMessage> {
        self.lock().messages.clone()
    }

    /// How many profiles were asked for.
    pub fn profile_calls(&self) -> u32 {
        self.lock().profile_calls
    }

    /// The citizen refuses the service's messages.
    pub fn refuse(&self, fiscal_code: &str) {
        self.lock().refusing.insert(fiscal_code.to_owned());
    }

    /// The citizen has no App IO profile.
    pub fn without_profile(&self, fiscal_code: &str) {
        self.lock().without_profile.insert(fiscal_code.to_owned());
    }

    /// The next `count` calls answer 503.
    pub fn fail_next(&self, count: u32) {
        self.lock().failures = count;
    }
}

fn keyed(headers: &HeaderMap) -> bool {
    headers
        .get(SUBSCRIPTION_KEY_HEADER)
        .is_some_and(|value| !value.is_empty())
}

fn problem(status: StatusCode, detail: &str) -> Response {
    (
        status,
        axum::Json(json!({ "title": detail, "status": status.as_u16(), "detail": detail })),
    )
        .into_response()
}

/// The common gate: the key, then an injected failure.
fn gate(emulator: &IoEmulator, headers: &HeaderMap) -> Option<Response> {
    if !keyed(headers) {
        return Some(problem(
            StatusCode::UNAUTHORIZED,
            "missing subscription key",
        ));
    }
    let mut state = emulator.lock();
    if state.failures > 0 {
        state.failures -= 1;
        return Some(problem(StatusCode::SERVICE_UNAVAILABLE, "injected failure"));
    }
    None
}

/// `GET /_messages`: what was received, for the demo's visitor.
async fn received(State(emulator): State<IoEmulator>) -> Response {
    let messages: Vec<_> = emulator
        .messages()
        .into_iter()
        .map(|m| json!({ "id": m.id, "fiscal_code": m.fiscal_code, "subject": m.subject, "markdown": m.markdown }))
        .collect();
    axum::Json(messages).into_response()
}

async fn profile(
    State(emulator): State<IoEmulator>,
    Path(fiscal_code): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = gate(&emulator, &headers) {
        return answer;
    }
    if seal::CodiceFiscale::parse(&fiscal_code).is_err() {
        return problem(StatusCode::BAD_REQUEST, "invalid fiscal code");
    }
    let mut state = emulator.lock();
    state.profile_calls += 1;
    if state.without_profile.contains(&fiscal_code) {
        return problem(StatusCode::NOT_FOUND, "profile not found");
    }
    axum::Json(LimitedProfile {
        sender_allowed: !state.refusing.contains(&fiscal_code),
        preferred_languages: vec!["it_IT".into()],
    })
    .into_response()
}

async fn message(
    State(emulator): State<IoEmulator>,
    Path(fiscal_code): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(answer) = gate(&emulator, &headers) {
        return answer;
    }
    let Ok(new) = serde_json::from_str::<NewMessage>(&body) else {
        return problem(StatusCode::BAD_REQUEST, "malformed NewMessage");
    };
    if !SUBJECT_CHARS.contains(&new.content.subject.chars().count())
        || !MARKDOWN_CHARS.contains(&new.content.markdown.chars().count())
    {
        return problem(StatusCode::BAD_REQUEST, "subject or markdown out of bounds");
    }
    let mut state = emulator.lock();
    if state.refusing.contains(&fiscal_code) || state.without_profile.contains(&fiscal_code) {
        return problem(StatusCode::FORBIDDEN, "the recipient refuses this service");
    }
    let id = format!("01IOEMU{:019}", state.messages.len() + 1);
    state.messages.push(IoMessage {
        id: id.clone(),
        fiscal_code,
        subject: new.content.subject,
        markdown: new.content.markdown,
    });
    (StatusCode::CREATED, axum::Json(json!({ "id": id }))).into_response()
}

/// A message the sink received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mail {
    /// `MAIL FROM`.
    pub from: String,
    /// `RCPT TO`, each.
    pub to: Vec<String>,
    /// The data, headers and body, as received.
    pub data: String,
}

impl Mail {
    /// The body, quoted-printable or base64 transfer encoding undone when
    /// the headers say so (the rest as received).
    pub fn body(&self) -> String {
        let body = self
            .data
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body);
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        match encoding.as_str() {
            "quoted-printable" => quoted_printable(body),
            _ => body.to_owned(),
        }
    }

    /// The value of header `name` (the first), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.split("\r\n")
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }
}

/// An SMTP server on loopback that keeps every message.
#[derive(Debug, Clone)]
pub struct SmtpSink {
    addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Listens on `addr` (e.g. `127.0.0.1:0`).
    pub async fn start(addr: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let sink = Self {
            addr: listener.local_addr()?,
            mails: Arc::default(),
        };
        let mails = sink.mails.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let mails = mails.clone();
                tokio::spawn(async move {
                    if let Err(error) = session(stream, mails).await {
                        tracing::debug!(%error, "SMTP sink: a session ended badly");
                    }
                });
            }
        });
        Ok(sink)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET /` of a router showing what it received, as JSON, for the
    /// demo's visitor.
    pub fn router(&self) -> Router {
        let sink = self.clone();
        Router::new().route(
            "/",
            get(move || {
                let sink = sink.clone();
                async move { axum::Json(sink.mails()).into_response() }
            }),
        )
    }

    /// What it received, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Longest message the sink keeps.
const MAX_DATA: usize = 1 << 20;

async fn session(
    stream: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sigillo-sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sigillo-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 ok\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command["MAIL FROM:".len()..]);
            to.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command["RCPT TO:".len()..]));
            b"250 ok\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                if data.len() < MAX_DATA {
                    // Dot-stuffing undone (RFC 5321 §4.5.2).
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
            }
            mails
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Mail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
            b"250 queued\r\n"
        } else if upper.starts_with("RSET") {
            to.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// Undoes quoted-printable (RFC 2045 §6.7): soft line breaks and `=XX`.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(value)) => {
                out.push(value);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `<a@b>` (with parameters after) → `a@b`.
fn address(text: &str) -> String {
    let text = text.trim();
    let inner = text
        .strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .map_or(text, |(inner, _)| inner);
    inner.split_whitespace().next().unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::io::{Io, IoConfig, Reach};
    use crate::mail::{MailConfig, Mailer};

    #[tokio::test]
    async fn the_io_client_reaches_and_messages_through_the_emulator() {
        let emulator = IoEmulator::new();
        let base = emulator.serve("127.0.0.1:0").await.expect("serves");
        let io = Io::new(&IoConfig {
            base_url: base,
            subscription_key: "k".into(),
            timeout: Duration::from_secs(5),
        })
        .expect("client");
        let citizen = seal::CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid");
        assert_eq!(io.reach(&citizen).await, Ok(Reach::Allowed));
        let body =
            "Il certificato che hai richiesto è pronto: lo trovi nell'area personale del portale.";
        let id = io
            .send(&citizen, "Certificato pronto", body)
            .await
            .expect("sent");
        assert_eq!(emulator.messages().len(), 1);
        assert_eq!(emulator.messages()[0].id, id);
        assert!(
            io.send(&citizen, "breve", body).await.is_err(),
            "short subject"
        );

        emulator.refuse(citizen.as_str());
        assert_eq!(io.reach(&citizen).await, Ok(Reach::Refused));
        emulator.fail_next(1);
        assert!(io.reach(&citizen).await.expect_err("503").is_transient());
        let other = seal::CodiceFiscale::parse("BNCNNA90A41H501T").expect("valid");
        emulator.without_profile(other.as_str());
        assert_eq!(io.reach(&other).await, Ok(Reach::NoProfile));
    }

    #[tokio::test]
    async fn the_mailer_delivers_to_the_sink_with_its_message_id() {
        let sink = SmtpSink::start("127.0.0.1:0").await.expect("sink");
        let mailer = Mailer::new(&MailConfig {
            host: "127.0.0.1".into(),
            port: sink.addr().port(),
            from: "Comune di Borgo Sigillo <certificati@borgosigillo.example.it>".into(),
            timeout: Duration::from_secs(5),
        })
        .expect("mailer");
        mailer
            .send(
                "mario@example.org",
                "Il tuo certificato è pronto",
                "Testo.\n.riga con un punto\n",
                "n-1",
            )
            .await
            .expect("sent");
        let mails = sink.mails();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, ["mario@example.org"]);
        assert_eq!(
            mails[0].header("Message-ID").as_deref(),
            Some("<n-1@borgosigillo.example.it>")
        );
        assert!(
            mails[0].data.contains(".riga con un punto"),
            "{}",
            mails[0].data
        );
        assert!(matches!(
            mailer
                .send("non un indirizzo", "Oggetto qualsiasi", "x", "n-2")
                .await,
            Err(crate::mail::MailError::BadRecipient)
        ));
    }
}
