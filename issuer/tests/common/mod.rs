//! Shared set-up for the issuer crate's integration tests: keys, sample
//! PDFs made with printpdf and lopdf, and the outside checkers (pdfsig,
//! qpdf, pyHanko).
#![allow(dead_code, reason = "each test file uses only some of these helpers")]

use std::path::{Path, PathBuf};
use std::process::Command;

use issuer::pades::SignOptions;
use keys::{Comune, KeyAndCertificate, KeySigner, generate_ca, generate_signer};
use lopdf::content::{Content, Operation};
use lopdf::xref::XrefType;
use lopdf::{Document, Object, Stream, dictionary};
use seal::ComuneCode;
use time::OffsetDateTime;

/// The demo comune.
pub(crate) fn demo_comune() -> Comune {
    Comune {
        code: ComuneCode::parse("999001").expect("valid code"),
        name: "Borgo Sigillo".into(),
    }
}

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

/// Whether an outside tool a test needs is here. When it is not, the test
/// is skipped with the reason printed straight to the terminal (past the
/// test harness's capture); under `CI=true` a missing tool fails the test.
pub(crate) fn tool_available(name: &str, probe: &mut Command) -> bool {
    use std::io::Write as _;
    let found = probe
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if found {
        return true;
    }
    let reason = format!("{name} is not installed");
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("{reason}, and CI=true requires it (.ci/run installs it)");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}; the test did not run");
    false
}

/// Whether pdfsig (poppler-utils) and qpdf are here.
pub(crate) fn poppler_and_qpdf_available() -> bool {
    tool_available("pdfsig (poppler-utils)", Command::new("pdfsig").arg("-v"))
        && tool_available("qpdf", Command::new("qpdf").arg("--version"))
}

/// Whether python3 with pyHanko is here.
pub(crate) fn pyhanko_available() -> bool {
    tool_available(
        "python3 with pyHanko and pyhanko-certvalidator",
        Command::new("python3").args(["-c", "import pyhanko.sign, pyhanko_certvalidator"]),
    )
}

/// A scratch directory holding the files a test hands to outside tools.
pub(crate) struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Writes `bytes` to `name` in the directory and returns its path.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }
}

/// What `pdfsig FILE` prints (stdout and stderr together).
pub(crate) fn pdfsig(pdf: &Path) -> String {
    let output = Command::new("pdfsig")
        .arg(pdf)
        .output()
        .expect("pdfsig runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Whether `qpdf --check FILE` passes, and what it printed.
pub(crate) fn qpdf_check(pdf: &Path) -> (bool, String) {
    let output = Command::new("qpdf")
        .arg("--check")
        .arg(pdf)
        .output()
        .expect("qpdf runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // qpdf exits 0 when clean, 3 when it only warns: warnings fail here too.
    (output.status.code() == Some(0), text)
}

/// pyHanko's verdict on `pdf` with `ca_pem` as trust root: the script's
/// exit code (0 all good, 1 a check failed, 2 unreadable) and its output.
pub(crate) fn pyhanko(pdf: &Path, ca_pem: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/pyhanko_validate.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(pdf)
        .arg(ca_pem)
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}
