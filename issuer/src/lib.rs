//! The issuing side of Sigillo: the catalogue of certificate kinds, the
//! comune's registry data, stamp duty and payments, rendering to PDF, PDF
//! signing and the registry of issued certificates.
//!
//! Today it holds the data side: the [`model`] of what issuance reads, the
//! [`store`] that keeps it (SQLite or PostgreSQL) with its CSV importers,
//! the [`cf`] rules that tie a codice fiscale to a person's data, and the
//! [`demo`] comune.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let store = issuer::store::Store::connect("sqlite:sigillo.db?mode=rwc").await?;
//! issuer::demo::load(&store).await?;
//! let demo = issuer::demo::code();
//! let found = store.search_people(demo, "rossi", 10).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod anpr;
pub mod cf;
pub mod demo;
pub mod model;
pub mod store;
