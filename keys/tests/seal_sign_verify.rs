//! Seals made with real keys: they verify, they are small enough to print,
//! and every failure is reported at its own step.

use keys::Comune;
use seal::samples;
use seal::{ComuneCode, Seal, SealError, Step, TrustList};
use testkit::{KEYS_MADE, demo_comune, keys_for, sample_now};
use time::Duration;

#[test]
fn every_sample_seal_verifies_and_returns_its_claims() {
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    for claims in samples::all() {
        let seal = Seal::sign(&claims, &signer).expect("signs");
        let verified = seal::verify(seal.as_bytes(), &trust, sample_now()).expect("verifies");
        assert_eq!(verified.claims(), &claims);
        assert_eq!(verified.kid(), signer_kid(&trust));
    }
}

#[test]
fn the_url_form_verifies_like_the_bytes() {
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let seal = Seal::sign(&samples::residenza(), &signer).expect("signs");
    let url = seal.to_url("certificati.comune.example.it");
    let verified = seal::verify_text(&format!("{url}\n"), &trust, sample_now()).expect("verifies");
    assert_eq!(verified.claims().number, samples::residenza().number);
}

#[test]
fn a_residenza_seal_fits_in_300_bytes_and_a_family_of_six_in_600() {
    let (_, signer, _) = keys_for(&demo_comune(), KEYS_MADE);
    let residenza = Seal::sign(&samples::residenza(), &signer).expect("signs");
    let famiglia = Seal::sign(&samples::famiglia(6), &signer).expect("signs");
    println!(
        "residenza: {} bytes, {} digits; famiglia of six: {} bytes, {} digits",
        residenza.as_bytes().len(),
        residenza.to_digits().len(),
        famiglia.as_bytes().len(),
        famiglia.to_digits().len()
    );
    assert!(
        residenza.as_bytes().len() <= 300,
        "{}",
        residenza.as_bytes().len()
    );
    assert!(
        famiglia.as_bytes().len() <= 600,
        "{}",
        famiglia.as_bytes().len()
    );
}

#[test]
fn expiry_is_a_status_not_a_failure() {
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let claims = samples::residenza();
    let seal = Seal::sign(&claims, &signer).expect("signs");
    let long_after = claims.expires_at.expect("expires") + Duration::days(1);
    let verified = seal::verify(seal.as_bytes(), &trust, long_after).expect("still authentic");
    assert!(verified.is_expired_at(long_after));
    assert!(!verified.is_expired_at(sample_now()));
}

#[test]
fn a_seal_from_an_unknown_key_fails_at_the_key_step() {
    let (_, signer, _) = keys_for(&demo_comune(), KEYS_MADE);
    let (_, _, other_trust) = keys_for(&demo_comune(), KEYS_MADE);
    let seal = Seal::sign(&samples::residenza(), &signer).expect("signs");
    let error = seal::verify(seal.as_bytes(), &other_trust, sample_now()).expect_err("refused");
    assert!(matches!(error, SealError::UnknownKid(_)));
    assert_eq!(error.step(), Step::Key);
}

#[test]
fn a_seal_dated_before_its_signer_existed_fails_at_the_claims_step() {
    let claims = samples::residenza();
    let (_, signer, trust) = keys_for(&demo_comune(), claims.issued_at + Duration::days(1));
    let seal = Seal::sign(&claims, &signer).expect("signs");
    let error = seal::verify(seal.as_bytes(), &trust, sample_now()).expect_err("refused");
    assert!(
        matches!(error, SealError::SignerNotValidAtIssuance { .. }),
        "{error:?}"
    );
    assert_eq!(error.step(), Step::Claims);
}

#[test]
fn a_comune_cannot_seal_in_another_comunes_name() {
    let other = Comune {
        code: ComuneCode::parse("058091").expect("code"),
        name: "Roma".into(),
    };
    let (_, signer, trust) = keys_for(&other, KEYS_MADE);
    let seal = Seal::sign(&samples::residenza(), &signer).expect("signs");
    let error = seal::verify(seal.as_bytes(), &trust, sample_now()).expect_err("refused");
    assert!(
        matches!(error, SealError::IssuerMismatch { .. }),
        "{error:?}"
    );
}

#[test]
fn a_seal_issued_in_the_future_is_refused() {
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let claims = samples::residenza();
    let seal = Seal::sign(&claims, &signer).expect("signs");
    let before_issue = claims.issued_at - Duration::hours(1);
    let error = seal::verify(seal.as_bytes(), &trust, before_issue).expect_err("refused");
    assert!(matches!(error, SealError::IssuedInFuture(_)), "{error:?}");
    // A few minutes of clock skew are tolerated.
    let skewed = claims.issued_at - Duration::minutes(2);
    assert!(seal::verify(seal.as_bytes(), &trust, skewed).is_ok());
}

#[test]
fn an_untagged_or_wrongly_tagged_seal_is_refused_at_the_parse_step() {
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let seal = Seal::sign(&samples::residenza(), &signer).expect("signs");
    let untagged = &seal.as_bytes()[1..]; // drop the one-byte tag 18 (0xD2)
    let error = seal::verify(untagged, &trust, sample_now()).expect_err("refused");
    assert_eq!(error, SealError::WrongTag(None));
    let mut retagged = seal.as_bytes().to_vec();
    retagged[0] = 0xD1; // tag 17, COSE_Mac0
    let error = seal::verify(&retagged, &trust, sample_now()).expect_err("refused");
    assert_eq!(error, SealError::WrongTag(Some(17)));
    assert_eq!(error.step(), Step::Parse);
}

#[test]
fn text_that_is_not_a_seal_fails_at_the_read_step() {
    let (_, _, trust) = keys_for(&demo_comune(), KEYS_MADE);
    for text in ["", "ciao", "https://example.it/x#123"] {
        let error = seal::verify_text(text, &trust, sample_now()).expect_err("refused");
        assert_eq!(error.step(), Step::Read, "{text:?}");
    }
    let error = seal::verify_text("12345", &trust, sample_now()).expect_err("refused");
    assert!(matches!(error, SealError::MalformedCbor(_)), "{error:?}");
}

fn signer_kid(trust: &keys::TrustStore) -> seal::Kid {
    let kid = trust.signers().next().expect("one signer").kid();
    assert!(trust.signer(&kid).is_some());
    kid
}
