//! The comune's staff: who they are, their roles, their local credentials
//! and the lockout after repeated failed logins. What a role allows, and
//! how passwords and codes are checked, is the issuer's (`issuer::staff`);
//! here they are kept, and the counters move atomically, so two nodes
//! counting failures at once count them all.

use seal::{CodiceFiscale, ComuneCode};
use time::OffsetDateTime;

use super::{Store, StoreError, int, opt_int, opt_text, opt_time_at, text, time_at, unix};

/// A staff member to add, or to update (their name and roles).
#[derive(Debug, Clone)]
pub struct NewStaff<'a> {
    /// The comune.
    pub comune: ComuneCode,
    /// The person.
    pub fiscal_code: &'a CodiceFiscale,
    /// Their name, as pages show it.
    pub display_name: &'a str,
    /// Their roles' slugs.
    pub roles: &'a [&'a str],
    /// Now.
    pub now: OffsetDateTime,
}

/// A staff member.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffRecord {
    /// The comune.
    pub comune: ComuneCode,
    /// The person.
    pub fiscal_code: CodiceFiscale,
    /// Their name.
    pub display_name: String,
    /// Their roles' slugs.
    pub roles: Vec<String>,
    /// The argon2id hash of their local password, if they have one.
    pub password_hash: Option<String>,
    /// Their TOTP secret (base32), if they have one.
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted.
    pub totp_last_step: Option<i64>,
    /// Consecutive failed logins.
    pub failed_logins: i64,
    /// No login before this.
    pub locked_until: Option<OffsetDateTime>,
    /// When they were added.
    pub created_at: OffsetDateTime,
    /// When they were disabled, if they were.
    pub disabled_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for StaffRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffRecord")
            .field("comune", &self.comune)
            .field("roles", &self.roles)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// What a failed login did to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedLogin {
    /// Counted: this many in a row now.
    Counted(i64),
    /// Counted, and the account is now locked until then.
    Locked(OffsetDateTime),
}

const COLUMNS: &str = "comune, fiscal_code, display_name, roles, password_hash, totp_secret, \
     totp_last_step, failed_logins, locked_until, created_at, disabled_at";

impl Store {
    /// Adds a staff member, or updates the name and roles of one already
    /// there (their credentials stay).
    pub async fn upsert_staff(&self, new: &NewStaff<'_>) -> Result<StaffRecord, StoreError> {
        self.require_comune(new.comune).await?;
        sqlx::query(
            "INSERT INTO staff (comune, fiscal_code, display_name, roles, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (comune, fiscal_code) DO UPDATE SET display_name = $3, roles = $4",
        )
        .bind(new.comune.as_str().to_owned())
        .bind(new.fiscal_code.as_str().to_owned())
        .bind(new.display_name.to_owned())
        .bind(new.roles.join(","))
        .bind(unix(new.now))
        .execute(&self.pool)
        .await?;
        self.staff(new.comune, new.fiscal_code)
            .await?
            .ok_or(StoreError::Corrupt {
                table: "staff",
                column: "fiscal_code",
            })
    }

