//! A certificate's status: from a registry (a test source standing in for
//! the server's), from a signed status list, or unknown; combined with the
//! seal's expiry.

mod common;

use common::{Demo, ISSUED_AT, NOW};
use seal::CertificateKind;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use verifier::{
    Input, Outcome, RegistryStatus, Status, StatusFuture, StatusList, StatusListError, StatusLists,
    StatusQuery, StatusSource, UnknownReason, Verifier,
};

/// A registry that answers one status for everything, and records what it
/// was asked.
struct Registry {
    answer: RegistryStatus,
    asked: std::sync::Mutex<Vec<StatusQuery>>,
}

impl Registry {
    fn says(answer: RegistryStatus) -> Self {
        Self {
            answer,
            asked: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl StatusSource for Registry {
    fn status<'a>(&'a self, query: &'a StatusQuery) -> StatusFuture<'a> {
        self.asked.lock().expect("lock").push(query.clone());
        Box::pin(std::future::ready(self.answer.clone()))
    }
}

fn status_of(report: &verifier::Report) -> &Status {
    match &report.outcome {
        Outcome::Authentic { status, .. } => status,
        other => panic!("not authentic: {other:?}"),
    }
}

fn residenza_text(demo: &Demo) -> String {
    demo.residenza().seal.to_digits()
}

#[test]
fn the_registry_is_asked_by_comune_number_and_status_index() {
    let demo = Demo::new();
    let registry = Registry::says(RegistryStatus::Valid);
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &registry);
    assert_eq!(*status_of(&report), Status::Valid);
    assert_eq!(
        report.headline,
        "Documento autentico e in corso di validità"
    );
    let asked = registry.asked.lock().expect("lock");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].comune.as_str(), "999001");
    assert_eq!(asked[0].number.to_string(), "2026/000123");
    assert_eq!(asked[0].index, 122);
    assert_eq!(asked[0].at, NOW);
}

#[test]
fn a_revoked_certificate_is_authentic_but_revoked_with_its_date_in_the_headline() {
    let demo = Demo::new();
    let registry = Registry::says(RegistryStatus::Revoked {
        reason: Some("dati anagrafici variati".into()),
        at: Some(datetime!(2026-03-04 16:00:00 UTC)),
    });
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &registry);
    assert!(matches!(status_of(&report), Status::Revoked { .. }));
    assert_eq!(
        report.headline,
        "NON VALIDO — revocato il 04/03/2026; il sigillo è autentico"
    );
    assert!(report.detail.contains("dati anagrafici variati"));
    assert!(!report.is_valid());
}

#[test]
fn a_superseded_certificate_is_authentic_but_not_valid() {
    let demo = Demo::new();
    let registry = Registry::says(RegistryStatus::Superseded);
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &registry);
    assert_eq!(*status_of(&report), Status::Superseded);
    assert!(report.headline.starts_with("NON VALIDO — sostituito"));
    assert!(!report.is_valid());
}

#[test]
fn a_pending_certificate_is_authentic_but_not_yet_released() {
    let demo = Demo::new();
    let registry = Registry::says(RegistryStatus::Pending);
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &registry);
    assert_eq!(*status_of(&report), Status::Pending);
    assert_eq!(
        report.headline,
        "NON VALIDO — non ancora rilasciato (imposta di bollo non pagata); il sigillo è autentico"
    );
}

#[test]
fn an_expired_certificate_reads_expired_even_when_the_registry_says_valid() {
    let demo = Demo::new();
    let prepared = demo.residenza();
    let expiry = prepared.claims.expires_at.expect("a residenza expires");
    let registry = Registry::says(RegistryStatus::Valid);
    let later = expiry + Duration::days(1);
    let report = Verifier::new(&demo.trust).verify_now(
        Input::Text(&prepared.seal.to_digits()),
        &registry,
        later,
    );
    assert_eq!(*status_of(&report), Status::Expired { at: expiry });
    assert!(report.headline.starts_with("NON VALIDO — scaduto il "));
}

#[test]
fn without_a_status_source_the_signature_is_valid_but_the_validity_unchecked() {
    let demo = Demo::new();
    let report = demo.verify(Input::Text(&residenza_text(&demo)));
    assert_eq!(
        *status_of(&report),
        Status::Unknown {
            reason: UnknownReason::NoSource
        }
    );
    assert!(
        report
            .headline
            .starts_with("VALIDITÀ NON VERIFICATA — il sigillo è autentico")
    );
    assert_ne!(
        report.headline,
        "Documento autentico e in corso di validità"
    );
}

#[test]
fn a_source_that_must_wait_gives_unknown_when_verifying_without_a_runtime() {
    struct Slow;
    impl StatusSource for Slow {
        fn status<'a>(&'a self, _query: &'a StatusQuery) -> StatusFuture<'a> {
            Box::pin(std::future::pending())
        }
    }
    let demo = Demo::new();
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &Slow);
    assert!(matches!(
        status_of(&report),
        Status::Unknown {
            reason: UnknownReason::Unavailable(_)
        }
    ));
}

#[tokio::test]
async fn the_async_verification_awaits_the_registry() {
    let demo = Demo::new();
    let registry = Registry::says(RegistryStatus::Superseded);
    let report = Verifier::new(&demo.trust)
        .verify(Input::Text(&residenza_text(&demo)), &registry, NOW)
        .await;
    assert_eq!(*status_of(&report), Status::Superseded);
}

// The status list.

const SUB: &str = "https://certificati.borgosigillo.example.it/.well-known/status-list";

fn published(demo: &Demo, list: &StatusList, issued_at: OffsetDateTime) -> Vec<u8> {
    list.to_cwt(
        &demo.keys.signer,
        SUB,
        issued_at,
        issued_at + Duration::days(1),
        Duration::hours(1),
    )
    .expect("signs")
}

