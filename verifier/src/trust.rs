//! Whom the verifier trusts, and the signed trust list that carries it to
//! offline verifiers.
//!
//! [`Trust`] is a [`keys::TrustStore`] (comune CAs and the seal signers
//! they signed) plus, for signers a trust list marks revoked, the time of
//! revocation: a seal or PDF signed at or after it is refused.
//!
//! A [`SignedTrustList`] is a COSE_Sign1 (ES256) signed with the comune's
//! CA key, `typ` [`TRUST_LIST_TYPE`], whose payload is a CBOR map:
//!
//! | key | value |
//! |---|---|
//! | 1 (`iss`) | the comune's ISTAT code, text |
//! | 6 (`iat`) | when the list was made, seconds |
//! | 4 (`exp`) | when it stops being usable, seconds |
//! | `"ca"` | the CA certificate, DER |
//! | `"signers"` | array of maps: `"cert"` DER, `"nbf"` and `"exp"` its validity in seconds, `"revoked"` seconds (only when revoked) |
//!
//! Loading one requires the comune's CA certificate pinned by the caller
//! (shipped with the verifier, or compared by fingerprint): the list must
//! be signed by that key and name that same certificate.

use std::collections::BTreeMap;

use ciborium::value::Value;
use keys::{CertificateInfo, Es256PublicKey, KeyError, TrustStore};
use seal::{ComuneCode, Kid, MAX_CLOCK_SKEW, SealSigner, TrustList, TrustedSigner};
use time::OffsetDateTime;

use crate::cose::{self, CoseError, Unverified};

/// The `typ` of a signed trust list.
pub const TRUST_LIST_TYPE: &str = "application/sigillo-trustlist+cwt";

/// Comune CAs, their seal signers and the revocations a trust list names:
/// everything seal and PDF verification trusts.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    store: TrustStore,
    revoked: BTreeMap<Kid, OffsetDateTime>,
    /// Each comune's name from its CA certificate, read once.
    names: BTreeMap<ComuneCode, String>,
}

impl Trust {
    /// Trust in what `store` holds, with no revocations (a local key
    /// store's trust list, say).
    pub fn new(store: TrustStore) -> Self {
        let mut trust = Self {
            store,
            revoked: BTreeMap::new(),
            names: BTreeMap::new(),
        };
        trust.name_comuni();
        trust
    }

    /// Trust in a local key store: its comuni's CAs and signers, with the
    /// signers revoked there.
    pub fn from_keys(keys: &keys::KeyStore) -> Result<Self, KeyError> {
        let mut trust = Self::new(keys.trust_store()?);
        for (kid, since) in keys.revocations()? {
            trust.revoke(kid, since);
        }
        Ok(trust)
    }

    /// Records that the signer `kid` is revoked from `since` (the earlier
    /// date stands if it was already).
    pub fn revoke(&mut self, kid: Kid, since: OffsetDateTime) {
        let earliest = self
            .revoked
            .get(&kid)
            .map_or(since, |&known| known.min(since));
        self.revoked.insert(kid, earliest);
    }

    /// Adds a verified trust list: its CA, its signers (each checked to be
    /// signed by that CA) and their revocations.
    pub fn add_list(&mut self, list: &SignedTrustList) -> Result<(), TrustListError> {
        self.store.add_ca(list.ca.clone())?;
        for entry in &list.signers {
            self.store.add_signer(entry.certificate.clone())?;
            if let Some(at) = entry.revoked_at {
                self.revoke(entry.certificate.kid(), at);
            }
        }
        self.name_comuni();
        Ok(())
    }

