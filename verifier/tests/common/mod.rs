//! What the verifier's tests share: the demo comune's committed test keys
//! and trust, and certificates the issuer prepared with them at a fixed
//! time, committed in `tests/fixtures/` (so the verifier is tested alone,
//! as a bank embeds it; `cargo run -p issuer --example verifier_fixtures`
//! writes them again).
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses its own part of this module"
)]

use std::path::Path;

use keys::Comune;
use seal::{CertificateKind, Claims, ComuneCode};
use testkit::{ComuneKeys, KEYS_MADE, comune_keys, fixture_keys};
use time::OffsetDateTime;
use time::macros::datetime;
use verifier::{Input, NoStatus, Report, StatusSource, Trust, Verifier};

/// When the test certificates are issued.
pub const ISSUED_AT: OffsetDateTime = datetime!(2026-03-02 09:15:00 UTC);

/// When they are verified: three days later, well within validity.
pub const NOW: OffsetDateTime = datetime!(2026-03-05 10:00:00 UTC);

/// The demo comune's keys, and a verifier's trust in them.
pub struct Demo {
    pub keys: ComuneKeys,
    pub trust: Trust,
}

/// A certificate as the issuer prepared it: its PDF (with its PAdES
/// signature) and its seal.
pub struct Prepared {
    /// The PDF.
    pub pdf: Vec<u8>,
    /// The seal.
    pub seal: SealBytes,
    /// What the seal states.
    pub claims: Claims,
}

/// A seal's COSE bytes, with the text forms a printed code carries.
pub struct SealBytes(pub Vec<u8>);

impl SealBytes {
    /// The seal as decimal digits.
    pub fn to_digits(&self) -> String {
        seal::text::to_digits(&self.0)
    }

    /// The URL the QR code carries.
    pub fn to_url(&self, host: &str) -> String {
        seal::text::to_url(host, &self.0)
    }
}

impl Demo {
    pub fn new() -> Self {
        let keys = fixture_keys();
        let trust = Trust::new(keys.trust.clone());
        Self { keys, trust }
    }

    /// The committed certificate of `kind` for the demo family's head,
    /// exempt (so it is issued at once), numbered `sequence`, issued at
    /// [`ISSUED_AT`].
    pub fn prepare(&self, kind: CertificateKind, sequence: u32) -> Prepared {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let read = |extension: &str| {
            let path = dir.join(format!("{kind:?}-{sequence}.{extension}"));
            std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; add it to verifier_fixtures and run `cargo run -p issuer --example verifier_fixtures`",
                    path.display()
                )
            })
        };
        let seal = read("cose");
        let claims = seal::verify(&seal, &self.keys.trust, NOW)
            .expect("the committed seal verifies with the committed keys")
            .claims()
            .clone();
        Prepared {
            pdf: read("pdf"),
            seal: SealBytes(seal),
            claims,
        }
    }

    /// A residenza.
    pub fn residenza(&self) -> Prepared {
        self.prepare(CertificateKind::Residenza, 123)
    }

    /// Verifies with no status source.
    pub fn verify(&self, input: Input<'_>) -> Report {
        self.verify_with(input, &NoStatus)
    }

    /// Verifies with `status`.
    pub fn verify_with(&self, input: Input<'_>, status: &dyn StatusSource) -> Report {
        Verifier::new(&self.trust).verify_now(input, status, NOW)
    }
}

/// Another comune, with its own keys.
pub fn other_comune() -> Comune {
    Comune {
        code: ComuneCode::parse("999002").expect("code"),
        name: "Altro Borgo".into(),
    }
}

/// Keys for [`other_comune`].
pub fn other_keys() -> ComuneKeys {
    comune_keys(&other_comune(), KEYS_MADE)
}
