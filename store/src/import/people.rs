//! The registry importer: one row per person (`docs/import.md`).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use seal::{CodiceFiscale, ComuneCode};
use time::Date;

use super::{
    CsvRow, Errors, ImportError, ImportPhase, ImportProgress, ImportSummary, Progress, read_csv,
    today,
};
use crate::anpr;
use crate::cf;
use crate::model::{Address, Certifiability, CivilStatus, Sex, UnionKind};
use crate::{Store, StoreError, date_text, search_key};

/// The columns of a people file, in the order the documentation lists
/// them (files may order them freely).
pub const PEOPLE_COLUMNS: &[&str] = &[
    "id",
    "codice_fiscale",
    "cognome",
    "nome",
    "sesso",
    "data_nascita",
    "luogo_nascita",
    "codice_luogo_nascita",
    "cittadinanza",
    "stato_civile",
    "posizione",
    "aire_paese",
    "aire_indirizzo",
    "aire_data_iscrizione",
    "cancellazione_data",
    "cancellazione_motivo",
    "famiglia_id",
    "convivenza_id",
    "convivenza_nome",
    "relazione",
    "indirizzo_via",
    "indirizzo_civico",
    "indirizzo_interno",
    "indirizzo_cap",
    "indirizzo_localita",
    "certificabilita",
    "data_decesso",
    "unione_tipo",
    "unione_partner",
    "unione_data",
    "unione_luogo",
    "unione_fine",
    "procedimento",
    "procedimento_data",
];

const ADDRESS_COLUMNS: [&str; 5] = [
    "indirizzo_via",
    "indirizzo_civico",
    "indirizzo_interno",
    "indirizzo_cap",
    "indirizzo_localita",
];

/// A checked person row.
struct PersonRow {
    line: u64,
    id: i64,
    fiscal_code: CodiceFiscale,
    surname: String,
    given_names: String,
    sex: Sex,
    birth_date: Date,
    birth_place: String,
    birth_place_code: String,
    citizenship: String,
    civil_status: CivilStatus,
    registration: Registration,
    family_id: Option<i64>,
    convivenza: Option<(i64, String)>,
    relationship: Option<u16>,
    address: Option<Address>,
    certifiability: Certifiability,
    death_date: Option<Date>,
    union: Option<UnionRow>,
    procedure: Option<(String, Date)>,
}

/// The registration columns of a row.
#[derive(Clone, PartialEq, Eq)]
enum Registration {
    Resident,
    Aire {
        country: String,
        address: String,
        registered_on: Date,
    },
    Cancelled {
        on: Date,
        reason: String,
    },
}

impl Registration {
    fn code(&self) -> &'static str {
        match self {
            Self::Resident => "R",
            Self::Aire { .. } => "A",
            Self::Cancelled { .. } => "C",
        }
    }
}

struct UnionRow {
    kind: UnionKind,
    partner: String,
    date: Date,
    place: String,
    ended_on: Option<Date>,
}

impl Store {
    /// Replaces the comune's registry with the people in a CSV file
    /// (layout in `docs/import.md`), or writes nothing and reports every
    /// error. The file is read and checked before anything is written;
    /// reading is blocking, so a server should call this from a blocking
    /// task or hand it data already in memory.
    pub async fn import_people<R: Read + Send>(
        &self,
        comune: ComuneCode,
        reader: R,
        progress: Progress<'_>,
    ) -> Result<ImportSummary, ImportError> {
        require_comune(self, comune).await?;
        let rows = check_people(reader, progress)?;
        let records = write_people(self, comune, &rows, progress).await?;
        tracing::info!(
            comune = comune.as_str(),
            rows = rows.len(),
            records,
            "registry imported"
        );
        Ok(ImportSummary {
            rows: rows.len() as u64,
            records,
        })
    }
}

