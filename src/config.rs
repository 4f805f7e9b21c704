//! Configuration: built-in defaults, then an optional `sigillo.toml`, then
//! `SIGILLO_*` environment variables, then command-line flags, each
//! overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use seal::ComuneCode;
use serde::Deserialize;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "sigillo.toml";

/// The data directory when none is configured.
pub const DEFAULT_DATA_DIR: &str = "./sigillo-data";

/// The demo comune: a fictional comune with an ISTAT code that ISTAT has
/// never assigned, so its certificates can never pass for real ones.
pub const DEMO_COMUNE_NAME: &str = "Borgo Sigillo";

/// Sigillo's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where keys and the embedded database live.
    pub data_dir: PathBuf,
    /// The database: `sqlite:…` (default, in the data directory) or
    /// `postgres://…`.
    pub database_url: String,
    /// A directory of templates that reword the built-in ones, if any
    /// (default: `./templates` when it exists).
    pub templates_dir: Option<PathBuf>,
    /// The comune that commands act for when none is named.
    pub comune: ComuneConfig,
    /// The HTTP server.
    pub server: ServerConfig,
    /// The pagoPA adapter and the request flow.
    pub pagopa: PagoPaSettings,
    /// The citizen portal.
    pub portal: PortalConfig,
    /// Telling citizens: App IO and e-mail.
    pub notifications: NotificationsConfig,
}

/// How citizens are told (`[notifications]`). Without the section, outside
/// production, the server mounts an App IO emulator and starts an SMTP
/// sink (the demo); in production without it, nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationsConfig {
    /// App IO: its base URL and the comune's service key.
    pub io: Option<(String, String)>,
    /// E-mail: the relay's host and port, and the sender.
    pub smtp: Option<(String, u16, String)>,
    /// The emulator and the sink of the demo, in place of both.
    pub emulators: bool,
    /// Seconds between passes over the outbox (default 5).
    pub every_seconds: u64,
    /// Seconds a node holds the rows it claimed (default 60).
    pub lease_seconds: u64,
}

/// The citizen portal's settings (`[portal]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalConfig {
    /// The demo login (a visitor picks a demo resident): only for the demo
    /// comune, never with `server.production = true` (default: on for the
    /// demo comune outside production).
    pub demo_login: bool,
    /// Who to contact, for the pages (each optional): `office`, `address`,
    /// `hours`, `phone`, `email`, `pec`, `dpo_email` in the file.
    pub contacts: web::Contacts,
    /// Login with SPID and CIE (`[portal.oidc]`, with
    /// `[[portal.oidc.providers]]`); none without the section.
    pub oidc: Option<oidc::Settings>,
}

/// The HTTP server's settings (`[server]` in `sigillo.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:8080`; port 0 picks one).
    pub listen: SocketAddr,
    /// The public base URL people reach this server at, for pagoPA's return
    /// address (default: `http://` + the address listened on).
    pub public_base_url: Option<String>,
    /// A production deployment: refuses to start with the pagoPA emulator.
    pub production: bool,
    /// Verifications (`POST /api/v1/verify`, `POST /v`) a client address
    /// may make per minute, in bursts of up to as many; 0 = no limit
    /// (default 60).
    pub verify_per_minute: u32,
    /// Image and PDF verifications run at once (default: the number of
    /// cores); the seal's text never waits for them.
    pub verify_workers: Option<usize>,
    /// Image and PDF verifications that may wait for a worker (default:
    /// 16 per worker); beyond, the answer is 503 with `Retry-After`.
    pub verify_queue: Option<usize>,
}

/// Verifications a client address may make per minute by default.
pub const DEFAULT_VERIFY_PER_MINUTE: u32 = 60;

/// Where pagoPA is and how requests are paid (`[pagopa]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagoPaSettings {
    /// The platform's endpoints; `None` = the emulator mounted in this
    /// server under `/sandbox/pagopa` (never in production).
    pub endpoints: Option<PagoPaEndpoints>,
    /// The segregation code of Sigillo's notices.
    pub segregation_code: u8,
    /// Minutes a payment stays open before the request expires.
    pub pay_within_minutes: u64,
    /// Seconds between reconciliation passes.
    pub reconcile_every_seconds: u64,
    /// Seconds before a call to pagoPA times out.
    pub timeout_seconds: u64,
    /// Retries of a call answered 5xx/429 or timed out.
    pub retries: u32,
}

