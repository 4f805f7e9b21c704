//! Reading X.509 certificates: what Sigillo needs to know of a CA or signer
//! certificate, taken from its DER with `x509-parser`.

use std::fmt;

use ring::digest;
use seal::{ComuneCode, Kid};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::KeyError;

/// The organisational unit of a Sigillo certificate names the comune's
/// ISTAT code after this prefix, e.g. `Codice ISTAT 058091`.
pub(crate) const ISTAT_OU_PREFIX: &str = "Codice ISTAT ";

/// The facts of one certificate that key management and verification use.
#[derive(Clone)]
pub struct CertificateInfo {
    der: Vec<u8>,
    kid: Kid,
    subject: String,
    issuer: String,
    comune: ComuneCode,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    is_ca: bool,
    seals: bool,
    public_key: Vec<u8>,
}

impl CertificateInfo {
    /// Parses a DER certificate made for a comune by Sigillo: ECDSA P-256,
    /// with the comune's ISTAT code in its subject.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| KeyError::BadCertificate(e.to_string()))?;
        if !rest.is_empty() {
            return Err(KeyError::BadCertificate(
                "trailing bytes after the certificate".into(),
            ));
        }
        let comune = comune_of(&cert)?;
        let spki = cert.public_key();
        // id-ecPublicKey with the prime256v1 curve.
        let ec_oid = spki.algorithm.algorithm.to_id_string();
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|oid| oid.to_id_string());
        if ec_oid != "1.2.840.10045.2.1" || curve.as_deref() != Some("1.2.840.10045.3.1.7") {
            return Err(KeyError::BadCertificate(
                "the key is not ECDSA P-256".into(),
            ));
        }
        let key_usage = cert
            .key_usage()
            .map_err(|e| KeyError::BadCertificate(e.to_string()))?
            .map(|ext| ext.value);
        let is_ca = cert.is_ca();
        let seals = key_usage.is_some_and(|ku| ku.digital_signature() && ku.non_repudiation());
        let validity = cert.validity();
        Ok(Self {
            der: der.to_vec(),
            kid: kid_of(der),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            comune,
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
            is_ca,
            seals,
            public_key: spki.subject_public_key.data.to_vec(),
        })
    }

    /// Parses the first certificate of a PEM text.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let block = pem::parse(text).map_err(|e| KeyError::BadCertificate(e.to_string()))?;
        if block.tag() != "CERTIFICATE" {
            return Err(KeyError::BadCertificate(format!(
                "PEM block is {}",
                block.tag()
            )));
        }
        Self::from_der(block.contents())
    }

    /// The certificate in DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate in PEM.
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("CERTIFICATE", self.der.clone()))
    }

    /// The seal key identifier: first eight bytes of SHA-256 of the DER.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// Subject distinguished name, RFC 4514 style.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Issuer distinguished name, RFC 4514 style.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The comune named in the subject.
    pub fn comune(&self) -> ComuneCode {
        self.comune
    }

    /// Start of validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether `time` falls within the validity window.
    pub fn is_valid_at(&self, time: OffsetDateTime) -> bool {
        self.not_before <= time && time <= self.not_after
    }

    /// Whether this is a CA certificate (basic constraints CA:TRUE).
    pub fn is_ca(&self) -> bool {
        self.is_ca
    }

    /// Whether the key usage allows sealing (digitalSignature and
    /// nonRepudiation).
    pub fn can_seal(&self) -> bool {
        self.seals
    }

    /// SHA-256 fingerprint of the DER, as colon-separated uppercase hex.
    pub fn sha256_fingerprint(&self) -> String {
        let digest = digest::digest(&digest::SHA256, &self.der);
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The public key as an uncompressed SEC1 point.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The subject's organisation (`O`), e.g. `Comune di Roma`, if named.
    pub fn organization(&self) -> Option<String> {
        let (_, cert) = X509Certificate::from_der(&self.der).ok()?;
        cert.subject()
            .iter_organization()
            .find_map(|attr| attr.as_str().ok())
            .map(str::to_owned)
    }
}

impl fmt::Debug for CertificateInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateInfo")
            .field("kid", &self.kid)
            .field("subject", &self.subject)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// The seal key identifier of a DER certificate.
pub fn kid_of(der: &[u8]) -> Kid {
    let digest = digest::digest(&digest::SHA256, der);
    let mut kid = [0u8; Kid::LEN];
    kid.copy_from_slice(&digest.as_ref()[..Kid::LEN]);
    Kid(kid)
}

fn comune_of(cert: &X509Certificate<'_>) -> Result<ComuneCode, KeyError> {
    cert.subject()
        .iter_organizational_unit()
        .filter_map(|attr| attr.as_str().ok())
        .find_map(|ou| ou.strip_prefix(ISTAT_OU_PREFIX))
        .and_then(|code| ComuneCode::parse(code).ok())
        .ok_or_else(|| KeyError::BadCertificate("the subject names no comune ISTAT code".into()))
}

/// Whether `cert_der` carries a valid signature by the key of `issuer_der`.
pub(crate) fn is_signed_by(cert_der: &[u8], issuer_der: &[u8]) -> bool {
    let (Ok((_, cert)), Ok((_, issuer))) = (
        X509Certificate::from_der(cert_der),
        X509Certificate::from_der(issuer_der),
    ) else {
        return false;
    };
    cert.issuer() == issuer.subject() && cert.verify_signature(Some(issuer.public_key())).is_ok()
}
