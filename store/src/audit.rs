//! The append-only audit log: every request, preparation, payment, issuance,
//! rejection and download, per comune, hash-chained so that a deleted or
//! edited entry breaks the chain ([`Store::verify_audit_chain`]).
//!
//! Entries never carry personal data: subjects are opaque ids (request,
//! certificate, API key), details are codes.
//!
//! Appending takes the comune's chain head inside the caller's
//! transaction (a no-op upsert that row-locks it on PostgreSQL; SQLite
//! writers are serialised by `BEGIN IMMEDIATE`), so entries of concurrent
//! writers get consecutive numbers and each links to the one before.

use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};
use time::OffsetDateTime;

use super::{Store, StoreError, int, text, time_at, unix};
use seal::ComuneCode;

/// What happened, to append.
#[derive(Debug, Clone, Copy)]
pub struct AuditEntry<'a> {
    /// When.
    pub at: OffsetDateTime,
    /// What, as a dotted code: `request.created`, `receipt.rejected`, …
    pub event: &'a str,
    /// The opaque id it is about.
    pub subject: &'a str,
    /// Who: an API key id, `cli`, `reconciliation`.
    pub actor: &'a str,
    /// Codes and ids, `key=value` separated by spaces; no personal data.
    pub detail: &'a str,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the comune's chain, from 1.
    pub seq: i64,
    /// When.
    pub at: OffsetDateTime,
    /// What.
    pub event: String,
    /// About what.
    pub subject: String,
    /// Who.
    pub actor: String,
    /// Details.
    pub detail: String,
    /// The previous entry's hash (empty for the first).
    pub prev_hash: String,
    /// This entry's hash, hex SHA-256.
    pub hash: String,
}

/// Which entries [`Store::search_audit`] returns: every condition given
/// must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries about one of these subjects (an empty list matches
    /// nothing; `None`, any subject).
    pub subjects: Option<Vec<String>>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries at or after this instant.
    pub from: Option<OffsetDateTime>,
    /// Only entries before this instant.
    pub until: Option<OffsetDateTime>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// The most entries one search returns.
pub const MAX_AUDIT_RESULTS: u32 = 5000;

