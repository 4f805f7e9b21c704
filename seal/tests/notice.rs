//! The notice number: the DOMAIN.md example, round trips of every valid
//! number, and refusal of any corrupted one.

use proptest::prelude::*;
use seal::notice::{NoticeError, NoticeNumber};

#[test]
fn the_domain_example_has_its_check_digits() {
    let notice = NoticeNumber::new(1, 1).expect("valid");

    assert_eq!(notice.to_string(), "301000000000000144");
    assert_eq!(notice.iuv(), "01000000000000144");
    assert_eq!("301000000000000144".parse::<NoticeNumber>(), Ok(notice));
}

#[test]
fn the_payment_notice_qr_names_notice_creditor_and_cents() {
    let notice = NoticeNumber::parse("301000000000000144").expect("valid");

    assert_eq!(
        notice.payment_qr_text("01234567891", 1652),
        "PAGOPA|002|301000000000000144|01234567891|1652"
    );
}

#[test]
fn a_notice_reads_and_writes_as_a_json_string() {
    let notice = NoticeNumber::new(47, 9_876_543_210_123).expect("valid");

    let json = serde_json::to_string(&notice).expect("json");

    assert_eq!(json, format!("\"{notice}\""));
    assert_eq!(
        serde_json::from_str::<NoticeNumber>(&json).ok(),
        Some(notice)
    );
    assert!(serde_json::from_str::<NoticeNumber>("\"301000000000000145\"").is_err());
}

proptest! {
    #[test]
    fn built_numbers_parse_back_to_themselves(segregation in 0u8..100, base in 0u64..10_000_000_000_000) {
        let notice = NoticeNumber::new(segregation, base).expect("in range");
        let parsed = NoticeNumber::parse(notice.as_str()).expect("valid");
        prop_assert_eq!(parsed, notice);
        prop_assert_eq!(parsed.segregation(), segregation);
        prop_assert_eq!(parsed.iuv_base(), base);
        prop_assert_eq!(parsed.as_str().len(), 18);
        prop_assert_eq!(&parsed.as_str()[1..], parsed.iuv());
        let check: u64 = parsed.as_str()[..16].parse::<u64>().expect("digits") % 93;
        prop_assert_eq!(&parsed.as_str()[16..], format!("{check:02}"));
    }

    #[test]
    fn changing_one_digit_is_caught(segregation in 0u8..100, base in 0u64..10_000_000_000_000, position in 1usize..18, bump in 1u8..10) {
        let notice = NoticeNumber::new(segregation, base).expect("in range");
        let mut digits = notice.as_str().as_bytes().to_vec();
        digits[position] = b'0' + (digits[position] - b'0' + bump) % 10;
        let corrupted = String::from_utf8(digits).expect("ascii");
        // 10^k is coprime to 93, so changing one of the first sixteen digits
        // changes the remainder; a changed check digit no longer matches it.
        prop_assert!(NoticeNumber::parse(&corrupted).is_err(), "{}", corrupted);
    }

    #[test]
    fn arbitrary_text_never_panics_and_only_checked_numbers_pass(text in "\\PC{0,24}") {
        if let Ok(notice) = NoticeNumber::parse(&text) {
            prop_assert_eq!(notice.as_str(), text.trim());
        }
    }
}

#[test]
fn only_the_aux_digit_3_is_accepted() {
    assert_eq!(
        NoticeNumber::parse("001000000000000144"),
        Err(NoticeError::AuxDigit('0'))
    );
}
