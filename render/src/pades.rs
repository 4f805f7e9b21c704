//! The PDF's own electronic seal: a PAdES baseline signature (ETSI EN
//! 319 142-1, level B-B) added to a finished PDF as an incremental update.
//!
//! ```no_run
//! # fn demo(pdf: &[u8], signer: &keys::KeySigner) -> Result<Vec<u8>, render::pades::PadesError> {
//! use render::pades::{SignOptions, sign_pdf};
//! let options = SignOptions {
//!     signing_time: time::OffsetDateTime::now_utc(),
//!     name: "Comune di Borgo Sigillo".into(),
//!     reason: "Rilascio del certificato".into(),
//!     location: "Borgo Sigillo".into(),
//! };
//! let signed = sign_pdf(pdf, signer, &options)?;
//! assert!(signed.starts_with(pdf));
//! # Ok(signed) }
//! ```
//!
//! The input's bytes stay untouched at the start of the output. After them
//! come, as ISO 32000-1 §7.5.6 describes an incremental update:
//!
//! - the signature dictionary (`/Type /Sig`, `/Filter /Adobe.PPKLite`,
//!   `/SubFilter /ETSI.CAdES.detached`, `/ByteRange`, `/Contents`, `/M`,
//!   `/Name`, `/Reason`, `/Location`);
//! - an invisible signature field merged with its widget annotation
//!   (`/FT /Sig`, `/Rect [0 0 0 0]`, printable), on the first page;
//! - new versions of the first page (the widget added to `/Annots`) and of
//!   the catalog (the field added to `/AcroForm` with `/SigFlags 3`, and, as
//!   pyHanko does for PAdES, `/Version /1.7` and the `/ESIC` developer
//!   extension at level 1 when the file declares an older version);
//! - a cross-reference section in the style the file already uses — a table
//!   after a table, a cross-reference stream after a stream, since a file
//!   that switched to streams cannot go back to tables — and its trailer,
//!   whose `/Prev` points at the file's last section.
//!
//! `/ByteRange` covers the whole file except the `/Contents` hex string,
//! angle brackets included. It is written into a fixed-width placeholder,
//! so filling it moves nothing; then the two ranges are hashed and the CMS
//! is written, hex-encoded and zero-padded, into the space `/Contents`
//! reserved ([`CONTENTS_RESERVED`] bytes of DER).
//!
//! The CMS is a detached SignedData (RFC 5652): `eContentType` id-data and
//! no `eContent`, digest SHA-256, signature ecdsa-with-SHA256, the signer
//! identified by issuer and serial number, every certificate of the chain
//! embedded. The signed attributes are exactly content-type, message-digest
//! and ESS signing-certificate-v2 (RFC 5035). PAdES B-B forbids the CMS
//! signing-time attribute; the claimed signing time is the `/M` entry.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode as _, Encode as _, Sequence};
use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use seal::SignerError;
use sha2::{Digest as _, Sha256};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

/// Bytes of DER reserved for the CMS in `/Contents` (written as twice as
/// many hex digits). A signature with two P-256 certificates takes about
/// 1.7 KiB; 4 KiB leaves room for a longer chain or a timestamp token while
/// keeping a certificate under 40 KB.
pub const CONTENTS_RESERVED: usize = 4096;

/// Who signs: the certificates to embed and an ECDSA P-256 key.
///
/// [`keys::KeySigner`] implements it; a hardware key can too.
pub trait CmsSigner {
    /// The certificates in DER: the signer's first, then those up to its
    /// CA. Every one is embedded in the signature.
    fn certificate_chain(&self) -> &[Vec<u8>];

    /// Signs `message` with ECDSA P-256 over its SHA-256 digest (the signer
    /// hashes) and returns the DER `Ecdsa-Sig-Value`.
    fn sign_ecdsa_p256_sha256(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;
}

impl CmsSigner for keys::KeySigner {
    fn certificate_chain(&self) -> &[Vec<u8>] {
        keys::KeySigner::certificate_chain(self)
    }

    fn sign_ecdsa_p256_sha256(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.sign_asn1(message)
    }
}

/// What the signature dictionary says besides the signature itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOptions {
    /// The claimed signing time, written to `/M` with its UTC offset. It
    /// must fall within the signer certificate's validity.
    pub signing_time: OffsetDateTime,
    /// Who signs (`/Name`), e.g. the comune.
    pub name: String,
    /// Why (`/Reason`), e.g. the issuance of a certificate.
    pub reason: String,
    /// Where (`/Location`).
    pub location: String,
}

/// Why a PDF could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PadesError {
    /// The input could not be read as a PDF.
    #[error("il file non è un PDF leggibile: {0}")]
    NotPdf(String),
    /// The PDF is encrypted; new objects would have to be encrypted too,
    /// which is not supported.
    #[error("il PDF è cifrato: la firma di PDF cifrati non è supportata")]
    Encrypted,
    /// The PDF has no page to carry the signature field.
    #[error("il PDF non ha pagine")]
    NoPages,
    /// The PDF's structure is one this module cannot update (for example
    /// no `startxref`, or a catalog that is not a dictionary).
    #[error("struttura del PDF non supportata: {0}")]
    Unsupported(String),
    /// The signer presented no certificate.
    #[error("il firmatario non presenta alcun certificato")]
    NoCertificate,
    /// A certificate of the signer's chain cannot be used: not DER, or the
    /// signer's key is not ECDSA P-256.
    #[error("certificato del firmatario non utilizzabile: {0}")]
    BadCertificate(String),
    /// The signing time falls outside the signer certificate's validity.
    #[error("l'ora della firma {0} è fuori dal periodo di validità del certificato")]
    OutsideValidity(OffsetDateTime),
    /// The signer could not sign.
    #[error("firma non riuscita: {0}")]
    Signer(#[from] SignerError),
    /// The CMS structure could not be encoded.
    #[error("codifica CMS non riuscita: {0}")]
    Cms(String),
    /// The CMS is larger than the space reserved for it in the file.
    #[error("la firma CMS ({size} byte) non entra nello spazio riservato ({reserved} byte)")]
    CmsTooLarge {
        /// The CMS's size in bytes.
        size: usize,
        /// The bytes reserved.
        reserved: usize,
    },
}

