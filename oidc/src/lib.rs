//! The relying party of SPID and CIE through OpenID Connect, in the Italian
//! federation profile (italia/spid-cie-oidc-docs).
//!
//! - **Login** ([`RelyingParty::begin`], [`RelyingParty::finish`]): the
//!   authorization code flow with PKCE (S256). The authorization request
//!   is a signed request object (`request`, RS256) carrying every
//!   parameter, `scope` and the `claims` wanted from userinfo included;
//!   `state` and `nonce` are 256 random bits (43 characters). The token
//!   endpoint authenticates the client with `private_key_jwt`. The ID
//!   token's signature is checked against the provider's JWKS, then
//!   `iss`, `aud` (and `azp`), `exp`, `iat`, `nonce`, `acr` (at least the
//!   level asked for) and `at_hash`. The attributes come from userinfo,
//!   which may answer JSON, a signed JWT, or an encrypted one holding
//!   either (opened with the encryption key); its `sub` must be the ID
//!   token's. The `iss` of the authorization response (RFC 9207, which
//!   CIE sends) must be the provider's, and is required where the
//!   provider says it sends it or is CIE.
//! - **Logout** ([`RelyingParty::logout`]): the access token is revoked
//!   where the provider has a revocation endpoint; the browser goes to its
//!   end-session endpoint where there is one.
//! - **Federation** ([`RelyingParty::entity_configuration`]): the Entity
//!   Configuration published at `/.well-known/openid-federation`, signed
//!   with a federation key of its own, with the relying party's metadata.
//!
//! The user is the fiscal code of `https://attributes.eid.gov.it/fiscal_number`
//! with its `TINIT-` prefix stripped, never the pairwise `sub`.
//!
//! Providers are found through the federation's trust chain to a trust
//! anchor whose keys are pinned (the `federation` module), or, for a plain OIDC
//! gateway, by OpenID discovery (`/.well-known/openid-configuration` under
//! the configured issuer); either is cached for an hour, and asked again
//! when a token names a key it does not hold (a rotation).

mod federation;
mod keys;
mod tokens;

use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::JwsHeader;
use josekit::jwt::JwtPayload;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use tokio::sync::RwLock;

pub use tokens::IdTokenProblem;
use tokens::Verifiers;

/// SPID's levels of assurance, lowest first; CIE uses the same values.
pub const SPID_LEVELS: [&str; 3] = [
    "https://www.spid.gov.it/SpidL1",
    "https://www.spid.gov.it/SpidL2",
    "https://www.spid.gov.it/SpidL3",
];

/// The claim that names the person.
pub const FISCAL_NUMBER: &str = "https://attributes.eid.gov.it/fiscal_number";

/// How long a login may take between leaving for the provider and coming
/// back.
pub const LOGIN_TTL: time::Duration = time::Duration::minutes(10);

/// How long a provider's metadata is kept before it is asked again.
const METADATA_TTL: StdDuration = StdDuration::from_secs(3600);

/// How long a request object or a client assertion is valid.
const ASSERTION_SECONDS: i64 = 300;

/// How far clocks may disagree.
const LEEWAY_SECONDS: i64 = 60;

/// How long the Entity Configuration is valid after it is made.
const ENTITY_CONFIGURATION_SECONDS: i64 = 86_400;

/// The relying party's settings (`[portal.oidc]` in `sigillo.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The entity id, which is the `client_id`: an https URL whose host is
    /// the redirect URI's (default: the server's public base URL).
    pub entity_id: Option<String>,
    /// The federation key's PEM file (default `oidc/federation.pem` in the
    /// data directory, made on first start outside production).
    pub federation_key: Option<PathBuf>,
    /// The OIDC signing key's PEM file (default `oidc/signing.pem`).
    pub signing_key: Option<PathBuf>,
    /// The OIDC encryption key's PEM file (default `oidc/encryption.pem`).
    pub encryption_key: Option<PathBuf>,
    /// The federation's intermediates or trust anchor above this entity.
    #[serde(default)]
    pub authority_hints: Vec<String>,
    /// The trust marks the federation gave this entity.
    #[serde(default)]
    pub trust_marks: Vec<TrustMark>,
    /// The organisation, for the metadata (default: the comune's name).
    pub organization_name: Option<String>,
    /// Contacts for the federation (e-mail addresses).
    #[serde(default)]
    pub contacts: Vec<String>,
    /// The key management of encrypted userinfo (default `RSA-OAEP-256`).
    pub userinfo_encrypted_response_alg: Option<String>,
    /// Its content encryption (default `A256CBC-HS512`).
    pub userinfo_encrypted_response_enc: Option<String>,
    /// The identity providers offered.
    #[serde(default)]
    pub providers: Vec<ProviderSettings>,
}

