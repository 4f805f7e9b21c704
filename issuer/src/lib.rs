//! The issuing side of Sigillo: the catalogue of certificate kinds, the
//! comune's registry data, stamp duty and payments, rendering to PDF, PDF
//! signing and the registry of issued certificates.
//!
//! [`prepare::prepare`] makes one certificate: the issuance controls
//! ([`eligibility`]), its content, the seal, the QR code checked by decoding
//! it back, the PDF ([`pdf`]) and its PAdES electronic seal
//! ([`pades::sign_pdf`]). The [`store`] keeps the registry data (SQLite or
//! PostgreSQL) with its CSV importers and the registry of issued
//! certificates; [`cf`] ties a codice fiscale to a person's data; [`demo`]
//! is the fictional demo comune.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let store = store::Store::connect("sqlite:sigillo.db?mode=rwc").await?;
//! store::demo::load(&store).await?;
//! let demo = store::demo::code();
//! let found = store.search_people(demo, "rossi", 10).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod catalogue;
pub mod content;
pub mod eligibility;

pub mod prepare;

pub mod fees;

pub mod register;
pub mod requests;
pub mod templates;
