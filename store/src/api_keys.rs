//! API keys: how a comune's portal or counter software authenticates to
//! Sigillo. A key reads `sig_<id>_<secret>`: the id is public (listings,
//! the audit log), the secret is shown once at creation and only its
//! SHA-256 is stored — the secret is 256 random bits, so a plain hash is
//! as strong as a slow one and costs nothing per request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use seal::ComuneCode;
use sha2::{Digest, Sha256};
use sqlx::Row as _;
use time::OffsetDateTime;

use super::{Store, StoreError, opt_time_at, text, time_at, unix};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKeyRole {
    /// Counter software used by staff: may request certificates for any
    /// requester where the comune's practice allows it.
    Sportello,
    /// The citizen portal: requests on behalf of a logged-in citizen, for
    /// themselves or members of their registry family.
    Portale,
}

impl ApiKeyRole {
    /// The code in the database and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Self::Sportello => "sportello",
            Self::Portale => "portale",
        }
    }

    /// The role with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Sportello, Self::Portale]
            .into_iter()
            .find(|role| role.code() == code)
    }
}

/// A stored key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Public id.
    pub id: String,
    /// The comune it acts for.
    pub comune: ComuneCode,
    /// A name for people: which software, which office.
    pub name: String,
    /// What it may do.
    pub role: ApiKeyRole,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was revoked, if it has been.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A key just created: the only time its full text exists.
pub struct NewApiKey {
    /// The stored key.
    pub key: ApiKey,
    /// The full key to hand to the software: `sig_<id>_<secret>`.
    pub secret: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("key", &self.key)
            .field("secret", &"…")
            .finish()
    }
}

impl Store {
    /// Creates a key for `comune`.
    pub async fn create_api_key(
        &self,
        comune: ComuneCode,
        name: &str,
        role: ApiKeyRole,
        now: OffsetDateTime,
    ) -> Result<NewApiKey, StoreError> {
        self.require_comune(comune).await?;
        let mut id_bytes = [0u8; 6];
        let mut secret_bytes = [0u8; 32];
        getrandom::getrandom(&mut id_bytes).map_err(|_| StoreError::Randomness)?;
        getrandom::getrandom(&mut secret_bytes).map_err(|_| StoreError::Randomness)?;
        let id = hex::encode(id_bytes);
        let secret = URL_SAFE_NO_PAD.encode(secret_bytes);
        sqlx::query(
            "INSERT INTO api_keys (id, comune, name, role, secret_sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.clone())
        .bind(comune.as_str().to_owned())
        .bind(name.to_owned())
        .bind(role.code())
        .bind(secret_hash(&secret))
        .bind(unix(now))
        .execute(&self.pool)
        .await?;
        Ok(NewApiKey {
            secret: format!("sig_{id}_{secret}"),
            key: ApiKey {
                id,
                comune,
                name: name.to_owned(),
                role,
                created_at: OffsetDateTime::from_unix_timestamp(unix(now))
                    .map_err(|_| StoreError::OutOfRange("data"))?,
                revoked_at: None,
            },
        })
    }

    /// The key a presented `sig_<id>_<secret>` text names, if it exists, is
    /// not revoked and its secret matches; `None` otherwise (the caller
    /// answers 401 without saying which).
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
    ) -> Result<Option<ApiKey>, StoreError> {
        let Some((id, secret)) = presented
            .strip_prefix("sig_")
            .and_then(|rest| rest.split_once('_'))
        else {
            return Ok(None);
        };
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, comune, name, role, secret_sha256, created_at, revoked_at \
             FROM api_keys WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored = text(&row, "api_keys", "secret_sha256")?;
        if !constant_time_eq(stored.as_bytes(), secret_hash(secret).as_bytes()) {
            return Ok(None);
        }
        let key = key_from_row(&row)?;
        Ok(key.revoked_at.is_none().then_some(key))
    }

    /// The comune's keys, newest first.
    pub async fn list_api_keys(&self, comune: ComuneCode) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, comune, name, role, created_at, revoked_at FROM api_keys \
             WHERE comune = $1 ORDER BY created_at DESC, id",
        )
        .bind(comune.as_str().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes the comune's key `id`; `false` when there is no such key.
    /// Revoking again keeps the first time.
    pub async fn revoke_api_key(
        &self,
        comune: ComuneCode,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE comune = $1 AND id = $2",
        )
        .bind(comune.as_str().to_owned())
        .bind(id.to_owned())
        .bind(unix(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey, StoreError> {
    const T: &str = "api_keys";
    let corrupt = |column| StoreError::Corrupt { table: T, column };
    let comune: String = row.try_get("comune").map_err(|_| corrupt("comune"))?;
    Ok(ApiKey {
        id: text(row, T, "id")?,
        comune: ComuneCode::parse(&comune).map_err(|_| corrupt("comune"))?,
        name: text(row, T, "name")?,
        role: ApiKeyRole::from_code(&text(row, T, "role")?).ok_or(corrupt("role"))?,
        created_at: time_at(row, T, "created_at")?,
        revoked_at: opt_time_at(row, T, "revoked_at")?,
    })
}
