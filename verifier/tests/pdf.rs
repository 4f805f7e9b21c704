//! Certificate PDFs: read without rendering, their own PAdES signature
//! checked over the whole file, and their seal checked against it.

mod common;

use common::{Demo, ISSUED_AT, other_comune, other_keys};
use lopdf::{Document, Object, StringFormat, dictionary};
use render::pades::{SignOptions, sign_pdf};
use verifier::{
    Disagreement, Input, Limits, Outcome, PdfSignatureError, ReadError, Step, Verifier, VerifyError,
};

fn failure(report: &verifier::Report) -> (Step, &VerifyError) {
    match &report.outcome {
        Outcome::Invalid { step, reason } => (*step, reason),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// A one-page PDF whose information dictionary carries `seal_url`, if any,
/// sealed with PAdES by `signer`.
/// The PDF's signature names the sample residenza (2026/000123) and is
/// made when its seal was issued, as the issuer writes them.
fn signed_pdf_with_seal(seal_url: Option<&str>, signer: &keys::KeySigner) -> Vec<u8> {
    signed_pdf(
        seal_url,
        signer,
        "Certificato di residenza n. 2026/000123",
        ISSUED_AT,
    )
}

fn signed_pdf(
    seal_url: Option<&str>,
    signer: &keys::KeySigner,
    reason: &str,
    signing_time: time::OffsetDateTime,
) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    if let Some(url) = seal_url {
        let info = doc.add_object(dictionary! {
            "SigilloSeal" => Object::String(url.as_bytes().to_vec(), StringFormat::Literal),
        });
        doc.trailer.set("Info", info);
    }
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("saves");
    let options = SignOptions {
        signing_time,
        name: "Comune".into(),
        reason: reason.into(),
        location: "Borgo".into(),
    };
    sign_pdf(&bytes, signer, &options).expect("signs")
}

#[test]
fn an_issued_pdf_is_authentic_and_its_signature_is_reported() {
    let demo = Demo::new();
    let prepared = demo.residenza();
    let report = demo.verify(Input::sniff(&prepared.pdf));
    let Outcome::Authentic { facts, .. } = &report.outcome else {
        panic!("{}", report.detail);
    };
    assert_eq!(facts.number, "2026/000123");
    let pdf_signature = report.pdf_signature.as_ref().expect("the PDF's signature");
    assert_eq!(pdf_signature.signed_at, ISSUED_AT);
    assert_eq!(
        pdf_signature.signer.kid,
        demo.keys.signer_keys.certificate.kid().to_hex()
    );
}

#[test]
fn a_changed_byte_in_the_pdf_fails_at_the_pdf_signature() {
    let demo = Demo::new();
    let mut pdf = demo.residenza().pdf;
    let at = pdf
        .windows(6)
        .position(|w| w == b"/Title")
        .expect("a title");
    pdf[at + 1] ^= 0x20;
    let report = demo.verify(Input::Pdf(&pdf));
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::PdfSignature);
    assert_eq!(
        *reason,
        VerifyError::PdfSignature(PdfSignatureError::DigestMismatch)
    );
}

#[test]
fn bytes_appended_after_the_signature_make_the_pdf_invalid() {
    let demo = Demo::new();
    let mut pdf = demo.residenza().pdf;
    pdf.extend_from_slice(b"% added after signing\n");
    let report = demo.verify(Input::Pdf(&pdf));
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::PdfSignature);
    assert_eq!(
        *reason,
        VerifyError::PdfSignature(PdfSignatureError::NotWholeFile { added: 22 })
    );
}