/// Seals `pdf` with a PAdES B-B signature made by `signer`: returns the
/// input followed by an incremental update that holds the signature. See
/// the module documentation for what is added.
pub fn sign_pdf(
    pdf: &[u8],
    signer: &dyn CmsSigner,
    options: &SignOptions,
) -> Result<Vec<u8>, PadesError> {
    let chain = Chain::parse(signer.certificate_chain())?;
    chain.check_valid_at(options.signing_time)?;
    let original = Original::read(pdf)?;
    let mut update = original.append_update(options)?;
    let digest = update.fill_byte_range()?;
    let cms = build_cms(&digest, &chain, signer)?;
    update.fill_contents(&cms)?;
    Ok(update.bytes)
}

// ---------------------------------------------------------------------------
// Certificates

/// The signer's certificates, parsed, with the signer's DER kept as given.
struct Chain {
    signer: Certificate,
    signer_der: Vec<u8>,
    all: Vec<Certificate>,
}

impl Chain {
    fn parse(ders: &[Vec<u8>]) -> Result<Self, PadesError> {
        let signer_der = ders.first().ok_or(PadesError::NoCertificate)?.clone();
        let mut all = Vec::with_capacity(ders.len());
        let mut seen = BTreeSet::new();
        for der in ders {
            if !seen.insert(der.as_slice()) {
                continue;
            }
            let certificate = Certificate::from_der(der)
                .map_err(|e| PadesError::BadCertificate(e.to_string()))?;
            // What is hashed for signing-certificate-v2 must be what is embedded.
            if certificate.to_der().ok().as_deref() != Some(der.as_slice()) {
                return Err(PadesError::BadCertificate(
                    "la codifica non è DER canonica".into(),
                ));
            }
            all.push(certificate);
        }
        let signer = all.first().ok_or(PadesError::NoCertificate)?.clone();
        let key = &signer.tbs_certificate.subject_public_key_info.algorithm;
        let curve = key
            .parameters
            .as_ref()
            .and_then(|parameters| parameters.decode_as::<ObjectIdentifier>().ok());
        if key.oid != rfc5912::ID_EC_PUBLIC_KEY || curve != Some(rfc5912::SECP_256_R_1) {
            return Err(PadesError::BadCertificate(
                "la chiave del firmatario non è ECDSA P-256".into(),
            ));
        }
        Ok(Self {
            signer,
            signer_der,
            all,
        })
    }

    fn check_valid_at(&self, time: OffsetDateTime) -> Result<(), PadesError> {
        let validity = &self.signer.tbs_certificate.validity;
        let seconds = |t: x509_cert::time::Time| i128::from(t.to_unix_duration().as_secs());
        let at = i128::from(time.unix_timestamp());
        if at < seconds(validity.not_before) || at > seconds(validity.not_after) {
            return Err(PadesError::OutsideValidity(time));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The CMS

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
/// policies ... OPTIONAL }` (RFC 5035 §3); no policies.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT
/// {algorithm id-sha256}, certHash OCTET STRING, issuerSerial OPTIONAL }`
/// (RFC 5035 §4). The hash is SHA-256, the default, which DER leaves out;
/// issuerSerial is optional and left out too.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
}

fn build_cms(digest: &[u8], chain: &Chain, signer: &dyn CmsSigner) -> Result<Vec<u8>, PadesError> {
    let signed_attributes = signed_attributes(digest, &chain.signer_der).map_err(cms_error)?;
    // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF.
    let to_sign = signed_attributes.to_der().map_err(cms_error)?;
    let signature = signer.sign_ecdsa_p256_sha256(&to_sign)?;

    let sha256 = AlgorithmIdentifierOwned {
        oid: rfc5912::ID_SHA_256,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: chain.signer.tbs_certificate.issuer.clone(),
            serial_number: chain.signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed_attributes),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: rfc5912::ECDSA_WITH_SHA_256,
            parameters: None,
        },
        signature: OctetString::new(signature).map_err(cms_error)?,
        unsigned_attrs: None,
    };
    let certificates = chain
        .all
        .iter()
        .cloned()
        .map(CertificateChoices::Certificate)
        .collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(cms_error)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet::try_from(certificates).map_err(cms_error)?),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(cms_error)?,
    };
    ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(cms_error)?,
    }
    .to_der()
    .map_err(cms_error)
}

/// Content-type (id-data), message-digest and signing-certificate-v2:
/// what PAdES B-B requires, and nothing else.
fn signed_attributes(digest: &[u8], signer_der: &[u8]) -> der::Result<SignedAttributes> {
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(signer_der).to_vec())?,
        }],
    };
    SetOfVec::try_from(vec![
        attribute(rfc5911::ID_CONTENT_TYPE, &rfc5911::ID_DATA)?,
        attribute(rfc5911::ID_MESSAGE_DIGEST, &OctetString::new(digest)?)?,
        attribute(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, &signing_certificate)?,
    ])
}

