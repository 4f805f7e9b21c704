//! The comune's staff: roles, what each may do, and the local login of a
//! comune without an identity provider (a password hashed with argon2id and
//! a TOTP second factor, RFC 6238; [`MAX_FAILURES`] failures in a row lock
//! the account for [`LOCKOUT`]).
//!
//! A staff member is a fiscal code with roles in one comune; one with roles
//! in two comuni acts in one at a time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use seal::{CodiceFiscale, ComuneCode};
use store::{FailedLogin, StaffRecord, Store, StoreError};
use time::{Duration, OffsetDateTime};
use totp_rs::{Algorithm, Secret, TOTP};

/// Failed logins in a row that lock the account.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// The shortest local password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Issues anagrafe certificates at the counter, verifies.
    OperatoreAnagrafe,
    /// Works the CDU cases.
    OperatoreUrbanistica,
    /// Revokes, supersedes, reads the audit trail.
    Responsabile,
    /// The comune's configuration, users and roles.
    Amministratore,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 4] = [
        Self::OperatoreAnagrafe,
        Self::OperatoreUrbanistica,
        Self::Responsabile,
        Self::Amministratore,
    ];

    /// Its name in the database and on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            Self::OperatoreAnagrafe => "operatore_anagrafe",
            Self::OperatoreUrbanistica => "operatore_urbanistica",
            Self::Responsabile => "responsabile",
            Self::Amministratore => "amministratore",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::OperatoreAnagrafe => "Operatore anagrafe",
            Self::OperatoreUrbanistica => "Operatore urbanistica",
            Self::Responsabile => "Responsabile",
            Self::Amministratore => "Amministratore",
        }
    }

    /// The role named `slug` (`-` or `_`, any case).
    pub fn parse(slug: &str) -> Option<Self> {
        let wanted = slug.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|role| role.slug() == wanted)
    }
}

/// What a staff member does, each allowed to some roles. Every office
/// page and call names the action it performs and checks it against the
/// roles the member has now, in the comune of their session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Verify certificates brought to the counter (the scanning page).
    Verify,
    /// Issue anagrafe certificates at the counter.
    IssueAnagrafe,
    /// Look a certificate up in the registry and download it again.
    ReadCertificates,
    /// Revoke or supersede a certificate.
    Withdraw,
    /// Read and export the audit trail.
    ReadAudit,
    /// Change the comune's configuration, fees, staff and keys.
    Administer,
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 6] = [
        Self::Verify,
        Self::IssueAnagrafe,
        Self::ReadCertificates,
        Self::Withdraw,
        Self::ReadAudit,
        Self::Administer,
    ];

    /// The roles that may do it.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Self::Verify => &[OperatoreAnagrafe, OperatoreUrbanistica, Responsabile],
            Self::IssueAnagrafe => &[OperatoreAnagrafe],
            Self::ReadCertificates => &[OperatoreAnagrafe, Responsabile],
            Self::Withdraw | Self::ReadAudit => &[Responsabile],
            Self::Administer => &[Amministratore],
        }
    }

    /// Whether someone with `roles` may do it.
    pub fn allowed(self, roles: &[Role]) -> bool {
        self.roles().iter().any(|role| roles.contains(role))
    }
}

