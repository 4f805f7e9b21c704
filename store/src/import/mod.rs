//! Importing a comune's registry and parcels from CSV files.
//!
//! Each importer reads the whole file, checks every row and the rows
//! against one another, and only then writes, in one transaction that first
//! deletes the comune's previous rows of that kind: a good file replaces
//! them, a file with any error writes nothing and returns every error found
//! (line, column, reason in Italian). The layouts are in `docs/import.md`.
//!
//! ```no_run
//! # async fn example(store: store::Store, comune: seal::ComuneCode)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use store::ImportError;
//!
//! let file = std::fs::File::open("people.csv")?;
//! match store.import_people(comune, file, &|_progress| {}).await {
//!     Ok(summary) => println!("{} righe importate", summary.rows),
//!     Err(ImportError::Rejected { errors, .. }) => {
//!         for error in errors {
//!             eprintln!("{error}");
//!         }
//!     }
//!     Err(other) => return Err(other.into()),
//! }
//! # Ok(()) }
//! ```

mod parcels;
mod people;

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use seal::ComuneCode;
use time::Date;

use super::{StoreError, parse_date};

pub use parcels::PARCEL_COLUMNS;
pub use people::PEOPLE_COLUMNS;

/// The most row errors an import reports; past that it counts them only.
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// One problem in an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The column, when the problem is in one field.
    pub column: Option<String>,
    /// What is wrong, in Italian.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "riga {}, colonna «{column}»: {}", self.line, self.reason),
            None => write!(f, "riga {}: {}", self.line, self.reason),
        }
    }
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file has errors: every one found is listed (up to
    /// [`MAX_REPORTED_ERRORS`]; `total` counts them all).
    #[error("il file contiene errori ({total} in tutto): non è stato importato nulla")]
    Rejected {
        /// The errors, in file order.
        errors: Vec<RowError>,
        /// How many errors there are in all.
        total: usize,
    },
    /// The comune is not configured.
    #[error("il comune {0} non è configurato")]
    UnknownComune(ComuneCode),
    /// The file could not be read.
    #[error("lettura del file non riuscita: {0}")]
    Read(#[source] std::io::Error),
    /// The database failed while writing; the transaction was rolled back.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows read from the file.
    pub rows: u64,
    /// Database rows written, across all tables.
    pub records: u64,
}

/// Which pass an import is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportPhase {
    /// Reading and checking rows.
    Checking,
    /// Writing the checked rows.
    Writing,
}

/// How far an import has got, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// The pass.
    pub phase: ImportPhase,
    /// Rows done in this pass.
    pub done: u64,
    /// Rows in all, once known (while writing).
    pub total: Option<u64>,
}

/// A progress callback; called once per row of each pass.
pub type Progress<'a> = &'a (dyn Fn(ImportProgress) + Sync);

/// Errors collected while checking a file.
#[derive(Debug, Default)]
struct Errors {
    list: Vec<RowError>,
    total: usize,
}

impl Errors {
    fn push(&mut self, line: u64, column: Option<&str>, reason: impl Into<String>) {
        self.total += 1;
        if self.list.len() < MAX_REPORTED_ERRORS {
            self.list.push(RowError {
                line,
                column: column.map(str::to_owned),
                reason: reason.into(),
            });
        }
    }

    fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn into_result(mut self) -> Result<(), ImportError> {
        if self.is_empty() {
            return Ok(());
        }
        self.list.sort_by_key(|error| error.line);
        Err(ImportError::Rejected {
            errors: self.list,
            total: self.total,
        })
    }
}

/// Where each known column is in a file.
type Columns = HashMap<&'static str, usize>;

/// A data row of a file, with its line.
struct CsvRow<'a> {
    line: u64,
    record: csv::StringRecord,
    columns: &'a Columns,
}