fn attribute(
    oid: ObjectIdentifier,
    value: &(impl der::Tagged + der::EncodeValue),
) -> der::Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![Any::encode_from(value)?])?,
    })
}

fn cms_error(error: der::Error) -> PadesError {
    PadesError::Cms(error.to_string())
}

// ---------------------------------------------------------------------------
// Reading the original file

/// How the file's last cross-reference section is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XrefStyle {
    /// A classic `xref` table followed by `trailer`.
    Table,
    /// A cross-reference stream (PDF 1.5).
    Stream,
}

struct Original<'a> {
    bytes: &'a [u8],
    document: Document,
    /// Offset of the last cross-reference section: the update's `/Prev`.
    last_xref: usize,
    style: XrefStyle,
}

impl<'a> Original<'a> {
    fn read(bytes: &'a [u8]) -> Result<Self, PadesError> {
        let document = Document::load_mem(bytes).map_err(|e| PadesError::NotPdf(e.to_string()))?;
        if document.is_encrypted() || document.was_encrypted() {
            return Err(PadesError::Encrypted);
        }
        let last_xref = last_startxref(bytes)?;
        let style = xref_style(bytes, last_xref)?;
        Ok(Self {
            bytes,
            document,
            last_xref,
            style,
        })
    }

    fn append_update(&self, options: &SignOptions) -> Result<Update, PadesError> {
        let doc = &self.document;
        let root_id = doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| unsupported("il trailer non ha /Root"))?;
        let mut catalog = doc
            .get_dictionary(root_id)
            .map_err(|_| unsupported("il catalogo non è un dizionario"))?
            .clone();
        let page_id = doc.page_iter().next().ok_or(PadesError::NoPages)?;
        let mut page = doc
            .get_dictionary(page_id)
            .map_err(|_| unsupported("la prima pagina non è un dizionario"))?
            .clone();

        let first_new = first_free_number(doc)?;
        let signature_id: ObjectId = (first_new, 0);
        let widget_id: ObjectId = (next_number(first_new)?, 0);
        let after_widget = next_number(widget_id.0)?;

        let mut changed: BTreeMap<ObjectId, Object> = BTreeMap::new();

        let mut annots = array_entry(doc, &page, b"Annots")?;
        annots.push(Object::Reference(widget_id));
        page.set("Annots", annots);

        let (acroform_id, mut acroform) = match catalog.get(b"AcroForm") {
            Err(_) => (None, Dictionary::new()),
            Ok(Object::Dictionary(dict)) => (None, dict.clone()),
            Ok(Object::Reference(id)) => (
                Some(*id),
                doc.get_dictionary(*id)
                    .map_err(|_| unsupported("/AcroForm non è un dizionario"))?
                    .clone(),
            ),
            Ok(_) => return Err(unsupported("/AcroForm non è un dizionario")),
        };
        let mut fields = array_entry(doc, &acroform, b"Fields")?;
        let field_name = unique_field_name(doc, &fields);
        fields.push(Object::Reference(widget_id));
        acroform.set("Fields", fields);
        let sig_flags = acroform
            .get(b"SigFlags")
            .and_then(Object::as_i64)
            .unwrap_or(0);
        // SignaturesExist (1) and AppendOnly (2): ISO 32000-1 table 219.
        acroform.set("SigFlags", sig_flags | 3);
        match acroform_id {
            Some(id) => insert_changed(&mut changed, id, Object::Dictionary(acroform))?,
            None => catalog.set("AcroForm", acroform),
        }
        declare_pades(doc, &mut catalog);

        let widget = Dictionary::from_iter([
            ("Type", Object::Name(b"Annot".to_vec())),
            ("Subtype", Object::Name(b"Widget".to_vec())),
            ("FT", Object::Name(b"Sig".to_vec())),
            ("T", Object::String(field_name, StringFormat::Literal)),
            ("V", Object::Reference(signature_id)),
            ("F", Object::Integer(4)), // Print
            (
                "Rect",
                Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
            ),
            ("P", Object::Reference(page_id)),
        ]);
        insert_changed(&mut changed, widget_id, Object::Dictionary(widget))?;
        insert_changed(&mut changed, page_id, Object::Dictionary(page))?;
        insert_changed(&mut changed, root_id, Object::Dictionary(catalog))?;

        let mut update = Update::start(self.bytes);
        update.write_signature_dictionary(signature_id, options)?;
        for (id, object) in &changed {
            update.write_object(*id, object)?;
        }
        let trailer = self.trailer_entries(root_id);
        match self.style {
            XrefStyle::Table => update.write_xref_table(trailer, after_widget, self.last_xref)?,
            XrefStyle::Stream => {
                update.write_xref_stream(trailer, (after_widget, 0), self.last_xref)?
            }
        }
        Ok(update)
    }

    /// The previous trailer's entries that every later trailer repeats
    /// (ISO 32000-1 §7.5.6); `/Size` and `/Prev` are the update's own.
    fn trailer_entries(&self, root_id: ObjectId) -> Dictionary {
        let mut trailer = Dictionary::new();
        trailer.set("Root", Object::Reference(root_id));
        for key in [&b"Info"[..], b"ID"] {
            if let Ok(value) = self.document.trailer.get(key) {
                trailer.set(key, value.clone());
            }
        }
        trailer
    }
}

