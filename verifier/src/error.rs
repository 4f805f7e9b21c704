//! Why a verification failed, one enum per layer, each failure tied to the
//! checklist step it belongs to ([`Step`]). Messages are in Italian: they
//! are shown to people as they are.

use seal::{ComuneCode, Kid, SealError};
use serde::ser::SerializeStruct as _;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

/// The steps of the verification checklist, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// 1. Read the input: the text, the image's QR code or the PDF's
    ///    metadata, within the size limits.
    Read,
    /// 2. For a PDF: its own PAdES signature covers the whole file, matches
    ///    it, and was made by a trusted signer valid at signing.
    PdfSignature,
    /// 3. Parse the seal's COSE structure and headers.
    Parse,
    /// 4. Find the seal's signer in the trust list.
    Key,
    /// 5. Check the seal's signature.
    Signature,
    /// 6. The signer's certificate was valid when the seal was issued, and
    ///    it seals for the comune the seal names.
    SignerValidity,
    /// 7. The claims are sane: well formed, issued no later than now (with
    ///    clock skew), validity ending after issue.
    Claims,
    /// 8. For a PDF: the seal in its metadata and its PAdES signature come
    ///    from the same comune.
    Agreement,
    /// 9. The certificate's status: expiry, and the registry's word
    ///    (revoked, superseded, pending) where a status source has one.
    Status,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Self; 9] = [
        Self::Read,
        Self::PdfSignature,
        Self::Parse,
        Self::Key,
        Self::Signature,
        Self::SignerValidity,
        Self::Claims,
        Self::Agreement,
        Self::Status,
    ];

    /// The step's number in the checklist, from 1.
    pub fn number(self) -> u8 {
        match self {
            Self::Read => 1,
            Self::PdfSignature => 2,
            Self::Parse => 3,
            Self::Key => 4,
            Self::Signature => 5,
            Self::SignerValidity => 6,
            Self::Claims => 7,
            Self::Agreement => 8,
            Self::Status => 9,
        }
    }

    /// A stable machine name, `snake_case`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::PdfSignature => "pdf_signature",
            Self::Parse => "parse",
            Self::Key => "key",
            Self::Signature => "signature",
            Self::SignerValidity => "signer_validity",
            Self::Claims => "claims",
            Self::Agreement => "agreement",
            Self::Status => "status",
        }
    }

    /// What the step checks, in Italian.
    pub fn label(self) -> &'static str {
        match self {
            Self::Read => "lettura",
            Self::PdfSignature => "firma elettronica del PDF",
            Self::Parse => "formato del sigillo",
            Self::Key => "firmatario del sigillo",
            Self::Signature => "firma del sigillo",
            Self::SignerValidity => "validità del firmatario alla data di rilascio",
            Self::Claims => "coerenza del contenuto",
            Self::Agreement => "corrispondenza tra sigillo e firma del PDF",
            Self::Status => "stato del certificato",
        }
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut step = serializer.serialize_struct("Step", 3)?;
        step.serialize_field("number", &self.number())?;
        step.serialize_field("name", self.name())?;
        step.serialize_field("label", self.label())?;
        step.end()
    }
}

