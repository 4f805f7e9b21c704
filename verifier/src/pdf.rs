//! Reading a certificate PDF without rendering it: the seal from the
//! document information dictionary (`/Info /SigilloSeal`), and the PDF's
//! own PAdES signature (a detached CMS SignedData, ES256, over the whole
//! file less the `/Contents` string).
//!
//! A hostile file meets a size limit before parsing, a bound on every
//! stream's decompressed size while parsing, and errors, not panics, for
//! everything `lopdf` refuses.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::OctetString;
use der::{Any, Decode as _, Encode as _, Reader as _, Sequence};
use keys::{CertificateInfo, Es256PublicKey};
use lopdf::{Document, LoadOptions, Object};
use sha2::{Digest as _, Sha256};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::error::{Cause, PdfSignatureError, ReadError};
use crate::{Limits, Trust};

/// The document information key that carries the seal's text (the issuer
/// writes it; see the design's "The PDF").
pub const SEAL_INFO_KEY: &[u8] = b"SigilloSeal";

/// No stream in a certificate comes near this once decompressed; a larger
/// one is a decompression bomb.
const MAX_STREAM_BYTES: usize = 8 * 1024 * 1024;

/// What the verifier needs from a PDF: the seal's text, if the PDF carries
/// one, and the signature dictionary that covers the file, if any.
#[derive(Debug, Clone)]
pub(crate) struct PdfParts {
    /// The seal's text from `/Info /SigilloSeal`.
    pub(crate) seal_text: Option<String>,
    signatures: Vec<SignatureDictionary>,
}

#[derive(Debug, Clone)]
struct SignatureDictionary {
    byte_range: Vec<i64>,
    contents: Option<Vec<u8>>,
    signing_time: Option<Vec<u8>>,
    reason: Option<String>,
}

/// The PDF's signer, once its signature holds.
#[derive(Debug, Clone)]
pub(crate) struct PdfSigner {
    /// The signer's certificate, as trusted.
    pub(crate) certificate: CertificateInfo,
    /// The claimed signing time (`/M`).
    pub(crate) signed_at: OffsetDateTime,
    /// The signature's `/Reason`: the issuer writes the certificate's kind
    /// and number («Certificato di residenza n. 2026/000123»).
    pub(crate) reason: Option<String>,
}

impl PdfSigner {
    /// The certificate number the signature's `/Reason` names.
    pub(crate) fn number(&self) -> Option<&str> {
        self.reason
            .as_deref()
            .and_then(|reason| reason.rsplit_once(" n. "))
            .map(|(_, number)| number.trim())
    }
}

impl PdfParts {
    /// Whether the PDF has any signature dictionary.
    pub(crate) fn is_signed(&self) -> bool {
        !self.signatures.is_empty()
    }
}

/// Reads the parts of a PDF the verifier uses.
pub(crate) fn read(bytes: &[u8], limits: &Limits) -> Result<PdfParts, ReadError> {
    if bytes.len() > limits.max_file_bytes {
        return Err(ReadError::TooLarge {
            size: bytes.len(),
            max: limits.max_file_bytes,
        });
    }
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..LoadOptions::default()
    };
    let document = Document::load_mem_with_options(bytes, options)
        .map_err(|error| ReadError::Pdf(Cause::new("pdf_syntax", error.to_string())))?;
    if document.is_encrypted() || document.was_encrypted() {
        return Err(ReadError::PdfEncrypted);
    }
    let seal_text = document
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|info| document.dereference(info).ok())
        .and_then(|(_, info)| info.as_dict().ok())
        .and_then(|info| info.get(SEAL_INFO_KEY).ok())
        .and_then(|value| lopdf::decode_text_string(value).ok());
    let signatures = document
        .objects
        .values()
        .filter_map(|object| object.as_dict().ok())
        .filter_map(|dict| {
            let byte_range = dict.get(b"ByteRange").ok()?;
            let byte_range = document.dereference(byte_range).ok()?.1.as_array().ok()?;
            Some(SignatureDictionary {
                byte_range: byte_range
                    .iter()
                    .map(|n| n.as_i64().unwrap_or(-1))
                    .collect(),
                contents: dict
                    .get(b"Contents")
                    .and_then(Object::as_str)
                    .ok()
                    .map(<[u8]>::to_vec),
                signing_time: dict
                    .get(b"M")
                    .and_then(Object::as_str)
                    .ok()
                    .map(<[u8]>::to_vec),
                reason: dict
                    .get(b"Reason")
                    .ok()
                    .and_then(|reason| lopdf::decode_text_string(reason).ok()),
            })
        })
        .collect();
    Ok(PdfParts {
        seal_text,
        signatures,
    })
}

