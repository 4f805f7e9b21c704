//! Shared set-up for the store's integration tests: a fresh database per
//! test — a temporary SQLite file always, and a fresh PostgreSQL schema too
//! when `SIGILLO_TEST_DATABASE_URL` is set — and builders for import files.
#![allow(dead_code, reason = "each test file uses only some of these helpers")]

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};

use seal::ComuneCode;
use sqlx::Connection as _;
use store::Store;
use store::cf;
use store::import::{PARCEL_COLUMNS, PEOPLE_COLUMNS};
use store::model::{BolloMode, ComuneRecord, Sex};
use time::macros::date;

/// The variable naming the PostgreSQL server for the tests.
pub(crate) const DATABASE_URL_VAR: &str = "SIGILLO_TEST_DATABASE_URL";

/// A store on a database of its own, removed when dropped.
pub(crate) struct TestDb {
    /// The store (dropped before the database it uses).
    pub(crate) store: Store,
    /// `sqlite` or `postgres`, for assertion messages.
    pub(crate) label: &'static str,
    /// The URL the store was opened with.
    pub(crate) url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres(PgSchema),
}

/// A schema created for one test, dropped with everything in it.
struct PgSchema {
    base_url: String,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.base_url.clone(), self.schema.clone());
        // Drop runs outside async context (and perhaps while a test panics):
        // a thread with its own runtime does the asynchronous cleanup.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let mut connection = sqlx::AnyConnection::connect(&url)
                    .await
                    .map_err(|error| error.to_string())?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut connection)
                    .await
                    .map_err(|error| error.to_string())?;
                Ok::<_, String>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let _ = writeln!(
                std::io::stderr(),
                "warning: test schema {} was not dropped",
                self.schema
            );
        }
    }
}

/// A fresh SQLite database in a temporary directory.
pub(crate) async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("test.db").display());
    let store = Store::connect(&url).await.expect("SQLite store");
    TestDb {
        store,
        label: "sqlite",
        url,
        _cleanup: Cleanup::Sqlite(dir),
    }
}

/// The PostgreSQL server's URL, if the tests should use one. Without it
/// the PostgreSQL half of a test is skipped, with the reason printed
/// straight to the terminal (past the test harness's capture); under
/// `CI=true` its absence fails the test.
pub(crate) fn postgres_url() -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|value| value == "true") {
                panic!(
                    "{DATABASE_URL_VAR} is not set, and CI=true requires PostgreSQL (.ci/run sets it)"
                );
            }
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {DATABASE_URL_VAR} not set; the PostgreSQL part of this test did not run"
            );
            None
        }
    }
}

/// A fresh schema on the PostgreSQL server, with a store whose
/// connections use it; `None` when no server is configured.
pub(crate) async fn postgres() -> Option<TestDb> {
    let base_url = postgres_url()?;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let schema = format!(
        "sigillo_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(&base_url)
        .await
        .expect("PostgreSQL at SIGILLO_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut connection)
        .await
        .expect("a test schema");
    let separator = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{separator}options=-csearch_path%3D{schema}");
    let cleanup = PgSchema { base_url, schema };
    let store = Store::connect(&url).await.expect("PostgreSQL store");
    Some(TestDb {
        store,
        label: "postgres",
        url,
        _cleanup: Cleanup::Postgres(cleanup),
    })
}

/// SQLite, and PostgreSQL when configured.
pub(crate) async fn databases() -> Vec<TestDb> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

/// The comune the tests use.
pub(crate) fn test_comune() -> ComuneRecord {
    ComuneRecord {
        code: ComuneCode::parse("999002").expect("valid code"),
        belfiore: "M998".into(),
        name: "Prova".into(),
        province: "XX".into(),
        creditor_fiscal_code: "99999999999".into(),
        verification_host: "certificati.prova.example".into(),
        bollo_mode: BolloMode::MarcaDigitale,
        bollo_cents: 1600,
        diritti_bollo_cents: 52,
        diritti_esente_cents: 26,
        demo: true,
        signer_kid: None,
    }
}

/// A store with the test comune configured.
pub(crate) async fn with_comune(db: &TestDb) -> ComuneCode {
    let comune = test_comune();
    db.store
        .upsert_comune(&comune)
        .await
        .expect("comune stored");
    comune.code
}

/// A row of a people file: the given fields, a codice fiscale computed
/// from them unless given, every other column empty.
pub(crate) fn person(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut row: Vec<(String, String)> = [
        ("sesso", "M"),
        ("data_nascita", "1980-05-17"),
        ("luogo_nascita", "ROMA (RM)"),
        ("codice_luogo_nascita", "H501"),
        ("cittadinanza", "ITALIANA"),
        ("stato_civile", "celibe-nubile"),
        ("posizione", "R"),
        ("certificabilita", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (key, value) in fields {
        set(&mut row, key, value);
    }
    if get(&row, "codice_fiscale").is_empty() {
        let code = cf::compute(
            get(&row, "cognome"),
            get(&row, "nome"),
            if get(&row, "sesso") == "F" {
                Sex::F
            } else {
                Sex::M
            },
            issuer_date(get(&row, "data_nascita")),
            get(&row, "codice_luogo_nascita"),
        )
        .expect("test data give a codice fiscale");
        set(&mut row, "codice_fiscale", code.as_str());
    }
    row
}

/// A family address for [`person`] rows.
pub(crate) const VIA_ROMA_1: &[(&str, &str)] = &[
    ("indirizzo_via", "VIA ROMA"),
    ("indirizzo_civico", "1"),
    ("indirizzo_cap", "99902"),
    ("indirizzo_localita", "PROVA"),
];

fn set(row: &mut Vec<(String, String)>, key: &str, value: &str) {
    match row.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_owned(),
        None => row.push((key.to_owned(), value.to_owned())),
    }
}

fn get<'a>(row: &'a [(String, String)], key: &str) -> &'a str {
    row.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn issuer_date(text: &str) -> time::Date {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format).unwrap_or(date!(1980 - 01 - 01))
}

/// A CSV file with `columns` as header and one line per row (missing
/// fields empty).
pub(crate) fn csv_file(columns: &[&str], rows: &[Vec<(String, String)>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns).expect("header");
    for row in rows {
        let record: Vec<&str> = columns.iter().map(|column| get(row, column)).collect();
        writer.write_record(&record).expect("row");
    }
    String::from_utf8(writer.into_inner().expect("flushed")).expect("UTF-8")
}

/// A people file.
pub(crate) fn people_csv(rows: &[Vec<(String, String)>]) -> String {
    csv_file(PEOPLE_COLUMNS, rows)
}

/// A row of a parcels file.
pub(crate) fn parcel(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut row: Vec<(String, String)> = [
        ("superficie_m2", "1000"),
        ("piano", "vigente"),
        ("zona_codice", "B1"),
        ("zona_nome", "Residenziale di completamento"),
        ("zona_articoli_nta", "art. 15"),
        ("zona_usi", "Residenza"),
        ("quota_percentuale", "100"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (key, value) in fields {
        set(&mut row, key, value);
    }
    row
}

/// A parcels file.
pub(crate) fn parcels_csv(rows: &[Vec<(String, String)>]) -> String {
    csv_file(PARCEL_COLUMNS, rows)
}

/// Joins field lists: `fields(&[a, b])` for [`person`].
pub(crate) fn fields<'a>(parts: &[&[(&'a str, &'a str)]]) -> Vec<(&'a str, &'a str)> {
    parts.iter().flat_map(|part| part.iter().copied()).collect()
}

/// A progress callback that ignores progress.
pub(crate) fn no_progress(_: store::ImportProgress) {}
