//! Certificate templates: one text file per kind under `templates/`, with
//! placeholders for the kind's facts, the use, the mandatory clause and the
//! validity (minijinja syntax). The files are compiled into the binary; a
//! comune may reword them by putting its own copy in the templates
//! directory, as `<slug>.txt` for every comune or `<ISTAT code>/<slug>.txt`
//! for one, without recompiling. Every template is checked when loaded: a
//! syntax error, an unknown placeholder or a missing clause or validity
//! stops start-up with the file and line.
//!
//! The text's layout is light markup: a blank line ends a paragraph; a line
//! `# TEXT` is a centred heading; consecutive lines `| a | b |` are a table
//! whose first row is the header.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};
use seal::ComuneCode;
use serde::Serialize;

use crate::catalogue::CATALOGUE;
use crate::content::{Context, ParcelView, PersonView, UnionView, ZoneView};
use render::pdf::Block;

/// Why templates could not be loaded or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A template does not compile, or fails on sample data.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The template file.
        file: String,
        /// The line, 1-based (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A template leaves out the mandatory clause or the validity.
    #[error("{file}: il modello non stampa {missing}")]
    Incomplete {
        /// The template file.
        file: String,
        /// Which placeholder is missing: `{{ clausola }}` or `{{ validita }}`.
        missing: &'static str,
    },
    /// The templates directory could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// No template for this kind.
    #[error("nessun modello per il certificato {0}")]
    Missing(String),
}

/// The values every template receives besides the kind's own.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    /// The comune's name.
    pub comune: String,
    /// The use, as printed («Uso: …»).
    pub uso: String,
    /// The art. 40 clause.
    pub clausola: String,
    /// The validity sentence.
    pub validita: String,
}

/// The loaded templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    files: BTreeMap<String, String>,
}

const DEFAULTS: [(&str, &str); 17] = [
    ("nascita", include_str!("../../templates/nascita.txt")),
    ("matrimonio", include_str!("../../templates/matrimonio.txt")),
    (
        "cittadinanza",
        include_str!("../../templates/cittadinanza.txt"),
    ),
    (
        "esistenza_in_vita",
        include_str!("../../templates/esistenza_in_vita.txt"),
    ),
    ("residenza", include_str!("../../templates/residenza.txt")),
    (
        "residenza_aire",
        include_str!("../../templates/residenza_aire.txt"),
    ),
    (
        "stato_civile",
        include_str!("../../templates/stato_civile.txt"),
    ),
    (
        "stato_famiglia",
        include_str!("../../templates/stato_famiglia.txt"),
    ),
    (
        "stato_famiglia_stato_civile",
        include_str!("../../templates/stato_famiglia_stato_civile.txt"),
    ),
    (
        "residenza_convivenza",
        include_str!("../../templates/residenza_convivenza.txt"),
    ),
    (
        "stato_famiglia_aire",
        include_str!("../../templates/stato_famiglia_aire.txt"),
    ),
    (
        "stato_famiglia_parentela",
        include_str!("../../templates/stato_famiglia_parentela.txt"),
    ),
    (
        "stato_libero",
        include_str!("../../templates/stato_libero.txt"),
    ),
    (
        "unione_civile",
        include_str!("../../templates/unione_civile.txt"),
    ),
    (
        "contratto_convivenza",
        include_str!("../../templates/contratto_convivenza.txt"),
    ),
    (
        "contestuale",
        include_str!("../../templates/contestuale.txt"),
    ),
    ("cdu", include_str!("../../templates/cdu.txt")),
];

const CLAUSE_PROBE: &str = "\u{27E6}CLAUSOLA\u{27E7}";
const VALIDITY_PROBE: &str = "\u{27E6}VALIDITA\u{27E7}";

impl Templates {
    /// The built-in templates, each checked.
    pub fn builtin() -> Result<Self, TemplateError> {
        Self::load(None)
    }

