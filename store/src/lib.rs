//! Sigillo's database: the comuni served, their registry data (people,
//! families, convivenze, unions, …), their parcels under the town plan, and
//! the registry of issued certificates.
//!
//! One [`Store`] serves every comune of a deployment; every call names the
//! comune it is about, and every row carries the comune's ISTAT code as part
//! of its key. SQLite (bundled) is the embedded default; PostgreSQL is the
//! production store that several server processes share. The same numbered
//! migrations (`migrations/` at the workspace root, embedded in the binary)
//! and the same queries serve both, through sqlx's `Any` driver:
//!
//! ```no_run
//! # async fn example() -> Result<(), store::StoreError> {
//! use store::Store;
//!
//! let store = Store::connect("sqlite:sigillo.db?mode=rwc").await?;
//! // or Store::connect("postgres://sigillo@db.example.it/sigillo")
//! let comuni = store.list_comuni().await?;
//! # Ok(()) }
//! ```
//!
//! Portability rules the schema follows: integers are `BIGINT`, flags
//! `BIGINT` 0/1, times `BIGINT` unix seconds (UTC), dates `TEXT`
//! `YYYY-MM-DD`, bytes `BYTEA`; ids are assigned by the application; queries
//! use `$1` placeholders and nothing dialect-specific besides `ON CONFLICT`
//! and `RETURNING`, which both databases have. Names are searched through
//! uppercase keys kept beside them, because `LIKE` folds case on SQLite and
//! not on PostgreSQL.
//!
//! Errors never carry personal data: a failed query reports sqlx's message
//! (which names constraints, not values).

#![warn(missing_docs)]

pub mod anpr;
pub mod cf;
pub mod demo;
pub mod model;

mod anagrafe;
mod api_keys;
mod audit;
mod comuni;
pub mod import;
mod outbox;
mod registry;
mod requests;
mod sessions;
mod staff;
mod urbanistica;

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Row};
use time::{Date, OffsetDateTime};

use crate::model::CertificateStatus;

pub use anagrafe::MAX_SEARCH_RESULTS;
pub use api_keys::{ApiKey, ApiKeyRole, NewApiKey};
pub use audit::{AuditEntry, AuditQuery, AuditRecord, MAX_AUDIT_RESULTS};
pub use comuni::ComuneSettings;
pub use import::{ImportError, ImportPhase, ImportProgress, ImportSummary, RowError};
pub use outbox::{Notification, NotificationEvent, NotificationRecord, Outcome, Recipient};
pub use registry::{
    CertificateFilter, MAX_LIST_RESULTS, NewCertificate, RegisterError, Released, StatusChange,
};
pub use requests::{NewRequest, PaymentOpened, RequestTransition, Resealed};
pub use sessions::{
    LoginLookup, NewLogin, NewSession, PendingLogin, ProviderTokens, SessionKind, SessionLookup,
    SessionRecord, SessionTimeouts,
};
pub use staff::{FailedLogin, NewStaff, StaffRecord};

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, from a `sqlite:` URL.
    Sqlite,
    /// PostgreSQL, from a `postgres://` or `postgresql://` URL.
    Postgres,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("indirizzo della base dati non supportato: usare sqlite:… oppure postgres://…")]
    UnsupportedUrl,
    /// The database refused a query or could not be reached.
    #[error("errore della base dati: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("aggiornamento dello schema della base dati non riuscito: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not fit the model (the row was written by
    /// something other than this store, or by a newer version).
    #[error("valore non valido nella base dati: {table}.{column}")]
    Corrupt {
        /// Table of the value.
        table: &'static str,
        /// Column of the value.
        column: &'static str,
    },
    /// A value cannot be stored (out of the database's range).
    #[error("valore non memorizzabile: {0}")]
    OutOfRange(&'static str),
    /// The comune is not configured in this deployment.
    #[error("il comune {0} non è configurato")]
    UnknownComune(seal::ComuneCode),
    /// No certificate has that id or number in that comune.
    #[error("certificato non trovato")]
    CertificateNotFound,
    /// No request has that id in that comune.
    #[error("richiesta non trovata")]
    RequestNotFound,
    /// The certificate's status does not allow the change asked for.
    #[error("il certificato è nello stato «{}» e non può passare a «{}»", from.italian(), to.italian())]
    StatusTransition {
        /// Its status now.
        from: CertificateStatus,
        /// The status asked for.
        to: CertificateStatus,
    },
    /// The certificate's PDF is not downloadable in its status (pending:
    /// waiting for payment; void: never issued).
    #[error("il certificato non è scaricabile nello stato «{}»", status.italian())]
    PdfNotAvailable {
        /// Its status.
        status: CertificateStatus,
    },
    /// The operating system's random number generator failed.
    #[error("il generatore di numeri casuali del sistema non è disponibile")]
    Randomness,
    /// The paper marca da bollo's identifier already paid for another
    /// certificate of the comune.
    #[error("la marca da bollo n. {0} è già stata usata per un altro certificato del Comune")]
    MarcaUsed(String),
    /// Every sequence number of the year has been used.
    #[error("numerazione dei certificati esaurita per l'anno {year}")]
    NumberingExhausted {
        /// The year.
        year: u16,
    },
}

