//! Preparing a certificate: controls, content, seal, QR check, PDF render.
//!
//! `cargo bench -p issuer --bench issue`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use issuer::catalogue::{self, parse_usage};
use issuer::issue::{About, Request, prepare};
use issuer::templates::Templates;
use seal::{CertificateKind, CertificateNumber};
use testkit::fixtures::{comune, subject};
use testkit::{KEYS_MADE, demo_comune, keys_for};
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let comune = comune();
    let subject = subject();
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let templates = Templates::builtin().expect("templates");
    let number = CertificateNumber::new(2026, 123).expect("number");
    let mut group = c.benchmark_group("issue");
    group.throughput(Throughput::Elements(1));
    for kind in [CertificateKind::Residenza, CertificateKind::StatoFamiglia] {
        let request = Request {
            comune: &comune,
            spec: catalogue::spec_of(kind).expect("in catalogue"),
            about: About::Person {
                subject: &subject,
                parts: &[],
            },
            usage: parse_usage("esente:9").expect("use"),
            bollo: None,
            issued_at: datetime!(2026-03-02 09:15:00 UTC),
        };
        let name = catalogue::spec_of(kind).map(|s| s.slug).unwrap_or("?");
        group.bench_function(format!("prepare/{name}"), |b| {
            b.iter(|| {
                prepare(black_box(&request), number, 7, &templates, &signer, &trust)
                    .expect("prepares")
            })
        });
    }
    group.finish();
}

criterion_group!(issue_benches, benches);
criterion_main!(issue_benches);