impl CsvRow<'_> {
    /// The field of `column`, trimmed ("" when the column is absent, which
    /// the header check rules out).
    fn get(&self, column: &str) -> &str {
        self.columns
            .get(column)
            .and_then(|&index| self.record.get(index))
            .map(str::trim)
            .unwrap_or_default()
    }

    /// The field, or `None` when empty.
    fn optional(&self, column: &str) -> Option<&str> {
        Some(self.get(column)).filter(|value| !value.is_empty())
    }

    /// The field, which must not be empty.
    fn required(&self, column: &'static str, errors: &mut Errors) -> Option<&str> {
        let value = self.optional(column);
        if value.is_none() {
            errors.push(self.line, Some(column), "campo obbligatorio vuoto");
        }
        value
    }

    /// A required date, `AAAA-MM-GG`, not after `today`.
    fn date(&self, column: &'static str, today: Date, errors: &mut Errors) -> Option<Date> {
        let text = self.required(column, errors)?;
        self.parse_date(column, text, today, errors)
    }

    /// An optional date, as [`CsvRow::date`].
    fn optional_date(
        &self,
        column: &'static str,
        today: Date,
        errors: &mut Errors,
    ) -> Result<Option<Date>, ()> {
        match self.optional(column) {
            None => Ok(None),
            Some(text) => self
                .parse_date(column, text, today, errors)
                .map(Some)
                .ok_or(()),
        }
    }

    fn parse_date(
        &self,
        column: &'static str,
        text: &str,
        today: Date,
        errors: &mut Errors,
    ) -> Option<Date> {
        match parse_date(text) {
            None => {
                errors.push(
                    self.line,
                    Some(column),
                    format!("data non valida «{text}»: usare AAAA-MM-GG"),
                );
                None
            }
            Some(date) if date > today => {
                errors.push(self.line, Some(column), "la data è nel futuro");
                None
            }
            Some(date) => Some(date),
        }
    }

    /// A required whole number in `range`.
    fn number(
        &self,
        column: &'static str,
        range: std::ops::RangeInclusive<i64>,
        errors: &mut Errors,
    ) -> Option<i64> {
        let text = self.required(column, errors)?;
        self.parse_number(column, text, range, errors)
    }

    /// An optional whole number in `range`.
    fn optional_number(
        &self,
        column: &'static str,
        range: std::ops::RangeInclusive<i64>,
        errors: &mut Errors,
    ) -> Result<Option<i64>, ()> {
        match self.optional(column) {
            None => Ok(None),
            Some(text) => self
                .parse_number(column, text, range, errors)
                .map(Some)
                .ok_or(()),
        }
    }

    fn parse_number(
        &self,
        column: &'static str,
        text: &str,
        range: std::ops::RangeInclusive<i64>,
        errors: &mut Errors,
    ) -> Option<i64> {
        let parsed = text
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse::<i64>().ok())
            .flatten()
            .filter(|n| range.contains(n));
        if parsed.is_none() {
            errors.push(
                self.line,
                Some(column),
                format!(
                    "«{text}» non è un numero intero tra {} e {}",
                    range.start(),
                    range.end()
                ),
            );
        }
        parsed
    }

    /// Requires `columns` to be all empty (they only apply in another case,
    /// which `why` names).
    fn require_empty(&self, columns: &[&'static str], why: &str, errors: &mut Errors) {
        for column in columns {
            if self.optional(column).is_some() {
                errors.push(
                    self.line,
                    Some(column),
                    format!("il campo deve essere vuoto {why}"),
                );
            }
        }
    }
}

/// Reads a whole CSV file whose header must name exactly `expected`
/// columns (in any order). Rows that cannot be read are reported in
/// `errors` and left out.
fn read_csv<R: Read>(
    reader: R,
    expected: &'static [&'static str],
    errors: &mut Errors,
    progress: Progress<'_>,
) -> Result<(Columns, Vec<(u64, csv::StringRecord)>), ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let headers = match csv.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => return Err(fatal(error, errors)),
    };
    let mut columns = HashMap::new();
    for (index, name) in headers.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        match expected.iter().find(|known| **known == name) {
            Some(known) if columns.contains_key(known) => {
                errors.push(1, Some(name), "colonna ripetuta nell'intestazione");
            }
            Some(known) => {
                columns.insert(*known, index);
            }
            None => errors.push(1, Some(name), "colonna sconosciuta"),
        }
    }
    for known in expected {
        if !columns.contains_key(known) {
            errors.push(1, Some(known), "colonna mancante nell'intestazione");
        }
    }
    if !errors.is_empty() {
        // Without a sound header no row can be read reliably.
        return Ok((columns, Vec::new()));
    }
    let mut rows = Vec::new();
    for result in csv.records() {
        match result {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                rows.push((line, record));
                progress(ImportProgress {
                    phase: ImportPhase::Checking,
                    done: rows.len() as u64,
                    total: None,
                });
            }
            Err(error) => match error.kind() {
                csv::ErrorKind::Io(_) => return Err(fatal(error, errors)),
                _ => {
                    let line = error.position().map_or(0, csv::Position::line);
                    errors.push(line, None, csv_reason(&error));
                }
            },
        }
    }
    if rows.is_empty() && errors.is_empty() {
        // Importing nothing would empty the comune's data: surely a mistake.
        errors.push(2, None, "il file non contiene righe di dati");
    }
    Ok((columns, rows))
}

/// An error that stops reading: I/O, or a header that is not text.
fn fatal(error: csv::Error, errors: &mut Errors) -> ImportError {
    let reason = csv_reason(&error);
    match error.into_kind() {
        csv::ErrorKind::Io(io) => ImportError::Read(io),
        _ => {
            errors.push(1, None, reason);
            ImportError::Rejected {
                errors: std::mem::take(&mut errors.list),
                total: errors.total,
            }
        }
    }
}

/// A CSV reading error in Italian, without the row's content.
fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "la riga non è testo UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("la riga ha {len} campi invece di {expected_len}"),
        _ => "riga non leggibile come CSV".to_owned(),
    }
}

/// Today's date, for refusing dates in the future.
fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}
