//! What a report shows people and programs: the facts as the paper states
//! them (with the issuer's own tables), the Italian headlines, and a JSON
//! shape that stays put.

mod common;

use common::Demo;
use seal::CertificateKind;
use verifier::{Input, Outcome, RegistryStatus, StatusFuture, StatusQuery, StatusSource};

struct Valid;

impl StatusSource for Valid {
    fn status<'a>(&'a self, _query: &'a StatusQuery) -> StatusFuture<'a> {
        Box::pin(std::future::ready(RegistryStatus::Valid))
    }
}

/// The report as JSON with what changes from run to run (keys made
/// afresh) redacted, its objects' keys in order: the snapshot is the same
/// whether or not a crate in the build turns on serde_json's
/// `preserve_order` (josekit, in the workspace, does).
fn redacted_json(report: &verifier::Report) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&report.to_json()).expect("JSON");
    for signer in [value.pointer_mut("/signer")].into_iter().flatten() {
        for field in ["kid", "fingerprint"] {
            signer[field] = serde_json::Value::String(format!("[{field}]"));
        }
    }
    serde_json::to_string_pretty(&sorted(value)).expect("JSON")
}

/// `value` with every object's keys sorted.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

#[test]
fn the_json_of_an_authentic_valid_residenza_keeps_its_shape() {
    let demo = Demo::new();
    let text = demo.residenza().seal.to_digits();
    let report = demo.verify_with(Input::Text(&text), &Valid);
    insta::assert_snapshot!("authentic_residenza", redacted_json(&report));
}

#[test]
fn the_json_of_an_invalid_seal_names_the_step_and_shows_no_claims() {
    let demo = Demo::new();
    let stranger = common::other_keys();
    let mut claims = seal::samples::residenza();
    claims.issuer = common::other_comune().code;
    let forged = seal::Seal::sign(&claims, &stranger.signer).expect("signs");
    let report = demo.verify(Input::Text(&forged.to_digits()));
    let json = report.to_json();
    let kid = stranger.signer_keys.certificate.kid().to_hex();
    insta::assert_snapshot!("invalid_unknown_signer", json.replace(&kid, "[kid]"));
}

#[test]
fn the_facts_of_a_family_list_every_member_as_the_paper_does() {
    let demo = Demo::new();
    let prepared = demo.prepare(CertificateKind::StatoFamigliaParentela, 9);
    let report = demo.verify_with(Input::Text(&prepared.seal.to_digits()), &Valid);
    let Outcome::Authentic { facts, .. } = &report.outcome else {
        panic!("{}", report.detail);
    };
    let members: Vec<&str> = facts
        .lines
        .iter()
        .filter(|line| line.label.starts_with("Componente"))
        .map(|line| line.value.as_str())
        .collect();
    assert_eq!(
        members,
        [
            "ROSSI MARIA CHIARA, nato/a il 10/12/1985, Intestatario scheda",
            "BIANCHI GIOVANNI, nato/a il 10/12/1985, Marito / Moglie",
            "BIANCHI LUCA, nato/a il 10/12/1985, Figlio / Figlia",
        ]
    );
}

#[test]
fn the_issue_date_is_the_day_in_rome() {
    let demo = Demo::new();
    let text = demo.residenza().seal.to_digits();
    let report = demo.verify(Input::Text(&text));
    let Outcome::Authentic { facts, .. } = &report.outcome else {
        panic!("{}", report.detail);
    };
    assert_eq!(facts.issued_on, seal::rome::date_text(common::ISSUED_AT));
    assert_eq!(facts.issued_at, "2026-03-02T10:15:00+01:00");
}
