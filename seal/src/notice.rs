//! The pagoPA notice number (codice avviso) with auxiliary digit 3, the
//! form a creditor with its own segregation codes uses (DOMAIN.md §4):
//! `3` + segregation code (2 digits) + IUV base (13 digits) + check digits
//! (2), where the check digits are `int("3" + segregation + base) mod 93`.
//! The IUV is the notice number without its auxiliary digit.

use std::fmt;
use std::str::FromStr;

/// Why a text or a pair of numbers is not a notice number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// Not eighteen characters.
    #[error("il codice avviso deve essere di 18 cifre, non {0}")]
    Length(usize),
    /// A character that is not a digit.
    #[error("il codice avviso contiene caratteri che non sono cifre")]
    NotDigits,
    /// The auxiliary digit is not 3, the only form this creditor issues.
    #[error("il codice avviso deve iniziare con 3 (iniziava con {0})")]
    AuxDigit(char),
    /// The check digits do not match the rest of the number.
    #[error("le cifre di controllo del codice avviso sono errate (attese {expected})")]
    CheckDigits {
        /// The check digits the other sixteen digits call for.
        expected: String,
    },
    /// The segregation code has more than two digits.
    #[error("il codice di segregazione deve essere di due cifre, non {0}")]
    Segregation(u8),
    /// The IUV base has more than thirteen digits.
    #[error("la base dello IUV deve essere di 13 cifre al massimo, non {0}")]
    IuvBase(u64),
}

/// A notice number with auxiliary digit 3, checked. After parsing, the
/// type is the proof: its check digits match.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoticeNumber([u8; 18]);

/// One more than the largest IUV base (13 digits).
const IUV_BASE_LIMIT: u64 = 10_000_000_000_000;

impl NoticeNumber {
    /// The notice number for `iuv_base` (at most 13 digits) under the
    /// creditor's segregation code (two digits).
    pub fn new(segregation: u8, iuv_base: u64) -> Result<Self, NoticeError> {
        if segregation > 99 {
            return Err(NoticeError::Segregation(segregation));
        }
        if iuv_base >= IUV_BASE_LIMIT {
            return Err(NoticeError::IuvBase(iuv_base));
        }
        let text = format!("3{segregation:02}{iuv_base:013}");
        let check = check_digits(&text);
        let mut digits = [0u8; 18];
        digits[..16].copy_from_slice(text.as_bytes());
        digits[16..].copy_from_slice(check.as_bytes());
        Ok(Self(digits))
    }

    /// Parses an 18-digit notice number; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, NoticeError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars != 18 || text.len() != 18 {
            return Err(NoticeError::Length(chars));
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NoticeError::NotDigits);
        }
        let bytes = text.as_bytes();
        if bytes[0] != b'3' {
            return Err(NoticeError::AuxDigit(char::from(bytes[0])));
        }
        let expected = check_digits(&text[..16]);
        if text[16..] != expected {
            return Err(NoticeError::CheckDigits { expected });
        }
        let mut digits = [0u8; 18];
        digits.copy_from_slice(bytes);
        Ok(Self(digits))
    }

    /// The 18 digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The IUV: the 17 digits after the auxiliary digit (segregation code,
    /// base and check digits). GPD and the receipts are keyed by it.
    pub fn iuv(&self) -> &str {
        &self.as_str()[1..]
    }

    /// The segregation code.
    pub fn segregation(&self) -> u8 {
        (self.0[1] - b'0') * 10 + (self.0[2] - b'0')
    }

    /// The IUV base (13 digits).
    pub fn iuv_base(&self) -> u64 {
        self.0[3..16]
            .iter()
            .fold(0, |acc, digit| acc * 10 + u64::from(digit - b'0'))
    }

    /// The text of the QR code on a printed payment notice:
    /// `PAGOPA|002|<notice number>|<creditor fiscal code>|<amount in cents>`.
    pub fn payment_qr_text(&self, creditor_fiscal_code: &str, amount_cents: i64) -> String {
        format!(
            "PAGOPA|002|{}|{creditor_fiscal_code}|{amount_cents}",
            self.as_str()
        )
    }
}

/// `int(first16) mod 93`, two digits. `first16` is sixteen ASCII digits, so
/// the number fits a `u64` (below 10^16).
fn check_digits(first16: &str) -> String {
    let value = first16
        .bytes()
        .fold(0u64, |acc, digit| acc * 10 + u64::from(digit - b'0'));
    format!("{:02}", value % 93)
}

impl fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NoticeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoticeNumber({})", self.as_str())
    }
}

impl FromStr for NoticeNumber {
    type Err = NoticeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for NoticeNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for NoticeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_example_is_built_and_parsed() {
        let notice = NoticeNumber::new(1, 1).expect("valid");
        assert_eq!(notice.as_str(), "301000000000000144");
        assert_eq!(notice.iuv(), "01000000000000144");
        assert_eq!(NoticeNumber::parse("301000000000000144"), Ok(notice));
    }

    #[test]
    fn wrong_numbers_are_refused_with_the_reason() {
        assert_eq!(
            NoticeNumber::parse("30100000000000014"),
            Err(NoticeError::Length(17))
        );
        assert_eq!(
            NoticeNumber::parse("30100000000000014x"),
            Err(NoticeError::NotDigits)
        );
        assert_eq!(
            NoticeNumber::parse("001000000000000144"),
            Err(NoticeError::AuxDigit('0'))
        );
        assert_eq!(
            NoticeNumber::parse("301000000000000145"),
            Err(NoticeError::CheckDigits {
                expected: "44".into()
            })
        );
        assert_eq!(
            NoticeNumber::new(100, 1),
            Err(NoticeError::Segregation(100))
        );
        assert_eq!(
            NoticeNumber::new(1, IUV_BASE_LIMIT),
            Err(NoticeError::IuvBase(IUV_BASE_LIMIT))
        );
    }
}
