//! The certificates the verifier's tests read from `verifier/tests/fixtures/`
//! are what the issuer prepares today: the same claims, sealed with the
//! committed demo keys. When the catalogue, the templates or the seal
//! change, this fails and `cargo run -p issuer --example verifier_fixtures`
//! writes them again.

#[path = "../issuer/examples/verifier_fixtures.rs"]
#[expect(dead_code, reason = "the example's main is not called from here")]
mod make;

use std::path::Path;

#[test]
fn the_verifiers_committed_certificates_state_what_the_issuer_prepares_now() {
    let keys = testkit::fixture_keys();
    let at = time::macros::datetime!(2026-03-05 10:00:00 UTC);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/tests/fixtures");
    for (stem, fresh) in make::certificates().expect("prepares") {
        let committed = std::fs::read(dir.join(format!("{stem}.cose")))
            .unwrap_or_else(|e| panic!("{stem}.cose: {e}"));
        let committed = seal::verify(&committed, &keys.trust, at)
            .unwrap_or_else(|e| panic!("{stem}: the committed seal does not verify: {e}"));
        assert_eq!(
            committed.claims(),
            &fresh.claims,
            "{stem}: run `cargo run -p issuer --example verifier_fixtures`"
        );
        let pdf = std::fs::read(dir.join(format!("{stem}.pdf"))).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"), "{stem}");
    }
}
