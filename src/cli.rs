//! The command line. `sigillo` with no command runs the demo; the other
//! commands serve the counter and operations: keys, the comune's data,
//! issuing certificates and the registry.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use issuer::catalogue::{kind_by_slug, parse_usage};
use issuer::fees::FeeSchedule;
use issuer::register::{Issuance, Issued, Issuer};
use issuer::templates::Templates;
use issuer::withdraw::{Withdrawal, withdraw};
use keys::{CertificateInfo, Comune, KeyStore};
use seal::{CertificateKind, CertificateNumber, CodiceFiscale};
use store::model::{CertificateRecord, CertificateStatus, ComuneRecord};
use store::{ApiKeyRole, CertificateFilter, ImportError, ImportProgress, Store};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{Config, Overrides};

/// Sigillo: certificates of an Italian comune as signed PDFs with a printed
/// 2D seal, and their verification.
#[derive(Debug, Parser)]
#[command(name = "sigillo", version)]
pub struct Cli {
    /// Configuration file (default: ./sigillo.toml, if present).
    #[arg(long, env = "SIGILLO_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory for keys and the embedded database (default: ./sigillo-data).
    #[arg(long, env = "SIGILLO_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite:… or postgres://… (default: SQLite in the data directory).
    #[arg(long, env = "SIGILLO_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// ISTAT code of the comune to act for (default: the demo comune 999001).
    #[arg(long = "comune", env = "SIGILLO_COMUNE_CODE", global = true)]
    comune_code: Option<String>,
    /// Name of the comune, as certificates print it after «Comune di».
    #[arg(long, env = "SIGILLO_COMUNE_NAME", global = true)]
    comune_name: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default): the request API, pagoPA's return
    /// address and, unless pagoPA is configured, its emulator. For the demo
    /// comune it sets everything up and prints a fresh API key.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks one).
        #[arg(long, env = "SIGILLO_LISTEN")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Issue one certificate of the demo comune to a file, without a server.
    Demo,
    /// The API keys of the comune's portal and counter software.
    Apikeys {
        #[command(subcommand)]
        action: ApiKeysCommand,
    },
    /// The comune's fees: bollo, diritti, CDU, exemptions.
    Fees {
        #[command(subcommand)]
        action: FeesCommand,
    },
    /// Set up the data directory: keys, database and the comune.
    Init {
        /// Set up the fictional demo comune with its people and parcels.
        #[arg(long)]
        demo: bool,
    },
    /// Manage the comune's CA and seal-signer keys.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Look people up in the comune's registry.
    People {
        #[command(subcommand)]
        action: PeopleCommand,
    },
    /// Load the comune's own exports (CSV; layouts in docs/import.md).
    Import {
        #[command(subcommand)]
        action: ImportCommand,
    },
    /// Issue a certificate and write its PDF.
    Issue(IssueArgs),
    /// The registry of issued certificates.
    Certificates {
        #[command(subcommand)]
        action: CertificatesCommand,
    },
    /// Check a certificate offline: its PDF, a scan or photo, or the seal's text.
    Verify(crate::verify_cmd::VerifyArgs),
    /// The comune's staff: members, roles, local credentials.
    Staff {
        #[command(subcommand)]
        action: StaffCommand,
    },
    /// The audit trail: who did what to which certificate, request or payment.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Add a staff member, or change the name and roles of one.
    Add {
        /// Their fiscal code.
        #[arg(long)]
        cf: String,
        /// Their name, as pages show it.
        #[arg(long)]
        name: String,
        /// Their roles, comma-separated or repeated: operatore_anagrafe,
        /// operatore_urbanistica, responsabile, amministratore.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// List the comune's staff (never their credentials).
    List,
    /// Give a member a local password (read from standard input, one line)
    /// and a new TOTP second factor, printed once; for a comune without an
    /// identity provider. Any earlier password and code stop working.
    Password {
        /// Their fiscal code.
        #[arg(long)]
        cf: String,
    },
    /// Stop a member from logging in (kept for the audit trail).
    Disable {
        /// Their fiscal code.
        #[arg(long)]
        cf: String,
    },
    /// Let a disabled member log in again.
    Enable {
        /// Their fiscal code.
        #[arg(long)]
        cf: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the audit trail's hash chain, of the comune named with
    /// --comune or else of every comune in the database, and name the
    /// first broken entry. Exit status: 0 every chain intact, 3 a chain
    /// broken, 1 not checked (e.g. the database unreachable).
    Verify,
}

/// The audit trail of these comuni does not hold: `sigillo audit verify`
/// exits with [`AUDIT_BROKEN_EXIT`].
#[derive(Debug, thiserror::Error)]
#[error("catena dell'audit interrotta: {}", .0.join(", "))]
struct AuditBroken(Vec<String>);

/// The exit status of `sigillo audit verify` when a chain is broken.
const AUDIT_BROKEN_EXIT: u8 = 3;

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create the comune's CA and first seal signer in the data directory.
    Init {
        /// Replace existing keys. Certificates sealed with them will no
        /// longer verify.
        #[arg(long)]
        force: bool,
    },
    /// Show the comune's certificates: kid, subject, validity, fingerprints.
    Show,
    /// Make a new seal signer and put it in use; old certificates keep
    /// verifying.
    Rotate,
    /// Revoke a compromised seal signer (not the one in use: rotate
    /// first). Seals it made from DATE on verify as invalid, online and
    /// wherever the comune's trust list reaches; earlier ones stay
    /// authentic, with a warning.
    RevokeSigner {
        /// The signer's kid, as `keys show` prints it.
        kid: String,
        /// From when: a day (2026-03-01, from midnight in Italy) or an
        /// instant (RFC 3339).
        #[arg(long, value_parser = parse_since)]
        since: OffsetDateTime,
    },
}

