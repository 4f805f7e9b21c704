//! A provider's metadata through the OpenID Federation's trust chain
//! (OpenID Federation 1.0, as the SPID/CIE profile uses it).
//!
//! From the provider's Entity Configuration up its `authority_hints` to
//! the configured trust anchor, whose keys are pinned: every subordinate
//! statement is fetched from the superior's `federation_fetch_endpoint`
//! and checked with the superior's keys (the trust anchor's from the
//! configuration, never from the network); the keys it attests must be
//! the ones that signed the subordinate's configuration. The superiors'
//! `metadata_policy` for `openid_provider` is then applied, trust anchor
//! first; a value that breaks a policy refuses the chain. At most
//! [`MAX_DEPTH`] statements above the provider.

use serde_json::{Map, Value};

use crate::tokens::Verifiers;
use crate::{Error, RelyingParty};

/// How many superiors a chain may have.
const MAX_DEPTH: usize = 3;

/// The media type of entity statements.
const ENTITY_STATEMENT: &str = "entity-statement+jwt";

/// An entity statement, checked.
#[derive(Debug, Clone)]
struct Statement {
    claims: Map<String, Value>,
}

impl Statement {
    fn text(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    fn jwks(&self) -> Result<Verifiers, Error> {
        let jwks = self
            .claims
            .get("jwks")
            .ok_or_else(|| chain("statement without jwks"))?;
        Verifiers::from_jwks(jwks)
    }

    fn fetch_endpoint(&self) -> Option<&str> {
        self.claims
            .get("metadata")?
            .get("federation_entity")?
            .get("federation_fetch_endpoint")?
            .as_str()
    }

    fn policy(&self) -> Option<&Map<String, Value>> {
        self.claims
            .get("metadata_policy")?
            .get("openid_provider")?
            .as_object()
    }
}

fn chain(reason: &str) -> Error {
    Error::Metadata(format!("catena di fiducia: {reason}"))
}

/// The payload of `jwt` if `keys` signed it as an entity statement valid at
/// `now`, from `iss` about `sub`.
fn checked(
    jwt: &str,
    keys: &Verifiers,
    iss: &str,
    sub: &str,
    now: i64,
) -> Result<Statement, Error> {
    let (payload, header) = keys
        .verify(jwt)
        .map_err(|_| chain(&format!("signature of the statement about {sub} by {iss}")))?;
    if header
        .token_type()
        .is_some_and(|typ| typ != ENTITY_STATEMENT)
    {
        return Err(chain("typ is not entity-statement+jwt"));
    }
    let Value::Object(claims) = payload else {
        return Err(chain("statement not an object"));
    };
    let statement = Statement { claims };
    if statement.text("iss") != Some(iss) || statement.text("sub") != Some(sub) {
        return Err(chain(&format!("statement is not {iss} about {sub}")));
    }
    match statement.claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => {}
        _ => return Err(chain(&format!("statement about {sub} expired"))),
    }
    Ok(statement)
}

/// The claims of an unverified JWT, to learn which keys to check it with.
fn unverified(jwt: &str) -> Result<Map<String, Value>, Error> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).ok_or_else(|| chain("not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| chain("not a JWT"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(claims)) => Ok(claims),
        _ => Err(chain("not a JWT")),
    }
}