/// A trust mark of the federation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustMark {
    /// The trust mark's identifier.
    pub id: String,
    /// The trust mark itself (a signed JWT).
    pub trust_mark: String,
}

/// What kind of provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// SPID, or a gateway to it.
    Spid,
    /// CIE id: always sends `iss` in the authorization response.
    Cie,
}

/// An identity provider (`[[portal.oidc.providers]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Its id in URLs and logs (letters, digits, `-`).
    pub id: String,
    /// Its name on the login button, e.g. «SPID» or «CIE».
    pub label: String,
    /// SPID or CIE.
    pub kind: ProviderKind,
    /// Its issuer: discovery reads `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// The levels asked for, lowest acceptable first (default SpidL2).
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// The federation's trust anchor: when given, the provider's metadata
    /// and keys come through the trust chain from the provider's Entity
    /// Configuration to it, not from OpenID discovery.
    pub trust_anchor: Option<String>,
    /// The trust anchor's federation keys (a JWKS file), pinned: the
    /// chain's top is checked with these, never with keys fetched.
    pub trust_anchor_jwks: Option<PathBuf>,
}

/// What goes wrong in a login. [`Error::code`] names it in logs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No provider has that id.
    #[error("provider sconosciuto")]
    UnknownProvider,
    /// The provider could not be reached, or answered nonsense.
    #[error("provider non raggiungibile: {0}")]
    Unreachable(String),
    /// The provider's metadata lacks something or contradicts itself.
    #[error("metadati del provider non validi: {0}")]
    Metadata(String),
    /// The authorization response's `iss` is not the provider's.
    #[error("iss della risposta diverso dal provider")]
    IssuerMismatch,
    /// The authorization response has no `iss`, which this provider sends.
    #[error("iss assente nella risposta")]
    IssuerMissing,
    /// The provider answered the authorization with an error.
    #[error("il provider ha risposto {error}")]
    Denied {
        /// The OAuth error code.
        error: String,
    },
    /// The token endpoint refused the code.
    #[error("token rifiutato dal provider: {error}")]
    TokenRefused {
        /// The OAuth error code.
        error: String,
    },
    /// The token endpoint answered something that is not a token response.
    #[error("risposta del token non valida: {0}")]
    TokenResponse(String),
    /// The ID token failed a check.
    #[error("ID token non valido: {0}")]
    IdToken(#[from] IdTokenProblem),
    /// Userinfo failed a check.
    #[error("userinfo non valido: {0}")]
    Userinfo(String),
    /// Userinfo gave no usable fiscal code.
    #[error("codice fiscale assente o non valido")]
    NoFiscalNumber,
    /// A key could not be read, made or used.
    #[error("chiavi del relying party: {0}")]
    Keys(String),
    /// The settings are wrong.
    #[error("{0}")]
    Settings(String),
}

impl Error {
    /// A short code for logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownProvider => "unknown_provider",
            Self::Unreachable(_) => "provider_unreachable",
            Self::Metadata(_) => "provider_metadata",
            Self::IssuerMismatch => "iss_mismatch",
            Self::IssuerMissing => "iss_missing",
            Self::Denied { .. } => "authorization_denied",
            Self::TokenRefused { .. } => "token_refused",
            Self::TokenResponse(_) => "token_response",
            Self::IdToken(problem) => problem.code(),
            Self::Userinfo(_) => "userinfo",
            Self::NoFiscalNumber => "no_fiscal_number",
            Self::Keys(_) => "keys",
            Self::Settings(_) => "settings",
        }
    }
}

/// A provider's metadata, as discovery gives it (the fields used).
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    jwks_uri: Option<String>,
    end_session_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

struct Discovered {
    metadata: Metadata,
    verifiers: Verifiers,
    at: Instant,
}

struct Provider {
    settings: ProviderSettings,
    /// The trust anchor and its pinned keys, for a provider reached
    /// through the federation.
    anchor: Option<(String, Value)>,
    discovered: RwLock<Option<Discovered>>,
}

/// A provider as the login page offers it.
#[derive(Debug, Clone, Serialize)]
pub struct Offered {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// SPID or CIE.
    pub kind: ProviderKind,
}