/// The first object number not in use.
fn first_free_number(doc: &Document) -> Result<u32, PadesError> {
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|size| u32::try_from(size).ok())
        .unwrap_or(0);
    Ok(size.max(next_number(doc.max_id)?))
}

fn next_number(number: u32) -> Result<u32, PadesError> {
    number
        .checked_add(1)
        .ok_or_else(|| unsupported("numeri di oggetto esauriti"))
}

fn insert_changed(
    changed: &mut BTreeMap<ObjectId, Object>,
    id: ObjectId,
    object: Object,
) -> Result<(), PadesError> {
    if changed.insert(id, object).is_some() {
        return Err(unsupported("lo stesso oggetto ha due ruoli"));
    }
    Ok(())
}

/// An array entry of `dict` (`/Annots`, `/Fields`), direct or indirect;
/// empty when absent.
fn array_entry(doc: &Document, dict: &Dictionary, key: &[u8]) -> Result<Vec<Object>, PadesError> {
    let Ok(value) = dict.get(key) else {
        return Ok(Vec::new());
    };
    match doc.dereference(value) {
        Ok((_, Object::Array(items))) => Ok(items.clone()),
        Ok((_, Object::Null)) => Ok(Vec::new()),
        _ => Err(unsupported(&format!(
            "/{} non è un array",
            String::from_utf8_lossy(key)
        ))),
    }
}

/// A field name no top-level field has: `Sigillo`, `Sigillo 2`, …
fn unique_field_name(doc: &Document, fields: &[Object]) -> Vec<u8> {
    let taken: BTreeSet<Vec<u8>> = fields
        .iter()
        .filter_map(|field| match doc.dereference(field) {
            Ok((_, Object::Dictionary(dict))) => dict.get(b"T").ok(),
            _ => None,
        })
        .filter_map(|name| name.as_str().ok().map(<[u8]>::to_vec))
        .collect();
    let mut name = b"Sigillo".to_vec();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("Sigillo {n}").into_bytes();
    }
    name
}

/// Declares the PAdES structures the way pyHanko does: at least PDF 1.7,
/// and below 2.0 the ETSI `/ESIC` developer extension at level 1.
fn declare_pades(doc: &Document, catalog: &mut Dictionary) {
    let header = parse_version(doc.version.as_bytes());
    let declared = catalog
        .get(b"Version")
        .and_then(Object::as_name)
        .ok()
        .and_then(parse_version);
    let version = header.max(declared).unwrap_or((1, 0));
    if version < (1, 7) {
        catalog.set("Version", Object::Name(b"1.7".to_vec()));
    }
    if version >= (2, 0) {
        return;
    }
    let mut extensions = match catalog.get(b"Extensions") {
        Ok(value) => match doc.dereference(value) {
            Ok((_, Object::Dictionary(dict))) => dict.clone(),
            _ => Dictionary::new(),
        },
        Err(_) => Dictionary::new(),
    };
    if !extensions.has(b"ESIC") {
        extensions.set(
            "ESIC",
            Dictionary::from_iter([
                ("BaseVersion", Object::Name(b"1.7".to_vec())),
                ("ExtensionLevel", Object::Integer(1)),
            ]),
        );
        catalog.set("Extensions", extensions);
    }
}

fn parse_version(text: &[u8]) -> Option<(u8, u8)> {
    let text = std::str::from_utf8(text).ok()?;
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The offset after the file's last `startxref` keyword.
fn last_startxref(pdf: &[u8]) -> Result<usize, PadesError> {
    const KEYWORD: &[u8] = b"startxref";
    let at = pdf
        .windows(KEYWORD.len())
        .rposition(|window| window == KEYWORD)
        .ok_or_else(|| unsupported("manca startxref"))?;
    let rest = pdf.get(at + KEYWORD.len()..).unwrap_or_default();
    let rest = trim_start_whitespace(rest);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits])
        .ok()
        .and_then(|text| text.parse::<usize>().ok())
        .filter(|&offset| offset < pdf.len())
        .ok_or_else(|| unsupported("startxref non valido"))
}

/// Whether the section at `offset` is a table (`xref`) or a stream
/// (`N G obj` with `/Type /XRef`).
fn xref_style(pdf: &[u8], offset: usize) -> Result<XrefStyle, PadesError> {
    let section = pdf.get(offset..).unwrap_or_default();
    if section.starts_with(b"xref") {
        return Ok(XrefStyle::Table);
    }
    let mut rest = section;
    for _ in 0..2 {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(unsupported("startxref non punta a una sezione xref"));
        }
        rest = trim_start_whitespace(&rest[digits..]);
    }
    if rest.starts_with(b"obj") {
        let head = &rest[..rest.len().min(1024)];
        let dict_end = find(head, b"stream").unwrap_or(head.len());
        if find(&head[..dict_end], b"/XRef").is_some() {
            return Ok(XrefStyle::Stream);
        }
    }
    Err(unsupported("startxref non punta a una sezione xref"))
}

