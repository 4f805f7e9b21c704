//! The outcome of a verification, with the Italian headline and detail
//! that every front end shows unchanged, and its JSON form.
//!
//! The headline leads with the verdict a person acts on: only a certificate
//! authentic and in force reads «Documento autentico e in corso di
//! validità»; one revoked, superseded, expired or not yet released starts
//! «NON VALIDO — …» and only then says that its seal is authentic, so a
//! busy clerk never stops reading at «autentico»; one whose status could
//! not be checked starts «VALIDITÀ NON VERIFICATA».

use keys::CertificateInfo;
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Step, VerifyError};
use crate::facts::CertificateFacts;
use crate::image::IgnoredCode;
use crate::status::Status;
use seal::rome;

/// What was verified and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Authentic (with status and facts), invalid (with the step), or no
    /// seal found.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// One line in Italian: what a person needs to know first.
    pub headline: String,
    /// A paragraph in Italian: why, and what to do next.
    pub detail: String,
    /// What kind of input was read.
    pub input: InputKind,
    /// When the verification ran (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// The seal's signer, for an authentic seal.
    pub signer: Option<SignerFacts>,
    /// The PDF's own signature, for an authentic PDF.
    pub pdf_signature: Option<PdfSignatureFacts>,
    /// QR codes in the image that were not the seal checked.
    pub ignored_codes: Vec<IgnoredCode>,
    /// What a person must know besides the verdict (a signer revoked after
    /// this seal was made); each is also said in `detail`.
    pub warnings: Vec<Warning>,
}

/// Something a person must know besides the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// A stable `snake_case` code.
    pub code: &'static str,
    /// In Italian.
    pub message: String,
}

impl Warning {
    /// The seal's signer was revoked as compromised after the seal was
    /// made: the seal stands, but its content should be checked with the
    /// comune.
    pub fn signer_revoked_later(since: OffsetDateTime) -> Self {
        Self {
            code: "signer_revoked_later",
            message: format!(
                "Attenzione: il firmatario di questo sigillo è stato revocato dal Comune dal {} perché la sua chiave non è più sicura. Il sigillo è anteriore alla revoca e resta autentico, ma conviene verificarlo online sul sito del Comune o chiedere conferma al Comune.",
                rome::date_text(since)
            ),
        }
    }
}

/// The three ways a verification ends.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The seal is authentic: its signature holds, its signer was trusted
    /// when it was issued, and for a PDF the file is intact and agrees with
    /// it. Whether it is still in force is `status`.
    Authentic {
        /// Valid, expired, revoked, superseded, pending or unknown.
        status: Status,
        /// What the seal states, to compare with the paper.
        facts: Box<CertificateFacts>,
    },
    /// A seal was found and it is not authentic; nothing it claims is
    /// shown.
    Invalid {
        /// The checklist step that refused it.
        step: Step,
        /// Why.
        reason: VerifyError,
    },
    /// No seal in the input: no QR code that is a seal in the image, no
    /// seal in the PDF's metadata.
    NotFound,
}

/// What kind of input was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// The seal's text (URL or digits).
    Text,
    /// A PNG or JPEG.
    Image,
    /// A PDF.
    Pdf,
}

/// The signer of an authentic seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerFacts {
    /// Its key identifier, hex.
    pub kid: String,
    /// Its certificate's subject.
    pub subject: String,
    /// Its certificate's SHA-256 fingerprint.
    pub fingerprint: String,
}

impl SignerFacts {
    pub(crate) fn of(certificate: &CertificateInfo) -> Self {
        Self {
            kid: certificate.kid().to_hex(),
            subject: certificate.subject().to_owned(),
            fingerprint: certificate.sha256_fingerprint(),
        }
    }
}

/// The PDF's own signature, once it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdfSignatureFacts {
    /// The signer.
    pub signer: SignerFacts,
    /// The claimed signing time (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

impl Report {
    /// Whether the seal is authentic and the certificate in force: the
    /// only outcome a relying party may act on without further checks.
    pub fn is_valid(&self) -> bool {
        matches!(&self.outcome, Outcome::Authentic { status, .. } if status.is_valid())
    }

    /// Whether the seal is authentic, whatever its status.
    pub fn is_authentic(&self) -> bool {
        matches!(self.outcome, Outcome::Authentic { .. })
    }

