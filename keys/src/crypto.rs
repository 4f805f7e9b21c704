//! ECDSA P-256 signing and checking with `ring`, behind the seal crate's
//! traits.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey,
};
use seal::{Es256Signature, Es256Verifier, Kid, SealSigner, SignerError};

use crate::{CertificateInfo, KeyError, PrivateKey};

/// Signs seals with a private key held in memory (loaded from a key file).
pub struct KeySigner {
    kid: Kid,
    chain: Vec<Vec<u8>>,
    fixed: EcdsaKeyPair,
    asn1: EcdsaKeyPair,
    rng: SystemRandom,
}

impl KeySigner {
    /// A signer for `certificate`'s key. Fails unless `key` is the private
    /// key of that certificate and the certificate may seal.
    pub fn new(certificate: &CertificateInfo, key: &PrivateKey) -> Result<Self, KeyError> {
        if !certificate.can_seal() {
            return Err(KeyError::BadCertificate(
                "the key usage does not allow sealing (digitalSignature, nonRepudiation)".into(),
            ));
        }
        let rng = SystemRandom::new();
        let load = |alg| {
            EcdsaKeyPair::from_pkcs8(alg, key.pkcs8_der(), &rng)
                .map_err(|e| KeyError::BadPrivateKey(e.to_string()))
        };
        let fixed = load(&ECDSA_P256_SHA256_FIXED_SIGNING)?;
        let asn1 = load(&ECDSA_P256_SHA256_ASN1_SIGNING)?;
        if fixed.public_key().as_ref() != certificate.public_key() {
            return Err(KeyError::KeyDoesNotMatchCertificate);
        }
        Ok(Self {
            kid: certificate.kid(),
            chain: vec![certificate.der().to_vec()],
            fixed,
            asn1,
            rng,
        })
    }

    /// A signer for a comune CA's own key, which signs what the CA vouches
    /// for besides certificates: the signed trust list that offline
    /// verifiers load. Fails unless `certificate` is a CA certificate and
    /// `key` its private key. The kid is the CA certificate's.
    pub fn for_ca(certificate: &CertificateInfo, key: &PrivateKey) -> Result<Self, KeyError> {
        if !certificate.is_ca() {
            return Err(KeyError::BadCertificate("not a CA certificate".into()));
        }
        let rng = SystemRandom::new();
        let load = |alg| {
            EcdsaKeyPair::from_pkcs8(alg, key.pkcs8_der(), &rng)
                .map_err(|e| KeyError::BadPrivateKey(e.to_string()))
        };
        let fixed = load(&ECDSA_P256_SHA256_FIXED_SIGNING)?;
        let asn1 = load(&ECDSA_P256_SHA256_ASN1_SIGNING)?;
        if fixed.public_key().as_ref() != certificate.public_key() {
            return Err(KeyError::KeyDoesNotMatchCertificate);
        }
        Ok(Self {
            kid: certificate.kid(),
            chain: vec![certificate.der().to_vec()],
            fixed,
            asn1,
            rng,
        })
    }

    /// Adds the issuing CA's certificate to the chain the signer presents
    /// (in a PDF signature, say), after the signer's own.
    pub fn with_ca(mut self, ca: &CertificateInfo) -> Self {
        self.chain.truncate(1);
        self.chain.push(ca.der().to_vec());
        self
    }

    /// The certificates in DER, the signer's first, then its CA's if known.
    pub fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// Signs `message` with ECDSA P-256 / SHA-256 and returns the signature
    /// DER-encoded (`Ecdsa-Sig-Value`), as CMS and X.509 write it.
    pub fn sign_asn1(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.asn1
            .sign(&self.rng, message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| SignerError("ECDSA signing failed".into()))
    }
}

impl SealSigner for KeySigner {
    fn kid(&self) -> Kid {
        self.kid
    }

    fn sign_es256(&self, message: &[u8]) -> Result<Es256Signature, SignerError> {
        let signature = self
            .fixed
            .sign(&self.rng, message)
            .map_err(|_| SignerError("ECDSA signing failed".into()))?;
        signature
            .as_ref()
            .try_into()
            .map_err(|_| SignerError("ES256 signature is not 64 bytes".into()))
    }
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// An ECDSA P-256 public key that checks ES256 signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct Es256PublicKey {
    point: Vec<u8>,
}

impl Es256PublicKey {
    /// From an uncompressed SEC1 point (`04 ‖ x ‖ y`, 65 bytes).
    pub fn from_sec1(point: &[u8]) -> Result<Self, KeyError> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err(KeyError::Crypto("not an uncompressed P-256 point".into()));
        }
        Ok(Self {
            point: point.to_vec(),
        })
    }

    /// From the affine coordinates, 32 bytes each (as a COSE or JWK key
    /// gives them).
    pub fn from_coordinates(x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        if x.len() != 32 || y.len() != 32 {
            return Err(KeyError::Crypto(
                "P-256 coordinates are 32 bytes each".into(),
            ));
        }
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Ok(Self { point })
    }

    /// The uncompressed SEC1 point.
    pub fn as_sec1(&self) -> &[u8] {
        &self.point
    }

    /// Whether `signature`, DER-encoded (`Ecdsa-Sig-Value`, as CMS and
    /// X.509 write it), over `message` was made by this key with ECDSA
    /// P-256 / SHA-256.
    pub fn verify_asn1(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(message, signature)
            .is_ok()
    }
}

impl Es256Verifier for Es256PublicKey {
    fn verify_es256(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.point)
            .verify(message, signature)
            .is_ok()
    }
}

impl fmt::Debug for Es256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Es256PublicKey({} bytes)", self.point.len())
    }
}

/// Checks one raw ECDSA P-256 / SHA-256 signature (`r ‖ s`) with `ring`,
/// nothing else: the baseline that seal verification is measured against.
pub fn raw_es256_verify(public_key_sec1: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key_sec1)
        .verify(message, signature)
        .is_ok()
}