fn trim_start_whitespace(bytes: &[u8]) -> &[u8] {
    let skip = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0'))
        .count();
    &bytes[skip..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn unsupported(what: &str) -> PadesError {
    PadesError::Unsupported(what.to_string())
}

// ---------------------------------------------------------------------------
// Writing the update

/// Width of the `/ByteRange` array's inside: four numbers of up to ten
/// digits and their separators.
const BYTE_RANGE_WIDTH: usize = 4 * 10 + 3;

/// The file being written: the original, then the update.
struct Update {
    bytes: Vec<u8>,
    /// Number and offset of each object written, with its generation.
    offsets: BTreeMap<u32, (u16, usize)>,
    /// Where the inside of the `/ByteRange` brackets is.
    byte_range: Range<usize>,
    /// Where the `/Contents` string is, angle brackets included.
    contents: Range<usize>,
}

impl Update {
    fn start(original: &[u8]) -> Self {
        let mut bytes = Vec::with_capacity(original.len() + 2 * CONTENTS_RESERVED + 4096);
        bytes.extend_from_slice(original);
        if !matches!(original.last(), Some(b'\n' | b'\r')) {
            bytes.push(b'\n');
        }
        Self {
            bytes,
            offsets: BTreeMap::new(),
            byte_range: 0..0,
            contents: 0..0,
        }
    }

    fn write_signature_dictionary(
        &mut self,
        id: ObjectId,
        options: &SignOptions,
    ) -> Result<(), PadesError> {
        self.begin_object(id);
        self.bytes.extend_from_slice(
            b"<<\n/Type /Sig\n/Filter /Adobe.PPKLite\n/SubFilter /ETSI.CAdES.detached\n/ByteRange [",
        );
        let start = self.bytes.len();
        self.bytes.resize(start + BYTE_RANGE_WIDTH, b' ');
        self.byte_range = start..self.bytes.len();
        self.bytes.extend_from_slice(b"]\n/Contents ");
        let start = self.bytes.len();
        self.bytes.push(b'<');
        self.bytes
            .resize(self.bytes.len() + 2 * CONTENTS_RESERVED, b'0');
        self.bytes.push(b'>');
        self.contents = start..self.bytes.len();
        self.bytes.extend_from_slice(b"\n/M ");
        let date = pdf_date(options.signing_time);
        self.append_object(&Object::String(date.into_bytes(), StringFormat::Literal))?;
        for (key, text) in [
            (&b"Name"[..], &options.name),
            (b"Reason", &options.reason),
            (b"Location", &options.location),
        ] {
            self.bytes.push(b'\n');
            self.append_object(&Object::Name(key.to_vec()))?;
            self.bytes.push(b' ');
            self.append_object(&lopdf::text_string(text))?;
        }
        self.bytes.extend_from_slice(b"\n>>");
        self.end_object();
        Ok(())
    }

    fn write_object(&mut self, id: ObjectId, object: &Object) -> Result<(), PadesError> {
        self.begin_object(id);
        self.append_object(object)?;
        self.end_object();
        Ok(())
    }

    fn begin_object(&mut self, (number, generation): ObjectId) {
        self.offsets.insert(number, (generation, self.bytes.len()));
        self.bytes
            .extend_from_slice(format!("{number} {generation} obj\n").as_bytes());
    }

    fn end_object(&mut self) {
        self.bytes.extend_from_slice(b"\nendobj\n");
    }

    fn append_object(&mut self, object: &Object) -> Result<(), PadesError> {
        lopdf::Writer::write_object(&mut self.bytes, object)
            .map_err(|e| unsupported(&e.to_string()))
    }

    fn write_xref_table(
        &mut self,
        mut trailer: Dictionary,
        size: u32,
        prev: usize,
    ) -> Result<(), PadesError> {
        let xref_at = self.bytes.len();
        let mut table = String::from("xref\n");
        for (first, entries) in runs(&self.offsets) {
            table.push_str(&format!("{first} {}\n", entries.len()));
            for (generation, offset) in entries {
                // Each entry is exactly 20 bytes (ISO 32000-1 §7.5.4).
                table.push_str(&format!("{offset:010} {generation:05} n\r\n"));
            }
        }
        self.bytes.extend_from_slice(table.as_bytes());
        trailer.set("Size", i64::from(size));
        trailer.set("Prev", offset_object(prev)?);
        self.bytes.extend_from_slice(b"trailer\n");
        self.append_object(&Object::Dictionary(trailer))?;
        self.bytes.push(b'\n');
        self.finish(xref_at);
        Ok(())
    }

    fn write_xref_stream(
        &mut self,
        mut dict: Dictionary,
        id: ObjectId,
        prev: usize,
    ) -> Result<(), PadesError> {
        let xref_at = self.bytes.len();
        self.offsets.insert(id.0, (id.1, xref_at));
        // Offsets in as many bytes as the largest needs (the stream's own).
        let width = (usize::BITS - xref_at.leading_zeros()).div_ceil(8).max(1) as usize;
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (first, entries) in runs(&self.offsets) {
            index.push(Object::Integer(i64::from(first)));
            index.push(Object::Integer(entries.len() as i64));
            for (generation, offset) in entries {
                data.push(1);
                data.extend_from_slice(&offset.to_be_bytes()[size_of::<usize>() - width..]);
                data.extend_from_slice(&generation.to_be_bytes());
            }
        }
        dict.set("Type", Object::Name(b"XRef".to_vec()));
        dict.set("Size", i64::from(next_number(id.0)?));
        dict.set("Index", index);
        dict.set("W", vec![1.into(), Object::Integer(width as i64), 2.into()]);
        dict.set("Prev", offset_object(prev)?);
        dict.set("Length", data.len() as i64);
        self.begin_object(id);
        self.append_object(&Object::Dictionary(dict))?;
        self.bytes.extend_from_slice(b"\nstream\n");
        self.bytes.extend_from_slice(&data);
        self.bytes.extend_from_slice(b"\nendstream");
        self.end_object();
        self.finish(xref_at);
        Ok(())
    }

    fn finish(&mut self, xref_at: usize) {
        self.bytes
            .extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
    }

    /// Writes `/ByteRange` and returns the SHA-256 digest of the bytes it
    /// covers.
    fn fill_byte_range(&mut self) -> Result<[u8; 32], PadesError> {
        let Range { start, end } = self.contents;
        let after = self.bytes.len() - end;
        let text = format!("0 {start} {end} {after}");
        if text.len() > BYTE_RANGE_WIDTH {
            return Err(unsupported("file troppo grande per /ByteRange"));
        }
        self.bytes[self.byte_range.start..self.byte_range.start + text.len()]
            .copy_from_slice(text.as_bytes());
        let mut hasher = Sha256::new();
        hasher.update(&self.bytes[..start]);
        hasher.update(&self.bytes[end..]);
        Ok(hasher.finalize().into())
    }

    /// Writes the CMS, hex-encoded, into the reserved `/Contents`.
    fn fill_contents(&mut self, cms: &[u8]) -> Result<(), PadesError> {
        if cms.len() > CONTENTS_RESERVED {
            return Err(PadesError::CmsTooLarge {
                size: cms.len(),
                reserved: CONTENTS_RESERVED,
            });
        }
        let start = self.contents.start + 1;
        hex::encode_to_slice(cms, &mut self.bytes[start..start + 2 * cms.len()])
            .map_err(|e| PadesError::Cms(e.to_string()))
    }
}

/// The written objects grouped into runs of consecutive numbers, one
/// cross-reference subsection each: the first number, then each object's
/// generation and offset.
fn runs(offsets: &BTreeMap<u32, (u16, usize)>) -> Vec<(u32, Vec<(u16, usize)>)> {
    let mut runs: Vec<(u32, Vec<(u16, usize)>)> = Vec::new();
    for (&number, &entry) in offsets {
        match runs.last_mut() {
            Some((first, entries))
                if u32::try_from(entries.len())
                    .ok()
                    .and_then(|len| first.checked_add(len))
                    == Some(number) =>
            {
                entries.push(entry);
            }
            _ => runs.push((number, vec![entry])),
        }
    }
    runs
}

fn offset_object(offset: usize) -> Result<Object, PadesError> {
    i64::try_from(offset)
        .map(Object::Integer)
        .map_err(|_| unsupported("offset fuori scala"))
}

/// A PDF date (ISO 32000-1 §7.9.4): `D:YYYYMMDDHHmmSS` and the UTC offset,
/// `Z` or `+HH'mm'`.
fn pdf_date(time: OffsetDateTime) -> String {
    let offset = time.offset();
    let zone = if offset.is_utc() {
        "Z".to_string()
    } else {
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!(
            "{sign}{:02}'{:02}'",
            offset.whole_hours().unsigned_abs(),
            offset.minutes_past_hour().unsigned_abs()
        )
    };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{zone}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cms::signed_data::SignedData;
    use keys::{Comune, KeySigner, generate_ca, generate_signer};
    use lopdf::dictionary;
    use time::macros::datetime;

    const SIGNED_AT: OffsetDateTime = datetime!(2026-03-02 10:30:00 +01:00);

    fn signer() -> KeySigner {
        let comune = Comune {
            code: seal::ComuneCode::parse("999001").expect("code"),
            name: "Borgo Sigillo".into(),
        };
        let made = datetime!(2026-01-01 00:00:00 UTC);
        let ca = generate_ca(&comune, made).expect("CA");
        let signer = generate_signer(&comune, &ca, made).expect("signer");
        KeySigner::new(&signer.certificate, &signer.key)
            .expect("key signer")
            .with_ca(&ca.certificate)
    }

    fn options() -> SignOptions {
        SignOptions {
            signing_time: SIGNED_AT,
            name: "Comune di Borgo Sigillo".into(),
            reason: "Rilascio del certificato".into(),
            location: "Forlì".into(),
        }
    }

    fn sample_pdf() -> Vec<u8> {
        let mut doc = Document::with_version("1.4");
        let pages_id = doc.new_object_id();
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).expect("saves");
        bytes
    }

    struct Signed {
        bytes: Vec<u8>,
        byte_range: Vec<usize>,
        signature: Dictionary,
        signed_data: SignedData,
    }

    fn signed() -> (Vec<u8>, Signed, KeySigner) {
        let original = sample_pdf();
        let signer = signer();
        let bytes = sign_pdf(&original, &signer, &options()).expect("signs");
        let doc = Document::load_mem(&bytes).expect("reads back");
        let signature = doc
            .objects
            .values()
            .filter_map(|object| object.as_dict().ok())
            .find(|dict| dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"Sig"))
            .expect("a signature dictionary")
            .clone();
        let byte_range = signature
            .get(b"ByteRange")
            .and_then(Object::as_array)
            .expect("ByteRange")
            .iter()
            .map(|n| usize::try_from(n.as_i64().expect("integer")).expect("offset"))
            .collect();
        let contents = signature
            .get(b"Contents")
            .and_then(Object::as_str)
            .expect("Contents");
        // The DER is followed by the zero padding.
        let mut reader = der::SliceReader::new(contents).expect("reader");
        let content_info = <ContentInfo as der::Decode>::decode(&mut reader).expect("CMS");
        assert_eq!(content_info.content_type, rfc5911::ID_SIGNED_DATA);
        let signed_data = content_info.content.decode_as().expect("SignedData");
        let parts = Signed {
            bytes,
            byte_range,
            signature,
            signed_data,
        };
        (original, parts, signer)
    }

    #[test]
    fn the_original_bytes_are_an_unchanged_prefix() {
        let (original, signed, _) = signed();
        assert_eq!(&signed.bytes[..original.len()], original.as_slice());
        assert!(signed.bytes.len() > original.len() + 2 * CONTENTS_RESERVED);
    }

    #[test]
    fn the_byte_range_covers_the_file_except_the_contents_string() {
        let (_, signed, _) = signed();
        let bytes = &signed.bytes;
        let [zero, a, b, c] = signed.byte_range[..] else {
            panic!("four numbers: {:?}", signed.byte_range)
        };
        assert_eq!(zero, 0);
        assert_eq!(b + c, bytes.len(), "the second range runs to the end");
        assert!(bytes[..a].ends_with(b"/Contents "));
        assert_eq!(bytes[a], b'<');
        assert_eq!(bytes[b - 1], b'>');
        assert_eq!(b - a, 2 * CONTENTS_RESERVED + 2);
        assert!(bytes[a + 1..b - 1].iter().all(u8::is_ascii_hexdigit));
        // pdfsig and pyHanko both expect the gap to be exactly the string.
        let gap = find(&bytes[a..], b">").expect("end of string") + 1;
        assert_eq!(a + gap, b);
    }

    #[test]
    fn the_signed_attributes_are_exactly_content_type_message_digest_and_signing_certificate() {
        let (_, signed, signer) = signed();
        let info = signed.signed_data.signer_infos.0.get(0).expect("a signer");
        let attributes = info.signed_attrs.as_ref().expect("signed attributes");
        let oids: BTreeSet<String> = attributes.iter().map(|a| a.oid.to_string()).collect();
        let expected: BTreeSet<String> = [
            rfc5911::ID_CONTENT_TYPE,
            rfc5911::ID_MESSAGE_DIGEST,
            rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(oids, expected);
        assert_eq!(attributes.len(), 3);

        let value = |oid| {
            let attribute = attributes.iter().find(|a| a.oid == oid).expect("present");
            assert_eq!(attribute.values.len(), 1, "one value");
            attribute
                .values
                .get(0)
                .expect("value")
                .to_der()
                .expect("DER")
        };
        assert_eq!(
            value(rfc5911::ID_CONTENT_TYPE),
            rfc5911::ID_DATA.to_der().expect("DER")
        );

        let [_, a, b, c] = signed.byte_range[..] else {
            panic!("four numbers")
        };
        let mut hasher = Sha256::new();
        hasher.update(&signed.bytes[..a]);
        hasher.update(&signed.bytes[b..b + c]);
        let digest = hasher.finalize();
        let mut expected_digest = vec![0x04, 0x20];
        expected_digest.extend_from_slice(&digest);
        assert_eq!(value(rfc5911::ID_MESSAGE_DIGEST), expected_digest);

        // SEQUENCE { SEQUENCE OF { ESSCertIDv2 { certHash } } }: hashAlgorithm
        // is SHA-256, its DEFAULT, so it is absent; no issuerSerial.
        let cert_hash = Sha256::digest(&signer.certificate_chain()[0]);
        let mut expected_v2 = vec![0x30, 0x26, 0x30, 0x24, 0x30, 0x22, 0x04, 0x20];
        expected_v2.extend_from_slice(&cert_hash);
        assert_eq!(value(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2), expected_v2);
    }

    #[test]
    fn the_cms_is_detached_embeds_the_chain_and_names_the_signer_by_issuer_and_serial() {
        let (_, signed, signer) = signed();
        let data = &signed.signed_data;
        assert_eq!(data.version, CmsVersion::V1);
        assert_eq!(data.encap_content_info.econtent_type, rfc5911::ID_DATA);
        assert!(data.encap_content_info.econtent.is_none(), "detached");
        let digests: Vec<_> = data.digest_algorithms.iter().collect();
        assert_eq!(digests.len(), 1);
        assert_eq!(digests[0].oid, rfc5912::ID_SHA_256);
        assert!(digests[0].parameters.is_none());

        let embedded: BTreeSet<Vec<u8>> = data
            .certificates
            .as_ref()
            .expect("certificates")
            .0
            .iter()
            .map(|c| c.to_der().expect("DER"))
            .collect();
        let chain: BTreeSet<Vec<u8>> = signer.certificate_chain().iter().cloned().collect();
        assert_eq!(chain.len(), 2, "signer and CA");
        assert_eq!(embedded, chain);

        let info = data.signer_infos.0.get(0).expect("a signer");
        let certificate = Certificate::from_der(&signer.certificate_chain()[0]).expect("cert");
        let SignerIdentifier::IssuerAndSerialNumber(sid) = &info.sid else {
            panic!("issuerAndSerialNumber expected")
        };
        assert_eq!(sid.issuer, certificate.tbs_certificate.issuer);
        assert_eq!(sid.serial_number, certificate.tbs_certificate.serial_number);
        assert_eq!(info.version, CmsVersion::V1);
        assert_eq!(info.digest_alg.oid, rfc5912::ID_SHA_256);
        assert_eq!(info.signature_algorithm.oid, rfc5912::ECDSA_WITH_SHA_256);
        assert!(info.signature_algorithm.parameters.is_none());
        assert!(info.unsigned_attrs.is_none());
    }

    #[test]
    fn the_signature_dictionary_is_pades_with_the_claimed_time_in_m() {
        let (_, signed, _) = signed();
        let dict = &signed.signature;
        let name = |key: &[u8]| dict.get(key).and_then(Object::as_name).expect("name");
        assert_eq!(name(b"Filter"), b"Adobe.PPKLite");
        assert_eq!(name(b"SubFilter"), b"ETSI.CAdES.detached");
        let text =
            |key: &[u8]| lopdf::decode_text_string(dict.get(key).expect("present")).expect("text");
        assert_eq!(text(b"M"), "D:20260302103000+01'00'");
        assert_eq!(text(b"Name"), "Comune di Borgo Sigillo");
        assert_eq!(text(b"Reason"), "Rilascio del certificato");
        assert_eq!(text(b"Location"), "Forlì");
    }

    #[test]
    fn cross_reference_subsections_are_runs_of_consecutive_numbers() {
        let offsets =
            BTreeMap::from([(7, (0, 70)), (10, (0, 100)), (12, (0, 120)), (13, (2, 130))]);
        assert_eq!(
            runs(&offsets),
            vec![
                (7, vec![(0, 70)]),
                (10, vec![(0, 100)]),
                (12, vec![(0, 120), (2, 130)]),
            ]
        );
    }

    #[test]
    fn the_last_startxref_tells_a_table_from_a_stream() {
        let table =
            b"%PDF-1.4\nxref\n0 1\n0000000000 65535 f\r\ntrailer<<>>\nstartxref\n9\n%%EOF\n";
        assert_eq!(last_startxref(table), Ok(9));
        assert_eq!(xref_style(table, 9), Ok(XrefStyle::Table));
        let stream = b"%PDF-1.5\n4 0 obj\n<</Type/XRef/Size 5>>\nstream\n\nendstream\nendobj\nstartxref\n9\n%%EOF";
        assert_eq!(
            xref_style(stream, last_startxref(stream).expect("offset")),
            Ok(XrefStyle::Stream)
        );
        let not_xref = b"%PDF-1.5\n4 0 obj\n<</Type/Page>>\nendobj\nstartxref\n9\n%%EOF";
        assert!(xref_style(not_xref, 9).is_err());
        assert!(last_startxref(b"%PDF-1.5\nstartxref\n999\n%%EOF").is_err());
        assert!(last_startxref(b"%PDF-1.5\n%%EOF").is_err());
    }

    #[test]
    fn pdf_dates_carry_the_offset_or_z() {
        assert_eq!(
            pdf_date(datetime!(2026-07-01 08:05:09 UTC)),
            "D:20260701080509Z"
        );
        assert_eq!(
            pdf_date(datetime!(2026-07-01 08:05:09 -03:30)),
            "D:20260701080509-03'30'"
        );
    }

    #[test]
    fn the_catalog_gets_the_field_and_declares_pades() {
        let (_, signed, _) = signed();
        let doc = Document::load_mem(&signed.bytes).expect("reads back");
        let catalog = doc.catalog().expect("catalog");
        let form = catalog
            .get(b"AcroForm")
            .and_then(Object::as_dict)
            .expect("AcroForm");
        assert_eq!(form.get(b"SigFlags").and_then(Object::as_i64).ok(), Some(3));
        let fields = form
            .get(b"Fields")
            .and_then(Object::as_array)
            .expect("Fields");
        let widget = doc
            .get_dictionary(fields[0].as_reference().expect("reference"))
            .expect("widget");
        assert_eq!(
            widget.get(b"FT").and_then(Object::as_name).ok(),
            Some(&b"Sig"[..])
        );
        assert_eq!(widget.get(b"F").and_then(Object::as_i64).ok(), Some(4));
        assert_eq!(
            catalog.get(b"Version").and_then(Object::as_name).ok(),
            Some(&b"1.7"[..])
        );
        let esic = catalog
            .get(b"Extensions")
            .and_then(Object::as_dict)
            .and_then(|e| e.get(b"ESIC"))
            .and_then(Object::as_dict)
            .expect("ESIC");
        assert_eq!(
            esic.get(b"ExtensionLevel").and_then(Object::as_i64).ok(),
            Some(1)
        );
    }

    #[test]
    fn signing_twice_adds_a_second_field_with_its_own_name() {
        let signer = signer();
        let once = sign_pdf(&sample_pdf(), &signer, &options()).expect("signs");
        let twice = sign_pdf(&once, &signer, &options()).expect("signs again");
        assert!(twice.starts_with(&once));
        let doc = Document::load_mem(&twice).expect("reads back");
        let fields = doc
            .catalog()
            .and_then(|c| c.get(b"AcroForm"))
            .and_then(Object::as_dict)
            .and_then(|f| f.get(b"Fields"))
            .and_then(Object::as_array)
            .expect("fields");
        let names: Vec<_> = fields
            .iter()
            .map(|f| {
                let id = f.as_reference().expect("reference");
                let field = doc.get_dictionary(id).expect("field");
                field
                    .get(b"T")
                    .and_then(Object::as_str)
                    .expect("T")
                    .to_vec()
            })
            .collect();
        assert_eq!(names, vec![b"Sigillo".to_vec(), b"Sigillo 2".to_vec()]);
    }
}
