//! Configuration: built-in defaults, then an optional `sigillo.toml`, then
//! `SIGILLO_*` environment variables, then command-line flags, each
//! overriding the one before.

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    templates_dir: Option<PathBuf>,
    comune: Option<FileComune>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileComune {
    code: Option<String>,
    name: Option<String>,
    belfiore: Option<String>,
    province: Option<String>,
    creditor_fiscal_code: Option<String>,
    verification_host: Option<String>,
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
        Ok(Self {
            data_dir,
            database_url,
            templates_dir,
            comune: ComuneConfig {
                code,
                name,
                belfiore: file_comune.belfiore,
                province: file_comune.province,
                creditor_fiscal_code: file_comune.creditor_fiscal_code,
                verification_host: file_comune.verification_host,
            },
        })
    }

    /// Whether the configured comune is the fictional demo comune.
    pub fn is_demo(&self) -> bool {
        self.comune.code.as_str() == seal::samples::DEMO_COMUNE
    }
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
