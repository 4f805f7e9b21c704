//! The checking side of Sigillo: reads a certificate's seal from the text a
//! scanner types, from a scan or photo (PNG, JPEG) or from the PDF, checks
//! it, and says in Italian whether the document is authentic and in force.
//! No database and no network: trust comes from a [`Trust`] (a local key
//! store, or signed trust lists), status from a [`StatusSource`] (the
//! server's registry, a published status list, or [`NoStatus`]).
//!
//! ```no_run
//! # async fn demo(bytes: &[u8], trust_store: keys::TrustStore) {
//! use verifier::{Input, NoStatus, Verifier};
//! let trust = verifier::Trust::new(trust_store);
//! let now = time::OffsetDateTime::now_utc();
//! let report = Verifier::new(&trust)
//!     .verify(Input::sniff(bytes), &NoStatus, now)
//!     .await;
//! println!("{}", report.headline); // «Documento autentico e in corso di validità», …
//! println!("{}", report.to_json());
//! # }
//! ```
//!
//! Verification is one checklist ([`Verifier::verify`], steps in
//! [`Step`]) that fails closed at the first step that does not hold: read
//! the input → (PDF) its PAdES signature → parse the seal → its signer is
//! known → its signature → the signer was valid at issuance → the claims
//! are sane → (PDF) seal and signature agree → status. The seal itself is
//! checked by `seal::verify_parsed`; claims of a seal that fails are never
//! shown. A report is [`Outcome::Authentic`] (with [`Status`] and
//! [`CertificateFacts`]), [`Outcome::Invalid`] (with the step and reason)
//! or [`Outcome::NotFound`].
//!
//! Offline verifiers load a comune's [`SignedTrustList`] against its pinned
//! CA certificate and its status list ([`StatusList`], IETF Token Status
//! List, CWT form); [`Cache`] keeps both and says when to fetch them again.
//! The comune's server makes both with the same types.
#![warn(missing_docs)]

mod cache;
mod cose;
mod error;
mod facts;
pub mod image;
mod keyboard;
mod pdf;
mod report;
mod status;
mod status_list;
mod trust;

use std::task::{Context, Poll, Waker};

use seal::{ParsedSeal, TrustList};
use time::OffsetDateTime;

pub use cache::{Cache, Refresh};
pub use cose::CoseError;
pub use error::{Cause, Disagreement, PdfSignatureError, ReadError, Step, VerifyError};
pub use facts::{
    BolloFacts, CertificateFacts, ComuneFacts, ContentFacts, ExemptionFacts, FactLine, HolderFacts,
    KindFacts, MemberFacts, PartFacts, UsageFacts,
};
pub use image::{IgnoredCode, IgnoredReason};
pub use pdf::SEAL_INFO_KEY;
pub use report::{InputKind, Outcome, PdfSignatureFacts, Report, SignerFacts, Warning};
pub use status::{
    NoStatus, RegistryStatus, Status, StatusFuture, StatusQuery, StatusSource, UnknownReason,
};
pub use status_list::{
    MAX_LIST_BYTES, STATUS_LIST_CLAIM, STATUS_LIST_TYPE, StatusList, StatusListError, StatusLists,
    TTL_CLAIM, VerifiedStatusList,
};
pub use trust::{SignedTrustList, TRUST_LIST_TYPE, Trust, TrustListEntry, TrustListError};

