//! The command line. `sigillo` with no command runs the demo; `sigillo keys
//! init|show|rotate` manage a comune's keys.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use keys::{CertificateInfo, Comune, KeyStore};
use seal::{Seal, samples};
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
    /// Data directory for keys and the database (default: ./sigillo-data).
    #[arg(long, env = "SIGILLO_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
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
    /// Run the demo: create the demo comune's keys if missing, then seal
    /// and verify a sample certificate.
    Demo,
    /// Manage the comune's CA and seal-signer keys.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
}

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
}

/// Runs the command line and turns the outcome into an exit code: 0 done,
/// 1 failed (the reason on standard error), 2 usage error.
pub fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("errore: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(
        cli.config.as_deref(),
        Overrides {
            data_dir: cli.data_dir,
            comune_code: cli.comune_code,
            comune_name: cli.comune_name,
            database_url: None,
        },
    )?;
    let store = KeyStore::new(&config.data_dir);
    let comune = Comune {
        code: config.comune.code,
        name: config.comune.name.clone(),
    };
    let now = OffsetDateTime::now_utc();
    match cli.command.unwrap_or(Command::Demo) {
        Command::Demo => demo(&config, &store, &comune, now),
        Command::Keys {
            action: KeysCommand::Init { force },
        } => {
            let certificates = store.init(&comune, now, force)?;
            println!(
                "Chiavi create per il Comune di {} ({})",
                comune.name, comune.code
            );
            println!("  in {}", store.comune_dir(comune.code).display());
            print_certificate("CA", &certificates.ca, false);
            for signer in &certificates.signers {
                print_certificate("Firmatario", signer, signer.kid() == certificates.current);
            }
            Ok(())
        }
        Command::Keys {
            action: KeysCommand::Show,
        } => {
            let certificates = store.certificates(comune.code)?;
            println!(
                "Comune {} — {}",
                comune.code,
                store.comune_dir(comune.code).display()
            );
            print_certificate("CA", &certificates.ca, false);
            for signer in &certificates.signers {
                print_certificate("Firmatario", signer, signer.kid() == certificates.current);
            }
            Ok(())
        }
        Command::Keys {
            action: KeysCommand::Rotate,
        } => {
            let signer = store.rotate(&comune, now)?;
            println!("Nuovo firmatario in uso per il Comune di {}", comune.name);
            print_certificate("Firmatario", &signer, true);
            println!("I certificati già emessi restano verificabili con il firmatario precedente.");
            Ok(())
        }
    }
}

fn demo(
    config: &Config,
    store: &KeyStore,
    comune: &Comune,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    if !config.is_demo() {
        anyhow::bail!(
            "la demo funziona solo per il comune demo {}: indicare un comando",
            seal::samples::DEMO_COMUNE
        );
    }
    if store.has_keys(comune.code) {
        println!(
            "Chiavi del comune demo già presenti in {}",
            store.comune_dir(comune.code).display()
        );
    } else {
        store.init(comune, now, false)?;
        println!(
            "Chiavi del comune demo create in {}",
            store.comune_dir(comune.code).display()
        );
    }
    let signer = store.signer(comune.code)?;
    let trust = store.trust_store()?;
    let mut claims = samples::residenza();
    claims.issued_at = now.replace_nanosecond(0).context("orario di emissione")?;
    claims.expires_at = Some(claims.issued_at + time::Duration::days(183));
    let sealed = Seal::sign(&claims, &signer)?;
    let verified = seal::verify(sealed.as_bytes(), &trust, now)?;
    println!(
        "Sigillo di prova ({}, n. {}): {} byte, {} cifre nel QR, firma verificata con la chiave {}",
        verified.claims().kind.title(),
        verified.claims().number,
        sealed.as_bytes().len(),
        sealed.to_digits().len(),
        verified.kid()
    );
    println!("  {}", sealed.to_url("localhost"));
    Ok(())
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

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