/// Maps a missing comune to the importer's own error.
pub(super) async fn require_comune(store: &Store, comune: ComuneCode) -> Result<(), ImportError> {
    store
        .require_comune(comune)
        .await
        .map_err(|error| match error {
            StoreError::UnknownComune(code) => ImportError::UnknownComune(code),
            other => ImportError::Store(other),
        })
}

/// Reads and checks a whole people file.
fn check_people<R: Read>(reader: R, progress: Progress<'_>) -> Result<Vec<PersonRow>, ImportError> {
    let mut errors = Errors::default();
    let (columns, records) = read_csv(reader, PEOPLE_COLUMNS, &mut errors, progress)?;
    let today = today();
    let rows: Vec<PersonRow> = records
        .into_iter()
        .filter_map(|(line, record)| {
            let row = CsvRow {
                line,
                record,
                columns: &columns,
            };
            check_row(&row, today, &mut errors)
        })
        .collect();
    check_across_rows(&rows, &mut errors);
    if !errors.is_empty() {
        tracing::warn!(errors = errors.total, "registry import rejected");
    }
    errors.into_result()?;
    Ok(rows)
}

/// Checks one row on its own; `None` when any field is wrong (each wrong
/// field is reported).
fn check_row(row: &CsvRow<'_>, today: Date, errors: &mut Errors) -> Option<PersonRow> {
    let before = errors.total;
    let line = row.line;

    let id = row.number("id", 1..=i64::MAX, errors);
    let surname = row.required("cognome", errors).map(str::to_owned);
    let given_names = row.required("nome", errors).map(str::to_owned);
    let sex = row.required("sesso", errors).and_then(|text| {
        let sex = Sex::from_code(&text.to_ascii_uppercase());
        if sex.is_none() {
            errors.push(line, Some("sesso"), "usare M oppure F");
        }
        sex
    });
    let birth_date = row.date("data_nascita", today, errors);
    let birth_place = row.required("luogo_nascita", errors).map(str::to_owned);
    let birth_place_code = row
        .required("codice_luogo_nascita", errors)
        .and_then(|text| {
            let code = text.to_ascii_uppercase();
            let ok = code.len() == 4
                && code.as_bytes()[0].is_ascii_uppercase()
                && code.as_bytes()[1..].iter().all(u8::is_ascii_digit);
            if !ok {
                errors.push(
                    line,
                    Some("codice_luogo_nascita"),
                    "il codice catastale è una lettera seguita da tre cifre (Z per gli stati esteri)",
                );
            }
            ok.then_some(code)
        });
    let fiscal_code =
        row.required("codice_fiscale", errors)
            .and_then(|text| match CodiceFiscale::parse(text) {
                Ok(code) => Some(code),
                Err(error) => {
                    errors.push(line, Some("codice_fiscale"), error.to_string());
                    None
                }
            });
    if let (Some(code), Some(surname), Some(given), Some(sex), Some(born), Some(place)) = (
        &fiscal_code,
        &surname,
        &given_names,
        sex,
        birth_date,
        &birth_place_code,
    ) && let Err(mismatch) = cf::check(code, surname, given, sex, born, place)
    {
        errors.push(line, Some("codice_fiscale"), mismatch.to_string());
    }
    let citizenship = row.required("cittadinanza", errors).map(str::to_owned);
    let civil_status = row.required("stato_civile", errors).and_then(|text| {
        let status = CivilStatus::from_code(text);
        if status.is_none() {
            let known: Vec<&str> = CivilStatus::ALL.iter().map(|s| s.code()).collect();
            errors.push(
                line,
                Some("stato_civile"),
                format!(
                    "stato civile sconosciuto; valori ammessi: {}",
                    known.join(", ")
                ),
            );
        }
        status
    });

    let registration = check_registration(row, today, errors);
    let family_id = row
        .optional_number("famiglia_id", 1..=i64::MAX, errors)
        .unwrap_or_default();
    let convivenza_id = row
        .optional_number("convivenza_id", 1..=i64::MAX, errors)
        .unwrap_or_default();
    let convivenza = match convivenza_id {
        Some(id) => row
            .required("convivenza_nome", errors)
            .map(|name| (id, name.to_owned())),
        None => {
            row.require_empty(&["convivenza_nome"], "senza convivenza_id", errors);
            None
        }
    };
    if family_id.is_some() && convivenza_id.is_some() {
        errors.push(
            line,
            Some("convivenza_id"),
            "una persona appartiene a una famiglia o a una convivenza, non a entrambe",
        );
    }
    let relationship = check_relationship(row, family_id, convivenza_id, errors);
    if matches!(registration, Some(Registration::Cancelled { .. }))
        && (family_id.is_some() || convivenza_id.is_some())
    {
        errors.push(
            line,
            Some("posizione"),
            "una persona cancellata non può appartenere a una famiglia o a una convivenza",
        );
    }
    let address = check_address(row, family_id.is_some() || convivenza_id.is_some(), errors);

    let certifiability = row
        .number("certificabilita", 0..=4, errors)
        .and_then(|code| u8::try_from(code).ok())
        .and_then(Certifiability::from_code);
    let death_date = row
        .optional_date("data_decesso", today, errors)
        .unwrap_or_default();
    if let (Some(died), Some(born)) = (death_date, birth_date)
        && died < born
    {
        errors.push(
            line,
            Some("data_decesso"),
            "la data di decesso precede la data di nascita",
        );
    }
    let union = check_union(row, birth_date, today, errors);
    let procedure = match row.optional("procedimento") {
        Some(description) => row
            .date("procedimento_data", today, errors)
            .map(|opened| (description.to_owned(), opened)),
        None => {
            row.require_empty(&["procedimento_data"], "senza procedimento", errors);
            None
        }
    };

    if errors.total != before {
        return None;
    }
    Some(PersonRow {
        line,
        id: id?,
        fiscal_code: fiscal_code?,
        surname: surname?,
        given_names: given_names?,
        sex: sex?,
        birth_date: birth_date?,
        birth_place: birth_place?,
        birth_place_code: birth_place_code?,
        citizenship: citizenship?,
        civil_status: civil_status?,
        registration: registration?,
        family_id,
        convivenza,
        relationship,
        address,
        certifiability: certifiability?,
        death_date,
        union: union.ok()?,
        procedure,
    })
}

