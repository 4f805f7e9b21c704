//! Test support shared by the workspace's tests: whether an outside tool is
//! installed (skipping, or failing under CI, when it is not) and keys made
//! in memory for a comune.

pub mod fixtures;
pub mod pdf_tools;

use std::io::Write as _;
use std::process::{Command, Stdio};

use keys::{
    CertificateInfo, Comune, KeyAndCertificate, KeySigner, PrivateKey, TrustStore, generate_ca,
    generate_signer,
};
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

/// A comune's keys for a test: its CA, its seal signer, and the trust list
/// that holds both.
#[derive(Debug)]
pub struct ComuneKeys {
    /// The CA: its certificate is the trust root outside validators need.
    pub ca: KeyAndCertificate,
    /// The signer's certificate and private key.
    pub signer_keys: KeyAndCertificate,
    /// The signer, presenting its CA too.
    pub signer: KeySigner,
    /// A trust list of the CA and the signer.
    pub trust: TrustStore,
}

/// A CA and a signer for `comune`, made at `at`.
pub fn comune_keys(comune: &Comune, at: OffsetDateTime) -> ComuneKeys {
    let ca = generate_ca(comune, at).expect("CA");
    let signer_keys = generate_signer(comune, &ca, at).expect("signer");
    ComuneKeys::from_parts(ca, signer_keys)
}

/// The files of the committed demo keys, in `testkit/fixtures/`: the CA's
/// and the signer's certificate and private key, PEM.
pub const FIXTURE_KEY_FILES: [&str; 4] = ["ca.pem", "ca.key", "signer.pem", "signer.key"];

/// The folder of the committed fixtures.
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The demo comune's committed test keys (made at [`KEYS_MADE`], trusted
/// by nothing but these tests): the keys the committed certificates of the
/// verifier's tests are sealed and signed with. Their private keys are
/// public on purpose; never configure them anywhere.
pub fn fixture_keys() -> ComuneKeys {
    let dir = fixtures_dir();
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("fixture key {name}: {e}"))
    };
    let pair = |certificate: &str, key: &str| KeyAndCertificate {
        certificate: CertificateInfo::from_pem(&read(certificate)).expect("fixture certificate"),
        key: PrivateKey::from_pem(&read(key)).expect("fixture key"),
    };
    let ca = pair("ca.pem", "ca.key");
    let signer_keys = pair("signer.pem", "signer.key");
    ComuneKeys::from_parts(ca, signer_keys)
}

impl ComuneKeys {
    /// The keys of a CA and its signer, with the signer and trust built on
    /// them.
    pub fn from_parts(ca: KeyAndCertificate, signer_keys: KeyAndCertificate) -> Self {
        let mut trust = TrustStore::new();
        trust.add_ca(ca.certificate.clone()).expect("trusted CA");
        trust
            .add_signer(signer_keys.certificate.clone())
            .expect("trusted signer");
        let signer = KeySigner::new(&signer_keys.certificate, &signer_keys.key)
            .expect("key signer")
            .with_ca(&ca.certificate);
        Self {
            ca,
            signer_keys,
            signer,
            trust,
        }
    }
}

/// [`comune_keys`] as a tuple: the signer's certificate and key, the
/// signer, the trust list.
pub fn keys_for(comune: &Comune, at: OffsetDateTime) -> (KeyAndCertificate, KeySigner, TrustStore) {
    let keys = comune_keys(comune, at);
    (keys.signer_keys, keys.signer, keys.trust)
}

/// "Now" for verifying the seal samples.
pub fn sample_now() -> OffsetDateTime {
    seal::samples::SAMPLE_NOW.midnight().assume_utc()
}