    /// Adds the certificates of a PEM text (one or more `CERTIFICATE`
    /// blocks): CAs first, then the seal signers they signed. Returns how
    /// many were added.
    pub fn add_pem(&mut self, text: &str) -> Result<usize, KeyError> {
        const END: &str = "-----END CERTIFICATE-----";
        let mut certificates = Vec::new();
        let mut rest = text;
        while let Some(begin) = rest.find("-----BEGIN CERTIFICATE-----") {
            let end = rest[begin..]
                .find(END)
                .map(|at| begin + at + END.len())
                .ok_or_else(|| KeyError::BadCertificate("PEM block without its end".into()))?;
            certificates.push(CertificateInfo::from_pem(&rest[begin..end])?);
            rest = &rest[end..];
        }
        if certificates.is_empty() {
            return Err(KeyError::BadCertificate(
                "no certificate in the text".into(),
            ));
        }
        let count = certificates.len();
        let (cas, signers): (Vec<_>, Vec<_>) = certificates.into_iter().partition(|c| c.is_ca());
        for ca in cas {
            self.store.add_ca(ca)?;
        }
        for signer in signers {
            self.store.add_signer(signer)?;
        }
        self.name_comuni();
        Ok(count)
    }

    /// The underlying trust store.
    pub fn store(&self) -> &TrustStore {
        &self.store
    }

    /// The trusted seal-signer certificate with this key identifier.
    pub fn signer_certificate(&self, kid: &Kid) -> Option<&CertificateInfo> {
        self.store.certificate(kid)
    }

    /// When the signer `kid` was revoked, if a trust list says so.
    pub fn revoked_at(&self, kid: &Kid) -> Option<OffsetDateTime> {
        self.revoked.get(kid).copied()
    }

    /// The trusted CA certificate of a comune.
    pub fn ca_of(&self, comune: ComuneCode) -> Option<&CertificateInfo> {
        self.store.cas().find(|ca| ca.comune() == comune)
    }

    /// The comune's name as its CA certificate gives it («Comune di …»).
    pub fn comune_name(&self, comune: ComuneCode) -> Option<String> {
        self.names.get(&comune).cloned()
    }

    fn name_comuni(&mut self) {
        for ca in self.store.cas() {
            if !self.names.contains_key(&ca.comune())
                && let Some(name) = ca.organization()
            {
                self.names.insert(ca.comune(), name);
            }
        }
    }

    /// Whether nothing is trusted.
    pub fn is_empty(&self) -> bool {
        self.store.cas().next().is_none()
    }
}

impl From<TrustStore> for Trust {
    fn from(store: TrustStore) -> Self {
        Self::new(store)
    }
}

impl TrustList for Trust {
    /// The signer as its certificate has it. A revocation is checked by
    /// the verifier once the seal's signature holds and its `iat` can be
    /// read ([`Self::revoked_at`]): it refuses the seal at the key step.
    fn signer(&self, kid: &Kid) -> Option<TrustedSigner<'_>> {
        self.store.signer(kid)
    }
}

/// A seal signer in a trust list.
#[derive(Debug, Clone)]
pub struct TrustListEntry {
    /// The signer's certificate; its validity is the period listed.
    pub certificate: CertificateInfo,
    /// When the signer was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

impl TrustListEntry {
    /// A signer that has not been revoked.
    pub fn active(certificate: CertificateInfo) -> Self {
        Self {
            certificate,
            revoked_at: None,
        }
    }
}

/// A comune's trust list: its CA and every seal signer it signed, for a
/// period. Built by the comune and signed with its CA key
/// ([`Self::sign`]); loaded by verifiers against a pinned CA
/// ([`Self::open`]).
#[derive(Debug, Clone)]
pub struct SignedTrustList {
    /// The comune.
    pub comune: ComuneCode,
    /// When the list was made.
    pub issued_at: OffsetDateTime,
    /// When it stops being usable: verifiers fetch a newer one.
    pub expires_at: OffsetDateTime,
    /// The comune's CA certificate.
    pub ca: CertificateInfo,
    /// Every seal signer, old ones included.
    pub signers: Vec<TrustListEntry>,
}

/// Why a trust list could not be made or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustListError {
    /// Not a signed trust list (COSE structure, headers, CBOR payload).
    #[error(
        "l'elenco dei firmatari non è nel formato previsto (file danneggiato, o non è un elenco dei firmatari)"
    )]
    Malformed(String),
    /// Signed with another key than the pinned CA's.
    #[error("l'elenco dei firmatari non è firmato dalla CA attesa (kid {found}, attesa {pinned})")]
    NotSignedByPinnedCa {
        /// The kid the list names.
        found: Kid,
        /// The pinned CA's kid.
        pinned: Kid,
    },
    /// The signature does not match the pinned CA's key.
    #[error("la firma dell'elenco dei firmatari non corrisponde alla CA attesa")]
    BadSignature,
    /// The CA certificate in the list is not the pinned one.
    #[error("la CA nell'elenco dei firmatari non è quella attesa")]
    CaMismatch,
    /// The list's validity has ended (or is not after its issue).
    #[error("l'elenco dei firmatari è scaduto il {}: scaricarne uno aggiornato", seal::rome::date_time_text(*.0))]
    Expired(OffsetDateTime),
    /// The list claims to be issued in the future.
    #[error("l'elenco dei firmatari ha una data di emissione futura ({}): controllare l'orologio di questo dispositivo", seal::rome::date_time_text(*.0))]
    IssuedInFuture(OffsetDateTime),
    /// A certificate is unusable or not signed by the CA.
    #[error("certificato dell'elenco dei firmatari: {0}")]
    Certificate(#[from] KeyError),
    /// The CA key could not sign.
    #[error("firma dell'elenco non riuscita: {0}")]
    Signer(String),
}

