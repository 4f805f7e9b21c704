//! The pagoPA adapter: the comune's side of the platform's REST APIs, over
//! HTTPS with the subscription key of the comune's (or its broker's) API
//! product. Bollo virtuale is an ordinary debt position on GPD, paid
//! through pagoPA Checkout and confirmed by its receipt; the marca da
//! bollo digitale goes through the MBD service, bound to the SHA-256 of
//! the document.
//!
//! Every call has a timeout and is retried, with exponential backoff and
//! jitter, on connection failures, timeouts, 5xx and 429; never on another
//! 4xx. Retrying a creation is safe: a debt position is keyed by its
//! `iupd`, and an MBD order that was created but whose answer was lost
//! leaves only an unpaid notice nobody is sent to.
//!
//! Error bodies go to `tracing` with fiscal codes and e-mail addresses
//! masked; nothing here logs a debtor's data.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode, Url};
use seal::CodiceFiscale;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::amount;
use super::notice::NoticeNumber;
use super::wire::{
    CartNotice, CartRequest, CartResponse, CartReturnUrls, MbdContent, MbdNotice, MbdReceipt,
    MbdRequest, PaymentOption, PaymentPosition, PositionResponse, Problem, ReturnUrls, Transfer,
};
use super::xml;

/// Where the pagoPA APIs are and how to call them.
#[derive(Clone, PartialEq, Eq)]
pub struct PagoPaConfig {
    /// GPD debt positions, e.g.
    /// `https://api.platform.pagopa.it/gpd/debt-positions-service/v1`.
    pub gpd_base_url: String,
    /// GPD receipts, e.g.
    /// `https://api.platform.pagopa.it/gpd/payments-receipts-service/v1`.
    pub payments_base_url: String,
    /// The marca da bollo digitale service, e.g.
    /// `https://api.platform.pagopa.it/pagopa-mbd-service/v1`.
    pub mbd_base_url: String,
    /// pagoPA Checkout, e.g. `https://api.platform.pagopa.it/checkout`:
    /// payers of a bollo virtuale are sent where its carts API
    /// (`<checkout_base_url>/ec/v1/carts`, [`PagoPa::checkout_cart`])
    /// redirects. The emulator also serves a payment page per notice at
    /// `<checkout_base_url>/<notice number>?returnUrl=<return URL>`.
    pub checkout_base_url: String,
    /// The `Ocp-Apim-Subscription-Key` of the API product.
    pub subscription_key: String,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
    /// Attempts after the first, on failures worth retrying.
    pub max_retries: u32,
    /// `idCIService` of the MBD service: the comune's marca da bollo
    /// service as registered on the platform.
    pub service_id: String,
    /// The category (taxonomy code, `dati specifici di riscossione`) of the
    /// transfer of a bollo virtuale position.
    pub transfer_category: String,
}

impl PagoPaConfig {
    /// The configuration for an emulator mounted at `base`, e.g.
    /// `http://127.0.0.1:8080/sandbox/pagopa` (see
    /// [`crate::emulator::Emulator::router_at`]).
    pub fn emulator(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self {
            gpd_base_url: format!("{base}/gpd"),
            payments_base_url: base.to_owned(),
            mbd_base_url: format!("{base}/mbd"),
            checkout_base_url: format!("{base}/checkout"),
            subscription_key: "emulator".to_owned(),
            timeout: Duration::from_secs(5),
            max_retries: 2,
            service_id: "00005".to_owned(),
            transfer_category: DEFAULT_TRANSFER_CATEGORY.to_owned(),
        }
    }
}

/// The taxonomy code the emulator configuration uses; a comune takes its
/// own from the platform's taxonomy of collection services.
pub const DEFAULT_TRANSFER_CATEGORY: &str = "9/0101108TS/";

impl fmt::Debug for PagoPaConfig {
    // The subscription key is a credential: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagoPaConfig")
            .field("gpd_base_url", &self.gpd_base_url)
            .field("payments_base_url", &self.payments_base_url)
            .field("mbd_base_url", &self.mbd_base_url)
            .field("checkout_base_url", &self.checkout_base_url)
            .field("subscription_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("service_id", &self.service_id)
            .field("transfer_category", &self.transfer_category)
            .finish()
    }
}

