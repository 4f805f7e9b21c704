//! The use a certificate is asked for, as the command line, the API and
//! the registry write it: `bollo`, `esente:<id>` or `esente:99:<motivo>`,
//! with an optional clause after a slash (`/estero`, `/immigrazione`,
//! `/giudiziario`). Parsed once at the edge into a [`Usage`]; the store
//! keeps the text [`usage_text`] writes and reads it back with
//! [`parse_usage`].

use crate::{Clause, Stamp, Usage};

/// ANPR's exemption 10: exchange between public administrations.
const EXCHANGE_BETWEEN_ADMINISTRATIONS: u16 = 10;

/// Why a use's text is not one Sigillo knows. The message says how to
/// write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// The use is not `bollo` or `esente:<id>`.
    #[error("uso non valido: {0:?}; scrivere «bollo» oppure «esente:<codice>» (es. esente:9)")]
    BadUse(String),
    /// No exemption with that id.
    #[error("esenzione sconosciuta: {0}")]
    UnknownExemption(u16),
    /// Exemption 99 needs its reason, at most 256 characters.
    #[error(
        "l'esenzione 99 (altro) richiede il motivo, al massimo 256 caratteri: esente:99:<motivo>"
    )]
    MissingNote,
    /// ANPR allows the immigration and court clauses only when exempt.
    #[error("la clausola {0} è ammessa solo sui certificati esenti dall'imposta di bollo")]
    ClauseNeedsExemption(&'static str),
    /// Exemption 10 (exchange between administrations) carries its own
    /// clause; another one contradicts it.
    #[error(
        "l'esenzione 10 (scambio tra pubbliche amministrazioni) ha una clausola propria: non si può indicare /{0}"
    )]
    ClauseContradictsExemption(String),
    /// Unknown clause name.
    #[error("clausola sconosciuta: {0:?} (clausole: estero, immigrazione, giudiziario)")]
    UnknownClause(String),
}

/// Parses a use as the command line and the API write it: `bollo`,
/// `esente:<id>` or `esente:99:<motivo>`, with an optional clause after a
/// slash: `/estero`, `/immigrazione`, `/giudiziario`.
pub fn parse_usage(text: &str) -> Result<Usage, UsageError> {
    let text = text.trim();
    let (head, clause) = match text.rsplit_once('/') {
        Some((head, clause))
            if !head.starts_with("esente:99:") || clause_name(clause).is_some() =>
        {
            (head, Some(clause))
        }
        _ => (text, None),
    };
    let clause = match clause {
        None => Clause::Standard,
        Some(name) => {
            clause_name(name).ok_or_else(|| UsageError::UnknownClause(name.to_owned()))?
        }
    };
    let stamp = if head.eq_ignore_ascii_case("bollo") {
        Stamp::Bollo
    } else if let Some(rest) = head.strip_prefix("esente:") {
        let (id, note) = match rest.split_once(':') {
            Some((id, note)) => (id, Some(note.trim().to_owned())),
            None => (rest, None),
        };
        let id: u16 = id
            .trim()
            .parse()
            .map_err(|_| UsageError::BadUse(text.to_owned()))?;
        if id == crate::wording::STATO_CIVILE_EXEMPTION || crate::wording::exemption(id).is_none() {
            // The stato civile exemption follows from the kind, never declared.
            return Err(UsageError::UnknownExemption(id));
        }
        match (id, note) {
            (99, Some(note)) if !note.is_empty() && note.chars().count() <= 256 => Stamp::Exempt {
                code: 99,
                note: Some(note),
            },
            (99, _) => return Err(UsageError::MissingNote),
            (_, Some(_)) => return Err(UsageError::BadUse(text.to_owned())),
            (id, None) => Stamp::Exempt {
                code: id,
                note: None,
            },
        }
    } else {
        return Err(UsageError::BadUse(text.to_owned()));
    };
    if stamp == Stamp::Bollo {
        match clause {
            Clause::Immigrazione => {
                return Err(UsageError::ClauseNeedsExemption("immigrazione"));
            }
            Clause::Giudiziario => return Err(UsageError::ClauseNeedsExemption("giudiziario")),
            Clause::Standard | Clause::Estero | Clause::Amministrazione => {}
        }
    }
    // A certificate exchanged between administrations is not produced to
    // private parties: art. 40's prohibition on producing it to the PA
    // would contradict its use.
    let clause = match (&stamp, clause, text.rsplit_once('/')) {
        (
            Stamp::Exempt {
                code: EXCHANGE_BETWEEN_ADMINISTRATIONS,
                ..
            },
            Clause::Standard,
            _,
        ) => Clause::Amministrazione,
        (
            Stamp::Exempt {
                code: EXCHANGE_BETWEEN_ADMINISTRATIONS,
                ..
            },
            _,
            Some((_, name)),
        ) => {
            return Err(UsageError::ClauseContradictsExemption(
                name.trim().to_owned(),
            ));
        }
        (_, clause, _) => clause,
    };
    Ok(Usage { stamp, clause })
}