fn check_registration(row: &CsvRow<'_>, today: Date, errors: &mut Errors) -> Option<Registration> {
    const AIRE: [&str; 3] = ["aire_paese", "aire_indirizzo", "aire_data_iscrizione"];
    const CANCELLATION: [&str; 2] = ["cancellazione_data", "cancellazione_motivo"];
    match row.required("posizione", errors)? {
        "R" => {
            row.require_empty(&AIRE, "per un residente", errors);
            row.require_empty(&CANCELLATION, "per un residente", errors);
            Some(Registration::Resident)
        }
        "A" => {
            row.require_empty(&CANCELLATION, "per un iscritto AIRE", errors);
            let country = row.required("aire_paese", errors);
            let address = row.required("aire_indirizzo", errors);
            let registered_on = row.date("aire_data_iscrizione", today, errors);
            Some(Registration::Aire {
                country: country?.to_owned(),
                address: address?.to_owned(),
                registered_on: registered_on?,
            })
        }
        "C" => {
            row.require_empty(&AIRE, "per una persona cancellata", errors);
            let on = row.date("cancellazione_data", today, errors);
            let reason = row.required("cancellazione_motivo", errors);
            Some(Registration::Cancelled {
                on: on?,
                reason: reason?.to_owned(),
            })
        }
        other => {
            errors.push(
                row.line,
                Some("posizione"),
                format!(
                    "posizione «{other}» sconosciuta: R (residente), A (AIRE) o C (cancellato)"
                ),
            );
            None
        }
    }
}

