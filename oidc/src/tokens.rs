//! The checks on what a provider sends: the ID token and userinfo.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, JwsVerifier};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::keys::EncryptionKey;
use crate::{Error, SPID_LEVELS};

/// What is wrong with an ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenProblem {
    /// Not a JWS with a JSON payload.
    #[error("non è un JWT firmato")]
    Malformed,
    /// The signature is not the provider's (or the algorithm is not one
    /// accepted).
    #[error("firma non valida")]
    Signature,
    /// `iss` is not the provider.
    #[error("iss diverso dal provider")]
    Issuer,
    /// `aud` (or `azp`) is not this relying party.
    #[error("aud non è questo relying party")]
    Audience,
    /// `exp` is past.
    #[error("scaduto")]
    Expired,
    /// `iat` is in the future.
    #[error("emesso nel futuro")]
    IssuedInFuture,
    /// `nonce` is not the login's.
    #[error("nonce diverso da quello della richiesta")]
    Nonce,
    /// `acr` is absent or below the level asked for.
    #[error("livello di autenticazione (acr) insufficiente")]
    Acr,
    /// `at_hash` is absent or not the access token's.
    #[error("at_hash non corrisponde all'access token")]
    AtHash,
    /// No `sub`.
    #[error("sub assente")]
    Subject,
}

impl IdTokenProblem {
    /// A short code for logs.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "id_token_malformed",
            Self::Signature => "id_token_signature",
            Self::Issuer => "id_token_iss",
            Self::Audience => "id_token_aud",
            Self::Expired => "id_token_expired",
            Self::IssuedInFuture => "id_token_iat",
            Self::Nonce => "id_token_nonce",
            Self::Acr => "id_token_acr",
            Self::AtHash => "id_token_at_hash",
            Self::Subject => "id_token_sub",
        }
    }
}

/// The algorithms accepted from a provider: all hash with SHA-256, as
/// `at_hash` then does.
const ACCEPTED: [&str; 3] = ["RS256", "PS256", "ES256"];

struct Entry {
    kid: Option<String>,
    alg: &'static str,
    verifier: Box<dyn JwsVerifier>,
}

/// A provider's signing keys, ready to verify.
#[derive(Clone)]
pub(crate) struct Verifiers(Arc<Vec<Entry>>);

impl std::fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Verifiers({} keys)", self.0.len())
    }
}

impl Verifiers {
    /// The signing keys of a JWKS; encryption keys and keys of algorithms
    /// not accepted are left out.
    pub(crate) fn from_jwks(jwks: &Value) -> Result<Self, Error> {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::Metadata("JWKS senza keys".into()))?;
        let mut entries = Vec::new();
        for key in keys {
            let Value::Object(map) = key else { continue };
            let Ok(jwk) = Jwk::from_map(map.clone()) else {
                continue;
            };
            if jwk.key_use().is_some_and(|usage| usage != "sig") {
                continue;
            }
            let algs: Vec<&'static str> = match (jwk.algorithm(), jwk.key_type(), jwk.curve()) {
                (Some(alg), _, _) => ACCEPTED.iter().copied().filter(|a| *a == alg).collect(),
                (None, "RSA", _) => vec!["RS256", "PS256"],
                (None, "EC", Some("P-256")) => vec!["ES256"],
                _ => Vec::new(),
            };
            for alg in algs {
                let verifier: Result<Box<dyn JwsVerifier>, JoseError> = match alg {
                    "RS256" => josekit::jws::RS256
                        .verifier_from_jwk(&jwk)
                        .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
                    "PS256" => josekit::jws::PS256
                        .verifier_from_jwk(&jwk)
                        .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
                    _ => josekit::jws::ES256
                        .verifier_from_jwk(&jwk)
                        .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
                };
                if let Ok(verifier) = verifier {
                    entries.push(Entry {
                        kid: jwk.key_id().map(str::to_owned),
                        alg,
                        verifier,
                    });
                }
            }
        }
        if entries.is_empty() {
            return Err(Error::Metadata(
                "JWKS senza chiavi di firma utilizzabili".into(),
            ));
        }
        Ok(Self(Arc::new(entries)))
    }

    /// Whether `token` names a key this set lacks.
    pub(crate) fn lacks_key_of(&self, token: &str) -> bool {
        let Some(header) = header_of(token) else {
            return false;
        };
        match header.get("kid").and_then(Value::as_str) {
            Some(kid) => !self.0.iter().any(|e| e.kid.as_deref() == Some(kid)),
            None => false,
        }
    }

    /// The payload of JWS `token` if one of these keys signed it with an
    /// accepted algorithm.
    pub(crate) fn verify(&self, token: &str) -> Result<(Value, JwsHeader), IdTokenProblem> {
        let select = |header: &JwsHeader| -> Result<Option<&dyn JwsVerifier>, JoseError> {
            let alg = header.algorithm().unwrap_or_default();
            let kid = header.key_id();
            let found = self.0.iter().find(|entry| {
                entry.alg == alg
                    && match kid {
                        Some(kid) => entry.kid.as_deref() == Some(kid),
                        None => true,
                    }
            });
            Ok(found.map(|entry| entry.verifier.as_ref()))
        };
        if header_of(token).is_none() {
            return Err(IdTokenProblem::Malformed);
        }
        let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, select)
            .map_err(|_| IdTokenProblem::Signature)?;
        let payload: Value =
            serde_json::from_slice(&payload).map_err(|_| IdTokenProblem::Malformed)?;
        if !payload.is_object() {
            return Err(IdTokenProblem::Malformed);
        }
        Ok((payload, header))
    }
}

