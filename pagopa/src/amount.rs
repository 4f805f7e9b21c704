//! Amounts as pagoPA's XML writes them (`16.52`, an `xsd:decimal` with at
//! most two fraction digits) and as we hold them: integer cents. Parsed
//! digit by digit, never through a float.

/// The cents of a decimal amount in euro: `16.52` → 1652, `16` → 1600,
/// `16.5` → 1650. Extra fraction digits are accepted only when they are
/// zeros (`16.500`); signs, exponents, separators and amounts that do not
/// fit an `i64` of cents are refused.
pub fn parse_cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let (units, fraction) = match text.split_once('.') {
        Some((units, fraction)) => (units, fraction),
        None => (text, ""),
    };
    if units.is_empty() || !units.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || text.ends_with('.') {
        return None;
    }
    let (cents_part, rest) = fraction.split_at(fraction.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let cents: i64 = match cents_part.len() {
        0 => 0,
        1 => cents_part.parse::<i64>().ok()? * 10,
        _ => cents_part.parse().ok()?,
    };
    units.checked_mul(100)?.checked_add(cents)
}

/// A non-negative amount in cents as pagoPA's XML writes it: `16.52`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_amounts_become_exact_cents() {
        for (text, cents) in [
            ("16.52", Some(1652)),
            ("16.00", Some(1600)),
            ("16", Some(1600)),
            ("16.5", Some(1650)),
            ("0.01", Some(1)),
            ("16.500", Some(1650)),
            ("16.505", None),
            ("-16.52", None),
            ("+16.52", None),
            ("16,52", None),
            ("16.", None),
            (".52", None),
            ("1e3", None),
            ("", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(parse_cents(text), cents, "{text:?}");
        }
    }

    #[test]
    fn cents_are_written_with_two_decimals() {
        assert_eq!(format_cents(1652), "16.52");
        assert_eq!(format_cents(1600), "16.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(parse_cents(&format_cents(123_456_789)), Some(123_456_789));
    }
}
