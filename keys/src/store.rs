//! Keys on disk, one folder per comune:
//!
//! ```text
//! <data dir>/keys/<ISTAT code>/ca.crt.pem          CA certificate
//! <data dir>/keys/<ISTAT code>/ca.key.pem          CA private key (PKCS#8, mode 0600)
//! <data dir>/keys/<ISTAT code>/signers/<kid>.crt.pem   every signer certificate, old ones kept
//! <data dir>/keys/<ISTAT code>/signers/<kid>.key.pem   the current signer's key (mode 0600)
//! <data dir>/keys/<ISTAT code>/signers/<kid>.revoked   from when a compromised signer is revoked (RFC 3339)
//! <data dir>/keys/<ISTAT code>/current             kid of the signer in use
//! ```
//!
//! Files are written to a temporary name and renamed into place, so a crash
//! leaves either the old file or the new one. A rotation deletes the old
//! signer's private key once the new signer is in place: nothing needs it
//! any more, and a key that no longer exists cannot leak.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use seal::{ComuneCode, Kid};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{
    CertificateInfo, Comune, KeyAndCertificate, KeyError, KeySigner, PrivateKey, TrustStore,
    generate_ca, generate_signer,
};

/// The keys of every comune under one data directory.
#[derive(Debug, Clone)]
pub struct KeyStore {
    root: PathBuf,
}

/// A comune's certificates as stored.
#[derive(Debug, Clone)]
pub struct ComuneCertificates {
    /// The CA certificate.
    pub ca: CertificateInfo,
    /// Every signer certificate, oldest first.
    pub signers: Vec<CertificateInfo>,
    /// The signer in use.
    pub current: Kid,
    /// The revoked signers, with the instant from which what they signed
    /// is not valid.
    pub revoked: BTreeMap<Kid, OffsetDateTime>,
}

