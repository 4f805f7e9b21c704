//! An in-memory pagoPA: the same paths and shapes the client calls (GPD
//! debt positions, GPD receipts, the marca da bollo digitale service), a
//! checkout page with «Paga» and «Annulla», and fault injection for tests.
//! Development, the demo and the tests run the client's real code path
//! against it.
//!
//! Mount it with [`Emulator::router_at`] (e.g. under `/sandbox/pagopa` of
//! the server) and point the client at it with
//! [`PagoPaConfig::emulator`](super::client::PagoPaConfig::emulator); or run
//! it alone on a port with [`spawn`]. Its `/mbd/info` says `environment:
//! "emulator"`, which a server in production mode refuses.
//!
//! Paths below the mount point:
//!
//! | path | what |
//! |---|---|
//! | `POST /gpd/organizations/{cf}/debtpositions` | create a debt position (`toPublish=true` publishes it) |
//! | `GET /gpd/organizations/{cf}/debtpositions/{iupd}` | read it back |
//! | `POST /gpd/organizations/{cf}/debtpositions/{iupd}/invalidate` | invalidate it |
//! | `GET /payments/{cf}/receipts/{iuv}` | the receipt XML of a paid position |
//! | `POST /mbd/organizations/{cf}/mbd` | order a marca da bollo digitale |
//! | `GET /mbd/organizations/{cf}/receipt/{nav}` | its stamp, once paid |
//! | `GET /mbd/info` | which service answers |
//! | `POST /checkout/ec/v1/carts` | Checkout's carts API: a cart of published notices, answered with a 302 to the payment page |
//! | `GET /checkout/{notice}` | the payment page, in Italian |
//! | `POST /checkout/{notice}/pay`, `/cancel` | its two buttons: 303 to the return URL with `outcome=ok` or `cancelled` |
//! | `POST /_faults`, `DELETE /_faults` | inject a [`Fault`] (JSON), or clear them |
//!
//! The API paths want an `Ocp-Apim-Subscription-Key` (any value) and
//! answer malformed requests with 400 and a ProblemJson, as the platform
//! does.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::amount::format_cents;
use super::client::{is_document_hash, with_outcome};
use super::notice::NoticeNumber;
use super::wire::{
    CartRequest, CartResponse, CartReturnUrls, MbdContent, MbdReceipt, MbdRequest, PaymentPosition,
    Problem,
};
use super::xml;

/// A fault to inject. Request faults hit the next API requests; receipt
/// faults alter the next receipt of a payment they apply to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// The next `count` API requests hang for [`HANG`], longer than any
    /// sensible client timeout, then fail with 504.
    Timeout {
        /// How many requests.
        count: u32,
    },
    /// The next `count` API requests fail with `status` (5xx or 429).
    ServerError {
        /// How many requests.
        count: u32,
        /// The HTTP status to answer.
        status: u16,
    },
    /// The next payment of a notice already paid succeeds again and makes
    /// a second receipt (a new receipt id, the same notice), as a receipt
    /// delivered twice would.
    DuplicateReceipt,
    /// The next receipt states one euro more than the position's amount.
    WrongAmount,
    /// The next stamp binds another document's digest (marca only).
    WrongDigest,
    /// The next receipt names another debtor (bollo virtuale only).
    WrongDebtor,
    /// The next receipt names another creditor (bollo virtuale only).
    WrongCreditor,
    /// The next receipt is for a notice that has no position (bollo
    /// virtuale only; a stamp does not carry its notice).
    UnknownNotice,
    /// The next receipt's outcome is `KO` (bollo virtuale only).
    NegativeOutcome,
}

/// How long a [`Fault::Timeout`] holds a request.
pub const HANG: Duration = Duration::from_secs(30);

/// An API request as the emulator received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path below the mount point, e.g. `/gpd/organizations/…`.
    pub path: String,
    /// The query string, without `?` (empty if none).
    pub query: String,
    /// The body, as text.
    pub body: String,
}

/// Why a notice cannot be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    /// No position or marca order has this notice.
    #[error("avviso sconosciuto")]
    UnknownNotice,
    /// Already paid.
    #[error("avviso già pagato")]
    AlreadyPaid,
    /// Not payable: a draft, invalidated or expired position.
    #[error("avviso non pagabile (bozza, annullato o scaduto)")]
    NotPayable,
}

/// The in-memory pagoPA. Cheap to clone: clones share the same state.
#[derive(Debug, Clone, Default)]
pub struct Emulator {
    state: Arc<Mutex<Emulated>>,
}

/// A running standalone emulator; dropping it stops the server.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    emulator: Emulator,
    task: tokio::task::JoinHandle<()>,
}

/// Runs a new emulator alone on `addr` (e.g. `127.0.0.1:0`), mounted at
/// the root: point the client at [`EmulatorHandle::base_url`].
pub async fn spawn(addr: &str) -> io::Result<(SocketAddr, EmulatorHandle)> {
    let handle = Emulator::new().serve(addr).await?;
    Ok((handle.addr(), handle))
}

impl EmulatorHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the emulator's mount point.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The emulator it serves, to inject faults and pay from tests.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Default)]
struct Emulated {
    /// Creditors accepted; any well-formed fiscal code when `None`.
    creditors: Option<HashSet<String>>,
    /// Debt positions by creditor and iupd.
    positions: HashMap<(String, String), Position>,
    /// What each notice number pays, across creditors (the checkout page
    /// knows only the notice).
    notices: HashMap<String, Payable>,
    /// Receipt documents by creditor and IUV, oldest first.
    receipts: HashMap<(String, String), Vec<String>>,
    /// Stamps (base64 XML) by creditor and nav, latest last.
    stamps: HashMap<(String, String), Vec<String>>,
    request_faults: VecDeque<Fault>,
    receipt_faults: Vec<Fault>,
    seen: Vec<SeenRequest>,
    next_marca_base: u64,
    /// Where Checkout sends the payer back, by notice, from the latest
    /// cart that holds it.
    carts: HashMap<String, CartReturnUrls>,
}