/// A login begun: where to send the browser, and what to keep for the
/// answer.
#[derive(Clone)]
pub struct Begun {
    /// The provider's authorization endpoint with the request.
    pub authorization_url: String,
    /// The `state` the answer must carry.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the token request.
    pub code_verifier: String,
}

impl std::fmt::Debug for Begun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Begun(..)")
    }
}

/// A person logged in.
#[derive(Clone)]
pub struct Login {
    /// Their fiscal code, without `TINIT-`.
    pub fiscal_code: String,
    /// Given name, as the provider says.
    pub given_name: Option<String>,
    /// Family name, as the provider says.
    pub family_name: Option<String>,
    /// The level of assurance of the login.
    pub acr: String,
    /// The ID token, for logout.
    pub id_token: String,
    /// The access token, for logout.
    pub access_token: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("acr", &self.acr)
            .finish_non_exhaustive()
    }
}

/// The relying party.
pub struct RelyingParty {
    entity_id: String,
    redirect_uri: String,
    post_logout_redirect_uri: String,
    organization_name: String,
    settings: Settings,
    userinfo_alg: String,
    userinfo_enc: String,
    federation: keys::SigningKey,
    signing: keys::SigningKey,
    encryption: keys::EncryptionKey,
    providers: Vec<Provider>,
    http: reqwest::Client,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("entity_id", &self.entity_id)
            .finish_non_exhaustive()
    }
}

/// Where the relying party is, and how its keys are found.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The server's public base URL.
    pub public_base_url: &'a str,
    /// The data directory (default key files under `oidc/`).
    pub data_dir: &'a Path,
    /// The comune's name (default organisation name).
    pub organization_name: &'a str,
    /// Production: keys must exist, the entity id must be https.
    pub production: bool,
}

