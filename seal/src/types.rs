//! Domain identifiers that the seal carries, each parsed once and trusted after.

use std::fmt;
use std::str::FromStr;

/// A comune's ISTAT code: six digits, the first three naming the province
/// (for example `058091` for Roma).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComuneCode([u8; 6]);

/// Why a text is not an ISTAT comune code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("il codice ISTAT del comune deve essere di 6 cifre")]
pub struct ComuneCodeError;

impl ComuneCode {
    /// Parses a six-digit ISTAT code; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, ComuneCodeError> {
        let bytes = text.trim().as_bytes();
        let digits: [u8; 6] = bytes.try_into().map_err(|_| ComuneCodeError)?;
        if digits.iter().all(u8::is_ascii_digit) {
            Ok(Self(digits))
        } else {
            Err(ComuneCodeError)
        }
    }

    /// The code as text, leading zeros kept.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ComuneCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ComuneCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComuneCode({})", self.as_str())
    }
}

impl FromStr for ComuneCode {
    type Err = ComuneCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A certificate's registry number: year and a sequence that restarts every
/// year, written `2026/000123`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateNumber {
    year: u16,
    sequence: u32,
}

/// Why a text is not a certificate number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateNumberError {
    /// Not of the form `AAAA/NNNNNN`.
    #[error("il numero del certificato deve avere la forma AAAA/NNNNNN")]
    Shape,
    /// The year is outside 2000–9999 or the sequence outside 1–999999.
    #[error("anno o progressivo del certificato fuori intervallo")]
    OutOfRange,
}

impl CertificateNumber {
    /// The largest sequence number a year can hold.
    pub const MAX_SEQUENCE: u32 = 999_999;

    /// Makes a number from its year and sequence.
    pub fn new(year: u16, sequence: u32) -> Result<Self, CertificateNumberError> {
        if !(2000..=9999).contains(&year) || !(1..=Self::MAX_SEQUENCE).contains(&sequence) {
            return Err(CertificateNumberError::OutOfRange);
        }
        Ok(Self { year, sequence })
    }

    /// Parses `AAAA/NNNNNN` (the sequence exactly six digits).
    pub fn parse(text: &str) -> Result<Self, CertificateNumberError> {
        let (year, sequence) = text
            .trim()
            .split_once('/')
            .ok_or(CertificateNumberError::Shape)?;
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || sequence.len() != 6 || !all_digits(year) || !all_digits(sequence) {
            return Err(CertificateNumberError::Shape);
        }
        let year = year.parse().map_err(|_| CertificateNumberError::Shape)?;
        let sequence = sequence
            .parse()
            .map_err(|_| CertificateNumberError::Shape)?;
        Self::new(year, sequence)
    }

    /// The year the number belongs to.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The position within the year, from 1.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for CertificateNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}/{:06}", self.year, self.sequence)
    }
}

impl fmt::Debug for CertificateNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateNumber({self})")
    }
}

impl FromStr for CertificateNumber {
    type Err = CertificateNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The key identifier in a seal's protected header: the first eight bytes of
/// the SHA-256 of the signer's X.509 certificate (DER).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid(pub [u8; 8]);

impl Kid {
    /// Length of a key identifier in bytes.
    pub const LEN: usize = 8;

    /// Takes a key identifier from a slice of exactly eight bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The identifier in lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({})", self.to_hex())
    }
}

/// An Italian codice fiscale of a natural person, check character verified.
///
/// Omocodia variants (digits replaced by `LMNPQRSTUV`) are accepted as the
/// Agenzia delle Entrate issues them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodiceFiscale([u8; 16]);

/// Why a text is not a valid codice fiscale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodiceFiscaleError {
    /// Not sixteen characters.
    #[error("il codice fiscale deve essere di 16 caratteri, non {0}")]
    Length(usize),
    /// A character that cannot stand at that position.
    #[error("carattere non valido in posizione {position} del codice fiscale")]
    Character {
        /// 1-based position.
        position: usize,
    },
    /// The month letter is not one of `ABCDEHLMPRST`.
    #[error("la lettera del mese di nascita nel codice fiscale non è valida")]
    Month,
    /// The day is not 1–31 (men) or 41–71 (women).
    #[error("il giorno di nascita nel codice fiscale non è valido")]
    Day,
    /// The last character does not match the other fifteen.
    #[error("il carattere di controllo del codice fiscale è errato (atteso {expected})")]
    CheckCharacter {
        /// The check character the first fifteen characters call for.
        expected: char,
    },
}

/// Positions (0-based) that hold digits, or their omocodia letters.
const CF_DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
const CF_OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
const CF_MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Values of odd-position (1-based) characters: digits 0–9 then letters A–Z.
const CF_ODD_DIGITS: [u32; 10] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
const CF_ODD_LETTERS: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