/// `--since`: a day, from midnight in Italy, or an RFC 3339 instant.
fn parse_since(text: &str) -> Result<OffsetDateTime, String> {
    let text = text.trim();
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(instant);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text, &format)
        .map_err(|_| "scrivere un giorno (2026-03-01) o un istante RFC 3339".to_owned())?;
    let midnight = day.midnight().assume_utc();
    // Midnight in Italy: the offset of that day (CET or CEST).
    Ok(midnight
        - time::Duration::seconds(i64::from(seal::rome::offset_at(midnight).whole_seconds())))
}

#[derive(Debug, Subcommand)]
enum ApiKeysCommand {
    /// Create a key; its secret is printed once.
    Create {
        /// What uses it, e.g. "Portale del cittadino".
        #[arg(long)]
        name: String,
        /// sportello (counter software) or portale (citizen portal).
        #[arg(long)]
        role: String,
    },
    /// List the comune's keys (never their secrets).
    List,
    /// Revoke a key at once.
    Revoke {
        /// The key's id (the part after `sig_`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum FeesCommand {
    /// Print the comune's fee schedule (TOML).
    Show,
    /// Replace the comune's fee schedule with a TOML file, checked first.
    Set {
        /// The TOML file (start from `sigillo fees show`).
        file: PathBuf,
    },
    /// Go back to the built-in schedule.
    Reset,
}

#[derive(Debug, Subcommand)]
enum PeopleCommand {
    /// Find people by name or fiscal code (or its beginning).
    Search {
        /// Name, surname, or fiscal code (or its beginning).
        query: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import the registry: one row per person.
    People {
        /// The CSV file.
        file: PathBuf,
    },
    /// Import the cadastral parcels: one row per parcel, plan and zone.
    Parcels {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct IssueArgs {
    /// The kind: nascita, matrimonio, cittadinanza, esistenza_in_vita,
    /// residenza, residenza_aire, stato_civile, stato_famiglia,
    /// stato_famiglia_stato_civile, residenza_convivenza, stato_famiglia_aire,
    /// stato_famiglia_parentela, stato_libero, unione_civile,
    /// contratto_convivenza, contestuale, cdu.
    #[arg(long)]
    kind: String,
    /// The fiscal code of the person (the applicant, for a CDU).
    #[arg(long)]
    cf: String,
    /// The use: `bollo`, `esente:<id>` or `esente:99:<motivo>`, optionally
    /// followed by `/estero`, `/immigrazione` or `/giudiziario`.
    #[arg(long = "use")]
    usage: String,
    /// For a contestuale: the kinds it combines, comma-separated.
    #[arg(long, value_delimiter = ',')]
    parts: Vec<String>,
    /// For a CDU: a parcel as FOGLIO/PARTICELLA or FOGLIO/PARTICELLA/SUB; repeat for more.
    #[arg(long = "parcel")]
    parcels: Vec<String>,
    /// Where to write the PDF (default: the certificate number, in the working directory).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum CertificatesCommand {
    /// List the comune's certificates, newest first.
    List {
        /// Only those in this status, as the list prints it: in attesa, rilasciato,
        /// revocato, sostituito, scaduto, annullato.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one certificate.
    Show {
        /// Its number, e.g. 2026/000123.
        number: String,
    },
    /// Revoke an issued certificate.
    Revoke {
        /// Its number, e.g. 2026/000123.
        number: String,
        /// Why, as recorded in the registry.
        #[arg(long)]
        reason: String,
    },
    /// Mark an issued certificate as superseded by a later one of the same holder.
    Supersede {
        /// Its number, e.g. 2026/000123.
        number: String,
        /// The number of the certificate that replaces it.
        #[arg(long)]
        by: String,
    },
    /// Write an issued certificate's PDF again.
    Pdf {
        /// Its number, e.g. 2026/000123.
        number: String,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs the command line and turns the outcome into an exit code: 0 done,
/// 1 failed (the reason on standard error), 2 usage error. `sigillo verify`
/// has codes of its own (see its `--help`): 0 valid, 1 authentic but not
/// in force, 2 invalid, 3 no seal found, 4 usage or I/O error.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => {
            return match crate::usage::explain(&error, names_verify(&args)) {
                crate::usage::Outcome::Print(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                crate::usage::Outcome::Error(text, code) => {
                    eprint!("{text}");
                    ExitCode::from(code)
                }
            };
        }
    };
    let failure = if matches!(cli.command, Some(Command::Verify(_))) {
        ExitCode::from(crate::usage::VERIFY_USAGE_EXIT)
    } else {
        ExitCode::FAILURE
    };
    init_logging(matches!(cli.command, None | Some(Command::Serve { .. })));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("errore: avvio non riuscito: {error}");
            return failure;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.downcast_ref::<AuditBroken>().is_some() => {
            eprintln!("errore: {error:#}");
            ExitCode::from(AUDIT_BROKEN_EXIT)
        }
        Err(error) => {
            eprintln!("errore: {error:#}");
            failure
        }
    }
}

/// Whether the command line names `verify` as its command: the first word
/// that is neither an option nor the value of a global option.
fn names_verify(args: &[std::ffi::OsString]) -> bool {
    const GLOBAL_WITH_VALUE: [&str; 5] = [
        "--config",
        "--data-dir",
        "--database-url",
        "--comune",
        "--comune-name",
    ];
    let mut words = args.iter().skip(1).map(|arg| arg.to_string_lossy());
    while let Some(word) = words.next() {
        if GLOBAL_WITH_VALUE.contains(&word.as_ref()) {
            words.next();
        } else if !word.starts_with('-') {
            return word == "verify";
        }
    }
    false
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let comune_named = cli.comune_code.is_some();
    let config = Config::load(
        cli.config.as_deref(),
        Overrides {
            data_dir: cli.data_dir,
            comune_code: cli.comune_code,
            comune_name: cli.comune_name,
            database_url: cli.database_url,
            listen: match &cli.command {
                Some(Command::Serve { listen }) => *listen,
                _ => None,
            },
        },
    )?;
    let commands = Commands::new(config);
    match cli.command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { .. } => commands.serve().await,
        Command::Demo => commands.demo().await,
        Command::Apikeys { action } => commands.api_keys(action).await,
        Command::Fees { action } => commands.fees(action).await,
        Command::Init { demo } => commands.init(demo).await.map(|_| ()),
        Command::Keys { action } => commands.keys(action),
        Command::People {
            action: PeopleCommand::Search { query },
        } => commands.search(query.as_deref().unwrap_or_default()).await,
        Command::Import { action } => commands.import(action).await,
        Command::Issue(args) => commands.issue(args).await,
        Command::Certificates { action } => commands.certificates(action).await,
        Command::Verify(args) => crate::verify_cmd::run(args, &commands.config),
        Command::Audit {
            action: AuditCommand::Verify,
        } => commands.audit_verify(comune_named).await,
        Command::Staff { action } => commands.staff(action).await,
    }
}

/// The configuration and what the commands build on it.
struct Commands {
    config: Config,
    keys: KeyStore,
    comune: Comune,
}

impl Commands {
    fn new(config: Config) -> Self {
        let keys = KeyStore::new(&config.data_dir);
        let comune = Comune {
            code: config.comune.code,
            name: config.comune.name.clone(),
        };
        Self {
            config,
            keys,
            comune,
        }
    }

    async fn store(&self) -> anyhow::Result<Store> {
        if self.config.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&self.config.data_dir).with_context(|| {
                format!(
                    "creazione della cartella dati {}",
                    self.config.data_dir.display()
                )
            })?;
        }
        Store::connect(&self.config.database_url)
            .await
            .context("apertura del database")
    }

