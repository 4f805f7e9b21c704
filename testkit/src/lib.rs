//! Test support shared by the workspace's tests: whether an outside tool is
//! installed (skipping, or failing under CI, when it is not) and keys made
//! in memory for a comune.

pub mod fixtures;

use std::io::Write as _;
use std::process::{Command, Stdio};

use keys::{Comune, KeyAndCertificate, KeySigner, TrustStore, generate_ca, generate_signer};
use seal::ComuneCode;
use time::OffsetDateTime;
use time::macros::datetime;

/// When test keys come into force: before every sample seal's `iat`.
pub const KEYS_MADE: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

/// Whether an outside tool a test needs is here, probed by running
/// `probe` (it must exit 0). When it is not, the test should return early:
/// the reason is printed straight to the terminal (past the test
/// harness's capture) as `SKIPPED: …`; under `CI=true` a missing tool
/// fails the test instead.
pub fn tool_available(name: &str, probe: &mut Command) -> bool {
    let found = probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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

/// [`tool_available`] for a command that answers `--version` (or `-v`).
pub fn command_available(command: &str, version_flag: &str) -> bool {
    tool_available(command, Command::new(command).arg(version_flag))
}

/// The demo comune, with the code of the seal samples.
pub fn demo_comune() -> Comune {
    Comune {
        code: ComuneCode::parse(seal::samples::DEMO_COMUNE).expect("valid code"),
        name: "Borgo Sigillo".into(),
    }
}

/// A CA and a signer for `comune`, made at `at`, with the trust list that
/// holds them; the signer presents its CA.
pub fn keys_for(comune: &Comune, at: OffsetDateTime) -> (KeyAndCertificate, KeySigner, TrustStore) {
    let ca = generate_ca(comune, at).expect("CA");
    let signer = generate_signer(comune, &ca, at).expect("signer");
    let mut trust = TrustStore::new();
    trust.add_ca(ca.certificate.clone()).expect("trusted CA");
    trust
        .add_signer(signer.certificate.clone())
        .expect("trusted signer");
    let key_signer = KeySigner::new(&signer.certificate, &signer.key)
        .expect("key signer")
        .with_ca(&ca.certificate);
    (signer, key_signer, trust)
}

/// "Now" for verifying the seal samples.
pub fn sample_now() -> OffsetDateTime {
    seal::samples::SAMPLE_NOW.midnight().assume_utc()
}
