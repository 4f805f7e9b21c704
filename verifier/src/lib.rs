//! The checking side of Sigillo: reads seals from text, images and PDFs and
//! checks them with no database and no network, registry status reaching it
//! through a trait.
//!
//! Nothing is here yet: today `seal::verify` checks a seal's text or bytes
//! against a trust list from `keys`; readers for images and PDFs and the
//! status sources build on it.
