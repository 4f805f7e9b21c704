//! The relying party's three keys, as the federation profile wants them
//! apart: the federation key signs the Entity Configuration; the signing
//! key signs request objects and client assertions; the encryption key
//! opens encrypted userinfo. All RSA (2048 bits or more), kept as PKCS#8
//! PEM files; each is named in its JWK by its RFC 7638 thumbprint.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::JweDecrypter;
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::{Jwk, KeyPair as _};
use josekit::jws::JwsSigner;
use sha2::{Digest as _, Sha256};

use crate::Error;

/// The smallest RSA key accepted.
const MIN_BITS: u32 = 2048;
/// The size of the keys made when none is given.
const NEW_BITS: u32 = 2048;

/// A key that signs with RS256.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) signer: Box<dyn JwsSigner>,
    pub(crate) public: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A key that opens JWEs sent to it with `alg`.
pub(crate) struct EncryptionKey {
    pub(crate) kid: String,
    pub(crate) alg: String,
    pub(crate) decrypter: Box<dyn JweDecrypter>,
    pub(crate) public: Jwk,
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The PEM at `path`; when there is none and `make` allows it, a new key
/// written there first (owner-only).
pub(crate) fn pem_at(path: &Path, make: bool) -> Result<Vec<u8>, Error> {
    match std::fs::read(path) {
        Ok(pem) => Ok(pem),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && make => {
            let pair = RsaKeyPair::generate(NEW_BITS)
                .map_err(|error| Error::Keys(format!("chiave non generata: {error}")))?;
            let pem = pair.to_pem_private_key();
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|error| Error::Keys(format!("{}: {error}", parent.display())))?;
            }
            write_private(path, &pem)
                .map_err(|error| Error::Keys(format!("{}: {error}", path.display())))?;
            tracing::info!(path = %path.display(), "oidc: new relying party key made");
            Ok(pem)
        }
        Err(error) => Err(Error::Keys(format!("{}: {error}", path.display()))),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn key_pair(pem: &[u8], what: &str) -> Result<RsaKeyPair, Error> {
    let pair = RsaKeyPair::from_pem(pem)
        .map_err(|error| Error::Keys(format!("{what}: non è una chiave RSA PEM ({error})")))?;
    if pair.key_len() * 8 < MIN_BITS {
        return Err(Error::Keys(format!(
            "{what}: chiave RSA di {} bit, ne servono almeno {MIN_BITS}",
            pair.key_len() * 8
        )));
    }
    Ok(pair)
}

/// The RFC 7638 thumbprint of an RSA public JWK.
pub(crate) fn thumbprint(jwk: &Jwk) -> String {
    let member = |name: &str| {
        jwk.parameter(name)
            .and_then(|value| value.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let canonical = serde_json::json!({ "e": member("e"), "kty": "RSA", "n": member("n") });
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// An RS256 signing key from a PEM.
pub(crate) fn signing_key(pem: &[u8], what: &str) -> Result<SigningKey, Error> {
    let pair = key_pair(pem, what)?;
    let mut public = pair.to_jwk_public_key();
    let kid = thumbprint(&public);
    public.set_key_id(&kid);
    public.set_key_use("sig");
    public.set_algorithm("RS256");
    let mut signer = josekit::jws::RS256
        .signer_from_pem(pem)
        .map_err(|error| Error::Keys(format!("{what}: {error}")))?;
    signer.set_key_id(&kid);
    Ok(SigningKey {
        kid,
        signer: Box::new(signer),
        public,
    })
}

/// An encryption key from a PEM, for `alg` (`RSA-OAEP-256` or `RSA-OAEP`).
pub(crate) fn encryption_key(pem: &[u8], alg: &str, what: &str) -> Result<EncryptionKey, Error> {
    let pair = key_pair(pem, what)?;
    let mut public = pair.to_jwk_public_key();
    let kid = thumbprint(&public);
    public.set_key_id(&kid);
    public.set_key_use("enc");
    public.set_algorithm(alg);
    let algorithm = match alg {
        "RSA-OAEP-256" => josekit::jwe::RSA_OAEP_256,
        "RSA-OAEP" => josekit::jwe::RSA_OAEP,
        other => {
            return Err(Error::Keys(format!(
                "userinfo_encrypted_response_alg {other:?} non previsto: RSA-OAEP-256 o RSA-OAEP"
            )));
        }
    };
    let decrypter = algorithm
        .decrypter_from_pem(pem)
        .map_err(|error| Error::Keys(format!("{what}: {error}")))?;
    Ok(EncryptionKey {
        kid,
        alg: alg.to_owned(),
        decrypter: Box::new(decrypter),
        public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_key_is_kept_and_read_back_with_the_same_thumbprint() {
        let dir = std::env::temp_dir().join(format!("sigillo-oidc-keys-{}", std::process::id()));
        let path = dir.join("signing.pem");
        let _ = std::fs::remove_file(&path);
        let made = pem_at(&path, true).expect("made");
        let again = pem_at(&path, false).expect("read");
        assert_eq!(made, again);
        let first = signing_key(&made, "test").expect("key");
        let second = signing_key(&again, "test").expect("key");
        assert_eq!(first.kid, second.kid);
        assert_eq!(first.kid.len(), 43);
        let encryption = encryption_key(&made, "RSA-OAEP-256", "test").expect("key");
        assert_eq!(encryption.kid, first.kid, "the thumbprint is the key's");
        assert!(encryption_key(&made, "RSA1_5", "test").is_err());
        assert!(pem_at(&dir.join("absent.pem"), false).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1's example key and thumbprint.
        let jwk = Jwk::from_bytes(
            br#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .expect("jwk");
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