impl From<CoseError> for TrustListError {
    fn from(error: CoseError) -> Self {
        match error {
            CoseError::BadSignature => Self::BadSignature,
            other => Self::Malformed(other.to_string()),
        }
    }
}

impl SignedTrustList {
    /// A list of the comune of `ca`, valid from `issued_at` to `expires_at`.
    pub fn new(
        ca: CertificateInfo,
        signers: Vec<TrustListEntry>,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            comune: ca.comune(),
            issued_at,
            expires_at,
            ca,
            signers,
        }
    }

    /// Encodes the list and signs it with the CA key (`keys::KeySigner::for_ca`).
    pub fn sign(&self, ca_signer: &dyn SealSigner) -> Result<Vec<u8>, TrustListError> {
        if ca_signer.kid() != self.ca.kid() {
            return Err(TrustListError::Signer(
                "the signer is not the list's CA".into(),
            ));
        }
        let seconds = |t: OffsetDateTime| Value::Integer(t.unix_timestamp().into());
        let signers = self
            .signers
            .iter()
            .map(|entry| {
                let mut fields = vec![
                    (text("cert"), Value::Bytes(entry.certificate.der().to_vec())),
                    (text("nbf"), seconds(entry.certificate.not_before())),
                    (text("exp"), seconds(entry.certificate.not_after())),
                ];
                if let Some(at) = entry.revoked_at {
                    fields.push((text("revoked"), seconds(at)));
                }
                Value::Map(fields)
            })
            .collect();
        let payload = Value::Map(vec![
            (int(1), Value::Text(self.comune.to_string())),
            (int(6), seconds(self.issued_at)),
            (int(4), seconds(self.expires_at)),
            (text("ca"), Value::Bytes(self.ca.der().to_vec())),
            (text("signers"), Value::Array(signers)),
        ]);
        let mut bytes = Vec::new();
        ciborium::into_writer(&payload, &mut bytes)
            .map_err(|e| TrustListError::Malformed(e.to_string()))?;
        cose::sign(bytes, TRUST_LIST_TYPE, ca_signer)
            .map_err(|e| TrustListError::Signer(e.to_string()))
    }

    /// Loads a signed trust list, checking in order: the COSE structure and
    /// headers; that it is signed by `pinned_ca`'s key; that the CA it lists
    /// is `pinned_ca` itself; its payload; that `now` falls between its
    /// issue (allowing clock skew) and its expiry; each signer certificate.
    pub fn open(
        bytes: &[u8],
        pinned_ca: &CertificateInfo,
        now: OffsetDateTime,
    ) -> Result<Self, TrustListError> {
        let unverified = Unverified::open(bytes, TRUST_LIST_TYPE)?;
        if unverified.kid() != pinned_ca.kid() {
            return Err(TrustListError::NotSignedByPinnedCa {
                found: unverified.kid(),
                pinned: pinned_ca.kid(),
            });
        }
        let key = Es256PublicKey::from_sec1(pinned_ca.public_key())?;
        let payload = unverified.verify(&key)?;
        let list = Self::decode_payload(&payload)?;
        if list.ca.der() != pinned_ca.der() {
            return Err(TrustListError::CaMismatch);
        }
        if list.issued_at > now + MAX_CLOCK_SKEW {
            return Err(TrustListError::IssuedInFuture(list.issued_at));
        }
        if list.expires_at <= now || list.expires_at <= list.issued_at {
            return Err(TrustListError::Expired(list.expires_at));
        }
        // The chain and the comune of every signer.
        let mut check = TrustStore::new();
        check.add_ca(list.ca.clone())?;
        for entry in &list.signers {
            check.add_signer(entry.certificate.clone())?;
        }
        Ok(list)
    }

    /// The CA key identifier a signed list names, read without checking
    /// anything: tells which pinned CA to open it with.
    pub fn signer_kid(bytes: &[u8]) -> Result<Kid, TrustListError> {
        Ok(Unverified::open(bytes, TRUST_LIST_TYPE)?.kid())
    }

    fn decode_payload(payload: &[u8]) -> Result<Self, TrustListError> {
        let malformed = |what: &str| TrustListError::Malformed(what.to_owned());
        let value: Value =
            ciborium::from_reader(payload).map_err(|e| TrustListError::Malformed(e.to_string()))?;
        let Value::Map(entries) = value else {
            return Err(malformed("the payload is not a map"));
        };
        let find = |key: &Value| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let comune = find(&int(1))
            .and_then(Value::as_text)
            .and_then(|code| ComuneCode::parse(code).ok())
            .ok_or_else(|| malformed("iss is not an ISTAT code"))?;
        let issued_at = find(&int(6))
            .and_then(time_of)
            .ok_or_else(|| malformed("iat"))?;
        let expires_at = find(&int(4))
            .and_then(time_of)
            .ok_or_else(|| malformed("exp"))?;
        let ca = find(&text("ca"))
            .and_then(Value::as_bytes)
            .ok_or_else(|| malformed("ca"))?;
        let ca = CertificateInfo::from_der(ca)?;
        if ca.comune() != comune {
            return Err(malformed("the CA belongs to another comune"));
        }
        let signers = find(&text("signers"))
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("signers"))?
            .iter()
            .map(|entry| {
                let fields = entry.as_map().ok_or_else(|| malformed("signer entry"))?;
                let get = |key: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k.as_text() == Some(key))
                        .map(|(_, v)| v)
                };
                let der = get("cert")
                    .and_then(Value::as_bytes)
                    .ok_or_else(|| malformed("signer cert"))?;
                let certificate = CertificateInfo::from_der(der)?;
                let listed = (get("nbf").and_then(time_of), get("exp").and_then(time_of));
                if listed
                    != (
                        Some(certificate.not_before()),
                        Some(certificate.not_after()),
                    )
                {
                    return Err(malformed(
                        "a signer's listed period is not its certificate's",
                    ));
                }
                let revoked_at = match get("revoked") {
                    None => None,
                    Some(value) => Some(time_of(value).ok_or_else(|| malformed("revoked"))?),
                };
                Ok(TrustListEntry {
                    certificate,
                    revoked_at,
                })
            })
            .collect::<Result<Vec<_>, TrustListError>>()?;
        Ok(Self {
            comune,
            issued_at,
            expires_at,
            ca,
            signers,
        })
    }
}

fn int(value: i64) -> Value {
    Value::Integer(value.into())
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

pub(crate) fn time_of(value: &Value) -> Option<OffsetDateTime> {
    let seconds = i64::try_from(value.as_integer()?).ok()?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}
