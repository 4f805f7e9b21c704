//! Command-line usage errors in Italian. clap writes its own errors in
//! English; this module says the same things in the words of the rest of
//! the command line, from the error's kind and context, and picks the exit
//! code: `sigillo verify` keeps its codes distinct for scripts (4 is «usage
//! or I/O»), the other commands use 2 as is customary.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The exit code of a usage error of `sigillo verify`.
pub(crate) const VERIFY_USAGE_EXIT: u8 = 4;

/// The exit code of a usage error of the other commands.
pub(crate) const USAGE_EXIT: u8 = 2;

/// What to do with a parse failure: print the help or the version as clap
/// wrote them (exit 0), or an Italian error with the exit code.
pub(crate) enum Outcome {
    /// Help or version: clap's text, on standard output.
    Print(String),
    /// A usage error: the Italian text for standard error, and the code.
    Error(String, u8),
}

/// Turns clap's error into what the user sees. `verify` tells whether the
/// command line names the `verify` command.
pub(crate) fn explain(error: &clap::Error, verify: bool) -> Outcome {
    let code = if verify {
        VERIFY_USAGE_EXIT
    } else {
        USAGE_EXIT
    };
    let message = match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            return Outcome::Print(error.render().to_string());
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            return Outcome::Error(error.render().to_string(), code);
        }
        ErrorKind::InvalidValue => {
            let mut text = format!(
                "valore «{}» non ammesso per {}",
                context(error, ContextKind::InvalidValue),
                context(error, ContextKind::InvalidArg)
            );
            let valid = context(error, ContextKind::ValidValue);
            if !valid.is_empty() {
                text.push_str(&format!(" (valori ammessi: {valid})"));
            }
            text
        }
        ErrorKind::ValueValidation => {
            let mut text = format!(
                "valore «{}» non valido per {}",
                context(error, ContextKind::InvalidValue),
                context(error, ContextKind::InvalidArg)
            );
            // The cause is ours (a value parser of this crate), in Italian.
            if let Some(cause) = std::error::Error::source(error) {
                text.push_str(&format!(": {cause}"));
            }
            text
        }
        ErrorKind::UnknownArgument => format!(
            "argomento sconosciuto «{}»",
            context(error, ContextKind::InvalidArg)
        ),
        ErrorKind::InvalidSubcommand => format!(
            "comando sconosciuto «{}»",
            context(error, ContextKind::InvalidSubcommand)
        ),
        ErrorKind::MissingRequiredArgument => format!(
            "manca un argomento obbligatorio: {}",
            context(error, ContextKind::InvalidArg)
        ),
        ErrorKind::MissingSubcommand => "manca il comando".to_owned(),
        ErrorKind::ArgumentConflict => format!(
            "{} non si può usare insieme a {}",
            context(error, ContextKind::InvalidArg),
            context(error, ContextKind::PriorArg)
        ),
        ErrorKind::TooManyValues => format!(
            "troppi valori: «{}» è di troppo",
            context(error, ContextKind::InvalidValue)
        ),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => format!(
            "numero di valori errato per {}",
            context(error, ContextKind::InvalidArg)
        ),
        ErrorKind::NoEquals => format!(
            "{} vuole il valore dopo «=»",
            context(error, ContextKind::InvalidArg)
        ),
        ErrorKind::InvalidUtf8 => "un argomento non è testo UTF-8 valido".to_owned(),
        _ => "riga di comando non valida".to_owned(),
    };
    let mut text = format!("errore: {message}\n");
    for kind in [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedValue,
    ] {
        let suggestion = context(error, kind);
        if !suggestion.is_empty() {
            text.push_str(&format!("  forse si intendeva «{suggestion}»?\n"));
        }
    }
    text.push_str("Per l'elenco dei comandi e degli argomenti: sigillo --help\n");
    Outcome::Error(text, code)
}

/// A context value as plain text, lists joined with commas.
fn context(error: &clap::Error, kind: ContextKind) -> String {
    match error.get(kind) {
        None | Some(ContextValue::None) => String::new(),
        Some(ContextValue::Strings(values)) => values.join(", "),
        Some(ContextValue::StyledStrs(values)) => values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        Some(value) => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser as _;

    fn error_text(args: &[&str]) -> (String, u8) {
        let error = Cli::try_parse_from(args).expect_err("a usage error");
        match explain(&error, args.get(1) == Some(&"verify")) {
            Outcome::Error(text, code) => (text, code),
            Outcome::Print(text) => panic!("printed, not an error: {text}"),
        }
    }

    #[test]
    fn an_unknown_argument_is_told_in_italian_with_a_suggestion() {
        let (text, code) = error_text(&["sigillo", "verify", "--jsno", "x"]);
        assert!(
            text.starts_with("errore: argomento sconosciuto «--jsno»"),
            "{text}"
        );
        assert!(text.contains("forse si intendeva «--json»?"), "{text}");
        assert_eq!(code, VERIFY_USAGE_EXIT);
        for english in ["error:", "unexpected", "Usage:", "tip:"] {
            assert!(!text.contains(english), "{english} in {text}");
        }
    }

    #[test]
    fn a_missing_input_and_a_bad_time_are_told_in_italian() {
        let (text, code) = error_text(&["sigillo", "verify"]);
        assert!(
            text.starts_with("errore: manca un argomento obbligatorio: <INPUT>"),
            "{text}"
        );
        assert_eq!(code, VERIFY_USAGE_EXIT);
        let (text, _) = error_text(&["sigillo", "verify", "--now", "ieri", "x"]);
        assert!(
            text.starts_with(
                "errore: valore «ieri» non valido per --now <RFC3339>: non è un istante RFC 3339"
            ),
            "{text}"
        );
    }

    #[test]
    fn other_commands_keep_exit_code_two() {
        let (text, code) = error_text(&["sigillo", "certifcates"]);
        assert!(
            text.starts_with("errore: comando sconosciuto «certifcates»"),
            "{text}"
        );
        assert!(
            text.contains("forse si intendeva «certificates»?"),
            "{text}"
        );
        assert_eq!(code, USAGE_EXIT);
    }

    #[test]
    fn help_is_printed_not_refused() {
        let error = Cli::try_parse_from(["sigillo", "--help"]).expect_err("help");
        assert!(matches!(explain(&error, false), Outcome::Print(_)));
    }
}