impl RelyingParty {
    /// The relying party of `settings`, its keys read (or, outside
    /// production, made where absent).
    pub fn new(settings: Settings, context: &Context<'_>) -> Result<Self, Error> {
        let base = context.public_base_url.trim_end_matches('/');
        let entity_id = settings
            .entity_id
            .clone()
            .unwrap_or_else(|| base.to_owned())
            .trim_end_matches('/')
            .to_owned();
        let redirect_uri = format!("{base}/accedi/ritorno");
        if host_of(&entity_id) != host_of(&redirect_uri) || host_of(&entity_id).is_none() {
            return Err(Error::Settings(format!(
                "portal.oidc.entity_id ({entity_id}) deve avere lo stesso host dell'indirizzo di ritorno ({redirect_uri})"
            )));
        }
        if context.production && !entity_id.starts_with("https://") {
            return Err(Error::Settings(
                "in produzione l'entity id (portal.oidc.entity_id o server.public_base_url) deve essere un URL https".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for provider in &settings.providers {
            let id_ok = !provider.id.is_empty()
                && provider
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !id_ok || !seen.insert(provider.id.clone()) {
                return Err(Error::Settings(format!(
                    "portal.oidc.providers: id {:?} non valido o ripetuto (lettere, cifre, -)",
                    provider.id
                )));
            }
            if context.production && !provider.issuer.starts_with("https://") {
                return Err(Error::Settings(format!(
                    "in produzione l'issuer del provider {} deve essere https",
                    provider.id
                )));
            }
            match (&provider.trust_anchor, &provider.trust_anchor_jwks) {
                (Some(_), Some(_)) | (None, None) => {}
                _ => {
                    return Err(Error::Settings(format!(
                        "portal.oidc.providers {}: trust_anchor e trust_anchor_jwks vanno dati insieme",
                        provider.id
                    )));
                }
            }
            if let Some(level) = provider
                .acr_values
                .iter()
                .find(|level| !SPID_LEVELS.contains(&level.as_str()))
            {
                return Err(Error::Settings(format!(
                    "portal.oidc.providers {}: acr_values {level:?} non è un livello SPID",
                    provider.id
                )));
            }
        }
        let make = !context.production;
        let key_path = |given: &Option<PathBuf>, name: &str| {
            given
                .clone()
                .unwrap_or_else(|| context.data_dir.join("oidc").join(name))
        };
        let federation_pem =
            keys::pem_at(&key_path(&settings.federation_key, "federation.pem"), make)?;
        let signing_pem = keys::pem_at(&key_path(&settings.signing_key, "signing.pem"), make)?;
        let encryption_pem =
            keys::pem_at(&key_path(&settings.encryption_key, "encryption.pem"), make)?;
        if federation_pem == signing_pem
            || federation_pem == encryption_pem
            || signing_pem == encryption_pem
        {
            return Err(Error::Keys(
                "le chiavi di federazione, di firma e di cifratura devono essere diverse".into(),
            ));
        }
        let userinfo_alg = settings
            .userinfo_encrypted_response_alg
            .clone()
            .unwrap_or_else(|| "RSA-OAEP-256".to_owned());
        let userinfo_enc = settings
            .userinfo_encrypted_response_enc
            .clone()
            .unwrap_or_else(|| "A256CBC-HS512".to_owned());
        if !["A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"]
            .contains(&userinfo_enc.as_str())
        {
            return Err(Error::Settings(format!(
                "userinfo_encrypted_response_enc {userinfo_enc:?} non previsto"
            )));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(StdDuration::from_secs(10))
            .build()
            .map_err(|error| Error::Settings(format!("client HTTP: {error}")))?;
        Ok(Self {
            post_logout_redirect_uri: format!("{base}/"),
            organization_name: settings
                .organization_name
                .clone()
                .unwrap_or_else(|| context.organization_name.to_owned()),
            federation: keys::signing_key(&federation_pem, "chiave di federazione")?,
            signing: keys::signing_key(&signing_pem, "chiave di firma")?,
            encryption: keys::encryption_key(
                &encryption_pem,
                &userinfo_alg,
                "chiave di cifratura",
            )?,
            providers: settings
                .providers
                .iter()
                .map(|provider| {
                    let anchor = match (&provider.trust_anchor, &provider.trust_anchor_jwks) {
                        (Some(anchor), Some(path)) => {
                            let jwks = std::fs::read(path)
                                .ok()
                                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                                .filter(|jwks| Verifiers::from_jwks(jwks).is_ok())
                                .ok_or_else(|| {
                                    Error::Settings(format!(
                                        "portal.oidc.providers {}: {} non è un JWKS di chiavi di firma",
                                        provider.id,
                                        path.display()
                                    ))
                                })?;
                            Some((anchor.trim_end_matches('/').to_owned(), jwks))
                        }
                        _ => None,
                    };
                    Ok(Provider {
                        settings: provider.clone(),
                        anchor,
                        discovered: RwLock::new(None),
                    })
                })
                .collect::<Result<_, Error>>()?,
            userinfo_alg,
            userinfo_enc,
            entity_id,
            redirect_uri,
            settings,
            http,
        })
    }

    /// The entity id, which is the `client_id`.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The providers, in the configured order.
    pub fn providers(&self) -> Vec<Offered> {
        self.providers
            .iter()
            .map(|provider| Offered {
                id: provider.settings.id.clone(),
                label: provider.settings.label.clone(),
                kind: provider.settings.kind,
            })
            .collect()
    }

    /// The providers' origins (`https://host[:port]`), which a logout form
    /// leads to and the pages' `form-action` must therefore allow.
    pub fn provider_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .providers
            .iter()
            .filter_map(|provider| reqwest::Url::parse(&provider.settings.issuer).ok())
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null")
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }

    /// The public keys of OIDC (signing and encryption), as a JWKS.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [
            Value::Object(self.signing.public.as_ref().clone()),
            Value::Object(self.encryption.public.as_ref().clone()),
        ]})
    }

    /// The relying party's metadata (`openid_relying_party`).
    fn metadata(&self) -> Value {
        let mut metadata = json!({
            "client_id": self.entity_id,
            "client_registration_types": ["automatic"],
            "client_name": self.organization_name,
            "application_type": "web",
            "redirect_uris": [self.redirect_uri],
            "post_logout_redirect_uris": [self.post_logout_redirect_uri],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "subject_type": "pairwise",
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
            "request_object_signing_alg": "RS256",
            "id_token_signed_response_alg": "RS256",
            "userinfo_signed_response_alg": "RS256",
            "userinfo_encrypted_response_alg": self.userinfo_alg,
            "userinfo_encrypted_response_enc": self.userinfo_enc,
            "jwks": self.jwks(),
        });
        if !self.settings.contacts.is_empty() {
            metadata["contacts"] = json!(self.settings.contacts);
        }
        metadata
    }

    /// The Entity Configuration at `now`: a JWT (`entity-statement+jwt`)
    /// signed with the federation key.
    pub fn entity_configuration(&self, now: OffsetDateTime) -> Result<String, Error> {
        let iat = now.unix_timestamp();
        let mut claims = json!({
            "iss": self.entity_id,
            "sub": self.entity_id,
            "iat": iat,
            "exp": iat + ENTITY_CONFIGURATION_SECONDS,
            "jwks": { "keys": [Value::Object(self.federation.public.as_ref().clone())] },
            "metadata": {
                "openid_relying_party": self.metadata(),
                "federation_entity": {
                    "organization_name": self.organization_name,
                    "homepage_uri": self.post_logout_redirect_uri,
                    "policy_uri": format!("{}informativa-privacy", self.post_logout_redirect_uri),
                    "contacts": self.settings.contacts,
                },
            },
        });
        if !self.settings.authority_hints.is_empty() {
            claims["authority_hints"] = json!(self.settings.authority_hints);
        }
        if !self.settings.trust_marks.is_empty() {
            claims["trust_marks"] = json!(self.settings.trust_marks);
        }
        sign(&self.federation, "entity-statement+jwt", claims)
    }

    fn provider(&self, id: &str) -> Result<&Provider, Error> {
        self.providers
            .iter()
            .find(|provider| provider.settings.id == id)
            .ok_or(Error::UnknownProvider)
    }

    /// The provider's metadata and keys, from the cache or discovery;
    /// `refresh` asks again whatever the cache holds.
    async fn discover(
        &self,
        provider: &Provider,
        refresh: bool,
    ) -> Result<(Metadata, Verifiers), Error> {
        if !refresh
            && let Some(found) = provider.discovered.read().await.as_ref()
            && found.at.elapsed() < METADATA_TTL
        {
            return Ok((found.metadata.clone(), found.verifiers.clone()));
        }
        let issuer = provider.settings.issuer.trim_end_matches('/');
        let (metadata, verifiers) = match &provider.anchor {
            Some((anchor, jwks)) => {
                let now = OffsetDateTime::now_utc().unix_timestamp();
                let (metadata, verifiers) = self
                    .resolve_through_federation(issuer, anchor, jwks, now)
                    .await?;
                let metadata: Metadata = serde_json::from_value(metadata)
                    .map_err(|error| Error::Metadata(format!("openid_provider: {error}")))?;
                (metadata, verifiers)
            }
            None => {
                let url = format!("{issuer}/.well-known/openid-configuration");
                let metadata: Metadata = self.get_json(&url).await?;
                let Some(jwks_uri) = metadata.jwks_uri.as_deref() else {
                    return Err(Error::Metadata("jwks_uri assente".into()));
                };
                let jwks: Value = self.get_json(jwks_uri).await?;
                let verifiers = Verifiers::from_jwks(&jwks)?;
                (metadata, verifiers)
            }
        };
        if metadata.issuer.trim_end_matches('/') != issuer {
            return Err(Error::Metadata(format!(
                "issuer {:?} diverso da quello configurato",
                metadata.issuer
            )));
        }
        *provider.discovered.write().await = Some(Discovered {
            metadata: metadata.clone(),
            verifiers: verifiers.clone(),
            at: Instant::now(),
        });
        Ok((metadata, verifiers))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, Error> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| Error::Unreachable(without_url(&error)))?;
        if !response.status().is_success() {
            return Err(Error::Unreachable(format!(
                "{url}: HTTP {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|error| Error::Metadata(format!("{url}: {}", without_url(&error))))
    }

    /// Begins a login with provider `id`: the browser goes to
    /// [`Begun::authorization_url`]; the rest is kept for [`Self::finish`].
    pub async fn begin(&self, id: &str, now: OffsetDateTime) -> Result<Begun, Error> {
        let provider = self.provider(id)?;
        let (metadata, _) = self.discover(provider, false).await?;
        let state = random_text()?;
        let nonce = random_text()?;
        let code_verifier = random_text()?;
        let code_challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()));
        let acr_values = if provider.settings.acr_values.is_empty() {
            SPID_LEVELS[1].to_owned()
        } else {
            provider.settings.acr_values.join(" ")
        };
        let iat = now.unix_timestamp();
        let scope = "openid";
        let claims = json!({
            "iss": self.entity_id,
            "aud": metadata.issuer,
            "iat": iat,
            "exp": iat + ASSERTION_SECONDS,
            "jti": random_text()?,
            "client_id": self.entity_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": self.redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "acr_values": acr_values,
            "prompt": "consent login",
            "claims": {
                "id_token": {},
                "userinfo": {
                    FISCAL_NUMBER: { "essential": true },
                    "given_name": null,
                    "family_name": null,
                },
            },
        });
        let request = sign(&self.signing, "oauth-authz-req+jwt", claims)?;
        let mut url = reqwest::Url::parse(&metadata.authorization_endpoint)
            .map_err(|_| Error::Metadata("authorization_endpoint non è un URL".into()))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.entity_id)
            .append_pair("response_type", "code")
            .append_pair("scope", scope)
            .append_pair("code_challenge", &code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("request", &request);
        Ok(Begun {
            authorization_url: url.into(),
            state,
            nonce,
            code_verifier,
        })
    }

    /// Finishes a login with provider `id`: `code` and `iss` from the
    /// authorization response, `nonce` and `code_verifier` as
    /// [`Self::begin`] made them.
    pub async fn finish(
        &self,
        id: &str,
        code: &str,
        iss: Option<&str>,
        nonce: &str,
        code_verifier: &str,
        now: OffsetDateTime,
    ) -> Result<Login, Error> {
        let provider = self.provider(id)?;
        let (metadata, mut verifiers) = self.discover(provider, false).await?;
        match iss {
            Some(iss) if iss != metadata.issuer => return Err(Error::IssuerMismatch),
            None if provider.settings.kind == ProviderKind::Cie
                || metadata.authorization_response_iss_parameter_supported =>
            {
                return Err(Error::IssuerMissing);
            }
            _ => {}
        }
        let assertion = self.client_assertion(&metadata.token_endpoint, now)?;
        let response = self
            .http
            .post(&metadata.token_endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("client_id", &self.entity_id),
                ("code_verifier", code_verifier),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ])
            .send()
            .await
            .map_err(|error| Error::Unreachable(without_url(&error)))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|_| Error::TokenResponse(format!("HTTP {status}, non JSON")))?;
        if !status.is_success() {
            return Err(Error::TokenRefused {
                error: oauth_error(&body),
            });
        }
        let field = |name: &str| {
            body.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::TokenResponse(format!("{name} assente")))
        };
        let access_token = field("access_token")?;
        let id_token = field("id_token")?;
        if !field("token_type")?.eq_ignore_ascii_case("bearer") {
            return Err(Error::TokenResponse("token_type non Bearer".into()));
        }
        // A key the cached set lacks may be a rotation: ask once more.
        if verifiers.lacks_key_of(&id_token) {
            verifiers = self.discover(provider, true).await?.1;
        }
        let minimum = provider
            .settings
            .acr_values
            .first()
            .map_or(SPID_LEVELS[1], String::as_str);
        let checked = tokens::check_id_token(
            &id_token,
            &verifiers,
            &tokens::Expected {
                issuer: &metadata.issuer,
                client_id: &self.entity_id,
                nonce,
                minimum_acr: minimum,
                access_token: &access_token,
                now: now.unix_timestamp(),
                leeway: LEEWAY_SECONDS,
            },
        )?;
        let Some(userinfo_endpoint) = metadata.userinfo_endpoint.as_deref() else {
            return Err(Error::Metadata("userinfo_endpoint assente".into()));
        };
        let response = self
            .http
            .get(userinfo_endpoint)
            .bearer_auth(&access_token)
            .header(reqwest::header::ACCEPT, "application/jwt, application/json")
            .send()
            .await
            .map_err(|error| Error::Unreachable(without_url(&error)))?;
        if !response.status().is_success() {
            return Err(Error::Userinfo(format!("HTTP {}", response.status())));
        }
        let body = response
            .text()
            .await
            .map_err(|error| Error::Userinfo(without_url(&error)))?;
        let claims = tokens::open_userinfo(
            body.trim(),
            &verifiers,
            &self.encryption,
            &metadata.issuer,
            &self.entity_id,
        )?;
        if claims.get("sub").and_then(Value::as_str) != Some(checked.sub.as_str()) {
            return Err(Error::Userinfo(
                "sub diverso da quello dell'ID token".into(),
            ));
        }
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let fiscal_code = text(FISCAL_NUMBER)
            .map(|value| strip_tinit(&value))
            .ok_or(Error::NoFiscalNumber)?;
        Ok(Login {
            fiscal_code,
            given_name: text("given_name"),
            family_name: text("family_name"),
            acr: checked.acr,
            id_token,
            access_token,
        })
    }

    /// Ends the login at provider `id`: revokes `access_token` where the
    /// provider can, and answers where to send the browser to end its
    /// session there, if anywhere. Failures are logged, never in the way.
    pub async fn logout(
        &self,
        id: &str,
        id_token: &str,
        access_token: &str,
        now: OffsetDateTime,
    ) -> Option<String> {
        let provider = self.provider(id).ok()?;
        let (metadata, _) = match self.discover(provider, false).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(
                    provider = id,
                    code = error.code(),
                    "oidc: logout, provider not reached"
                );
                return None;
            }
        };
        if let Some(endpoint) = &metadata.revocation_endpoint {
            match self.client_assertion(endpoint, now) {
                Ok(assertion) => {
                    let revoked = self
                        .http
                        .post(endpoint)
                        .form(&[
                            ("token", access_token),
                            ("token_type_hint", "access_token"),
                            ("client_id", &self.entity_id),
                            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                            ("client_assertion", &assertion),
                        ])
                        .send()
                        .await;
                    match revoked {
                        Ok(response) if response.status().is_success() => {
                            tracing::info!(provider = id, "oidc: access token revoked");
                        }
                        Ok(response) => tracing::warn!(
                            provider = id,
                            status = response.status().as_u16(),
                            "oidc: revocation refused"
                        ),
                        Err(error) => tracing::warn!(
                            provider = id,
                            error = without_url(&error),
                            "oidc: revocation not sent"
                        ),
                    }
                }
                Err(error) => tracing::error!(code = error.code(), "oidc: no client assertion"),
            }
        }
        let endpoint = metadata.end_session_endpoint?;
        let mut url = reqwest::Url::parse(&endpoint).ok()?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("client_id", &self.entity_id)
            .append_pair("post_logout_redirect_uri", &self.post_logout_redirect_uri);
        Some(url.into())
    }

    /// A `private_key_jwt` client assertion for `audience`.
    fn client_assertion(&self, audience: &str, now: OffsetDateTime) -> Result<String, Error> {
        let iat = now.unix_timestamp();
        sign(
            &self.signing,
            "JWT",
            json!({
                "iss": self.entity_id,
                "sub": self.entity_id,
                "aud": audience,
                "iat": iat,
                "exp": iat + ASSERTION_SECONDS,
                "jti": random_text()?,
            }),
        )
    }
}

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `claims` signed with `key`, with `typ`.
fn sign(key: &keys::SigningKey, typ: &str, claims: Value) -> Result<String, Error> {
    let Value::Object(map) = claims else {
        return Err(Error::Keys("claims non oggetto".into()));
    };
    let payload = JwtPayload::from_map(map).map_err(|error| Error::Keys(error.to_string()))?;
    let mut header = JwsHeader::new();
    header.set_token_type(typ);
    header.set_key_id(&key.kid);
    josekit::jwt::encode_with_signer(&payload, &header, key.signer.as_ref())
        .map_err(|error| Error::Keys(error.to_string()))
}

