//! pagoPA, the platform a comune collects the stamp duty through: the
//! notice number ([`notice`]), the adapter to the platform's APIs
//! ([`client`]), the checks a receipt passes before it confirms a payment
//! ([`receipt`]), and, with the `emulator` feature, an in-memory pagoPA
//! for development, the demo and the tests (`emulator`).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use pagopa::client::{Debtor, PagoPa, PagoPaConfig, VirtualeOrder};
//! use pagopa::notice::NoticeNumber;
//! use pagopa::receipt::{Expected, check_virtuale};
//!
//! let pagopa = PagoPa::new(PagoPaConfig::emulator("http://127.0.0.1:8080/sandbox/pagopa"))?;
//! let debtor = Debtor {
//!     fiscal_code: seal::CodiceFiscale::parse("RSSMRA85T10A562S")?,
//!     full_name: "Mario Rossi".into(),
//!     email: None,
//! };
//! let order = VirtualeOrder {
//!     iupd: "00000000000-2026-000123".into(),
//!     notice: NoticeNumber::new(1, 123)?,
//!     amount_cents: 1652,
//!     debtor: debtor.clone(),
//!     description: "Certificato di residenza n. 2026/000123".into(),
//!     due: time::OffsetDateTime::now_utc() + time::Duration::days(30),
//!     return_url: "https://certificati.example.it/richieste/123/pagamento".into(),
//!     company_name: "Comune di Borgo Sigillo".into(),
//!     iban: "IT60X0542811101000000123456".into(),
//! };
//! let opened = pagopa.open_virtuale("00000000000", &order).await?;
//! // … the payer pays at opened.checkout_url and comes back …
//! if let Some(receipt) = pagopa.virtuale_receipt("00000000000", &opened.notice).await? {
//!     let expected = Expected {
//!         notice: opened.notice,
//!         creditor_fiscal_code: "00000000000".into(),
//!         debtor_fiscal_code: Some(debtor.fiscal_code),
//!         amount_cents: 1652,
//!         document_hash: None,
//!     };
//!     check_virtuale(&expected, &receipt)?;
//! }
//! # Ok(()) }
//! ```
//!
//! # Against the real platform
//!
//! The base URLs of [`client::PagoPaConfig`] are those of the platform's
//! API gateway for the comune's environment (the published documents name
//! `https://api.platform.pagopa.it/gpd/debt-positions-service/v1`,
//! `…/gpd/payments-receipts-service/v1` and `…/pagopa-mbd-service/v1`),
//! with the subscription key of the comune's (or its broker's) API
//! product, and the comune's `idCIService` and taxonomy category.
//!
//! The marca da bollo digitale needs nothing more: the MBD service returns
//! the checkout URL. The bollo virtuale's debt position does not: the
//! client sends the payer to `<checkout_base_url>/<notice>?returnUrl=…`,
//! which the emulator serves. pagoPA Checkout takes a notice with its
//! return URLs through its carts API instead (`POST /carts`, answered
//! with a redirect), which this adapter does not call yet; until it does,
//! a real deployment points `checkout_base_url` at a page of its own that
//! shows the notice number and the creditor's fiscal code (or the printed
//! notice's QR, [`notice::NoticeNumber::payment_qr_text`]) for the payer
//! to pay on any pagoPA channel, and learns of the payment by polling
//! [`client::PagoPa::virtuale_receipt`].

#![warn(missing_docs)]

pub mod amount;
pub mod client;
#[cfg(feature = "emulator")]
pub mod emulator;
/// The notice number, a `seal` type: the registry and the certificate
/// carry it too.
pub mod notice {
    pub use seal::notice::{NoticeError, NoticeNumber};
}
pub mod receipt;
mod wire;
mod xml;