    /// The built-in templates, overridden by the files found in `dir`
    /// (`<slug>.txt`, `<ISTAT code>/<slug>.txt`); every one is checked.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut sources: BTreeMap<String, (String, String)> = DEFAULTS
            .iter()
            .map(|(slug, text)| {
                (
                    (*slug).to_owned(),
                    (format!("templates/{slug}.txt"), (*text).to_owned()),
                )
            })
            .collect();
        if let Some(dir) = dir {
            read_overrides(dir, &mut sources)?;
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = env
            .syntax()
            .to_builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| invalid("templates", &e))?;
        env.set_syntax(syntax);
        let mut files = BTreeMap::new();
        for (name, (file, text)) in sources {
            env.add_template_owned(name.clone(), text)
                .map_err(|e| invalid(&file, &e))?;
            files.insert(name, file);
        }
        let templates = Self { env, files };
        templates.check_all()?;
        Ok(templates)
    }

    /// Renders the template of kind `slug` for `comune` into blocks.
    pub fn render(
        &self,
        comune: ComuneCode,
        slug: &str,
        frame: &Frame,
        context: &Context,
    ) -> Result<Vec<Block>, TemplateError> {
        let own = format!("{comune}/{slug}");
        let name = if self.files.contains_key(&own) {
            own
        } else {
            slug.to_owned()
        };
        let file = self
            .files
            .get(&name)
            .ok_or_else(|| TemplateError::Missing(slug.to_owned()))?;
        let template = self
            .env
            .get_template(&name)
            .map_err(|e| invalid(file, &e))?;
        let values = Value::from(Serde(Values { frame, context }));
        let text = template.render(values).map_err(|e| invalid(file, &e))?;
        Ok(blocks(&text))
    }

    /// Renders every template with sample data, so that an error surfaces
    /// at start-up and not at a citizen's request.
    fn check_all(&self) -> Result<(), TemplateError> {
        let frame = Frame {
            comune: "Borgo Sigillo".into(),
            uso: "Uso: consentito dalla legge, in bollo.".into(),
            clausola: CLAUSE_PROBE.into(),
            validita: VALIDITY_PROBE.into(),
        };
        let context = sample_context();
        for (name, file) in &self.files {
            let template = self.env.get_template(name).map_err(|e| invalid(file, &e))?;
            let text = template
                .render(Value::from(Serde(Values {
                    frame: &frame,
                    context: &context,
                })))
                .map_err(|e| invalid(file, &e))?;
            if !text.contains(CLAUSE_PROBE) {
                return Err(TemplateError::Incomplete {
                    file: file.clone(),
                    missing: "{{ clausola }}",
                });
            }
            if !text.contains(VALIDITY_PROBE) {
                return Err(TemplateError::Incomplete {
                    file: file.clone(),
                    missing: "{{ validita }}",
                });
            }
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Values<'a> {
    #[serde(flatten)]
    frame: &'a Frame,
    #[serde(flatten)]
    context: &'a Context,
}

fn read_overrides(
    dir: &Path,
    sources: &mut BTreeMap<String, (String, String)>,
) -> Result<(), TemplateError> {
    let io = |path: &Path, e: std::io::Error| TemplateError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let slugs: Vec<&str> = CATALOGUE.iter().map(|spec| spec.slug).collect();
    let mut read = |prefix: &str, folder: &Path| -> Result<(), TemplateError> {
        for spec in &slugs {
            let path = folder.join(format!("{spec}.txt"));
            if path.is_file() {
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                sources.insert(
                    format!("{prefix}{spec}"),
                    (path.display().to_string(), text),
                );
            }
        }
        Ok(())
    };
    read("", dir)?;
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && ComuneCode::parse(&name).is_ok() {
            read(&format!("{name}/"), &entry.path())?;
        }
    }
    Ok(())
}

fn invalid(file: &str, error: &minijinja::Error) -> TemplateError {
    let mut message = error.kind().to_string();
    if let Some(detail) = error.detail() {
        message = format!("{message}: {detail}");
    }
    TemplateError::Invalid {
        file: file.to_owned(),
        line: error.line().unwrap_or(0),
        message,
    }
}

/// Turns the rendered text into blocks (see the module doc).
pub fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    let flush_paragraph = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(paragraph.join(" ")));
            paragraph.clear();
        }
    };
    for line in text.lines().map(str::trim) {
        if let Some(row) = line.strip_prefix('|') {
            flush_paragraph(&mut paragraph, &mut blocks);
            let row = row.strip_suffix('|').unwrap_or(row);
            table.push(row.split('|').map(|cell| cell.trim().to_owned()).collect());
            continue;
        }
        if !table.is_empty() {
            blocks.push(Block::Table(std::mem::take(&mut table)));
        }
        if let Some(heading) = line.strip_prefix("# ") {
            flush_paragraph(&mut paragraph, &mut blocks);
            blocks.push(Block::Heading(heading.trim().to_owned()));
        } else if line.is_empty() {
            flush_paragraph(&mut paragraph, &mut blocks);
        } else {
            paragraph.push(line);
        }
    }
    if !table.is_empty() {
        blocks.push(Block::Table(table));
    }
    flush_paragraph(&mut paragraph, &mut blocks);
    blocks
}