    /// The report as JSON (the shape the JSON API returns).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            format!("{{\"outcome\":\"error\",\"message\":{:?}}}", e.to_string())
        })
    }

    pub(crate) fn new(outcome: Outcome, input: InputKind, checked_at: OffsetDateTime) -> Self {
        let (headline, detail) = texts(&outcome, input);
        Self {
            outcome,
            headline,
            detail,
            input,
            checked_at,
            signer: None,
            pdf_signature: None,
            ignored_codes: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds a warning, said in the detail too.
    pub fn warn(&mut self, warning: Warning) {
        self.detail.push(' ');
        self.detail.push_str(&warning.message);
        self.warnings.push(warning);
    }
}

/// The headline and the detail of an outcome, in Italian.
fn texts(outcome: &Outcome, input: InputKind) -> (String, String) {
    match outcome {
        Outcome::Authentic { status, facts } => authentic_texts(status, facts),
        Outcome::Invalid { step, reason } => (
            invalid_headline(*step).to_owned(),
            format!(
                "Verifica non superata al passo {} ({}): {reason}. Non fare affidamento sul contenuto di questo documento; per chiarimenti rivolgersi al Comune che risulta averlo rilasciato.",
                step.number(),
                step.label()
            ),
        ),
        Outcome::NotFound => (
            "Nessun sigillo trovato".to_owned(),
            match input {
                InputKind::Pdf => "Il PDF non contiene il sigillo di un certificato Sigillo. Se è la scansione di un certificato stampato, caricare l'immagine (PNG o JPEG) della pagina.".to_owned(),
                _ => "Nell'immagine non è stato trovato il codice QR del sigillo. Riprovare con una foto o una scansione più nitida, con il codice QR intero, ben illuminato e non troppo piccolo, oppure digitare il testo del sigillo.".to_owned(),
            },
        ),
    }
}

fn authentic_texts(status: &Status, facts: &CertificateFacts) -> (String, String) {
    let comune = facts
        .comune
        .name
        .clone()
        .unwrap_or_else(|| format!("il comune con codice ISTAT {}", facts.comune.istat_code));
    let certificate = format!(
        "{} n. {} rilasciato da {comune} il {}",
        facts.kind.title, facts.number, facts.issued_on
    );
    let demo = if facts.demo {
        " Attenzione: è un certificato DEMO, privo di valore legale."
    } else {
        ""
    };
    let compare = "Confrontare il contenuto qui riportato con quello del documento.";
    let (headline, detail) = match status {
        Status::Valid => (
            "Documento autentico e in corso di validità".to_owned(),
            format!(
                "Il sigillo è autentico: {certificate}. Il Comune non lo ha revocato né sostituito e la validità non è scaduta. {compare}"
            ),
        ),
        Status::Expired { at } => (
            format!(
                "NON VALIDO — scaduto il {}; il sigillo è autentico",
                rome::date_text(*at)
            ),
            format!(
                "Il sigillo è autentico: {certificate}. La sua validità è terminata il {}: per un uso attuale serve un certificato nuovo. {compare}",
                rome::date_text(*at)
            ),
        ),
        Status::Revoked { reason, at } => {
            let when = at.map(|at| format!(" il {}", rome::date_text(at)));
            let why = reason
                .as_ref()
                .map(|reason| format!(" Motivo indicato dal Comune: {reason}."))
                .unwrap_or_default();
            (
                format!(
                    "NON VALIDO — revocato{}; il sigillo è autentico",
                    when.as_deref().unwrap_or_default()
                ),
                format!(
                    "Il sigillo è autentico: {certificate}. Il Comune lo ha però revocato o annullato{}: il certificato non è valido.{why}",
                    when.unwrap_or_default()
                ),
            )
        }
        Status::Superseded => (
            "NON VALIDO — sostituito da un certificato successivo; il sigillo è autentico"
                .to_owned(),
            format!(
                "Il sigillo è autentico: {certificate}. Il Comune ha rilasciato un certificato che lo sostituisce: questo non è più valido."
            ),
        ),
        Status::Pending => (
            "NON VALIDO — non ancora rilasciato (imposta di bollo non pagata); il sigillo è autentico"
                .to_owned(),
            format!(
                "Il sigillo è autentico: {certificate}. Il certificato è però in attesa del pagamento dell'imposta di bollo e non è ancora valido."
            ),
        ),
        Status::Unknown { reason } => (
            "VALIDITÀ NON VERIFICATA — il sigillo è autentico, ma non si sa se il certificato sia ancora valido"
                .to_owned(),
            format!(
                "Il sigillo è autentico: {certificate}. Non è stato possibile verificare se sia stato revocato o sostituito ({}): per sapere se è in corso di validità, verificarlo online sul sito del Comune. {compare}",
                reason.message()
            ),
        ),
    };
    (headline, format!("{detail}{demo}"))
}

fn invalid_headline(step: Step) -> &'static str {
    match step {
        Step::Read => "Sigillo illeggibile",
        Step::PdfSignature => "PDF non integro: documento alterato o non firmato dal Comune",
        Step::Parse => "Sigillo non valido: formato errato",
        Step::Key => "Sigillo di un firmatario sconosciuto: documento non autentico",
        Step::Signature => "Sigillo falso o alterato: documento non autentico",
        Step::SignerValidity => "Sigillo non valido: firmatario non autorizzato a quella data",
        Step::Claims => "Sigillo non valido: contenuto incoerente",
        Step::Agreement => "PDF non autentico: sigillo e firma del documento non corrispondono",
        Step::Status => "Stato del certificato non verificabile",
    }
}
