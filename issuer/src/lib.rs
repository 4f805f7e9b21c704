//! The issuing side of Sigillo: the catalogue of certificate kinds, the
//! comune's registry data, stamp duty and payments, rendering to PDF, PDF
//! signing and the registry of issued certificates.
//!
//! What is here so far is the PDF's electronic seal: [`pades::sign_pdf`]
//! adds a PAdES signature by the comune's seal signer to a rendered PDF.
//! The catalogue, registry data, rendering and payments build on the seal
//! format (`seal`) and keys (`keys`) and come next.
#![warn(missing_docs)]

pub mod pades;
