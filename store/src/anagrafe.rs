//! Reading the registry: people, families, convivenze, addresses, unions
//! and open procedures. Writing happens only through the importer.

use seal::{CodiceFiscale, ComuneCode};
use sqlx::any::AnyRow;

use super::{
    Store, StoreError, date, int, like_literal, opt_date, opt_int, opt_text, search_key, text,
};
use crate::model::{
    Address, AireRegistration, Certifiability, CivilStatus, Convivenza, Family, OpenProcedure,
    Person, Registration, Sex, UnionKind, UnionRecord,
};

/// The most people one search returns.
pub const MAX_SEARCH_RESULTS: u32 = 500;

/// A person with everything `person_from_row` reads, joined from the
/// tables that hold their family, convivenza, AIRE registration and death.
macro_rules! person_select {
    () => {
        "SELECT p.id, p.fiscal_code, p.surname, p.given_names, p.sex, p.birth_date, \
         p.birth_place, p.citizenship, p.civil_status, p.registration, p.cancelled_on, \
         p.cancellation_reason, p.certifiability, fm.family_id, \
         fm.relationship AS family_relationship, cm.convivenza_id, \
         cm.relationship AS convivenza_relationship, a.country AS aire_country, \
         a.address_abroad AS aire_address, a.registered_on AS aire_registered_on, \
         d.died_on \
         FROM people p \
         LEFT JOIN family_members fm ON fm.comune = p.comune AND fm.person_id = p.id \
         LEFT JOIN convivenza_members cm ON cm.comune = p.comune AND cm.person_id = p.id \
         LEFT JOIN aire_registrations a ON a.comune = p.comune AND a.person_id = p.id \
         LEFT JOIN deaths d ON d.comune = p.comune AND d.person_id = p.id "
    };
}

/// The columns `address_from_row` reads, from a table aliased `ad`.
macro_rules! address_columns {
    () => {
        "ad.street, ad.number, ad.unit, ad.postcode, ad.locality"
    };
}

