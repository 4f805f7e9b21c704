//! The outside PDF checkers the tests trust because we did not write them:
//! pdfsig (poppler), qpdf and pyHanko.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tool_available;

/// Whether pdfsig (poppler-utils) and qpdf are here.
pub fn poppler_and_qpdf_available() -> bool {
    tool_available("pdfsig (poppler-utils)", Command::new("pdfsig").arg("-v"))
        && tool_available("qpdf", Command::new("qpdf").arg("--version"))
}

/// Whether python3 with pyHanko is here.
pub fn pyhanko_available() -> bool {
    tool_available(
        "python3 with pyHanko and pyhanko-certvalidator",
        Command::new("python3").args(["-c", "import pyhanko.sign, pyhanko_certvalidator"]),
    )
}

/// A scratch directory holding the files a test hands to outside tools.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Writes `bytes` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }
}

/// What `pdfsig FILE` prints (stdout and stderr together).
pub fn pdfsig(pdf: &Path) -> String {
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
pub fn qpdf_check(pdf: &Path) -> (bool, String) {
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
pub fn pyhanko(pdf: &Path, ca_pem: &Path) -> (i32, String) {
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

/// Asserts that the three outside checkers accept `pdf` as a whole-file,
/// valid PAdES signature trusted under `ca_pem`: pdfsig (valid, total
/// document signed), `qpdf --check` (clean) and pyHanko (exit 0). `what`
/// names the file in failure messages.
pub fn assert_totally_signed(pdf: &Path, ca_pem: &Path, what: &str) {
    let report = pdfsig(pdf);
    assert!(
        report.contains("Signature Validation: Signature is Valid."),
        "{what}: {report}"
    );
    assert!(report.contains("Total document signed"), "{what}: {report}");
    let (clean, qpdf) = qpdf_check(pdf);
    assert!(clean, "{what}: {qpdf}");
    let (code, verdict) = pyhanko(pdf, ca_pem);
    assert_eq!(code, 0, "{what}: {verdict}");
}

/// The PDF's text as `pdftotext -layout` extracts it, or `None` (with a
/// printed `SKIPPED:` reason; a failure under `CI=true`) when poppler is
/// not installed.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    if !tool_available(
        "pdftotext (poppler-utils)",
        Command::new("pdftotext").arg("-v"),
    ) {
        return None;
    }
    let scratch = Scratch::new();
    let path = scratch.write("document.pdf", pdf);
    let output = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(output.status.success(), "pdftotext failed: {output:?}");
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}
