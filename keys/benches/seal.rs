//! Seal throughput: build + sign and parse + verify, against the raw `ring`
//! ECDSA P-256 verify rate measured in the same run.
//!
//! `cargo bench -p keys --bench seal`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keys::{Comune, KeySigner, TrustStore, generate_ca, generate_signer, raw_es256_verify};
use seal::{ComuneCode, Seal, samples};
use time::macros::datetime;

fn setup() -> (KeySigner, TrustStore, Vec<u8>) {
    let comune = Comune {
        code: ComuneCode::parse(samples::DEMO_COMUNE).expect("code"),
        name: "Borgo Sigillo".into(),
    };
    let made = datetime!(2026-01-01 00:00:00 UTC);
    let ca = generate_ca(&comune, made).expect("CA");
    let signer = generate_signer(&comune, &ca, made).expect("signer");
    let mut trust = TrustStore::new();
    trust.add_ca(ca.certificate.clone()).expect("CA trusted");
    trust
        .add_signer(signer.certificate.clone())
        .expect("signer trusted");
    let public_key = signer.certificate.public_key().to_vec();
    (
        KeySigner::new(&signer.certificate, &signer.key).expect("signer"),
        trust,
        public_key,
    )
}

fn benches(c: &mut Criterion) {
    let (signer, trust, public_key) = setup();
    let now = samples::SAMPLE_NOW.midnight().assume_utc();
    let mut group = c.benchmark_group("seal");
    group.throughput(Throughput::Elements(1));

    for (name, claims) in [
        ("residenza", samples::residenza()),
        ("famiglia6", samples::famiglia(6)),
    ] {
        group.bench_function(format!("build_sign/{name}"), |b| {
            b.iter(|| Seal::sign(black_box(&claims), &signer).expect("signs"))
        });
        let sealed = Seal::sign(&claims, &signer).expect("signs");
        group.bench_function(format!("parse_verify/{name}"), |b| {
            b.iter(|| seal::verify(black_box(sealed.as_bytes()), &trust, now).expect("verifies"))
        });
        let url = sealed.to_url("certificati.comune.example.it");
        group.bench_function(format!("text_parse_verify/{name}"), |b| {
            b.iter(|| seal::verify_text(black_box(&url), &trust, now).expect("verifies"))
        });
    }

    // The same message and signature the residenza seal carries, checked by
    // ring alone: the floor under any seal verification.
    let sealed = Seal::sign(&samples::residenza(), &signer).expect("signs");
    let message = seal::cose::Sign1::decode(sealed.as_bytes())
        .expect("decodes")
        .to_be_signed(b"");
    let signature = &sealed.as_bytes()[sealed.as_bytes().len() - 64..];
    assert!(raw_es256_verify(&public_key, &message, signature));
    group.bench_function("ring_raw_verify", |b| {
        b.iter(|| raw_es256_verify(black_box(&public_key), black_box(&message), signature))
    });
    group.finish();
}

criterion_group!(seal_benches, benches);
criterion_main!(seal_benches);
