//! The key store on disk: init, load, rotate, file modes, and a trust list
//! that keeps old signers.

use keys::{KeyError, KeySigner, KeyStore, TrustStore};
use seal::{Seal, SealSigner, samples};
use testkit::{KEYS_MADE, demo_comune, keys_for, sample_now};
use time::Duration;

fn store() -> (tempfile::TempDir, KeyStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = KeyStore::new(dir.path());
    (dir, store)
}

#[test]
fn init_creates_a_ca_and_a_current_signer_that_seals_verifiably() {
    let (_dir, store) = store();
    let comune = demo_comune();
    let certificates = store.init(&comune, KEYS_MADE, false).expect("init");
    assert!(certificates.ca.is_ca());
    assert_eq!(certificates.signers.len(), 1);
    assert_eq!(certificates.signers[0].kid(), certificates.current);
    assert!(certificates.signers[0].can_seal());
    assert!(certificates.signers[0].subject().contains("Borgo Sigillo"));

    let signer = store.signer(comune.code).expect("signer loads");
    assert_eq!(signer.kid(), certificates.current);
    assert_eq!(signer.certificate_chain().len(), 2, "signer then CA");
    assert_eq!(signer.certificate_chain()[1], certificates.ca.der());
    let seal = Seal::sign(&samples::residenza(), &signer).expect("signs");
    let trust = store.trust_store().expect("trust list");
    assert!(seal::verify(seal.as_bytes(), &trust, sample_now()).is_ok());
}

#[cfg(unix)]
#[test]
fn private_key_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, store) = store();
    let comune = demo_comune();
    let certificates = store.init(&comune, KEYS_MADE, false).expect("init");
    let dir = store.comune_dir(comune.code);
    for key in [
        dir.join("ca.key.pem"),
        dir.join(format!("signers/{}.key.pem", certificates.current)),
    ] {
        let mode = std::fs::metadata(&key)
            .expect("key file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
}

#[test]
fn init_refuses_to_overwrite_keys_unless_forced() {
    let (_dir, store) = store();
    let comune = demo_comune();
    let first = store.init(&comune, KEYS_MADE, false).expect("init");
    assert!(matches!(
        store.init(&comune, KEYS_MADE, false),
        Err(KeyError::AlreadyExists(_))
    ));
    assert_eq!(
        store.certificates(comune.code).expect("kept").current,
        first.current
    );
    let replaced = store.init(&comune, KEYS_MADE, true).expect("forced");
    assert_ne!(replaced.current, first.current);
}

#[test]
fn rotation_keeps_old_seals_verifiable_and_seals_new_ones_with_the_new_key() {
    let (_dir, store) = store();
    let comune = demo_comune();
    let before = store.init(&comune, KEYS_MADE, false).expect("init");
    let old_seal = Seal::sign(
        &samples::residenza(),
        &store.signer(comune.code).expect("signer"),
    )
    .expect("signs");

    let rotated = store
        .rotate(&comune, KEYS_MADE + Duration::days(30))
        .expect("rotates");
    let after = store.certificates(comune.code).expect("certificates");
    assert_eq!(after.current, rotated.kid());
    assert_eq!(after.signers.len(), 2);
    let old_key = store
        .comune_dir(comune.code)
        .join(format!("signers/{}.key.pem", before.current));
    assert!(!old_key.exists(), "the old signer's private key is deleted");

    let mut new_claims = samples::residenza();
    new_claims.issued_at = KEYS_MADE + Duration::days(60);
    new_claims.expires_at = Some(new_claims.issued_at + Duration::days(180));
    let new_seal =
        Seal::sign(&new_claims, &store.signer(comune.code).expect("new signer")).expect("signs");
    let trust = store.trust_store().expect("trust list");
    let now = KEYS_MADE + Duration::days(90);
    assert_eq!(
        seal::verify(old_seal.as_bytes(), &trust, now)
            .expect("old")
            .kid(),
        before.current
    );
    assert_eq!(
        seal::verify(new_seal.as_bytes(), &trust, now)
            .expect("new")
            .kid(),
        rotated.kid()
    );
}

#[test]
fn a_signer_not_signed_by_a_trusted_ca_is_not_trusted() {
    let (signer, _, _) = keys_for(&demo_comune(), KEYS_MADE);
    let (_, _, mut other) = keys_for(&demo_comune(), KEYS_MADE);
    assert!(matches!(
        other.add_signer(signer.certificate.clone()),
        Err(KeyError::UntrustedIssuer(_))
    ));
    let mut empty = TrustStore::new();
    assert!(
        empty.add_ca(signer.certificate).is_err(),
        "a signer is no CA"
    );
}

#[test]
fn a_private_key_must_belong_to_its_certificate() {
    let (first, _, _) = keys_for(&demo_comune(), KEYS_MADE);
    let (second, _, _) = keys_for(&demo_comune(), KEYS_MADE);
    assert!(matches!(
        KeySigner::new(&first.certificate, &second.key),
        Err(KeyError::KeyDoesNotMatchCertificate)
    ));
}

#[test]
fn debug_output_of_keys_shows_no_key_material() {
    let (signer, key_signer, _) = keys_for(&demo_comune(), KEYS_MADE);
    let pem = signer.key.to_pem();
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    for shown in [
        format!("{:?}", signer.key),
        format!("{key_signer:?}"),
        format!("{signer:?}"),
    ] {
        assert!(!shown.contains(&body[..24]), "{shown}");
        assert!(
            !shown.contains(&hex::encode(signer.key.pkcs8_der())[..24]),
            "{shown}"
        );
    }
}

#[test]
fn certificates_report_kid_validity_and_fingerprint() {
    let (signer, _, _) = keys_for(&demo_comune(), KEYS_MADE);
    let certificate = &signer.certificate;
    assert_eq!(certificate.kid(), keys::kid_of(certificate.der()));
    assert!(certificate.is_valid_at(KEYS_MADE));
    assert!(!certificate.is_valid_at(KEYS_MADE - Duration::days(1)));
    assert!(certificate.not_after() - certificate.not_before() >= Duration::days(3 * 365));
    assert_eq!(certificate.sha256_fingerprint().len(), 32 * 3 - 1);
    let reparsed = keys::CertificateInfo::from_pem(&certificate.to_pem()).expect("PEM round trip");
    assert_eq!(reparsed.kid(), certificate.kid());
}