#[derive(Debug, Clone)]
struct Position {
    creditor: String,
    body: PaymentPosition,
    status: &'static str,
    inserted: OffsetDateTime,
    paid_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
enum Payable {
    Virtuale { creditor: String, iupd: String },
    Marca(Box<MarcaOrder>),
}

#[derive(Debug, Clone)]
struct MarcaOrder {
    creditor: String,
    request: MbdRequest,
    paid: bool,
}

/// Segregation code of the notices the emulator's MBD service makes,
/// apart from those a creditor's own system uses in the tests and demo.
const MARCA_SEGREGATION: u8 = 99;
const BODY_LIMIT: usize = 64 * 1024;
const PSP_NAME: &str = "PSP Emulatore pagoPA";

impl Emulator {
    /// An empty emulator that accepts any creditor with a well-formed
    /// fiscal code (11 digits).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts only these creditors from now on; others get 400.
    pub fn restrict_creditors<I, S>(&self, creditors: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.lock().creditors = Some(creditors.into_iter().map(Into::into).collect());
    }

    /// The routes, mounted at the root.
    pub fn router(&self) -> Router {
        self.router_at("")
    }

    /// The routes under `prefix` (e.g. `/sandbox/pagopa`, or `""` for the
    /// root), ready to merge into an application's router. The prefix is
    /// also how the emulator builds absolute URLs (the MBD
    /// `checkoutRedirectUrl`), with the request's `Host` header.
    pub fn router_at(&self, prefix: &str) -> Router {
        let prefix = prefix.trim_end_matches('/').to_owned();
        let prefix = if prefix.is_empty() || prefix.starts_with('/') {
            prefix
        } else {
            format!("/{prefix}")
        };
        let state = Mounted {
            emulator: self.clone(),
            prefix: Arc::from(prefix.as_str()),
        };
        let api = Router::new()
            .route(
                "/gpd/organizations/{cf}/debtpositions",
                post(create_position),
            )
            .route(
                "/gpd/organizations/{cf}/debtpositions/{iupd}",
                get(read_position),
            )
            .route(
                "/gpd/organizations/{cf}/debtpositions/{iupd}/invalidate",
                post(invalidate_position),
            )
            .route("/payments/{cf}/receipts/{iuv}", get(read_receipt))
            .route("/mbd/organizations/{cf}/mbd", post(create_marca))
            .route("/mbd/organizations/{cf}/receipt/{nav}", get(read_stamp))
            .route("/mbd/info", get(info))
            .route("/checkout/ec/v1/carts", post(create_cart))
            .layer(middleware::from_fn_with_state(state.clone(), api_gate));
        let pages = Router::new()
            .route("/checkout/{notice}", get(checkout_page))
            .route("/checkout/{notice}/pay", post(checkout_pay))
            .route("/checkout/{notice}/cancel", post(checkout_cancel))
            .route("/_faults", post(add_fault).delete(clear_faults));
        let inner = api.merge(pages).with_state(state);
        if prefix.is_empty() {
            inner
        } else {
            Router::new().nest(&prefix, inner)
        }
    }