impl CodiceFiscale {
    /// Parses a codice fiscale; lowercase letters and surrounding whitespace
    /// are accepted and normalised.
    pub fn parse(text: &str) -> Result<Self, CodiceFiscaleError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars != 16 || text.len() != 16 {
            return Err(CodiceFiscaleError::Length(chars));
        }
        let mut code = [0u8; 16];
        for (slot, byte) in code.iter_mut().zip(text.bytes()) {
            *slot = byte.to_ascii_uppercase();
        }
        for (position, &byte) in code.iter().enumerate() {
            let ok = if CF_DIGIT_POSITIONS.contains(&position) {
                byte.is_ascii_digit() || CF_OMOCODIA.contains(&byte)
            } else {
                byte.is_ascii_uppercase()
            };
            if !ok {
                return Err(CodiceFiscaleError::Character {
                    position: position + 1,
                });
            }
        }
        if !CF_MONTHS.contains(&code[8]) {
            return Err(CodiceFiscaleError::Month);
        }
        let day = cf_digit(code[9]) * 10 + cf_digit(code[10]);
        if !((1..=31).contains(&day) || (41..=71).contains(&day)) {
            return Err(CodiceFiscaleError::Day);
        }
        let expected = Self::check_character(&code[..15]);
        if code[15] != expected {
            return Err(CodiceFiscaleError::CheckCharacter {
                expected: char::from(expected),
            });
        }
        Ok(Self(code))
    }

    /// The check character for the first fifteen characters of a codice
    /// fiscale (uppercase ASCII), by the Ministry of Finance's table.
    pub fn check_character(first15: &[u8]) -> u8 {
        let sum: u32 = first15
            .iter()
            .take(15)
            .enumerate()
            .map(|(index, &byte)| {
                let odd = index % 2 == 0; // 1-based odd positions
                match (byte, odd) {
                    (b'0'..=b'9', true) => CF_ODD_DIGITS[usize::from(byte - b'0')],
                    (b'A'..=b'Z', true) => CF_ODD_LETTERS[usize::from(byte - b'A')],
                    (b'0'..=b'9', false) => u32::from(byte - b'0'),
                    (b'A'..=b'Z', false) => u32::from(byte - b'A'),
                    _ => 0,
                }
            })
            .sum();
        // `sum % 26` is below 26, so the cast cannot truncate.
        b'A' + (sum % 26) as u8
    }

    /// The code as text (uppercase).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The value of a codice fiscale digit position, omocodia letters included.
fn cf_digit(byte: u8) -> u32 {
    match CF_OMOCODIA.iter().position(|&c| c == byte) {
        Some(value) => value as u32,
        None => u32::from(byte.wrapping_sub(b'0')),
    }
}

impl fmt::Display for CodiceFiscale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CodiceFiscale {
    // A fiscal code is personal data: debug output shows only its shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodiceFiscale({}…)", &self.as_str()[..3])
    }
}

impl FromStr for CodiceFiscale {
    type Err = CodiceFiscaleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_examples_of_codice_fiscale_are_valid() {
        for code in ["RSSMRA85T10A562S", "RSSMRA45D25F205N", "rssmra85t10a562s "] {
            assert!(CodiceFiscale::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn a_wrong_check_character_is_reported_with_the_expected_one() {
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562X"),
            Err(CodiceFiscaleError::CheckCharacter { expected: 'S' })
        );
    }

    #[test]
    fn an_omocodia_variant_with_its_own_check_character_is_valid() {
        // Position 15 (a digit position) replaced by its omocodia letter: 2 -> N.
        let mut first15 = *b"RSSMRA85T10A56N";
        let check = CodiceFiscale::check_character(&first15);
        let code: String = first15
            .iter_mut()
            .map(|b| char::from(*b))
            .chain([char::from(check)])
            .collect();
        assert!(CodiceFiscale::parse(&code).is_ok());
    }

    #[test]
    fn bad_shapes_of_codice_fiscale_are_rejected() {
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85"),
            Err(CodiceFiscaleError::Length(8))
        );
        assert_eq!(
            CodiceFiscale::parse("R5SMRA85T10A562S"),
            Err(CodiceFiscaleError::Character { position: 2 })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85Z10A562S"),
            Err(CodiceFiscaleError::Month)
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T35A562S"),
            Err(CodiceFiscaleError::Day)
        );
        assert!(CodiceFiscale::parse("RSSMRÀ85T10A562").is_err());
    }

    #[test]
    fn certificate_numbers_round_trip_through_text() {
        let number = CertificateNumber::parse("2026/000123").expect("valid number");
        assert_eq!((number.year(), number.sequence()), (2026, 123));
        assert_eq!(number.to_string(), "2026/000123");
        assert!(CertificateNumber::parse("2026/123").is_err());
        assert!(CertificateNumber::parse("2026/000000").is_err());
        assert!(CertificateNumber::parse("2026-000123").is_err());
    }

    #[test]
    fn comune_codes_keep_their_leading_zeros() {
        let roma = ComuneCode::parse("058091").expect("valid code");
        assert_eq!(roma.to_string(), "058091");
        assert!(ComuneCode::parse("58091").is_err());
        assert!(ComuneCode::parse("05809A").is_err());
    }
}
