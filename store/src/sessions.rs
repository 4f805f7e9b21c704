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

use super::{Store, StoreError, opt_time_at, text, time_at, unix};

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

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The comune whose portal the person logs in to.
    pub comune: ComuneCode,
    /// The person, as the identity provider vouches.
    pub fiscal_code: &'a CodiceFiscale,
    /// Their name for the page header.
    pub display_name: &'a str,
    /// `demo`, or the identity provider's id.
    pub provider: &'a str,
    /// Now.
    pub now: OffsetDateTime,
}

/// An open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The SHA-256 (hex) of the cookie's token: the session's name in logs
    /// and the audit, never the token itself.
    pub id: String,
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
    /// When they logged in.
    pub created_at: OffsetDateTime,
    /// Their last request.
    pub last_seen: OffsetDateTime,
    /// When they acknowledged the privacy notice, in this session.
    pub privacy_read_at: Option<OffsetDateTime>,
}

/// What a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
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
             csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.clone())
        .bind(new.comune.as_str().to_owned())
        .bind(new.fiscal_code.as_str().to_owned())
        .bind(new.display_name.to_owned())
        .bind(new.provider.to_owned())
        .bind(csrf.clone())
        .bind(unix(new.now))
        .bind(unix(new.now))
        .execute(&self.pool)
        .await?;
        let record = SessionRecord {
            id,
            comune: new.comune,
            fiscal_code: new.fiscal_code.clone(),
            display_name: new.display_name.to_owned(),
            provider: new.provider.to_owned(),
            csrf,
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
             last_seen, privacy_read_at FROM portal_sessions WHERE token_hash = $1",
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
