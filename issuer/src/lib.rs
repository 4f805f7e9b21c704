//! The issuing side of Sigillo: the catalogue of certificate kinds, the
//! comune's registry data, stamp duty and payments, rendering to PDF, PDF
//! signing and the registry of issued certificates.
#![warn(missing_docs)]

pub mod catalogue;
pub mod content;
pub mod eligibility;
pub mod fonts;
pub mod issue;
pub mod model;
pub mod pdf;
pub mod qr;
pub mod rome;
pub mod templates;