    async fn issuer(&self) -> anyhow::Result<Issuer> {
        let templates = Templates::load(self.config.templates_dir.as_deref())?;
        Ok(Issuer::new(
            self.store().await?,
            self.keys.clone(),
            templates,
        ))
    }

    /// Sets up keys, database and comune; says what it did. Returns the
    /// store.
    async fn init(&self, demo: bool) -> anyhow::Result<Store> {
        if demo && !self.config.is_demo() {
            bail!(
                "--demo vale solo per il comune demo {}",
                seal::samples::DEMO_COMUNE
            );
        }
        let now = OffsetDateTime::now_utc();
        if self.keys.has_keys(self.comune.code) {
            println!(
                "Chiavi già presenti in {}",
                self.keys.comune_dir(self.comune.code).display()
            );
        } else {
            self.keys.init(&self.comune, now, false)?;
            println!(
                "Chiavi create in {}",
                self.keys.comune_dir(self.comune.code).display()
            );
        }
        let store = self.store().await?;
        let kid = self.keys.certificates(self.comune.code)?.current;
        let mut record = if demo {
            store::demo::comune()
        } else {
            self.comune_record()?
        };
        // The host the QR codes point to: the configuration's when it names
        // one (the demo's too), else what the database already has.
        if let Some(host) = &self.config.comune.verification_host {
            record.verification_host.clone_from(host);
        } else if let Some(existing) = store.comune(self.comune.code).await? {
            record.verification_host = existing.verification_host;
        }
        record.signer_kid = Some(kid);
        store.upsert_comune(&record).await?;
        if let Some(iban) = &self.config.comune.iban {
            store.set_comune_iban(record.code, iban).await?;
        }
        println!(
            "Comune di {} ({}) configurato nel database",
            record.name, record.code
        );
        if demo {
            let summary = store::demo::load(&store).await.map_err(import_failure)?;
            println!(
                "Dati demo caricati: {} persone, {} righe di particelle",
                summary.people.rows, summary.parcels.rows
            );
        }
        Ok(store)
    }