/// The issuer's database. Cloning is cheap (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Connections a store keeps open at most, by backend. SQLite has one
/// writer at a time, so a few connections are enough for concurrent reads.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
const POSTGRES_MAX_CONNECTIONS: u32 = 16;

impl Store {
    /// Connects to the database at `url` and brings its schema up to date.
    ///
    /// `url` is `sqlite:PATH?mode=rwc` (the file is created if missing) or
    /// `postgres://USER@HOST:PORT/DATABASE`; PostgreSQL options such as
    /// `?options=-csearch_path%3Dschema` pass through. On SQLite the file is
    /// switched to write-ahead logging, so readers do not wait for writers.
    /// Migrations take the database's migration lock, so several processes
    /// may start at once.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let max = match backend_of(url)? {
            Backend::Sqlite => SQLITE_MAX_CONNECTIONS,
            Backend::Postgres => POSTGRES_MAX_CONNECTIONS,
        };
        Self::connect_with(url, max).await
    }

    /// As [`Store::connect`], with at most `max_connections` open at once.
    /// An in-memory SQLite database (`sqlite::memory:`) lives in its one
    /// connection, so it gets exactly one, kept open for the pool's life.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let backend = backend_of(url)?;
        let in_memory =
            backend == Backend::Sqlite && (url.contains(":memory:") || url.contains("mode=memory"));
        sqlx::any::install_default_drivers();
        let mut options = AnyPoolOptions::new().max_connections(max_connections.max(1));
        if in_memory {
            options = options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let pool = options.connect(url).await?;
        if backend == Backend::Sqlite && !in_memory {
            // Persistent in the file; a no-op when it is already set.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let migrator = Migrator::new(EmbeddedMigrations).await?;
        migrator.run(&pool).await?;
        Ok(Self { pool, backend })
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; calls made afterwards fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`), so two writers queue on the busy
    /// timeout instead of failing when both try to upgrade a read lock.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

/// The backend a URL names.
fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// The migrations in `migrations/`, compiled in: a deployed binary needs no
/// files beside it.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "comuni",
        include_str!("../../migrations/0001_comuni.sql"),
    ),
    (
        2,
        "anagrafe",
        include_str!("../../migrations/0002_anagrafe.sql"),
    ),
    (
        3,
        "urbanistica",
        include_str!("../../migrations/0003_urbanistica.sql"),
    ),
    (
        4,
        "registry",
        include_str!("../../migrations/0004_registry.sql"),
    ),
    (
        5,
        "requests",
        include_str!("../../migrations/0005_requests.sql"),
    ),
    (
        6,
        "clause_amministrazione",
        include_str!("../../migrations/0006_clause_amministrazione.sql"),
    ),
    (
        7,
        "portal_sessions",
        include_str!("../../migrations/0007_portal_sessions.sql"),
    ),
    (
        8,
        "outbox",
        include_str!("../../migrations/0008_outbox.sql"),
    ),
    (
        9,
        "portal_logins",
        include_str!("../../migrations/0009_portal_logins.sql"),
    ),
    (10, "staff", include_str!("../../migrations/0010_staff.sql")),
    (
        11,
        "staff_pages",
        include_str!("../../migrations/0011_staff_pages.sql"),
    ),
    (
        12,
        "outbox_withdrawn",
        include_str!("../../migrations/0012_outbox_withdrawn.sql"),
    ),
];

/// The embedded migrations as sqlx's migrator reads them.
#[derive(Debug)]
struct EmbeddedMigrations;

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> Pin<
        Box<
            dyn Future<Output = Result<Vec<Migration>, Box<dyn std::error::Error + Send + Sync>>>
                + Send,
        >,
    > {
        let migrations = MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

// Conversions between model values and their stored form, shared by the
// submodules. Each names the table and column so a bad value is reported
// precisely.

/// A date as stored: `YYYY-MM-DD`.
fn date_text(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Parses a `YYYY-MM-DD` date.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// A time as stored: unix seconds.
fn unix(time: OffsetDateTime) -> i64 {
    time.unix_timestamp()
}

/// Reads a text column.
fn text(row: &AnyRow, table: &'static str, column: &'static str) -> Result<String, StoreError> {
    row.try_get(column)
        .map_err(|_| StoreError::Corrupt { table, column })
}

/// Reads a nullable text column.
fn opt_text(
    row: &AnyRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<String>, StoreError> {
    row.try_get(column)
        .map_err(|_| StoreError::Corrupt { table, column })
}

/// Reads an integer column.
fn int(row: &AnyRow, table: &'static str, column: &'static str) -> Result<i64, StoreError> {
    row.try_get(column)
        .map_err(|_| StoreError::Corrupt { table, column })
}

/// Reads a nullable integer column.
fn opt_int(
    row: &AnyRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<i64>, StoreError> {
    row.try_get(column)
        .map_err(|_| StoreError::Corrupt { table, column })
}

/// Reads a date column.
fn date(row: &AnyRow, table: &'static str, column: &'static str) -> Result<Date, StoreError> {
    parse_date(&text(row, table, column)?).ok_or(StoreError::Corrupt { table, column })
}

/// Reads a nullable date column.
fn opt_date(
    row: &AnyRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<Date>, StoreError> {
    opt_text(row, table, column)?
        .map(|text| parse_date(&text).ok_or(StoreError::Corrupt { table, column }))
        .transpose()
}

/// Reads a time column (unix seconds).
fn time_at(
    row: &AnyRow,
    table: &'static str,
    column: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(int(row, table, column)?)
        .map_err(|_| StoreError::Corrupt { table, column })
}

/// Reads a nullable time column (unix seconds).
fn opt_time_at(
    row: &AnyRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    opt_int(row, table, column)?
        .map(|secs| {
            OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|_| StoreError::Corrupt { table, column })
        })
        .transpose()
}

/// Reads a bytes column.
fn bytes(row: &AnyRow, table: &'static str, column: &'static str) -> Result<Vec<u8>, StoreError> {
    row.try_get(column)
        .map_err(|_| StoreError::Corrupt { table, column })
}

/// The uppercase form names are searched by.
fn search_key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// A `LIKE` pattern matching `text` literally, with `\` as the escape.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_round_trip_through_their_stored_form() {
        let day = date!(2026 - 02 - 28);
        assert_eq!(date_text(day), "2026-02-28");
        assert_eq!(parse_date("2026-02-28"), Some(day));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-2-28"), None);
        assert_eq!(parse_date("+026-02-28"), None);
    }

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(backend_of("sqlite:x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(
            backend_of("postgresql://u@h/d").ok(),
            Some(Backend::Postgres)
        );
        assert!(backend_of("mysql://u@h/d").is_err());
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_literal("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(search_key("  De  Luca   maria "), "DE LUCA MARIA");
    }
}
