//! `sigillo verify`: checks a certificate offline — its PDF, a scan or a
//! photo of the paper, or the seal's text — with the `verifier` library,
//! and prints the report in Italian or as JSON.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use keys::{CertificateInfo, KeyStore};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use verifier::{
    Input, NoStatus, Outcome, Report, SignedTrustList, StatusLists, StatusSource, Trust, Verifier,
};

use crate::config::Config;

/// What the exit code says.
const EXIT_CODES: &str = "\
Codici di uscita:
  0  documento autentico e in corso di validità
  1  documento autentico ma non in corso di validità: revocato, sostituito,
     scaduto, non ancora rilasciato, o stato non verificabile (senza
     --status-list lo stato non è verificabile: «sigillo autentico» non vuol
     dire «in corso di validità»)
  2  sigillo o PDF non valido: falso, alterato o di un firmatario non
     attendibile
  3  nessun sigillo trovato
  4  uso errato del comando, o file non leggibile (anche la fiducia o la
     lista di stato indicate)";

/// Check a certificate: a PDF, a PNG or JPEG scan or photo, or the seal's
/// text (the URL of the QR code or its digits).
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct VerifyArgs {
    /// Trust: a PEM file of certificates (a comune's CA, and its seal
    /// signers), or a comune's signed trust list, whose CA must also be
    /// given as PEM (it is pinned). Repeat for more files. Without it, the
    /// keys in the data directory are trusted.
    #[arg(long = "trust", value_name = "FILE")]
    trust: Vec<PathBuf>,
    /// A comune's signed status list (CWT), to tell whether the certificate
    /// was revoked or replaced. Repeat for more comuni. Without it, the
    /// status is reported as not verifiable.
    #[arg(long = "status-list", value_name = "FILE")]
    status_lists: Vec<PathBuf>,
    /// Print the report as JSON, as the verification API returns it.
    #[arg(long)]
    json: bool,
    /// Verify as of this instant (RFC 3339, e.g. 2026-03-05T10:00:00Z)
    /// instead of now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    now: Option<OffsetDateTime>,
    /// A PDF, PNG or JPEG file; `-` to read standard input (text or a
    /// file's bytes); or the seal's text itself.
    #[arg(value_name = "INPUT")]
    input: String,
}

/// Runs the command and ends the process with its exit code (see
/// [`EXIT_CODES`]). Returns only on an error, which the caller reports with
/// exit code 4.
pub(crate) fn run(args: VerifyArgs, config: &Config) -> anyhow::Result<()> {
    let (code, output) = execute(&args, config)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
        .context("scrittura del risultato")?;
    if code != 0 {
        // The report is printed; the exit code is the rest of the answer.
        std::process::exit(code);
    }
    Ok(())
}

/// Verifies and returns the exit code and what to print.
fn execute(args: &VerifyArgs, config: &Config) -> anyhow::Result<(i32, String)> {
    let now = args.now.unwrap_or_else(OffsetDateTime::now_utc);
    let trust = load_trust(&args.trust, config, now)?;
    let mut lists = StatusLists::new();
    for path in &args.status_lists {
        let bytes = read_file(path)?;
        lists
            .load(&bytes, &trust, now)
            .with_context(|| format!("lista di stato {}", path.display()))?;
    }
    let status: &dyn StatusSource = if args.status_lists.is_empty() {
        &NoStatus
    } else {
        &lists
    };
    let bytes = read_input(&args.input)?;
    let bytes = verifier::utf8_text(&bytes)
        .context("il testo è in UTF-16 ma non è valido: salvarlo in UTF-8")?
        .into_owned();
    let report = Verifier::new(&trust).verify_now(Input::sniff(&bytes), status, now);
    let output = if args.json {
        format!("{}\n", report.to_json())
    } else {
        human(&report)
    };
    Ok((exit_code(&report), output))
}

fn exit_code(report: &Report) -> i32 {
    match &report.outcome {
        Outcome::Authentic { status, .. } if status.is_valid() => 0,
        Outcome::Authentic { .. } => 1,
        Outcome::Invalid { .. } => 2,
        Outcome::NotFound => 3,
    }
}