fn check_relationship(
    row: &CsvRow<'_>,
    family_id: Option<i64>,
    convivenza_id: Option<i64>,
    errors: &mut Errors,
) -> Option<u16> {
    let line = row.line;
    if family_id.is_none() && convivenza_id.is_none() {
        row.require_empty(&["relazione"], "senza famiglia né convivenza", errors);
        return None;
    }
    let code = u16::try_from(row.number("relazione", 0..=999, errors)?).ok()?;
    if anpr::relationship(code).is_none() {
        errors.push(
            line,
            Some("relazione"),
            format!("codice di relazione di parentela {code} sconosciuto (tabella ANPR)"),
        );
        return None;
    }
    let in_convivenza_code = matches!(code, anpr::CONVIVENZA_RESPONSIBLE | anpr::CONVIVENZA_MEMBER);
    if convivenza_id.is_some() && !in_convivenza_code {
        errors.push(
            line,
            Some("relazione"),
            "in una convivenza la relazione è 24 (responsabile) o 25 (convivente)",
        );
        return None;
    }
    if family_id.is_some() && in_convivenza_code {
        errors.push(
            line,
            Some("relazione"),
            "i codici 24 e 25 valgono solo per le convivenze",
        );
        return None;
    }
    Some(code)
}

/// The address columns: all empty, or street, number, postcode and
/// locality given (unit optional). Only people in a family or convivenza
/// may have one.
fn check_address(row: &CsvRow<'_>, belongs: bool, errors: &mut Errors) -> Option<Address> {
    if ADDRESS_COLUMNS.iter().all(|c| row.optional(c).is_none()) {
        return None;
    }
    if !belongs {
        row.require_empty(&ADDRESS_COLUMNS, "senza famiglia né convivenza", errors);
        return None;
    }
    let street = row.required("indirizzo_via", errors);
    let number = row.required("indirizzo_civico", errors);
    let postcode = row.required("indirizzo_cap", errors);
    let locality = row.required("indirizzo_localita", errors);
    if let Some(cap) = postcode
        && (cap.len() != 5 || !cap.bytes().all(|b| b.is_ascii_digit()))
    {
        errors.push(row.line, Some("indirizzo_cap"), "il CAP è di 5 cifre");
    }
    Some(Address {
        street: street?.to_owned(),
        number: number?.to_owned(),
        unit: row.optional("indirizzo_interno").map(str::to_owned),
        postcode: postcode?.to_owned(),
        locality: locality?.to_owned(),
    })
}

fn check_union(
    row: &CsvRow<'_>,
    birth_date: Option<Date>,
    today: Date,
    errors: &mut Errors,
) -> Result<Option<UnionRow>, ()> {
    const DETAILS: [&str; 4] = [
        "unione_partner",
        "unione_data",
        "unione_luogo",
        "unione_fine",
    ];
    let line = row.line;
    let Some(kind_text) = row.optional("unione_tipo") else {
        row.require_empty(&DETAILS, "senza unione_tipo", errors);
        return Ok(None);
    };
    let kind = UnionKind::from_code(kind_text);
    if kind.is_none() {
        errors.push(
            line,
            Some("unione_tipo"),
            "tipo di unione sconosciuto: matrimonio, unione-civile o contratto-convivenza",
        );
    }
    let partner = row.required("unione_partner", errors);
    let date = row.date("unione_data", today, errors);
    let place = row.required("unione_luogo", errors);
    let ended_on = row.optional_date("unione_fine", today, errors)?;
    if let (Some(date), Some(born)) = (date, birth_date)
        && date < born
    {
        errors.push(
            line,
            Some("unione_data"),
            "la data dell'unione precede la data di nascita",
        );
    }
    if let (Some(date), Some(ended)) = (date, ended_on)
        && ended < date
    {
        errors.push(
            line,
            Some("unione_fine"),
            "la fine dell'unione precede il suo inizio",
        );
    }
    match (kind, partner, date, place) {
        (Some(kind), Some(partner), Some(date), Some(place)) => Ok(Some(UnionRow {
            kind,
            partner: partner.to_owned(),
            date,
            place: place.to_owned(),
            ended_on,
        })),
        _ => Err(()),
    }
}

