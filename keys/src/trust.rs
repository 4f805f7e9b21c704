//! The trust list: comune CA certificates and the seal-signer certificates
//! they signed, each with its validity window. Old signers stay after a
//! rotation, so certificates they sealed keep verifying.

use seal::{Kid, TrustList, TrustedSigner};
use time::OffsetDateTime;

use crate::cert::is_signed_by;
use crate::{CertificateInfo, Es256PublicKey, KeyError};

/// Trusted CAs and signers, answering [`TrustList`] for seal verification.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    cas: Vec<CertificateInfo>,
    signers: Vec<TrustedEntry>,
}

#[derive(Debug, Clone)]
struct TrustedEntry {
    certificate: CertificateInfo,
    key: Es256PublicKey,
}

impl TrustStore {
    /// An empty trust list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts a comune CA certificate (a trust anchor: it must be a CA).
    pub fn add_ca(&mut self, certificate: CertificateInfo) -> Result<(), KeyError> {
        if !certificate.is_ca() {
            return Err(KeyError::BadCertificate("not a CA certificate".into()));
        }
        if !is_signed_by(certificate.der(), certificate.der()) {
            return Err(KeyError::BadCertificate(
                "the CA certificate is not self-signed".into(),
            ));
        }
        if !self.cas.iter().any(|ca| ca.der() == certificate.der()) {
            self.cas.push(certificate);
        }
        Ok(())
    }

    /// Trusts a seal-signer certificate, once it is shown to be signed by a
    /// trusted CA of the same comune, to allow sealing, and to lie within
    /// that CA's validity.
    pub fn add_signer(&mut self, certificate: CertificateInfo) -> Result<(), KeyError> {
        if certificate.is_ca() || !certificate.can_seal() {
            return Err(KeyError::BadCertificate(
                "not a seal-signer certificate".into(),
            ));
        }
        let ca = self
            .cas
            .iter()
            .find(|ca| is_signed_by(certificate.der(), ca.der()))
            .ok_or(KeyError::UntrustedIssuer(certificate.kid()))?;
        if ca.comune() != certificate.comune() {
            return Err(KeyError::WrongComune {
                expected: ca.comune(),
                found: certificate.comune(),
            });
        }
        if certificate.not_before() < ca.not_before() || certificate.not_after() > ca.not_after() {
            return Err(KeyError::BadCertificate(
                "valid outside its CA's validity".into(),
            ));
        }
        if self
            .signers
            .iter()
            .any(|entry| entry.certificate.kid() == certificate.kid())
        {
            return Ok(());
        }
        let key = Es256PublicKey::from_sec1(certificate.public_key())?;
        self.signers.push(TrustedEntry { certificate, key });
        Ok(())
    }

    /// The trusted CA certificates.
    pub fn cas(&self) -> impl Iterator<Item = &CertificateInfo> {
        self.cas.iter()
    }

    /// The trusted signer certificates, in the order they were added.
    pub fn signers(&self) -> impl Iterator<Item = &CertificateInfo> {
        self.signers.iter().map(|entry| &entry.certificate)
    }

    /// The signer certificate with this key identifier.
    pub fn certificate(&self, kid: &Kid) -> Option<&CertificateInfo> {
        self.signers().find(|certificate| certificate.kid() == *kid)
    }

    /// Whether the signer `kid` was valid at `time`.
    pub fn was_valid_at(&self, kid: &Kid, time: OffsetDateTime) -> bool {
        self.certificate(kid)
            .is_some_and(|certificate| certificate.is_valid_at(time))
    }
}

impl TrustList for TrustStore {
    fn signer(&self, kid: &Kid) -> Option<TrustedSigner<'_>> {
        self.signers
            .iter()
            .find(|entry| entry.certificate.kid() == *kid)
            .map(|entry| TrustedSigner {
                comune: entry.certificate.comune(),
                not_before: entry.certificate.not_before(),
                not_after: entry.certificate.not_after(),
                key: &entry.key,
            })
    }
}
