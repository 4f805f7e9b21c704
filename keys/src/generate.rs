//! Making a comune's CA and seal-signer certificates (ECDSA P-256, `rcgen`).

use std::fmt;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use seal::ComuneCode;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::cert::ISTAT_OU_PREFIX;
use crate::{CertificateInfo, KeyError};

/// How long a comune CA certificate is valid.
pub const CA_VALIDITY: Duration = Duration::days(20 * 365);

/// How long a seal-signer certificate is valid. Rotate before it ends:
/// certificates issued afterwards would not verify.
pub const SIGNER_VALIDITY: Duration = Duration::days(3 * 365);

/// Certificates start a minute before they are made, so that a clock a
/// little behind does not find a fresh key not yet valid.
const BACKDATE: Duration = Duration::minutes(1);

/// A comune, as its certificates name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comune {
    /// ISTAT code.
    pub code: ComuneCode,
    /// Name, e.g. `Roma`.
    pub name: String,
}

/// A private key in PKCS#8 DER. Its bytes are wiped when dropped and never
/// printed.
#[derive(Clone)]
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
}

impl PrivateKey {
    /// Wraps PKCS#8 DER bytes.
    pub fn from_pkcs8_der(der: Vec<u8>) -> Self {
        Self {
            pkcs8: Zeroizing::new(der),
        }
    }

    /// Reads a `PRIVATE KEY` PEM block (PKCS#8).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let block = pem::parse(text).map_err(|e| KeyError::BadPrivateKey(e.to_string()))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(KeyError::BadPrivateKey(format!(
                "PEM block is {}",
                block.tag()
            )));
        }
        Ok(Self::from_pkcs8_der(block.into_contents()))
    }

    /// The key as a `PRIVATE KEY` PEM block.
    pub fn to_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            self.pkcs8.to_vec(),
        )))
    }

    /// The PKCS#8 DER bytes.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    fn to_rcgen(&self) -> Result<KeyPair, KeyError> {
        let key = KeyPair::try_from(self.pkcs8.as_slice())
            .map_err(|e| KeyError::BadPrivateKey(e.to_string()))?;
        if !key.is_compatible(&PKCS_ECDSA_P256_SHA256) {
            return Err(KeyError::BadPrivateKey("not an ECDSA P-256 key".into()));
        }
        Ok(key)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// A certificate with its private key.
#[derive(Debug, Clone)]
pub struct KeyAndCertificate {
    /// The certificate.
    pub certificate: CertificateInfo,
    /// Its private key.
    pub key: PrivateKey,
}

/// Makes a comune's self-signed CA, valid from `now` for [`CA_VALIDITY`].
pub fn generate_ca(comune: &Comune, now: OffsetDateTime) -> Result<KeyAndCertificate, KeyError> {
    let mut params = base_params(comune, now, CA_VALIDITY)?;
    params.distinguished_name.push(
        DnType::CommonName,
        format!("Sigillo CA del Comune di {}", comune.name),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
    let certificate = params.self_signed(&key).map_err(rcgen_error)?;
    finish(certificate.der(), key)
}

/// Makes a seal-signer certificate for the comune, signed by its CA, valid
/// from `now` for [`SIGNER_VALIDITY`] (never past the CA's own end), with
/// key usage digitalSignature and nonRepudiation.
pub fn generate_signer(
    comune: &Comune,
    ca: &KeyAndCertificate,
    now: OffsetDateTime,
) -> Result<KeyAndCertificate, KeyError> {
    if ca.certificate.comune() != comune.code {
        return Err(KeyError::WrongComune {
            expected: comune.code,
            found: ca.certificate.comune(),
        });
    }
    let mut params = base_params(comune, now, SIGNER_VALIDITY)?;
    params.not_after = params.not_after.min(ca.certificate.not_after());
    params.distinguished_name.push(
        DnType::CommonName,
        format!("Sigillo elettronico del Comune di {}", comune.name),
    );
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.use_authority_key_identifier_extension = true;
    let ca_key = ca.key.to_rcgen()?;
    let issuer = Issuer::from_ca_cert_der(&ca.certificate.der().to_vec().into(), &ca_key)
        .map_err(rcgen_error)?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
    let certificate = params.signed_by(&key, &issuer).map_err(rcgen_error)?;
    finish(certificate.der(), key)
}

fn base_params(
    comune: &Comune,
    now: OffsetDateTime,
    validity: Duration,
) -> Result<CertificateParams, KeyError> {
    let mut params = CertificateParams::default();
    let start = now.replace_nanosecond(0).unwrap_or(now) - BACKDATE;
    params.not_before = start;
    params.not_after = start + validity;
    let mut name = DistinguishedName::new();
    name.push(DnType::CountryName, "IT");
    name.push(
        DnType::OrganizationName,
        format!("Comune di {}", comune.name),
    );
    name.push(
        DnType::OrganizationalUnitName,
        format!("{ISTAT_OU_PREFIX}{}", comune.code),
    );
    params.distinguished_name = name;
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

/// A positive 16-byte serial number from the system's random source.
fn random_serial() -> Result<SerialNumber, KeyError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| KeyError::Crypto("no randomness for the serial number".into()))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // never a leading zero byte, which DER would strip
    Ok(SerialNumber::from_slice(&bytes))
}

fn finish(der: &[u8], key: KeyPair) -> Result<KeyAndCertificate, KeyError> {
    Ok(KeyAndCertificate {
        certificate: CertificateInfo::from_der(der)?,
        key: PrivateKey::from_pkcs8_der(key.serialize_der()),
    })
}

fn rcgen_error(error: rcgen::Error) -> KeyError {
    KeyError::Crypto(error.to_string())
}