/// Why a call to pagoPA failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagoPaError {
    /// Every attempt timed out.
    #[error("pagoPA did not answer in time")]
    Timeout,
    /// The service failed (5xx, 429) or could not be reached (no status)
    /// on every attempt.
    #[error("pagoPA is unavailable (last status {status:?})")]
    Unavailable {
        /// The last HTTP status, if an answer came at all.
        status: Option<u16>,
    },
    /// The service refused the request (a 4xx other than those handled).
    #[error("pagoPA refused the request ({status}): {detail}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The service's explanation, with personal data masked.
        detail: String,
    },
    /// The iupd is already taken by a position that is not this order (or
    /// that can no longer be paid).
    #[error("pagoPA holds a different debt position under this iupd")]
    Conflict,
    /// The position is paid and cannot be invalidated: fetch its receipt.
    #[error("the debt position is already paid")]
    AlreadyPaid,
    /// An answer that does not have the documented shape.
    #[error("pagoPA answered with something unexpected: {0}")]
    MalformedResponse(String),
    /// The client cannot be built from this configuration.
    #[error("pagoPA client configuration: {0}")]
    Config(String),
    /// The order cannot be sent as it is (e.g. a marca without the payer's
    /// e-mail, a document hash that is not base64 SHA-256).
    #[error("the payment order is not valid: {0}")]
    InvalidOrder(String),
}

/// The MBD service's `/info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AppInfo {
    /// Service name.
    #[serde(default)]
    pub name: String,
    /// Service version.
    #[serde(default)]
    pub version: String,
    /// Environment; `emulator` for the emulator, which a server in
    /// production mode must refuse.
    #[serde(default)]
    pub environment: String,
}

/// The person a payment is asked of.
#[derive(Clone, PartialEq, Eq)]
pub struct Debtor {
    /// Codice fiscale.
    pub fiscal_code: CodiceFiscale,
    /// Name and surname, as the payment notice shows them.
    pub full_name: String,
    /// E-mail for the platform's receipt (required by the marca da bollo).
    pub email: Option<String>,
}

impl fmt::Debug for Debtor {
    // Personal data: debug output (and so any log of an order) shows only
    // the shape of the fiscal code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Debtor")
            .field("fiscal_code", &self.fiscal_code)
            .field("full_name", &"<redacted>")
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A bollo virtuale payment to open: a GPD debt position of one payment
/// option with one transfer of the whole amount to the comune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualeOrder {
    /// The position's unique id, the idempotency key: the same order sent
    /// twice is one position.
    pub iupd: String,
    /// The notice number (its IUV goes on the certificate).
    pub notice: NoticeNumber,
    /// Stamp duty plus diritti, in cents.
    pub amount_cents: i64,
    /// Who owes it.
    pub debtor: Debtor,
    /// What is paid for, as the payer sees it (at most 140 characters).
    pub description: String,
    /// Until when it can be paid; the position expires after.
    pub due: OffsetDateTime,
    /// Where the checkout sends the payer back, with `outcome=ok` or
    /// `outcome=cancelled` added to its query.
    pub return_url: String,
    /// The creditor's name as the payer sees it, e.g. `Comune di Roma`.
    pub company_name: String,
    /// The comune's IBAN the transfer is credited to.
    pub iban: String,
}

/// A marca da bollo digitale to buy, bound to a document's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarcaOrder {
    /// Who buys it (the service needs the e-mail).
    pub payer: Debtor,
    /// The duty, in cents (1600).
    pub amount_cents: i64,
    /// The payer's province of residence, two capital letters.
    pub province: String,
    /// Base64 of the SHA-256 of the final document: 44 characters.
    pub document_hash: String,
    /// Where the checkout sends the payer back, with `outcome=ok`,
    /// `outcome=cancelled` or `outcome=error` added to its query.
    pub return_url: String,
}

/// A notice to pay through pagoPA Checkout's carts API (`POST /carts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartOrder {
    /// The notice to pay.
    pub notice: NoticeNumber,
    /// The creditor's fiscal code (11 digits).
    pub creditor_fiscal_code: String,
    /// The amount, in cents, as the debt position states it.
    pub amount_cents: i64,
    /// The creditor's name as the payer sees it (at most 140 characters).
    pub company_name: String,
    /// What is paid for (at most 140 characters).
    pub description: String,
    /// Where Checkout sends the payer back: the return address, to which
    /// `outcome=ok`, `outcome=cancelled` or `outcome=error` is added.
    pub return_url: String,
    /// Where Checkout sends the payment's receipt, if given.
    pub email: Option<String>,
}

/// A payment opened: its notice number and where to send the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedPayment {
    /// The notice number (for a marca, the service's `nav`).
    pub notice: NoticeNumber,
    /// The checkout page for the payer.
    pub checkout_url: String,
}

/// A pagoPA receipt (`ctReceiptV2`), its strings as received, for the
/// checks of [`crate::receipt`].
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentReceipt {
    /// `receiptId`, unique per receipt.
    pub receipt_id: String,
    /// `noticeNumber`.
    pub notice_number: String,
    /// `creditorReferenceId`: the IUV.
    pub iuv: String,
    /// `fiscalCode`: the creditor.
    pub creditor_fiscal_code: String,
    /// `debtor/uniqueIdentifier/entityUniqueIdentifierValue`.
    pub debtor_fiscal_code: String,
    /// `paymentAmount`, in cents.
    pub amount_cents: i64,
    /// `outcome` is `OK`.
    pub outcome_ok: bool,
    /// `paymentDateTime`, UTC.
    pub paid_at: OffsetDateTime,
    /// `PSPCompanyName`: who collected the payment.
    pub psp: String,
}