    /// Serves this emulator alone on `addr`, mounted at the root.
    pub async fn serve(&self, addr: &str) -> io::Result<EmulatorHandle> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = self.router();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the pagoPA emulator stopped");
            }
        });
        Ok(EmulatorHandle {
            addr,
            emulator: self.clone(),
            task,
        })
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        let mut state = self.lock();
        match fault {
            Fault::Timeout { .. } | Fault::ServerError { .. } => {
                state.request_faults.push_back(fault);
            }
            _ => state.receipt_faults.push(fault),
        }
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        let mut state = self.lock();
        state.request_faults.clear();
        state.receipt_faults.clear();
    }

    /// The API requests received so far, oldest first (checkout pages and
    /// fault injection are not recorded).
    pub fn requests_seen(&self) -> Vec<SeenRequest> {
        self.lock().seen.clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.lock().seen.clear();
    }

    /// The status of a debt position (`VALID`, `PAID`, `INVALID`, …).
    pub fn position_status(&self, creditor: &str, iupd: &str) -> Option<String> {
        let mut state = self.lock();
        let now = OffsetDateTime::now_utc();
        state
            .positions
            .get_mut(&(creditor.to_owned(), iupd.to_owned()))
            .map(|position| position.refreshed(now).to_owned())
    }

    /// Pays a notice, as the «Paga» button does: the position (or marca
    /// order) becomes paid and its receipt is made, altered by any pending
    /// receipt fault that applies.
    pub fn pay(&self, notice: &NoticeNumber) -> Result<(), PayError> {
        let now = OffsetDateTime::now_utc();
        // Receipts state whole seconds, as the platform's do.
        self.pay_at(notice, now.replace_nanosecond(0).unwrap_or(now))
    }

    fn pay_at(&self, notice: &NoticeNumber, now: OffsetDateTime) -> Result<(), PayError> {
        let mut state = self.lock();
        let payable = state
            .notices
            .get(notice.as_str())
            .cloned()
            .ok_or(PayError::UnknownNotice)?;
        match payable {
            Payable::Virtuale { creditor, iupd } => {
                let key = (creditor.clone(), iupd);
                let status = state
                    .positions
                    .get_mut(&key)
                    .ok_or(PayError::UnknownNotice)?
                    .refreshed(now);
                match status {
                    "VALID" | "PUBLISHED" => {}
                    "PAID"
                        if state
                            .take_fault(|f| *f == Fault::DuplicateReceipt)
                            .is_some() => {}
                    "PAID" => return Err(PayError::AlreadyPaid),
                    _ => return Err(PayError::NotPayable),
                }
                let position = state
                    .positions
                    .get_mut(&key)
                    .ok_or(PayError::UnknownNotice)?;
                position.status = "PAID";
                position.paid_at = Some(now);
                let position = position.clone();
                let document = state.virtuale_receipt(&position, notice, now);
                state
                    .receipts
                    .entry((creditor, notice.iuv().to_owned()))
                    .or_default()
                    .push(document);
            }
            Payable::Marca(order) => {
                if order.paid
                    && state
                        .take_fault(|f| *f == Fault::DuplicateReceipt)
                        .is_none()
                {
                    return Err(PayError::AlreadyPaid);
                }
                let stamp = state.stamp(&order.request, now);
                if let Some(Payable::Marca(stored)) = state.notices.get_mut(notice.as_str()) {
                    stored.paid = true;
                }
                state
                    .stamps
                    .entry((order.creditor.clone(), notice.as_str().to_owned()))
                    .or_default()
                    .push(stamp);
            }
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Emulated> {
        // A panic elsewhere while holding the lock leaves plain data, still
        // usable for a test emulator.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Position {
    /// The status now, expiring a position past its due date when it
    /// asked to.
    fn refreshed(&mut self, now: OffsetDateTime) -> &'static str {
        let due = self
            .body
            .payment_option
            .first()
            .and_then(|option| OffsetDateTime::parse(&option.due_date, &Rfc3339).ok());
        if self.body.switch_to_expired
            && matches!(self.status, "VALID" | "PUBLISHED")
            && due.is_some_and(|due| due < now)
        {
            self.status = "EXPIRED";
        }
        self.status
    }
}

impl Emulated {
    /// Removes and returns the first pending receipt fault `applies` picks.
    fn take_fault(&mut self, applies: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let index = self.receipt_faults.iter().position(applies)?;
        Some(self.receipt_faults.remove(index))
    }

    fn creditor_known(&self, creditor: &str) -> bool {
        creditor.len() == 11
            && creditor.bytes().all(|b| b.is_ascii_digit())
            && self
                .creditors
                .as_ref()
                .is_none_or(|known| known.contains(creditor))
    }

    /// The receipt document of a paid position, as the receipts service
    /// returns it.
    fn virtuale_receipt(
        &mut self,
        position: &Position,
        notice: &NoticeNumber,
        now: OffsetDateTime,
    ) -> String {
        let mut amount = position
            .body
            .payment_option
            .first()
            .map_or(0, |option| option.amount);
        if self.take_fault(|f| *f == Fault::WrongAmount).is_some() {
            amount += 100;
        }
        let mut receipt_notice = *notice;
        if self.take_fault(|f| *f == Fault::UnknownNotice).is_some() {
            receipt_notice = self.notice_without_position(notice);
        }
        let mut creditor = position.creditor.clone();
        if self.take_fault(|f| *f == Fault::WrongCreditor).is_some() {
            creditor = if creditor == "00000000000" {
                "11111111111".into()
            } else {
                "00000000000".into()
            };
        }
        let mut debtor = position.body.fiscal_code.clone();
        if self.take_fault(|f| *f == Fault::WrongDebtor).is_some() {
            debtor = if debtor.eq_ignore_ascii_case("RSSMRA85T10A562S") {
                "RSSMRA45D25F205N".into()
            } else {
                "RSSMRA85T10A562S".into()
            };
        }
        let outcome = if self.take_fault(|f| *f == Fault::NegativeOutcome).is_some() {
            "KO"
        } else {
            "OK"
        };
        let option = position.body.payment_option.first();
        let description = option.map(|o| o.description.clone()).unwrap_or_default();
        let transfers = option
            .map(|o| o.transfer.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|transfer| xml::TransferV2 {
                id_transfer: transfer.id_transfer,
                transfer_amount: format_cents(transfer.amount),
                fiscal_code_pa: transfer
                    .organization_fiscal_code
                    .unwrap_or_else(|| position.creditor.clone()),
                company_name: position.body.company_name.clone(),
                iban: transfer.iban.unwrap_or_default(),
                remittance_information: transfer.remittance_information,
                transfer_category: transfer.category,
            })
            .collect();
        let document = xml::PaSendRtV2 {
            id_pa: position.creditor.clone(),
            id_broker_pa: position.creditor.clone(),
            id_station: format!("{}_01", position.creditor),
            receipt: xml::ReceiptV2 {
                receipt_id: random_hex(16),
                notice_number: receipt_notice.as_str().to_owned(),
                fiscal_code: creditor,
                outcome: outcome.to_owned(),
                creditor_reference_id: receipt_notice.iuv().to_owned(),
                payment_amount: format_cents(amount),
                description,
                company_name: position.body.company_name.clone(),
                debtor: xml::Subject {
                    unique_identifier: xml::UniqueIdentifier {
                        entity_unique_identifier_type: position.body.kind.clone(),
                        entity_unique_identifier_value: debtor,
                    },
                    full_name: position.body.full_name.chars().take(70).collect(),
                    email: position.body.email.clone(),
                },
                transfer_list: xml::TransferList {
                    transfer: transfers,
                },
                id_psp: "EMULATORE_PSP".to_owned(),
                psp_company_name: PSP_NAME.to_owned(),
                id_channel: "EMULATORE_PSP_01".to_owned(),
                channel_description: "app".to_owned(),
                payment_method: "creditCard".to_owned(),
                fee: "0.00".to_owned(),
                payment_date_time: xml::rome_local_text(now),
                application_date: xml::rome_date_text(now),
                transfer_date: xml::rome_date_text(now),
            },
        };
        xml::to_document(&document).unwrap_or_default()
    }

    /// A notice of the same segregation code that nothing was opened with.
    fn notice_without_position(&self, notice: &NoticeNumber) -> NoticeNumber {
        let mut base = notice.iuv_base();
        loop {
            base = (base + 1) % 10_000_000_000_000;
            if let Ok(other) = NoticeNumber::new(notice.segregation(), base)
                && !self.notices.contains_key(other.as_str())
            {
                return other;
            }
        }
    }

    /// The Agenzia delle Entrate stamp of a paid marca order, base64.
    fn stamp(&mut self, request: &MbdRequest, now: OffsetDateTime) -> String {
        let notice = request.payment_notices.first();
        let mut amount = notice.map_or(0, |n| n.amount);
        if self.take_fault(|f| *f == Fault::WrongAmount).is_some() {
            amount += 100;
        }
        let mut digest = notice.map(|n| n.document_hash.clone()).unwrap_or_default();
        if self.take_fault(|f| *f == Fault::WrongDigest).is_some() {
            digest = BASE64.encode(Sha256::digest(digest.as_bytes()));
        }
        let stamp = xml::MarcaDaBollo {
            xmlns: xml::MARCA_NAMESPACE,
            xmlns_ds: xml::DSIG_NAMESPACE,
            psp: xml::Psp {
                codice_fiscale: "00000000000".to_owned(),
                denominazione: PSP_NAME.to_owned(),
            },
            iubd: random_digits(14),
            ora_acquisto: seal::rome::local(now).format(&Rfc3339).unwrap_or_default(),
            importo: format_cents(amount),
            tipo_bollo: "01",
            impronta: xml::Impronta {
                digest_method: xml::Algorithm {
                    algorithm: xml::SHA256_ALGORITHM,
                },
                digest_value: digest,
            },
            signature: xml::Signature {
                signed_info: xml::SignedInfo {
                    canonicalization_method: xml::Algorithm {
                        algorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
                    },
                    signature_method: xml::Algorithm {
                        algorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                    },
                    reference: xml::Reference {
                        uri: "",
                        digest_method: xml::Algorithm {
                            algorithm: xml::SHA256_ALGORITHM,
                        },
                        // The signature's own digest, never the document's.
                        digest_value: BASE64.encode([0u8; 32]),
                    },
                },
                signature_value: BASE64.encode(b"EMULATORE: firma non valida"),
            },
        };
        BASE64.encode(xml::to_document(&stamp).unwrap_or_default())
    }
}

/// Random lowercase hex of `bytes` bytes.
fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // Only uniqueness matters here; a failed draw leaves zeros, which the
    // emulator tolerates.
    let _ = getrandom::getrandom(&mut buffer);
    hex::encode(buffer)
}

