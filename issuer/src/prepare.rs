//! Preparing one certificate: controls, content, seal, QR code and PDF, each
//! checked before the next. Nothing here touches the database: the registry
//! hands in the number and the status-list index and stores the result.

use keys::{KeySigner, TrustStore};
use seal::digest::DocumentDigest;
use seal::{
    BolloRef, CertificateKind, CertificateNumber, Claims, Facts, Holder, Seal, Stamp, Usage,
};
use time::OffsetDateTime;

use crate::catalogue::{
    self, KindSpec, STATO_CIVILE_EXEMPTION, clause_sentence, exemption_by_id, usage_sentence,
};
use crate::content;
use crate::eligibility::{self, Refusal, Subject};
use crate::templates::{Frame, TemplateError, Templates};
use render::pades::{self, PadesError, SignOptions};
use render::pdf::{self, Block, CertificatePage, RenderError};
use render::qr::{QrError, SealQr, qr_text};
use seal::rome;
use store::model::{BolloMode, ComuneRecord, Parcel};

/// Seals longer than this carry a digest of the facts instead of the facts:
/// a longer code would no longer read reliably from paper at 0.5 mm a
/// module (the sample family of six is 379 bytes).
pub const MAX_TYPED_SEAL_BYTES: usize = 700;

/// A certificate before it is numbered and sealed: what it is about, for which use, when.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// The issuing comune.
    pub comune: &'a ComuneRecord,
    /// The kind, from the catalogue.
    pub spec: &'static KindSpec,
    /// What the certificate is about.
    pub about: About<'a>,
    /// The declared use.
    pub usage: Usage,
    /// The stamp-duty payment, for a certificate in bollo.
    pub bollo: Option<BolloRef>,
    /// The diritti di segreteria charged, in cents (0 when waived), as the
    /// comune's fee schedule quotes them; printed in the bollo box.
    pub diritti_cents: Option<i64>,
    /// The issue time.
    pub issued_at: OffsetDateTime,
}

/// What a certificate is about.
#[derive(Debug, Clone, Copy)]
pub enum About<'a> {
    /// A person, for the anagrafe certificates.
    Person {
        /// The person and their registry data.
        subject: &'a Subject,
        /// For a contestuale, the kinds it combines.
        parts: &'a [CertificateKind],
    },
    /// Land, for a CDU.
    Land {
        /// Who asked for it.
        applicant: &'a Holder,
        /// The parcels, as the registry holds them.
        parcels: &'a [Parcel],
    },
}

/// A certificate ready to store: sealed, rendered, checked.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What the seal states.
    pub claims: Claims,
    /// The seal.
    pub seal: Seal,
    /// The PDF, carrying its PAdES electronic seal.
    pub pdf: Vec<u8>,
    /// SHA-256 of the PDF.
    pub pdf_sha256: DocumentDigest,
    /// The QR code's version.
    pub qr_version: i16,
}

