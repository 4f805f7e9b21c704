//! The issuing side of Sigillo: the catalogue of certificate kinds, the
//! comune's registry data, stamp duty and payments, rendering to PDF, PDF
//! signing and the registry of issued certificates.
//!
//! [`issue::prepare`] makes one certificate: the issuance controls
//! ([`eligibility`]), its content, the seal, the QR code checked by decoding
//! it back, the PDF ([`pdf`]) and its PAdES electronic seal
//! ([`pades::sign_pdf`]).
#![warn(missing_docs)]

pub mod catalogue;
pub mod content;
pub mod eligibility;
pub mod fonts;
pub mod issue;
pub mod model;
pub mod pades;
pub mod pdf;
pub mod qr;
pub mod rome;
pub mod templates;
