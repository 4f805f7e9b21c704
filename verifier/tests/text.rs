//! The seal's text as scanners and people hand it over: the URL in upper or
//! lower case, the bare digits, with stray whitespace or a trailing newline.

mod common;

use common::Demo;
use verifier::{Input, Outcome, ReadError, Status, Step, UnknownReason, VerifyError};

fn assert_authentic(demo: &Demo, text: &str) {
    let report = demo.verify(Input::Text(text));
    let Outcome::Authentic { status, facts } = &report.outcome else {
        panic!("{text:?}: {}", report.detail);
    };
    assert_eq!(facts.number, "2026/000123");
    assert_eq!(
        *status,
        Status::Unknown {
            reason: UnknownReason::NoSource
        }
    );
}

#[test]
fn the_printed_url_in_capitals_is_authentic() {
    let demo = Demo::new();
    let prepared = demo.residenza();
    let url = prepared.seal.to_url("certificati.borgosigillo.example.it");
    assert_authentic(&demo, &url.to_uppercase());
}

#[test]
fn the_url_in_lower_case_is_authentic() {
    let demo = Demo::new();
    let url = demo
        .residenza()
        .seal
        .to_url("certificati.borgosigillo.example.it");
    assert_authentic(&demo, &url.to_lowercase());
}

#[test]
fn the_bare_digits_are_authentic() {
    let demo = Demo::new();
    assert_authentic(&demo, &demo.residenza().seal.to_digits());
}

#[test]
fn stray_whitespace_around_the_text_is_ignored() {
    let demo = Demo::new();
    let digits = demo.residenza().seal.to_digits();
    assert_authentic(&demo, &format!("  \t{digits}  "));
}

#[test]
fn a_keyboard_scanners_trailing_newline_is_ignored() {
    let demo = Demo::new();
    let url = demo
        .residenza()
        .seal
        .to_url("certificati.borgosigillo.example.it");
    assert_authentic(&demo, &format!("{url}\r\n"));
    assert_authentic(&demo, &format!("{url}\n"));
}

#[test]
fn text_that_is_not_a_seal_fails_at_reading() {
    let demo = Demo::new();
    let report = demo.verify(Input::Text("https://example.com/whatever"));
    let Outcome::Invalid { step, reason } = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(*step, Step::Read);
    assert!(matches!(reason, VerifyError::Read(ReadError::NotASeal(_))));
    assert_eq!(report.headline, "Sigillo illeggibile");
    assert_eq!(
        report.detail.matches("non è un sigillo").count(),
        1,
        "said once: {}",
        report.detail
    );
}

#[test]
fn a_changed_digit_fails_at_the_signature_or_before() {
    let demo = Demo::new();
    let digits = demo.residenza().seal.to_digits();
    // A digit in the middle: the signature or the payload changes.
    let mut changed: Vec<u8> = digits.into_bytes();
    let middle = changed.len() / 2;
    changed[middle] = if changed[middle] == b'1' { b'2' } else { b'1' };
    let report = demo.verify(Input::Text(std::str::from_utf8(&changed).expect("digits")));
    let Outcome::Invalid { step, .. } = report.outcome else {
        panic!("a changed seal passed: {}", report.headline);
    };
    assert!(
        matches!(step, Step::Parse | Step::Signature),
        "failed at {step:?}"
    );
}

#[test]
fn a_seal_of_an_unknown_signer_fails_at_the_key_step_without_showing_its_claims() {
    let demo = Demo::new();
    let stranger = common::other_keys();
    let mut claims = seal::samples::residenza();
    claims.issuer = common::other_comune().code;
    let forged = seal::Seal::sign(&claims, &stranger.signer).expect("signs");
    let report = demo.verify(Input::Text(&forged.to_digits()));
    assert!(matches!(
        report.outcome,
        Outcome::Invalid {
            step: Step::Key,
            ..
        }
    ));
    let json = report.to_json();
    assert!(!json.contains("ROSSI"), "claims leaked: {json}");
}

/// What a US-layout scanner's key presses become on a PC with `layout`,
/// for the characters of an upper-case seal URL on `LOCALHOST`.
fn typed_on(layout: &str, url: &str) -> String {
    url.chars()
        .map(|c| match (layout, c) {
            ("it", ':') => 'ç',
            ("it" | "de" | "es", '/') => '-',
            ("it" | "uk", '#') => '£',
            ("de", ':') => 'Ö',
            ("de", '#') => '§',
            ("es", ':') => 'Ñ',
            ("es", '#') => '·',
            ("fr", ':') => 'M',
            ("fr", '/') => '!',
            ("fr", '#') => '3',
            ("fr", 'A') => 'Q',
            ("fr", '1') => '&',
            ("fr", '2') => 'é',
            ("fr", '3') => '"',
            ("fr", '4') => '\'',
            ("fr", '5') => '(',
            ("fr", '6') => '-',
            ("fr", '7') => 'è',
            ("fr", '8') => '_',
            ("fr", '9') => 'ç',
            ("fr", '0') => 'à',
            (_, other) => other,
        })
        .collect()
}

#[test]
fn a_scanner_typing_through_the_wrong_keyboard_layout_is_read_as_it_meant() {
    let demo = Demo::new();
    let url = demo.residenza().seal.to_url("localhost").to_uppercase();
    for layout in ["it", "de", "fr", "es", "uk"] {
        let typed = typed_on(layout, &url);
        assert_ne!(typed, url, "{layout} changes something");
        assert_authentic(&demo, &format!("{typed}\r\n"));
    }
}

/// What a person reads of a failure: Italian, each thing said once, the
/// library's own words nowhere.
fn assert_said_in_italian(report: &verifier::Report) {
    let reason = serde_json::to_value(report).expect("JSON")["reason"].clone();
    let message = reason["message"].as_str().expect("a message").to_owned();
    for english in [
        "bytes after",
        "Io(",
        "UnexpectedEof",
        "Error {",
        "malformed",
        "expected",
        "Syntax",
        "void",
        "MiB",
    ] {
        assert!(!message.contains(english), "{english:?} in {message:?}");
        assert!(
            !report.detail.contains(english),
            "{english:?} in {}",
            report.detail
        );
    }
    let first_clause = message.split(':').next().unwrap_or_default();
    assert_eq!(
        message.matches(first_clause).count(),
        1,
        "said twice: {message:?}"
    );
}

#[test]
fn a_seal_with_bytes_after_it_or_cut_short_is_refused_in_italian_with_a_detail_code() {
    let demo = Demo::new();
    let bytes = demo.residenza().seal.0;
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0x00, 0x01]);
    let report = demo.verify(Input::Text(&seal::text::to_digits(&longer)));
    let Outcome::Invalid { step, reason } = &report.outcome else {
        panic!("{}", report.detail);
    };
    assert_eq!(*step, Step::Parse);
    assert_eq!(reason.code(), "malformed_cbor");
    assert_eq!(reason.detail_code(), Some("cbor_trailing_bytes"));
    assert_eq!(
        reason.technical().as_deref(),
        Some("malformed CBOR: 2 bytes after the message")
    );
    assert_said_in_italian(&report);
    let json = serde_json::to_value(&report).expect("JSON");
    assert_eq!(json["reason"]["detail_code"], "cbor_trailing_bytes");

    let shorter = &bytes[..bytes.len() - 10];
    let report = demo.verify(Input::Text(&seal::text::to_digits(shorter)));
    let Outcome::Invalid { reason, .. } = &report.outcome else {
        panic!("{}", report.detail);
    };
    assert_eq!(reason.detail_code(), Some("cbor_truncated"));
    assert_said_in_italian(&report);
}