impl fmt::Debug for PaymentReceipt {
    // The debtor's fiscal code is personal data: only its first characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let debtor: String = self.debtor_fiscal_code.chars().take(3).collect();
        f.debug_struct("PaymentReceipt")
            .field("receipt_id", &self.receipt_id)
            .field("notice_number", &self.notice_number)
            .field("iuv", &self.iuv)
            .field("creditor_fiscal_code", &self.creditor_fiscal_code)
            .field("debtor_fiscal_code", &format_args!("{debtor}…"))
            .field("amount_cents", &self.amount_cents)
            .field("outcome_ok", &self.outcome_ok)
            .field("paid_at", &self.paid_at)
            .field("psp", &self.psp)
            .finish()
    }
}

impl PaymentReceipt {
    /// Reads a receipt document: a `paSendRTV2` request (as the receipts
    /// service returns it) or a bare `ctReceiptV2`.
    pub fn from_xml(document: &str) -> Result<Self, PagoPaError> {
        let root = xml::parse(document).map_err(malformed("receipt XML"))?;
        let receipt = if root.child("receiptId").is_some() {
            &root
        } else {
            root.find("receipt")
                .ok_or_else(|| PagoPaError::MalformedResponse("no receipt element".into()))?
        };
        let field = |path: &[&str]| -> Result<String, PagoPaError> {
            receipt
                .text_at(path)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    PagoPaError::MalformedResponse(format!("receipt without {}", path.join("/")))
                })
        };
        let amount_text = field(&["paymentAmount"])?;
        let paid_text = field(&["paymentDateTime"])?;
        Ok(Self {
            receipt_id: field(&["receiptId"])?,
            notice_number: field(&["noticeNumber"])?,
            iuv: field(&["creditorReferenceId"])?,
            creditor_fiscal_code: field(&["fiscalCode"])?,
            debtor_fiscal_code: field(&[
                "debtor",
                "uniqueIdentifier",
                "entityUniqueIdentifierValue",
            ])?,
            amount_cents: amount::parse_cents(&amount_text).ok_or_else(|| {
                PagoPaError::MalformedResponse(format!("receipt amount {amount_text:?}"))
            })?,
            outcome_ok: field(&["outcome"])? == "OK",
            paid_at: xml::parse_date_time(&paid_text).ok_or_else(|| {
                PagoPaError::MalformedResponse(format!("receipt time {paid_text:?}"))
            })?,
            psp: field(&["PSPCompanyName"])?,
        })
    }
}

/// A marca da bollo digitale: the Agenzia delle Entrate stamp
/// (`MarcaDaBollo.xsd`) the MBD service returns once paid.
///
/// The stamp carries an XML signature of the Agenzia delle Entrate, which
/// is not checked here: we hold no certificate of the Agenzia to check it
/// against. The stamp is trusted because it comes from the pagoPA API,
/// authenticated by its subscription key, over TLS; what is checked is
/// that it binds our document ([`crate::receipt::check_marca`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarcaReceipt {
    /// `IUBD`: the stamp's identifier, opaque.
    pub iubd: String,
    /// `Importo`, in cents.
    pub amount_cents: i64,
    /// `ImprontaDocumento/DigestValue`: base64 of the SHA-256 of the
    /// document the stamp is bound to.
    pub digest: String,
    /// `OraAcquisto`, UTC.
    pub purchased_at: OffsetDateTime,
    /// `PSP/Denominazione`: who sold the stamp.
    pub psp: String,
    /// The notice number (`nav`) the stamp was fetched for: the stamp
    /// itself does not carry it.
    pub notice_number: String,
}

impl MarcaReceipt {
    /// Reads the Agenzia delle Entrate stamp XML, fetched for `nav`.
    pub fn from_xml(document: &str, nav: &NoticeNumber) -> Result<Self, PagoPaError> {
        let root = xml::parse(document).map_err(malformed("stamp XML"))?;
        if root.name != "marcaDaBollo" {
            return Err(PagoPaError::MalformedResponse(format!(
                "stamp root element {:?}",
                root.name
            )));
        }
        let field = |path: &[&str]| -> Result<String, PagoPaError> {
            root.text_at(path)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    PagoPaError::MalformedResponse(format!("stamp without {}", path.join("/")))
                })
        };
        let amount_text = field(&["Importo"])?;
        let time_text = field(&["OraAcquisto"])?;
        Ok(Self {
            iubd: field(&["IUBD"])?,
            amount_cents: amount::parse_cents(&amount_text).ok_or_else(|| {
                PagoPaError::MalformedResponse(format!("stamp amount {amount_text:?}"))
            })?,
            digest: field(&["ImprontaDocumento", "DigestValue"])?,
            purchased_at: xml::parse_date_time(&time_text).ok_or_else(|| {
                PagoPaError::MalformedResponse(format!("stamp time {time_text:?}"))
            })?,
            psp: field(&["PSP", "Denominazione"])?,
            notice_number: nav.as_str().to_owned(),
        })
    }
}

