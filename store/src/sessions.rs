//! The citizen portal's sessions.
//!
//! A session is made at login and named by a random token (256 bits) that
//! only the browser's cookie holds; the table keeps its SHA-256, as API
//! keys are kept ([`crate::api_keys`]). Every node of a deployment reads
//! the same table, so a citizen may be served by any of them.
//!
//! A session ends after [`SessionTimeouts::idle`] without use or
//! [`SessionTimeouts::absolute`] after login, whichever comes first; an
//! ended session found on lookup is deleted and reported as
//! [`SessionLookup::Expired`], so the page can say so.

use seal::{CodiceFiscale, ComuneCode};
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use super::{Store, StoreError, opt_text, opt_time_at, text, time_at, unix};

/// When sessions end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    /// Without a request for this long, the session ends.
    pub idle: Duration,
    /// This long after login, the session ends however busy it is.
    pub absolute: Duration,
}

/// `last_seen` is written again only when it is older than this: a page
/// with its styles and scripts makes one write, not five.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Whose a session is: each kind has its own cookie and pages, and a page
/// takes only its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A citizen, in the portal.
    Citizen,
    /// A staff member of the comune, in the office pages; their roles are
    /// read from the staff table on every request.
    Staff,
}

impl SessionKind {
    /// As stored.
    pub fn code(self) -> &'static str {
        match self {
            Self::Citizen => "citizen",
            Self::Staff => "staff",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "citizen" => Some(Self::Citizen),
            "staff" => Some(Self::Staff),
            _ => None,
        }
    }
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// A citizen's or a staff member's.
    pub kind: SessionKind,
    /// The comune whose portal the person logs in to.
    pub comune: ComuneCode,
    /// The person, as the identity provider vouches.
    pub fiscal_code: &'a CodiceFiscale,
    /// Their name for the page header.
    pub display_name: &'a str,
    /// `demo`, or the identity provider's id.
    pub provider: &'a str,
    /// What logout at the provider needs; `None` for the demo login.
    pub tokens: Option<ProviderTokens>,
    /// Now.
    pub now: OffsetDateTime,
}

/// What an OpenID provider gave at login that logout needs again.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderTokens {
    /// The ID token: the hint for the provider's end-session endpoint.
    pub id_token: String,
    /// The access token: revoked at logout.
    pub access_token: String,
}

impl std::fmt::Debug for ProviderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderTokens(..)")
    }
}

/// A login under way with an OpenID provider.
#[derive(Debug, Clone)]
pub struct NewLogin<'a> {
    /// A citizen's login or a staff member's.
    pub kind: SessionKind,
    /// The authorization request's `state`; stored as its SHA-256.
    pub state: &'a str,
    /// The token of the browser's login cookie; stored as its SHA-256.
    pub browser: &'a str,
    /// The comune whose portal the login is for.
    pub comune: ComuneCode,
    /// The provider's id.
    pub provider: &'a str,
    /// The authorization request's nonce.
    pub nonce: &'a str,
    /// The PKCE code verifier.
    pub code_verifier: &'a str,
    /// Now.
    pub now: OffsetDateTime,
}

/// A login taken back when the provider answers.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// A citizen's login or a staff member's.
    pub kind: SessionKind,
    /// The comune.
    pub comune: ComuneCode,
    /// The provider's id.
    pub provider: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier for the token request.
    pub code_verifier: String,
    /// When the browser was sent to the provider.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("kind", &self.kind)
            .field("comune", &self.comune)
            .field("provider", &self.provider)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// What a callback's `state` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginLookup {
    /// The login, now taken: the same `state` finds nothing again.
    Found(PendingLogin),
    /// A login started longer ago than allowed (now deleted).
    Expired,
    /// Started in another browser: the login cookie does not match. The
    /// row stays, so the right browser can still finish it.
    OtherBrowser,
    /// No login: never started, or already finished.
    Unknown,
}

/// An open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The SHA-256 (hex) of the cookie's token: the session's name in logs
    /// and the audit, never the token itself.
    pub id: String,
    /// A citizen's or a staff member's.
    pub kind: SessionKind,
    /// The comune.
    pub comune: ComuneCode,
    /// The person logged in.
    pub fiscal_code: CodiceFiscale,
    /// Their name for the header.
    pub display_name: String,
    /// Who vouched for them.
    pub provider: String,
    /// The token every form of this session carries.
    pub csrf: String,
    /// What logout at the provider needs; `None` for the demo login.
    pub tokens: Option<ProviderTokens>,
    /// When they logged in.
    pub created_at: OffsetDateTime,
    /// Their last request.
    pub last_seen: OffsetDateTime,
    /// When they acknowledged the privacy notice, in this session.
    pub privacy_read_at: Option<OffsetDateTime>,
}