/// Checks the PDF's own signature: the one that covers the file to its
/// end, its byte range, digest and CMS signature, and that its signer is a
/// trusted seal signer valid when it signed.
pub(crate) fn check_signature(
    bytes: &[u8],
    parts: &PdfParts,
    trust: &Trust,
) -> Result<PdfSigner, PdfSignatureError> {
    if parts.signatures.is_empty() {
        return Err(PdfSignatureError::NoSignature);
    }
    let ranges: Vec<[usize; 4]> = parts
        .signatures
        .iter()
        .map(|signature| byte_range(&signature.byte_range))
        .collect::<Result<_, _>>()?;
    let covered_to = |range: &[usize; 4]| range[2].saturating_add(range[3]);
    let Some(index) = ranges.iter().position(|r| covered_to(r) == bytes.len()) else {
        let furthest = ranges.iter().map(covered_to).max().unwrap_or(0);
        if furthest > bytes.len() {
            return Err(PdfSignatureError::ByteRange("va oltre la fine del file"));
        }
        return Err(PdfSignatureError::NotWholeFile {
            added: bytes.len() - furthest,
        });
    };
    let signature = &parts.signatures[index];
    let [_, hole_start, hole_end, _] = ranges[index];
    let cms_der = contents(bytes, hole_start, hole_end, signature.contents.as_deref())?;
    let mut hasher = Sha256::new();
    hasher.update(&bytes[..hole_start]);
    hasher.update(&bytes[hole_end..]);
    let digest: [u8; 32] = hasher.finalize().into();
    let certificate = check_cms(&cms_der, &digest)?;
    let kid = certificate.kid();
    let trusted = trust
        .signer_certificate(&kid)
        .ok_or(PdfSignatureError::UntrustedSigner(kid))?
        .clone();
    let signed_at = signature
        .signing_time
        .as_deref()
        .and_then(parse_pdf_date)
        .ok_or(PdfSignatureError::NoSigningTime)?;
    // A signer revoked as compromised is refused at the seal's key step;
    // the agreement step holds the PDF's signing time to the seal's.
    if !trusted.is_valid_at(signed_at) {
        return Err(PdfSignatureError::SignerNotValidAtSigning { kid, signed_at });
    }
    Ok(PdfSigner {
        certificate: trusted,
        signed_at,
        reason: signature.reason.clone(),
    })
}

/// `/ByteRange [0 a b c]`: two ranges, from the start to the `/Contents`
/// string and from after it onwards.
fn byte_range(numbers: &[i64]) -> Result<[usize; 4], PdfSignatureError> {
    let numbers: Vec<usize> = numbers
        .iter()
        .map(|&n| usize::try_from(n))
        .collect::<Result<_, _>>()
        .map_err(|_| PdfSignatureError::ByteRange("numeri non validi"))?;
    let [start, a, b, c] = numbers[..] else {
        return Err(PdfSignatureError::ByteRange("non sono quattro numeri"));
    };
    if start != 0 {
        return Err(PdfSignatureError::ByteRange(
            "non parte dall'inizio del file",
        ));
    }
    if a == 0 || b <= a.saturating_add(1) {
        return Err(PdfSignatureError::ByteRange(
            "intervalli vuoti o sovrapposti",
        ));
    }
    Ok([start, a, b, c])
}