/// Why a certificate was not prepared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrepareError {
    /// The registry data do not allow it.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A CDU names no parcel.
    #[error("il certificato di destinazione urbanistica richiede almeno una particella")]
    NoParcels,
    /// A certificate in bollo needs its payment first.
    #[error(
        "il certificato in bollo richiede il pagamento dell'imposta di bollo prima del rilascio"
    )]
    BolloNotPaid,
    /// The pagoPA notice number could not be derived (a segregation code
    /// out of range).
    #[error("numero di avviso pagoPA non valido: {0}")]
    Notice(String),
    /// The kind or the use is not valid.
    #[error(transparent)]
    Catalogue(#[from] catalogue::CatalogueError),
    /// The template could not be rendered.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The seal could not be made or does not verify.
    #[error("sigillo: {0}")]
    Seal(#[from] seal::SealError),
    /// The QR code could not be made or does not read back.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The PDF could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The PDF could not be sealed.
    #[error("sigillo elettronico del PDF: {0}")]
    Pades(#[from] PadesError),
}

/// Prepares a certificate. The seal is verified with `trust` and its QR
/// code decoded back from a raster before the PDF is made: a certificate
/// that would not scan is never issued.
pub fn prepare(
    draft: &Draft<'_>,
    number: CertificateNumber,
    status_index: u32,
    templates: &Templates,
    signer: &KeySigner,
    trust: &TrustStore,
) -> Result<Prepared, PrepareError> {
    let spec = draft.spec;
    let content = match draft.about {
        About::Person { subject, parts } => {
            eligibility::check(spec.kind, parts, subject)?;
            content::build(spec.kind, parts, subject)
        }
        About::Land { applicant, parcels } => {
            if spec.kind != CertificateKind::DestinazioneUrbanistica {
                return Err(Refusal::NotAPersonCertificate.into());
            }
            if parcels.is_empty() {
                return Err(PrepareError::NoParcels);
            }
            content::build_cdu(applicant, parcels)
        }
    };
    let usage = effective_usage(spec, &draft.usage);
    if usage.stamp == Stamp::Bollo && draft.bollo.is_none() {
        return Err(PrepareError::BolloNotPaid);
    }
    let issued_at = draft
        .issued_at
        .replace_nanosecond(0)
        .unwrap_or(draft.issued_at);
    let frame = Frame {
        comune: draft.comune.name.clone(),
        uso: usage_sentence(&usage, spec.stato_civile),
        clausola: clause_sentence(usage.clause).to_owned(),
        validita: spec.validity.sentence().to_owned(),
    };
    let body = templates.render(draft.comune.code, spec.slug, &frame, &content.context)?;
    let mut claims = Claims {
        issuer: draft.comune.code,
        issued_at,
        expires_at: spec.validity.expiry(issued_at),
        number,
        kind: spec.kind,
        holder: content.holder,
        facts: content.facts,
        usage: usage.clone(),
        // An exempt certificate (stato civile kinds are, whatever the
        // declared use) names no payment.
        bollo: match usage.stamp {
            Stamp::Bollo => draft.bollo.clone(),
            Stamp::Exempt { .. } => None,
        },
        status_index,
        demo: draft.comune.demo,
    };
    // A CDU always travels as a digest: its parcels and zones are the
    // certificate, and the registry shows them in full online. Other kinds
    // fall back to a digest only when their facts would not print legibly.
    if spec.kind == CertificateKind::DestinazioneUrbanistica {
        claims.facts = Facts::digest_of(&body_text(&body));
    }
    let mut seal = Seal::sign(&claims, signer)?;
    if seal.as_bytes().len() > MAX_TYPED_SEAL_BYTES {
        claims.facts = Facts::digest_of(&body_text(&body));
        seal = Seal::sign(&claims, signer)?;
    }
    seal::verify(seal.as_bytes(), trust, issued_at)?;
    let qr = SealQr::encode(&qr_text(&draft.comune.verification_host, &seal.to_digits()))?;
    qr.check_readable()?;
    let qr_version = qr.version();
    let page = CertificatePage {
        comune_name: draft.comune.name.clone(),
        comune_subtitle: subtitle(draft.comune, spec.kind),
        title: spec.kind.title().to_uppercase(),
        number: number.to_string(),
        body,
        bollo: {
            let mut lines = bollo_lines(draft.comune, &usage, draft.bollo.as_ref());
            lines.extend(draft.diritti_cents.map(diritti_line));
            lines
        },
        qr,
        verification_address: format!("{}/v", draft.comune.verification_host),
        how_to_check: format!(
            "Inquadra il codice QR con la fotocamera del telefono, oppure apri {}/v e carica questo PDF: la pagina indica se il certificato è autentico e in corso di validità e ne mostra il contenuto, da confrontare con questa copia.",
            draft.comune.verification_host
        ),
        place_and_date: format!("{}, {}", draft.comune.name, rome::date_text(issued_at)),
        demo: draft.comune.demo,
        seal_url: seal.to_url(&draft.comune.verification_host),
        created_at: issued_at,
    };
    let rendered = pdf::render(&page)?;
    let options = SignOptions {
        signing_time: issued_at,
        name: format!("Comune di {}", draft.comune.name),
        reason: format!("{} n. {number}", spec.kind.title()),
        location: draft.comune.name.clone(),
    };
    let pdf = pades::sign_pdf(&rendered, signer, &options)?;
    let pdf_sha256 = DocumentDigest::of(&pdf);
    Ok(Prepared {
        claims,
        seal,
        pdf,
        pdf_sha256,
        qr_version,
    })
}

/// The use that applies: certificates of the stato civile registers are
/// exempt by law whatever the requester declared.
fn effective_usage(spec: &KindSpec, usage: &Usage) -> Usage {
    if spec.stato_civile {
        Usage {
            stamp: Stamp::Exempt {
                code: STATO_CIVILE_EXEMPTION,
                note: None,
            },
            clause: usage.clause,
        }
    } else {
        usage.clone()
    }
}

fn subtitle(comune: &ComuneRecord, kind: CertificateKind) -> String {
    let office = if kind == CertificateKind::DestinazioneUrbanistica {
        "Servizio urbanistica"
    } else {
        "Servizi demografici"
    };
    format!("Provincia di {} — {office}", comune.province)
}

/// The diritti di segreteria as the bollo box prints them.
fn diritti_line(cents: i64) -> String {
    if cents == 0 {
        "Diritti di segreteria: non dovuti.".to_owned()
    } else {
        format!(
            "Diritti di segreteria: € {},{:02}.",
            cents / 100,
            cents % 100
        )
    }
}

fn bollo_lines(comune: &ComuneRecord, usage: &Usage, bollo: Option<&BolloRef>) -> Vec<String> {
    match (&usage.stamp, bollo) {
        (Stamp::Exempt { code, note }, _) => {
            let exemption = exemption_by_id(*code);
            let what = match (code, note) {
                (99, Some(note)) => note.clone(),
                _ => exemption
                    .map(|e| e.description.to_owned())
                    .unwrap_or_default(),
            };
            let norm = exemption.map(|e| e.norm).unwrap_or_default();
            vec![format!("Esente dall'imposta di bollo: {what} ({norm}).")]
        }
        (Stamp::Bollo, Some(BolloRef::Iuv(iuv))) => {
            let authorization = match &comune.bollo_mode {
                BolloMode::Virtuale {
                    authorization,
                    authorized_on,
                } => format!(
                    "autorizzazione n. {authorization} del {}",
                    seal::rome::day_text(*authorized_on)
                ),
                BolloMode::MarcaDigitale => "autorizzazione non indicata".to_owned(),
            };
            vec![
                format!("Imposta di bollo assolta in modo virtuale, {authorization}."),
                format!("Pagamento pagoPA, IUV {iuv}."),
            ]
        }
        (Stamp::Bollo, Some(BolloRef::Iubd(iubd))) => vec![
            "Imposta di bollo assolta mediante marca da bollo digitale (@e.bollo).".to_owned(),
            format!("IUBD {iubd}."),
        ],
        (Stamp::Bollo, Some(BolloRef::MarcaDigitale)) => vec![
            "Imposta di bollo assolta mediante marca da bollo digitale (@e.bollo) associata \
             all'impronta di questo documento."
                .to_owned(),
            "Il codice IUBD della marca è indicato dalla verifica online.".to_owned(),
        ],
        (Stamp::Bollo, Some(BolloRef::Marca { id, issued_on })) => vec![format!(
            "Imposta di bollo assolta con marca da bollo n. {id} emessa il {}, applicata sull'originale rilasciato allo sportello.",
            seal::rome::day_text(*issued_on)
        )],
        (Stamp::Bollo, None) => vec!["Imposta di bollo da assolvere.".to_owned()],
    }
}

/// The certificate's text as one string, for the facts digest.
fn body_text(body: &[Block]) -> String {
    let mut text = String::new();
    for block in body {
        match block {
            Block::Heading(line) | Block::Paragraph(line) => text.push_str(line),
            Block::Table(rows) => {
                for row in rows {
                    text.push_str(&row.join(" | "));
                    text.push('\n');
                }
            }
        }
        text.push('\n');
    }
    text
}
