//! Certificate text to signed PDF: the A4 page ([`pdf`]), the printed
//! seal's QR code checked by decoding it back ([`qr`]), the embedded
//! Titillium Web subsets ([`fonts`]) and the PAdES electronic seal over
//! the finished file ([`pades`]). What a certificate says is the
//! `issuer`'s; this crate only lays it out, prints the seal and signs.
//!
//! ```no_run
//! # fn example(
//! #     page: &render::pdf::CertificatePage,
//! #     signer: &keys::KeySigner,
//! #     options: &render::pades::SignOptions,
//! # ) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//! let unsigned = render::pdf::render(page)?;
//! let signed = render::pades::sign_pdf(&unsigned, signer, options)?;
//! # Ok(signed) }
//! ```
#![warn(missing_docs)]

pub mod fonts;
pub mod notice;
pub mod pades;
pub mod pdf;
pub mod qr;
