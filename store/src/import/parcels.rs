//! The parcels importer: one row per parcel, plan and zone share
//! (`docs/import.md`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use seal::ComuneCode;

use super::people::require_comune;
use super::{
    CsvRow, Errors, ImportError, ImportPhase, ImportProgress, ImportSummary, Progress, read_csv,
};
use crate::model::{Constraint, Plan};
use crate::urbanistica::NTA_SEPARATOR;
use crate::{Store, StoreError};

/// The columns of a parcels file, in the order the documentation lists
/// them (files may order them freely).
pub const PARCEL_COLUMNS: &[&str] = &[
    "foglio",
    "particella",
    "subalterno",
    "superficie_m2",
    "piano",
    "zona_codice",
    "zona_nome",
    "zona_articoli_nta",
    "zona_usi",
    "quota_percentuale",
    "vincoli",
];

/// A parcel's key: foglio, particella, subalterno (`""` for none).
type ParcelKey = (String, String, String);

/// A checked row.
struct ParcelRow {
    line: u64,
    key: ParcelKey,
    area_m2: u32,
    plan: Plan,
    zone: ZoneDef,
    share_bp: u32,
    constraints: Vec<Constraint>,
}

/// A zone as a row defines it.
#[derive(Clone, PartialEq, Eq)]
struct ZoneDef {
    code: String,
    name: String,
    articles: Vec<String>,
    uses: String,
}

impl Store {
    /// Replaces the comune's parcels, zones and constraints with those in a
    /// CSV file (layout in `docs/import.md`), or writes nothing and reports
    /// every error. As [`Store::import_people`], reading is blocking.
    pub async fn import_parcels<R: Read + Send>(
        &self,
        comune: ComuneCode,
        reader: R,
        progress: Progress<'_>,
    ) -> Result<ImportSummary, ImportError> {
        require_comune(self, comune).await?;
        let rows = check_parcels(reader, progress)?;
        let records = write_parcels(self, comune, &rows, progress).await?;
        tracing::info!(
            comune = comune.as_str(),
            rows = rows.len(),
            records,
            "parcels imported"
        );
        Ok(ImportSummary {
            rows: rows.len() as u64,
            records,
        })
    }
}

fn check_parcels<R: Read>(
    reader: R,
    progress: Progress<'_>,
) -> Result<Vec<ParcelRow>, ImportError> {
    let mut errors = Errors::default();
    let (columns, records) = read_csv(reader, PARCEL_COLUMNS, &mut errors, progress)?;
    let rows: Vec<ParcelRow> = records
        .into_iter()
        .filter_map(|(line, record)| {
            let row = CsvRow {
                line,
                record,
                columns: &columns,
            };
            check_row(&row, &mut errors)
        })
        .collect();
    check_across_rows(&rows, &mut errors);
    if !errors.is_empty() {
        tracing::warn!(errors = errors.total, "parcels import rejected");
    }
    errors.into_result()?;
    Ok(rows)
}

