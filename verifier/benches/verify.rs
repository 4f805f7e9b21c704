//! Verifying a certificate from its three inputs: the seal's text (as a
//! keyboard-mode scanner types it), the PDF (metadata read without
//! rendering, PAdES signature checked over the whole file), and a 300 dpi
//! scan of the page as PNG (decode, find the QR code, then the seal).
//!
//! `cargo bench -p verifier --bench verify`
//!
//! The certificate is the committed residenza of the verifier's tests
//! (`tests/fixtures/`), prepared by the issuer with the demo test keys.
//!
//! The PNG is the certificate rasterised by pdftoppm; without poppler-utils
//! that benchmark is skipped.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::process::Command;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seal::CertificateKind;
use verifier::{Input, NoStatus, Verifier};

fn verify_benches(c: &mut Criterion) {
    let demo = common::Demo::new();
    let now = common::NOW;
    let prepared = demo.prepare(CertificateKind::Residenza, 123);
    let url = format!(
        "{}\n",
        prepared
            .seal
            .to_url(&testkit::fixtures::comune().verification_host)
            .to_uppercase()
    );
    let verifier = Verifier::new(&demo.trust);
    let check = |input: Input<'_>| {
        let report = verifier.verify_now(input, &NoStatus, now);
        assert!(report.is_authentic(), "{}", report.detail);
        report
    };

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    group.bench_function("text/residenza", |b| {
        b.iter(|| check(black_box(Input::Text(&url))))
    });
    group.bench_function("pdf/residenza", |b| {
        b.iter(|| check(black_box(Input::Pdf(&prepared.pdf))))
    });
    if let Some(png) = scan_png(&prepared.pdf) {
        println!("300 dpi PNG: {} bytes", png.len());
        group.sample_size(20);
        group.bench_function("png_300dpi/residenza", |b| {
            b.iter(|| check(black_box(Input::Image(&png))))
        });
    }
    group.finish();
}

/// The certificate rasterised at 300 dpi in grey, as PNG.
fn scan_png(pdf: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("c.pdf");
    std::fs::write(&input, pdf).expect("write");
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png", "-singlefile"])
        .arg(&input)
        .arg(&prefix)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::read(prefix.with_extension("png")).ok()
}

criterion_group!(benches, verify_benches);
criterion_main!(benches);