/// Why a verification failed. Each variant is one layer; [`Self::step`]
/// says which step of the checklist refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The input could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The PDF's own signature does not hold.
    #[error(transparent)]
    PdfSignature(#[from] PdfSignatureError),
    /// The seal is not authentic (`seal::verify` refused it).
    #[error("{}", seal_message(.0))]
    Seal(#[from] SealError),
    /// The claims are not sane.
    #[error("contenuto del sigillo incoerente: {0}")]
    Claims(&'static str),
    /// The seal was made by a signer the comune revoked, on or after the
    /// revocation.
    #[error(
        "il sigillo è firmato dal firmatario {kid}, revocato dal Comune dal {} perché la sua chiave non è più sicura: un sigillo di quella data o successivo non è del Comune",
        seal::rome::date_text(*since)
    )]
    SignerRevoked {
        /// The signer.
        kid: Kid,
        /// From when it is revoked.
        since: OffsetDateTime,
    },
    /// The PDF's seal and its signature disagree.
    #[error(transparent)]
    Disagreement(#[from] Disagreement),
}

impl VerifyError {
    /// The checklist step this failure belongs to.
    pub fn step(&self) -> Step {
        match self {
            Self::Read(_) => Step::Read,
            Self::PdfSignature(_) => Step::PdfSignature,
            Self::Seal(error) => match error.step() {
                seal::Step::Read => Step::Read,
                seal::Step::Parse => Step::Parse,
                seal::Step::Key => Step::Key,
                seal::Step::Signature => Step::Signature,
                seal::Step::Claims => match error {
                    SealError::SignerNotValidAtIssuance { .. }
                    | SealError::IssuerMismatch { .. } => Step::SignerValidity,
                    _ => Step::Claims,
                },
            },
            Self::Claims(_) => Step::Claims,
            Self::SignerRevoked { .. } => Step::Key,
            Self::Disagreement(_) => Step::Agreement,
        }
    }

    /// A stable `snake_case` code of the technical cause, finer than
    /// [`Self::code`], where there is one (which CBOR defect, which header,
    /// what the image decoder or the PDF parser said).
    pub fn detail_code(&self) -> Option<&'static str> {
        match self {
            Self::Read(ReadError::Image(cause) | ReadError::Pdf(cause))
            | Self::PdfSignature(PdfSignatureError::Cms(cause)) => Some(cause.code()),
            Self::Read(ReadError::NotASeal(error)) => Some(error.code()),
            Self::Seal(error) => error.detail_code(),
            _ => None,
        }
    }

    /// The technical cause in the words of the library that found it, for
    /// the log: never shown to people, and free of what the seal states.
    pub fn technical(&self) -> Option<String> {
        match self {
            Self::Read(ReadError::Image(cause) | ReadError::Pdf(cause))
            | Self::PdfSignature(PdfSignatureError::Cms(cause)) => Some(cause.text().to_owned()),
            Self::Seal(
                error @ (SealError::MalformedCbor(_)
                | SealError::MalformedHeader(_)
                | SealError::MalformedClaims(_)
                | SealError::Signer(_)),
            ) => Some(error.to_string()),
            _ => None,
        }
    }

    /// A stable machine code for the failure, `snake_case`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read(error) => error.code(),
            Self::PdfSignature(error) => error.code(),
            Self::Seal(error) => match error {
                SealError::NotASeal(_) => "not_a_seal",
                SealError::MalformedCbor(_) => "malformed_cbor",
                SealError::WrongTag(_) => "wrong_tag",
                SealError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
                SealError::MalformedHeader(_) => "malformed_header",
                SealError::UnknownKid(_) => "unknown_signer",
                SealError::BadSignature => "bad_signature",
                SealError::MalformedClaims(_) => "malformed_claims",
                SealError::SignerNotValidAtIssuance { .. } => "signer_not_valid_at_issuance",
                SealError::IssuerMismatch { .. } => "issuer_mismatch",
                SealError::IssuedInFuture(_) => "issued_in_future",
                SealError::Signer(_) => "signer_failed",
            },
            Self::Claims(_) => "claims_not_sane",
            Self::SignerRevoked { .. } => "signer_revoked",
            Self::Disagreement(error) => error.code(),
        }
    }
}

impl Serialize for VerifyError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut reason = serializer.serialize_struct("VerifyError", 3)?;
        reason.serialize_field("code", self.code())?;
        reason.serialize_field("message", &self.to_string())?;
        reason.serialize_field("detail_code", &self.detail_code())?;
        reason.end()
    }
}

/// The technical cause of a failure, in a library's own words: for
/// developers and the log, never part of what a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    code: &'static str,
    text: String,
}

impl Cause {
    /// A cause with its stable `snake_case` code and its text.
    pub fn new(code: &'static str, text: impl Into<String>) -> Self {
        Self {
            code,
            text: text.into(),
        }
    }