fn check_row(row: &CsvRow<'_>, errors: &mut Errors) -> Option<ParcelRow> {
    let before = errors.total;
    let line = row.line;
    let identifier = |column: &'static str, text: &str, errors: &mut Errors| {
        if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            errors.push(line, Some(column), "usare solo lettere e cifre");
        }
    };
    let foglio = row.required("foglio", errors);
    let particella = row.required("particella", errors);
    let subalterno = row.optional("subalterno").unwrap_or_default();
    for (column, value) in [
        ("foglio", foglio.unwrap_or_default()),
        ("particella", particella.unwrap_or_default()),
        ("subalterno", subalterno),
    ] {
        identifier(column, value, errors);
    }
    let area = row
        .number("superficie_m2", 1..=i64::from(u32::MAX), errors)
        .and_then(|area| u32::try_from(area).ok());
    let plan = row.required("piano", errors).and_then(|text| {
        let plan = Plan::from_code(text);
        if plan.is_none() {
            errors.push(line, Some("piano"), "il piano è «vigente» o «adottato»");
        }
        plan
    });
    let code = row.required("zona_codice", errors);
    let name = row.required("zona_nome", errors);
    let articles: Vec<String> = row
        .required("zona_articoli_nta", errors)
        .map(|text| split_list(text).map(str::to_owned).collect())
        .unwrap_or_default();
    if row.optional("zona_articoli_nta").is_some() && articles.is_empty() {
        errors.push(
            line,
            Some("zona_articoli_nta"),
            "indicare almeno un articolo delle NTA",
        );
    }
    let uses = row.required("zona_usi", errors);
    let share =
        row.required("quota_percentuale", errors)
            .and_then(|text| match parse_share(text) {
                Some(share) => Some(share),
                None => {
                    errors.push(
                    line,
                    Some("quota_percentuale"),
                    format!(
                        "quota «{text}» non valida: una percentuale maggiore di 0 e fino a 100, \
                         al più due decimali"
                    ),
                );
                    None
                }
            });
    let constraints = parse_constraints(row.get("vincoli")).unwrap_or_else(|reason| {
        errors.push(line, Some("vincoli"), reason);
        Vec::new()
    });

    if errors.total != before {
        return None;
    }
    Some(ParcelRow {
        line,
        key: (
            foglio?.to_owned(),
            particella?.to_owned(),
            subalterno.to_owned(),
        ),
        area_m2: area?,
        plan: plan?,
        zone: ZoneDef {
            code: code?.to_owned(),
            name: name?.to_owned(),
            articles,
            uses: uses?.to_owned(),
        },
        share_bp: share?,
        constraints,
    })
}

