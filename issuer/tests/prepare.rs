//! Preparing certificates from registry data held in memory: every kind of
//! the catalogue renders a PDF whose QR code carries a seal that verifies,
//! and the refusal cases are refused with their reason.

use std::process::Command;

use issuer::catalogue::{self, CATALOGUE, parse_usage};
use issuer::eligibility::{Refusal, Subject};
use issuer::prepare::{About, Draft, PrepareError, Prepared, prepare};
use issuer::templates::Templates;
use seal::{CertificateKind, CertificateNumber};
use store::model::{
    Address, AireRegistration, Certifiability, CivilStatus, Constraint, Convivenza, OpenProcedure,
    Parcel, Plan, Registration, UnionKind, Zone, ZoneShare,
};
use testkit::fixtures::{comune, subject};
use testkit::{KEYS_MADE, command_available, comune_keys, demo_comune, keys_for};
use time::macros::{date, datetime};

fn issue(
    kind: CertificateKind,
    parts: &[CertificateKind],
    subject: &Subject,
    usage: &str,
) -> Result<Prepared, PrepareError> {
    let comune = comune();
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let templates = Templates::builtin().expect("templates");
    let request = Draft {
        comune: &comune,
        spec: catalogue::spec_of(kind).expect("in catalogue"),
        about: About::Person { subject, parts },
        usage: parse_usage(usage).expect("valid use"),
        bollo: None,
        diritti_cents: None,
        issued_at: datetime!(2026-03-02 09:15:00 UTC),
    };
    let number = CertificateNumber::new(2026, 123).expect("number");
    prepare(&request, number, 7, &templates, &signer, &trust)
}