/// What goes wrong with staff.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// No role by that name.
    #[error(
        "ruolo sconosciuto: {0} (ruoli: operatore_anagrafe, operatore_urbanistica, responsabile, amministratore)"
    )]
    UnknownRole(String),
    /// A staff member needs at least one role.
    #[error("serve almeno un ruolo")]
    NoRole,
    /// The password is too short.
    #[error("la password deve avere almeno {MIN_PASSWORD_CHARS} caratteri")]
    WeakPassword,
    /// Hashing or randomness failed.
    #[error("credenziali non create: {0}")]
    Credentials(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The roles named in `slugs`, each once, in order.
pub fn parse_roles(slugs: &[String]) -> Result<Vec<Role>, StaffError> {
    let mut roles = Vec::new();
    for slug in slugs
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.trim().is_empty())
    {
        let role =
            Role::parse(slug).ok_or_else(|| StaffError::UnknownRole(slug.trim().to_owned()))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    if roles.is_empty() {
        return Err(StaffError::NoRole);
    }
    roles.sort();
    Ok(roles)
}

/// The roles of a stored member, unknown slugs left out.
pub fn roles_of(record: &StaffRecord) -> Vec<Role> {
    record
        .roles
        .iter()
        .filter_map(|slug| Role::parse(slug))
        .collect()
}

/// The argon2id hash (PHC string, a fresh 128-bit salt, the crate's
/// default cost: 19 MiB, 2 passes) of `password`.
pub fn hash_password(password: &str) -> Result<String, StaffError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::WeakPassword);
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|error| StaffError::Credentials(error.to_string()))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| StaffError::Credentials(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| StaffError::Credentials(error.to_string()))
}

/// Whether `password` is the one `hash` was made from.
pub fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A fresh TOTP secret (160 bits, as RFC 4226 recommends), base32.
pub fn new_totp_secret() -> Result<String, StaffError> {
    let mut bytes = [0u8; 20];
    getrandom::getrandom(&mut bytes).map_err(|error| StaffError::Credentials(error.to_string()))?;
    Ok(Secret::Raw(bytes.to_vec()).to_encoded().to_string())
}

/// The `otpauth://` URI an authenticator app reads (as a QR code or typed).
pub fn totp_uri(secret: &str, issuer: &str, account: &str) -> String {
    let escape = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        escape(issuer),
        escape(account),
        escape(issuer)
    )
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).ok()
}

/// The step (`unix time / 30`) whose code `code` is, within one step of
/// `now` either way (RFC 6238 §5.2's allowance for clocks and typing).
pub fn totp_step(secret: &str, code: &str, now: OffsetDateTime) -> Option<i64> {
    let totp = totp(secret)?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.unix_timestamp().div_euclid(30);
    (current - 1..=current + 1).find(|step| {
        u64::try_from(step * 30)
            .is_ok_and(|time| same(totp.generate(time).as_bytes(), code.as_bytes()))
    })
}

