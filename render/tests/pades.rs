//! PAdES signatures checked by independent validators: poppler's pdfsig,
//! qpdf's structure check and pyHanko (`tests/interop/pyhanko_validate.py`),
//! on PDFs made by printpdf (a cross-reference table) and lopdf (a table,
//! and a cross-reference stream with object streams). Needs poppler-utils,
//! qpdf and python3 with pyHanko; without them those tests are skipped.

mod pdf_samples;

use lopdf::{Document, IncrementalDocument, Object, dictionary};
use pdf_samples::{
    Scratch, TestKeys, Xref, ends_with_xref_stream, lopdf_pdf, pdfsig, poppler_and_qpdf_available,
    printpdf_pdf, pyhanko, pyhanko_available, qpdf_check, sign_options, test_keys,
};
use render::pades::{CmsSigner, PadesError, sign_pdf};

const PDFSIG_VALID: &str = "Signature Validation: Signature is Valid.";
const PDFSIG_TOTAL: &str = "Total document signed";

/// The three kinds of input, named.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("printpdf", printpdf_pdf()),
        ("lopdf-table", lopdf_pdf(Xref::Table)),
        ("lopdf-stream", lopdf_pdf(Xref::Stream)),
    ]
}

fn sign(keys: &TestKeys, pdf: &[u8]) -> Vec<u8> {
    sign_pdf(pdf, &keys.signer, &sign_options()).expect("signs")
}

#[test]
fn printpdf_writes_a_classic_table_and_lopdf_modern_save_a_stream() {
    assert!(!ends_with_xref_stream(&printpdf_pdf()));
    assert!(!ends_with_xref_stream(&lopdf_pdf(Xref::Table)));
    assert!(ends_with_xref_stream(&lopdf_pdf(Xref::Stream)));
}

#[test]
fn the_update_keeps_the_cross_reference_style_of_the_file() {
    let keys = test_keys();
    for (name, pdf) in samples() {
        let signed = sign(&keys, &pdf);
        assert_eq!(
            ends_with_xref_stream(&signed),
            ends_with_xref_stream(&pdf),
            "{name}"
        );
        assert!(signed.starts_with(&pdf), "{name}: the original is a prefix");
        // The signed file reads back, with the signature field on page 1.
        let doc = Document::load_mem(&signed).expect("reads back");
        let page = doc.page_iter().next().expect("a page");
        let annots = doc
            .get_dictionary(page)
            .and_then(|page| page.get(b"Annots"))
            .and_then(Object::as_array)
            .expect("annots");
        assert_eq!(annots.len(), 1, "{name}");
    }
}

#[test]
fn pdfsig_finds_the_signature_valid_and_qpdf_the_file_sound() {
    if !poppler_and_qpdf_available() {
        return;
    }
    let keys = test_keys();
    let scratch = Scratch::new();
    for (name, pdf) in samples() {
        let path = scratch.write(&format!("{name}.pdf"), &sign(&keys, &pdf));
        let report = pdfsig(&path);
        assert!(
            report.contains(PDFSIG_VALID),
            "{name}: pdfsig says\n{report}"
        );
        assert!(
            report.contains(PDFSIG_TOTAL),
            "{name}: pdfsig says\n{report}"
        );
        assert!(
            report.contains("ETSI.CAdES.detached"),
            "{name}: pdfsig says\n{report}"
        );
        let (ok, qpdf) = qpdf_check(&path);
        assert!(ok, "{name}: qpdf --check says\n{qpdf}");
    }
}

#[test]
fn pyhanko_finds_a_pades_signature_intact_valid_trusted_and_covering_the_file() {
    if !pyhanko_available() {
        return;
    }
    let keys = test_keys();
    let scratch = Scratch::new();
    let ca = scratch.write("ca.pem", keys.ca.certificate.to_pem().as_bytes());
    for (name, pdf) in samples() {
        let path = scratch.write(&format!("{name}.pdf"), &sign(&keys, &pdf));
        let (code, report) = pyhanko(&path, &ca);
        assert_eq!(code, 0, "{name}: pyHanko says\n{report}");
        for line in [
            "subfilter: /ETSI.CAdES.detached",
            "intact: True",
            "valid: True",
            "trusted: True",
            "coverage: ENTIRE_FILE",
        ] {
            assert!(report.contains(line), "{name}: no {line:?} in\n{report}");
        }
    }
}