    /// The stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The library's text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The seal crate speaks English to developers; people get Italian, and
/// the technical cause goes to [`VerifyError::technical`].
fn seal_message(error: &SealError) -> String {
    match error {
        SealError::NotASeal(text) => text.to_string(),
        SealError::MalformedCbor(_) => {
            "il sigillo non è nel formato previsto: i dati letti sono danneggiati o incompleti"
                .into()
        }
        SealError::WrongTag(_) => {
            "il sigillo non è nel formato previsto: non è un messaggio firmato COSE_Sign1".into()
        }
        SealError::UnsupportedAlgorithm(alg) => {
            format!("il sigillo usa un algoritmo di firma non ammesso ({alg})")
        }
        SealError::MalformedHeader(_) => {
            "il sigillo non è nel formato previsto: la sua intestazione non è quella prevista per i sigilli dei certificati".into()
        }
        SealError::UnknownKid(kid) => format!(
            "il sigillo è firmato da un firmatario sconosciuto (kid {kid}): non compare nell'elenco dei firmatari attendibili"
        ),
        SealError::BadSignature => {
            "la firma del sigillo non corrisponde: il contenuto è stato alterato o il sigillo è falso"
                .into()
        }
        SealError::MalformedClaims(_) => {
            "il contenuto firmato del sigillo non è nel formato previsto".into()
        }
        SealError::SignerNotValidAtIssuance { kid, issued_at } => format!(
            "il certificato del firmatario {kid} non era valido alla data di rilascio indicata ({})",
            seal::rome::date_text(*issued_at)
        ),
        SealError::IssuerMismatch { claimed, signer } => format!(
            "il sigillo dichiara il comune {claimed} ma è firmato dal firmatario del comune {signer}"
        ),
        SealError::IssuedInFuture(at) => format!(
            "il sigillo dichiara una data di rilascio futura ({}): controllare l'orologio di questo dispositivo",
            seal::rome::date_text(*at)
        ),
        SealError::Signer(_) => "la firma del sigillo non è riuscita".into(),
    }
}

/// Why an input could not be read (step 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The file is larger than the limit.
    #[error("il file è troppo grande ({size} byte, al massimo {max})")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The image has more pixels or a longer side than the limit; it was
    /// not decoded.
    #[error(
        "l'immagine è troppo grande ({width}×{height} pixel, al massimo {max_pixels} pixel e {max_side} per lato): ridurne la risoluzione"
    )]
    ImageTooLarge {
        /// Width in pixels, from the header.
        width: u32,
        /// Height in pixels, from the header.
        height: u32,
        /// The pixel-count limit.
        max_pixels: u64,
        /// The side-length limit.
        max_side: u32,
    },
    /// Neither a PDF, a PNG, a JPEG nor text.
    #[error(
        "formato non riconosciuto: caricare un PDF, un'immagine PNG o JPEG, o il testo del sigillo"
    )]
    UnsupportedFormat,
    /// The image could not be decoded.
    #[error(
        "l'immagine non è leggibile: il file è danneggiato, incompleto o in una variante non supportata"
    )]
    Image(Cause),
    /// The PDF could not be read.
    #[error("il PDF non è leggibile: il file è danneggiato o incompleto")]
    Pdf(Cause),
    /// The PDF is encrypted.
    #[error("il PDF è cifrato: i certificati Sigillo non lo sono mai")]
    PdfEncrypted,
    /// The text given is not a seal's text form (its own message says so,
    /// once).
    #[error(transparent)]
    NotASeal(#[from] seal::TextError),
}

impl ReadError {
    /// A stable machine code, `snake_case`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "file_too_large",
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::UnsupportedFormat => "unsupported_format",
            Self::Image(_) => "image_unreadable",
            Self::Pdf(_) => "pdf_unreadable",
            Self::PdfEncrypted => "pdf_encrypted",
            Self::NotASeal(_) => "not_a_seal",
        }
    }
}