/// The JSON header of a compact JWS or JWE, if it is one.
fn header_of(token: &str) -> Option<Value> {
    let first = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(first).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

/// What the ID token must say.
pub(crate) struct Expected<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) minimum_acr: &'a str,
    pub(crate) access_token: &'a str,
    pub(crate) now: i64,
    pub(crate) leeway: i64,
}

/// What the ID token said that is kept.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) sub: String,
    pub(crate) acr: String,
}

/// Checks the ID token: signature, then every claim the profile names.
pub(crate) fn check_id_token(
    token: &str,
    verifiers: &Verifiers,
    expected: &Expected<'_>,
) -> Result<Checked, IdTokenProblem> {
    let (claims, _) = verifiers.verify(token)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(expected.issuer) {
        return Err(IdTokenProblem::Issuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(IdTokenProblem::Audience);
    }
    match text("azp") {
        Some(azp) if azp != expected.client_id => return Err(IdTokenProblem::Audience),
        None if audiences.len() > 1 => return Err(IdTokenProblem::Audience),
        _ => {}
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    match number("exp") {
        Some(exp) if exp + expected.leeway > expected.now => {}
        _ => return Err(IdTokenProblem::Expired),
    }
    match number("iat") {
        Some(iat) if iat <= expected.now + expected.leeway => {}
        _ => return Err(IdTokenProblem::IssuedInFuture),
    }
    let nonce_matches = text("nonce").is_some_and(|nonce| {
        let (a, b) = (nonce.as_bytes(), expected.nonce.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    });
    if !nonce_matches {
        return Err(IdTokenProblem::Nonce);
    }
    let level = |acr: &str| SPID_LEVELS.iter().position(|level| *level == acr);
    let acr = text("acr").ok_or(IdTokenProblem::Acr)?;
    match (level(acr), level(expected.minimum_acr)) {
        (Some(got), Some(wanted)) if got >= wanted => {}
        _ => return Err(IdTokenProblem::Acr),
    }
    let digest = Sha256::digest(expected.access_token.as_bytes());
    let at_hash = URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]);
    if text("at_hash") != Some(at_hash.as_str()) {
        return Err(IdTokenProblem::AtHash);
    }
    let sub = text("sub")
        .filter(|sub| !sub.is_empty())
        .ok_or(IdTokenProblem::Subject)?;
    Ok(Checked {
        sub: sub.to_owned(),
        acr: acr.to_owned(),
    })
}

/// The claims of a userinfo answer: JSON, a JWS, or a JWE holding either.
/// A JWE must be for `encryption`'s key and algorithm; a JWS must be the
/// provider's, and from `issuer` and for `client_id` where it says.
pub(crate) fn open_userinfo(
    body: &str,
    verifiers: &Verifiers,
    encryption: &EncryptionKey,
    issuer: &str,
    client_id: &str,
) -> Result<Map<String, Value>, Error> {
    if body.starts_with('{') {
        return match serde_json::from_str(body) {
            Ok(Value::Object(claims)) => Ok(claims),
            _ => Err(Error::Userinfo("JSON non valido".into())),
        };
    }
    let inner = if body.split('.').count() == 5 {
        let select = |header: &josekit::jwe::JweHeader| {
            let ours = header.algorithm() == Some(encryption.alg.as_str())
                && header.key_id().is_none_or(|kid| kid == encryption.kid);
            Ok(ours.then_some(encryption.decrypter.as_ref()))
        };
        let (plain, _) =
            josekit::jwe::deserialize_compact_with_selector(body, select).map_err(|_| {
                Error::Userinfo("JWE non decifrabile con la chiave di cifratura".into())
            })?;
        String::from_utf8(plain).map_err(|_| Error::Userinfo("contenuto non UTF-8".into()))?
    } else {
        body.to_owned()
    };
    let inner = inner.trim();
    if inner.starts_with('{') {
        return match serde_json::from_str(inner) {
            Ok(Value::Object(claims)) => Ok(claims),
            _ => Err(Error::Userinfo("JSON non valido".into())),
        };
    }
    let (claims, _) = verifiers
        .verify(inner)
        .map_err(|problem| Error::Userinfo(format!("JWS: {problem}")))?;
    let Value::Object(claims) = claims else {
        return Err(Error::Userinfo("JWS senza oggetto".into()));
    };
    // OpenID Connect Core §5.3.2: a signed answer SHOULD carry iss and
    // aud; the provider's signature already says who sent it. Where they
    // are, they must be right.
    if claims
        .get("iss")
        .is_some_and(|iss| iss.as_str() != Some(issuer))
    {
        return Err(Error::Userinfo("iss diverso dal provider".into()));
    }
    let audience_ok = match claims.get("aud") {
        None => true,
        Some(Value::String(one)) => one == client_id,
        Some(Value::Array(many)) => many.iter().any(|aud| aud.as_str() == Some(client_id)),
        Some(_) => false,
    };
    if !audience_ok {
        return Err(Error::Userinfo("aud non è questo relying party".into()));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use josekit::jwk::KeyPair as _;
    use josekit::jwk::alg::rsa::RsaKeyPair;
    use josekit::jwt::JwtPayload;
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    struct Op {
        pem: Vec<u8>,
        verifiers: Verifiers,
    }

    fn op() -> Op {
        let pair = RsaKeyPair::generate(2048).expect("key");
        let mut public = pair.to_jwk_public_key();
        public.set_key_id("op-1");
        let verifiers =
            Verifiers::from_jwks(&json!({ "keys": [Value::Object(public.as_ref().clone())] }))
                .expect("verifiers");
        Op {
            pem: pair.to_pem_private_key(),
            verifiers,
        }
    }

    fn signed(pem: &[u8], claims: Value) -> String {
        let Value::Object(map) = claims else {
            panic!("object")
        };
        let mut header = JwsHeader::new();
        header.set_key_id("op-1");
        let signer = josekit::jws::RS256.signer_from_pem(pem).expect("signer");
        josekit::jwt::encode_with_signer(
            &JwtPayload::from_map(map).expect("payload"),
            &header,
            &signer,
        )
        .expect("signed")
    }

    fn at_hash(token: &str) -> String {
        let digest = Sha256::digest(token.as_bytes());
        URL_SAFE_NO_PAD.encode(&digest[..16])
    }

    fn good() -> Value {
        json!({
            "iss": "https://op.example.it",
            "aud": "https://rp.example.it",
            "sub": "pairwise-1",
            "exp": NOW + 300,
            "iat": NOW,
            "nonce": "the-nonce",
            "acr": "https://www.spid.gov.it/SpidL2",
            "at_hash": at_hash("access"),
        })
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://op.example.it",
            client_id: "https://rp.example.it",
            nonce: "the-nonce",
            minimum_acr: "https://www.spid.gov.it/SpidL2",
            access_token: "access",
            now: NOW,
            leeway: 60,
        }
    }

    fn check(op: &Op, claims: Value) -> Result<Checked, IdTokenProblem> {
        check_id_token(&signed(&op.pem, claims), &op.verifiers, &expected())
    }

    #[test]
    fn a_good_id_token_passes_and_each_wrong_claim_is_named() {
        let op = op();
        let checked = check(&op, good()).expect("good");
        assert_eq!(checked.sub, "pairwise-1");
        let with = |name: &str, value: Value| {
            let mut claims = good();
            claims[name] = value;
            check(&op, claims).expect_err("refused")
        };
        assert_eq!(
            with("iss", json!("https://other.example.it")),
            IdTokenProblem::Issuer
        );
        assert_eq!(
            with("aud", json!("https://other.example.it")),
            IdTokenProblem::Audience
        );
        assert_eq!(
            with(
                "aud",
                json!(["https://rp.example.it", "https://x.example.it"])
            ),
            IdTokenProblem::Audience,
            "several audiences need azp"
        );
        assert_eq!(with("exp", json!(NOW - 61)), IdTokenProblem::Expired);
        assert_eq!(
            with("iat", json!(NOW + 120)),
            IdTokenProblem::IssuedInFuture
        );
        assert_eq!(with("nonce", json!("another-nonce")), IdTokenProblem::Nonce);
        assert_eq!(
            with("acr", json!("https://www.spid.gov.it/SpidL1")),
            IdTokenProblem::Acr
        );
        assert_eq!(
            with("at_hash", json!(at_hash("other"))),
            IdTokenProblem::AtHash
        );
        let mut higher = good();
        higher["acr"] = json!("https://www.spid.gov.it/SpidL3");
        assert!(check(&op, higher).is_ok(), "a higher level is fine");
        let mut without = good();
        without.as_object_mut().expect("object").remove("at_hash");
        assert_eq!(
            check(&op, without).expect_err("refused"),
            IdTokenProblem::AtHash
        );
    }

    #[test]
    fn a_token_signed_by_another_key_or_altered_is_refused() {
        let op = op();
        let forger = op_like_with_same_kid();
        let forged = signed(&forger, good());
        let expected = expected();
        assert_eq!(
            check_id_token(&forged, &op.verifiers, &expected).expect_err("refused"),
            IdTokenProblem::Signature
        );
        // The payload changed under the provider's signature.
        let genuine = signed(&op.pem, good());
        let parts: Vec<&str> = genuine.split('.').collect();
        let mut claims = good();
        claims["sub"] = json!("someone-else");
        let altered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            parts[2]
        );
        assert_eq!(
            check_id_token(&altered, &op.verifiers, &expected).expect_err("refused"),
            IdTokenProblem::Signature
        );
        // alg none is never accepted.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"op-1"}"#),
            parts[1]
        );
        assert_eq!(
            check_id_token(&none, &op.verifiers, &expected).expect_err("refused"),
            IdTokenProblem::Signature
        );
        assert_eq!(
            check_id_token("not a token", &op.verifiers, &expected).expect_err("refused"),
            IdTokenProblem::Malformed
        );
    }

    fn op_like_with_same_kid() -> Vec<u8> {
        RsaKeyPair::generate(2048)
            .expect("key")
            .to_pem_private_key()
    }

    #[test]
    fn userinfo_as_an_encrypted_signed_jwt_is_opened_and_checked() {
        let op = op();
        let rp = RsaKeyPair::generate(2048).expect("key");
        let rp_pem = rp.to_pem_private_key();
        let encryption = crate::keys::encryption_key(&rp_pem, "RSA-OAEP-256", "test").expect("key");
        let inner = signed(
            &op.pem,
            json!({
                "iss": "https://op.example.it",
                "aud": "https://rp.example.it",
                "sub": "pairwise-1",
                crate::FISCAL_NUMBER: "TINIT-RSSMRA85T10A562S",
            }),
        );
        let encrypt = |enc: &str, alg_pem: &[u8]| {
            let mut header = josekit::jwe::JweHeader::new();
            header.set_content_encryption(enc);
            header.set_content_type("JWT");
            header.set_key_id(&encryption.kid);
            let encrypter = josekit::jwe::RSA_OAEP_256
                .encrypter_from_jwk(&encryption.public)
                .expect("encrypter");
            let _ = alg_pem;
            josekit::jwe::serialize_compact(inner.as_bytes(), &header, &encrypter)
                .expect("encrypted")
        };
        for enc in ["A256CBC-HS512", "A128CBC-HS256", "A256GCM"] {
            let body = encrypt(enc, &rp_pem);
            let claims = open_userinfo(
                &body,
                &op.verifiers,
                &encryption,
                "https://op.example.it",
                "https://rp.example.it",
            )
            .expect("opened");
            assert_eq!(claims[crate::FISCAL_NUMBER], "TINIT-RSSMRA85T10A562S");
        }
        // Not for this relying party's key.
        let other = RsaKeyPair::generate(2048)
            .expect("key")
            .to_pem_private_key();
        let other_key = crate::keys::encryption_key(&other, "RSA-OAEP-256", "test").expect("key");
        let body = encrypt("A256CBC-HS512", &rp_pem);
        let mut other_key = other_key;
        other_key.kid = encryption.kid.clone();
        assert!(matches!(
            open_userinfo(
                &body,
                &op.verifiers,
                &other_key,
                "https://op.example.it",
                "https://rp.example.it"
            ),
            Err(Error::Userinfo(_))
        ));
        // From another issuer.
        let wrong = signed(
            &op.pem,
            json!({ "iss": "https://x.example.it", "sub": "s" }),
        );
        assert!(
            open_userinfo(
                &wrong,
                &op.verifiers,
                &encryption,
                "https://op.example.it",
                "https://rp.example.it"
            )
            .is_err()
        );
    }
}
