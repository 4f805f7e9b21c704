//! Sigillo's keys: each comune's CA and seal-signer certificates (ECDSA
//! P-256), their private keys on disk, and the trust list that verification
//! consults. This is the only crate that touches `ring` and private keys; the
//! seal crate reaches them through [`seal::SealSigner`] and
//! [`seal::TrustList`], which [`KeySigner`] and [`TrustStore`] implement.
//!
//! ```no_run
//! # fn main() -> Result<(), keys::KeyError> {
//! use keys::{Comune, KeyStore};
//! let store = KeyStore::new(std::path::Path::new("sigillo-data"));
//! let comune = Comune { code: seal::ComuneCode::parse("058091").unwrap(), name: "Roma".into() };
//! let now = time::OffsetDateTime::now_utc();
//! store.init(&comune, now, false)?;
//! let signer = store.signer(comune.code)?;      // seals with the current key
//! let trust = store.trust_store()?;             // verifies old and new seals
//! # let _ = (signer, trust); Ok(()) }
//! ```
#![warn(missing_docs)]

mod cert;
mod crypto;
mod generate;
mod store;
mod trust;

use std::path::PathBuf;

pub use cert::{CertificateInfo, kid_of};
pub use crypto::{Es256PublicKey, KeySigner, raw_es256_verify};
pub use generate::{
    CA_VALIDITY, Comune, KeyAndCertificate, PrivateKey, SIGNER_VALIDITY, generate_ca,
    generate_signer,
};
pub use store::{ComuneCertificates, KeyStore};
pub use trust::TrustStore;

use seal::{ComuneCode, Kid};

/// What can go wrong with keys and certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The comune already has keys, and replacing them was not asked for.
    #[error("le chiavi esistono già in {0}: usare --force per sostituirle")]
    AlreadyExists(PathBuf),
    /// The comune has no keys in this store.
    #[error("nessuna chiave per il comune {0}: eseguire prima `sigillo keys init`")]
    NoKeys(ComuneCode),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// A key store file has content that makes no sense.
    #[error("{0}: contenuto illeggibile")]
    Corrupt(PathBuf),
    /// A certificate is not one Sigillo can use.
    #[error("certificato non utilizzabile: {0}")]
    BadCertificate(String),
    /// A private key could not be read.
    #[error("chiave privata non utilizzabile: {0}")]
    BadPrivateKey(String),
    /// The private key is not the certificate's.
    #[error("la chiave privata non corrisponde al certificato")]
    KeyDoesNotMatchCertificate,
    /// A certificate belongs to another comune than expected.
    #[error("certificato del comune {found}, atteso {expected}")]
    WrongComune {
        /// The comune expected.
        expected: ComuneCode,
        /// The comune the certificate names.
        found: ComuneCode,
    },
    /// A signer certificate not signed by any trusted CA.
    #[error("il firmatario {0} non è firmato da una CA attendibile")]
    UntrustedIssuer(Kid),
    /// No signer with this kid among the comune's.
    #[error("nessun firmatario {0} tra quelli del comune: vedere `sigillo keys show`")]
    UnknownSigner(Kid),
    /// The signer in use cannot be revoked.
    #[error(
        "il firmatario {0} è quello in uso: eseguire prima `sigillo keys rotate`, poi revocarlo"
    )]
    RevokingCurrentSigner(Kid),
    /// Key generation or a signature failed.
    #[error("errore crittografico: {0}")]
    Crypto(String),
}
