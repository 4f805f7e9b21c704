//! Issuing a certificate: `prepare` (controls, content, seal, QR check, PDF
//! render, PAdES signature) on its own, and `Issuer::issue` from the demo
//! registry in SQLite (reading the person, then numbering, preparing and
//! storing the certificate in one transaction). PDF sizes per kind are
//! printed once.
//!
//! `cargo bench -p issuer --bench issue`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use issuer::catalogue::{self, parse_usage};
use issuer::prepare::{About, Draft, prepare};
use issuer::register::{Issuance, Issuer};
use issuer::templates::Templates;
use keys::{Comune, KeyStore};
use seal::{CertificateKind, CertificateNumber, CodiceFiscale};
use store::Store;
use testkit::fixtures::{comune, subject};
use testkit::{KEYS_MADE, demo_comune, keys_for};
use time::OffsetDateTime;
use time::macros::datetime;

fn prepare_benches(c: &mut Criterion) {
    let comune = comune();
    let subject = subject();
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let templates = Templates::builtin().expect("templates");
    let number = CertificateNumber::new(2026, 123).expect("number");
    let mut group = c.benchmark_group("issue");
    group.throughput(Throughput::Elements(1));
    for kind in [CertificateKind::Residenza, CertificateKind::StatoFamiglia] {
        let request = Draft {
            comune: &comune,
            spec: catalogue::spec_of(kind).expect("in catalogue"),
            about: About::Person {
                subject: &subject,
                parts: &[],
            },
            usage: parse_usage("esente:9").expect("use"),
            bollo: None,
            diritti_cents: None,
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

fn service_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let issuer = runtime.block_on(async {
        let keys = KeyStore::new(dir.path());
        let comune = Comune {
            code: store::demo::code(),
            name: store::demo::NAME.into(),
        };
        keys.init(&comune, KEYS_MADE, false).expect("keys");
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("bench.db").display());
        let store = Store::connect(&url).await.expect("store");
        store
            .upsert_comune(&store::demo::comune())
            .await
            .expect("comune");
        store::demo::load(&store).await.expect("demo");
        Issuer::new(store, keys, Templates::builtin().expect("templates"))
    });
    let request = |slug: &str| Issuance {
        comune: store::demo::code(),
        spec: catalogue::kind_by_slug(slug).expect("kind"),
        fiscal_code: CodiceFiscale::parse("PRSRRT80H69G504L").expect("cf"),
        parts: Vec::new(),
        parcels: Vec::new(),
        usage: parse_usage("esente:9").expect("use"),
        issued_by: "bench".into(),
        now: OffsetDateTime::now_utc(),
    };
    let sizes: Vec<String> = catalogue::CATALOGUE
        .iter()
        .filter(|spec| {
            !matches!(
                spec.kind,
                CertificateKind::Contestuale
                    | CertificateKind::DestinazioneUrbanistica
                    | CertificateKind::ResidenzaAire
                    | CertificateKind::StatoFamigliaAire
                    | CertificateKind::ResidenzaConvivenza
                    | CertificateKind::StatoLibero
                    | CertificateKind::UnioneCivile
                    | CertificateKind::ContrattoConvivenza
            )
        })
        .map(|spec| {
            let issued = runtime
                .block_on(issuer.issue(&request(spec.slug)))
                .expect("issues");
            format!("{} {} bytes", spec.slug, issued.pdf.len())
        })
        .collect();
    println!("PDF sizes: {}", sizes.join(", "));

    let mut group = c.benchmark_group("issue");
    group.throughput(Throughput::Elements(1));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(6));
    group.bench_function("service_sqlite/residenza", |b| {
        b.iter(|| {
            runtime
                .block_on(issuer.issue(black_box(&request("residenza"))))
                .expect("issues")
        })
    });
    group.finish();
}

criterion_group!(issue_benches, prepare_benches, service_benches);
criterion_main!(issue_benches);