/// The pagoPA client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct PagoPa {
    http: reqwest::Client,
    config: Arc<PagoPaConfig>,
}

impl fmt::Debug for PagoPa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagoPa")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The header of the platform's API keys (`securitySchemes` of every
/// published document).
const SUBSCRIPTION_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";
/// The first pause between attempts; it doubles each time, up to
/// [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// Error explanations kept for logs and errors, in characters.
const DETAIL_LIMIT: usize = 300;

/// An answer worth reading: a status that is not retried, and its body.
struct Answer {
    status: StatusCode,
    body: String,
    /// The `Location` header, for the carts API's redirect.
    location: Option<String>,
}

impl PagoPa {
    /// A client for `config`.
    pub fn new(config: PagoPaConfig) -> Result<Self, PagoPaError> {
        for (name, url) in [
            ("gpd_base_url", &config.gpd_base_url),
            ("payments_base_url", &config.payments_base_url),
            ("mbd_base_url", &config.mbd_base_url),
            ("checkout_base_url", &config.checkout_base_url),
        ] {
            let parsed =
                Url::parse(url).map_err(|e| PagoPaError::Config(format!("{name} {url:?}: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(PagoPaError::Config(format!("{name} must be http(s)")));
            }
        }
        if config.timeout.is_zero() {
            return Err(PagoPaError::Config("timeout must be above zero".into()));
        }
        // Redirects are answers, not hops: the carts API's 302 names the
        // checkout page for the payer, and no other call expects one.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("sigillo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PagoPaError::Config(e.to_string()))?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &PagoPaConfig {
        &self.config
    }

    /// The MBD service's `GET /info`: which service and environment answer.
    pub async fn info(&self) -> Result<AppInfo, PagoPaError> {
        let url = join(&self.config.mbd_base_url, &["info"])?;
        let answer = self.call("info", Method::GET, url, None).await?;
        if !answer.status.is_success() {
            return Err(rejected("info", &answer));
        }
        parse_json(&answer.body, "info")
    }

    /// Opens a bollo virtuale payment: creates and publishes its debt
    /// position. Sending the same order again is harmless: the service
    /// answers 409 for the iupd, the position is read back and compared
    /// (notice, amount, debtor when shown), and the same payment returned;
    /// a different position under the iupd is [`PagoPaError::Conflict`].
    pub async fn open_virtuale(
        &self,
        creditor_fiscal_code: &str,
        order: &VirtualeOrder,
    ) -> Result<OpenedPayment, PagoPaError> {
        check_virtuale_order(order)?;
        let body = position_body(creditor_fiscal_code, order, &self.config.transfer_category);
        let mut url = join(
            &self.config.gpd_base_url,
            &["organizations", creditor_fiscal_code, "debtpositions"],
        )?;
        url.query_pairs_mut().append_pair("toPublish", "true");
        let body = serde_json::to_string(&body).map_err(|e| PagoPaError::Config(e.to_string()))?;
        let answer = self
            .call("create debt position", Method::POST, url, Some(body))
            .await?;
        match answer.status {
            status if status.is_success() => {}
            StatusCode::CONFLICT => {
                let existing = self.position(creditor_fiscal_code, &order.iupd).await?;
                match existing {
                    Some(existing) if same_position(&existing, order) => {}
                    _ => return Err(PagoPaError::Conflict),
                }
            }
            _ => return Err(rejected("create debt position", &answer)),
        }
        Ok(OpenedPayment {
            notice: order.notice,
            checkout_url: self.checkout_url(&order.notice, &order.return_url)?,
        })
    }

    /// Puts `order`'s notice in a pagoPA Checkout cart and answers the
    /// checkout page to send the payer to (the `Location` of the carts
    /// API's 302). A cart may be made again for the same notice (a reload,
    /// a second click): it is the same notice, which pagoPA lets be paid
    /// once.
    pub async fn checkout_cart(&self, order: &CartOrder) -> Result<String, PagoPaError> {
        let clip = |text: &str| text.chars().take(140).collect::<String>();
        let back = |outcome| with_outcome(&order.return_url, outcome);
        let body = CartRequest {
            email_notice: order.email.clone().filter(|email| email.contains('@')),
            payment_notices: vec![CartNotice {
                notice_number: order.notice.as_str().to_owned(),
                fiscal_code: order.creditor_fiscal_code.clone(),
                amount: order.amount_cents,
                company_name: clip(&order.company_name),
                description: clip(&order.description),
            }],
            return_urls: CartReturnUrls {
                return_ok_url: back("ok")?,
                return_cancel_url: back("cancelled")?,
                return_error_url: back("error")?,
            },
            id_cart: None,
        };
        let body = serde_json::to_string(&body).map_err(|e| PagoPaError::Config(e.to_string()))?;
        let url = join(&self.config.checkout_base_url, &["ec", "v1", "carts"])?;
        let answer = self
            .call("create checkout cart", Method::POST, url, Some(body))
            .await?;
        if !answer.status.is_redirection() {
            return Err(rejected("create checkout cart", &answer));
        }
        let location = answer.location.ok_or_else(|| {
            PagoPaError::MalformedResponse(
                "create checkout cart: a redirect without Location".into(),
            )
        })?;
        let parsed = Url::parse(&location).map_err(|e| {
            PagoPaError::MalformedResponse(format!("create checkout cart: Location {e}"))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PagoPaError::MalformedResponse(
                "create checkout cart: Location is not http(s)".into(),
            ));
        }
        Ok(location)
    }

    /// The receipt of a bollo virtuale payment, if there is one yet.
    pub async fn virtuale_receipt(
        &self,
        creditor_fiscal_code: &str,
        notice: &NoticeNumber,
    ) -> Result<Option<PaymentReceipt>, PagoPaError> {
        let url = join(
            &self.config.payments_base_url,
            &["payments", creditor_fiscal_code, "receipts", notice.iuv()],
        )?;
        let answer = self.call("receipt", Method::GET, url, None).await?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => PaymentReceipt::from_xml(&answer.body).map(Some),
            _ => Err(rejected("receipt", &answer)),
        }
    }

    /// Invalidates a debt position, so it can no longer be paid. An unknown
    /// position, or one already invalid or expired, is fine; a paid one is
    /// [`PagoPaError::AlreadyPaid`].
    pub async fn invalidate(
        &self,
        creditor_fiscal_code: &str,
        iupd: &str,
    ) -> Result<(), PagoPaError> {
        let url = join(
            &self.config.gpd_base_url,
            &[
                "organizations",
                creditor_fiscal_code,
                "debtpositions",
                iupd,
                "invalidate",
            ],
        )?;
        let answer = self
            .call("invalidate debt position", Method::POST, url, None)
            .await?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(()),
            status if status.is_success() => Ok(()),
            StatusCode::CONFLICT => match self.position(creditor_fiscal_code, iupd).await? {
                None => Ok(()),
                Some(position) => match position.status.as_deref() {
                    Some("INVALID" | "EXPIRED") => Ok(()),
                    Some("PAID" | "PARTIALLY_PAID" | "REPORTED") => Err(PagoPaError::AlreadyPaid),
                    _ => Err(PagoPaError::Conflict),
                },
            },
            _ => Err(rejected("invalidate debt position", &answer)),
        }
    }