    fn comune_record(&self) -> anyhow::Result<ComuneRecord> {
        let c = &self.config.comune;
        let need = |value: &Option<String>, key: &str| {
            value
                .clone()
                .with_context(|| format!("manca comune.{key} in sigillo.toml"))
        };
        Ok(ComuneRecord {
            code: c.code,
            belfiore: need(&c.belfiore, "belfiore")?,
            name: c.name.clone(),
            province: need(&c.province, "province")?,
            creditor_fiscal_code: need(&c.creditor_fiscal_code, "creditor_fiscal_code")?,
            verification_host: need(&c.verification_host, "verification_host")?,
            bollo_mode: store::model::BolloMode::MarcaDigitale,
            bollo_cents: 1600,
            diritti_bollo_cents: 52,
            diritti_esente_cents: 26,
            demo: false,
            signer_kid: None,
        })
    }

    async fn demo(&self) -> anyhow::Result<()> {
        if !self.config.is_demo() {
            bail!(
                "la demo funziona solo per il comune demo {}",
                seal::samples::DEMO_COMUNE
            );
        }
        let store = self.init(true).await?;
        store.close().await;
        let issuer = self.issuer().await?;
        let person = issuer
            .store()
            .search_people(self.comune.code, DEMO_HOLDER, 1)
            .await?
            .into_iter()
            .next()
            .context("la persona della demo non è nell'anagrafe demo")?;
        let request = Issuance {
            comune: self.comune.code,
            spec: kind_by_slug("residenza")?,
            fiscal_code: person.fiscal_code,
            parts: Vec::new(),
            parcels: Vec::new(),
            usage: parse_usage("esente:9")?,
            issued_by: "demo".into(),
            now: OffsetDateTime::now_utc(),
        };
        let issued = issuer.issue(&request).await?;
        let out = self.config.data_dir.join(format!(
            "certificato-{}.pdf",
            file_stem(&issued.record.number)
        ));
        write_pdf(&out, &issued.pdf)?;
        print_issued(&issued, &out);
        Ok(())
    }

    /// `sigillo serve`: for the demo comune, sets it up if needed and
    /// prints a fresh API key and the calls to try.
    async fn serve(&self) -> anyhow::Result<()> {
        let demo_key = if self.config.is_demo() {
            let store = self.init(true).await?;
            let key = store
                .create_api_key(
                    self.comune.code,
                    "demo",
                    ApiKeyRole::Sportello,
                    OffsetDateTime::now_utc(),
                )
                .await?;
            store.close().await;
            Some(key.secret)
        } else {
            None
        };
        let app = crate::app::App::build(&self.config).await?;
        let base = app.base_url().to_owned();
        println!("Sigillo in ascolto su {base}");
        println!("  API: {base}/api/v1/openapi.json");
        if let Some(key) = demo_key {
            println!("  Emulatore pagoPA: {base}/sandbox/pagopa");
            if app.io_emulator().is_some() {
                println!(
                    "  Emulatore App IO: {base}{} (messaggi ricevuti: {base}{}/_messages)",
                    crate::app::IO_EMULATOR_PATH,
                    crate::app::IO_EMULATOR_PATH
                );
            }
            if let Some(sink) = app.smtp_sink() {
                println!(
                    "  Posta di prova: SMTP su {} (messaggi ricevuti: {base}{})",
                    sink.addr(),
                    crate::app::MAIL_SINK_PATH
                );
            }
            println!("Chiave API demo (ruolo sportello): {key}");
            println!("Per provare, vedere «Demo» nel README: richiesta, pagamento, download.");
        }
        app.serve().await
    }

    async fn api_keys(&self, action: ApiKeysCommand) -> anyhow::Result<()> {
        let store = self.store().await?;
        let now = OffsetDateTime::now_utc();
        match action {
            ApiKeysCommand::Create { name, role } => {
                let role = ApiKeyRole::from_code(&role)
                    .with_context(|| format!("ruolo {role:?}: usare sportello o portale"))?;
                let created = store
                    .create_api_key(self.comune.code, &name, role, now)
                    .await?;
                println!("Chiave creata: {}", created.key.id);
                println!("{}", created.secret);
                println!("Conservarla ora: non sarà più mostrata.");
            }
            ApiKeysCommand::List => {
                for key in store.list_api_keys(self.comune.code).await? {
                    println!(
                        "{}  {:<9}  {}  creata {}{}",
                        key.id,
                        key.role.code(),
                        key.name,
                        key.created_at.format(&Rfc3339)?,
                        match key.revoked_at {
                            Some(at) => format!("  REVOCATA {}", at.format(&Rfc3339)?),
                            None => String::new(),
                        }
                    );
                }
            }
            ApiKeysCommand::Revoke { id } => {
                if !store.revoke_api_key(self.comune.code, &id, now).await? {
                    bail!("nessuna chiave {id} per il comune {}", self.comune.code);
                }
                println!("Chiave {id} revocata");
            }
        }
        Ok(())
    }