/// The report for a person at a terminal.
fn human(report: &Report) -> String {
    let mut out = format!("{}\n\n{}\n", report.headline, report.detail);
    match &report.outcome {
        Outcome::Authentic { facts, .. } => {
            out.push_str("\nContenuto del sigillo (da confrontare con il documento):\n");
            let width = facts
                .lines
                .iter()
                .map(|line| line.label.chars().count())
                .max()
                .unwrap_or(0);
            for line in &facts.lines {
                let pad = width - line.label.chars().count();
                out.push_str(&format!(
                    "  {}:{} {}\n",
                    line.label,
                    " ".repeat(pad),
                    line.value
                ));
            }
            if let Some(signer) = &report.signer {
                out.push_str(&format!(
                    "\nFirmatario del sigillo: {} (kid {})\n",
                    signer.subject, signer.kid
                ));
            }
            if let Some(pdf) = &report.pdf_signature {
                out.push_str(&format!(
                    "Firma elettronica del PDF: valida, apposta il {} (kid {})\n",
                    pdf.signed_at.format(&Rfc3339).unwrap_or_default(),
                    pdf.signer.kid
                ));
            }
        }
        Outcome::Invalid { step, reason } => {
            out.push_str(&format!(
                "\nPasso non superato: {} di 9 — {} ({})\n",
                step.number(),
                step.label(),
                reason.code()
            ));
        }
        Outcome::NotFound => {}
    }
    for code in &report.ignored_codes {
        out.push_str(&format!(
            "Ignorato: {} — {}\n",
            code.text,
            code.reason.message()
        ));
    }
    out
}

/// The trust of `--trust` files, or the data directory's key store.
fn load_trust(files: &[PathBuf], config: &Config, now: OffsetDateTime) -> anyhow::Result<Trust> {
    if files.is_empty() {
        let trust = Trust::from_keys(&KeyStore::new(&config.data_dir))
            .context("lettura delle chiavi nella cartella dati")?;
        if trust.is_empty() {
            bail!(
                "nessun certificato attendibile in {}: indicare --trust FILE (il certificato della CA del comune) o eseguire `sigillo init`",
                config.data_dir.display()
            );
        }
        return Ok(trust);
    }
    let mut trust = Trust::default();
    let mut lists = Vec::new();
    for path in files {
        let bytes = read_file(path)?;
        let text = std::str::from_utf8(&bytes).ok();
        if let Some(pem) = text.filter(|t| t.contains("-----BEGIN CERTIFICATE-----")) {
            trust
                .add_pem(pem)
                .with_context(|| format!("certificati in {}", path.display()))?;
        } else if bytes.first() == Some(&0x30) {
            let certificate = CertificateInfo::from_der(&bytes)
                .with_context(|| format!("certificato in {}", path.display()))?;
            trust
                .add_pem(&certificate.to_pem())
                .with_context(|| format!("certificato in {}", path.display()))?;
        } else {
            lists.push((path, bytes));
        }
    }
    // Signed lists last: each is opened against a CA pinned above.
    for (path, bytes) in lists {
        let context = || format!("elenco dei firmatari {}", path.display());
        let kid = SignedTrustList::signer_kid(&bytes).with_context(context)?;
        let pinned = trust
            .store()
            .cas()
            .find(|ca| ca.kid() == kid)
            .cloned()
            .with_context(|| {
                format!(
                    "{}: la CA che lo firma (kid {kid}) non è tra i certificati dati con --trust",
                    context()
                )
            })?;
        let list = SignedTrustList::open(&bytes, &pinned, now).with_context(context)?;
        trust.add_list(&list).with_context(context)?;
    }
    Ok(trust)
}