/// The CMS DER from the bytes the byte range leaves out: exactly one hex
/// string `<…>`, zero-padded after the DER, the same bytes the signature
/// dictionary's `/Contents` holds.
fn contents(
    bytes: &[u8],
    start: usize,
    end: usize,
    parsed: Option<&[u8]>,
) -> Result<Vec<u8>, PdfSignatureError> {
    let hole = bytes
        .get(start..end)
        .ok_or(PdfSignatureError::ByteRange("oltre la fine del file"))?;
    let inner = hole
        .strip_prefix(b"<")
        .and_then(|rest| rest.strip_suffix(b">"))
        .ok_or(PdfSignatureError::Contents(
            "la parte esclusa non è una stringa esadecimale",
        ))?;
    if inner.len() % 2 != 0 || !inner.iter().all(u8::is_ascii_hexdigit) {
        return Err(PdfSignatureError::Contents(
            "la parte esclusa contiene altro che cifre esadecimali",
        ));
    }
    let der = hex::decode(inner)
        .map_err(|_| PdfSignatureError::Contents("cifre esadecimali non valide"))?;
    if parsed != Some(der.as_slice()) {
        return Err(PdfSignatureError::Contents(
            "la parte esclusa non è il /Contents della firma",
        ));
    }
    Ok(der)
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
/// policies SEQUENCE OF PolicyInformation OPTIONAL }` (RFC 5035).
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash
/// OCTET STRING, issuerSerial IssuerSerial OPTIONAL }`.
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// Checks the CMS as PAdES B-B writes it and returns its signer's
/// certificate: a detached SignedData with one signer, SHA-256 and ECDSA
/// P-256, signed attributes whose message digest is `digest` and whose
/// signing-certificate-v2 names the signer's certificate, and a signature
/// over those attributes by that certificate's key.
fn check_cms(der: &[u8], digest: &[u8; 32]) -> Result<CertificateInfo, PdfSignatureError> {
    let cms = |error: der::Error| PdfSignatureError::Cms(Cause::new("cms_der", error.to_string()));
    let structure =
        |code: &'static str, text: String| PdfSignatureError::Cms(Cause::new(code, text));
    let mut reader = der::SliceReader::new(der).map_err(cms)?;
    let content_info = ContentInfo::decode(&mut reader).map_err(cms)?;
    let used = usize::try_from(reader.position()).map_err(cms)?;
    if !der[used..].iter().all(|&b| b == 0) {
        return Err(PdfSignatureError::Contents(
            "dati dopo la firma CMS oltre al riempimento",
        ));
    }
    if content_info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(structure("cms_not_signed_data", "not a SignedData".into()));
    }
    let signed_data: SignedData = content_info.content.decode_as().map_err(cms)?;
    let encapsulated = &signed_data.encap_content_info;
    if encapsulated.econtent_type != rfc5911::ID_DATA || encapsulated.econtent.is_some() {
        return Err(structure(
            "cms_not_detached",
            "the signed content is not detached (id-data without eContent)".into(),
        ));
    }
    let mut signers = signed_data.signer_infos.0.iter();
    let (Some(info), None) = (signers.next(), signers.next()) else {
        return Err(structure(
            "cms_signer_count",
            "a PAdES signature has exactly one signer".into(),
        ));
    };
    if info.digest_alg.oid != rfc5912::ID_SHA_256 {
        return Err(PdfSignatureError::UnsupportedAlgorithm(
            info.digest_alg.oid.to_string(),
        ));
    }
    if info.signature_algorithm.oid != rfc5912::ECDSA_WITH_SHA_256 {
        return Err(PdfSignatureError::UnsupportedAlgorithm(
            info.signature_algorithm.oid.to_string(),
        ));
    }
    let attributes = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| structure("cms_no_signed_attributes", "no signed attributes".into()))?;
    let single = |oid: ObjectIdentifier| -> Result<&Any, PdfSignatureError> {
        let mut found = attributes.iter().filter(|attribute| attribute.oid == oid);
        match (found.next(), found.next()) {
            (Some(attribute), None) if attribute.values.len() == 1 => attribute
                .values
                .get(0)
                .ok_or_else(|| structure("cms_attribute", format!("attribute {oid} is empty"))),
            _ => Err(structure(
                "cms_attribute",
                format!("signed attribute {oid} is missing or repeated"),
            )),
        }
    };
    let content_type: ObjectIdentifier =
        single(rfc5911::ID_CONTENT_TYPE)?.decode_as().map_err(cms)?;
    if content_type != rfc5911::ID_DATA {
        return Err(structure(
            "cms_content_type",
            "the content-type attribute is not id-data".into(),
        ));
    }
    let message_digest: OctetString = single(rfc5911::ID_MESSAGE_DIGEST)?
        .decode_as()
        .map_err(cms)?;
    if message_digest.as_bytes() != digest {
        return Err(PdfSignatureError::DigestMismatch);
    }

    let signer = signer_certificate(&signed_data, &info.sid)?;
    let signer_der = signer.to_der().map_err(cms)?;
    let signing_certificate: SigningCertificateV2 = single(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2)?
        .decode_as()
        .map_err(cms)?;
    let first = signing_certificate
        .certs
        .first()
        .ok_or(PdfSignatureError::SigningCertificateMismatch)?;
    if first
        .hash_algorithm
        .as_ref()
        .is_some_and(|alg| alg.oid != rfc5912::ID_SHA_256)
    {
        return Err(PdfSignatureError::UnsupportedAlgorithm(
            "hash di signing-certificate-v2 diverso da SHA-256".into(),
        ));
    }
    if first.cert_hash.as_bytes() != Sha256::digest(&signer_der).as_slice() {
        return Err(PdfSignatureError::SigningCertificateMismatch);
    }
    let certificate = CertificateInfo::from_der(&signer_der)
        .map_err(|error| structure("cms_certificate", error.to_string()))?;
    let key = Es256PublicKey::from_sec1(certificate.public_key())
        .map_err(|error| structure("cms_certificate_key", error.to_string()))?;
    // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF.
    let signed = attributes.to_der().map_err(cms)?;
    if !key.verify_asn1(&signed, info.signature.as_bytes()) {
        return Err(PdfSignatureError::BadSignature);
    }
    Ok(certificate)
}