/// What a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per request and matched at once; a box would buy nothing"
)]
pub enum SessionLookup {
    /// An open session (its `last_seen` now moved on).
    Active(SessionRecord),
    /// A session that timed out; it is deleted.
    Expired,
    /// No session: never made, logged out, or purged.
    Unknown,
}

impl Store {
    /// Opens a session: answers the token for the cookie (shown once) and
    /// the record.
    pub async fn create_session(
        &self,
        new: &NewSession<'_>,
    ) -> Result<(String, SessionRecord), StoreError> {
        self.require_comune(new.comune).await?;
        let token = random_token()?;
        let csrf = random_token()?;
        let id = token_hash(&token);
        sqlx::query(
            "INSERT INTO portal_sessions (token_hash, comune, fiscal_code, display_name, provider, \
             csrf, created_at, last_seen, id_token, access_token, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.clone())
        .bind(new.comune.as_str().to_owned())
        .bind(new.fiscal_code.as_str().to_owned())
        .bind(new.display_name.to_owned())
        .bind(new.provider.to_owned())
        .bind(csrf.clone())
        .bind(unix(new.now))
        .bind(unix(new.now))
        .bind(new.tokens.as_ref().map(|t| t.id_token.clone()))
        .bind(new.tokens.as_ref().map(|t| t.access_token.clone()))
        .bind(new.kind.code())
        .execute(&self.pool)
        .await?;
        let record = SessionRecord {
            id,
            kind: new.kind,
            comune: new.comune,
            fiscal_code: new.fiscal_code.clone(),
            display_name: new.display_name.to_owned(),
            provider: new.provider.to_owned(),
            csrf,
            tokens: new.tokens.clone(),
            created_at: now_seconds(new.now),
            last_seen: now_seconds(new.now),
            privacy_read_at: None,
        };
        Ok((token, record))
    }

    /// The session `token` names at `now`, under `timeouts`.
    pub async fn session(
        &self,
        token: &str,
        now: OffsetDateTime,
        timeouts: SessionTimeouts,
    ) -> Result<SessionLookup, StoreError> {
        let id = token_hash(token);
        let row = sqlx::query(
            "SELECT token_hash, comune, fiscal_code, display_name, provider, csrf, created_at, \
             last_seen, privacy_read_at, id_token, access_token, kind FROM portal_sessions \
             WHERE token_hash = $1",
        )
        .bind(id.clone())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(SessionLookup::Unknown);
        };
        let mut record = session_from_row(&row)?;
        if now - record.last_seen >= timeouts.idle || now - record.created_at >= timeouts.absolute {
            self.delete_session(&id).await?;
            return Ok(SessionLookup::Expired);
        }
        if now - record.last_seen >= TOUCH_EVERY {
            sqlx::query("UPDATE portal_sessions SET last_seen = $1 WHERE token_hash = $2")
                .bind(unix(now))
                .bind(id)
                .execute(&self.pool)
                .await?;
            record.last_seen = now_seconds(now);
        }
        Ok(SessionLookup::Active(record))
    }

