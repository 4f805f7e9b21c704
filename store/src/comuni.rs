//! The comuni a deployment serves.

use seal::{ComuneCode, Kid};
use sqlx::any::AnyRow;

use super::audit::{AuditEntry, append_audit};
use super::{Store, StoreError, date_text, int, opt_date, opt_text, text};
use crate::model::{BolloMode, ComuneRecord};

/// What the comune's administration changes from its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComuneSettings {
    /// The host the QR codes point to.
    pub verification_host: String,
    /// The comune's fiscal code as pagoPA creditor (11 digits).
    pub creditor_fiscal_code: String,
    /// The treasury IBAN credited by bollo virtuale payments.
    pub iban: Option<String>,
    /// How the stamp duty is collected.
    pub bollo_mode: BolloMode,
}

/// How `mode` is stored: the mode's code, the authorisation's number and
/// date.
fn bollo_columns(mode: &BolloMode) -> (&'static str, Option<String>, Option<String>) {
    match mode {
        BolloMode::Virtuale {
            authorization,
            authorized_on,
        } => (
            "virtuale",
            Some(authorization.clone()),
            Some(date_text(*authorized_on)),
        ),
        BolloMode::MarcaDigitale => ("marca", None, None),
    }
}

/// The columns `comune_from_row` reads.
macro_rules! comune_columns {
    () => {
        "code, belfiore, name, province, creditor_fiscal_code, verification_host, \
         bollo_mode, bollo_authorization, bollo_authorized_on, bollo_cents, \
         diritti_bollo_cents, diritti_esente_cents, demo, signer_kid"
    };
}

impl Store {
    /// Adds a comune, or replaces the settings of one already present.
    pub async fn upsert_comune(&self, comune: &ComuneRecord) -> Result<(), StoreError> {
        let (mode, authorization, authorized_on) = bollo_columns(&comune.bollo_mode);
        sqlx::query(
            "INSERT INTO comuni (code, belfiore, name, province, creditor_fiscal_code, \
             verification_host, bollo_mode, bollo_authorization, bollo_authorized_on, \
             bollo_cents, diritti_bollo_cents, diritti_esente_cents, demo, signer_kid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (code) DO UPDATE SET belfiore = excluded.belfiore, \
             name = excluded.name, province = excluded.province, \
             creditor_fiscal_code = excluded.creditor_fiscal_code, \
             verification_host = excluded.verification_host, bollo_mode = excluded.bollo_mode, \
             bollo_authorization = excluded.bollo_authorization, \
             bollo_authorized_on = excluded.bollo_authorized_on, \
             bollo_cents = excluded.bollo_cents, \
             diritti_bollo_cents = excluded.diritti_bollo_cents, \
             diritti_esente_cents = excluded.diritti_esente_cents, demo = excluded.demo, \
             signer_kid = excluded.signer_kid",
        )
        .bind(comune.code.as_str().to_owned())
        .bind(comune.belfiore.clone())
        .bind(comune.name.clone())
        .bind(comune.province.clone())
        .bind(comune.creditor_fiscal_code.clone())
        .bind(comune.verification_host.clone())
        .bind(mode)
        .bind(authorization)
        .bind(authorized_on)
        .bind(comune.bollo_cents)
        .bind(comune.diritti_bollo_cents)
        .bind(comune.diritti_esente_cents)
        .bind(i64::from(comune.demo))
        .bind(comune.signer_kid.map(|kid| kid.to_hex()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The comune with this ISTAT code, if configured.
    pub async fn comune(&self, code: ComuneCode) -> Result<Option<ComuneRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            comune_columns!(),
            " FROM comuni WHERE code = $1"
        ))
        .bind(code.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| comune_from_row(&row))
        .transpose()
    }