impl Store {
    /// The person with this fiscal code in the comune's registry.
    pub async fn person_by_fiscal_code(
        &self,
        comune: ComuneCode,
        fiscal_code: &CodiceFiscale,
    ) -> Result<Option<Person>, StoreError> {
        sqlx::query(concat!(
            person_select!(),
            "WHERE p.comune = $1 AND p.fiscal_code = $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(fiscal_code.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| person_from_row(comune, &row))
        .transpose()
    }

    /// The person with this registry id.
    pub async fn person(&self, comune: ComuneCode, id: i64) -> Result<Option<Person>, StoreError> {
        sqlx::query(concat!(
            person_select!(),
            "WHERE p.comune = $1 AND p.id = $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| person_from_row(comune, &row))
        .transpose()
    }

    /// The heads of the comune's resident families, the largest families
    /// first, then by registry id; at most `limit` (capped at
    /// [`MAX_SEARCH_RESULTS`]): whom the demo login offers.
    pub async fn family_heads(
        &self,
        comune: ComuneCode,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError> {
        sqlx::query(concat!(
            person_select!(),
            "WHERE p.comune = $1 AND fm.family_id IS NOT NULL AND fm.relationship = 1 \
             AND d.died_on IS NULL AND p.registration = 'R' \
             ORDER BY (SELECT COUNT(*) FROM family_members f2 \
             WHERE f2.comune = fm.comune AND f2.family_id = fm.family_id) DESC, p.id LIMIT $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(i64::from(limit.min(MAX_SEARCH_RESULTS)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| person_from_row(comune, row))
        .collect()
    }

    /// People whose fiscal code starts with `query`, or whose name
    /// («COGNOME NOME» or «NOME COGNOME») contains it, ignoring case and
    /// repeated spaces; at most `limit` (capped at [`MAX_SEARCH_RESULTS`]),
    /// ordered by surname, given names and id. An empty query finds nobody.
    pub async fn search_people(
        &self,
        comune: ComuneCode,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError> {
        let key = search_key(query);
        if key.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let code_prefix = format!("{}%", like_literal(&key.replace(' ', "")));
        let name_part = format!("%{}%", like_literal(&key));
        sqlx::query(concat!(
            person_select!(),
            "WHERE p.comune = $1 AND (p.fiscal_code LIKE $2 ESCAPE '\\' \
             OR p.name_key LIKE $3 ESCAPE '\\' OR p.name_key_reversed LIKE $3 ESCAPE '\\') \
             ORDER BY p.name_key, p.id LIMIT $4"
        ))
        .bind(comune.as_str().to_owned())
        .bind(code_prefix)
        .bind(name_part)
        .bind(i64::from(limit.min(MAX_SEARCH_RESULTS)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| person_from_row(comune, row))
        .collect()
    }

    /// The registry family with this id and its members: the head first,
    /// then the spouse, civil partner or cohabitant, then the others by
    /// relationship code; within a relationship, by birth date.
    pub async fn family(&self, comune: ComuneCode, id: i64) -> Result<Option<Family>, StoreError> {
        let Some(family) = sqlx::query(concat!(
            "SELECT f.id, f.address_id, ",
            address_columns!(),
            " FROM families f LEFT JOIN addresses ad \
             ON ad.comune = f.comune AND ad.id = f.address_id \
             WHERE f.comune = $1 AND f.id = $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let address = match opt_int(&family, "families", "address_id")? {
            Some(_) => Some(address_from_row(&family)?),
            None => None,
        };
        let members = sqlx::query(concat!(
            person_select!(),
            "WHERE p.comune = $1 AND fm.family_id = $2 \
             ORDER BY CASE fm.relationship WHEN 1 THEN 0 WHEN 2 THEN 1 WHEN 28 THEN 1 \
             WHEN 23 THEN 1 ELSE 2 END, fm.relationship, p.birth_date, p.id"
        ))
        .bind(comune.as_str().to_owned())
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| person_from_row(comune, row))
        .collect::<Result<_, _>>()?;
        Ok(Some(Family {
            id,
            address,
            members,
        }))
    }

    /// The convivenza with this id.
    pub async fn convivenza(
        &self,
        comune: ComuneCode,
        id: i64,
    ) -> Result<Option<Convivenza>, StoreError> {
        sqlx::query(concat!(
            "SELECT c.id, c.name, c.head_id, ",
            address_columns!(),
            " FROM convivenze c JOIN addresses ad \
             ON ad.comune = c.comune AND ad.id = c.address_id \
             WHERE c.comune = $1 AND c.id = $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(Convivenza {
                id: int(&row, "convivenze", "id")?,
                name: text(&row, "convivenze", "name")?,
                address: address_from_row(&row)?,
                head_id: opt_int(&row, "convivenze", "head_id")?,
            })
        })
        .transpose()
    }

    /// The people living in a convivenza: the responsible first, then by
    /// birth date.
    pub async fn convivenza_members(
        &self,
        comune: ComuneCode,
        id: i64,
    ) -> Result<Vec<Person>, StoreError> {
        sqlx::query(concat!(
            person_select!(),
            "WHERE p.comune = $1 AND cm.convivenza_id = $2 \
             ORDER BY cm.relationship, p.birth_date, p.id"
        ))
        .bind(comune.as_str().to_owned())
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| person_from_row(comune, row))
        .collect()
    }

    /// Where a person lives in the comune: their family's address, or their
    /// convivenza's. `None` for people abroad (their address is on their
    /// AIRE registration), people with neither, and unknown ids.
    pub async fn address_of(
        &self,
        comune: ComuneCode,
        person_id: i64,
    ) -> Result<Option<Address>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            address_columns!(),
            " FROM family_members fm \
             JOIN families f ON f.comune = fm.comune AND f.id = fm.family_id \
             JOIN addresses ad ON ad.comune = f.comune AND ad.id = f.address_id \
             WHERE fm.comune = $1 AND fm.person_id = $2 \
             UNION ALL SELECT ",
            address_columns!(),
            " FROM convivenza_members cm \
             JOIN convivenze c ON c.comune = cm.comune AND c.id = cm.convivenza_id \
             JOIN addresses ad ON ad.comune = c.comune AND ad.id = c.address_id \
             WHERE cm.comune = $1 AND cm.person_id = $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(person_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| address_from_row(&row))
        .transpose()
    }

    /// A person's marriages, civil unions and cohabitation contracts, oldest
    /// first.
    pub async fn unions_of(
        &self,
        comune: ComuneCode,
        person_id: i64,
    ) -> Result<Vec<UnionRecord>, StoreError> {
        const T: &str = "unions";
        sqlx::query(
            "SELECT person_id, kind, partner_name, celebrated_on, place, ended_on FROM unions \
             WHERE comune = $1 AND person_id = $2 ORDER BY celebrated_on, id",
        )
        .bind(comune.as_str().to_owned())
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(UnionRecord {
                kind: UnionKind::from_code(&text(row, T, "kind")?).ok_or(StoreError::Corrupt {
                    table: T,
                    column: "kind",
                })?,
                person_id: int(row, T, "person_id")?,
                partner_name: text(row, T, "partner_name")?,
                date: date(row, T, "celebrated_on")?,
                place: text(row, T, "place")?,
                ended_on: opt_date(row, T, "ended_on")?,
            })
        })
        .collect()
    }

    /// The administrative procedures open on a person, oldest first.
    pub async fn open_procedures_of(
        &self,
        comune: ComuneCode,
        person_id: i64,
    ) -> Result<Vec<OpenProcedure>, StoreError> {
        const T: &str = "open_procedures";
        sqlx::query(
            "SELECT person_id, description, opened_on FROM open_procedures \
             WHERE comune = $1 AND person_id = $2 ORDER BY opened_on, id",
        )
        .bind(comune.as_str().to_owned())
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(OpenProcedure {
                person_id: int(row, T, "person_id")?,
                description: text(row, T, "description")?,
                opened_on: date(row, T, "opened_on")?,
            })
        })
        .collect()
    }
}

fn person_from_row(comune: ComuneCode, row: &AnyRow) -> Result<Person, StoreError> {
    const T: &str = "people";
    let corrupt = |column| StoreError::Corrupt { table: T, column };
    let registration = match text(row, T, "registration")?.as_str() {
        "R" => Registration::Resident,
        "A" => Registration::Aire(AireRegistration {
            country: opt_text(row, "aire_registrations", "aire_country")?
                .ok_or(corrupt("registration"))?,
            address_abroad: opt_text(row, "aire_registrations", "aire_address")?
                .ok_or(corrupt("registration"))?,
            registered_on: opt_date(row, "aire_registrations", "aire_registered_on")?
                .ok_or(corrupt("registration"))?,
        }),
        "C" => Registration::Cancelled {
            on: opt_date(row, T, "cancelled_on")?.ok_or(corrupt("cancelled_on"))?,
            reason: opt_text(row, T, "cancellation_reason")?.unwrap_or_default(),
        },
        _ => return Err(corrupt("registration")),
    };
    let relationship = opt_int(row, "family_members", "family_relationship")?
        .or(opt_int(
            row,
            "convivenza_members",
            "convivenza_relationship",
        )?)
        .map(|code| u16::try_from(code).map_err(|_| corrupt("relationship")))
        .transpose()?;
    let certifiability = u8::try_from(int(row, T, "certifiability")?)
        .ok()
        .and_then(Certifiability::from_code)
        .ok_or(corrupt("certifiability"))?;
    Ok(Person {
        id: int(row, T, "id")?,
        comune,
        fiscal_code: CodiceFiscale::parse(&text(row, T, "fiscal_code")?)
            .map_err(|_| corrupt("fiscal_code"))?,
        surname: text(row, T, "surname")?,
        given_names: text(row, T, "given_names")?,
        sex: Sex::from_code(&text(row, T, "sex")?).ok_or(corrupt("sex"))?,
        birth_date: date(row, T, "birth_date")?,
        birth_place: text(row, T, "birth_place")?,
        citizenship: text(row, T, "citizenship")?,
        civil_status: CivilStatus::from_code(&text(row, T, "civil_status")?)
            .ok_or(corrupt("civil_status"))?,
        registration,
        family_id: opt_int(row, "family_members", "family_id")?,
        relationship,
        convivenza_id: opt_int(row, "convivenza_members", "convivenza_id")?,
        certifiability,
        death_date: opt_date(row, "deaths", "died_on")?,
    })
}

fn address_from_row(row: &AnyRow) -> Result<Address, StoreError> {
    const T: &str = "addresses";
    Ok(Address {
        street: text(row, T, "street")?,
        number: text(row, T, "number")?,
        unit: opt_text(row, T, "unit")?,
        postcode: text(row, T, "postcode")?,
        locality: text(row, T, "locality")?,
    })
}
