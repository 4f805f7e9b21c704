//! The Sigillo seal: what a certificate's printed QR code carries, and how
//! it is made and checked. No I/O and no private keys live here: signing goes
//! through [`SealSigner`] and trust through [`TrustList`], both implemented by
//! the `keys` crate.
//!
//! A seal is a COSE_Sign1 (RFC 9052, tag 18) signed with ES256; `kid` in the
//! protected header names the signer certificate; the payload is a CWT claims
//! set ([`Claims`]). Printed, it is the URL `https://<host>/v#<digits>` with
//! the COSE bytes as one decimal number ([`text`]).
//!
//! ```ignore
//! let seal = Seal::sign(&claims, &signer)?;
//! let url = seal.to_url("certificati.comune.example.it");
//! // …printed, scanned, typed back…
//! let verified = seal::verify_text(&url, &trust_list, now)?;
//! assert_eq!(verified.claims().number, claims.number);
//! ```
//!
//! Verification is one checklist ([`verify`]) that fails closed at the first
//! step that does not hold, and only it can make a [`VerifiedSeal`]: claims
//! of a seal whose signature failed are never handed out.
#![warn(missing_docs)]

mod claims;
pub mod cose;
pub mod digest;
pub mod notice;
pub mod rome;
pub mod samples;
pub mod text;
mod types;
pub mod usage;

pub mod wording;

use time::{Duration, OffsetDateTime};

pub use claims::{
    BolloRef, CertificateKind, Claims, ClaimsError, Clause, Facts, FamilyMember, Holder,
    MAX_FIELD_LEN, Stamp, Usage,
};
pub use cose::{Es256Signature, Es256Verifier, SealSigner};
pub use text::TextError;
pub use types::{
    CertificateNumber, CertificateNumberError, CodiceFiscale, CodiceFiscaleError, ComuneCode,
    ComuneCodeError, Kid,
};

/// How far a seal's issue time may lie ahead of the verifier's clock before
/// the seal is refused: clocks of phones and PCs drift.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// A signer's failure to sign (a missing key file, a hardware token gone).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the seal signer failed: {0}")]
pub struct SignerError(pub String);

/// What is wrong with the CBOR of a message (English, for developers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    /// The bytes end in the middle of an item.
    #[error("the CBOR ends in the middle of an item")]
    Truncated,
    /// Not CBOR at this byte offset.
    #[error("CBOR syntax error at byte {0}")]
    Syntax(usize),
    /// Well-formed CBOR of another shape, or nested too deep.
    #[error("CBOR of an unexpected shape: {0}")]
    Shape(String),
    /// Bytes after the end of the message.
    #[error("{0} bytes after the message")]
    TrailingBytes(usize),
    /// CBOR that is not a COSE_Sign1 structure.
    #[error("not a COSE_Sign1 structure: {0}")]
    NotSign1(String),
    /// The message could not be written.
    #[error("CBOR could not be written: {0}")]
    Encode(String),
}

impl CborError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Truncated => "cbor_truncated",
            Self::Syntax(_) => "cbor_syntax",
            Self::Shape(_) => "cbor_shape",
            Self::TrailingBytes(_) => "cbor_trailing_bytes",
            Self::NotSign1(_) => "cose_structure",
            Self::Encode(_) => "cbor_encode",
        }
    }

    /// Classifies a CBOR decoder's error.
    pub(crate) fn of_decoding<T: std::fmt::Debug>(error: &ciborium::de::Error<T>) -> Self {
        match error {
            ciborium::de::Error::Io(_) => Self::Truncated,
            ciborium::de::Error::Syntax(offset) => Self::Syntax(*offset),
            ciborium::de::Error::Semantic(_, message) => Self::Shape(message.clone()),
            ciborium::de::Error::RecursionLimitExceeded => {
                Self::Shape("nested too deep".to_owned())
            }
        }
    }
}

/// Which header rule of a seal a message breaks (English, for developers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderProblem {
    /// Something in the unprotected header.
    #[error("the unprotected header is not empty")]
    UnprotectedNotEmpty,
    /// Critical headers, which a seal never has.
    #[error("critical headers are not supported")]
    Critical,
    /// No eight-byte key identifier.
    #[error("kid is missing or not 8 bytes")]
    Kid,
    /// The payload is not in the message.
    #[error("the payload is detached")]
    DetachedPayload,
    /// The signature is not 64 bytes.
    #[error("an ES256 signature is 64 bytes")]
    SignatureLength,
}

impl HeaderProblem {
    /// A stable `snake_case` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnprotectedNotEmpty => "unprotected_header_not_empty",
            Self::Critical => "critical_header",
            Self::Kid => "kid_missing",
            Self::DetachedPayload => "payload_detached",
            Self::SignatureLength => "signature_length",
        }
    }
}