/// The certificate the signer identifier names, among those embedded.
fn signer_certificate<'a>(
    signed_data: &'a SignedData,
    sid: &SignerIdentifier,
) -> Result<&'a Certificate, PdfSignatureError> {
    let SignerIdentifier::IssuerAndSerialNumber(sid) = sid else {
        return Err(PdfSignatureError::MissingSignerCertificate);
    };
    signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|choice| match choice {
            CertificateChoices::Certificate(certificate)
                if certificate.tbs_certificate.issuer == sid.issuer
                    && certificate.tbs_certificate.serial_number == sid.serial_number =>
            {
                Some(certificate)
            }
            _ => None,
        })
        .ok_or(PdfSignatureError::MissingSignerCertificate)
}

/// A PDF date (ISO 32000-1 §7.9.4), `D:YYYYMMDDHHmmSS` then `Z` or
/// `±HH'mm'` (the apostrophes optional); the seconds and the offset may be
/// left out, which means UTC.
pub(crate) fn parse_pdf_date(text: &[u8]) -> Option<OffsetDateTime> {
    let text = std::str::from_utf8(text).ok()?;
    let text = text.strip_prefix("D:").unwrap_or(text);
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 12 || digits % 2 != 0 || digits > 14 {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u16>().ok();
    let year = i32::from(number(0..4)?);
    let month = Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
    let day = u8::try_from(number(6..8)?).ok()?;
    let hour = u8::try_from(number(8..10)?).ok()?;
    let minute = u8::try_from(number(10..12)?).ok()?;
    let second = if digits == 14 {
        u8::try_from(number(12..14)?).ok()?
    } else {
        0
    };
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    let rest = &text[digits..];
    let offset = match rest.as_bytes().first() {
        None | Some(b'Z') => UtcOffset::UTC,
        Some(sign @ (b'+' | b'-')) => {
            let zone: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i8 = zone.get(0..2)?.parse().ok()?;
            let minutes: i8 = zone.get(2..4).unwrap_or("00").parse().ok()?;
            let sign = if *sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
        Some(_) => return None,
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn pdf_dates_with_an_offset_z_or_nothing_are_read_in_utc() {
        assert_eq!(
            parse_pdf_date(b"D:20260302103000+01'00'"),
            Some(datetime!(2026-03-02 09:30:00 UTC))
        );
        assert_eq!(
            parse_pdf_date(b"D:20260302103000Z"),
            Some(datetime!(2026-03-02 10:30:00 UTC))
        );
        assert_eq!(
            parse_pdf_date(b"D:202603021030"),
            Some(datetime!(2026-03-02 10:30:00 UTC))
        );
        assert_eq!(
            parse_pdf_date(b"D:20260701080509-03'30'"),
            Some(datetime!(2026-07-01 11:35:09 UTC))
        );
        for bad in [
            &b"D:2026"[..],
            b"D:20261302103000Z",
            b"D:20260302103000X",
            b"\xff",
        ] {
            assert_eq!(parse_pdf_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_byte_range_must_start_at_zero_and_leave_a_hole() {
        assert!(byte_range(&[0, 10, 20, 5]).is_ok());
        assert!(byte_range(&[1, 10, 20, 5]).is_err());
        assert!(byte_range(&[0, 10, 11, 5]).is_err());
        assert!(byte_range(&[0, 10, 20]).is_err());
        assert!(byte_range(&[0, -1, 20, 5]).is_err());
    }
}
