//! The domain of Sigillo: what a comune may certify and how. The
//! catalogue of certificate kinds ([`catalogue`]), ANPR's issuance controls
//! ([`eligibility`]), the content and its templates ([`content`],
//! [`templates`]), the fees and exemptions ([`fees`]), preparing one
//! certificate ([`prepare`]: content, seal, QR code, PDF, PAdES) and
//! registering it with its number ([`register`]), the request flow with
//! the stamp duty paid through pagoPA first ([`requests`]), revoking and
//! superseding ([`withdraw`]), and what the comune publishes for verifiers
//! ([`publish`]).
//!
//! The database is the `store` crate's, pagoPA the `pagopa` crate's, the
//! PDF the `render` crate's; no HTTP here: the `web` crate calls these.
//!
//! ```no_run
//! # async fn example(issuer: issuer::register::Issuer, issuance: issuer::register::Issuance)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! let issued = issuer.issue(&issuance).await?;
//! println!("n. {} at {}", issued.record.number, issued.verification_url);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod catalogue;
pub mod content;
pub mod eligibility;

pub mod prepare;
pub mod publish;

pub mod fees;
pub mod notifications;
pub mod opendata;

pub mod register;
pub mod requests;
pub mod staff;
pub mod templates;
pub mod withdraw;