/// Checks that need several rows: unique ids and fiscal codes, one head
/// per family and one responsible per convivenza, the same address (and
/// name) on every row of a family or convivenza, families either all
/// resident (with an address) or all abroad (without one).
fn check_across_rows(rows: &[PersonRow], errors: &mut Errors) {
    let mut ids: HashMap<i64, u64> = HashMap::new();
    let mut codes: HashMap<String, u64> = HashMap::new();
    for row in rows {
        if let Some(first) = ids.insert(row.id, row.line) {
            errors.push(
                row.line,
                Some("id"),
                format!("id già usato alla riga {first}"),
            );
        }
        // Omocodia variants are distinct codes of distinct people.
        if let Some(first) = codes.insert(row.fiscal_code.as_str().to_owned(), row.line) {
            errors.push(
                row.line,
                Some("codice_fiscale"),
                format!("codice fiscale già usato alla riga {first}"),
            );
        }
    }

    let mut families: BTreeMap<i64, Vec<&PersonRow>> = BTreeMap::new();
    let mut convivenze: BTreeMap<i64, Vec<&PersonRow>> = BTreeMap::new();
    for row in rows {
        if let Some(family) = row.family_id {
            families.entry(family).or_default().push(row);
        }
        if let Some((convivenza, _)) = &row.convivenza {
            convivenze.entry(*convivenza).or_default().push(row);
        }
    }
    for (id, members) in &families {
        let first = members[0];
        let heads: Vec<u64> = members
            .iter()
            .filter(|m| m.relationship == Some(anpr::HEAD_OF_FAMILY))
            .map(|m| m.line)
            .collect();
        if heads.len() > 1 {
            for line in &heads[1..] {
                errors.push(
                    *line,
                    Some("relazione"),
                    format!(
                        "la famiglia {id} ha già un intestatario (riga {})",
                        heads[0]
                    ),
                );
            }
        }
        let abroad = matches!(first.registration, Registration::Aire { .. });
        for member in members {
            let member_abroad = matches!(member.registration, Registration::Aire { .. });
            if member_abroad != abroad {
                errors.push(
                    member.line,
                    Some("posizione"),
                    format!(
                        "i componenti della famiglia {id} devono essere tutti residenti o tutti AIRE"
                    ),
                );
            }
            if member.address != first.address {
                errors.push(
                    member.line,
                    Some("indirizzo_via"),
                    format!(
                        "indirizzo diverso da quello della famiglia {id} alla riga {}",
                        first.line
                    ),
                );
            }
        }
        if abroad && first.address.is_some() {
            errors.push(
                first.line,
                Some("indirizzo_via"),
                "una famiglia AIRE non ha indirizzo nel comune: l'indirizzo estero va in aire_indirizzo",
            );
        }
        if !abroad && first.address.is_none() {
            errors.push(
                first.line,
                Some("indirizzo_via"),
                format!("manca l'indirizzo della famiglia {id}"),
            );
        }
    }
    for (id, members) in &convivenze {
        let first = members[0];
        let responsible: Vec<u64> = members
            .iter()
            .filter(|m| m.relationship == Some(anpr::CONVIVENZA_RESPONSIBLE))
            .map(|m| m.line)
            .collect();
        for line in responsible.iter().skip(1) {
            errors.push(
                *line,
                Some("relazione"),
                format!(
                    "la convivenza {id} ha già un responsabile (riga {})",
                    responsible[0]
                ),
            );
        }
        if first.address.is_none() {
            errors.push(
                first.line,
                Some("indirizzo_via"),
                format!("manca l'indirizzo della convivenza {id}"),
            );
        }
        for member in members {
            if member.convivenza != first.convivenza {
                errors.push(
                    member.line,
                    Some("convivenza_nome"),
                    format!(
                        "nome diverso da quello della convivenza {id} alla riga {}",
                        first.line
                    ),
                );
            }
            if member.address != first.address {
                errors.push(
                    member.line,
                    Some("indirizzo_via"),
                    format!(
                        "indirizzo diverso da quello della convivenza {id} alla riga {}",
                        first.line
                    ),
                );
            }
            if member.registration != Registration::Resident {
                errors.push(
                    member.line,
                    Some("posizione"),
                    "chi vive in una convivenza è residente (R)",
                );
            }
        }
    }
}