/// pagoPA's base URLs and subscription key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagoPaEndpoints {
    /// An emulator at this base URL (one started by tests or another node).
    Emulator(String),
    /// The real platform.
    Platform {
        /// GPD debt positions service.
        gpd_base_url: String,
        /// GPD payments receipts service.
        payments_base_url: String,
        /// Marca da bollo digitale service.
        mbd_base_url: String,
        /// Where payers pay a notice.
        checkout_base_url: String,
        /// The subscription key (`Ocp-Apim-Subscription-Key`).
        subscription_key: String,
        /// The service id (`idCIService`) for the marca da bollo digitale.
        service_id: String,
        /// The taxonomy code of bollo virtuale transfers.
        transfer_category: String,
    },
}

/// The comune a command acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComuneConfig {
    /// ISTAT code.
    pub code: ComuneCode,
    /// Name as certificates print it (without «Comune di»).
    pub name: String,
    /// Belfiore (cadastral) code, for `sigillo init` of a real comune.
    pub belfiore: Option<String>,
    /// Province abbreviation, for `sigillo init` of a real comune.
    pub province: Option<String>,
    /// The comune's fiscal code as pagoPA creditor.
    pub creditor_fiscal_code: Option<String>,
    /// Host of the verification page printed in QR codes.
    pub verification_host: Option<String>,
    /// The treasury IBAN credited by bollo virtuale payments.
    pub iban: Option<String>,
}

