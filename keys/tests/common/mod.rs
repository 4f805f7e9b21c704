//! Shared set-up for the keys crate's integration tests.
#![allow(dead_code, reason = "each test file uses only some of these helpers")]

use keys::{Comune, KeyAndCertificate, KeySigner, TrustStore, generate_ca, generate_signer};
use seal::ComuneCode;
use time::OffsetDateTime;
use time::macros::datetime;

/// When the test keys come into force: before every sample seal's `iat`.
pub(crate) const KEYS_MADE: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

/// A comune with the code of the samples.
pub(crate) fn demo_comune() -> Comune {
    Comune {
        code: ComuneCode::parse(seal::samples::DEMO_COMUNE).expect("valid code"),
        name: "Borgo Sigillo".into(),
    }
}

/// A CA and a signer for `comune`, made at `at`, with the trust list that
/// holds them.
pub(crate) fn keys_for(
    comune: &Comune,
    at: OffsetDateTime,
) -> (KeyAndCertificate, KeySigner, TrustStore) {
    let ca = generate_ca(comune, at).expect("CA");
    let signer = generate_signer(comune, &ca, at).expect("signer");
    let mut trust = TrustStore::new();
    trust.add_ca(ca.certificate.clone()).expect("trusted CA");
    trust
        .add_signer(signer.certificate.clone())
        .expect("trusted signer");
    let key_signer = KeySigner::new(&signer.certificate, &signer.key).expect("key signer");
    (signer, key_signer, trust)
}

/// "Now" for verifying the samples.
pub(crate) fn sample_now() -> OffsetDateTime {
    seal::samples::SAMPLE_NOW.midnight().assume_utc()
}

/// Whether an outside tool a test needs is here. When it is not, the test
/// is skipped with the reason printed straight to the terminal (past the
/// test harness's capture); under `CI=true` a missing tool fails the test.
pub(crate) fn tool_available(name: &str, probe: &mut std::process::Command) -> bool {
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