    /// Buys a marca da bollo digitale: the MBD service makes the notice and
    /// the checkout cart.
    pub async fn open_marca(
        &self,
        creditor_fiscal_code: &str,
        order: &MarcaOrder,
    ) -> Result<OpenedPayment, PagoPaError> {
        let body = mbd_body(order, &self.config.service_id)?;
        let url = join(
            &self.config.mbd_base_url,
            &["organizations", creditor_fiscal_code, "mbd"],
        )?;
        let body = serde_json::to_string(&body).map_err(|e| PagoPaError::Config(e.to_string()))?;
        let answer = self
            .call("create marca da bollo", Method::POST, url, Some(body))
            .await?;
        if !answer.status.is_success() {
            return Err(rejected("create marca da bollo", &answer));
        }
        let cart: CartResponse = parse_json(&answer.body, "create marca da bollo")?;
        let notice = NoticeNumber::parse(&cart.nav)
            .map_err(|e| PagoPaError::MalformedResponse(format!("nav {:?}: {e}", cart.nav)))?;
        Url::parse(&cart.checkout_redirect_url).map_err(|e| {
            PagoPaError::MalformedResponse(format!("checkoutRedirectUrl is not a URL: {e}"))
        })?;
        Ok(OpenedPayment {
            notice,
            checkout_url: cart.checkout_redirect_url,
        })
    }