impl RelyingParty {
    async fn get_jwt(&self, url: &str) -> Result<String, Error> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/entity-statement+jwt")
            .send()
            .await
            .map_err(|error| Error::Unreachable(crate::without_url(&error)))?;
        if !response.status().is_success() {
            return Err(Error::Unreachable(format!(
                "{url}: HTTP {}",
                response.status()
            )));
        }
        let body = response
            .text()
            .await
            .map_err(|error| Error::Unreachable(crate::without_url(&error)))?;
        Ok(body.trim().to_owned())
    }

    /// The Entity Configuration of `entity`, self-signed and valid.
    async fn entity_configuration_of(&self, entity: &str, now: i64) -> Result<Statement, Error> {
        let url = format!(
            "{}/.well-known/openid-federation",
            entity.trim_end_matches('/')
        );
        let jwt = self.get_jwt(&url).await?;
        let claims = unverified(&jwt)?;
        let keys = Verifiers::from_jwks(claims.get("jwks").ok_or_else(|| chain("no jwks"))?)?;
        checked(&jwt, &keys, entity, entity, now)
    }

    /// The keys of `entity` as its superiors up to the trust anchor attest
    /// them, with the policies met on the way (trust anchor first).
    async fn attested(
        &self,
        entity: &Statement,
        anchor: &str,
        anchor_keys: &Verifiers,
        now: i64,
        depth: usize,
    ) -> Result<(Verifiers, Vec<Map<String, Value>>), Error> {
        let subject = entity.text("sub").unwrap_or_default().to_owned();
        if depth > MAX_DEPTH {
            return Err(chain("too many superiors"));
        }
        let hints: Vec<String> = entity
            .claims
            .get("authority_hints")
            .and_then(Value::as_array)
            .map(|hints| {
                hints
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut last = chain(&format!(
            "{subject} has no authority hint leading to the trust anchor"
        ));
        for hint in hints {
            let hint = hint.trim_end_matches('/').to_owned();
            let attempt: Result<(Verifiers, Vec<Map<String, Value>>), Error> = async {
                let superior = self.entity_configuration_of(&hint, now).await?;
                let (superior_keys, mut policies) = if hint == anchor {
                    // The trust anchor's configuration must be signed by
                    // the pinned keys, not only by itself.
                    let url = format!("{hint}/.well-known/openid-federation");
                    let jwt = self.get_jwt(&url).await?;
                    checked(&jwt, anchor_keys, &hint, &hint, now)?;
                    (anchor_keys.clone(), Vec::new())
                } else {
                    Box::pin(self.attested(&superior, anchor, anchor_keys, now, depth + 1)).await?
                };
                let endpoint = superior
                    .fetch_endpoint()
                    .ok_or_else(|| chain(&format!("{hint} has no federation_fetch_endpoint")))?;
                let mut url = reqwest::Url::parse(endpoint)
                    .map_err(|_| chain("federation_fetch_endpoint is not a URL"))?;
                url.query_pairs_mut().append_pair("sub", &subject);
                let jwt = self.get_jwt(url.as_str()).await?;
                let statement = checked(&jwt, &superior_keys, &hint, &subject, now)?;
                if let Some(policy) = statement.policy() {
                    policies.push(policy.clone());
                }
                Ok((statement.jwks()?, policies))
            }
            .await;
            match attempt {
                Ok(found) => return Ok(found),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// The provider `issuer`'s metadata and keys through the trust chain to
    /// `anchor`.
    pub(crate) async fn resolve_through_federation(
        &self,
        issuer: &str,
        anchor: &str,
        anchor_jwks: &Value,
        now: i64,
    ) -> Result<(Value, Verifiers), Error> {
        let anchor = anchor.trim_end_matches('/');
        let anchor_keys = Verifiers::from_jwks(anchor_jwks)?;
        let provider = self.entity_configuration_of(issuer, now).await?;
        let (attested, policies) = self
            .attested(&provider, anchor, &anchor_keys, now, 1)
            .await?;
        // The configuration must verify with the keys the superior attests.
        let url = format!(
            "{}/.well-known/openid-federation",
            issuer.trim_end_matches('/')
        );
        let jwt = self.get_jwt(&url).await?;
        let provider = checked(&jwt, &attested, issuer, issuer, now)?;
        let mut metadata = provider
            .claims
            .get("metadata")
            .and_then(|m| m.get("openid_provider"))
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| chain("no openid_provider metadata"))?;
        for policy in policies.iter().rev() {
            apply_policy(&mut metadata, policy)?;
        }
        metadata
            .entry("issuer")
            .or_insert_with(|| Value::String(issuer.to_owned()));
        let keys = match (metadata.get("jwks"), metadata.get("jwks_uri")) {
            (Some(jwks), _) => Verifiers::from_jwks(jwks)?,
            (None, Some(Value::String(uri))) => {
                let jwks: Value = self.get_json(uri).await?;
                Verifiers::from_jwks(&jwks)?
            }
            _ => match metadata.get("signed_jwks_uri").and_then(Value::as_str) {
                Some(uri) => {
                    let jwt = self.get_jwt(uri).await?;
                    let (jwks, _) = provider
                        .jwks()?
                        .verify(&jwt)
                        .map_err(|_| chain("signed_jwks_uri not signed by the provider"))?;
                    Verifiers::from_jwks(&jwks)?
                }
                None => return Err(chain("openid_provider without keys")),
            },
        };
        Ok((Value::Object(metadata), keys))
    }
}

/// Applies a `metadata_policy` (OpenID Federation 1.0 §6.1: `value`,
/// `add`, `default`, `one_of`, `subset_of`, `superset_of`, `essential`).
fn apply_policy(
    metadata: &mut Map<String, Value>,
    policy: &Map<String, Value>,
) -> Result<(), Error> {
    for (claim, operators) in policy {
        let Some(operators) = operators.as_object() else {
            continue;
        };
        if let Some(value) = operators.get("value") {
            if value.is_null() {
                metadata.remove(claim);
            } else {
                metadata.insert(claim.clone(), value.clone());
            }
        }
        if let Some(Value::Array(add)) = operators.get("add") {
            let entry = metadata
                .entry(claim.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(values) = entry {
                for value in add {
                    if !values.contains(value) {
                        values.push(value.clone());
                    }
                }
            }
        }
        if let Some(default) = operators.get("default") {
            metadata
                .entry(claim.clone())
                .or_insert_with(|| default.clone());
        }
        if let (Some(Value::Array(allowed)), Some(value)) =
            (operators.get("one_of"), metadata.get(claim))
            && !allowed.contains(value)
        {
            return Err(chain(&format!("{claim} is not one_of the policy's")));
        }
        if let Some(Value::Array(allowed)) = operators.get("subset_of")
            && let Some(Value::Array(values)) = metadata.get_mut(claim)
        {
            values.retain(|value| allowed.contains(value));
        }
        if let Some(Value::Array(required)) = operators.get("superset_of") {
            let has = match metadata.get(claim) {
                Some(Value::Array(values)) => required.iter().all(|r| values.contains(r)),
                _ => required.is_empty(),
            };
            if !has {
                return Err(chain(&format!("{claim} is not a superset_of the policy's")));
            }
        }
        if operators.get("essential") == Some(&Value::Bool(true)) && !metadata.contains_key(claim) {
            return Err(chain(&format!("{claim} is essential and absent")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("object"),
        }
    }

    #[test]
    fn the_policy_operators_do_what_the_specification_says() {
        let mut metadata = object(json!({
            "scopes_supported": ["openid", "profile", "offline_access"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "client_name": "OP",
        }));
        let policy = object(json!({
            "scopes_supported": { "subset_of": ["openid", "profile"] },
            "contacts": { "add": ["ops@example.it"] },
            "subject_types_supported": { "default": ["pairwise"] },
            "token_endpoint_auth_methods_supported": { "superset_of": ["private_key_jwt"] },
            "client_name": { "value": "Identity Provider" },
            "issuer": { "essential": false },
        }));
        apply_policy(&mut metadata, &policy).expect("applied");
        assert_eq!(metadata["scopes_supported"], json!(["openid", "profile"]));
        assert_eq!(metadata["contacts"], json!(["ops@example.it"]));
        assert_eq!(metadata["subject_types_supported"], json!(["pairwise"]));
        assert_eq!(metadata["client_name"], "Identity Provider");
        let refused = |policy: Value| {
            let mut metadata = metadata.clone();
            apply_policy(&mut metadata, &object(policy)).is_err()
        };
        assert!(refused(json!({ "client_name": { "one_of": ["A", "B"] } })));
        assert!(refused(
            json!({ "scopes_supported": { "superset_of": ["email"] } })
        ));
        assert!(refused(json!({ "jwks_uri": { "essential": true } })));
        assert!(!refused(
            json!({ "client_name": { "one_of": ["Identity Provider"] } })
        ));
    }
}