    async fn fees(&self, action: FeesCommand) -> anyhow::Result<()> {
        let store = self.store().await?;
        match action {
            FeesCommand::Show => {
                let schedule = match store.comune_fees(self.comune.code).await? {
                    Some(text) => FeeSchedule::from_toml(&text)?,
                    None => FeeSchedule::default(),
                };
                print!("{}", schedule.to_toml());
            }
            FeesCommand::Set { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("lettura di {}", file.display()))?;
                let schedule = FeeSchedule::from_toml(&text)
                    .with_context(|| format!("tariffe in {}", file.display()))?;
                store
                    .set_comune_fees(self.comune.code, Some(&schedule.to_toml()))
                    .await?;
                println!("Tariffe del comune {} aggiornate", self.comune.code);
            }
            FeesCommand::Reset => {
                store.set_comune_fees(self.comune.code, None).await?;
                println!(
                    "Tariffe del comune {} riportate ai valori predefiniti",
                    self.comune.code
                );
            }
        }
        Ok(())
    }

    fn keys(&self, action: KeysCommand) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc();
        match action {
            KeysCommand::Init { force } => {
                let certificates = self.keys.init(&self.comune, now, force)?;
                println!(
                    "Chiavi create per il Comune di {} ({})",
                    self.comune.name, self.comune.code
                );
                println!("  in {}", self.keys.comune_dir(self.comune.code).display());
                print_certificate("CA", &certificates.ca, false);
                for signer in &certificates.signers {
                    print_certificate("Firmatario", signer, signer.kid() == certificates.current);
                }
            }
            KeysCommand::Show => {
                let certificates = self.keys.certificates(self.comune.code)?;
                let dir = self.keys.comune_dir(self.comune.code);
                println!("Comune {} — {}", self.comune.code, dir.display());
                print_certificate("CA", &certificates.ca, false);
                for signer in &certificates.signers {
                    print_certificate("Firmatario", signer, signer.kid() == certificates.current);
                    if let Some(since) = certificates.revoked.get(&signer.kid()) {
                        println!("  REVOCATO dal {}", seal::rome::date_time_text(*since));
                    }
                }
            }
            KeysCommand::RevokeSigner { kid, since } => {
                let wanted = kid.trim().to_ascii_lowercase();
                let certificates = self.keys.certificates(self.comune.code)?;
                let kid = certificates
                    .signers
                    .iter()
                    .map(CertificateInfo::kid)
                    .find(|candidate| candidate.to_hex() == wanted)
                    .with_context(|| {
                        format!("nessun firmatario {wanted} tra quelli del comune: vedere `sigillo keys show`")
                    })?;
                let since = self.keys.revoke_signer(self.comune.code, kid, since)?;
                println!(
                    "Firmatario {kid} revocato dal {}.",
                    seal::rome::date_time_text(since)
                );
                println!(
                    "I sigilli che ha firmato da allora risultano non validi; quelli precedenti restano autentici, con un avviso. La verifica online ne tiene conto entro un minuto; l'elenco dei firmatari pubblicato per le verifiche senza rete si aggiorna entro {} minuti.",
                    issuer::publish::TRUST_LIST_TTL.as_secs() / 60
                );
            }
            KeysCommand::Rotate => {
                let signer = self.keys.rotate(&self.comune, now)?;
                println!(
                    "Nuovo firmatario in uso per il Comune di {}",
                    self.comune.name
                );
                print_certificate("Firmatario", &signer, true);
                println!(
                    "I certificati già emessi restano verificabili con il firmatario precedente."
                );
            }
        }
        Ok(())
    }

    async fn search(&self, query: &str) -> anyhow::Result<()> {
        let query = query.trim();
        if query.chars().count() < 2 {
            bail!(
                "indicare che cosa cercare: un cognome, un nome o un codice fiscale (anche solo l'inizio, almeno 2 caratteri), es. `sigillo people search rossi` o `sigillo people search RSSMRA`"
            );
        }
        let store = self.store().await?;
        let people = store.search_people(self.comune.code, query, 50).await?;
        if people.is_empty() {
            println!("Nessuna persona trovata per «{query}».");
        }
        for person in people {
            println!(
                "{}  {} {}  nato/a il {} a {}",
                person.fiscal_code,
                person.surname,
                person.given_names,
                seal::rome::day_text(person.birth_date),
                person.birth_place
            );
        }
        Ok(())
    }

    async fn import(&self, action: ImportCommand) -> anyhow::Result<()> {
        let store = self.store().await?;
        let (file, what) = match &action {
            ImportCommand::People { file } => (file, "persone"),
            ImportCommand::Parcels { file } => (file, "particelle"),
        };
        let reader =
            std::fs::File::open(file).with_context(|| format!("apertura di {}", file.display()))?;
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} righe")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let progress = |step: ImportProgress| {
            let phase = match step.phase {
                store::ImportPhase::Checking => "controllo",
                _ => "scrittura",
            };
            bar.set_message(phase);
            bar.set_position(step.done);
        };
        let result = match action {
            ImportCommand::People { .. } => {
                store
                    .import_people(self.comune.code, reader, &progress)
                    .await
            }
            ImportCommand::Parcels { .. } => {
                store
                    .import_parcels(self.comune.code, reader, &progress)
                    .await
            }
        };
        bar.finish_and_clear();
        let summary = result.map_err(import_failure)?;
        println!(
            "Importate {} righe di {what} da {} ({} record scritti)",
            summary.rows,
            file.display(),
            summary.records
        );
        Ok(())
    }

    async fn issue(&self, args: IssueArgs) -> anyhow::Result<()> {
        let spec = kind_by_slug(&args.kind)?;
        let parts = args
            .parts
            .iter()
            .map(|slug| kind_by_slug(slug).map(|spec| spec.kind))
            .collect::<Result<Vec<CertificateKind>, _>>()?;
        if spec.kind == CertificateKind::Contestuale && parts.len() < 2 {
            bail!("il certificato contestuale richiede almeno due tipi in --parts");
        }
        let parcels = args
            .parcels
            .iter()
            .map(|text| parse_parcel(text))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let request = Issuance {
            comune: self.comune.code,
            spec,
            fiscal_code: CodiceFiscale::parse(&args.cf)?,
            parts,
            parcels,
            usage: parse_usage(&args.usage)?,
            issued_by: "cli".into(),
            now: OffsetDateTime::now_utc(),
        };
        let issued = self.issuer().await?.issue(&request).await?;
        let out = args.out.unwrap_or_else(|| {
            PathBuf::from(format!(
                "certificato-{}.pdf",
                file_stem(&issued.record.number)
            ))
        });
        write_pdf(&out, &issued.pdf)?;
        print_issued(&issued, &out);
        Ok(())
    }

    async fn staff(&self, action: StaffCommand) -> anyhow::Result<()> {
        use issuer::staff;
        let store = self.store().await?;
        let comune = self.comune.code;
        let person = |cf: &str| {
            CodiceFiscale::parse(cf.trim())
                .map_err(|error| anyhow::anyhow!("codice fiscale {cf:?} non valido: {error}"))
        };
        match action {
            StaffCommand::Add { cf, name, roles } => {
                let person = person(&cf)?;
                let roles = staff::parse_roles(&roles)?;
                let slugs: Vec<&str> = roles.iter().map(|role| role.slug()).collect();
                let name = name.trim();
                if name.is_empty() {
                    bail!("serve il nome (--name)");
                }
                store
                    .upsert_staff(&store::NewStaff {
                        comune,
                        fiscal_code: &person,
                        display_name: name,
                        roles: &slugs,
                        now: OffsetDateTime::now_utc(),
                    })
                    .await?;
                println!("{person} {name}: {}", slugs.join(", "));
            }
            StaffCommand::List => {
                for member in store.list_staff(comune).await? {
                    let roles: Vec<&str> = staff::roles_of(&member)
                        .into_iter()
                        .map(staff::Role::label)
                        .collect();
                    println!(
                        "{}  {}  {}{}{}",
                        member.fiscal_code,
                        member.display_name,
                        roles.join(", "),
                        if member.password_hash.is_some() {
                            "  password locale"
                        } else {
                            ""
                        },
                        if member.disabled_at.is_some() {
                            "  DISABILITATO"
                        } else {
                            ""
                        }
                    );
                }
            }
            StaffCommand::Password { cf } => {
                let person = person(&cf)?;
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("lettura della password dallo standard input")?;
                let hash = staff::hash_password(line.trim_end_matches(['\r', '\n']))?;
                let secret = staff::new_totp_secret()?;
                if !store
                    .set_staff_credentials(comune, &person, Some(&hash), Some(&secret))
                    .await?
                {
                    bail!("{person} non è nel personale del comune {comune}");
                }
                println!("Password impostata per {person}.");
                println!(
                    "Secondo fattore (TOTP, 6 cifre ogni 30 secondi): inserire nell'app di autenticazione"
                );
                println!(
                    "{}",
                    staff::totp_uri(&secret, &format!("Sigillo {comune}"), person.as_str())
                );
                println!("oppure la chiave {secret}");
                println!("Conservarla ora: non sarà più mostrata.");
            }
            StaffCommand::Disable { cf } => {
                let person = person(&cf)?;
                if !store
                    .set_staff_disabled(comune, &person, Some(OffsetDateTime::now_utc()))
                    .await?
                {
                    bail!("{person} non è nel personale del comune {comune}");
                }
                println!("{person} disabilitato");
            }
            StaffCommand::Enable { cf } => {
                let person = person(&cf)?;
                if !store.set_staff_disabled(comune, &person, None).await? {
                    bail!("{person} non è nel personale del comune {comune}");
                }
                println!("{person} abilitato");
            }
        }
        Ok(())
    }

    /// `sigillo audit verify`: every chain walked, each one's outcome
    /// printed; an error naming the broken ones.
    async fn audit_verify(&self, comune_named: bool) -> anyhow::Result<()> {
        let store = self.store().await?;
        let comuni = if comune_named {
            vec![self.config.comune.code]
        } else {
            store
                .list_comuni()
                .await?
                .into_iter()
                .map(|comune| comune.code)
                .collect()
        };
        if comuni.is_empty() {
            println!("Nessun comune nel database: nessuna catena da verificare.");
            return Ok(());
        }
        let mut broken = Vec::new();
        for code in comuni {
            match store.verify_audit_chain(code).await? {
                Ok(count) => println!("{code}: {count} voci, catena integra."),
                Err(seq) => {
                    let found = store.audit_entry(code, seq).await?;
                    let what = match found {
                        Some(entry) => format!(
                            " ({} del {}, soggetto {})",
                            entry.event,
                            entry.at.format(&Rfc3339).unwrap_or_default(),
                            entry.subject
                        ),
                        None => String::new(),
                    };
                    println!(
                        "{code}: catena interrotta alla voce {seq}{what}: la voce, o quella che la precede, è stata alterata o tolta."
                    );
                    broken.push(format!("{code} alla voce {seq}"));
                }
            }
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(AuditBroken(broken).into())
        }
    }

    async fn certificates(&self, action: CertificatesCommand) -> anyhow::Result<()> {
        let store = self.store().await?;
        let comune = self.comune.code;
        match action {
            CertificatesCommand::List { status, limit } => {
                let status = status.as_deref().map(parse_status).transpose()?;
                let filter = CertificateFilter {
                    status,
                    limit,
                    ..CertificateFilter::default()
                };
                let records = store.list_certificates(comune, &filter).await?;
                if records.is_empty() {
                    println!("Nessun certificato.");
                }
                for record in records {
                    println!(
                        "{}  {:<10}  {}  {}",
                        record.number,
                        record.status.italian(),
                        record.holder,
                        record.kind.title()
                    );
                }
            }
            CertificatesCommand::Show { number } => {
                let record = find(&store, comune, &number).await?;
                let history = store.audit_entries(comune, Some(&record.id), 1000).await?;
                let claims = seal::verify(
                    &record.seal,
                    &self.keys.trust_store()?,
                    OffsetDateTime::now_utc(),
                )
                .ok()
                .map(|verified| verified.claims().clone());
                print_record(&record, claims.as_ref(), &history);
            }
            CertificatesCommand::Revoke { number, reason } => {
                take_out_of_force(&store, comune, &number, Withdrawal::Revoke { reason }).await?;
            }
            CertificatesCommand::Supersede { number, by } => {
                let by = CertificateNumber::parse(&by)?;
                take_out_of_force(&store, comune, &number, Withdrawal::Supersede { by }).await?;
            }
            CertificatesCommand::Pdf { number, out } => {
                let record = find(&store, comune, &number).await?;
                let pdf = store.certificate_pdf(comune, &record.id).await?;
                write_pdf(&out, &pdf)?;
                println!(
                    "PDF del certificato n. {} scritto in {}",
                    record.number,
                    out.display()
                );
            }
        }
        Ok(())
    }
}

