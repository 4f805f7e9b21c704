//! The image reader's edges: a seal found but not authentic is not «no
//! seal found»; a QR code that is not a seal is ignored and reported; an
//! image too large is refused from its header, before it is decoded. (The
//! reader against zxing-cpp on degraded scans: `scan_corpus.rs`.)

mod common;

use std::path::PathBuf;

use common::Demo;
use verifier::{IgnoredReason, Input, Outcome, ReadError, Step, VerifyError};

/// A seed of the image fuzz target: small images committed for it.
fn seed(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus/image_reader")
        .join(name);
    std::fs::read(path).expect("seed image")
}

#[test]
fn a_seal_found_in_an_image_but_signed_by_an_unknown_key_is_invalid_not_missing() {
    // The seed's seal was sealed by another installation's demo keys.
    let demo = Demo::new();
    let report = demo.verify(Input::sniff(&seed("seal-qr.png")));
    assert!(
        matches!(
            report.outcome,
            Outcome::Invalid {
                step: Step::Key,
                ..
            }
        ),
        "{:?}",
        report.outcome
    );
}

#[test]
fn a_jpeg_is_told_from_its_bytes_and_read() {
    let demo = Demo::new();
    let bytes = seed("seal-qr.jpg");
    assert!(matches!(Input::sniff(&bytes), Input::Image(_)));
    let report = demo.verify(Input::sniff(&bytes));
    assert!(matches!(
        report.outcome,
        Outcome::Invalid {
            step: Step::Key,
            ..
        }
    ));
}

#[test]
fn an_image_with_only_another_qr_code_has_no_seal_and_reports_the_code_ignored() {
    let demo = Demo::new();
    let report = demo.verify(Input::sniff(&seed("foreign-qr.png")));
    assert!(
        matches!(report.outcome, Outcome::NotFound),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.headline, "Nessun sigillo trovato");
    assert_eq!(report.ignored_codes.len(), 1);
    assert_eq!(report.ignored_codes[0].reason, IgnoredReason::NotASeal);
    assert_eq!(
        report.ignored_codes[0].text,
        "https://www.comune.example.it/"
    );
}

#[test]
fn an_image_whose_header_claims_too_many_pixels_is_refused_before_decoding() {
    let demo = Demo::new();
    let report = demo.verify(Input::sniff(&seed("png-claims-60000-square.png")));
    let Outcome::Invalid { step, reason } = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(*step, Step::Read);
    assert_eq!(
        *reason,
        VerifyError::Read(ReadError::ImageTooLarge {
            width: 60_000,
            height: 60_000,
            max_pixels: 50_000_000,
            max_side: 16_384,
        })
    );
}

#[test]
fn a_truncated_image_is_unreadable() {
    let demo = Demo::new();
    let report = demo.verify(Input::sniff(&seed("png-truncated.png")));
    assert!(matches!(
        report.outcome,
        Outcome::Invalid {
            reason: VerifyError::Read(ReadError::Image(_)),
            ..
        }
    ));
}

#[test]
fn a_blank_page_has_no_seal() {
    let blank = verifier::image::Gray {
        width: 620,
        height: 877,
        pixels: vec![255; 620 * 877],
    };
    assert!(verifier::image::scan_gray(&blank).seals.is_empty());
}

#[test]
fn a_negative_scan_white_code_on_black_is_read() {
    let demo = Demo::new();
    let limits = verifier::Limits::default();
    let mut gray = verifier::image::decode(&seed("seal-qr.png"), &limits).expect("decodes");
    for luma in &mut gray.pixels {
        *luma = 255 - *luma;
    }

    let scan = verifier::image::scan_gray(&gray);

    assert_eq!(scan.seals.len(), 1, "{scan:?}");
    assert_eq!(scan.pass, Some(verifier::image::Pass::Inverted));
    let mut png = Vec::new();
    image::GrayImage::from_raw(gray.width, gray.height, gray.pixels)
        .expect("dimensions")
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encodes");
    let report = demo.verify(Input::sniff(&png));
    assert!(
        matches!(
            report.outcome,
            Outcome::Invalid {
                step: Step::Key,
                ..
            }
        ),
        "the seal is found (and refused for its key, as the upright seed): {:?}",
        report.outcome
    );
}