#[test]
fn pyhanko_does_not_trust_a_signature_from_another_comunes_ca() {
    if !pyhanko_available() {
        return;
    }
    let keys = test_keys();
    let other = test_keys();
    let scratch = Scratch::new();
    let ca = scratch.write("other-ca.pem", other.ca.certificate.to_pem().as_bytes());
    let path = scratch.write("signed.pdf", &sign(&keys, &printpdf_pdf()));
    let (code, report) = pyhanko(&path, &ca);
    assert_eq!(code, 1, "pyHanko says\n{report}");
    assert!(report.contains("intact: True"), "{report}");
    assert!(report.contains("trusted: False"), "{report}");
}

/// Changes one byte of the signed range: the version digit in the
/// original's header, or a letter of `/Location` in the update.
fn tampered(signed: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut in_original = signed.to_vec();
    assert!(in_original.starts_with(b"%PDF-1."));
    in_original[7] = if in_original[7] == b'4' { b'5' } else { b'4' };
    let mut in_update = signed.to_vec();
    let location = find(signed, b"(Borgo Sigillo)").expect("/Location") + 1;
    in_update[location] = b'V';
    vec![("original", in_original), ("update", in_update)]
}

#[test]
fn a_changed_byte_makes_pdfsig_and_pyhanko_report_the_signature_invalid() {
    let with_poppler = poppler_and_qpdf_available();
    let with_pyhanko = pyhanko_available();
    if !with_poppler && !with_pyhanko {
        return;
    }
    let keys = test_keys();
    let scratch = Scratch::new();
    let ca = scratch.write("ca.pem", keys.ca.certificate.to_pem().as_bytes());
    for (name, pdf) in samples() {
        for (place, bytes) in tampered(&sign(&keys, &pdf)) {
            let path = scratch.write(&format!("{name}-{place}.pdf"), &bytes);
            if with_poppler {
                let report = pdfsig(&path);
                assert!(
                    !report.contains(PDFSIG_VALID),
                    "{name}/{place}: pdfsig says\n{report}"
                );
                assert!(
                    report.contains("Signature Validation: Digest Mismatch."),
                    "{name}/{place}: pdfsig says\n{report}"
                );
            }
            if with_pyhanko {
                let (code, report) = pyhanko(&path, &ca);
                assert_eq!(code, 1, "{name}/{place}: pyHanko says\n{report}");
                assert!(report.contains("intact: False"), "{name}/{place}: {report}");
            }
        }
    }
}

/// Appends an incremental update that changes the first page (adds an
/// entry), as an editor saving the file would.
fn updated_after_signing(signed: &[u8]) -> Vec<u8> {
    let doc = Document::load_mem(signed).expect("reads");
    let page = doc.page_iter().next().expect("page");
    let mut update = IncrementalDocument::create_from(signed.to_vec(), doc);
    update
        .opt_clone_object_to_new_document(page)
        .expect("page copied");
    update
        .new_document
        .get_dictionary_mut(page)
        .expect("page")
        .set("Rotate", 90);
    let mut bytes = Vec::new();
    update.save_to(&mut bytes).expect("saves");
    bytes
}

#[test]
fn an_update_after_signing_is_reported_as_not_covering_the_whole_file() {
    let with_poppler = poppler_and_qpdf_available();
    let with_pyhanko = pyhanko_available();
    if !with_poppler && !with_pyhanko {
        return;
    }
    let keys = test_keys();
    let scratch = Scratch::new();
    let ca = scratch.write("ca.pem", keys.ca.certificate.to_pem().as_bytes());
    let bytes = updated_after_signing(&sign(&keys, &printpdf_pdf()));
    let path = scratch.write("updated.pdf", &bytes);
    if with_poppler {
        let report = pdfsig(&path);
        assert!(report.contains(PDFSIG_VALID), "pdfsig says\n{report}");
        assert!(!report.contains(PDFSIG_TOTAL), "pdfsig says\n{report}");
    }
    if with_pyhanko {
        let (code, report) = pyhanko(&path, &ca);
        assert_eq!(code, 1, "pyHanko says\n{report}");
        assert!(report.contains("intact: True"), "{report}");
        assert!(report.contains("coverage: ENTIRE_REVISION"), "{report}");
    }
}