/// The input's bytes: standard input for `-`, a file if one is there, or
/// else the argument itself as the seal's text.
fn read_input(input: &str) -> anyhow::Result<Vec<u8>> {
    if input == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("lettura dello standard input")?;
        return Ok(bytes);
    }
    let path = Path::new(input);
    if path.is_file() {
        return read_file(path);
    }
    let trimmed = input.trim();
    let looks_like_seal = trimmed.starts_with(|c: char| c.is_ascii_digit())
        || trimmed
            .get(..8)
            .is_some_and(|head| head.eq_ignore_ascii_case("https://"));
    if !looks_like_seal {
        bail!("{input}: file non trovato, e non è il testo di un sigillo");
    }
    Ok(input.as_bytes().to_vec())
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("lettura di {}", path.display()))
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| "non è un istante RFC 3339, es. 2026-03-05T10:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};
    use keys::Comune;
    use seal::{ComuneCode, Seal};
    use time::Duration;

    struct Setup {
        _dir: tempfile::TempDir,
        config: Config,
        seal_text: String,
        keys: KeyStore,
    }

    /// A data directory with the demo comune's keys, and a seal they
    /// signed an hour ago, valid for six months.
    fn setup() -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::load(
            Some(Path::new("/dev/null")),
            Overrides {
                data_dir: Some(dir.path().to_path_buf()),
                ..Overrides::default()
            },
        )
        .expect("config");
        let keys = KeyStore::new(dir.path());
        let comune = Comune {
            code: ComuneCode::parse("999001").expect("code"),
            name: "Borgo Sigillo".into(),
        };
        let now = OffsetDateTime::now_utc();
        keys.init(&comune, now - Duration::days(1), false)
            .expect("keys");
        let mut claims = seal::samples::residenza();
        claims.issued_at = (now - Duration::hours(1))
            .replace_nanosecond(0)
            .expect("whole seconds");
        claims.expires_at = Some(claims.issued_at + Duration::days(183));
        let signer = keys.signer(comune.code).expect("signer");
        let seal = Seal::sign(&claims, &signer).expect("signs");
        Setup {
            seal_text: seal.to_url("certificati.borgosigillo.example.it"),
            _dir: dir,
            config,
            keys,
        }
    }

    fn args(input: &str) -> VerifyArgs {
        VerifyArgs {
            trust: Vec::new(),
            status_lists: Vec::new(),
            json: false,
            now: None,
            input: input.to_owned(),
        }
    }

    #[test]
    fn an_authentic_seal_without_a_status_list_exits_1_and_says_the_validity_is_unchecked() {
        let setup = setup();
        let (code, output) = execute(&args(&setup.seal_text), &setup.config).expect("runs");
        assert_eq!(code, 1, "{output}");
        assert!(output.starts_with("VALIDITÀ NON VERIFICATA"), "{output}");
        assert!(output.contains("Cognome:"), "{output}");
    }

    #[test]
    fn a_status_list_saying_valid_makes_it_exit_0() {
        let setup = setup();
        let dir = tempfile::tempdir().expect("temp dir");
        let now = OffsetDateTime::now_utc();
        // The sample's status index is 122.
        let mut statuses = verifier::StatusList::new(2).expect("bits");
        statuses
            .set(122, verifier::StatusList::VALID)
            .expect("fits");
        let token = statuses
            .to_cwt(
                &setup
                    .keys
                    .signer(ComuneCode::parse("999001").expect("code"))
                    .expect("signer"),
                "https://certificati.borgosigillo.example.it/status",
                now - Duration::minutes(1),
                now + Duration::days(1),
                Duration::hours(1),
            )
            .expect("signs");
        let path = dir.path().join("status.cwt");
        std::fs::write(&path, token).expect("write");
        let mut args = args(&setup.seal_text);
        args.status_lists = vec![path];
        args.json = true;
        let (code, output) = execute(&args, &setup.config).expect("runs");
        assert_eq!(code, 0, "{output}");
        assert!(output.contains(r#""outcome": "authentic""#), "{output}");
        assert!(output.contains(r#""state": "valid""#), "{output}");
    }

    #[test]
    fn a_changed_seal_exits_2_and_names_the_step() {
        let setup = setup();
        let mut text = setup.seal_text.clone();
        let last = text.pop().expect("a digit");
        text.push(if last == '1' { '2' } else { '1' });
        let (code, output) = execute(&args(&text), &setup.config).expect("runs");
        assert_eq!(code, 2, "{output}");
        assert!(output.contains("Passo non superato"), "{output}");
    }

    #[test]
    fn a_ca_pem_given_with_trust_replaces_the_data_directory() {
        let setup = setup();
        let dir = tempfile::tempdir().expect("temp dir");
        let certificates = setup
            .keys
            .certificates(ComuneCode::parse("999001").expect("code"))
            .expect("certificates");
        let mut pem = certificates.ca.to_pem();
        for signer in &certificates.signers {
            pem.push_str(&signer.to_pem());
        }
        let path = dir.path().join("trust.pem");
        std::fs::write(&path, pem).expect("write");
        let mut args = args(&setup.seal_text);
        args.trust = vec![path];
        let empty = Config {
            data_dir: dir.path().join("nothing-here"),
            ..setup.config.clone()
        };
        let (code, output) = execute(&args, &empty).expect("runs");
        assert_eq!(code, 1, "{output}");
    }

    #[test]
    fn an_image_without_a_seal_exits_3() {
        let setup = setup();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bianca.png");
        image::GrayImage::from_pixel(400, 300, image::Luma([255]))
            .save(&path)
            .expect("write a PNG");
        let input = path.to_str().expect("a UTF-8 path");
        let (code, output) = execute(&args(input), &setup.config).expect("runs");
        assert_eq!(code, 3, "{output}");
        assert!(output.starts_with("Nessun sigillo trovato"), "{output}");
    }

    #[test]
    fn a_missing_file_that_is_no_seal_text_is_an_error() {
        let setup = setup();
        assert!(execute(&args("certificato.pdf"), &setup.config).is_err());
    }

    #[test]
    fn the_time_must_be_rfc_3339() {
        assert!(parse_time("2026-03-05T10:00:00Z").is_ok());
        assert!(parse_time("05/03/2026").is_err());
    }
}