/// The steps of the verification checklist, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// 1. Read the text or bytes.
    Read,
    /// 2. Parse the COSE structure and its headers.
    Parse,
    /// 3. Find the signer's key in the trust list.
    Key,
    /// 4. Check the signature.
    Signature,
    /// 5. Check the claims: well formed, signer valid at issuance, issuer
    ///    is the signer's comune, issued before now.
    Claims,
}

/// Why a seal could not be made or is not authentic. Each variant is one
/// failed step; [`SealError::step`] says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The text is not a seal's text form.
    #[error("not a seal: {0}")]
    NotASeal(#[from] TextError),
    /// The bytes are not well-formed CBOR of a COSE_Sign1.
    #[error("malformed CBOR: {0}")]
    MalformedCbor(CborError),
    /// Tagged with something other than 18 (COSE_Sign1), or untagged where
    /// a seal must be tagged (`None`).
    #[error("wrong CBOR tag: {0:?}")]
    WrongTag(Option<u64>),
    /// The algorithm is not ES256.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// A header a seal must have is missing, or one it must not have is
    /// present.
    #[error("malformed header: {0}")]
    MalformedHeader(HeaderProblem),
    /// No signer with this key identifier is in the trust list.
    #[error("unknown key {0}")]
    UnknownKid(Kid),
    /// The signature does not match the signer's key.
    #[error("the signature does not match")]
    BadSignature,
    /// The signature holds but the claims are not a valid claims set.
    #[error("malformed claims: {0}")]
    MalformedClaims(ClaimsError),
    /// The signer's certificate was not valid when the seal says it was
    /// issued.
    #[error("the signer certificate {kid} was not valid at {issued_at}")]
    SignerNotValidAtIssuance {
        /// The signer.
        kid: Kid,
        /// The seal's `iat`.
        issued_at: OffsetDateTime,
    },
    /// The seal names an issuing comune other than the signer's.
    #[error("issued in the name of {claimed}, signed by {signer}")]
    IssuerMismatch {
        /// The `iss` claim.
        claimed: ComuneCode,
        /// The comune the signer certificate belongs to.
        signer: ComuneCode,
    },
    /// The seal claims an issue time in the future.
    #[error("issued in the future ({0})")]
    IssuedInFuture(OffsetDateTime),
    /// The signer could not sign (building a seal only).
    #[error(transparent)]
    Signer(SignerError),
}

impl SealError {
    /// A stable `snake_case` code of the technical cause, finer than the
    /// variant where the variant has causes of its own (which CBOR defect,
    /// which header, which claim rule). For developers and logs; people
    /// read the verifier's Italian message.
    pub fn detail_code(&self) -> Option<&'static str> {
        match self {
            Self::NotASeal(error) => Some(error.code()),
            Self::MalformedCbor(error) => Some(error.code()),
            Self::MalformedHeader(problem) => Some(problem.code()),
            Self::MalformedClaims(error) => Some(error.code()),
            _ => None,
        }
    }

    /// The checklist step this failure belongs to.
    pub fn step(&self) -> Step {
        match self {
            Self::NotASeal(_) => Step::Read,
            Self::MalformedCbor(_)
            | Self::WrongTag(_)
            | Self::UnsupportedAlgorithm(_)
            | Self::MalformedHeader(_) => Step::Parse,
            Self::UnknownKid(_) => Step::Key,
            Self::BadSignature | Self::Signer(_) => Step::Signature,
            Self::MalformedClaims(_)
            | Self::SignerNotValidAtIssuance { .. }
            | Self::IssuerMismatch { .. }
            | Self::IssuedInFuture(_) => Step::Claims,
        }
    }
}

/// A signer the verifier trusts: its key, the comune it seals for and the
/// validity window of its certificate.
#[derive(Clone, Copy)]
pub struct TrustedSigner<'a> {
    /// The comune named in the signer certificate.
    pub comune: ComuneCode,
    /// Start of the signer certificate's validity.
    pub not_before: OffsetDateTime,
    /// End of the signer certificate's validity.
    pub not_after: OffsetDateTime,
    /// The signer's public key.
    pub key: &'a dyn Es256Verifier,
}

impl std::fmt::Debug for TrustedSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedSigner")
            .field("comune", &self.comune)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Answers "which key is `kid`, and for whom and when was it valid".
pub trait TrustList {
    /// The signer with this key identifier, if trusted.
    fn signer(&self, kid: &Kid) -> Option<TrustedSigner<'_>>;
}

/// A freshly signed seal.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    bytes: Vec<u8>,
}

impl Seal {
    /// Checks the claims, encodes them and signs them into a COSE_Sign1.
    /// Times are written to the second.
    pub fn sign(claims: &Claims, signer: &dyn SealSigner) -> Result<Self, SealError> {
        let payload = claims.to_cbor().map_err(SealError::MalformedClaims)?;
        Ok(Self {
            bytes: cose::sign_es256(payload, signer)?,
        })
    }

    /// The COSE bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The seal as decimal digits, for a QR code in numeric mode.
    pub fn to_digits(&self) -> String {
        text::to_digits(&self.bytes)
    }

