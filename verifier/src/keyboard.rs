//! What a USB barcode scanner types under the wrong keyboard layout.
//!
//! A scanner in keyboard mode sends key codes for a US layout; the PC
//! turns them into characters with its own layout, so on an Italian PC
//! `HTTPS://LOCALHOST/V#123` arrives as `HTTPSç--LOCALHOST-V£123`, on a
//! German one as `HTTPSÖ--LOCALHOST-V§123`, and on a French AZERTY one even
//! the digits change (`&é"'(-è_çà` for `1234567890`). [`parse_typed`] reads
//! the text as it is and, when that is not a seal, maps it back from each
//! common layout (Italian, German, French, Spanish, UK) to what the
//! scanner meant, accepting only what then parses as a seal: a text that
//! is a seal under no layout stays refused with its own error.

use seal::text::{TextError, parse_text};

/// A layout: the characters it types, paired with the US characters whose
/// keys they sit on. Only what a seal's URL uses is listed: capital
/// letters, digits, `:`, `/`, `#`, `.` and `-` (and the lowercase letters
/// that move).
struct Layout {
    typed_to_us: &'static [(char, char)],
}

/// Italian, German, French (AZERTY), Spanish, UK.
const LAYOUTS: [Layout; 5] = [
    Layout {
        typed_to_us: &[('ç', ':'), ('-', '/'), ('£', '#'), ('\'', '-')],
    },
    Layout {
        typed_to_us: &[
            ('Ö', ':'),
            ('-', '/'),
            ('§', '#'),
            ('ß', '-'),
            ('Z', 'Y'),
            ('Y', 'Z'),
            ('z', 'y'),
            ('y', 'z'),
        ],
    },
    Layout {
        typed_to_us: &[
            ('&', '1'),
            ('é', '2'),
            ('"', '3'),
            ('\'', '4'),
            ('(', '5'),
            ('-', '6'),
            ('è', '7'),
            ('_', '8'),
            ('ç', '9'),
            ('à', '0'),
            ('M', ':'),
            ('!', '/'),
            ('3', '#'),
            (':', '.'),
            (')', '-'),
            ('Q', 'A'),
            ('A', 'Q'),
            ('W', 'Z'),
            ('Z', 'W'),
            ('?', 'M'),
            ('q', 'a'),
            ('a', 'q'),
            ('w', 'z'),
            ('z', 'w'),
            (',', 'm'),
        ],
    },
    Layout {
        typed_to_us: &[('Ñ', ':'), ('-', '/'), ('·', '#'), ('\'', '-')],
    },
    Layout {
        typed_to_us: &[('£', '#')],
    },
];

/// The seal's bytes from what a keyboard-mode scanner typed: as it is, or
/// as the scanner meant it under one of the common layouts.
pub(crate) fn parse_typed(text: &str) -> Result<Vec<u8>, TextError> {
    let error = match parse_text(text) {
        Ok(bytes) => return Ok(bytes),
        Err(error) => error,
    };
    for layout in &LAYOUTS {
        let meant: String = text
            .chars()
            .map(|typed| {
                layout
                    .typed_to_us
                    .iter()
                    .find(|(from, _)| *from == typed)
                    .map_or(typed, |(_, us)| *us)
            })
            .collect();
        if let Ok(bytes) = parse_text(&meant) {
            return Ok(bytes);
        }
    }
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seal's text as the QR code carries it, for a host and digits.
    fn meant(digits: &str) -> Vec<u8> {
        parse_text(&format!("HTTPS://LOCALHOST/V#{digits}")).expect("a seal text")
    }

    #[test]
    fn an_italian_pc_types_c_cedilla_dashes_and_pound() {
        assert_eq!(
            parse_typed("HTTPSç--LOCALHOST-V£4081234567"),
            Ok(meant("4081234567"))
        );
    }

    #[test]
    fn a_german_pc_types_o_umlaut_dashes_and_section() {
        assert_eq!(
            parse_typed("HTTPSÖ--LOCALHOST-V§4081234567"),
            Ok(meant("4081234567"))
        );
    }

    #[test]
    fn a_french_pc_changes_the_digits_too() {
        assert_eq!(
            parse_typed("HTTPSM!!LOCQLHOST!V3&é\"'(-è_çà"),
            Ok(meant("1234567890"))
        );
    }

    #[test]
    fn a_spanish_pc_types_n_tilde_dashes_and_middle_dot() {
        assert_eq!(
            parse_typed("HTTPSÑ--LOCALHOST-V·4081234567"),
            Ok(meant("4081234567"))
        );
    }

    #[test]
    fn a_uk_pc_types_pound_for_hash() {
        assert_eq!(
            parse_typed("HTTPS://LOCALHOST/V£4081234567"),
            Ok(meant("4081234567"))
        );
    }

    #[test]
    fn text_that_is_a_seal_under_no_layout_keeps_its_own_error() {
        assert_eq!(
            parse_typed("buongiorno"),
            parse_text("buongiorno").map(|_| Vec::new())
        );
        assert!(parse_typed("HTTPS$$LOCALHOST$V4081234567").is_err());
    }
}