#[test]
fn the_signature_adds_under_20_kib_whatever_the_input() {
    let keys = test_keys();
    for (name, pdf) in samples() {
        let added = sign(&keys, &pdf).len() - pdf.len();
        println!(
            "{name}: {} bytes in, {added} bytes added by the signature",
            pdf.len()
        );
        assert!(added < 20 * 1024, "{name}: {added} bytes added");
    }
}

// ---------------------------------------------------------------------------
// Refusals: typed errors, never a panic

#[test]
fn bytes_that_are_not_a_pdf_are_refused() {
    let keys = test_keys();
    for bytes in [&b""[..], b"hello", b"%PDF-1.7\n%%EOF\n"] {
        let error = sign_pdf(bytes, &keys.signer, &sign_options()).expect_err("refused");
        assert!(
            matches!(
                error,
                PadesError::NotPdf(_) | PadesError::Unsupported(_) | PadesError::NoPages
            ),
            "{error:?}"
        );
    }
}

#[test]
fn truncated_or_altered_pdfs_give_errors_not_panics() {
    let keys = test_keys();
    let options = sign_options();
    for pdf in [printpdf_pdf(), lopdf_pdf(Xref::Stream)] {
        for end in (0..pdf.len()).step_by(97) {
            let _ = sign_pdf(&pdf[..end], &keys.signer, &options);
        }
        for at in (0..pdf.len()).step_by(61) {
            for byte in [b'0', b' ', b'<', 0xff] {
                let mut altered = pdf.clone();
                altered[at] = byte;
                let _ = sign_pdf(&altered, &keys.signer, &options);
            }
        }
    }
}

#[test]
fn a_pdf_without_pages_is_refused() {
    let keys = test_keys();
    let mut doc = Document::with_version("1.7");
    let pages = doc.add_object(dictionary! {
        "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0,
    });
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).expect("saves");
    assert_eq!(
        sign_pdf(&pdf, &keys.signer, &sign_options()),
        Err(PadesError::NoPages)
    );
}

#[test]
fn an_encrypted_pdf_is_refused() {
    let keys = test_keys();
    for user_password in ["", "segreta"] {
        let mut doc = Document::load_mem(&lopdf_pdf(Xref::Table)).expect("reads");
        doc.trailer.set(
            "ID",
            vec![
                Object::string_literal("0123456789abcdef"),
                Object::string_literal("0123456789abcdef"),
            ],
        );
        let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "proprietario",
            user_password,
            key_length: 128,
            permissions: lopdf::Permissions::all(),
        })
        .expect("encryption state");
        doc.encrypt(&state).expect("encrypts");
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).expect("saves");
        assert_eq!(
            sign_pdf(&pdf, &keys.signer, &sign_options()),
            Err(PadesError::Encrypted),
            "user password {user_password:?}"
        );
    }
}

#[test]
fn a_signing_time_outside_the_certificate_is_refused() {
    let keys = test_keys();
    let mut options = sign_options();
    options.signing_time -= time::Duration::days(1);
    assert!(matches!(
        sign_pdf(&printpdf_pdf(), &keys.signer, &options),
        Err(PadesError::OutsideValidity(_))
    ));
}

/// A signer whose signatures are too large, or who has no certificate.
struct OddSigner<'a> {
    chain: &'a [Vec<u8>],
    signature_len: usize,
}

impl CmsSigner for OddSigner<'_> {
    fn certificate_chain(&self) -> &[Vec<u8>] {
        self.chain
    }

    fn sign_ecdsa_p256_sha256(&self, _message: &[u8]) -> Result<Vec<u8>, seal::SignerError> {
        Ok(vec![0x30; self.signature_len])
    }
}

#[test]
fn a_cms_larger_than_the_reserved_space_is_refused() {
    let keys = test_keys();
    let signer = OddSigner {
        chain: keys.signer.certificate_chain(),
        signature_len: render::pades::CONTENTS_RESERVED,
    };
    let error = sign_pdf(&printpdf_pdf(), &signer, &sign_options()).expect_err("too large");
    assert!(
        matches!(error, PadesError::CmsTooLarge { reserved, size } if size > reserved),
        "{error:?}"
    );
}

#[test]
fn a_signer_without_certificates_is_refused() {
    let signer = OddSigner {
        chain: &[],
        signature_len: 70,
    };
    assert_eq!(
        sign_pdf(&printpdf_pdf(), &signer, &sign_options()),
        Err(PadesError::NoCertificate)
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