/// Writes a use back in the form [`parse_usage`] reads.
pub fn usage_text(usage: &Usage) -> String {
    let head = match &usage.stamp {
        Stamp::Bollo => "bollo".to_owned(),
        Stamp::Exempt {
            code,
            note: Some(note),
        } => format!("esente:{code}:{note}"),
        Stamp::Exempt { code, note: None } => format!("esente:{code}"),
    };
    match usage.clause {
        Clause::Standard => head,
        Clause::Estero => format!("{head}/estero"),
        Clause::Immigrazione => format!("{head}/immigrazione"),
        Clause::Giudiziario => format!("{head}/giudiziario"),
        // Implied by exemption 10.
        Clause::Amministrazione => head,
    }
}

fn clause_name(name: &str) -> Option<Clause> {
    match name.trim().to_ascii_lowercase().as_str() {
        "estero" => Some(Clause::Estero),
        "immigrazione" => Some(Clause::Immigrazione),
        "giudiziario" => Some(Clause::Giudiziario),
        _ => None,
    }
}

/// The use in the form [`parse_usage`] reads, as [`usage_text`] writes it.
impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&usage_text(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exchange_between_administrations_never_prints_the_prohibition_to_produce_it_to_them() {
        let usage = parse_usage("esente:10").expect("parses");
        assert_eq!(usage.clause, Clause::Amministrazione);
        let sentence = crate::wording::clause_sentence(usage.clause);
        assert!(!sentence.contains("non può essere prodotto"), "{sentence}");
        assert!(sentence.contains("Tabella B, art. 16"), "{sentence}");
        assert_eq!(usage_text(&usage), "esente:10");
        assert_eq!(parse_usage(&usage_text(&usage)), Ok(usage));
        assert_eq!(
            parse_usage("esente:10/estero"),
            Err(UsageError::ClauseContradictsExemption("estero".into()))
        );
        // Every other exemption keeps the art. 40 clause it is given.
        for id in [1, 2, 3, 4, 5, 6, 7, 8, 9] {
            let usage = parse_usage(&format!("esente:{id}")).expect("parses");
            assert_eq!(usage.clause, Clause::Standard, "esente:{id}");
        }
    }

    #[test]
    fn uses_parse_and_print_back() {
        for text in [
            "bollo",
            "esente:9",
            "esente:3/giudiziario",
            "bollo/estero",
            "esente:99:uso interno",
        ] {
            let usage = parse_usage(text).expect(text);
            assert_eq!(usage_text(&usage), text);
        }
    }

    #[test]
    fn bad_uses_are_refused_with_the_reason() {
        assert_eq!(
            parse_usage("gratis"),
            Err(UsageError::BadUse("gratis".into()))
        );
        assert_eq!(
            parse_usage("esente:42"),
            Err(UsageError::UnknownExemption(42))
        );
        assert_eq!(parse_usage("esente:99"), Err(UsageError::MissingNote));
        assert_eq!(
            parse_usage("bollo/giudiziario"),
            Err(UsageError::ClauseNeedsExemption("giudiziario"))
        );
        assert!(matches!(
            parse_usage("esente:9/luna"),
            Err(UsageError::UnknownClause(_))
        ));
    }
}