/// What to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The seal's text: the URL in any case, or the bare digits, with any
    /// surrounding whitespace (a keyboard-mode scanner's newline).
    Text(&'a str),
    /// A PNG or JPEG of a scan or a photo.
    Image(&'a [u8]),
    /// A certificate PDF.
    Pdf(&'a [u8]),
}

impl<'a> Input<'a> {
    /// Tells the input by its bytes: `%PDF-` near the start is a PDF, the
    /// PNG and JPEG signatures are images, UTF-8 is the seal's text;
    /// anything else is handed to the image reader, which refuses it.
    pub fn sniff(bytes: &'a [u8]) -> Self {
        let head = &bytes[..bytes.len().min(1024)];
        if head.windows(5).any(|window| window == b"%PDF-") {
            Self::Pdf(bytes)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        {
            Self::Image(bytes)
        } else if let Ok(text) = std::str::from_utf8(bytes) {
            Self::Text(text)
        } else {
            Self::Image(bytes)
        }
    }

    /// The kind of input.
    pub fn kind(&self) -> InputKind {
        match self {
            Self::Text(_) => InputKind::Text,
            Self::Image(_) => InputKind::Image,
            Self::Pdf(_) => InputKind::Pdf,
        }
    }
}

/// Text in UTF-16 (with a byte-order mark, or ASCII written as UTF-16
/// without one, as some Windows tools send it) or UTF-8 with a byte-order
/// mark, as plain UTF-8; other bytes unchanged. `None` when the bytes say
/// they are UTF-16 and are not valid UTF-16: the caller refuses them as
/// text, not as an unknown format.
pub fn utf8_text(bytes: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    use std::borrow::Cow;
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Some(Cow::Borrowed(rest));
    }
    let (units, little_endian) = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        (rest, true)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (rest, false)
    } else if looks_like_utf16_ascii(bytes, true) {
        (bytes, true)
    } else if looks_like_utf16_ascii(bytes, false) {
        (bytes, false)
    } else {
        return Some(Cow::Borrowed(bytes));
    };
    if !units.len().is_multiple_of(2) {
        return None;
    }
    let units = units.chunks_exact(2).map(|pair| {
        if little_endian {
            u16::from_le_bytes([pair[0], pair[1]])
        } else {
            u16::from_be_bytes([pair[0], pair[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
        .map(|text| Cow::Owned(text.into_bytes()))
}

/// Printable ASCII as UTF-16 without a byte-order mark: every other byte
/// zero. PDFs and images never look like this.
fn looks_like_utf16_ascii(bytes: &[u8], little_endian: bool) -> bool {
    bytes.len() >= 4
        && bytes.len().is_multiple_of(2)
        && bytes.chunks_exact(2).all(|pair| {
            let (low, high) = if little_endian {
                (pair[0], pair[1])
            } else {
                (pair[1], pair[0])
            };
            high == 0 && (low.is_ascii_graphic() || low.is_ascii_whitespace())
        })
}

/// Bounds on what the verifier reads, against hostile or absurd inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest PDF or image file, in bytes. A certificate PDF is under
    /// 40 KB; a phone photo a few MB.
    pub max_file_bytes: usize,
    /// Most pixels an image may have, checked from its header before it is
    /// decoded. An A4 page at 600 dpi has 35 million; a 48 MP phone photo
    /// fits.
    pub max_image_pixels: u64,
    /// Longest side of an image, in pixels.
    pub max_image_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 32 * 1024 * 1024,
            max_image_pixels: 50_000_000,
            max_image_side: 16_384,
        }
    }
}

/// Verifies seals against a trust list.
#[derive(Debug, Clone, Copy)]
pub struct Verifier<'a> {
    trust: &'a Trust,
    limits: Limits,
}

/// An authentic seal, before its status is known.
struct Authentic {
    verified: seal::VerifiedSeal,
    pdf: Option<pdf::PdfSigner>,
}

/// Why the checklist stopped short of an authentic seal.
enum Stop {
    /// No seal in the input.
    NotFound,
    /// A step refused.
    Failed(VerifyError),
}

impl From<VerifyError> for Stop {
    fn from(error: VerifyError) -> Self {
        Self::Failed(error)
    }
}

impl From<ReadError> for Stop {
    fn from(error: ReadError) -> Self {
        Self::Failed(error.into())
    }
}

impl From<PdfSignatureError> for Stop {
    fn from(error: PdfSignatureError) -> Self {
        Self::Failed(error.into())
    }
}

impl From<seal::SealError> for Stop {
    fn from(error: seal::SealError) -> Self {
        Self::Failed(error.into())
    }
}

impl From<Disagreement> for Stop {
    fn from(error: Disagreement) -> Self {
        Self::Failed(error.into())
    }
}

/// The checklist's outcome up to, not including, the status.
struct Checked {
    input: InputKind,
    result: Result<Authentic, Stop>,
    ignored: Vec<IgnoredCode>,
}

impl<'a> Verifier<'a> {
    /// A verifier trusting `trust`, with the default [`Limits`].
    pub fn new(trust: &'a Trust) -> Self {
        Self {
            trust,
            limits: Limits::default(),
        }
    }

    /// The same verifier with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Verifies `input` at time `now`, asking `status` for the registry's
    /// word on an authentic seal. Never fails: every failure is a
    /// [`Report`] saying which step refused and why.
    pub async fn verify(
        &self,
        input: Input<'_>,
        status: &dyn StatusSource,
        now: OffsetDateTime,
    ) -> Report {
        let checked = self.check(input, now);
        let registry = match &checked.result {
            Ok(authentic) => Some(status.status(&query(authentic, now)).await),
            Err(_) => None,
        };
        self.report(checked, registry, now)
    }

    /// [`Self::verify`] without an async runtime, for status sources that
    /// answer at once ([`NoStatus`], [`StatusLists`], [`Cache`]). A source
    /// that would have to wait gives [`UnknownReason::Unavailable`].
    pub fn verify_now(
        &self,
        input: Input<'_>,
        status: &dyn StatusSource,
        now: OffsetDateTime,
    ) -> Report {
        let checked = self.check(input, now);
        let registry = match &checked.result {
            Ok(authentic) => {
                let query = query(authentic, now);
                let mut future = status.status(&query);
                let mut context = Context::from_waker(Waker::noop());
                Some(match future.as_mut().poll(&mut context) {
                    Poll::Ready(answer) => answer,
                    Poll::Pending => RegistryStatus::Unknown(UnknownReason::Unavailable(
                        "la fonte dello stato richiede un'attesa".into(),
                    )),
                })
            }
            Err(_) => None,
        };
        self.report(checked, registry, now)
    }

    /// The checklist, up to the status (step 9, which needs the status
    /// source).
    fn check(&self, input: Input<'_>, now: OffsetDateTime) -> Checked {
        let mut ignored = Vec::new();
        let result = self.checklist(input, now, &mut ignored);
        Checked {
            input: input.kind(),
            result,
            ignored,
        }
    }

    /// Steps 1 to 8, each either passing or ending the check with its
    /// error. QR codes set aside on the way go to `ignored`.
    fn checklist(
        &self,
        input: Input<'_>,
        now: OffsetDateTime,
        ignored: &mut Vec<IgnoredCode>,
    ) -> Result<Authentic, Stop> {
        // 1. Read: the seal's text, and for a PDF its signature parts.
        let (texts, pdf_parts) = match input {
            Input::Text(text) => (vec![text.to_owned()], None),
            Input::Image(bytes) => {
                let scan = image::scan(bytes, &self.limits)?;
                ignored.extend(scan.ignored);
                (scan.seals, None)
            }
            Input::Pdf(bytes) => {
                let parts = pdf::read(bytes, &self.limits)?;
                (parts.seal_text.iter().cloned().collect(), Some(parts))
            }
        };
        // 2. The PDF's own signature, before anything it carries is used:
        // a certificate whose seal was altered or removed fails here, not
        // as «no seal found». An unsigned PDF without a seal is simply not
        // a certificate.
        let pdf_signer = match (input, &pdf_parts) {
            (Input::Pdf(pdf_bytes), Some(parts))
                if parts.seal_text.is_some() || parts.is_signed() =>
            {
                Some(pdf::check_signature(pdf_bytes, parts, self.trust)?)
            }
            _ => None,
        };
        let Some((first, others)) = texts.split_first() else {
            return Err(Stop::NotFound);
        };
        ignored.extend(others.iter().map(|text| IgnoredCode {
            text: image::preview(text),
            reason: IgnoredReason::AnotherSeal,
        }));
        // What a scanner typed may have passed through the wrong keyboard
        // layout; a code read from an image or a PDF is taken as it is.
        let bytes = match input {
            Input::Text(_) => keyboard::parse_typed(first),
            Input::Image(_) | Input::Pdf(_) => seal::text::parse_text(first),
        }
        .map_err(ReadError::from)?;

        // 3.–6. Parse the seal, find its signer, check its signature, and
        // that the signer was valid at issuance for the seal's comune:
        // `seal::verify_parsed` fails closed at the first that does not
        // hold, and only then are the claims decoded.
        let parsed = ParsedSeal::parse(&bytes)?;
        let verified = seal::verify_parsed(&parsed, self.trust as &dyn TrustList, now)?;
        // 4. (continued) A signer the comune revoked as compromised: what
        // it sealed from the revocation on is not the comune's. Its `iat`
        // is only known once the signature holds.
        if let Some(since) = self.trust.revoked_at(&verified.kid())
            && verified.claims().issued_at >= since
        {
            return Err(VerifyError::SignerRevoked {
                kid: verified.kid(),
                since,
            }
            .into());
        }

        // 7. Claims sane: issued no later than now (checked above, with
        // clock skew) and valid until after issue. The seal's decoder
        // already refuses an `exp` not after `iat`; the rule stays here
        // too, where the checklist is read.
        let claims = verified.claims();
        if claims
            .expires_at
            .is_some_and(|expiry| expiry <= claims.issued_at)
        {
            return Err(VerifyError::Claims("la scadenza precede il rilascio").into());
        }

        // 8. A PDF's seal and its signature belong to one certificate: the
        // same comune (both signers trusted, steps 2 and 4), the same
        // number, and signed when the seal says it was issued.
        if let Some(signer) = &pdf_signer {
            agreement(signer, claims)?;
        }
        Ok(Authentic {
            verified,
            pdf: pdf_signer,
        })
    }

    /// Step 9 and the report: the registry's word and the seal's expiry
    /// make the status; the facts are laid out for an authentic seal only.
    fn report(
        &self,
        checked: Checked,
        registry: Option<RegistryStatus>,
        now: OffsetDateTime,
    ) -> Report {
        let mut report = match checked.result {
            Ok(authentic) => {
                let claims = authentic.verified.claims();
                let status = Status::combine(
                    registry.unwrap_or(RegistryStatus::Unknown(UnknownReason::NoSource)),
                    claims.expires_at,
                    now,
                );
                let facts =
                    CertificateFacts::from_claims(claims, self.trust.comune_name(claims.issuer));
                let mut report = Report::new(
                    Outcome::Authentic {
                        status,
                        facts: Box::new(facts),
                    },
                    checked.input,
                    now,
                );
                report.signer = self
                    .trust
                    .signer_certificate(&authentic.verified.kid())
                    .map(SignerFacts::of);
                if let Some(since) = self.trust.revoked_at(&authentic.verified.kid()) {
                    report.warn(report::Warning::signer_revoked_later(since));
                }
                report.pdf_signature = authentic.pdf.map(|signer| PdfSignatureFacts {
                    signer: SignerFacts::of(&signer.certificate),
                    signed_at: signer.signed_at,
                });
                report
            }
            Err(Stop::Failed(reason)) => Report::new(
                Outcome::Invalid {
                    step: reason.step(),
                    reason,
                },
                checked.input,
                now,
            ),
            Err(Stop::NotFound) => Report::new(Outcome::NotFound, checked.input, now),
        };
        report.ignored_codes = checked.ignored;
        report
    }
}

fn query(authentic: &Authentic, now: OffsetDateTime) -> StatusQuery {
    let claims = authentic.verified.claims();
    StatusQuery {
        comune: claims.issuer,
        number: claims.number,
        index: claims.status_index,
        kid: authentic.verified.kid(),
        at: now,
    }
}

/// How far apart the PDF's signing time and the seal's issue time may be:
/// the issuer writes both from one clock reading, to the second.
const AGREEMENT_TOLERANCE: time::Duration = time::Duration::minutes(1);

/// Step 8: the PDF's signature and its seal are of one certificate.
fn agreement(signer: &pdf::PdfSigner, claims: &seal::Claims) -> Result<(), Disagreement> {
    if signer.certificate.comune() != claims.issuer {
        return Err(Disagreement::Comune {
            seal: claims.issuer,
            pdf: signer.certificate.comune(),
        });
    }
    let number = claims.number.to_string();
    if signer.number() != Some(number.as_str()) {
        return Err(Disagreement::Number {
            seal: number,
            pdf: signer.number().map(str::to_owned),
        });
    }
    if (signer.signed_at - claims.issued_at).abs() > AGREEMENT_TOLERANCE {
        return Err(Disagreement::SigningTime {
            seal: claims.issued_at,
            pdf: signer.signed_at,
        });
    }
    Ok(())
}