/// Appends `entry` to the comune's chain within `tx`.
pub(crate) async fn append_audit(
    tx: &mut Transaction<'static, Any>,
    comune: ComuneCode,
    entry: &AuditEntry<'_>,
) -> Result<(), StoreError> {
    let head = sqlx::query(
        "INSERT INTO audit_heads (comune, seq, hash) VALUES ($1, 0, '') \
         ON CONFLICT (comune) DO UPDATE SET seq = audit_heads.seq \
         RETURNING seq, hash",
    )
    .bind(comune.as_str().to_owned())
    .fetch_one(&mut **tx)
    .await?;
    let seq = int(&head, "audit_heads", "seq")? + 1;
    let prev_hash = text(&head, "audit_heads", "hash")?;
    let hash = entry_hash(comune, seq, unix(entry.at), entry, &prev_hash);
    sqlx::query(
        "INSERT INTO audit_log (comune, seq, at, event, subject, actor, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(comune.as_str().to_owned())
    .bind(seq)
    .bind(unix(entry.at))
    .bind(entry.event.to_owned())
    .bind(entry.subject.to_owned())
    .bind(entry.actor.to_owned())
    .bind(entry.detail.to_owned())
    .bind(prev_hash)
    .bind(hash.clone())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE comune = $1")
        .bind(comune.as_str().to_owned())
        .bind(seq)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Appends one entry in a transaction of its own.
    pub async fn audit(
        &self,
        comune: ComuneCode,
        entry: &AuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        append_audit(&mut tx, comune, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The comune's entries about `subject`, oldest first (every entry when
    /// `subject` is `None`), at most `limit`.
    pub async fn audit_entries(
        &self,
        comune: ComuneCode,
        subject: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, event, subject, actor, detail, prev_hash, hash FROM audit_log \
             WHERE comune = $1 AND subject = COALESCE($2, subject) ORDER BY seq LIMIT $3",
        )
        .bind(comune.as_str().to_owned())
        .bind(subject.map(str::to_owned))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// The comune's entries that `query` selects, newest first.
    pub async fn search_audit(
        &self,
        comune: ComuneCode,
        query: &AuditQuery,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        if query.subjects.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let mut sql = String::from(
            "SELECT seq, at, event, subject, actor, detail, prev_hash, hash FROM audit_log \
             WHERE comune = $1",
        );
        let mut next = 2;
        let mut placeholder = || {
            let p = format!("${next}");
            next += 1;
            p
        };
        if let Some(subjects) = &query.subjects {
            let list: Vec<String> = subjects.iter().map(|_| placeholder()).collect();
            sql.push_str(&format!(" AND subject IN ({})", list.join(", ")));
        }
        if query.actor.is_some() {
            sql.push_str(&format!(" AND actor = {}", placeholder()));
        }
        if query.from.is_some() {
            sql.push_str(&format!(" AND at >= {}", placeholder()));
        }
        if query.until.is_some() {
            sql.push_str(&format!(" AND at < {}", placeholder()));
        }
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT {}", placeholder()));
        let mut statement = sqlx::query(&sql).bind(comune.as_str().to_owned());
        for subject in query.subjects.iter().flatten() {
            statement = statement.bind(subject.clone());
        }
        if let Some(actor) = &query.actor {
            statement = statement.bind(actor.clone());
        }
        if let Some(from) = query.from {
            statement = statement.bind(unix(from));
        }
        if let Some(until) = query.until {
            statement = statement.bind(unix(until));
        }
        let rows = statement
            .bind(i64::from(query.limit.min(MAX_AUDIT_RESULTS)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// The comune's entry `seq`, if there is one.
    pub async fn audit_entry(
        &self,
        comune: ComuneCode,
        seq: i64,
    ) -> Result<Option<AuditRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, at, event, subject, actor, detail, prev_hash, hash FROM audit_log \
             WHERE comune = $1 AND seq = $2",
        )
        .bind(comune.as_str().to_owned())
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(audit_from_row).transpose()
    }

    /// Walks the comune's whole chain: `Ok(n)` with the number of entries
    /// when every hash and link holds, or the first entry that does not.
    pub async fn verify_audit_chain(
        &self,
        comune: ComuneCode,
    ) -> Result<Result<i64, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, event, subject, actor, detail, prev_hash, hash FROM audit_log \
             WHERE comune = $1 ORDER BY seq",
        )
        .bind(comune.as_str().to_owned())
        .fetch_all(&self.pool)
        .await?;
        let mut prev = String::new();
        let mut count = 0;
        for row in &rows {
            let record = audit_from_row(row)?;
            let entry = AuditEntry {
                at: record.at,
                event: &record.event,
                subject: &record.subject,
                actor: &record.actor,
                detail: &record.detail,
            };
            let expected = entry_hash(comune, record.seq, unix(record.at), &entry, &prev);
            if record.seq != count + 1 || record.prev_hash != prev || record.hash != expected {
                return Ok(Err(record.seq));
            }
            prev = record.hash;
            count += 1;
        }
        Ok(Ok(count))
    }
}

/// The entry's hash: SHA-256 over the previous hash and every field,
/// separated by the ASCII unit separator so no two entries share an input.
fn entry_hash(
    comune: ComuneCode,
    seq: i64,
    at: i64,
    entry: &AuditEntry<'_>,
    prev_hash: &str,
) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev_hash,
        comune.as_str(),
        &seq.to_string(),
        &at.to_string(),
        entry.event,
        entry.subject,
        entry.actor,
        entry.detail,
    ] {
        hasher.update(field.as_bytes());
        hasher.update([0x1f]);
    }
    hex::encode(hasher.finalize())
}

fn audit_from_row(row: &sqlx::any::AnyRow) -> Result<AuditRecord, StoreError> {
    const T: &str = "audit_log";
    Ok(AuditRecord {
        seq: int(row, T, "seq")?,
        at: time_at(row, T, "at")?,
        event: text(row, T, "event")?,
        subject: text(row, T, "subject")?,
        actor: text(row, T, "actor")?,
        detail: text(row, T, "detail")?,
        prev_hash: text(row, T, "prev_hash")?,
        hash: text(row, T, "hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_change_with_every_field() {
        let comune = ComuneCode::parse("999001").expect("valid code");
        let entry = AuditEntry {
            at: OffsetDateTime::UNIX_EPOCH,
            event: "request.created",
            subject: "ab",
            actor: "k1",
            detail: "x=1",
        };
        let base = entry_hash(comune, 1, 0, &entry, "");
        assert_ne!(base, entry_hash(comune, 2, 0, &entry, ""));
        assert_ne!(base, entry_hash(comune, 1, 1, &entry, ""));
        assert_ne!(base, entry_hash(comune, 1, 0, &entry, "00"));
        let moved = AuditEntry {
            subject: "a",
            actor: "bk1",
            ..entry
        };
        assert_ne!(base, entry_hash(comune, 1, 0, &moved, ""));
    }
}
