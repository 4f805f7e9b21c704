//! Shared set-up for the issuer crate's integration tests: keys, sample
//! PDFs made with printpdf and lopdf, and the outside checkers (pdfsig,
//! qpdf, pyHanko).
#![allow(dead_code, reason = "each test file uses only some of these helpers")]

use keys::{KeyAndCertificate, KeySigner, generate_ca, generate_signer};
use lopdf::content::{Content, Operation};
use lopdf::xref::XrefType;
use lopdf::{Document, Object, Stream, dictionary};
use render::pades::SignOptions;
use testkit::demo_comune;
use time::OffsetDateTime;

/// A comune's CA and a signer presenting signer and CA certificates, made
/// now: outside validators check the certificates at their own clock.
pub(crate) struct TestKeys {
    /// The CA, whose certificate is the trust root.
    pub(crate) ca: KeyAndCertificate,
    /// The seal signer.
    pub(crate) signer: KeySigner,
}

pub(crate) fn test_keys() -> TestKeys {
    let comune = demo_comune();
    let now = OffsetDateTime::now_utc();
    let ca = generate_ca(&comune, now).expect("CA");
    let signer_keys = generate_signer(&comune, &ca, now).expect("signer");
    let signer = KeySigner::new(&signer_keys.certificate, &signer_keys.key)
        .expect("key signer")
        .with_ca(&ca.certificate);
    TestKeys { ca, signer }
}

/// What the signature dictionary says, signed now.
pub(crate) fn sign_options() -> SignOptions {
    SignOptions {
        signing_time: OffsetDateTime::now_utc(),
        name: "Comune di Borgo Sigillo".into(),
        reason: "Rilascio del certificato di residenza".into(),
        location: "Borgo Sigillo".into(),
    }
}

/// A one-page certificate as printpdf renders it (PDF 1.3, a classic
/// cross-reference table).
pub(crate) fn printpdf_pdf() -> Vec<u8> {
    use printpdf::{
        BuiltinFont, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
        TextItem,
    };
    let font = PdfFontHandle::Builtin(BuiltinFont::Helvetica);
    let line = |y: f32, size: f32, text: &str| {
        [
            Op::SetFont {
                font: font.clone(),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point::new(Mm(20.0), Mm(y)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.into())],
            },
        ]
    };
    let mut ops = vec![Op::StartTextSection];
    ops.extend(line(270.0, 16.0, "Comune di Borgo Sigillo"));
    ops.extend(line(255.0, 12.0, "Certificato di residenza"));
    ops.push(Op::EndTextSection);
    let mut doc = PdfDocument::new("Certificato di residenza");
    let mut warnings = Vec::new();
    doc.with_pages(vec![PdfPage::new(Mm(210.0), Mm(297.0), ops)])
        .save(&PdfSaveOptions::default(), &mut warnings)
}

/// How a lopdf-made sample ends its cross-reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Xref {
    /// A classic table.
    Table,
    /// A cross-reference stream, with the catalog and pages in object
    /// streams.
    Stream,
}

/// A one-page PDF made with lopdf, with the cross-reference style asked.
pub(crate) fn lopdf_pdf(xref: Xref) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 14.into()]),
            Operation::new("Td", vec![60.into(), 760.into()]),
            Operation::new(
                "Tj",
                vec![Object::string_literal("Certificato di residenza")],
            ),
            Operation::new("ET", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(
        dictionary! {},
        content.encode().expect("content encodes"),
    ));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
            "Resources" => resources_id,
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    match xref {
        Xref::Table => {
            doc.reference_table.cross_reference_type = XrefType::CrossReferenceTable;
            doc.save_to(&mut bytes).expect("lopdf saves");
        }
        Xref::Stream => doc.save_modern(&mut bytes).expect("lopdf saves"),
    }
    bytes
}

/// Whether the file's last cross-reference section is a stream: what
/// `startxref` points at starts with `N G obj`, not `xref`.
pub(crate) fn ends_with_xref_stream(pdf: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pdf);
    let at = text.rfind("startxref").expect("startxref");
    let offset: usize = text[at + 9..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("startxref offset");
    !pdf[offset..].starts_with(b"xref")
}

pub(crate) use testkit::pdf_tools::{
    Scratch, pdfsig, poppler_and_qpdf_available, pyhanko, pyhanko_available, qpdf_check,
};