/// The demo's sample holder: a resident head of family with full
/// certifiability in the demo registry.
const DEMO_HOLDER: &str = "PRSRRT80H69G504L";

/// `certificates revoke|supersede`: the library's withdrawal, on behalf of
/// the command line, and what it did.
async fn take_out_of_force(
    store: &Store,
    comune: seal::ComuneCode,
    number: &str,
    withdrawal: Withdrawal,
) -> anyhow::Result<()> {
    let number = CertificateNumber::parse(number)?;
    let done = match &withdrawal {
        Withdrawal::Revoke { .. } => "revocato".to_owned(),
        Withdrawal::Supersede { by } => format!("sostituito dal n. {by}"),
    };
    withdraw(
        store,
        comune,
        number,
        withdrawal,
        "cli",
        OffsetDateTime::now_utc(),
    )
    .await?;
    println!("Certificato n. {number} {done}.");
    Ok(())
}

async fn find(
    store: &Store,
    comune: seal::ComuneCode,
    number: &str,
) -> anyhow::Result<CertificateRecord> {
    let number = CertificateNumber::parse(number)?;
    store
        .certificate_by_number(comune, number)
        .await?
        .with_context(|| format!("nessun certificato n. {number}"))
}

fn parse_parcel(text: &str) -> anyhow::Result<(String, String, Option<String>)> {
    let parts: Vec<&str> = text.split('/').map(str::trim).collect();
    match parts.as_slice() {
        [foglio, particella] if !foglio.is_empty() && !particella.is_empty() => {
            Ok(((*foglio).to_owned(), (*particella).to_owned(), None))
        }
        [foglio, particella, sub]
            if !foglio.is_empty() && !particella.is_empty() && !sub.is_empty() =>
        {
            Ok((
                (*foglio).to_owned(),
                (*particella).to_owned(),
                Some((*sub).to_owned()),
            ))
        }
        _ => bail!(
            "particella {text:?}: scrivere FOGLIO/PARTICELLA oppure FOGLIO/PARTICELLA/SUBALTERNO"
        ),
    }
}