    /// Notes that the session's person acknowledged the privacy notice.
    pub async fn mark_privacy_read(
        &self,
        session_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE portal_sessions SET privacy_read_at = $1 WHERE token_hash = $2")
            .bind(unix(now))
            .bind(session_id.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends the session `session_id` (a [`SessionRecord::id`]); ending one
    /// already gone is not an error.
    pub async fn end_session(&self, session_id: &str) -> Result<(), StoreError> {
        self.delete_session(session_id).await
    }

    /// Deletes every session that timed out by `now`; answers how many.
    pub async fn purge_sessions(
        &self,
        now: OffsetDateTime,
        timeouts: SessionTimeouts,
    ) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM portal_sessions WHERE last_seen <= $1 OR created_at <= $2")
                .bind(unix(now - timeouts.idle))
                .bind(unix(now - timeouts.absolute))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// Records a login under way, for `take_login` when the provider
    /// answers.
    pub async fn create_login(&self, new: &NewLogin<'_>) -> Result<(), StoreError> {
        self.require_comune(new.comune).await?;
        sqlx::query(
            "INSERT INTO portal_logins (state_hash, browser_hash, comune, provider, nonce, \
             code_verifier, created_at, kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token_hash(new.state))
        .bind(token_hash(new.browser))
        .bind(new.comune.as_str().to_owned())
        .bind(new.provider.to_owned())
        .bind(new.nonce.to_owned())
        .bind(new.code_verifier.to_owned())
        .bind(unix(new.now))
        .bind(new.kind.code())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the login `state` names, started by the browser holding
    /// `browser`, if it began less than `ttl` before `now`. A login is
    /// taken once: of two callbacks with the same `state`, at most one
    /// finds it, on any node.
    pub async fn take_login(
        &self,
        state: &str,
        browser: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<LoginLookup, StoreError> {
        const TABLE: &str = "portal_logins";
        let row = sqlx::query(
            "DELETE FROM portal_logins WHERE state_hash = $1 AND browser_hash = $2 \
             RETURNING comune, provider, nonce, code_verifier, created_at, kind",
        )
        .bind(token_hash(state))
        .bind(token_hash(browser))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            let other = sqlx::query("SELECT 1 FROM portal_logins WHERE state_hash = $1")
                .bind(token_hash(state))
                .fetch_optional(&self.pool)
                .await?;
            return Ok(if other.is_some() {
                LoginLookup::OtherBrowser
            } else {
                LoginLookup::Unknown
            });
        };
        let created_at = time_at(&row, TABLE, "created_at")?;
        if now - created_at >= ttl {
            return Ok(LoginLookup::Expired);
        }
        let comune = text(&row, TABLE, "comune")?;
        Ok(LoginLookup::Found(PendingLogin {
            kind: SessionKind::from_code(&text(&row, TABLE, "kind")?).ok_or(
                StoreError::Corrupt {
                    table: TABLE,
                    column: "kind",
                },
            )?,
            comune: ComuneCode::parse(&comune).map_err(|_| StoreError::Corrupt {
                table: TABLE,
                column: "comune",
            })?,
            provider: text(&row, TABLE, "provider")?,
            nonce: text(&row, TABLE, "nonce")?,
            code_verifier: text(&row, TABLE, "code_verifier")?,
            created_at,
        }))
    }

    /// Deletes every login started `ttl` or longer before `now`; answers
    /// how many.
    pub async fn purge_logins(
        &self,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM portal_logins WHERE created_at <= $1")
            .bind(unix(now - ttl))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1")
            .bind(id.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// 256 random bits, hex.
fn random_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|_| StoreError::Randomness)?;
    Ok(hex::encode(bytes))
}

/// The stored name of a token.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `now` as stored: whole seconds.
fn now_seconds(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_nanosecond(0).unwrap_or(now)
}

fn session_from_row(row: &sqlx::any::AnyRow) -> Result<SessionRecord, StoreError> {
    const TABLE: &str = "portal_sessions";
    let comune = text(row, TABLE, "comune")?;
    let fiscal_code = text(row, TABLE, "fiscal_code")?;
    Ok(SessionRecord {
        id: text(row, TABLE, "token_hash")?,
        kind: SessionKind::from_code(&text(row, TABLE, "kind")?).ok_or(StoreError::Corrupt {
            table: TABLE,
            column: "kind",
        })?,
        comune: ComuneCode::parse(&comune).map_err(|_| StoreError::Corrupt {
            table: TABLE,
            column: "comune",
        })?,
        fiscal_code: CodiceFiscale::parse(&fiscal_code).map_err(|_| StoreError::Corrupt {
            table: TABLE,
            column: "fiscal_code",
        })?,
        display_name: text(row, TABLE, "display_name")?,
        provider: text(row, TABLE, "provider")?,
        csrf: text(row, TABLE, "csrf")?,
        tokens: match (
            opt_text(row, TABLE, "id_token")?,
            opt_text(row, TABLE, "access_token")?,
        ) {
            (Some(id_token), Some(access_token)) => Some(ProviderTokens {
                id_token,
                access_token,
            }),
            _ => None,
        },
        created_at: time_at(row, TABLE, "created_at")?,
        last_seen: time_at(row, TABLE, "last_seen")?,
        privacy_read_at: opt_time_at(row, TABLE, "privacy_read_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_name_is_not_the_token() {
        let token = random_token().expect("random");
        assert_eq!(token.len(), 64);
        assert_ne!(token_hash(&token), token);
        assert_eq!(token_hash(&token), token_hash(&token));
        assert_ne!(random_token().expect("random"), token);
    }
}