fn pdf_text(pdf: &[u8]) -> Option<String> {
    if !command_available("pdftotext", "-v") {
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).expect("write");
    let output = Command::new("pdftotext")
        .arg("-raw")
        .arg(&path)
        .arg("-")
        .output()
        .expect("runs");
    assert!(output.status.success());
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn a_residenza_prints_the_holder_the_address_the_clause_and_the_validity() {
    let prepared = issue(CertificateKind::Residenza, &[], &subject(), "esente:9").expect("issued");
    assert!(prepared.pdf.starts_with(b"%PDF-"));
    assert!(
        prepared.qr_version <= 15,
        "QR version {}",
        prepared.qr_version
    );
    let Some(text) = pdf_text(&prepared.pdf) else {
        return;
    };
    for expected in [
        "COMUNE DI BORGO SIGILLO",
        "CERTIFICATO DI RESIDENZA",
        "ROSSI MARIA CHIARA, nata a ROMA (RM) il 10/12/1985",
        "VIA GIUSEPPE GARIBALDI 112 INT. 4, 00100 BORGO SIGILLO",
        "pensione estera",
        "non può essere prodotto agli organi della pubblica amministrazione",
        "validità sei mesi",
        "Borgo Sigillo, 02/03/2026",
        "2026/000123",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn every_kind_of_the_catalogue_but_the_cdu_prepares_for_a_suitable_subject() {
    for spec in CATALOGUE
        .iter()
        .filter(|s| s.kind != CertificateKind::DestinazioneUrbanistica)
    {
        let mut subject = subject();
        match spec.kind {
            CertificateKind::ResidenzaAire | CertificateKind::StatoFamigliaAire => {
                subject.person.registration = Registration::Aire(AireRegistration {
                    country: "FRANCIA".into(),
                    address_abroad: "12 RUE DE LA PAIX, PARIS".into(),
                    registered_on: date!(2019 - 04 - 01),
                });
            }
            CertificateKind::ResidenzaConvivenza => {
                subject.convivenza = Some(Convivenza {
                    id: 1,
                    name: "CASA DI RIPOSO SAN GIUSEPPE".into(),
                    address: Address {
                        street: "VIA DEI TIGLI".into(),
                        number: "3".into(),
                        unit: None,
                        postcode: "00100".into(),
                        locality: "BORGO SIGILLO".into(),
                    },
                    head_id: None,
                });
            }
            CertificateKind::StatoLibero => subject.person.civil_status = CivilStatus::Divorced,
            CertificateKind::UnioneCivile => subject.unions[0].kind = UnionKind::CivilUnion,
            CertificateKind::ContrattoConvivenza => {
                subject.unions[0].kind = UnionKind::CohabitationContract;
            }
            _ => {}
        }
        let parts = [
            CertificateKind::Residenza,
            CertificateKind::Cittadinanza,
            CertificateKind::StatoFamiglia,
        ];
        let prepared = issue(spec.kind, &parts, &subject, "esente:9")
            .unwrap_or_else(|e| panic!("{}: {e}", spec.slug));
        assert_eq!(prepared.claims.kind, spec.kind);
        assert!(
            prepared.pdf.len() < 40 * 1024,
            "{}: {} bytes",
            spec.slug,
            prepared.pdf.len()
        );
    }
}

type Change = Box<dyn Fn(&mut Subject)>;

#[test]
fn each_refusal_case_is_refused_with_its_reason() {
    let procedure = OpenProcedure {
        person_id: 1,
        description: "cambio di residenza".into(),
        opened_on: date!(2026 - 02 - 01),
    };
    let cases: Vec<(&str, Change, CertificateKind, Refusal)> = vec![
        (
            "deceased",
            Box::new(|s| s.person.death_date = Some(date!(2025 - 01 - 01))),
            CertificateKind::Residenza,
            Refusal::Deceased,
        ),
        (
            "not certifiable",
            Box::new(|s| s.person.certifiability = Certifiability::NotCertifiable),
            CertificateKind::Residenza,
            Refusal::NotCertifiable,
        ),
        (
            "interdicted",
            Box::new(|s| s.person.certifiability = Certifiability::Interdicted),
            CertificateKind::Residenza,
            Refusal::Interdicted,
        ),
        (
            "partially certifiable",
            Box::new(|s| s.person.certifiability = Certifiability::Partial),
            CertificateKind::Cittadinanza,
            Refusal::PartiallyCertifiable,
        ),
        (
            "open procedure",
            Box::new(move |s| s.open_procedures.push(procedure.clone())),
            CertificateKind::Residenza,
            Refusal::OpenProcedure,
        ),
        (
            "cancelled",
            Box::new(|s| {
                s.person.registration = Registration::Cancelled {
                    on: date!(2024 - 01 - 01),
                    reason: "emigrazione".into(),
                }
            }),
            CertificateKind::Residenza,
            Refusal::Cancelled,
        ),
        (
            "family without head",
            Box::new(|s| {
                if let Some(family) = &mut s.family {
                    family.members[0].relationship = Some(3);
                }
            }),
            CertificateKind::StatoFamiglia,
            Refusal::FamilyWithoutHead,
        ),
        (
            "no family",
            Box::new(|s| s.family = None),
            CertificateKind::StatoFamiglia,
            Refusal::NoFamily,
        ),
        (
            "married",
            Box::new(|_| {}),
            CertificateKind::StatoLibero,
            Refusal::NotFree,
        ),
        (
            "not in AIRE",
            Box::new(|_| {}),
            CertificateKind::ResidenzaAire,
            Refusal::NotAire,
        ),
        (
            "no convivenza",
            Box::new(|_| {}),
            CertificateKind::ResidenzaConvivenza,
            Refusal::NoConvivenza,
        ),
        (
            "no civil union",
            Box::new(|_| {}),
            CertificateKind::UnioneCivile,
            Refusal::NoCivilUnion,
        ),
    ];
    for (name, change, kind, expected) in cases {
        let mut subject = subject();
        change(&mut subject);
        match issue(kind, &[], &subject, "esente:9") {
            Err(PrepareError::Refused(refusal)) => {
                assert_eq!(refusal, expected, "{name}");
                assert!(refusal.to_string().len() > 20, "{name}: reason too short");
            }
            other => panic!(
                "{name}: expected a refusal, got {:?}",
                other.map(|p| p.claims.number)
            ),
        }
    }
}

#[test]
fn a_certificate_in_bollo_is_not_prepared_without_its_payment() {
    assert_eq!(
        issue(CertificateKind::Residenza, &[], &subject(), "bollo").map(|p| p.claims.number),
        Err(PrepareError::BolloNotPaid)
    );
}

#[test]
fn a_stato_civile_certificate_is_exempt_whatever_the_use() {
    let prepared =
        issue(CertificateKind::Nascita, &[], &subject(), "bollo").expect("issued, exempt by law");
    assert_eq!(
        prepared.claims.usage.stamp,
        seal::Stamp::Exempt {
            code: catalogue::STATO_CIVILE_EXEMPTION,
            note: None
        }
    );
    assert_eq!(prepared.claims.expires_at, None);
}

#[test]
fn the_printed_qr_decodes_with_zbarimg_at_300_and_150_dpi() {
    if !command_available("pdftoppm", "-v") || !command_available("zbarimg", "--version") {
        return;
    }
    let prepared =
        issue(CertificateKind::StatoFamiglia, &[], &subject(), "esente:9").expect("issued");
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = dir.path().join("c.pdf");
    std::fs::write(&pdf, &prepared.pdf).expect("write");
    for dpi in ["300", "150"] {
        let prefix = dir.path().join(format!("page{dpi}"));
        let status = Command::new("pdftoppm")
            .args(["-r", dpi, "-gray", "-png"])
            .arg(&pdf)
            .arg(&prefix)
            .status()
            .expect("runs");
        assert!(status.success());
        let png = dir.path().join(format!("page{dpi}-1.png"));
        let output = Command::new("zbarimg")
            .args(["-q", "--raw"])
            .arg(&png)
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let text = text.trim();
        assert!(
            text.starts_with("HTTPS://CERTIFICATI.BORGOSIGILLO.EXAMPLE.IT/V#"),
            "{dpi} dpi: {text:?}"
        );
        let bytes = seal::text::parse_text(text).expect("seal text");
        assert_eq!(bytes, prepared.seal.as_bytes(), "{dpi} dpi");
    }
}

fn zone(plan: Plan, code: &str, name: &str) -> Zone {
    Zone {
        plan,
        code: code.into(),
        name: name.into(),
        nta_articles: vec!["art. 24".into(), "art. 25".into()],
        permitted_uses: "attività agricole e residenza dell'imprenditore agricolo".into(),
    }
}

#[test]
fn a_cdu_lists_each_parcel_with_its_zones_shares_and_constraints() {
    let comune = comune();
    let (_, signer, trust) = keys_for(&demo_comune(), KEYS_MADE);
    let templates = Templates::builtin().expect("templates");
    let parcels = vec![Parcel {
        foglio: "12".into(),
        particella: "345".into(),
        subalterno: None,
        area_m2: 5400,
        zones_in_force: vec![
            ZoneShare {
                zone: zone(Plan::InForce, "E1", "Zona agricola"),
                share_bp: 6000,
            },
            ZoneShare {
                zone: zone(Plan::InForce, "B2", "Zona residenziale di completamento"),
                share_bp: 4000,
            },
        ],
        zones_adopted: vec![ZoneShare {
            zone: zone(Plan::Adopted, "E2", "Zona agricola di pregio"),
            share_bp: 10000,
        }],
        constraints: vec![Constraint {
            code: "PAES".into(),
            description: "Vincolo paesaggistico".into(),
            norm: "D.Lgs. 42/2004 art. 142".into(),
        }],
    }];
    let applicant = subject().person;
    let holder = seal::Holder {
        surname: applicant.surname.clone(),
        given_names: applicant.given_names.clone(),
        birth_date: applicant.birth_date,
        birth_place: applicant.birth_place.clone(),
        fiscal_code: applicant.fiscal_code.clone(),
    };
    let request = Draft {
        comune: &comune,
        spec: catalogue::spec_of(CertificateKind::DestinazioneUrbanistica).expect("CDU"),
        about: About::Land {
            applicant: &holder,
            parcels: &parcels,
        },
        usage: parse_usage("esente:99:successione").expect("use"),
        bollo: None,
        diritti_cents: None,
        issued_at: datetime!(2026-03-02 09:15:00 UTC),
    };
    let number = CertificateNumber::new(2026, 124).expect("number");
    let prepared = prepare(&request, number, 8, &templates, &signer, &trust).expect("issued");
    assert!(
        matches!(prepared.claims.facts, seal::Facts::Digest(_)),
        "a CDU seals a digest"
    );
    assert_eq!(
        prepared.claims.expires_at,
        // One year from 02/03/2026: through 02/03/2027, the end of that day in Italy.
        Some(datetime!(2027-03-02 22:59:59 UTC))
    );
    let Some(text) = pdf_text(&prepared.pdf) else {
        return;
    };
    for expected in [
        "Foglio 12, particella 345",
        "E1 Zona agricola",
        "60%",
        "40%",
        "adottato",
        "Vincolo paesaggistico",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
#[ignore = "writes sample PDFs for a person to look at"]
fn write_samples() {
    let dir = std::env::var("SAMPLES_DIR").unwrap_or_else(|_| "/tmp".into());
    let parts = [
        CertificateKind::Residenza,
        CertificateKind::Cittadinanza,
        CertificateKind::StatoFamiglia,
    ];
    for kind in [
        CertificateKind::StatoFamigliaParentela,
        CertificateKind::Contestuale,
        CertificateKind::Matrimonio,
    ] {
        let prepared = issue(kind, &parts, &subject(), "esente:3/giudiziario").expect("issued");
        std::fs::write(format!("{dir}/sample-{}.pdf", kind.code()), &prepared.pdf).expect("write");
    }
}

#[test]
fn a_prepared_certificate_is_totally_signed_and_a_changed_byte_is_caught() {
    use testkit::pdf_tools::{
        Scratch, assert_totally_signed, pdfsig, poppler_and_qpdf_available, pyhanko,
        pyhanko_available,
    };
    if !poppler_and_qpdf_available() || !pyhanko_available() {
        return;
    }
    // pyHanko checks the signer certificate at its own clock: keys made now.
    let keys = comune_keys(
        &demo_comune(),
        time::OffsetDateTime::now_utc() - time::Duration::hours(1),
    );
    let comune = comune();
    let subject = subject();
    let templates = Templates::builtin().expect("templates");
    let request = Draft {
        comune: &comune,
        spec: catalogue::spec_of(CertificateKind::Residenza).expect("in catalogue"),
        about: About::Person {
            subject: &subject,
            parts: &[],
        },
        usage: parse_usage("esente:9").expect("valid use"),
        bollo: None,
        diritti_cents: None,
        issued_at: time::OffsetDateTime::now_utc(),
    };
    let number = CertificateNumber::new(2026, 125).expect("number");
    let prepared =
        prepare(&request, number, 9, &templates, &keys.signer, &keys.trust).expect("issued");
    let scratch = Scratch::new();
    let pdf = scratch.write("c.pdf", &prepared.pdf);
    let ca = scratch.write("ca.pem", keys.ca.certificate.to_pem().as_bytes());
    assert_totally_signed(&pdf, &ca, "residenza");

    let mut changed = prepared.pdf.clone();
    let at = changed
        .windows(9)
        .position(|w| w == b"/Producer")
        .expect("a byte to change");
    changed[at + 2] ^= 0x20;
    let tampered = scratch.write("changed.pdf", &changed);
    let report = pdfsig(&tampered);
    assert!(
        !report.contains("Signature is Valid."),
        "pdfsig missed the change: {report}"
    );
    let (code, verdict) = pyhanko(&tampered, &ca);
    assert_ne!(code, 0, "pyHanko missed the change: {verdict}");
}