#[test]
fn a_status_list_round_trips_through_its_signed_token() {
    let demo = Demo::new();
    let mut list = StatusList::new(2).expect("bits");
    for index in 0..1000 {
        list.set(index, (index % 4) as u8).expect("fits");
    }
    let token = published(&demo, &list, ISSUED_AT);
    let verified =
        StatusList::from_cwt(&token, &demo.trust, NOW - Duration::days(3)).expect("verifies");
    assert_eq!(verified.list, list);
    assert_eq!(verified.subject, SUB);
    assert_eq!(verified.comune.as_str(), "999001");
    assert_eq!(verified.ttl, Some(Duration::hours(1)));
    assert_eq!(verified.signer, demo.keys.signer_keys.certificate.kid());
}

#[test]
fn the_status_list_maps_its_values_to_valid_revoked_pending_and_superseded() {
    let demo = Demo::new();
    let text = residenza_text(&demo); // status index 122
    for (value, expected) in [
        (StatusList::VALID, Status::Valid),
        (
            StatusList::INVALID,
            Status::Revoked {
                reason: None,
                at: None,
            },
        ),
        (StatusList::SUSPENDED, Status::Pending),
        (StatusList::SUPERSEDED, Status::Superseded),
    ] {
        let mut list = StatusList::new(2).expect("bits");
        list.set(122, value).expect("fits");
        let mut lists = StatusLists::new();
        lists
            .load(&published(&demo, &list, NOW), &demo.trust, NOW)
            .expect("loads");
        let report = demo.verify_with(Input::Text(&text), &lists);
        assert_eq!(*status_of(&report), expected, "value {value}");
    }
}

#[test]
fn an_index_beyond_the_list_is_not_valid() {
    let demo = Demo::new();
    let mut list = StatusList::new(2).expect("bits");
    list.set(3, StatusList::VALID).expect("fits");
    let mut lists = StatusLists::new();
    lists
        .load(&published(&demo, &list, NOW), &demo.trust, NOW)
        .expect("loads");
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &lists);
    assert_eq!(
        *status_of(&report),
        Status::Unknown {
            reason: UnknownReason::IndexOutOfRange
        }
    );
    assert!(!report.is_valid());
}

#[test]
fn a_tampered_status_list_is_refused() {
    let demo = Demo::new();
    let mut list = StatusList::new(2).expect("bits");
    list.set(122, StatusList::INVALID).expect("fits");
    let mut token = published(&demo, &list, NOW);
    // Flip a bit in the compressed list, near the end of the payload.
    let at = token.len() - 70;
    token[at] ^= 0x01;
    assert_eq!(
        StatusList::from_cwt(&token, &demo.trust, NOW),
        Err(StatusListError::BadSignature)
    );
}

#[test]
fn a_status_list_signed_by_another_comunes_untrusted_key_is_refused() {
    let demo = Demo::new();
    let stranger = common::other_keys();
    let token = StatusList::new(2)
        .expect("bits")
        .to_cwt(
            &stranger.signer,
            SUB,
            NOW,
            NOW + Duration::days(1),
            Duration::hours(1),
        )
        .expect("signs");
    assert_eq!(
        StatusList::from_cwt(&token, &demo.trust, NOW),
        Err(StatusListError::UntrustedSigner(
            stranger.signer_keys.certificate.kid()
        ))
    );
}

#[test]
fn an_expired_status_list_gives_an_unknown_status() {
    let demo = Demo::new();
    let mut list = StatusList::new(2).expect("bits");
    list.set(122, StatusList::VALID).expect("fits");
    let token = published(&demo, &list, ISSUED_AT);
    // Loaded while fresh, consulted after its exp.
    let mut lists = StatusLists::new();
    lists.load(&token, &demo.trust, ISSUED_AT).expect("loads");
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &lists);
    assert_eq!(
        *status_of(&report),
        Status::Unknown {
            reason: UnknownReason::ListExpired
        }
    );
    // And refused outright when loaded after it.
    assert!(matches!(
        StatusList::from_cwt(&token, &demo.trust, NOW),
        Err(StatusListError::Expired(_))
    ));
}

#[test]
fn a_list_past_its_ttl_still_answers_and_is_due_for_refresh() {
    let demo = Demo::new();
    let token = published(&demo, &StatusList::new(2).expect("bits"), NOW);
    let mut lists = StatusLists::new();
    lists.load(&token, &demo.trust, NOW).expect("loads");
    assert!(lists.refresh_due(NOW + Duration::minutes(30)).is_empty());
    assert_eq!(
        lists.refresh_due(NOW + Duration::hours(2)),
        vec![seal::ComuneCode::parse("999001").expect("code")]
    );
}

#[test]
fn a_certificate_of_a_comune_without_a_list_is_unknown() {
    let demo = Demo::new();
    let lists = StatusLists::new();
    let report = demo.verify_with(Input::Text(&residenza_text(&demo)), &lists);
    assert_eq!(
        *status_of(&report),
        Status::Unknown {
            reason: UnknownReason::NoList
        }
    );
}

#[test]
fn the_status_of_a_certificate_without_expiry_is_never_expired() {
    let demo = Demo::new();
    let nascita = demo.prepare(CertificateKind::Nascita, 7);
    assert_eq!(nascita.claims.expires_at, None);
    let registry = Registry::says(RegistryStatus::Valid);
    let report = Verifier::new(&demo.trust).verify_now(
        Input::Text(&nascita.seal.to_digits()),
        &registry,
        datetime!(2036-01-01 00:00:00 UTC),
    );
    assert_eq!(*status_of(&report), Status::Valid);
}
