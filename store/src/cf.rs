//! Computing a codice fiscale from a person's data, and checking that a
//! given codice fiscale agrees with them.
//!
//! The rules are the Ministry of Finance's (DM 23 December 1976), as
//! summarised in DOMAIN.md §6:
//!
//! - surname: its consonants in order, then its vowels, then `X`, first three;
//! - given names: with four or more consonants the 1st, 3rd and 4th
//!   consonant, otherwise as for the surname;
//! - birth date and sex: the year's last two digits, the month letter
//!   (`ABCDEHLMPRST`), the day with 40 added for women;
//! - birth place: the Belfiore code of the comune, or the `Z` code of the
//!   foreign state;
//! - check character: [`CodiceFiscale::check_character`].
//!
//! Letters with accents count as their plain letter; spaces, apostrophes and
//! other signs are ignored. The Agenzia delle Entrate may issue an omocodia
//! variant (digits replaced by `LMNPQRSTUV`, right to left), so
//! [`check`] compares codes with their digits restored.
//!
//! ```
//! use store::cf;
//! use store::model::Sex;
//! use time::macros::date;
//!
//! let code = cf::compute("Rossi", "Mario", Sex::M, date!(1985 - 12 - 10), "A562").unwrap();
//! assert_eq!(code.as_str(), "RSSMRA85T10A562S");
//! ```

use seal::CodiceFiscale;
use time::Date;

use crate::model::Sex;

/// Why a codice fiscale cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfError {
    /// The birth place code is not a letter followed by three digits.
    #[error("il codice del luogo di nascita deve essere una lettera seguita da tre cifre")]
    PlaceCode,
    /// The birth year cannot be written in a codice fiscale.
    #[error("l'anno di nascita non è rappresentabile nel codice fiscale")]
    Year,
}

/// Which part of a codice fiscale disagrees with the person's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// Characters 1–3 do not come from the surname.
    #[error("le lettere del cognome nel codice fiscale non corrispondono al cognome")]
    Surname,
    /// Characters 4–6 do not come from the given names.
    #[error("le lettere del nome nel codice fiscale non corrispondono al nome")]
    GivenNames,
    /// Characters 7–8 are not the birth year.
    #[error("l'anno di nascita nel codice fiscale non corrisponde alla data di nascita")]
    BirthYear,
    /// Character 9 is not the birth month.
    #[error("il mese di nascita nel codice fiscale non corrisponde alla data di nascita")]
    BirthMonth,
    /// Characters 10–11 are not the birth day with the sex's offset.
    #[error(
        "il giorno di nascita nel codice fiscale non corrisponde alla data di nascita e al sesso"
    )]
    BirthDayOrSex,
    /// Characters 12–15 are not the birth place's code.
    #[error(
        "il codice del luogo di nascita nel codice fiscale non corrisponde al luogo di nascita"
    )]
    BirthPlace,
}

/// The month letters, January to December.
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// The letters that replace digits 0–9 in an omocodia variant.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// Positions (0-based) of the digits an omocodia variant may replace,
/// replaced from the last one backwards.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// The codice fiscale for a person's data (the base form, without omocodia).
pub fn compute(
    surname: &str,
    given_names: &str,
    sex: Sex,
    birth_date: Date,
    place_code: &str,
) -> Result<CodiceFiscale, CfError> {
    let place = place_code.trim().to_ascii_uppercase();
    let place_ok = place.len() == 4
        && place.as_bytes()[0].is_ascii_uppercase()
        && place.as_bytes()[1..].iter().all(u8::is_ascii_digit);
    if !place_ok {
        return Err(CfError::PlaceCode);
    }
    if birth_date.year() < 0 {
        return Err(CfError::Year);
    }
    let mut first15 = String::with_capacity(16);
    first15.push_str(&surname_part(surname));
    first15.push_str(&given_names_part(given_names));
    first15.push_str(&date_part(birth_date, sex));
    first15.push_str(&place);
    let check = CodiceFiscale::check_character(first15.as_bytes());
    first15.push(char::from(check));
    Ok(CodiceFiscale::parse(&first15).expect(
        "built from letters, a two-digit year, a month letter, a day of 1-71, \
         a checked place code and its own check character",
    ))
}

/// Characters 1–3: from the surname.
pub fn surname_part(surname: &str) -> String {
    let (consonants, vowels) = letters(surname);
    consonants
        .into_iter()
        .chain(vowels)
        .chain(std::iter::repeat('X'))
        .take(3)
        .collect()
}