impl KeyStore {
    /// The key store under `data_dir` (in its `keys` folder).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("keys"),
        }
    }

    /// Where a comune's keys live.
    pub fn comune_dir(&self, code: ComuneCode) -> PathBuf {
        self.root.join(code.as_str())
    }

    /// Whether the comune has keys.
    pub fn has_keys(&self, code: ComuneCode) -> bool {
        self.comune_dir(code).join("current").exists()
    }

    /// Creates the comune's CA and first signer. Refuses if the comune has
    /// keys already, unless `force`, which replaces them: certificates
    /// sealed with the old keys will no longer verify against this store.
    pub fn init(
        &self,
        comune: &Comune,
        now: OffsetDateTime,
        force: bool,
    ) -> Result<ComuneCertificates, KeyError> {
        let dir = self.comune_dir(comune.code);
        if dir.exists() {
            if !force {
                return Err(KeyError::AlreadyExists(dir));
            }
            fs::remove_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        }
        let ca = generate_ca(comune, now)?;
        let signer = generate_signer(comune, &ca, now)?;
        fs::create_dir_all(dir.join("signers")).map_err(|e| io_error(&dir, e))?;
        write_file(
            &dir.join("ca.crt.pem"),
            ca.certificate.to_pem().as_bytes(),
            false,
        )?;
        write_file(&dir.join("ca.key.pem"), ca.key.to_pem().as_bytes(), true)?;
        self.install_signer(comune.code, &signer)?;
        self.certificates(comune.code)
    }

    /// Makes a new signer for the comune, signed by its CA, and puts it in
    /// use. The old signer certificates stay, so what they sealed still
    /// verifies; the old signer's private key is deleted.
    pub fn rotate(
        &self,
        comune: &Comune,
        now: OffsetDateTime,
    ) -> Result<CertificateInfo, KeyError> {
        let before = self.certificates(comune.code)?;
        let dir = self.comune_dir(comune.code);
        let ca = KeyAndCertificate {
            certificate: before.ca.clone(),
            key: PrivateKey::from_pem(&read_text(&dir.join("ca.key.pem"))?)?,
        };
        let signer = generate_signer(comune, &ca, now)?;
        self.install_signer(comune.code, &signer)?;
        let old_key = self.signer_key_path(comune.code, before.current);
        if old_key.exists() {
            fs::remove_file(&old_key).map_err(|e| io_error(&old_key, e))?;
        }
        Ok(signer.certificate)
    }

    /// The comune's current signer, ready to seal, presenting its CA too.
    pub fn signer(&self, code: ComuneCode) -> Result<KeySigner, KeyError> {
        let current = self.current(code)?;
        let dir = self.comune_dir(code);
        let certificate = CertificateInfo::from_pem(&read_text(
            &dir.join(format!("signers/{current}.crt.pem")),
        )?)?;
        let key = PrivateKey::from_pem(&read_text(&self.signer_key_path(code, current))?)?;
        let ca = CertificateInfo::from_pem(&read_text(&dir.join("ca.crt.pem"))?)?;
        Ok(KeySigner::new(&certificate, &key)?.with_ca(&ca))
    }

    /// A signer for the comune's CA key, for what the CA signs besides
    /// certificates (the signed trust list).
    pub fn ca_signer(&self, code: ComuneCode) -> Result<KeySigner, KeyError> {
        let dir = self.comune_dir(code);
        if !dir.exists() {
            return Err(KeyError::NoKeys(code));
        }
        let certificate = CertificateInfo::from_pem(&read_text(&dir.join("ca.crt.pem"))?)?;
        let key = PrivateKey::from_pem(&read_text(&dir.join("ca.key.pem"))?)?;
        KeySigner::for_ca(&certificate, &key)
    }

    /// The comune's certificates: CA, every signer, and which is current.
    pub fn certificates(&self, code: ComuneCode) -> Result<ComuneCertificates, KeyError> {
        let dir = self.comune_dir(code);
        if !dir.exists() {
            return Err(KeyError::NoKeys(code));
        }
        let ca = CertificateInfo::from_pem(&read_text(&dir.join("ca.crt.pem"))?)?;
        let signers_dir = dir.join("signers");
        let mut signers = Vec::new();
        for entry in fs::read_dir(&signers_dir).map_err(|e| io_error(&signers_dir, e))? {
            let path = entry.map_err(|e| io_error(&signers_dir, e))?.path();
            if path.to_string_lossy().ends_with(".crt.pem") {
                signers.push(CertificateInfo::from_pem(&read_text(&path)?)?);
            }
        }
        signers.sort_by_key(|certificate| certificate.not_before());
        let mut revoked = BTreeMap::new();
        for signer in &signers {
            let path = self.revocation_path(code, signer.kid());
            if path.exists() {
                let text = read_text(&path)?;
                let since = OffsetDateTime::parse(text.trim(), &Rfc3339)
                    .map_err(|_| KeyError::Corrupt(path.clone()))?;
                revoked.insert(signer.kid(), since);
            }
        }
        Ok(ComuneCertificates {
            ca,
            signers,
            current: self.current(code)?,
            revoked,
        })
    }

    /// Revokes a compromised seal signer: whatever it signed from `since`
    /// on is invalid wherever the comune's trust list reaches; what it
    /// signed before stays authentic, with a warning. The signer in use
    /// cannot be revoked (rotate first: a comune must always be able to
    /// seal). Revoking again keeps the earlier date.
    pub fn revoke_signer(
        &self,
        code: ComuneCode,
        kid: Kid,
        since: OffsetDateTime,
    ) -> Result<OffsetDateTime, KeyError> {
        let certificates = self.certificates(code)?;
        if !certificates
            .signers
            .iter()
            .any(|signer| signer.kid() == kid)
        {
            return Err(KeyError::UnknownSigner(kid));
        }
        if certificates.current == kid {
            return Err(KeyError::RevokingCurrentSigner(kid));
        }
        let since = certificates
            .revoked
            .get(&kid)
            .map_or(since, |&earlier| earlier.min(since));
        let text = since
            .format(&Rfc3339)
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        write_file(
            &self.revocation_path(code, kid),
            format!("{text}\n").as_bytes(),
            false,
        )?;
        Ok(since)
    }

    /// Every revoked signer of every comune here, with its date.
    pub fn revocations(&self) -> Result<BTreeMap<Kid, OffsetDateTime>, KeyError> {
        let mut all = BTreeMap::new();
        for code in self.comuni()? {
            all.extend(self.certificates(code)?.revoked);
        }
        Ok(all)
    }

    fn revocation_path(&self, code: ComuneCode, kid: Kid) -> PathBuf {
        self.comune_dir(code).join(format!("signers/{kid}.revoked"))
    }

    /// The comuni that have keys here.
    pub fn comuni(&self) -> Result<Vec<ComuneCode>, KeyError> {
        if !self.root.exists() {
            return Ok(Vec::new());
        }
        let mut codes = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(|e| io_error(&self.root, e))? {
            let entry = entry.map_err(|e| io_error(&self.root, e))?;
            if let Some(code) = entry
                .file_name()
                .to_str()
                .and_then(|n| ComuneCode::parse(n).ok())
            {
                codes.push(code);
            }
        }
        codes.sort();
        Ok(codes)
    }

    /// A trust list of every comune's CA and signers in this store, each
    /// signer checked against its CA.
    pub fn trust_store(&self) -> Result<TrustStore, KeyError> {
        let mut trust = TrustStore::new();
        for code in self.comuni()? {
            let certificates = self.certificates(code)?;
            trust.add_ca(certificates.ca)?;
            for signer in certificates.signers {
                trust.add_signer(signer)?;
            }
        }
        Ok(trust)
    }

    fn install_signer(&self, code: ComuneCode, signer: &KeyAndCertificate) -> Result<(), KeyError> {
        let dir = self.comune_dir(code);
        let kid = signer.certificate.kid();
        write_file(
            &dir.join(format!("signers/{kid}.crt.pem")),
            signer.certificate.to_pem().as_bytes(),
            false,
        )?;
        write_file(
            &self.signer_key_path(code, kid),
            signer.key.to_pem().as_bytes(),
            true,
        )?;
        write_file(&dir.join("current"), format!("{kid}\n").as_bytes(), false)
    }

    fn signer_key_path(&self, code: ComuneCode, kid: Kid) -> PathBuf {
        self.comune_dir(code).join(format!("signers/{kid}.key.pem"))
    }

    fn current(&self, code: ComuneCode) -> Result<Kid, KeyError> {
        let path = self.comune_dir(code).join("current");
        let text = read_text(&path)?;
        parse_kid(text.trim()).ok_or(KeyError::Corrupt(path))
    }
}

fn parse_kid(hex: &str) -> Option<Kid> {
    if hex.len() != 16 {
        return None;
    }
    let mut kid = [0u8; 8];
    for (index, byte) in kid.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(Kid(kid))
}

fn read_text(path: &Path) -> Result<String, KeyError> {
    fs::read_to_string(path).map_err(|e| io_error(path, e))
}

/// Writes `contents` to `path` through a temporary file and a rename. A
/// private file is created with mode 0600 before any byte is written.
fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<(), KeyError> {
    let temporary = path.with_extension("tmp");
    let _ = fs::remove_file(&temporary);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(&temporary)
        .map_err(|e| io_error(&temporary, e))?;
    file.write_all(contents)
        .map_err(|e| io_error(&temporary, e))?;
    file.sync_all().map_err(|e| io_error(&temporary, e))?;
    fs::rename(&temporary, path).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, source: std::io::Error) -> KeyError {
    KeyError::Io {
        path: path.to_path_buf(),
        message: source.to_string(),
    }
}