/// Values set on the command line or in the environment; `None` leaves the
/// file's or the default value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--data-dir` / `SIGILLO_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--comune` / `SIGILLO_COMUNE_CODE`.
    pub comune_code: Option<String>,
    /// `--comune-name` / `SIGILLO_COMUNE_NAME`.
    pub comune_name: Option<String>,
    /// `--database-url` / `SIGILLO_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `serve --listen` / `SIGILLO_LISTEN`.
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    templates_dir: Option<PathBuf>,
    comune: Option<FileComune>,
    server: Option<FileServer>,
    pagopa: Option<FilePagoPa>,
    portal: Option<FilePortal>,
    notifications: Option<FileNotifications>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNotifications {
    io_base_url: Option<String>,
    io_subscription_key: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    mail_from: Option<String>,
    every_seconds: Option<u64>,
    lease_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePortal {
    demo_login: Option<bool>,
    office: Option<String>,
    address: Option<String>,
    hours: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    pec: Option<String>,
    dpo_email: Option<String>,
    oidc: Option<oidc::Settings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    listen: Option<SocketAddr>,
    public_base_url: Option<String>,
    production: Option<bool>,
    verify_per_minute: Option<u32>,
    verify_workers: Option<usize>,
    verify_queue: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePagoPa {
    emulator_base_url: Option<String>,
    gpd_base_url: Option<String>,
    payments_base_url: Option<String>,
    mbd_base_url: Option<String>,
    checkout_base_url: Option<String>,
    subscription_key: Option<String>,
    service_id: Option<String>,
    transfer_category: Option<String>,
    segregation_code: Option<u8>,
    pay_within_minutes: Option<u64>,
    reconcile_every_seconds: Option<u64>,
    timeout_seconds: Option<u64>,
    retries: Option<u32>,
}

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileComune {
    code: Option<String>,
    name: Option<String>,
    belfiore: Option<String>,
    province: Option<String>,
    creditor_fiscal_code: Option<String>,
    verification_host: Option<String>,
    iban: Option<String>,
}

impl Config {
    /// Loads the configuration. `file` names a config file that must exist;
    /// without it, `sigillo.toml` in the working directory is read if there.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Self> {
        let from_file = match file {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileConfig::default(),
        };
        let file_comune = from_file.comune.unwrap_or_default();
        let code_text = overrides
            .comune_code
            .or(file_comune.code)
            .unwrap_or_else(|| seal::samples::DEMO_COMUNE.to_owned());
        let code = ComuneCode::parse(&code_text)
            .with_context(|| format!("codice ISTAT del comune {code_text:?}"))?;
        let name = overrides
            .comune_name
            .or(file_comune.name)
            .unwrap_or_else(|| {
                if code.as_str() == seal::samples::DEMO_COMUNE {
                    DEMO_COMUNE_NAME.to_owned()
                } else {
                    String::new()
                }
            });
        if name.trim().is_empty() {
            bail!(
                "il comune {code} non ha un nome: impostare comune.name in sigillo.toml o --comune-name"
            );
        }
        let data_dir = overrides
            .data_dir
            .or(from_file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = overrides
            .database_url
            .or(from_file.database_url)
            .unwrap_or_else(|| {
                format!("sqlite:{}?mode=rwc", data_dir.join("sigillo.db").display())
            });
        let templates_dir = from_file
            .templates_dir
            .or_else(|| Some(PathBuf::from("templates")).filter(|dir| dir.is_dir()));
        let file_server = from_file.server.unwrap_or_default();
        let listen = match overrides.listen {
            Some(listen) => listen,
            None => match file_server.listen {
                Some(listen) => listen,
                None => DEFAULT_LISTEN.parse().context("indirizzo predefinito")?,
            },
        };
        let server = ServerConfig {
            listen,
            public_base_url: file_server.public_base_url,
            production: file_server.production.unwrap_or(false),
            verify_per_minute: file_server
                .verify_per_minute
                .unwrap_or(DEFAULT_VERIFY_PER_MINUTE),
            verify_workers: file_server.verify_workers,
            verify_queue: file_server.verify_queue,
        };
        let pagopa = pagopa_settings(from_file.pagopa.unwrap_or_default())?;
        if server.production && !matches!(pagopa.endpoints, Some(PagoPaEndpoints::Platform { .. }))
        {
            bail!(
                "in produzione (server.production = true) pagoPA deve essere la piattaforma reale: \
                 impostare gpd_base_url, payments_base_url, mbd_base_url, checkout_base_url, \
                 subscription_key, service_id e transfer_category in [pagopa], non l'emulatore"
            );
        }
        let file_portal = from_file.portal.unwrap_or_default();
        let demo_comune = code.as_str() == seal::samples::DEMO_COMUNE;
        let demo_login = match file_portal.demo_login {
            Some(true) if server.production => bail!(
                "in produzione (server.production = true) l'accesso dimostrativo non è ammesso: \
                 togliere portal.demo_login"
            ),
            Some(true) if !demo_comune => bail!(
                "l'accesso dimostrativo (portal.demo_login) vale solo per il comune dimostrativo {}",
                seal::samples::DEMO_COMUNE
            ),
            Some(choice) => choice,
            None => demo_comune && !server.production,
        };
        let portal = PortalConfig {
            demo_login,
            contacts: web::Contacts {
                office: file_portal.office,
                address: file_portal.address,
                hours: file_portal.hours,
                phone: file_portal.phone,
                email: file_portal.email,
                pec: file_portal.pec,
                dpo_email: file_portal.dpo_email,
            },
            oidc: file_portal.oidc,
        };
        let notifications = notifications_settings(from_file.notifications, server.production)?;
        Ok(Self {
            data_dir,
            database_url,
            templates_dir,
            server,
            pagopa,
            portal,
            notifications,
            comune: ComuneConfig {
                code,
                name,
                belfiore: file_comune.belfiore,
                province: file_comune.province,
                creditor_fiscal_code: file_comune.creditor_fiscal_code,
                verification_host: file_comune.verification_host,
                iban: file_comune.iban,
            },
        })
    }

    /// Whether the configured comune is the fictional demo comune.
    pub fn is_demo(&self) -> bool {
        self.comune.code.as_str() == seal::samples::DEMO_COMUNE
    }
}

fn notifications_settings(
    file: Option<FileNotifications>,
    production: bool,
) -> anyhow::Result<NotificationsConfig> {
    let emulators = file.is_none() && !production;
    let file = file.unwrap_or_default();
    let io = match (file.io_base_url, file.io_subscription_key) {
        (Some(url), Some(key)) => Some((url, key)),
        (None, None) => None,
        _ => bail!("[notifications]: io_base_url e io_subscription_key vanno impostati insieme"),
    };
    let smtp = match (file.smtp_host, file.mail_from) {
        (Some(host), Some(from)) => Some((host, file.smtp_port.unwrap_or(25), from)),
        (None, None) => None,
        _ => bail!("[notifications]: smtp_host e mail_from vanno impostati insieme"),
    };
    let every_seconds = file.every_seconds.unwrap_or(5);
    let lease_seconds = file.lease_seconds.unwrap_or(60);
    if every_seconds == 0 || lease_seconds == 0 {
        bail!("[notifications]: every_seconds e lease_seconds devono essere maggiori di zero");
    }
    Ok(NotificationsConfig {
        io,
        smtp,
        emulators,
        every_seconds,
        lease_seconds,
    })
}

fn pagopa_settings(file: FilePagoPa) -> anyhow::Result<PagoPaSettings> {
    let platform = [
        &file.gpd_base_url,
        &file.payments_base_url,
        &file.mbd_base_url,
        &file.checkout_base_url,
        &file.subscription_key,
        &file.service_id,
        &file.transfer_category,
    ];
    let endpoints = match (
        &file.emulator_base_url,
        platform.iter().any(|v| v.is_some()),
    ) {
        (Some(_), true) => {
            bail!("[pagopa]: emulator_base_url e gli indirizzi della piattaforma si escludono")
        }
        (Some(base), false) => Some(PagoPaEndpoints::Emulator(base.clone())),
        (None, false) => None,
        (None, true) => {
            let need = |value: &Option<String>, key: &str| {
                value
                    .clone()
                    .with_context(|| format!("manca pagopa.{key} in sigillo.toml"))
            };
            Some(PagoPaEndpoints::Platform {
                gpd_base_url: need(&file.gpd_base_url, "gpd_base_url")?,
                payments_base_url: need(&file.payments_base_url, "payments_base_url")?,
                mbd_base_url: need(&file.mbd_base_url, "mbd_base_url")?,
                checkout_base_url: need(&file.checkout_base_url, "checkout_base_url")?,
                subscription_key: need(&file.subscription_key, "subscription_key")?,
                service_id: need(&file.service_id, "service_id")?,
                transfer_category: need(&file.transfer_category, "transfer_category")?,
            })
        }
    };
    let segregation_code = file.segregation_code.unwrap_or(1);
    if segregation_code > 99 {
        bail!("pagopa.segregation_code è di due cifre (0–99)");
    }
    Ok(PagoPaSettings {
        endpoints,
        segregation_code,
        pay_within_minutes: file.pay_within_minutes.unwrap_or(48 * 60).max(1),
        reconcile_every_seconds: file.reconcile_every_seconds.unwrap_or(60).max(1),
        timeout_seconds: file.timeout_seconds.unwrap_or(10).max(1),
        retries: file.retries.unwrap_or(3),
    })
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("lettura del file di configurazione {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("nel file di configurazione {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_file_or_overrides_the_demo_comune_and_default_dir_apply() {
        let config = Config::load(Some(Path::new("/dev/null")), Overrides::default())
            .expect("defaults load");
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert!(config.is_demo());
        assert_eq!(config.comune.name, DEMO_COMUNE_NAME);
    }

    #[test]
    fn overrides_win_over_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sigillo.toml");
        std::fs::write(
            &path,
            "data_dir = \"/srv/a\"\n[comune]\ncode = \"058091\"\nname = \"Roma\"\n",
        )
        .expect("write");
        let from_file = Config::load(Some(&path), Overrides::default()).expect("loads");
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/a"));
        assert_eq!(from_file.comune.name, "Roma");
        let overridden = Config::load(
            Some(&path),
            Overrides {
                data_dir: Some("/srv/b".into()),
                ..Overrides::default()
            },
        )
        .expect("loads");
        assert_eq!(overridden.data_dir, PathBuf::from("/srv/b"));
    }

    #[test]
    fn unknown_keys_and_bad_codes_are_errors_that_name_the_problem() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sigillo.toml");
        std::fs::write(&path, "data_dri = \"/srv\"\n").expect("write");
        let error = Config::load(Some(&path), Overrides::default()).expect_err("refused");
        assert!(format!("{error:#}").contains("data_dri"), "{error:#}");
        let error = Config::load(
            Some(Path::new("/dev/null")),
            Overrides {
                comune_code: Some("58091".into()),
                ..Overrides::default()
            },
        )
        .expect_err("refused");
        assert!(format!("{error:#}").contains("58091"), "{error:#}");
    }

    #[test]
    fn spid_and_cie_providers_are_read_from_portal_oidc() {
        let dir = tempfile::tempdir().expect("temp dir");
        let load = |text: &str| {
            let path = dir.path().join("sigillo.toml");
            std::fs::write(&path, text).expect("write");
            Config::load(Some(&path), Overrides::default())
        };
        assert_eq!(load("").expect("loads").portal.oidc, None);
        let config = load(
            "[portal.oidc]\nauthority_hints = [\"https://registry.spid.gov.it\"]\n\
             [[portal.oidc.providers]]\nid = \"spid\"\nlabel = \"SPID\"\nkind = \"spid\"\n\
             issuer = \"https://op.example.it\"\n\
             [[portal.oidc.providers]]\nid = \"cie\"\nlabel = \"CIE\"\nkind = \"cie\"\n\
             issuer = \"https://cie.example.it\"\n",
        )
        .expect("loads");
        let oidc = config.portal.oidc.expect("configured");
        assert_eq!(oidc.providers.len(), 2);
        assert_eq!(oidc.providers[1].kind, oidc::ProviderKind::Cie);
        assert_eq!(oidc.authority_hints, ["https://registry.spid.gov.it"]);
        let error = load("[portal.oidc]\nclient_secret = \"x\"\n").expect_err("refused");
        assert!(format!("{error:#}").contains("client_secret"), "{error:#}");
        let error = load(
            "[[portal.oidc.providers]]\nid = \"x\"\nlabel = \"X\"\nkind = \"saml\"\nissuer = \"https://x\"\n",
        )
        .expect_err("refused");
        assert!(format!("{error:#}").contains("saml"), "{error:#}");
    }

    #[test]
    fn the_demo_login_is_for_the_demo_comune_outside_production_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let load = |text: &str| {
            let path = dir.path().join("sigillo.toml");
            std::fs::write(&path, text).expect("write");
            Config::load(Some(&path), Overrides::default())
        };
        assert!(load("").expect("loads").portal.demo_login, "on by default");
        assert!(
            !load("[portal]\ndemo_login = false\n")
                .expect("loads")
                .portal
                .demo_login
        );
        let roma = "[comune]\ncode = \"058091\"\nname = \"Roma\"\n";
        assert!(
            !load(roma).expect("loads").portal.demo_login,
            "off for a real comune"
        );
        let error = load(&format!("{roma}[portal]\ndemo_login = true\n")).expect_err("refused");
        assert!(format!("{error:#}").contains("dimostrativo"), "{error:#}");
        let production = "[server]\nproduction = true\n\
            [pagopa]\ngpd_base_url = \"https://a.example\"\npayments_base_url = \"https://a.example\"\n\
            mbd_base_url = \"https://a.example\"\ncheckout_base_url = \"https://a.example\"\n\
            subscription_key = \"k\"\nservice_id = \"s\"\ntransfer_category = \"t\"\n";
        assert!(
            !load(production).expect("loads").portal.demo_login,
            "off in production"
        );
        let error =
            load(&format!("{production}[portal]\ndemo_login = true\n")).expect_err("refused");
        assert!(format!("{error:#}").contains("produzione"), "{error:#}");
        let contacts = load("[portal]\nemail = \"anagrafe@comune.example.it\"\n").expect("loads");
        assert_eq!(
            contacts.portal.contacts.email.as_deref(),
            Some("anagrafe@comune.example.it")
        );
    }

    #[test]
    fn a_real_comune_needs_a_name() {
        let error = Config::load(
            Some(Path::new("/dev/null")),
            Overrides {
                comune_code: Some("058091".into()),
                ..Overrides::default()
            },
        )
        .expect_err("refused");
        assert!(format!("{error:#}").contains("non ha un nome"), "{error:#}");
    }
}