    /// The comune's fee schedule as stored (TOML), if it has its own.
    pub async fn comune_fees(&self, code: ComuneCode) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT fees FROM comuni WHERE code = $1")
            .bind(code.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::UnknownComune(code))?;
        super::opt_text(&row, "comuni", "fees")
    }

    /// Stores the comune's fee schedule (TOML, already validated by the
    /// caller); `None` goes back to the defaults.
    pub async fn set_comune_fees(
        &self,
        code: ComuneCode,
        fees: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE comuni SET fees = $2 WHERE code = $1")
            .bind(code.as_str().to_owned())
            .bind(fees.map(str::to_owned))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::UnknownComune(code));
        }
        Ok(())
    }

    /// Sets the comune's fee schedule and appends `audit` to its chain, in
    /// one transaction.
    pub async fn change_comune_fees(
        &self,
        code: ComuneCode,
        fees: &str,
        audit: &AuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE comuni SET fees = $2 WHERE code = $1")
            .bind(code.as_str().to_owned())
            .bind(fees.to_owned())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::UnknownComune(code));
        }
        append_audit(&mut tx, code, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes what the comune's administration may change — the
    /// verification host, the creditor's fiscal code, the IBAN and how the
    /// stamp duty is collected — and appends `audit` to its chain, in one
    /// transaction. Codes, name and keys stay as configured.
    pub async fn change_comune_settings(
        &self,
        code: ComuneCode,
        settings: &ComuneSettings,
        audit: &AuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let (mode, authorization, authorized_on) = bollo_columns(&settings.bollo_mode);
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE comuni SET verification_host = $2, creditor_fiscal_code = $3, iban = $4, \
             bollo_mode = $5, bollo_authorization = $6, bollo_authorized_on = $7 WHERE code = $1",
        )
        .bind(code.as_str().to_owned())
        .bind(settings.verification_host.clone())
        .bind(settings.creditor_fiscal_code.clone())
        .bind(settings.iban.clone())
        .bind(mode)
        .bind(authorization)
        .bind(authorized_on)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::UnknownComune(code));
        }
        append_audit(&mut tx, code, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The comune's treasury IBAN, if configured.
    pub async fn comune_iban(&self, code: ComuneCode) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT iban FROM comuni WHERE code = $1")
            .bind(code.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::UnknownComune(code))?;
        super::opt_text(&row, "comuni", "iban")
    }

    /// Records the comune's treasury IBAN.
    pub async fn set_comune_iban(&self, code: ComuneCode, iban: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE comuni SET iban = $2 WHERE code = $1")
            .bind(code.as_str().to_owned())
            .bind(iban.to_owned())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::UnknownComune(code));
        }
        Ok(())
    }

    /// Every configured comune, by ISTAT code.
    pub async fn list_comuni(&self) -> Result<Vec<ComuneRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            comune_columns!(),
            " FROM comuni ORDER BY code"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(comune_from_row)
        .collect()
    }

    /// Fails with [`StoreError::UnknownComune`] unless the comune is
    /// configured.
    pub(crate) async fn require_comune(&self, code: ComuneCode) -> Result<(), StoreError> {
        let found = sqlx::query("SELECT code FROM comuni WHERE code = $1")
            .bind(code.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::UnknownComune(code)),
        }
    }
}

fn comune_from_row(row: &AnyRow) -> Result<ComuneRecord, StoreError> {
    const T: &str = "comuni";
    let corrupt = |column| StoreError::Corrupt { table: T, column };
    let code = ComuneCode::parse(&text(row, T, "code")?).map_err(|_| corrupt("code"))?;
    let bollo_mode = match text(row, T, "bollo_mode")?.as_str() {
        "virtuale" => BolloMode::Virtuale {
            authorization: opt_text(row, T, "bollo_authorization")?
                .ok_or(corrupt("bollo_authorization"))?,
            authorized_on: opt_date(row, T, "bollo_authorized_on")?
                .ok_or(corrupt("bollo_authorized_on"))?,
        },
        "marca" => BolloMode::MarcaDigitale,
        _ => return Err(corrupt("bollo_mode")),
    };
    let signer_kid = opt_text(row, T, "signer_kid")?
        .map(|hex_kid| {
            hex::decode(&hex_kid)
                .ok()
                .and_then(|bytes| Kid::from_slice(&bytes))
                .ok_or(corrupt("signer_kid"))
        })
        .transpose()?;
    Ok(ComuneRecord {
        code,
        belfiore: text(row, T, "belfiore")?,
        name: text(row, T, "name")?,
        province: text(row, T, "province")?,
        creditor_fiscal_code: text(row, T, "creditor_fiscal_code")?,
        verification_host: text(row, T, "verification_host")?,
        bollo_mode,
        bollo_cents: int(row, T, "bollo_cents")?,
        diritti_bollo_cents: int(row, T, "diritti_bollo_cents")?,
        diritti_esente_cents: int(row, T, "diritti_esente_cents")?,
        demo: int(row, T, "demo")? != 0,
        signer_kid,
    })
}