/// The code of `secret` at `now` (for tests and for showing at set-up).
pub fn totp_code(secret: &str, now: OffsetDateTime) -> Option<String> {
    let time = u64::try_from(now.unix_timestamp()).ok()?;
    totp(secret).map(|totp| totp.generate(time))
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How a local login ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalLogin {
    /// In, with these roles.
    Ok(StaffRecord),
    /// The fiscal code, the password or the code is wrong (which, never
    /// said).
    Refused,
    /// Locked after too many failures, until then.
    Locked(OffsetDateTime),
    /// The code was right but already used.
    CodeReused,
}

/// Checks a local login to `comune`: the member exists, is not disabled
/// or locked, has a password and a TOTP secret, and both match; each
/// failure is counted (the [`MAX_FAILURES`]-th locks the account).
pub async fn local_login(
    store: &Store,
    comune: ComuneCode,
    fiscal_code: &CodiceFiscale,
    password: &str,
    code: &str,
    now: OffsetDateTime,
) -> Result<LocalLogin, StaffError> {
    let Some(member) = store.staff(comune, fiscal_code).await? else {
        // The same work as for a member, so timing says nothing.
        let _ = password_matches(DUMMY_HASH, password);
        return Ok(LocalLogin::Refused);
    };
    if let Some(until) = member.locked_until.filter(|until| *until > now) {
        return Ok(LocalLogin::Locked(until));
    }
    let step = match (
        &member.password_hash,
        &member.totp_secret,
        member.disabled_at,
    ) {
        (Some(hash), Some(secret), None) if password_matches(hash, password) => {
            totp_step(secret, code, now)
        }
        _ => None,
    };
    let Some(step) = step else {
        return Ok(
            match store
                .record_staff_failure(comune, fiscal_code, now, MAX_FAILURES, LOCKOUT)
                .await?
            {
                FailedLogin::Locked(until) => LocalLogin::Locked(until),
                FailedLogin::Counted(_) => LocalLogin::Refused,
            },
        );
    };
    if !store
        .record_staff_success(comune, fiscal_code, Some(step))
        .await?
    {
        return Ok(LocalLogin::CodeReused);
    }
    Ok(store
        .staff(comune, fiscal_code)
        .await?
        .map_or(LocalLogin::Refused, LocalLogin::Ok))
}

/// An argon2id hash of nothing anyone knows, checked when the member does
/// not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2lnaWxsby1ub2JvZHk$2Tz1l1n1dp1o7nFvvQw7bS7Q0d2G0m7mB9xX9Y9nT6Q";

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn each_action_is_allowed_to_its_roles_only() {
        use Role::*;
        assert!(Action::IssueAnagrafe.allowed(&[OperatoreAnagrafe]));
        assert!(!Action::IssueAnagrafe.allowed(&[Responsabile, Amministratore]));
        assert!(Action::Withdraw.allowed(&[Responsabile]));
        assert!(!Action::Withdraw.allowed(&[OperatoreAnagrafe, OperatoreUrbanistica]));
        assert!(Action::Administer.allowed(&[Amministratore]));
        assert!(!Action::Administer.allowed(&[Responsabile]));
        assert!(Action::ALL.iter().all(|action| !action.allowed(&[])));
    }

    #[test]
    fn roles_parse_once_each_and_refuse_unknown_names() {
        let roles = parse_roles(&[
            "responsabile,operatore-anagrafe".into(),
            "Responsabile".into(),
        ])
        .expect("roles");
        assert_eq!(roles, [Role::OperatoreAnagrafe, Role::Responsabile]);
        assert!(matches!(
            parse_roles(&["sindaco".into()]),
            Err(StaffError::UnknownRole(_))
        ));
        assert!(matches!(parse_roles(&[]), Err(StaffError::NoRole)));
    }

    #[test]
    fn a_password_is_hashed_with_argon2id_and_only_it_matches() {
        let hash = hash_password("correct horse battery").expect("hashed");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(password_matches(&hash, "correct horse battery"));
        assert!(!password_matches(&hash, "correct horse batterY"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").expect("hashed"),
            "salted"
        );
        assert!(matches!(
            hash_password("short"),
            Err(StaffError::WeakPassword)
        ));
        assert!(!password_matches("not a hash", "x"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn totp_codes_follow_rfc_6238() {
        // RFC 6238 Appendix B, SHA-1: the 20-byte ASCII key
        // "12345678901234567890"; 8-digit codes 94287082 at 59 s and
        // 07081804 at 1111111109 s, whose last six digits are ours.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        let at = |unix| OffsetDateTime::from_unix_timestamp(unix).expect("time");
        assert_eq!(totp_code(&secret, at(59)).as_deref(), Some("287082"));
        assert_eq!(
            totp_code(&secret, at(1_111_111_109)).as_deref(),
            Some("081804")
        );
        // A step either way is accepted, two are not.
        let now = datetime!(2026-12-01 10:00:15 UTC);
        let code = totp_code(&secret, now).expect("code");
        let step = now.unix_timestamp() / 30;
        assert_eq!(totp_step(&secret, &code, now), Some(step));
        assert_eq!(
            totp_step(&secret, &code, now + Duration::seconds(30)),
            Some(step)
        );
        assert_eq!(
            totp_step(&secret, &code, now - Duration::seconds(30)),
            Some(step)
        );
        assert_eq!(totp_step(&secret, &code, now + Duration::seconds(60)), None);
        assert_eq!(totp_step(&secret, "12345", now), None);
        assert_eq!(totp_step(&secret, "abcdef", now), None);
        let uri = totp_uri(&secret, "Comune di Borgo Sigillo", "RSSMRA85T10A562S");
        assert!(
            uri.starts_with(
                "otpauth://totp/Comune%20di%20Borgo%20Sigillo:RSSMRA85T10A562S?secret="
            )
        );
        assert_eq!(new_totp_secret().expect("secret").len(), 32);
    }
}
