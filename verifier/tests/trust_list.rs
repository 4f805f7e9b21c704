//! The signed trust list that offline verifiers load: made and signed with
//! the comune's CA key, loaded only against the pinned CA certificate.

mod common;

use common::{Demo, ISSUED_AT, NOW};
use keys::KeySigner;
use time::Duration;
use time::macros::datetime;
use verifier::{
    Cache, Input, NoStatus, Outcome, Refresh, SignedTrustList, Step, Trust, TrustListEntry,
    TrustListError, Verifier,
};

fn ca_signer(demo: &Demo) -> KeySigner {
    KeySigner::for_ca(&demo.keys.ca.certificate, &demo.keys.ca.key).expect("CA signer")
}

fn list(demo: &Demo, revoked_at: Option<time::OffsetDateTime>) -> SignedTrustList {
    SignedTrustList::new(
        demo.keys.ca.certificate.clone(),
        vec![TrustListEntry {
            certificate: demo.keys.signer_keys.certificate.clone(),
            revoked_at,
        }],
        ISSUED_AT - Duration::days(1),
        ISSUED_AT + Duration::days(30),
    )
}

#[test]
fn a_trust_list_round_trips_and_verifies_the_comunes_seals() {
    let demo = Demo::new();
    let bytes = list(&demo, None).sign(&ca_signer(&demo)).expect("signs");
    let opened = SignedTrustList::open(&bytes, &demo.keys.ca.certificate, NOW).expect("opens");
    assert_eq!(opened.comune.as_str(), "999001");
    assert_eq!(opened.signers.len(), 1);
    assert_eq!(
        opened.signers[0].certificate.der(),
        demo.keys.signer_keys.certificate.der()
    );
    let mut trust = Trust::default();
    trust.add_list(&opened).expect("adds");
    let text = demo.residenza().seal.to_digits();
    let report = Verifier::new(&trust).verify_now(Input::Text(&text), &NoStatus, NOW);
    assert!(report.is_authentic(), "{}", report.detail);
}

#[test]
fn a_trust_list_opened_with_another_pinned_ca_is_refused() {
    let demo = Demo::new();
    let other = common::other_keys();
    let bytes = list(&demo, None).sign(&ca_signer(&demo)).expect("signs");
    assert_eq!(
        SignedTrustList::open(&bytes, &other.ca.certificate, NOW).map(|_| ()),
        Err(TrustListError::NotSignedByPinnedCa {
            found: demo.keys.ca.certificate.kid(),
            pinned: other.ca.certificate.kid(),
        })
    );
}

#[test]
fn a_trust_list_signed_by_the_pinned_ca_but_naming_another_ca_is_refused() {
    use coset::cbor::value::Value;
    use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable as _, iana};
    use seal::SealSigner as _;
    let demo = Demo::new();
    let other = common::other_keys();
    let payload = Value::Map(vec![
        (Value::Integer(1.into()), Value::Text("999002".into())),
        (
            Value::Integer(6.into()),
            Value::Integer(NOW.unix_timestamp().into()),
        ),
        (
            Value::Integer(4.into()),
            Value::Integer((NOW + Duration::days(1)).unix_timestamp().into()),
        ),
        (
            Value::Text("ca".into()),
            Value::Bytes(other.ca.certificate.der().to_vec()),
        ),
        (Value::Text("signers".into()), Value::Array(Vec::new())),
    ]);
    let mut bytes = Vec::new();
    ciborium::into_writer(&payload, &mut bytes).expect("encodes");
    let signer = ca_signer(&demo);
    let forged = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .key_id(signer.kid().0.to_vec())
                .value(16, Value::Text(verifier::TRUST_LIST_TYPE.into()))
                .build(),
        )
        .payload(bytes)
        .create_signature(b"", |data| signer.sign_es256(data).expect("signs").to_vec())
        .build()
        .to_tagged_vec()
        .expect("encodes");
    assert_eq!(
        SignedTrustList::open(&forged, &demo.keys.ca.certificate, NOW).map(|_| ()),
        Err(TrustListError::CaMismatch)
    );
}

#[test]
fn a_tampered_trust_list_is_refused() {
    let demo = Demo::new();
    let mut bytes = list(&demo, None).sign(&ca_signer(&demo)).expect("signs");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    assert!(SignedTrustList::open(&bytes, &demo.keys.ca.certificate, NOW).is_err());
}

#[test]
fn an_expired_trust_list_is_refused() {
    let demo = Demo::new();
    let bytes = list(&demo, None).sign(&ca_signer(&demo)).expect("signs");
    let later = ISSUED_AT + Duration::days(31);
    assert!(matches!(
        SignedTrustList::open(&bytes, &demo.keys.ca.certificate, later),
        Err(TrustListError::Expired(_))
    ));
}