/// A context with every field filled, for checking templates.
fn sample_context() -> Context {
    let person = |name: &str, relationship: &str| PersonView {
        full_name: format!("ROSSI {name}"),
        surname: "ROSSI".into(),
        given_names: name.into(),
        born: "nata".into(),
        desinenza: "a".into(),
        birth_date: "10/12/1985".into(),
        birth_place: "ROMA (RM)".into(),
        fiscal_code: "RSSMRA85T50H501Q".into(),
        citizenship: "ITALIANA".into(),
        civil_status: "coniugata".into(),
        relationship: relationship.into(),
    };
    Context {
        holder: person("MARIA", "Intestatario scheda"),
        address: "VIA ROMA 1, 00100 BORGO SIGILLO".into(),
        aire_country: "FRANCIA".into(),
        convivenza: "CASA DI RIPOSO SAN GIUSEPPE".into(),
        members: vec![
            person("MARIA", "Intestatario scheda"),
            person("LUCA", "Figlio / Figlia"),
        ],
        union: Some(UnionView {
            partner: "BIANCHI GIOVANNI".into(),
            date: "01/06/2010".into(),
            place: "BORGO SIGILLO".into(),
        }),
        parts: CATALOGUE.iter().map(|spec| spec.slug.to_owned()).collect(),
        last_part: "stato_famiglia".into(),
        parcels: vec![ParcelView {
            foglio: "12".into(),
            particella: "345".into(),
            subalterno: "2".into(),
            area: 1200,
            zones: vec![ZoneView {
                plan: "vigente".into(),
                code: "E1".into(),
                name: "Zona agricola".into(),
                share: "100%".into(),
                articles: "art. 24".into(),
                uses: "agricoltura".into(),
            }],
            constraints: "Vincolo paesaggistico (D.Lgs. 42/2004 art. 142)".into(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_templates_load_and_pass_their_checks() {
        Templates::builtin().expect("built-in templates are valid");
    }

    #[test]
    fn markup_becomes_headings_paragraphs_and_tables() {
        let text =
            "# CERTIFICA\nche ROSSI\nè residente.\n\n| Nome | Nascita |\n| ROSSI | 1985 |\nfine";
        assert_eq!(
            blocks(text),
            vec![
                Block::Heading("CERTIFICA".into()),
                Block::Paragraph("che ROSSI è residente.".into()),
                Block::Table(vec![
                    vec!["Nome".into(), "Nascita".into()],
                    vec!["ROSSI".into(), "1985".into()],
                ]),
                Block::Paragraph("fine".into()),
            ]
        );
    }

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn a_syntax_error_is_reported_with_file_and_line() {
        let dir = dir_with(&[("residenza.txt", "riga uno\nriga due {{ holder.full_name \n")]);
        match Templates::load(Some(dir.path())) {
            Err(TemplateError::Invalid { file, line, .. }) => {
                assert!(file.ends_with("residenza.txt"), "{file}");
                assert_eq!(line, 2);
            }
            other => panic!("expected an invalid template, got {other:?}"),
        }
    }

    #[test]
    fn an_unknown_placeholder_is_an_error_at_load() {
        let dir = dir_with(&[(
            "residenza.txt",
            "{{ clausola }}\n{{ validita }}\n{{ holder.surnme }}\n",
        )]);
        assert!(matches!(
            Templates::load(Some(dir.path())),
            Err(TemplateError::Invalid { line: 3, .. })
        ));
    }

    #[test]
    fn a_template_without_the_clause_is_refused() {
        let dir = dir_with(&[("999001/residenza.txt", "{{ validita }}\n")]);
        assert!(matches!(
            Templates::load(Some(dir.path())),
            Err(TemplateError::Incomplete {
                missing: "{{ clausola }}",
                ..
            })
        ));
    }

    #[test]
    fn a_comune_can_reword_its_own_template() {
        let own = "# ATTESTAZIONE PERSONALIZZATA\n{{ holder.full_name }}\n\n{{ clausola }}\n\n{{ validita }}\n";
        let dir = dir_with(&[("999001/residenza.txt", own)]);
        let templates = Templates::load(Some(dir.path())).expect("valid");
        let frame = Frame {
            comune: "X".into(),
            uso: "u".into(),
            clausola: "c".into(),
            validita: "v".into(),
        };
        let mine = templates
            .render(
                ComuneCode::parse("999001").expect("code"),
                "residenza",
                &frame,
                &sample_context(),
            )
            .expect("renders");
        assert_eq!(
            mine[0],
            Block::Heading("ATTESTAZIONE PERSONALIZZATA".into())
        );
        let others = templates
            .render(
                ComuneCode::parse("058091").expect("code"),
                "residenza",
                &frame,
                &sample_context(),
            )
            .expect("renders");
        assert_ne!(others[0], mine[0]);
    }
}
