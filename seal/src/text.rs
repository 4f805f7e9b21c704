//! The seal's text form: the COSE bytes written as one decimal number, so a QR
//! code can carry them in numeric mode (3.33 bits a digit, as dense as byte
//! mode) and a keyboard-emulating scanner types only digits.
//!
//! The rule for leading zero bytes: each leading `0x00` byte is written as one
//! `0` digit, then the remaining bytes (which start with a non-zero byte) as a
//! big-endian number in decimal, which therefore never starts with `0`. So
//! `[0x00, 0x00, 0x01, 0x00]` is `"00256"`, and decoding counts the leading
//! `0` digits back into zero bytes. A COSE_Sign1 starts with its tag byte
//! `0xD2`, so in practice the rule never adds a digit.

use num_bigint::BigUint;

/// The most digits a text seal may have: a version 40 QR code holds 7,089
/// numeric characters, so nothing longer was ever printed by us.
pub const MAX_DIGITS: usize = 7_089;

/// Why a text is not a seal's text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing but whitespace.
    #[error("il testo del sigillo è vuoto")]
    Empty,
    /// Neither bare digits nor an `https://<host>/v#<digits>` URL.
    #[error("il testo non è un sigillo: attese solo cifre o un indirizzo https://…/v#…")]
    NotASeal,
    /// More digits than any QR code can hold.
    #[error("il sigillo ha {0} cifre, più di quante un codice QR ne possa contenere")]
    TooLong(usize),
}

impl TextError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "text_empty",
            Self::NotASeal => "text_not_a_seal",
            Self::TooLong(_) => "text_too_long",
        }
    }
}

/// Writes bytes as the seal's decimal digits (see the module doc for the rule).
pub fn to_digits(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    let mut digits = "0".repeat(zeros);
    if zeros < bytes.len() {
        digits.push_str(&BigUint::from_bytes_be(&bytes[zeros..]).to_str_radix(10));
    }
    digits
}

/// Reads the seal's decimal digits back into bytes.
pub fn from_digits(digits: &str) -> Result<Vec<u8>, TextError> {
    if digits.is_empty() {
        return Err(TextError::Empty);
    }
    if digits.len() > MAX_DIGITS {
        return Err(TextError::TooLong(digits.len()));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TextError::NotASeal);
    }
    let zeros = digits.bytes().take_while(|&b| b == b'0').count();
    let mut bytes = vec![0u8; zeros];
    let rest = &digits.as_bytes()[zeros..];
    if !rest.is_empty() {
        let number = BigUint::parse_bytes(rest, 10).ok_or(TextError::NotASeal)?;
        bytes.extend_from_slice(&number.to_bytes_be());
    }
    Ok(bytes)
}

/// The URL printed in the QR code: `https://<host>/v#<digits>`. The seal rides
/// in the fragment, which browsers never send to the server.
pub fn to_url(host: &str, bytes: &[u8]) -> String {
    format!("https://{host}/v#{}", to_digits(bytes))
}

/// Reads a seal's bytes from its text form as a person or a scanner hands it
/// over: the full URL or the bare digits, with any surrounding whitespace
/// (a keyboard-mode scanner's trailing newline, say). Scheme, host and path
/// are compared without regard to case, since scanners with caps lock on
/// type uppercase. Nothing else is accepted.
pub fn parse_text(input: &str) -> Result<Vec<u8>, TextError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.as_bytes()[0].is_ascii_digit() {
        return from_digits(text);
    }
    from_digits(url_fragment(text).ok_or(TextError::NotASeal)?)
}

/// The digits after `https://<host>/v#`, if `text` has that shape.
fn url_fragment(text: &str) -> Option<&str> {
    const SCHEME: &str = "https://";
    let head = text.get(..SCHEME.len())?;
    if !head.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = &text[SCHEME.len()..];
    let (authority, after) = rest.split_once('/')?;
    let host_ok = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    let digits = after
        .strip_prefix("v#")
        .or_else(|| after.strip_prefix("V#"))?;
    host_ok.then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn leading_zero_bytes_become_leading_zero_digits() {
        assert_eq!(to_digits(&[0, 0, 1, 0]), "00256");
        assert_eq!(from_digits("00256"), Ok(vec![0, 0, 1, 0]));
        assert_eq!(to_digits(&[0, 0]), "00");
        assert_eq!(from_digits("00"), Ok(vec![0, 0]));
        assert_eq!(to_digits(&[]), "");
    }

    #[test]
    fn the_full_url_the_bare_digits_and_whitespace_are_accepted() {
        let bytes = vec![0xD2, 0x84, 0x43, 0x01];
        let url = to_url("certificati.example.it", &bytes);
        assert_eq!(parse_text(&url), Ok(bytes.clone()));
        assert_eq!(parse_text(&format!("  {url}\r\n")), Ok(bytes.clone()));
        assert_eq!(parse_text(&url.to_uppercase()), Ok(bytes.clone()));
        assert_eq!(
            parse_text(&format!("\t{}\n", to_digits(&bytes))),
            Ok(bytes.clone())
        );
        assert_eq!(parse_text("https://127.0.0.1:8080/v#256"), Ok(vec![1, 0]));
    }

    #[test]
    fn anything_else_is_not_a_seal() {
        for text in [
            "http://example.it/v#123",
            "https://example.it/x#123",
            "https://example.it/v?123",
            "https:///v#123",
            "https://exa mple.it/v#123",
            "https://example.it/v#12a3",
            "https://example.it/v#",
            "12 34",
            "-123",
            "ciao",
        ] {
            assert!(parse_text(text).is_err(), "{text:?} was accepted");
        }
        assert_eq!(parse_text(" \n"), Err(TextError::Empty));
    }

    #[test]
    fn texts_longer_than_a_qr_code_are_refused() {
        let long = "1".repeat(MAX_DIGITS + 1);
        assert_eq!(parse_text(&long), Err(TextError::TooLong(MAX_DIGITS + 1)));
    }

    proptest! {
        #[test]
        fn bytes_round_trip_through_digits(bytes in proptest::collection::vec(any::<u8>(), 1..700)) {
            prop_assert_eq!(from_digits(&to_digits(&bytes)), Ok(bytes));
        }

        #[test]
        fn leading_zeros_survive_the_round_trip(
            zeros in 0usize..8,
            tail in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = vec![0u8; zeros];
            bytes.extend(tail);
            prop_assume!(!bytes.is_empty());
            let digits = to_digits(&bytes);
            prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(from_digits(&digits), Ok(bytes));
        }

        #[test]
        fn digits_round_trip_through_bytes(digits in "[0-9]{1,600}") {
            let bytes = from_digits(&digits).expect("digits decode");
            prop_assert_eq!(to_digits(&bytes), digits);
        }
    }
}
