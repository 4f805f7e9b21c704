//! The SHA-256 of a certificate's final PDF: what the registry keeps (as
//! hex), what a marca da bollo digitale binds (as base64, 44 characters,
//! in `ImprontaDocumento/DigestValue`) and what the verifier recomputes.
//! Parsed once where it enters, so no step re-decodes a string.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest of a document.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentDigest([u8; 32]);

/// Why a text is not a SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("l'impronta del documento non è uno SHA-256 valido")]
pub struct DigestError;

impl DocumentDigest {
    /// The digest of `document`.
    pub fn of(document: &[u8]) -> Self {
        Self(Sha256::digest(document).into())
    }

    /// The digest whose bytes are these.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 hex digits, as the registry stores it.
    pub fn parse_hex(text: &str) -> Result<Self, DigestError> {
        let bytes = hex::decode(text).map_err(|_| DigestError)?;
        Ok(Self(bytes.try_into().map_err(|_| DigestError)?))
    }

    /// Parses standard base64 (44 characters), as pagoPA and the marca
    /// write it.
    pub fn parse_base64(text: &str) -> Result<Self, DigestError> {
        let bytes = STANDARD.decode(text).map_err(|_| DigestError)?;
        Ok(Self(bytes.try_into().map_err(|_| DigestError)?))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Standard base64 with padding, 44 characters.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

/// Hex, as the registry and the command line show it.
impl fmt::Display for DocumentDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for DocumentDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentDigest({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_round_trip_and_other_lengths_are_refused() {
        let digest = DocumentDigest::of(b"documento");
        assert_eq!(DocumentDigest::parse_hex(&digest.to_hex()), Ok(digest));
        assert_eq!(
            DocumentDigest::parse_base64(&digest.to_base64()),
            Ok(digest)
        );
        assert_eq!(digest.to_base64().len(), 44);
        assert_eq!(DocumentDigest::parse_hex("abcd"), Err(DigestError));
        assert_eq!(
            DocumentDigest::parse_base64(&STANDARD.encode([7u8; 31])),
            Err(DigestError)
        );
        assert_eq!(
            DocumentDigest::parse_base64("non base64!"),
            Err(DigestError)
        );
    }
}
