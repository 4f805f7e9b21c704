//! The signed documents the verifier loads besides seals — the status list
//! and the trust list — as COSE_Sign1 messages (RFC 9052) with ES256, a
//! `kid` and a `typ` (label 16, RFC 9596) in the protected header.
//!
//! Seals themselves are never read here: `seal::verify` checks them. These
//! documents differ from a seal in their `typ` and payload, so they get
//! this small reader over `coset`; the ECDSA check is the `keys` crate's,
//! through [`seal::Es256Verifier`].

use coset::cbor::value::Value;
use coset::{
    CoseSign1, CoseSign1Builder, HeaderBuilder, Label, RegisteredLabelWithPrivate,
    TaggedCborSerializable as _, iana,
};
use seal::{Es256Verifier, Kid, SealSigner, SignerError};

/// The COSE header label of `typ` (RFC 9596).
const TYP_LABEL: i64 = 16;

/// Why a signed document could not be read or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoseError {
    /// Not a tagged COSE_Sign1 in well-formed CBOR.
    #[error("not a tagged COSE_Sign1: {0}")]
    Malformed(String),
    /// A header is missing or has the wrong value.
    #[error("header: {0}")]
    Header(&'static str),
    /// The signature does not match the key.
    #[error("the signature does not match")]
    BadSignature,
}

/// Signs `payload` into a tagged COSE_Sign1 with ES256, the signer's kid
/// and `typ` in the protected header.
pub(crate) fn sign(
    payload: Vec<u8>,
    typ: &str,
    signer: &dyn SealSigner,
) -> Result<Vec<u8>, SignerError> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(signer.kid().0.to_vec())
        .value(TYP_LABEL, Value::Text(typ.to_owned()))
        .build();
    let message = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .try_create_signature(b"", |to_be_signed| {
            signer
                .sign_es256(to_be_signed)
                .map(|signature| signature.to_vec())
        })?
        .build();
    message
        .to_tagged_vec()
        .map_err(|e| SignerError(e.to_string()))
}

/// A signed document whose headers have been read, with no trust placed in
/// it: it names its signer and nothing else.
#[derive(Debug, Clone)]
pub(crate) struct Unverified {
    kid: Kid,
    message: CoseSign1,
}

impl Unverified {
    /// Reads a tagged COSE_Sign1 and checks its protected header: ES256,
    /// an eight-byte `kid`, `typ` equal to `typ`, no critical headers, an
    /// empty unprotected header and an attached payload.
    pub(crate) fn open(bytes: &[u8], typ: &str) -> Result<Self, CoseError> {
        let message =
            CoseSign1::from_tagged_slice(bytes).map_err(|e| CoseError::Malformed(e.to_string()))?;
        let protected = &message.protected.header;
        if protected.alg != Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256)) {
            return Err(CoseError::Header("the algorithm is not ES256"));
        }
        if !protected.crit.is_empty() || !message.unprotected.is_empty() {
            return Err(CoseError::Header(
                "critical or unprotected headers are not allowed",
            ));
        }
        let kid =
            Kid::from_slice(&protected.key_id).ok_or(CoseError::Header("kid is not 8 bytes"))?;
        let found_typ = protected
            .rest
            .iter()
            .find(|(label, _)| *label == Label::Int(TYP_LABEL))
            .and_then(|(_, value)| value.as_text());
        if found_typ != Some(typ) {
            return Err(CoseError::Header("typ is missing or not the expected one"));
        }
        if message.payload.is_none() {
            return Err(CoseError::Header("the payload is detached"));
        }
        if message.signature.len() != 64 {
            return Err(CoseError::Header("an ES256 signature is 64 bytes"));
        }
        Ok(Self { kid, message })
    }

    /// The signer's key identifier, as the header names it.
    pub(crate) fn kid(&self) -> Kid {
        self.kid
    }

    /// Checks the signature with `key` and hands out the payload.
    pub(crate) fn verify(self, key: &dyn Es256Verifier) -> Result<Vec<u8>, CoseError> {
        let to_be_signed = self.message.tbs_data(b"");
        if !key.verify_es256(&to_be_signed, &self.message.signature) {
            return Err(CoseError::BadSignature);
        }
        self.message
            .payload
            .ok_or(CoseError::Header("the payload is detached"))
    }
}