/// The non-empty items of a `;`-separated list.
fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// A percentage with at most two decimals (`,` or `.`), in hundredths of a
/// percent: `62,5` → 6250. Must be above 0 and at most 100.
fn parse_share(text: &str) -> Option<u32> {
    let text = text.trim().trim_end_matches('%').trim();
    let (whole, fraction) = match text.split_once([',', '.']) {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = format!("{fraction:0<2}").parse().ok()?;
    let share = whole * 100 + fraction;
    (1..=10_000).contains(&share).then_some(share)
}

/// The `vincoli` field: `CODICE|descrizione|norma` items separated by `;`.
fn parse_constraints(text: &str) -> Result<Vec<Constraint>, String> {
    let mut constraints: Vec<Constraint> = Vec::new();
    for item in split_list(text) {
        let parts: Vec<&str> = item.split('|').map(str::trim).collect();
        let [code, description, norm] = parts[..] else {
            return Err(format!(
                "vincolo «{item}» non valido: usare CODICE|descrizione|norma, separati da ;"
            ));
        };
        if code.is_empty() || description.is_empty() || norm.is_empty() {
            return Err(format!(
                "vincolo «{item}»: codice, descrizione e norma sono obbligatori"
            ));
        }
        if constraints.iter().any(|known| known.code == code) {
            return Err(format!("vincolo {code} ripetuto"));
        }
        constraints.push(Constraint {
            code: code.to_owned(),
            description: description.to_owned(),
            norm: norm.to_owned(),
        });
    }
    Ok(constraints)
}

/// Checks that need several rows: each parcel has the same area and
/// constraints on every row, a zone at most once per plan, zoning under the
/// plan in force, and shares adding to 100% under each plan; each zone and
/// constraint code means the same on every row.
fn check_across_rows(rows: &[ParcelRow], errors: &mut Errors) {
    let mut parcels: BTreeMap<&ParcelKey, Vec<&ParcelRow>> = BTreeMap::new();
    for row in rows {
        parcels.entry(&row.key).or_default().push(row);
    }
    for (key, parcel_rows) in &parcels {
        let first = parcel_rows[0];
        let name = parcel_name(key);
        let mut seen: HashMap<(Plan, &str), u64> = HashMap::new();
        let mut sums: BTreeMap<&'static str, u32> = BTreeMap::new();
        for row in parcel_rows {
            if row.area_m2 != first.area_m2 {
                errors.push(
                    row.line,
                    Some("superficie_m2"),
                    format!(
                        "superficie diversa da quella della particella {name} alla riga {}",
                        first.line
                    ),
                );
            }
            if row.constraints != first.constraints {
                errors.push(
                    row.line,
                    Some("vincoli"),
                    format!(
                        "vincoli diversi da quelli della particella {name} alla riga {}",
                        first.line
                    ),
                );
            }
            if let Some(line) = seen.insert((row.plan, &row.zone.code), row.line) {
                errors.push(
                    row.line,
                    Some("zona_codice"),
                    format!(
                        "la zona {} del piano {} è già indicata alla riga {line}",
                        row.zone.code,
                        row.plan.code()
                    ),
                );
            }
            *sums.entry(row.plan.code()).or_default() += row.share_bp;
        }
        if !sums.contains_key(Plan::InForce.code()) {
            errors.push(
                first.line,
                Some("piano"),
                format!("manca la zonizzazione della particella {name} nel piano vigente"),
            );
        }
        for (plan, sum) in sums {
            if sum != 10_000 {
                errors.push(
                    first.line,
                    Some("quota_percentuale"),
                    format!(
                        "le quote della particella {name} nel piano {plan} sommano a {},{:02}% \
                         invece di 100%",
                        sum / 100,
                        sum % 100
                    ),
                );
            }
        }
    }

    let mut zones: HashMap<(Plan, &str), &ParcelRow> = HashMap::new();
    let mut constraints: HashMap<&str, (&Constraint, u64)> = HashMap::new();
    for row in rows {
        let first = *zones.entry((row.plan, &row.zone.code)).or_insert(row);
        if first.zone != row.zone {
            errors.push(
                row.line,
                Some("zona_codice"),
                format!(
                    "la zona {} del piano {} è descritta diversamente alla riga {}",
                    row.zone.code,
                    row.plan.code(),
                    first.line
                ),
            );
        }
        for constraint in &row.constraints {
            let (known, line) = *constraints
                .entry(&constraint.code)
                .or_insert((constraint, row.line));
            if known != constraint {
                errors.push(
                    row.line,
                    Some("vincoli"),
                    format!(
                        "il vincolo {} è descritto diversamente alla riga {line}",
                        constraint.code
                    ),
                );
            }
        }
    }
}

/// A parcel as messages name it: `foglio 3 particella 120 sub 2`.
fn parcel_name((foglio, particella, subalterno): &ParcelKey) -> String {
    if subalterno.is_empty() {
        format!("foglio {foglio} particella {particella}")
    } else {
        format!("foglio {foglio} particella {particella} sub {subalterno}")
    }
}

/// Deletes the comune's parcels, zones and constraints and writes the
/// checked rows, in one transaction; returns the database rows written.
async fn write_parcels(
    store: &Store,
    comune: ComuneCode,
    rows: &[ParcelRow],
    progress: Progress<'_>,
) -> Result<u64, StoreError> {
    const DELETES: [&str; 5] = [
        "DELETE FROM parcel_constraints WHERE comune = $1",
        "DELETE FROM parcel_zones WHERE comune = $1",
        "DELETE FROM parcels WHERE comune = $1",
        "DELETE FROM zones WHERE comune = $1",
        "DELETE FROM land_constraints WHERE comune = $1",
    ];
    let code = comune.as_str().to_owned();
    let mut tx = store.begin_write().await?;
    for sql in DELETES {
        sqlx::query(sql)
            .bind(code.clone())
            .execute(&mut *tx)
            .await?;
    }
    let mut records = 0u64;

    let mut zones: BTreeMap<(&str, &str), &ZoneDef> = BTreeMap::new();
    let mut constraints: BTreeMap<&str, &Constraint> = BTreeMap::new();
    for row in rows {
        zones
            .entry((row.plan.code(), &row.zone.code))
            .or_insert(&row.zone);
        for constraint in &row.constraints {
            constraints.entry(&constraint.code).or_insert(constraint);
        }
    }
    for ((plan, zone_code), zone) in &zones {
        sqlx::query(
            "INSERT INTO zones (comune, plan, code, name, nta_articles, permitted_uses) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code.clone())
        .bind(*plan)
        .bind((*zone_code).to_owned())
        .bind(zone.name.clone())
        .bind(zone.articles.join(&NTA_SEPARATOR.to_string()))
        .bind(zone.uses.clone())
        .execute(&mut *tx)
        .await?;
        records += 1;
    }
    for (constraint_code, constraint) in &constraints {
        sqlx::query(
            "INSERT INTO land_constraints (comune, code, description, norm) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(code.clone())
        .bind((*constraint_code).to_owned())
        .bind(constraint.description.clone())
        .bind(constraint.norm.clone())
        .execute(&mut *tx)
        .await?;
        records += 1;
    }

    let total = Some(rows.len() as u64);
    let mut written: HashSet<&ParcelKey> = HashSet::new();
    let mut positions: HashMap<(&ParcelKey, Plan), i64> = HashMap::new();
    for (done, row) in rows.iter().enumerate() {
        let (foglio, particella, subalterno) = &row.key;
        if written.insert(&row.key) {
            sqlx::query(
                "INSERT INTO parcels (comune, foglio, particella, subalterno, area_m2) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(code.clone())
            .bind(foglio.clone())
            .bind(particella.clone())
            .bind(subalterno.clone())
            .bind(i64::from(row.area_m2))
            .execute(&mut *tx)
            .await?;
            records += 1;
            for (position, constraint) in row.constraints.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO parcel_constraints (comune, foglio, particella, subalterno, \
                     constraint_code, position) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(code.clone())
                .bind(foglio.clone())
                .bind(particella.clone())
                .bind(subalterno.clone())
                .bind(constraint.code.clone())
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
                records += 1;
            }
        }
        let position = positions.entry((&row.key, row.plan)).or_insert(0);
        *position += 1;
        sqlx::query(
            "INSERT INTO parcel_zones (comune, foglio, particella, subalterno, plan, zone_code, \
             share_bp, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(code.clone())
        .bind(foglio.clone())
        .bind(particella.clone())
        .bind(subalterno.clone())
        .bind(row.plan.code())
        .bind(row.zone.code.clone())
        .bind(i64::from(row.share_bp))
        .bind(*position)
        .execute(&mut *tx)
        .await?;
        records += 1;
        progress(ImportProgress {
            phase: ImportPhase::Writing,
            done: done as u64 + 1,
            total,
        });
    }
    tx.commit().await?;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_read_as_hundredths_of_a_percent() {
        assert_eq!(parse_share("100"), Some(10_000));
        assert_eq!(parse_share("62,5"), Some(6_250));
        assert_eq!(parse_share("37.50"), Some(3_750));
        assert_eq!(parse_share("0,01%"), Some(1));
        assert_eq!(parse_share("0"), None);
        assert_eq!(parse_share("100,01"), None);
        assert_eq!(parse_share("12,345"), None);
        assert_eq!(parse_share("-5"), None);
        assert_eq!(parse_share("abc"), None);
    }

    #[test]
    fn constraints_are_code_description_norm_triples() {
        let parsed = parse_constraints(
            "PAES|Vincolo paesaggistico|D.Lgs. 42/2004 art. 142; IDRO|Vincolo idrogeologico|R.D.L. 3267/1923",
        )
        .expect("valid");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].norm, "R.D.L. 3267/1923");
        assert!(parse_constraints("PAES|Vincolo paesaggistico").is_err());
        assert!(parse_constraints("A|b|c;A|b|c").is_err());
        assert_eq!(parse_constraints(""), Ok(Vec::new()));
    }
}
