//! What the verifier's tests share: a comune's keys and trust, and
//! certificates prepared by the issuer (as the counter would, without a
//! database) at a fixed time.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses its own part of this module"
)]

use issuer::catalogue::{self, parse_usage};
use issuer::prepare::{About, Draft, Prepared, prepare};
use issuer::templates::Templates;
use keys::Comune;
use seal::{CertificateKind, CertificateNumber, ComuneCode};
use testkit::{ComuneKeys, KEYS_MADE, comune_keys, demo_comune};
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

impl Demo {
    pub fn new() -> Self {
        let keys = comune_keys(&demo_comune(), KEYS_MADE);
        let trust = Trust::new(keys.trust.clone());
        Self { keys, trust }
    }

    /// A certificate of `kind` for the demo family's head, exempt (so it is
    /// issued at once), numbered `sequence`.
    pub fn prepare(&self, kind: CertificateKind, sequence: u32) -> Prepared {
        let comune = testkit::fixtures::comune();
        let subject = testkit::fixtures::subject();
        let request = Draft {
            comune: &comune,
            spec: catalogue::spec_of(kind).expect("in the catalogue"),
            about: About::Person {
                subject: &subject,
                parts: &[],
            },
            usage: parse_usage("esente:9").expect("use"),
            bollo: None,
            issued_at: ISSUED_AT,
        };
        let number = CertificateNumber::new(2026, sequence).expect("number");
        let templates = Templates::builtin().expect("templates");
        prepare(
            &request,
            number,
            sequence - 1,
            &templates,
            &self.keys.signer,
            &self.keys.trust,
        )
        .expect("prepares")
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