    /// The staff member `fiscal_code` of `comune`.
    pub async fn staff(
        &self,
        comune: ComuneCode,
        fiscal_code: &CodiceFiscale,
    ) -> Result<Option<StaffRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM staff WHERE comune = $1 AND fiscal_code = $2"
        ))
        .bind(comune.as_str().to_owned())
        .bind(fiscal_code.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(staff_from_row).transpose()
    }

    /// Every comune where `fiscal_code` is staff.
    pub async fn staff_of_person(
        &self,
        fiscal_code: &CodiceFiscale,
    ) -> Result<Vec<StaffRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM staff WHERE fiscal_code = $1 ORDER BY comune"
        ))
        .bind(fiscal_code.as_str().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_from_row).collect()
    }

    /// The comune's staff, by name.
    pub async fn list_staff(&self, comune: ComuneCode) -> Result<Vec<StaffRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM staff WHERE comune = $1 ORDER BY display_name, fiscal_code"
        ))
        .bind(comune.as_str().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_from_row).collect()
    }

    /// Sets the local credentials: the password's hash and the TOTP
    /// secret (either may be cleared); the failure count and the lock
    /// are reset, and the last TOTP step forgotten.
    pub async fn set_staff_credentials(
        &self,
        comune: ComuneCode,
        fiscal_code: &CodiceFiscale,
        password_hash: Option<&str>,
        totp_secret: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE staff SET password_hash = $1, totp_secret = $2, totp_last_step = NULL, \
             failed_logins = 0, locked_until = NULL WHERE comune = $3 AND fiscal_code = $4",
        )
        .bind(password_hash.map(str::to_owned))
        .bind(totp_secret.map(str::to_owned))
        .bind(comune.as_str().to_owned())
        .bind(fiscal_code.as_str().to_owned())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables (or, with `None`, enables again) a staff member.
    pub async fn set_staff_disabled(
        &self,
        comune: ComuneCode,
        fiscal_code: &CodiceFiscale,
        at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE staff SET disabled_at = $1 WHERE comune = $2 AND fiscal_code = $3")
                .bind(at.map(unix))
                .bind(comune.as_str().to_owned())
                .bind(fiscal_code.as_str().to_owned())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts a failed login at `now`; the `max`-th in a row locks the
    /// account until `now + lockout`. One statement: concurrent failures
    /// on any node are all counted.
    pub async fn record_staff_failure(
        &self,
        comune: ComuneCode,
        fiscal_code: &CodiceFiscale,
        now: OffsetDateTime,
        max: i64,
        lockout: time::Duration,
    ) -> Result<FailedLogin, StoreError> {
        let row = sqlx::query(
            "UPDATE staff SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END \
             WHERE comune = $3 AND fiscal_code = $4 RETURNING failed_logins, locked_until",
        )
        .bind(max)
        .bind(unix(now + lockout))
        .bind(comune.as_str().to_owned())
        .bind(fiscal_code.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(FailedLogin::Counted(0));
        };
        let count = int(&row, "staff", "failed_logins")?;
        Ok(match opt_time_at(&row, "staff", "locked_until")? {
            Some(until) if count >= max => FailedLogin::Locked(until),
            _ => FailedLogin::Counted(count),
        })
    }

    /// A login that succeeded with TOTP step `step` (if a code was used):
    /// the failures are forgotten and the step recorded. Answers `false`,
    /// changing nothing, when that step (or a later one) was used already:
    /// a code works once, on any node.
    pub async fn record_staff_success(
        &self,
        comune: ComuneCode,
        fiscal_code: &CodiceFiscale,
        step: Option<i64>,
    ) -> Result<bool, StoreError> {
        let done =
            match step {
                Some(step) => sqlx::query(
                    "UPDATE staff SET failed_logins = 0, locked_until = NULL, totp_last_step = $1 \
                     WHERE comune = $2 AND fiscal_code = $3 \
                     AND (totp_last_step IS NULL OR totp_last_step < $1)",
                )
                .bind(step)
                .bind(comune.as_str().to_owned())
                .bind(fiscal_code.as_str().to_owned())
                .execute(&self.pool)
                .await?,
                None => {
                    sqlx::query(
                        "UPDATE staff SET failed_logins = 0, locked_until = NULL \
                     WHERE comune = $1 AND fiscal_code = $2",
                    )
                    .bind(comune.as_str().to_owned())
                    .bind(fiscal_code.as_str().to_owned())
                    .execute(&self.pool)
                    .await?
                }
            };
        Ok(done.rows_affected() == 1)
    }
}

fn staff_from_row(row: &sqlx::any::AnyRow) -> Result<StaffRecord, StoreError> {
    const T: &str = "staff";
    let corrupt = |column| StoreError::Corrupt { table: T, column };
    let roles = text(row, T, "roles")?;
    Ok(StaffRecord {
        comune: ComuneCode::parse(&text(row, T, "comune")?).map_err(|_| corrupt("comune"))?,
        fiscal_code: CodiceFiscale::parse(&text(row, T, "fiscal_code")?)
            .map_err(|_| corrupt("fiscal_code"))?,
        display_name: text(row, T, "display_name")?,
        roles: roles
            .split(',')
            .filter(|role| !role.is_empty())
            .map(str::to_owned)
            .collect(),
        password_hash: opt_text(row, T, "password_hash")?,
        totp_secret: opt_text(row, T, "totp_secret")?,
        totp_last_step: opt_int(row, T, "totp_last_step")?,
        failed_logins: int(row, T, "failed_logins")?,
        locked_until: opt_time_at(row, T, "locked_until")?,
        created_at: time_at(row, T, "created_at")?,
        disabled_at: opt_time_at(row, T, "disabled_at")?,
    })
}