/// Deletes the comune's registry and writes the checked rows, in one
/// transaction; returns the number of database rows written.
async fn write_people(
    store: &Store,
    comune: ComuneCode,
    rows: &[PersonRow],
    progress: Progress<'_>,
) -> Result<u64, StoreError> {
    const DELETES: [&str; 10] = [
        "DELETE FROM open_procedures WHERE comune = $1",
        "DELETE FROM unions WHERE comune = $1",
        "DELETE FROM deaths WHERE comune = $1",
        "DELETE FROM aire_registrations WHERE comune = $1",
        "DELETE FROM convivenza_members WHERE comune = $1",
        "DELETE FROM family_members WHERE comune = $1",
        "DELETE FROM convivenze WHERE comune = $1",
        "DELETE FROM families WHERE comune = $1",
        "DELETE FROM people WHERE comune = $1",
        "DELETE FROM addresses WHERE comune = $1",
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

    // Addresses get ids in the order first met; equal addresses share one.
    let mut address_ids: HashMap<&Address, i64> = HashMap::new();
    for address in rows.iter().filter_map(|row| row.address.as_ref()) {
        if address_ids.contains_key(address) {
            continue;
        }
        let id = address_ids.len() as i64 + 1;
        address_ids.insert(address, id);
        sqlx::query(
            "INSERT INTO addresses (comune, id, street, number, unit, postcode, locality) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(code.clone())
        .bind(id)
        .bind(address.street.clone())
        .bind(address.number.clone())
        .bind(address.unit.clone())
        .bind(address.postcode.clone())
        .bind(address.locality.clone())
        .execute(&mut *tx)
        .await?;
        records += 1;
    }
    let address_id = |address: &Option<Address>| {
        address
            .as_ref()
            .and_then(|address| address_ids.get(address).copied())
    };

    let total = Some(rows.len() as u64);
    let mut union_id = 0i64;
    let mut procedure_id = 0i64;
    for (done, row) in rows.iter().enumerate() {
        let (cancelled_on, cancellation_reason) = match &row.registration {
            Registration::Cancelled { on, reason } => (Some(date_text(*on)), Some(reason.clone())),
            _ => (None, None),
        };
        sqlx::query(
            "INSERT INTO people (comune, id, fiscal_code, surname, given_names, sex, \
             birth_date, birth_place, birth_place_code, citizenship, civil_status, \
             registration, cancelled_on, cancellation_reason, certifiability, name_key, \
             name_key_reversed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(code.clone())
        .bind(row.id)
        .bind(row.fiscal_code.as_str().to_owned())
        .bind(row.surname.clone())
        .bind(row.given_names.clone())
        .bind(row.sex.code())
        .bind(date_text(row.birth_date))
        .bind(row.birth_place.clone())
        .bind(row.birth_place_code.clone())
        .bind(row.citizenship.clone())
        .bind(row.civil_status.code())
        .bind(row.registration.code())
        .bind(cancelled_on)
        .bind(cancellation_reason)
        .bind(i64::from(row.certifiability.code()))
        .bind(search_key(&format!("{} {}", row.surname, row.given_names)))
        .bind(search_key(&format!("{} {}", row.given_names, row.surname)))
        .execute(&mut *tx)
        .await?;
        records += 1;
        if let Registration::Aire {
            country,
            address,
            registered_on,
        } = &row.registration
        {
            sqlx::query(
                "INSERT INTO aire_registrations (comune, person_id, country, address_abroad, \
                 registered_on) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(code.clone())
            .bind(row.id)
            .bind(country.clone())
            .bind(address.clone())
            .bind(date_text(*registered_on))
            .execute(&mut *tx)
            .await?;
            records += 1;
        }
        if let Some(died) = row.death_date {
            sqlx::query("INSERT INTO deaths (comune, person_id, died_on) VALUES ($1, $2, $3)")
                .bind(code.clone())
                .bind(row.id)
                .bind(date_text(died))
                .execute(&mut *tx)
                .await?;
            records += 1;
        }
        if let Some(union) = &row.union {
            union_id += 1;
            sqlx::query(
                "INSERT INTO unions (comune, id, person_id, kind, partner_name, celebrated_on, \
                 place, ended_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(code.clone())
            .bind(union_id)
            .bind(row.id)
            .bind(union.kind.code())
            .bind(union.partner.clone())
            .bind(date_text(union.date))
            .bind(union.place.clone())
            .bind(union.ended_on.map(date_text))
            .execute(&mut *tx)
            .await?;
            records += 1;
        }
        if let Some((description, opened_on)) = &row.procedure {
            procedure_id += 1;
            sqlx::query(
                "INSERT INTO open_procedures (comune, id, person_id, description, opened_on) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(code.clone())
            .bind(procedure_id)
            .bind(row.id)
            .bind(description.clone())
            .bind(date_text(*opened_on))
            .execute(&mut *tx)
            .await?;
            records += 1;
        }
        progress(ImportProgress {
            phase: ImportPhase::Writing,
            done: done as u64 + 1,
            total,
        });
    }

    let mut families: BTreeMap<i64, Option<i64>> = BTreeMap::new();
    let mut convivenze: BTreeMap<i64, (&str, Option<i64>, Option<i64>)> = BTreeMap::new();
    for row in rows {
        if let Some(family) = row.family_id {
            families.entry(family).or_insert(address_id(&row.address));
        }
        if let Some((convivenza, name)) = &row.convivenza {
            let entry = convivenze.entry(*convivenza).or_insert((
                name.as_str(),
                address_id(&row.address),
                None,
            ));
            if row.relationship == Some(anpr::CONVIVENZA_RESPONSIBLE) {
                entry.2 = Some(row.id);
            }
        }
    }
    for (id, address) in &families {
        sqlx::query("INSERT INTO families (comune, id, address_id) VALUES ($1, $2, $3)")
            .bind(code.clone())
            .bind(*id)
            .bind(*address)
            .execute(&mut *tx)
            .await?;
        records += 1;
    }
    for (id, (name, address, head)) in &convivenze {
        sqlx::query(
            "INSERT INTO convivenze (comune, id, name, address_id, head_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code.clone())
        .bind(*id)
        .bind((*name).to_owned())
        .bind(*address)
        .bind(*head)
        .execute(&mut *tx)
        .await?;
        records += 1;
    }
    for row in rows {
        let relationship = row.relationship.map(i64::from);
        if let Some(family) = row.family_id {
            sqlx::query(
                "INSERT INTO family_members (comune, family_id, person_id, relationship) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(code.clone())
            .bind(family)
            .bind(row.id)
            .bind(relationship)
            .execute(&mut *tx)
            .await?;
            records += 1;
        }
        if let Some((convivenza, _)) = &row.convivenza {
            sqlx::query(
                "INSERT INTO convivenza_members (comune, convivenza_id, person_id, relationship) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(code.clone())
            .bind(*convivenza)
            .bind(row.id)
            .bind(relationship)
            .execute(&mut *tx)
            .await?;
            records += 1;
        }
    }
    tx.commit().await?;
    Ok(records)
}