#[test]
fn an_incremental_update_after_signing_that_swaps_the_seal_is_refused() {
    let demo = Demo::new();
    let prepared = demo.residenza();
    let other = demo.prepare(seal::CertificateKind::Cittadinanza, 124);
    let pdf = prepared.pdf;
    // A well-formed incremental update: a new information dictionary with
    // another certificate's (authentic) seal, its xref and trailer.
    let doc = Document::load_mem(&pdf).expect("reads");
    let root = doc.trailer.get(b"Root").expect("root").clone();
    let size = doc.max_id + 1;
    let prev = pdf
        .windows(9)
        .rposition(|w| w == b"startxref")
        .map(|at| {
            let rest = std::str::from_utf8(&pdf[at + 9..]).expect("ascii");
            rest.split_whitespace()
                .next()
                .expect("offset")
                .parse::<usize>()
                .expect("number")
        })
        .expect("startxref");
    let mut update = pdf.clone();
    let object_at = update.len();
    let url = other.seal.to_url("certificati.borgosigillo.example.it");
    update.extend_from_slice(
        format!("{size} 0 obj\n<< /SigilloSeal ({url}) >>\nendobj\n").as_bytes(),
    );
    let xref_at = update.len();
    let Object::Reference((root_number, root_generation)) = root else {
        panic!("root is a reference");
    };
    update.extend_from_slice(
        format!(
            "xref\n{size} 1\n{object_at:010} 00000 n\r\ntrailer\n<< /Size {} /Root {root_number} {root_generation} R /Info {size} 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n",
            size + 1
        )
        .as_bytes(),
    );
    let reread = Document::load_mem(&update).expect("the update reads");
    assert!(reread.trailer.get(b"Info").is_ok());
    let report = demo.verify(Input::Pdf(&update));
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::PdfSignature);
    assert!(matches!(
        reason,
        VerifyError::PdfSignature(PdfSignatureError::NotWholeFile { .. })
    ));
}

#[test]
fn a_pdf_signed_by_one_comune_carrying_the_seal_of_anothers_certificate_is_invalid() {
    let demo = Demo::new();
    let other = other_keys();
    let mut trust = demo.trust.clone();
    trust.add_pem(&other.ca.certificate.to_pem()).expect("CA");
    trust
        .add_pem(&other.signer_keys.certificate.to_pem())
        .expect("signer");
    let mut claims = seal::samples::residenza();
    claims.issuer = other_comune().code;
    let their_seal = seal::Seal::sign(&claims, &other.signer).expect("signs");
    let pdf = signed_pdf_with_seal(
        Some(&their_seal.to_url("certificati.altroborgo.example.it")),
        &demo.keys.signer,
    );
    let report =
        Verifier::new(&trust).verify_now(Input::Pdf(&pdf), &verifier::NoStatus, common::NOW);
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::Agreement);
    assert_eq!(
        *reason,
        VerifyError::Disagreement(Disagreement::Comune {
            seal: other_comune().code,
            pdf: seal::ComuneCode::parse("999001").expect("code"),
        })
    );

    // The same construction with the comune's own seal holds: what failed
    // is the disagreement.
    let own = signed_pdf_with_seal(
        Some(
            &demo
                .residenza()
                .seal
                .to_url("certificati.borgosigillo.example.it"),
        ),
        &demo.keys.signer,
    );
    let report =
        Verifier::new(&trust).verify_now(Input::Pdf(&own), &verifier::NoStatus, common::NOW);
    assert!(report.is_authentic(), "{}", report.detail);
}

#[test]
fn a_pdf_whose_signature_names_another_number_or_time_than_its_seal_is_invalid() {
    let demo = Demo::new();
    let url = demo
        .residenza()
        .seal
        .to_url("certificati.borgosigillo.example.it");
    let other_number = signed_pdf(
        Some(&url),
        &demo.keys.signer,
        "Certificato di residenza n. 2026/000124",
        ISSUED_AT,
    );
    let report = demo.verify(Input::Pdf(&other_number));
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::Agreement);
    assert_eq!(reason.code(), "seal_and_pdf_numbers_differ");
    assert!(
        report.detail.contains("n. 2026/000124"),
        "{}",
        report.detail
    );

    let other_time = signed_pdf(
        Some(&url),
        &demo.keys.signer,
        "Certificato di residenza n. 2026/000123",
        ISSUED_AT + time::Duration::days(1),
    );
    let report = demo.verify(Input::Pdf(&other_time));
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::Agreement);
    assert_eq!(reason.code(), "seal_and_pdf_times_differ");
}