    /// The stamp of a marca da bollo digitale, once paid.
    pub async fn marca_receipt(
        &self,
        creditor_fiscal_code: &str,
        nav: &NoticeNumber,
    ) -> Result<Option<MarcaReceipt>, PagoPaError> {
        let url = join(
            &self.config.mbd_base_url,
            &[
                "organizations",
                creditor_fiscal_code,
                "receipt",
                nav.as_str(),
            ],
        )?;
        let answer = self.call("marca receipt", Method::GET, url, None).await?;
        match answer.status {
            StatusCode::NOT_FOUND => return Ok(None),
            status if status.is_success() => {}
            _ => return Err(rejected("marca receipt", &answer)),
        }
        let receipt: MbdReceipt = parse_json(&answer.body, "marca receipt")?;
        let encoded = match receipt.content {
            MbdContent::One(text) => text,
            MbdContent::Many(parts) => parts.concat(),
        };
        let compact: String = encoded.split_whitespace().collect();
        let bytes = BASE64
            .decode(compact.as_bytes())
            .map_err(|e| PagoPaError::MalformedResponse(format!("stamp content base64: {e}")))?;
        let document = String::from_utf8(bytes)
            .map_err(|_| PagoPaError::MalformedResponse("stamp content is not UTF-8".into()))?;
        MarcaReceipt::from_xml(&document, nav).map(Some)
    }

    /// A debt position read back, if it exists.
    async fn position(
        &self,
        creditor_fiscal_code: &str,
        iupd: &str,
    ) -> Result<Option<PositionResponse>, PagoPaError> {
        let url = join(
            &self.config.gpd_base_url,
            &["organizations", creditor_fiscal_code, "debtpositions", iupd],
        )?;
        let answer = self
            .call("read debt position", Method::GET, url, None)
            .await?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                parse_json(&answer.body, "read debt position").map(Some)
            }
            _ => Err(rejected("read debt position", &answer)),
        }
    }

    fn checkout_url(&self, notice: &NoticeNumber, return_url: &str) -> Result<String, PagoPaError> {
        let mut url = join(&self.config.checkout_base_url, &[notice.as_str()])?;
        url.query_pairs_mut().append_pair("returnUrl", return_url);
        Ok(url.into())
    }

    /// One call with its retries: returns the first answer that is not
    /// worth retrying, or the error of the last attempt.
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        json_body: Option<String>,
    ) -> Result<Answer, PagoPaError> {
        let mut attempt = 0u32;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(SUBSCRIPTION_KEY_HEADER, &self.config.subscription_key);
            if let Some(body) = &json_body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let location = response
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned);
                    match response.text().await {
                        Ok(body) if !retryable(status) => {
                            return Ok(Answer {
                                status,
                                body,
                                location,
                            });
                        }
                        Ok(body) => {
                            tracing::warn!(
                                operation,
                                status = status.as_u16(),
                                detail = %problem_detail(&body),
                                attempt,
                                "pagoPA failed, retrying"
                            );
                            PagoPaError::Unavailable {
                                status: Some(status.as_u16()),
                            }
                        }
                        Err(error) => transport_failure(operation, attempt, &error),
                    }
                }
                Err(error) if error.is_builder() => {
                    return Err(PagoPaError::Config(error.to_string()));
                }
                Err(error) => transport_failure(operation, attempt, &error),
            };
            if attempt >= self.config.max_retries {
                return Err(failure);
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

fn transport_failure(operation: &'static str, attempt: u32, error: &reqwest::Error) -> PagoPaError {
    // reqwest's messages name the URL, which holds no personal data (the
    // creditor's code and the IUV or iupd only).
    tracing::warn!(operation, attempt, error = %error, "pagoPA could not be reached");
    if error.is_timeout() {
        PagoPaError::Timeout
    } else {
        PagoPaError::Unavailable { status: None }
    }
}

/// The pause after attempt `attempt` (0-based): base × 2^attempt, capped,
/// plus up to half as much again at random, so clients that failed
/// together do not retry together.
fn backoff(attempt: u32) -> Duration {
    let exponential = BACKOFF_BASE
        .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP);
    let mut random = [0u8; 4];
    // Without randomness the pause is just not spread: no need to fail.
    let _ = getrandom::getrandom(&mut random);
    let fraction = f64::from(u32::from_le_bytes(random)) / f64::from(u32::MAX);
    exponential + exponential.mul_f64(fraction / 2.0)
}

