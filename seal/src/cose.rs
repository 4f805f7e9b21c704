//! COSE_Sign1 (RFC 9052 §4.2) as far as Sigillo needs it: decode, the
//! Sig_structure, ES256 signing and checking through the traits that the
//! `keys` crate implements. The seal policy (which headers a seal must have)
//! sits in the crate root; this module is plain COSE, so the conformance
//! examples of the COSE working group can test it.

use coset::cbor::value::Value;
use coset::{
    AsCborValue, CoseSign1, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate,
    TaggedCborSerializable, iana,
};

use crate::{CborError, HeaderProblem, Kid, SealError, SignerError};

/// The CBOR tag of a COSE_Sign1 message.
pub const COSE_SIGN1_TAG: u64 = 18;

/// An ES256 (ECDSA P-256 with SHA-256) signature: `r` and `s`, 32 bytes
/// each, as COSE writes it.
pub type Es256Signature = [u8; 64];

/// Signs with a seal key. Implemented by the `keys` crate over a key file;
/// a hardware key can implement it too.
pub trait SealSigner {
    /// The key identifier to put in the protected header.
    fn kid(&self) -> Kid;
    /// Signs `message` with ECDSA P-256 / SHA-256.
    fn sign_es256(&self, message: &[u8]) -> Result<Es256Signature, SignerError>;
}

/// Checks ES256 signatures made by one public key.
pub trait Es256Verifier {
    /// Whether `signature` (64 bytes, `r ‖ s`) over `message` was made by
    /// this key.
    fn verify_es256(&self, message: &[u8], signature: &[u8]) -> bool;
}

/// A decoded COSE_Sign1, tagged or not, with no trust placed in it yet.
#[derive(Debug, Clone)]
pub struct Sign1 {
    tagged: bool,
    inner: CoseSign1,
}

impl Sign1 {
    /// Decodes a COSE_Sign1 message. It may carry tag 18 or no tag (the
    /// application knows what it expects); any other tag is refused, and so
    /// is anything after the message.
    pub fn decode(bytes: &[u8]) -> Result<Self, SealError> {
        let mut rest = bytes;
        let value: Value = coset::cbor::de::from_reader(&mut rest)
            .map_err(|e| SealError::MalformedCbor(CborError::of_decoding(&e)))?;
        if !rest.is_empty() {
            return Err(SealError::MalformedCbor(CborError::TrailingBytes(
                rest.len(),
            )));
        }
        let (tagged, value) = match value {
            Value::Tag(COSE_SIGN1_TAG, inner) => (true, *inner),
            Value::Tag(other, _) => return Err(SealError::WrongTag(Some(other))),
            untagged => (false, untagged),
        };
        let inner = CoseSign1::from_cbor_value(value)
            .map_err(|e| SealError::MalformedCbor(CborError::NotSign1(e.to_string())))?;
        Ok(Self { tagged, inner })
    }

    /// Whether the message carried tag 18.
    pub fn is_tagged(&self) -> bool {
        self.tagged
    }

    /// The signature algorithm: from the protected header, or else from the
    /// unprotected one (RFC 9052 allows either).
    pub fn algorithm(&self) -> Option<&coset::Algorithm> {
        self.inner
            .protected
            .header
            .alg
            .as_ref()
            .or(self.inner.unprotected.alg.as_ref())
    }

    /// The Sig_structure that the signature covers (RFC 9052 §4.4), with the
    /// protected header exactly as it was received, except that an empty map
    /// counts as no protected header at all (a zero-length byte string), as
    /// RFC 9052 §3 has recipients accept both and the COSE working group's
    /// example `sign-pass-01` requires.
    pub fn to_be_signed(&self, external_aad: &[u8]) -> Vec<u8> {
        if self.inner.protected.header.is_empty() && self.inner.protected.original_data.is_some() {
            let mut normalised = self.inner.clone();
            normalised.protected.original_data = None;
            return normalised.tbs_data(external_aad);
        }
        self.inner.tbs_data(external_aad)
    }

    /// Checks the signature with `key`, requiring ES256 as the algorithm.
    pub fn verify_es256(
        &self,
        external_aad: &[u8],
        key: &dyn Es256Verifier,
    ) -> Result<(), SealError> {
        require_es256(self.algorithm())?;
        if self.inner.payload.is_none() {
            return Err(SealError::MalformedHeader(HeaderProblem::DetachedPayload));
        }
        let to_be_signed = self.to_be_signed(external_aad);
        if key.verify_es256(&to_be_signed, &self.inner.signature) {
            Ok(())
        } else {
            Err(SealError::BadSignature)
        }
    }

    pub(crate) fn inner(&self) -> &CoseSign1 {
        &self.inner
    }
}

/// Builds and signs a tagged COSE_Sign1 with ES256 and `kid` in the
/// protected header, and an empty unprotected header.
pub fn sign_es256(payload: Vec<u8>, signer: &dyn SealSigner) -> Result<Vec<u8>, SealError> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(signer.kid().0.to_vec())
        .build();
    let message = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .try_create_signature(b"", |to_be_signed| {
            signer
                .sign_es256(to_be_signed)
                .map(|signature| signature.to_vec())
        })
        .map_err(SealError::Signer)?
        .build();
    message
        .to_tagged_vec()
        .map_err(|e| SealError::MalformedCbor(CborError::Encode(e.to_string())))
}

pub(crate) fn require_es256(alg: Option<&coset::Algorithm>) -> Result<(), SealError> {
    match alg {
        Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256)) => Ok(()),
        Some(RegisteredLabelWithPrivate::Assigned(other)) => {
            Err(SealError::UnsupportedAlgorithm(format!("{other:?}")))
        }
        Some(RegisteredLabelWithPrivate::PrivateUse(value)) => {
            Err(SealError::UnsupportedAlgorithm(value.to_string()))
        }
        Some(RegisteredLabelWithPrivate::Text(text)) => {
            Err(SealError::UnsupportedAlgorithm(format!("{text:?}")))
        }
        None => Err(SealError::UnsupportedAlgorithm("none given".into())),
    }
}