/// A status as `certificates list` prints it («revocato») or by its code
/// («revoked»), in any case.
fn parse_status(text: &str) -> anyhow::Result<CertificateStatus> {
    let wanted = text.trim().to_lowercase();
    CertificateStatus::ALL
        .into_iter()
        .find(|status| status.italian() == wanted || status.code() == wanted)
        .with_context(|| {
            let names: Vec<&str> = CertificateStatus::ALL
                .iter()
                .map(|status| status.italian())
                .collect();
            format!("stato sconosciuto «{}»: {}", text.trim(), names.join(", "))
        })
}

fn file_stem(number: &CertificateNumber) -> String {
    number.to_string().replace('/', "-")
}

fn write_pdf(path: &Path, pdf: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, pdf).with_context(|| format!("scrittura di {}", path.display()))
}

fn print_issued(issued: &Issued, out: &Path) {
    println!(
        "Rilasciato il certificato n. {} ({}), scritto in {}",
        issued.record.number,
        issued.record.kind.title(),
        out.display()
    );
    println!("Verifica: {}", issued.verification_url);
}

/// `certificates show`: the registry's record, what its seal says of the
/// stamp duty, and the withdrawal from the audit trail (who and when).
fn print_record(
    record: &CertificateRecord,
    claims: Option<&seal::Claims>,
    history: &[store::AuditRecord],
) {
    let time = |t: OffsetDateTime| seal::rome::date_time_text(t);
    println!("Certificato n. {}", record.number);
    println!("  tipo:         {}", record.kind.title());
    println!("  intestatario: {}", record.holder);
    println!("  uso:          {}", record.usage);
    println!("  stato:        {}", record.status.italian());
    println!("  preparato:    {}", time(record.created_at));
    match record.issued_at {
        Some(at) => println!("  rilasciato:   {}", time(at)),
        None => println!("  rilasciato:   non ancora"),
    }
    match record.expires_at {
        Some(at) => println!("  scadenza:     {}", seal::rome::date_text(at)),
        None => println!("  scadenza:     nessuna (validità illimitata)"),
    }
    match claims.and_then(|claims| claims.bollo.as_ref()) {
        Some(seal::BolloRef::Iuv(iuv)) => {
            println!("  bollo:        virtuale, pagato con pagoPA, IUV {iuv}")
        }
        Some(seal::BolloRef::Iubd(iubd)) => {
            println!("  bollo:        marca da bollo digitale, IUBD {iubd}")
        }
        Some(seal::BolloRef::MarcaDigitale) => match &record.bollo_reference {
            Some(iubd) => println!(
                "  bollo:        marca da bollo digitale sull'impronta del PDF, IUBD {iubd}"
            ),
            None => println!(
                "  bollo:        marca da bollo digitale sull'impronta del PDF, non ancora acquistata"
            ),
        },
        Some(seal::BolloRef::Marca { id, issued_on }) => println!(
            "  bollo:        marca da bollo n. {id} emessa il {}",
            seal::rome::day_text(*issued_on)
        ),
        None if matches!(record.usage.stamp, seal::Stamp::Exempt { .. }) => {
            println!("  bollo:        esente");
        }
        None => println!("  bollo:        da assolvere"),
    }
    let withdrawal = history.iter().rev().find(|entry| {
        entry.event == "certificate.revoked" || entry.event == "certificate.superseded"
    });
    match (record.status, withdrawal) {
        (CertificateStatus::Revoked, entry) => {
            let at = record.revoked_at.or(entry.map(|entry| entry.at));
            println!(
                "  revocato:     il {} da {}",
                at.map_or_else(|| "(data non registrata)".to_owned(), time),
                entry.map_or("(operatore non registrato)", |entry| entry.actor.as_str())
            );
            if let Some(reason) = &record.revocation_reason {
                println!("  motivo:       {reason}");
            }
        }
        (CertificateStatus::Superseded, Some(entry)) => {
            let by = entry.detail.strip_prefix("by=").unwrap_or(&entry.detail);
            println!(
                "  sostituito:   dal n. {by}, il {} da {}",
                time(entry.at),
                entry.actor
            );
        }
        _ => {}
    }
    println!("  firmatario:   {}", record.kid);
    println!("  SHA-256 del PDF: {}", record.pdf_sha256);
    println!("  emesso da:    {}", record.issued_by);
}

fn import_failure(error: ImportError) -> anyhow::Error {
    if let ImportError::Rejected { errors, total } = &error {
        for row in errors {
            eprintln!("  {row}");
        }
        if *total > errors.len() {
            eprintln!("  … e altri {} errori", total - errors.len());
        }
    }
    anyhow::Error::new(error)
}

fn print_certificate(role: &str, certificate: &CertificateInfo, current: bool) {
    let time = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_else(|_| t.to_string());
    println!("{role}{}", if current { " (in uso)" } else { "" });
    println!("  kid:      {}", certificate.kid());
    println!("  soggetto: {}", certificate.subject());
    println!(
        "  validità: {} → {}",
        time(certificate.not_before()),
        time(certificate.not_after())
    );
    println!("  SHA-256:  {}", certificate.sha256_fingerprint());
}

fn init_logging(server: bool) {
    use tracing_subscriber::EnvFilter;
    // A server logs what it does; a command says it on standard output.
    let default = if server { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