    /// The URL the QR code carries: `https://<host>/v#<digits>`.
    pub fn to_url(&self, host: &str) -> String {
        text::to_url(host, &self.bytes)
    }
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Seal({} bytes)", self.bytes.len())
    }
}

/// A seal whose structure has been read, with no trust placed in it: it
/// tells which key to check it with, and nothing of what it claims.
#[derive(Debug, Clone)]
pub struct ParsedSeal {
    kid: Kid,
    message: cose::Sign1,
}

impl ParsedSeal {
    /// Reads the COSE structure and checks the headers a seal must have:
    /// tag 18, ES256 and an eight-byte `kid` in the protected header, no
    /// critical headers, an empty unprotected header, an attached payload.
    pub fn parse(bytes: &[u8]) -> Result<Self, SealError> {
        let message = cose::Sign1::decode(bytes)?;
        if !message.is_tagged() {
            return Err(SealError::WrongTag(None));
        }
        let inner = message.inner();
        let protected = &inner.protected.header;
        cose::require_es256(protected.alg.as_ref())?;
        if !inner.unprotected.is_empty() {
            return Err(SealError::MalformedHeader(
                HeaderProblem::UnprotectedNotEmpty,
            ));
        }
        if !protected.crit.is_empty() {
            return Err(SealError::MalformedHeader(HeaderProblem::Critical));
        }
        let kid = Kid::from_slice(&protected.key_id)
            .ok_or(SealError::MalformedHeader(HeaderProblem::Kid))?;
        if inner.payload.is_none() {
            return Err(SealError::MalformedHeader(HeaderProblem::DetachedPayload));
        }
        if inner.signature.len() != 64 {
            return Err(SealError::MalformedHeader(HeaderProblem::SignatureLength));
        }
        Ok(Self { kid, message })
    }

    /// Reads a seal from its text form (URL or digits, see [`text::parse_text`]).
    pub fn from_text(text: &str) -> Result<Self, SealError> {
        Self::parse(&text::parse_text(text)?)
    }

    /// The signer's key identifier.
    pub fn kid(&self) -> Kid {
        self.kid
    }
}

/// A seal that passed every step of [`verify`]. Only verification makes one.
#[derive(Debug, Clone)]
pub struct VerifiedSeal {
    claims: Claims,
    kid: Kid,
}

impl VerifiedSeal {
    /// What the seal states.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The signer that sealed it.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// Whether the certificate's legal validity has ended at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.claims.expires_at.is_some_and(|expiry| expiry <= now)
    }
}

/// Verifies a seal's bytes against a trust list at time `now`, as a
/// numbered checklist that stops at the first step that fails:
///
/// 1. parse the COSE structure and the headers a seal must have;
/// 2. find the signer by `kid`;
/// 3. check the ES256 signature;
/// 4. decode the claims (only now, with the signature proven);
/// 5. the signer certificate was valid at `iat`;
/// 6. `iss` is the signer's comune;
/// 7. `iat` is not in the future (allowing [`MAX_CLOCK_SKEW`]).
///
/// Expiry is not a failure: an expired certificate is still authentic, and
/// [`VerifiedSeal::is_expired_at`] tells its status.
pub fn verify(
    bytes: &[u8],
    trust: &dyn TrustList,
    now: OffsetDateTime,
) -> Result<VerifiedSeal, SealError> {
    let parsed = ParsedSeal::parse(bytes)?;
    verify_parsed(&parsed, trust, now)
}

/// [`verify`] for the text form (URL or bare digits).
pub fn verify_text(
    text: &str,
    trust: &dyn TrustList,
    now: OffsetDateTime,
) -> Result<VerifiedSeal, SealError> {
    verify_parsed(&ParsedSeal::from_text(text)?, trust, now)
}

/// [`verify`] for a seal already parsed.
pub fn verify_parsed(
    parsed: &ParsedSeal,
    trust: &dyn TrustList,
    now: OffsetDateTime,
) -> Result<VerifiedSeal, SealError> {
    let kid = parsed.kid;
    let signer = trust.signer(&kid).ok_or(SealError::UnknownKid(kid))?;
    parsed.message.verify_es256(b"", signer.key)?;
    let payload = parsed
        .message
        .inner()
        .payload
        .as_deref()
        .unwrap_or_default();
    let claims = Claims::from_cbor(payload).map_err(SealError::MalformedClaims)?;
    let issued_at = claims.issued_at;
    if issued_at < signer.not_before || issued_at > signer.not_after {
        return Err(SealError::SignerNotValidAtIssuance { kid, issued_at });
    }
    if claims.issuer != signer.comune {
        return Err(SealError::IssuerMismatch {
            claimed: claims.issuer,
            signer: signer.comune,
        });
    }
    if issued_at > now + MAX_CLOCK_SKEW {
        return Err(SealError::IssuedInFuture(issued_at));
    }
    Ok(VerifiedSeal { claims, kid })
}