#[test]
fn a_seal_issued_after_its_signers_revocation_is_invalid_and_one_before_is_not() {
    let demo = Demo::new();
    let revoked_at = datetime!(2026-03-01 00:00:00 UTC);
    let bytes = list(&demo, Some(revoked_at))
        .sign(&ca_signer(&demo))
        .expect("signs");
    let mut trust = Trust::default();
    trust
        .add_list(&SignedTrustList::open(&bytes, &demo.keys.ca.certificate, NOW).expect("opens"))
        .expect("adds");
    assert_eq!(
        trust.revoked_at(&demo.keys.signer_keys.certificate.kid()),
        Some(revoked_at)
    );
    // ISSUED_AT is 2 March, after the revocation.
    let text = demo.residenza().seal.to_digits();
    let report = Verifier::new(&trust).verify_now(Input::Text(&text), &NoStatus, NOW);
    let Outcome::Invalid { step, reason } = &report.outcome else {
        panic!("not invalid: {}", report.headline);
    };
    assert_eq!(*step, Step::Key);
    assert_eq!(reason.code(), "signer_revoked");
    assert!(
        report.detail.contains("revocato dal Comune dal 01/03/2026"),
        "{}",
        report.detail
    );
    // The same seal inside its PDF fails at the same step.
    let pdf = demo.residenza().pdf;
    let report = Verifier::new(&trust).verify_now(Input::Pdf(&pdf), &NoStatus, NOW);
    assert!(
        matches!(
            report.outcome,
            Outcome::Invalid {
                step: Step::Key,
                ..
            }
        ),
        "{}",
        report.detail
    );

    let before = SignedTrustList::open(
        &list(&demo, Some(datetime!(2026-03-03 00:00:00 UTC)))
            .sign(&ca_signer(&demo))
            .expect("signs"),
        &demo.keys.ca.certificate,
        NOW,
    )
    .expect("opens");
    let mut trust = Trust::default();
    trust.add_list(&before).expect("adds");
    let report = Verifier::new(&trust).verify_now(Input::Text(&text), &NoStatus, NOW);
    assert!(report.is_authentic(), "{}", report.detail);
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].code, "signer_revoked_later");
    assert!(
        report.detail.contains("revocato dal Comune dal 03/03/2026"),
        "{}",
        report.detail
    );
}

#[test]
fn the_cache_keeps_the_trust_list_until_it_expires_and_asks_for_it_again() {
    let demo = Demo::new();
    let bytes = list(&demo, None).sign(&ca_signer(&demo)).expect("signs");
    let mut cache = Cache::new();
    cache.pin_ca(demo.keys.ca.certificate.clone());
    let comune = demo.keys.ca.certificate.comune();
    assert_eq!(cache.refresh_due(NOW), vec![Refresh::TrustList(comune)]);
    cache.load_trust_list(&bytes, NOW).expect("loads");
    assert!(cache.refresh_due(NOW).is_empty());
    assert!(!cache.trust(NOW).is_empty());
    let after = ISSUED_AT + Duration::days(31);
    assert!(cache.trust(after).is_empty());
    assert_eq!(cache.refresh_due(after), vec![Refresh::TrustList(comune)]);
}

#[test]
fn the_cache_answers_status_from_a_list_signed_by_a_signer_it_trusts() {
    let demo = Demo::new();
    let mut cache = Cache::new();
    cache.pin_ca(demo.keys.ca.certificate.clone());
    cache
        .load_trust_list(
            &list(&demo, None).sign(&ca_signer(&demo)).expect("signs"),
            NOW,
        )
        .expect("loads");
    let mut statuses = verifier::StatusList::new(2).expect("bits");
    statuses
        .set(122, verifier::StatusList::SUPERSEDED)
        .expect("fits");
    let token = statuses
        .to_cwt(
            &demo.keys.signer,
            "https://example.it/status",
            NOW,
            NOW + Duration::days(1),
            Duration::hours(12),
        )
        .expect("signs");
    cache.load_status_list(&token, NOW).expect("loads");
    let trust = cache.trust(NOW);
    let text = demo.residenza().seal.to_digits();
    let report = Verifier::new(&trust).verify_now(Input::Text(&text), &cache, NOW);
    assert!(matches!(
        report.outcome,
        Outcome::Authentic {
            status: verifier::Status::Superseded,
            ..
        }
    ));
}

#[test]
fn only_a_ca_certificate_gets_a_ca_signer() {
    let demo = Demo::new();
    assert!(
        KeySigner::for_ca(
            &demo.keys.signer_keys.certificate,
            &demo.keys.signer_keys.key
        )
        .is_err()
    );
    assert!(KeySigner::for_ca(&demo.keys.ca.certificate, &demo.keys.signer_keys.key).is_err());
}

#[test]
fn the_comune_name_comes_from_its_certificates() {
    let demo = Demo::new();
    let text = demo.residenza().seal.to_digits();
    let report = demo.verify(Input::Text(&text));
    let Outcome::Authentic { facts, .. } = &report.outcome else {
        panic!("{}", report.detail);
    };
    assert_eq!(
        facts.comune.name.as_deref(),
        Some("Comune di Borgo Sigillo")
    );
}