#[test]
fn a_certificate_pdf_whose_seal_was_altered_or_removed_fails_at_the_pdf_signature() {
    let demo = Demo::new();
    let pdf = demo.residenza().pdf;
    let key = b"/SigilloSeal";
    let at = pdf
        .windows(key.len())
        .position(|window| window == key)
        .expect("the seal is in the Info dictionary");
    // Rename the key: the seal is gone, the bytes are no longer signed.
    let mut removed = pdf.clone();
    removed[at + 1] = b'X';
    let report = demo.verify(Input::Pdf(&removed));
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::PdfSignature, "{}", report.detail);
    assert_eq!(reason.code(), "pdf_digest_mismatch");
    // Break the seal's text: the same.
    let mut altered = pdf.clone();
    let digit = at + key.len() + 60;
    altered[digit] = if altered[digit] == b'7' { b'8' } else { b'7' };
    let report = demo.verify(Input::Pdf(&altered));
    assert_eq!(failure(&report).0, Step::PdfSignature, "{}", report.detail);
}

#[test]
fn an_unsigned_pdf_without_a_seal_is_no_certificate() {
    let demo = Demo::new();
    let mut doc = Document::with_version("1.7");
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog" });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("saves");
    let report = demo.verify(Input::Pdf(&bytes));
    assert!(
        matches!(report.outcome, Outcome::NotFound),
        "{}",
        report.detail
    );
}

#[test]
fn a_pdf_signed_by_an_untrusted_key_fails_at_the_pdf_signature() {
    let demo = Demo::new();
    let stranger = other_keys();
    let pdf = signed_pdf_with_seal(
        Some(
            &demo
                .residenza()
                .seal
                .to_url("certificati.borgosigillo.example.it"),
        ),
        &stranger.signer,
    );
    let report = demo.verify(Input::Pdf(&pdf));
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::PdfSignature);
    assert_eq!(
        *reason,
        VerifyError::PdfSignature(PdfSignatureError::UntrustedSigner(
            stranger.signer_keys.certificate.kid()
        ))
    );
}

#[test]
fn a_pdf_without_a_seal_is_not_found() {
    let demo = Demo::new();
    let pdf = signed_pdf_with_seal(None, &demo.keys.signer);
    let report = demo.verify(Input::Pdf(&pdf));
    assert!(
        matches!(report.outcome, Outcome::NotFound),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.headline, "Nessun sigillo trovato");
}

#[test]
fn a_pdf_with_a_seal_and_no_signature_fails_at_the_pdf_signature() {
    let demo = Demo::new();
    let url = demo
        .residenza()
        .seal
        .to_url("certificati.borgosigillo.example.it");
    let mut doc = Document::with_version("1.7");
    let info = doc.add_object(dictionary! {
        "SigilloSeal" => Object::String(url.into_bytes(), StringFormat::Literal),
    });
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog" });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).expect("saves");
    let report = demo.verify(Input::Pdf(&pdf));
    assert_eq!(
        failure(&report),
        (
            Step::PdfSignature,
            &VerifyError::PdfSignature(PdfSignatureError::NoSignature)
        )
    );
}

#[test]
fn a_pdf_over_the_size_limit_is_refused_before_parsing() {
    let demo = Demo::new();
    let pdf = demo.residenza().pdf;
    let limits = Limits {
        max_file_bytes: 1024,
        ..Limits::default()
    };
    let report = Verifier::new(&demo.trust).with_limits(limits).verify_now(
        Input::Pdf(&pdf),
        &verifier::NoStatus,
        common::NOW,
    );
    let (step, reason) = failure(&report);
    assert_eq!(step, Step::Read);
    assert!(matches!(
        reason,
        VerifyError::Read(ReadError::TooLarge { max: 1024, .. })
    ));
}

#[test]
fn garbage_that_starts_like_a_pdf_is_unreadable_not_a_panic() {
    let demo = Demo::new();
    for bytes in [
        &b"%PDF-1.7\n"[..],
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.7\nxref\n0 99999999\ntrailer<</Size 5>>\nstartxref\n9\n%%EOF",
    ] {
        let report = demo.verify(Input::sniff(bytes));
        assert!(
            !report.is_authentic(),
            "{:?} passed",
            String::from_utf8_lossy(bytes)
        );
    }
}