/// Characters 4–6: from the given names (all of them, as one).
pub fn given_names_part(given_names: &str) -> String {
    let (consonants, vowels) = letters(given_names);
    if consonants.len() >= 4 {
        return [consonants[0], consonants[2], consonants[3]]
            .into_iter()
            .collect();
    }
    consonants
        .into_iter()
        .chain(vowels)
        .chain(std::iter::repeat('X'))
        .take(3)
        .collect()
}

/// Characters 7–11: year, month letter, day (plus 40 for women).
pub fn date_part(birth_date: Date, sex: Sex) -> String {
    let year = birth_date.year().rem_euclid(100);
    let month = char::from(MONTHS[usize::from(u8::from(birth_date.month())) - 1]);
    let day = u32::from(birth_date.day())
        + match sex {
            Sex::M => 0,
            Sex::F => 40,
        };
    format!("{year:02}{month}{day:02}")
}

/// The first fifteen characters with every omocodia letter turned back into
/// its digit: what [`compute`] would give, less the check character.
pub fn base_form(code: &CodiceFiscale) -> String {
    let mut bytes: Vec<u8> = code.as_str().as_bytes()[..15].to_vec();
    for &position in &DIGIT_POSITIONS {
        if let Some(digit) = OMOCODIA.iter().position(|&c| c == bytes[position]) {
            // `digit` indexes a ten-element table, so it fits in a byte.
            bytes[position] = b'0' + digit as u8;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The omocodia variant of `code` with its last `level` digits replaced by
/// letters (level 1 to 7), as the Agenzia delle Entrate assigns them to
/// tell apart people whose data give the same code; `None` for other levels.
pub fn omocodia_variant(code: &CodiceFiscale, level: usize) -> Option<CodiceFiscale> {
    if !(1..=DIGIT_POSITIONS.len()).contains(&level) {
        return None;
    }
    let mut bytes = base_form(code).into_bytes();
    for &position in DIGIT_POSITIONS.iter().rev().take(level) {
        let digit = usize::from(bytes[position] - b'0');
        bytes[position] = OMOCODIA[digit];
    }
    bytes.push(CodiceFiscale::check_character(&bytes));
    CodiceFiscale::parse(&String::from_utf8_lossy(&bytes)).ok()
}

/// Whether `code` (or the base form of an omocodia variant of it) is the one
/// the person's data give; on disagreement, the first part that differs.
pub fn check(
    code: &CodiceFiscale,
    surname: &str,
    given_names: &str,
    sex: Sex,
    birth_date: Date,
    place_code: &str,
) -> Result<(), Mismatch> {
    let base = base_form(code);
    let date = date_part(birth_date, sex);
    let parts: [(&str, &str, Mismatch); 6] = [
        (&base[0..3], &surname_part(surname), Mismatch::Surname),
        (
            &base[3..6],
            &given_names_part(given_names),
            Mismatch::GivenNames,
        ),
        (&base[6..8], &date[0..2], Mismatch::BirthYear),
        (&base[8..9], &date[2..3], Mismatch::BirthMonth),
        (&base[9..11], &date[3..5], Mismatch::BirthDayOrSex),
        (
            &base[11..15],
            &place_code.trim().to_ascii_uppercase(),
            Mismatch::BirthPlace,
        ),
    ];
    match parts
        .into_iter()
        .find(|(given, expected, _)| given != expected)
    {
        Some((_, _, mismatch)) => Err(mismatch),
        None => Ok(()),
    }
}

/// The consonants and the vowels of a name, uppercase, accents removed,
/// everything that is not a letter dropped.
fn letters(text: &str) -> (Vec<char>, Vec<char>) {
    let mut consonants = Vec::new();
    let mut vowels = Vec::new();
    for c in text.chars().flat_map(char::to_uppercase).filter_map(plain) {
        if matches!(c, 'A' | 'E' | 'I' | 'O' | 'U') {
            vowels.push(c);
        } else {
            consonants.push(c);
        }
    }
    (consonants, vowels)
}

/// The plain uppercase letter for an uppercase character, if it is a letter
/// of the Latin alphabet with or without accent.
fn plain(c: char) -> Option<char> {
    Some(match c {
        'A'..='Z' => c,
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'Ç' => 'C',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'Ñ' => 'N',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'Ý' => 'Y',
        'Š' => 'S',
        'Ž' => 'Z',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_domain_examples_are_computed_from_their_data() {
        let code = compute("Rossi", "Mario", Sex::M, date!(1985 - 12 - 10), "A562");
        assert_eq!(code.map(|c| c.to_string()), Ok("RSSMRA85T10A562S".into()));
        let code = compute("ROSSI", "MARIO", Sex::M, date!(1945 - 04 - 25), "F205");
        assert_eq!(code.map(|c| c.to_string()), Ok("RSSMRA45D25F205N".into()));
    }

    #[test]
    fn surnames_take_consonants_then_vowels_then_x() {
        assert_eq!(surname_part("Rossi"), "RSS");
        assert_eq!(surname_part("Bo"), "BOX");
        assert_eq!(surname_part("Fo"), "FOX");
        assert_eq!(surname_part("Neri"), "NRE");
        assert_eq!(surname_part("Aiello"), "LLA");
        assert_eq!(surname_part("De Luca"), "DLC");
        assert_eq!(surname_part("D'Angelo"), "DNG");
        assert_eq!(surname_part("O"), "OXX");
    }

    #[test]
    fn given_names_with_four_consonants_skip_the_second() {
        // G, N, F, R: the 1st, 3rd and 4th are G, F, R.
        assert_eq!(given_names_part("Gianfranco"), "GFR");
        // Four consonants over two names: M, R, C, L -> M, C, L.
        assert_eq!(given_names_part("Maria Cla"), "MCL");
        assert_eq!(given_names_part("Mario"), "MRA");
        assert_eq!(given_names_part("Luca"), "LCU");
        assert_eq!(given_names_part("Ugo"), "GUO");
        assert_eq!(given_names_part("Ed"), "DEX");
    }

    #[test]
    fn accents_and_signs_are_ignored_letters_kept() {
        assert_eq!(given_names_part("Nicolò"), "NCL");
        assert_eq!(surname_part("Mùller-Ölz"), "MLL");
    }

    #[test]
    fn women_add_forty_to_the_day() {
        assert_eq!(date_part(date!(1990 - 01 - 05), Sex::F), "90A45");
        assert_eq!(date_part(date!(2001 - 07 - 31), Sex::M), "01L31");
    }

    #[test]
    fn a_code_agrees_with_its_data_and_names_the_part_that_does_not() {
        let code = CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid");
        let born = date!(1985 - 12 - 10);
        assert_eq!(check(&code, "Rossi", "Mario", Sex::M, born, "A562"), Ok(()));
        assert_eq!(
            check(&code, "Bianchi", "Mario", Sex::M, born, "A562"),
            Err(Mismatch::Surname)
        );
        assert_eq!(
            check(&code, "Rossi", "Luigi", Sex::M, born, "A562"),
            Err(Mismatch::GivenNames)
        );
        assert_eq!(
            check(&code, "Rossi", "Mario", Sex::F, born, "A562"),
            Err(Mismatch::BirthDayOrSex)
        );
        assert_eq!(
            check(
                &code,
                "Rossi",
                "Mario",
                Sex::M,
                date!(1986 - 12 - 10),
                "A562"
            ),
            Err(Mismatch::BirthYear)
        );
        assert_eq!(
            check(
                &code,
                "Rossi",
                "Mario",
                Sex::M,
                date!(1985 - 11 - 10),
                "A562"
            ),
            Err(Mismatch::BirthMonth)
        );
        assert_eq!(
            check(&code, "Rossi", "Mario", Sex::M, born, "H501"),
            Err(Mismatch::BirthPlace)
        );
    }

    #[test]
    fn omocodia_variants_agree_with_the_same_data() {
        let base = CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid");
        let born = date!(1985 - 12 - 10);
        for level in 1..=7 {
            let variant = omocodia_variant(&base, level).expect("a variant exists");
            assert_ne!(variant, base);
            assert_eq!(base_form(&variant), "RSSMRA85T10A562");
            assert_eq!(
                check(&variant, "Rossi", "Mario", Sex::M, born, "A562"),
                Ok(())
            );
        }
        let first = omocodia_variant(&base, 1).expect("a variant exists");
        assert_eq!(&first.as_str()[..15], "RSSMRA85T10A56N");
        assert_eq!(omocodia_variant(&base, 8), None);
    }

    #[test]
    fn a_bad_place_code_is_refused() {
        let born = date!(1985 - 12 - 10);
        assert_eq!(
            compute("Rossi", "Mario", Sex::M, born, "A56"),
            Err(CfError::PlaceCode)
        );
        assert_eq!(
            compute("Rossi", "Mario", Sex::M, born, "1562"),
            Err(CfError::PlaceCode)
        );
    }
}