/// `count` random decimal digits.
fn random_digits(count: usize) -> String {
    let mut buffer = vec![0u8; count];
    let _ = getrandom::getrandom(&mut buffer);
    buffer
        .iter()
        .map(|byte| char::from(b'0' + byte % 10))
        .collect()
}

/// The emulator as mounted: what handlers need.
#[derive(Debug, Clone)]
struct Mounted {
    emulator: Emulator,
    prefix: Arc<str>,
}

/// Records API requests, applies request faults and wants the
/// subscription key.
async fn api_gate(State(mounted): State<Mounted>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    let fault = {
        let mut state = mounted.emulator.lock();
        state.seen.push(SeenRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
        next_request_fault(&mut state.request_faults)
    };
    match fault {
        Some(Fault::Timeout { .. }) => {
            tokio::time::sleep(HANG).await;
            return problem(StatusCode::GATEWAY_TIMEOUT, "injected timeout");
        }
        Some(Fault::ServerError { status, .. }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return problem(status, "injected failure");
        }
        _ => {}
    }
    let key = parts
        .headers
        .get("Ocp-Apim-Subscription-Key")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| !value.trim().is_empty());
    if !key {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Takes one use of the first pending request fault.
fn next_request_fault(faults: &mut VecDeque<Fault>) -> Option<Fault> {
    let front = faults.front_mut()?;
    let (Fault::Timeout { count } | Fault::ServerError { count, .. }) = front else {
        faults.pop_front();
        return None;
    };
    if *count == 0 {
        faults.pop_front();
        return next_request_fault(faults);
    }
    *count -= 1;
    let fault = front.clone();
    if matches!(
        fault,
        Fault::Timeout { count: 0 } | Fault::ServerError { count: 0, .. }
    ) {
        faults.pop_front();
    }
    Some(fault)
}

fn problem(status: StatusCode, detail: &str) -> Response {
    let body = Problem {
        title: Some(status.canonical_reason().unwrap_or("Error").to_owned()),
        status: Some(status.as_u16()),
        detail: Some(detail.to_owned()),
    };
    (status, axum::Json(body)).into_response()
}

fn bad_request(detail: impl AsRef<str>) -> Response {
    problem(StatusCode::BAD_REQUEST, detail.as_ref())
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    #[serde(rename = "toPublish", default)]
    to_publish: Option<bool>,
}

async fn create_position(
    State(mounted): State<Mounted>,
    Path(creditor): Path<String>,
    Query(query): Query<CreateQuery>,
    body: String,
) -> Response {
    let position = match parse_position(&body) {
        Ok(position) => position,
        Err(detail) => return bad_request(detail),
    };
    let now = OffsetDateTime::now_utc();
    let mut state = mounted.emulator.lock();
    if !state.creditor_known(&creditor) {
        return bad_request("unknown creditor fiscal code");
    }
    if let Err(detail) = check_position(&position, &creditor, now) {
        return bad_request(detail);
    }
    let key = (creditor.clone(), position.iupd.clone());
    let nav = position
        .payment_option
        .first()
        .map(|option| format!("3{}", option.iuv))
        .unwrap_or_default();
    if state.positions.contains_key(&key) || state.notices.contains_key(&nav) {
        return problem(StatusCode::CONFLICT, "duplicate debt position");
    }
    let status = if query.to_publish.unwrap_or(false) {
        "VALID"
    } else {
        "DRAFT"
    };
    state.notices.insert(
        nav,
        Payable::Virtuale {
            creditor: creditor.clone(),
            iupd: position.iupd.clone(),
        },
    );
    let stored = Position {
        creditor,
        body: position,
        status,
        inserted: now,
        paid_at: None,
    };
    let answer = position_json(&stored, false);
    state.positions.insert(key, stored);
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

async fn read_position(
    State(mounted): State<Mounted>,
    Path((creditor, iupd)): Path<(String, String)>,
) -> Response {
    let mut state = mounted.emulator.lock();
    let now = OffsetDateTime::now_utc();
    match state.positions.get_mut(&(creditor, iupd)) {
        Some(position) => {
            position.refreshed(now);
            axum::Json(position_json(position, true)).into_response()
        }
        None => problem(StatusCode::NOT_FOUND, "no debt position found"),
    }
}

async fn invalidate_position(
    State(mounted): State<Mounted>,
    Path((creditor, iupd)): Path<(String, String)>,
) -> Response {
    let mut state = mounted.emulator.lock();
    let now = OffsetDateTime::now_utc();
    let Some(position) = state.positions.get_mut(&(creditor, iupd)) else {
        return problem(StatusCode::NOT_FOUND, "no debt position found");
    };
    match position.refreshed(now) {
        "VALID" | "PUBLISHED" | "DRAFT" => {
            position.status = "INVALID";
            axum::Json(position_json(position, false)).into_response()
        }
        _ => problem(
            StatusCode::CONFLICT,
            "debt position is not in invalidable state",
        ),
    }
}

async fn read_receipt(
    State(mounted): State<Mounted>,
    Path((creditor, iuv)): Path<(String, String)>,
) -> Response {
    let state = mounted.emulator.lock();
    match state
        .receipts
        .get(&(creditor, iuv))
        .and_then(|all| all.last())
    {
        Some(document) => (
            [(header::CONTENT_TYPE, "application/xml")],
            document.clone(),
        )
            .into_response(),
        None => problem(StatusCode::NOT_FOUND, "no receipt found"),
    }
}

async fn create_marca(
    State(mounted): State<Mounted>,
    Path(creditor): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let request: MbdRequest = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => return bad_request(format!("malformed GetMbdRequest: {error}")),
    };
    if let Err(detail) = check_mbd(&request) {
        return bad_request(detail);
    }
    let mut state = mounted.emulator.lock();
    if !state.creditor_known(&creditor) {
        return bad_request("unknown creditor fiscal code");
    }
    let nav = loop {
        state.next_marca_base += 1;
        match NoticeNumber::new(MARCA_SEGREGATION, state.next_marca_base) {
            Ok(nav) if !state.notices.contains_key(nav.as_str()) => break nav,
            Ok(_) => {}
            Err(_) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "no notice left"),
        }
    };
    state.notices.insert(
        nav.as_str().to_owned(),
        Payable::Marca(Box::new(MarcaOrder {
            creditor: creditor.clone(),
            request,
            paid: false,
        })),
    );
    let base = absolute_base(&headers, &mounted.prefix);
    let answer = CartResponse {
        checkout_redirect_url: format!("{base}/checkout/{nav}"),
        mbd_download_link: Some(format!("{base}/mbd/organizations/{creditor}/receipt/{nav}")),
        nav: nav.as_str().to_owned(),
    };
    axum::Json(answer).into_response()
}

/// Checkout's `PostCarts`: every notice must be a published position of
/// its creditor, for its amount; the payer is sent (302) to the first
/// notice's payment page, which returns to the cart's addresses.
async fn create_cart(State(mounted): State<Mounted>, headers: HeaderMap, body: String) -> Response {
    let cart: CartRequest = match serde_json::from_str(&body) {
        Ok(cart) => cart,
        Err(error) => return bad_request(format!("malformed CartRequest: {error}")),
    };
    if !(1..=5).contains(&cart.payment_notices.len()) {
        return bad_request("paymentNotices must hold 1 to 5 notices");
    }
    let urls = &cart.return_urls;
    for url in [
        &urls.return_ok_url,
        &urls.return_cancel_url,
        &urls.return_error_url,
    ] {
        if reqwest::Url::parse(url).is_err() {
            return bad_request("returnUrls must be absolute URLs");
        }
    }
    let mut state = mounted.emulator.lock();
    let now = OffsetDateTime::now_utc();
    for notice in &cart.payment_notices {
        if notice.company_name.chars().count() > 140 || notice.description.chars().count() > 140 {
            return bad_request("companyName and description are at most 140 characters");
        }
        let Some(Payable::Virtuale { creditor, iupd }) =
            state.notices.get(&notice.notice_number).cloned()
        else {
            return bad_request("unknown noticeNumber");
        };
        if creditor != notice.fiscal_code {
            return bad_request("fiscalCode is not the notice's creditor");
        }
        let Some(position) = state.positions.get_mut(&(creditor, iupd)) else {
            return bad_request("unknown noticeNumber");
        };
        let status = position.refreshed(now);
        let amount = position
            .body
            .payment_option
            .first()
            .map(|option| option.amount);
        if amount != Some(notice.amount) {
            return bad_request("amount is not the notice's amount");
        }
        if !matches!(status, "VALID" | "PUBLISHED" | "PAID") {
            return bad_request("the notice cannot be paid");
        }
    }
    for notice in &cart.payment_notices {
        state
            .carts
            .insert(notice.notice_number.clone(), cart.return_urls.clone());
    }
    let first = &cart.payment_notices[0].notice_number;
    let location = format!(
        "{}/checkout/{first}",
        absolute_base(&headers, &mounted.prefix)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn read_stamp(
    State(mounted): State<Mounted>,
    Path((creditor, nav)): Path<(String, String)>,
) -> Response {
    let state = mounted.emulator.lock();
    match state
        .stamps
        .get(&(creditor, nav))
        .and_then(|all| all.last())
    {
        Some(stamp) => axum::Json(MbdReceipt {
            content: MbdContent::One(stamp.clone()),
        })
        .into_response(),
        None => problem(StatusCode::NOT_FOUND, "no receipt found"),
    }
}

async fn info() -> Response {
    axum::Json(json!({
        "name": "sigillo-pagopa-emulator",
        "version": env!("CARGO_PKG_VERSION"),
        "environment": "emulator",
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct CheckoutQuery {
    #[serde(rename = "returnUrl", default)]
    return_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CheckoutForm {
    #[serde(rename = "returnUrl", default)]
    return_url: Option<String>,
}

async fn checkout_page(
    State(mounted): State<Mounted>,
    Path(notice): Path<String>,
    Query(query): Query<CheckoutQuery>,
) -> Response {
    let Ok(notice) = NoticeNumber::parse(&notice) else {
        return page(
            StatusCode::NOT_FOUND,
            "Avviso non trovato",
            "Il codice avviso non è valido.",
        );
    };
    let view = {
        let mut state = mounted.emulator.lock();
        checkout_view(&mut state, &notice)
    };
    let Some(view) = view else {
        return page(
            StatusCode::NOT_FOUND,
            "Avviso non trovato",
            "Nessun pagamento corrisponde a questo codice avviso.",
        );
    };
    Html(checkout_html(&notice, &view, query.return_url.as_deref())).into_response()
}

async fn checkout_pay(
    State(mounted): State<Mounted>,
    Path(notice): Path<String>,
    Form(form): Form<CheckoutForm>,
) -> Response {
    let Ok(notice) = NoticeNumber::parse(&notice) else {
        return page(
            StatusCode::NOT_FOUND,
            "Avviso non trovato",
            "Il codice avviso non è valido.",
        );
    };
    match mounted.emulator.pay(&notice) {
        Ok(()) => {}
        Err(error) => {
            return page(
                StatusCode::CONFLICT,
                "Pagamento non eseguito",
                &format!("Il pagamento non è possibile: {error}."),
            );
        }
    }
    match back_to(&mounted.emulator, &notice, form.return_url.as_deref(), "ok") {
        Some(url) => Redirect::to(&url).into_response(),
        None => page(
            StatusCode::OK,
            "Pagamento eseguito",
            "Il pagamento è stato eseguito. Puoi chiudere questa pagina.",
        ),
    }
}

async fn checkout_cancel(
    State(mounted): State<Mounted>,
    Path(notice): Path<String>,
    Form(form): Form<CheckoutForm>,
) -> Response {
    let Ok(notice) = NoticeNumber::parse(&notice) else {
        return page(
            StatusCode::NOT_FOUND,
            "Avviso non trovato",
            "Il codice avviso non è valido.",
        );
    };
    match back_to(
        &mounted.emulator,
        &notice,
        form.return_url.as_deref(),
        "cancelled",
    ) {
        Some(url) => Redirect::to(&url).into_response(),
        None => page(
            StatusCode::OK,
            "Pagamento annullato",
            "Il pagamento è stato annullato. Puoi chiudere questa pagina.",
        ),
    }
}

async fn add_fault(State(mounted): State<Mounted>, body: String) -> Response {
    match serde_json::from_str::<Fault>(&body) {
        Ok(fault) => {
            mounted.emulator.inject(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => bad_request(format!("not a fault: {error}")),
    }
}

async fn clear_faults(State(mounted): State<Mounted>) -> Response {
    mounted.emulator.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

/// Where the checkout sends the payer back: a marca order's own URLs, or
/// the return URL the checkout link carried with the outcome added.
fn back_to(
    emulator: &Emulator,
    notice: &NoticeNumber,
    return_url: Option<&str>,
    outcome: &str,
) -> Option<String> {
    let state = emulator.lock();
    if return_url.is_none()
        && let Some(urls) = state.carts.get(notice.as_str())
    {
        return Some(match outcome {
            "ok" => urls.return_ok_url.clone(),
            _ => urls.return_cancel_url.clone(),
        });
    }
    if let Some(Payable::Marca(order)) = state.notices.get(notice.as_str()) {
        let urls = &order.request.return_urls;
        return Some(match outcome {
            "ok" => urls.success_url.clone(),
            _ => urls.cancel_url.clone(),
        });
    }
    with_outcome(return_url?, outcome).ok()
}

/// `scheme://host` and the mount prefix, for absolute URLs.
fn absolute_base(headers: &HeaderMap, prefix: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .filter(|proto| *proto == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}{prefix}")
}

/// What the checkout page shows.
struct CheckoutView {
    creditor: String,
    company: String,
    description: String,
    amount_cents: i64,
    status: &'static str,
}

fn checkout_view(state: &mut Emulated, notice: &NoticeNumber) -> Option<CheckoutView> {
    let now = OffsetDateTime::now_utc();
    match state.notices.get(notice.as_str())?.clone() {
        Payable::Virtuale { creditor, iupd } => {
            let position = state.positions.get_mut(&(creditor.clone(), iupd))?;
            let status = position.refreshed(now);
            let option = position.body.payment_option.first()?;
            Some(CheckoutView {
                creditor,
                company: position.body.company_name.clone(),
                description: option.description.clone(),
                amount_cents: option.amount,
                status,
            })
        }
        Payable::Marca(order) => Some(CheckoutView {
            creditor: order.creditor.clone(),
            company: "Marca da bollo digitale (@e.bollo)".to_owned(),
            description: "Imposta di bollo su documento informatico".to_owned(),
            amount_cents: order
                .request
                .payment_notices
                .first()
                .map_or(0, |n| n.amount),
            status: if order.paid { "PAID" } else { "VALID" },
        }),
    }
}

fn checkout_html(notice: &NoticeNumber, view: &CheckoutView, return_url: Option<&str>) -> String {
    let hidden = return_url
        .map(|url| {
            format!(
                "<input type=\"hidden\" name=\"returnUrl\" value=\"{}\">",
                escape(url)
            )
        })
        .unwrap_or_default();
    let actions = match view.status {
        "VALID" | "PUBLISHED" => format!(
            "<form method=\"post\" action=\"{notice}/pay\">{hidden}<button type=\"submit\">Paga</button></form>\
             <form method=\"post\" action=\"{notice}/cancel\">{hidden}<button type=\"submit\" class=\"secondary\">Annulla</button></form>"
        ),
        "PAID" => "<p class=\"note\">Questo avviso risulta già pagato.</p>".to_owned(),
        _ => "<p class=\"note\">Questo avviso non è pagabile (annullato o scaduto).</p>".to_owned(),
    };
    format!(
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Pagamento pagoPA — ambiente di prova</title><style>{STYLE}</style></head><body><main>\
         <p class=\"banner\">Ambiente di prova: nessun pagamento reale viene eseguito.</p>\
         <h1>Paga con pagoPA</h1><dl>\
         <dt>Ente creditore</dt><dd>{company} (C.F. {creditor})</dd>\
         <dt>Oggetto</dt><dd>{description}</dd>\
         <dt>Codice avviso</dt><dd>{notice}</dd>\
         <dt>Importo</dt><dd class=\"amount\">{amount}</dd></dl>{actions}</main></body></html>\n",
        company = escape(&view.company),
        creditor = escape(&view.creditor),
        description = escape(&view.description),
        amount = euro_text(view.amount_cents),
    )
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>\
         <p class=\"banner\">Ambiente di prova: nessun pagamento reale viene eseguito.</p>\
         <h1>{title}</h1><p>{message}</p></main></body></html>\n",
        title = escape(title),
        message = escape(message),
    );
    (status, Html(html)).into_response()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f5f7fa;color:#17324d}\
main{max-width:32rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:8px}\
.banner{background:#fff3cd;padding:.5rem;border-radius:4px;font-size:.9rem}\
dt{font-weight:600;margin-top:.75rem}dd{margin:0}.amount{font-size:1.5rem}\
form{display:inline-block;margin:1.5rem .5rem 0 0}\
button{font-size:1rem;padding:.6rem 1.4rem;border:0;border-radius:4px;background:#0066cc;color:#fff}\
button.secondary{background:#fff;color:#0066cc;border:1px solid #0066cc}";

/// `€ 1.234,56`, as Italian pages write amounts.
fn euro_text(cents: i64) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in euros.chars().enumerate() {
        if index > 0 && (euros.len() - index).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("€ {grouped},{:02}", (cents % 100).abs())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Reads a `PaymentPositionModel`, naming the first required field missing.
fn parse_position(body: &str) -> Result<PaymentPosition, String> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("malformed JSON: {e}"))?;
    for field in [
        "companyName",
        "fiscalCode",
        "fullName",
        "iupd",
        "switchToExpired",
        "type",
    ] {
        if value.get(field).is_none_or(serde_json::Value::is_null) {
            return Err(format!("{field} is required"));
        }
    }
    serde_json::from_value(value).map_err(|e| format!("malformed PaymentPositionModel: {e}"))
}

/// What GPD checks of a new position, as far as this emulator goes.
fn check_position(
    position: &PaymentPosition,
    creditor: &str,
    now: OffsetDateTime,
) -> Result<(), String> {
    if position.iupd.trim().is_empty() {
        return Err("iupd is empty".into());
    }
    if !matches!(position.kind.as_str(), "F" | "G") {
        return Err("type must be F or G".into());
    }
    if position.fiscal_code.trim().is_empty() || position.full_name.trim().is_empty() {
        return Err("the debtor's fiscalCode and fullName are required".into());
    }
    if position.company_name.chars().count() > 140 {
        return Err("companyName is longer than 140 characters".into());
    }
    let [option] = position.payment_option.as_slice() else {
        return Err("this emulator takes exactly one paymentOption".into());
    };
    let notice = NoticeNumber::parse(&format!("3{}", option.iuv))
        .map_err(|e| format!("iuv is not a valid IUV: {e}"))?;
    if option
        .nav
        .as_deref()
        .is_some_and(|nav| nav != notice.as_str())
    {
        return Err("nav does not match the iuv".into());
    }
    if option.amount < 1 {
        return Err("amount must be at least 1".into());
    }
    if option.description.chars().count() > 140 {
        return Err("description is longer than 140 characters".into());
    }
    let due = OffsetDateTime::parse(&option.due_date, &Rfc3339)
        .map_err(|_| "dueDate is not an RFC 3339 date-time")?;
    if due <= now {
        return Err("dueDate must be in the future".into());
    }
    if option.transfer.is_empty() || option.transfer.len() > 5 {
        return Err("a payment option has 1 to 5 transfers".into());
    }
    let mut ids = HashSet::new();
    let mut total = 0i64;
    for transfer in &option.transfer {
        if !matches!(transfer.id_transfer.as_str(), "1" | "2" | "3" | "4" | "5")
            || !ids.insert(transfer.id_transfer.as_str())
        {
            return Err("idTransfer must be a distinct 1 to 5".into());
        }
        if transfer.amount < 1 {
            return Err("a transfer's amount must be at least 1".into());
        }
        if transfer.remittance_information.chars().count() > 140 {
            return Err("remittanceInformation is longer than 140 characters".into());
        }
        if transfer.category.trim().is_empty() {
            return Err("a transfer needs its category".into());
        }
        let iban_ok = transfer.iban.as_deref().is_some_and(|iban| {
            !iban.is_empty() && iban.len() <= 35 && iban.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !iban_ok {
            return Err("a transfer needs an IBAN of 1 to 35 letters and digits".into());
        }
        if transfer
            .organization_fiscal_code
            .as_deref()
            .is_some_and(|code| code != creditor)
        {
            return Err("this emulator credits transfers to the creditor only".into());
        }
        total += transfer.amount;
    }
    if total != option.amount {
        return Err("the transfers do not add up to the payment option's amount".into());
    }
    Ok(())
}

/// What the MBD service checks of an order.
fn check_mbd(request: &MbdRequest) -> Result<(), String> {
    if request.id_ci_service.trim().is_empty() {
        return Err("idCIService is required".into());
    }
    let [notice] = request.payment_notices.as_slice() else {
        return Err("paymentNotices must hold exactly one notice".into());
    };
    for (field, value) in [
        ("firstName", &notice.first_name),
        ("lastName", &notice.last_name),
        ("fiscalCode", &notice.fiscal_code),
        ("email", &notice.email),
        ("province", &notice.province),
    ] {
        if value.trim().is_empty() {
            return Err(format!("{field} must not be blank"));
        }
    }
    if notice.amount < 1 {
        return Err("amount must be at least 1".into());
    }
    if notice.province.len() != 2 || !notice.province.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("province must be two capital letters".into());
    }
    if !is_document_hash(&notice.document_hash) {
        return Err("documentHash must be base64 of a SHA-256, 44 characters".into());
    }
    let urls = &request.return_urls;
    for url in [&urls.success_url, &urls.cancel_url, &urls.error_url] {
        if reqwest::Url::parse(url).is_err() {
            return Err("returnUrls must be absolute URLs".into());
        }
    }
    Ok(())
}

/// A position as GPD answers: `PaymentPositionModel` fields, the status,
/// and (when read back) the options' status and the debtor's fiscal code.
fn position_json(position: &Position, read_back: bool) -> serde_json::Value {
    let time = |instant: OffsetDateTime| instant.format(&Rfc3339).unwrap_or_default();
    let options: Vec<serde_json::Value> = position
        .body
        .payment_option
        .iter()
        .map(|option| {
            let mut value = json!({
                "nav": format!("3{}", option.iuv),
                "iuv": option.iuv,
                "organizationFiscalCode": position.creditor,
                "amount": option.amount,
                "description": option.description,
                "isPartialPayment": option.is_partial_payment,
                "dueDate": option.due_date,
                "transfer": option.transfer,
                "status": if position.paid_at.is_some() { "PO_PAID" } else { "PO_UNPAID" },
            });
            if let (Some(paid), Some(map)) = (position.paid_at, value.as_object_mut()) {
                map.insert("paymentDate".into(), json!(time(paid)));
            }
            value
        })
        .collect();
    let mut value = json!({
        "iupd": position.body.iupd,
        "organizationFiscalCode": position.creditor,
        "type": position.body.kind,
        "companyName": position.body.company_name,
        "insertedDate": time(position.inserted),
        "status": position.status,
        "paymentOption": options,
    });
    if let Some(map) = value.as_object_mut() {
        map.insert("fiscalCode".into(), json!(position.body.fiscal_code));
        if !read_back {
            map.insert("fullName".into(), json!(position.body.full_name));
            map.insert(
                "switchToExpired".into(),
                json!(position.body.switch_to_expired),
            );
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_faults_are_used_up_in_order() {
        let mut faults = VecDeque::from([
            Fault::ServerError {
                count: 2,
                status: 503,
            },
            Fault::Timeout { count: 1 },
        ]);
        let taken: Vec<Option<Fault>> = (0..4).map(|_| next_request_fault(&mut faults)).collect();
        assert!(matches!(
            taken[0],
            Some(Fault::ServerError { status: 503, .. })
        ));
        assert!(matches!(
            taken[1],
            Some(Fault::ServerError { status: 503, .. })
        ));
        assert!(matches!(taken[2], Some(Fault::Timeout { .. })));
        assert_eq!(taken[3], None);
    }

    #[test]
    fn faults_read_from_json() {
        let fault: Fault =
            serde_json::from_str(r#"{"fault":"server_error","count":2,"status":429}"#)
                .expect("fault");
        assert_eq!(
            fault,
            Fault::ServerError {
                count: 2,
                status: 429
            }
        );
        let fault: Fault = serde_json::from_str(r#"{"fault":"wrong_digest"}"#).expect("fault");
        assert_eq!(fault, Fault::WrongDigest);
    }

    #[test]
    fn amounts_are_written_the_italian_way() {
        assert_eq!(euro_text(1652), "€ 16,52");
        assert_eq!(euro_text(123_456), "€ 1.234,56");
        assert_eq!(euro_text(5), "€ 0,05");
    }
}
