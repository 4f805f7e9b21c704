//! Writes the certificates the verifier's tests and benchmark read, so the
//! verifier (which a bank embeds alone) is tested without the issuer:
//!
//! ```text
//! cargo run -p issuer --example verifier_fixtures            # the certificates
//! cargo run -p issuer --example verifier_fixtures -- --keys  # new demo keys first
//! ```
//!
//! Each certificate is prepared as the counter would (no database): the
//! demo family's head, exempt (esente:9), issued at the fixed time the
//! tests verify from, sealed and signed with the committed demo keys of
//! `testkit/fixtures/`. Written to `verifier/tests/fixtures/` as
//! `<Kind>-<sequence>.pdf` and `.cose` (the seal's bytes). After `--keys`
//! run it again without, so the certificates use the new keys.

use std::path::Path;

use issuer::catalogue::{self, parse_usage};
use issuer::prepare::{About, Draft, Prepared, prepare};
use issuer::templates::Templates;
use seal::{CertificateKind, CertificateNumber};
use testkit::{FIXTURE_KEY_FILES, KEYS_MADE, comune_keys, demo_comune, fixture_keys, fixtures_dir};
use time::OffsetDateTime;
use time::macros::datetime;

/// When the fixture certificates are issued (the verifier's tests verify
/// them three days later).
const ISSUED_AT: OffsetDateTime = datetime!(2026-03-02 09:15:00 UTC);

/// The certificates the verifier's tests use: kind and sequence number.
const CERTIFICATES: [(CertificateKind, u32); 4] = [
    (CertificateKind::Residenza, 123),
    (CertificateKind::Cittadinanza, 124),
    (CertificateKind::Nascita, 7),
    (CertificateKind::StatoFamigliaParentela, 9),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|arg| arg == "--keys") {
        let keys = comune_keys(&demo_comune(), KEYS_MADE);
        let dir = fixtures_dir();
        let texts = [
            keys.ca.certificate.to_pem(),
            keys.ca.key.to_pem().to_string(),
            keys.signer_keys.certificate.to_pem(),
            keys.signer_keys.key.to_pem().to_string(),
        ];
        for (name, text) in FIXTURE_KEY_FILES.iter().zip(texts) {
            std::fs::write(dir.join(name), text)?;
        }
        println!("new demo keys in {}", dir.display());
        return Ok(());
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier/tests/fixtures");
    std::fs::create_dir_all(&out)?;
    for (stem, prepared) in certificates()? {
        std::fs::write(out.join(format!("{stem}.pdf")), &prepared.pdf)?;
        std::fs::write(out.join(format!("{stem}.cose")), prepared.seal.as_bytes())?;
        println!("{stem}: {} bytes of PDF", prepared.pdf.len());
    }
    Ok(())
}

/// The fixture certificates as the issuer prepares them now, each with its
/// file stem: `<Kind>-<sequence>`.
pub(crate) fn certificates() -> Result<Vec<(String, Prepared)>, Box<dyn std::error::Error>> {
    let keys = fixture_keys();
    let comune = testkit::fixtures::comune();
    let subject = testkit::fixtures::subject();
    let templates = Templates::builtin()?;
    let mut prepared = Vec::new();
    for (kind, sequence) in CERTIFICATES {
        let draft = Draft {
            comune: &comune,
            spec: catalogue::spec_of(kind).ok_or("kind not in the catalogue")?,
            about: About::Person {
                subject: &subject,
                parts: &[],
            },
            usage: parse_usage("esente:9")?,
            bollo: None,
            diritti_cents: None,
            issued_at: ISSUED_AT,
        };
        let number = CertificateNumber::new(2026, sequence)?;
        let certificate = prepare(
            &draft,
            number,
            sequence - 1,
            &templates,
            &keys.signer,
            &keys.trust,
        )?;
        prepared.push((format!("{kind:?}-{sequence}"), certificate));
    }
    Ok(prepared)
}