/// `base` with `segments` appended, each percent-encoded.
fn join(base: &str, segments: &[&str]) -> Result<Url, PagoPaError> {
    let mut url = Url::parse(base).map_err(|e| PagoPaError::Config(format!("{base:?}: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| PagoPaError::Config(format!("{base:?} cannot take a path")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &str, what: &str) -> Result<T, PagoPaError> {
    serde_json::from_str(body).map_err(|e| PagoPaError::MalformedResponse(format!("{what}: {e}")))
}

fn malformed(what: &'static str) -> impl Fn(String) -> PagoPaError {
    move |error| PagoPaError::MalformedResponse(format!("{what}: {error}"))
}

fn rejected(operation: &'static str, answer: &Answer) -> PagoPaError {
    let detail = problem_detail(&answer.body);
    tracing::warn!(
        operation,
        status = answer.status.as_u16(),
        detail = %detail,
        "pagoPA refused the request"
    );
    PagoPaError::Rejected {
        status: answer.status.as_u16(),
        detail,
    }
}

/// What an error body says, for logs: the ProblemJson's title and detail
/// if it is one, else the start of the body; fiscal codes and e-mail
/// addresses masked, at most [`DETAIL_LIMIT`] characters.
fn problem_detail(body: &str) -> String {
    let text = match serde_json::from_str::<Problem>(body) {
        Ok(problem) if problem.title.is_some() || problem.detail.is_some() => {
            let parts: Vec<String> = [problem.title, problem.detail]
                .into_iter()
                .flatten()
                .collect();
            parts.join(": ")
        }
        _ => body.to_owned(),
    };
    let masked = mask_personal_data(&text);
    masked.chars().take(DETAIL_LIMIT).collect()
}

/// Masks words that look like a codice fiscale or an e-mail address.
pub(crate) fn mask_personal_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains('@') {
            out.push_str("[e-mail]");
        } else if word.len() == 16 && CodiceFiscale::parse(word).is_ok() {
            out.push_str("[codice fiscale]");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() || matches!(ch, '@' | '.' | '_' | '-' | '+') {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Checks what GPD would refuse, before sending.
fn check_virtuale_order(order: &VirtualeOrder) -> Result<(), PagoPaError> {
    let invalid = |what: &str| Err(PagoPaError::InvalidOrder(what.to_owned()));
    if order.iupd.trim().is_empty() {
        return invalid("empty iupd");
    }
    if order.amount_cents < 1 {
        return invalid("amount below one cent");
    }
    if order.description.trim().is_empty() || order.description.chars().count() > 140 {
        return invalid("description must be 1 to 140 characters");
    }
    if order.company_name.trim().is_empty() || order.company_name.chars().count() > 140 {
        return invalid("company name must be 1 to 140 characters");
    }
    if order.debtor.full_name.trim().is_empty() {
        return invalid("debtor without a name");
    }
    if order.iban.is_empty()
        || order.iban.len() > 35
        || !order.iban.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return invalid("IBAN must be 1 to 35 letters and digits");
    }
    check_return_url(&order.return_url)
}

fn check_return_url(url: &str) -> Result<(), PagoPaError> {
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        _ => Err(PagoPaError::InvalidOrder(
            "return URL must be an absolute http(s) URL".into(),
        )),
    }
}

/// The `PaymentPositionModel` of a bollo virtuale order.
fn position_body(creditor: &str, order: &VirtualeOrder, category: &str) -> PaymentPosition {
    let due = order
        .due
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(order.due);
    PaymentPosition {
        iupd: order.iupd.clone(),
        kind: "F".to_owned(),
        fiscal_code: order.debtor.fiscal_code.as_str().to_owned(),
        full_name: order.debtor.full_name.clone(),
        email: order.debtor.email.clone(),
        // An abandoned request's position expires rather than staying
        // payable for a certificate that was never released.
        switch_to_expired: true,
        company_name: order.company_name.clone(),
        payment_option: vec![PaymentOption {
            nav: Some(order.notice.as_str().to_owned()),
            iuv: order.notice.iuv().to_owned(),
            amount: order.amount_cents,
            description: order.description.clone(),
            is_partial_payment: false,
            due_date: due.format(&Rfc3339).unwrap_or_default(),
            transfer: vec![Transfer {
                id_transfer: "1".to_owned(),
                amount: order.amount_cents,
                organization_fiscal_code: Some(creditor.to_owned()),
                remittance_information: order.description.clone(),
                category: category.to_owned(),
                iban: Some(order.iban.clone()),
            }],
        }],
    }
}

/// Whether a position read back is the one `order` would create.
fn same_position(existing: &PositionResponse, order: &VirtualeOrder) -> bool {
    let [option] = existing.payment_option.as_slice() else {
        return false;
    };
    let usable = !matches!(existing.status.as_deref(), Some("INVALID" | "EXPIRED"));
    let same_notice = option.iuv.as_deref() == Some(order.notice.iuv())
        && option
            .nav
            .as_deref()
            .is_none_or(|nav| nav == order.notice.as_str());
    let same_debtor = existing
        .fiscal_code
        .as_deref()
        .is_none_or(|code| code.eq_ignore_ascii_case(order.debtor.fiscal_code.as_str()));
    usable && same_notice && option.amount == Some(order.amount_cents) && same_debtor
}

/// The `GetMbdRequest` of a marca order.
fn mbd_body(order: &MarcaOrder, service_id: &str) -> Result<MbdRequest, PagoPaError> {
    let invalid = |what: &str| PagoPaError::InvalidOrder(what.to_owned());
    if order.amount_cents < 1 {
        return Err(invalid("amount below one cent"));
    }
    let province = order.province.trim();
    if province.len() != 2 || !province.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid("province must be two capital letters"));
    }
    if !is_document_hash(&order.document_hash) {
        return Err(invalid(
            "document hash must be base64 of a SHA-256 (44 characters)",
        ));
    }
    let email = order
        .payer
        .email
        .as_deref()
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .ok_or_else(|| invalid("the marca da bollo needs the payer's e-mail"))?;
    let (first_name, last_name) =
        split_name(&order.payer.full_name).ok_or_else(|| invalid("payer without a name"))?;
    check_return_url(&order.return_url)?;
    Ok(MbdRequest {
        payment_notices: vec![MbdNotice {
            first_name,
            last_name,
            fiscal_code: order.payer.fiscal_code.as_str().to_owned(),
            email: email.to_owned(),
            amount: order.amount_cents,
            province: province.to_owned(),
            document_hash: order.document_hash.clone(),
        }],
        id_ci_service: service_id.to_owned(),
        return_urls: ReturnUrls {
            success_url: with_outcome(&order.return_url, "ok")?,
            cancel_url: with_outcome(&order.return_url, "cancelled")?,
            error_url: with_outcome(&order.return_url, "error")?,
        },
    })
}

/// Whether `hash` is base64 (standard alphabet, padded) of 32 bytes.
pub(crate) fn is_document_hash(hash: &str) -> bool {
    hash.len() == 44
        && BASE64
            .decode(hash.as_bytes())
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// The service wants a first and a last name, both non-blank: the first
/// word, then the rest, which joined with a space give the name back. A
/// name of one word goes as both.
fn split_name(full_name: &str) -> Option<(String, String)> {
    let full_name = full_name.trim();
    if full_name.is_empty() {
        return None;
    }
    Some(match full_name.split_once(char::is_whitespace) {
        Some((first, rest)) => (first.to_owned(), rest.trim().to_owned()),
        None => (full_name.to_owned(), full_name.to_owned()),
    })
}

/// `url` with `outcome=<outcome>` added to its query.
pub(crate) fn with_outcome(url: &str, outcome: &str) -> Result<String, PagoPaError> {
    let mut url = Url::parse(url)
        .map_err(|_| PagoPaError::InvalidOrder("return URL must be an absolute URL".into()))?;
    url.query_pairs_mut().append_pair("outcome", outcome);
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_a_debtor_hides_personal_data() {
        let debtor = Debtor {
            fiscal_code: CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid"),
            full_name: "Mario Rossi".into(),
            email: Some("mario.rossi@example.org".into()),
        };
        let shown = format!("{debtor:?}");
        assert!(!shown.contains("Rossi") && !shown.contains("RSSMRA85") && !shown.contains('@'));
    }

    #[test]
    fn personal_data_is_masked_in_error_details() {
        let text = "debtor RSSMRA85T10A562S (mario.rossi@example.org) not valid; iupd ABC-1";
        assert_eq!(
            mask_personal_data(text),
            "debtor [codice fiscale] ([e-mail]) not valid; iupd ABC-1"
        );
    }

    #[test]
    fn the_backoff_doubles_and_is_capped() {
        for attempt in 0..3 {
            let pause = backoff(attempt);
            let floor = BACKOFF_BASE * 2u32.pow(attempt);
            assert!(pause >= floor && pause <= floor + floor / 2, "{pause:?}");
        }
        assert!(backoff(40) <= BACKOFF_CAP + BACKOFF_CAP / 2);
    }

    #[test]
    fn names_split_so_that_they_join_back() {
        assert_eq!(
            split_name(" Maria Luisa Rossi "),
            Some(("Maria".into(), "Luisa Rossi".into()))
        );
        assert_eq!(split_name("Cher"), Some(("Cher".into(), "Cher".into())));
        assert_eq!(split_name("  "), None);
    }

    #[test]
    fn urls_get_their_segments_encoded() {
        let url = join("http://h/base/", &["a b", "c/d"]).expect("url");
        assert_eq!(url.as_str(), "http://h/base/a%20b/c%2Fd");
        assert_eq!(
            with_outcome("https://x/r?id=1", "ok").expect("url"),
            "https://x/r?id=1&outcome=ok"
        );
    }

    #[test]
    fn document_hashes_are_base64_sha256() {
        let hash = BASE64.encode([7u8; 32]);
        assert!(is_document_hash(&hash));
        assert!(!is_document_hash(&BASE64.encode([7u8; 31])));
        assert!(!is_document_hash(
            "PHJvb3Q+PC9yb290Pg=========================="
        ));
    }
}