/// Why a PDF's own PAdES signature does not hold (step 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfSignatureError {
    /// The PDF carries no signature.
    #[error("il PDF non ha una firma elettronica: non è un certificato rilasciato dal Comune")]
    NoSignature,
    /// No signature covers the file to its end: bytes were added after
    /// signing (an incremental update, or anything appended).
    #[error(
        "il PDF è stato modificato dopo la firma: {added} byte aggiunti in coda non sono coperti dalla firma"
    )]
    NotWholeFile {
        /// Bytes after the end of the signed range.
        added: usize,
    },
    /// `/ByteRange` is not the whole file less the `/Contents` string.
    #[error("intervallo firmato (/ByteRange) non valido: {0}")]
    ByteRange(&'static str),
    /// The `/Contents` string is not the hex-encoded CMS.
    #[error("contenuto della firma (/Contents) non valido: {0}")]
    Contents(&'static str),
    /// The CMS structure is not a detached SignedData as PAdES writes it.
    #[error("la firma elettronica del PDF non ha la struttura prevista (CMS)")]
    Cms(Cause),
    /// An algorithm other than SHA-256 and ECDSA P-256.
    #[error("algoritmo della firma del PDF non ammesso: {0}")]
    UnsupportedAlgorithm(String),
    /// The signed digest is not that of the file's bytes.
    #[error("il PDF è stato alterato: l'impronta dei byte firmati non corrisponde")]
    DigestMismatch,
    /// The CMS signature does not match the signer's key.
    #[error("la firma elettronica del PDF non corrisponde al certificato del firmatario")]
    BadSignature,
    /// The signer's certificate is not in the CMS.
    #[error("il certificato del firmatario manca nella firma del PDF")]
    MissingSignerCertificate,
    /// signing-certificate-v2 names another certificate than the signer's.
    #[error("l'attributo signing-certificate-v2 non corrisponde al certificato del firmatario")]
    SigningCertificateMismatch,
    /// The signer is not a trusted seal signer.
    #[error("il PDF è firmato da un certificato non attendibile (kid {0})")]
    UntrustedSigner(Kid),
    /// The signature dictionary has no readable signing time (`/M`).
    #[error("la firma del PDF non indica l'ora della firma (/M)")]
    NoSigningTime,
    /// The signer's certificate was not valid when the PDF says it was
    /// signed.
    #[error("il certificato del firmatario {kid} non era valido all'ora della firma del PDF")]
    SignerNotValidAtSigning {
        /// The signer.
        kid: Kid,
        /// The claimed signing time.
        signed_at: OffsetDateTime,
    },
}

impl PdfSignatureError {
    /// A stable machine code, `snake_case`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSignature => "pdf_not_signed",
            Self::NotWholeFile { .. } => "pdf_modified_after_signing",
            Self::ByteRange(_) => "pdf_byte_range",
            Self::Contents(_) => "pdf_contents",
            Self::Cms(_) => "pdf_cms",
            Self::UnsupportedAlgorithm(_) => "pdf_algorithm",
            Self::DigestMismatch => "pdf_digest_mismatch",
            Self::BadSignature => "pdf_bad_signature",
            Self::MissingSignerCertificate => "pdf_missing_certificate",
            Self::SigningCertificateMismatch => "pdf_signing_certificate_mismatch",
            Self::UntrustedSigner(_) => "pdf_untrusted_signer",
            Self::NoSigningTime => "pdf_no_signing_time",
            Self::SignerNotValidAtSigning { .. } => "pdf_signer_not_valid_at_signing",
        }
    }
}

/// Why a PDF's seal and its own signature do not belong together (step 8).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Disagreement {
    /// The seal names one comune, the PDF's signer belongs to another.
    #[error(
        "il sigillo stampato è del comune {seal}, ma il PDF è firmato dal comune {pdf}: il documento è stato composto con parti di certificati diversi"
    )]
    Comune {
        /// The seal's issuing comune.
        seal: ComuneCode,
        /// The comune of the PDF's signer.
        pdf: ComuneCode,
    },
    /// The seal is of one certificate number, the PDF's signature names
    /// another (or none).
    #[error(
        "il sigillo stampato è del certificato n. {seal}, ma la firma del PDF è {}: il documento è stato composto con parti di certificati diversi",
        pdf.as_ref().map_or_else(|| "di un documento senza numero".to_owned(), |pdf| format!("del n. {pdf}"))
    )]
    Number {
        /// The seal's number.
        seal: String,
        /// The number in the signature's `/Reason`, if any.
        pdf: Option<String>,
    },
    /// The PDF was signed at another time than the seal was issued.
    #[error(
        "il sigillo è stato rilasciato il {}, ma il PDF è stato firmato il {}: il documento è stato composto con parti di certificati diversi",
        seal::rome::date_time_text(*seal),
        seal::rome::date_time_text(*pdf)
    )]
    SigningTime {
        /// The seal's `iat`.
        seal: OffsetDateTime,
        /// The signature's `/M`.
        pdf: OffsetDateTime,
    },
}

impl Disagreement {
    /// A stable machine code, `snake_case`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Comune { .. } => "seal_and_pdf_disagree",
            Self::Number { .. } => "seal_and_pdf_numbers_differ",
            Self::SigningTime { .. } => "seal_and_pdf_times_differ",
        }
    }
}