/// 256 random bits as 43 base64url characters.
fn random_text() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|_| Error::Keys("nessuna casualità".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// `TINIT-RSSMRA85T10A562S` → `RSSMRA85T10A562S`.
fn strip_tinit(value: &str) -> String {
    let value = value.trim();
    match value.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("TINIT-") => value[6..].to_uppercase(),
        _ => value.to_uppercase(),
    }
}

fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
}

/// The OAuth `error` of an error answer.
fn oauth_error(body: &Value) -> String {
    body.get("error")
        .and_then(Value::as_str)
        .filter(|error| error.len() <= 64 && error.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("unknown")
        .to_owned()
}

/// A reqwest error without its URL (which may carry a code or a token).
fn without_url(error: &reqwest::Error) -> String {
    let mut error = error.to_string();
    if let Some(at) = error.find(" for url (") {
        error.truncate(at);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tinit_is_stripped_and_the_code_upper_cased() {
        assert_eq!(strip_tinit("TINIT-RSSMRA85T10A562S"), "RSSMRA85T10A562S");
        assert_eq!(strip_tinit("tinit-rssmra85t10a562s"), "RSSMRA85T10A562S");
        assert_eq!(strip_tinit("RSSMRA85T10A562S"), "RSSMRA85T10A562S");
    }

    #[test]
    fn random_text_is_long_enough_for_state_and_nonce() {
        let text = random_text().expect("random");
        assert_eq!(text.len(), 43);
        assert_ne!(text, random_text().expect("random"));
    }

    fn settings(dir: &Path) -> (Settings, PathBuf) {
        let settings: Settings = toml_like(dir);
        (settings, dir.to_path_buf())
    }

    fn toml_like(_dir: &Path) -> Settings {
        serde_json::from_value(json!({
            "authority_hints": ["https://registry.spid.gov.it"],
            "trust_marks": [{ "id": "https://registry.spid.gov.it/openid_relying_party/public", "trust_mark": "a.b.c" }],
            "contacts": ["anagrafe@comune.example.it"],
            "providers": [{ "id": "spid", "label": "SPID", "kind": "spid", "issuer": "https://op.example.it" }],
        }))
        .expect("settings")
    }

    #[test]
    fn the_entity_configuration_is_signed_by_the_federation_key_and_carries_the_metadata() {
        let dir = std::env::temp_dir().join(format!("sigillo-oidc-ec-{}", std::process::id()));
        let (settings, data_dir) = settings(&dir);
        let rp = RelyingParty::new(
            settings,
            &Context {
                public_base_url: "https://servizi.comune.example.it/",
                data_dir: &data_dir,
                organization_name: "Comune di Esempio",
                production: false,
            },
        )
        .expect("relying party");
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let token = rp.entity_configuration(now).expect("signed");
        let verifiers = Verifiers::from_jwks(&json!({
            "keys": [Value::Object(rp.federation.public.as_ref().clone())]
        }))
        .expect("verifiers");
        let (payload, header) = verifiers.verify(&token).expect("verifies");
        assert_eq!(header.token_type(), Some("entity-statement+jwt"));
        assert_eq!(payload["iss"], "https://servizi.comune.example.it");
        assert_eq!(payload["sub"], payload["iss"]);
        assert_eq!(payload["exp"].as_i64(), Some(1_800_000_000 + 86_400));
        let metadata = &payload["metadata"]["openid_relying_party"];
        assert_eq!(metadata["client_id"], "https://servizi.comune.example.it");
        assert_eq!(
            metadata["redirect_uris"][0],
            "https://servizi.comune.example.it/accedi/ritorno"
        );
        assert_eq!(metadata["token_endpoint_auth_method"], "private_key_jwt");
        assert_eq!(metadata["client_registration_types"][0], "automatic");
        assert_eq!(metadata["userinfo_encrypted_response_alg"], "RSA-OAEP-256");
        assert_eq!(
            payload["authority_hints"][0],
            "https://registry.spid.gov.it"
        );
        assert_eq!(payload["trust_marks"][0]["trust_mark"], "a.b.c");
        // The federation key is not among the OIDC keys.
        let federation_kid = payload["jwks"]["keys"][0]["kid"].as_str().expect("kid");
        let oidc_kids: Vec<&str> = metadata["jwks"]["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|key| key["kid"].as_str())
            .collect();
        assert_eq!(oidc_kids.len(), 2);
        assert!(!oidc_kids.contains(&federation_kid));
        // Only public parts are published.
        assert!(!token.contains("\"d\""));
        assert!(metadata["jwks"]["keys"][0].get("d").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let dir = std::env::temp_dir().join(format!("sigillo-oidc-bad-{}", std::process::id()));
        let (mut settings, data_dir) = settings(&dir);
        let context = |production| Context {
            public_base_url: "http://127.0.0.1:8080",
            data_dir: &data_dir,
            organization_name: "Comune",
            production,
        };
        settings.entity_id = Some("https://altro.example.it".into());
        assert!(matches!(
            RelyingParty::new(settings.clone(), &context(false)),
            Err(Error::Settings(_))
        ));
        settings.entity_id = None;
        assert!(matches!(
            RelyingParty::new(settings.clone(), &context(true)),
            Err(Error::Settings(_))
        ));
        // In production the keys must exist: none is made.
        let production = Context {
            public_base_url: "https://servizi.comune.example.it",
            data_dir: &data_dir,
            organization_name: "Comune",
            production: true,
        };
        assert!(matches!(
            RelyingParty::new(settings.clone(), &production),
            Err(Error::Keys(_))
        ));
        assert!(
            !data_dir.join("oidc").exists(),
            "nothing made in production"
        );
        settings.providers[0].acr_values = vec!["https://www.spid.gov.it/SpidL9".into()];
        assert!(matches!(
            RelyingParty::new(settings.clone(), &context(false)),
            Err(Error::Settings(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
