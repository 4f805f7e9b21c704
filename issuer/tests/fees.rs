//! Fee quotes under the default schedule and a comune's own, and the
//! schedule's TOML form.

use issuer::catalogue::parse_usage;
use issuer::fees::{
    CduTier, Channel, DirittiOnline, FeeSchedule, FeesError, Quote, SUCCESSIONE_EXEMPTION,
};
use seal::{CertificateKind, Clause, Stamp, Usage};

fn usage(text: &str) -> Usage {
    parse_usage(text).expect("valid use")
}

fn exempt(code: u16) -> Usage {
    Usage {
        stamp: Stamp::Exempt { code, note: None },
        clause: Clause::Standard,
    }
}

fn quote(bollo_cents: i64, diritti_cents: i64) -> Quote {
    Quote {
        bollo_cents,
        diritti_cents,
    }
}

#[test]
fn quotes_under_the_default_schedule() {
    use CertificateKind::*;
    let fees = FeeSchedule::default();
    let cases = [
        // (what, kind, use, channel, parcels, quote)
        (
            "residenza in bollo",
            Residenza,
            usage("bollo"),
            Channel::Online,
            0,
            quote(1600, 52),
        ),
        (
            "at the counter too",
            Residenza,
            usage("bollo"),
            Channel::Counter,
            0,
            quote(1600, 52),
        ),
        (
            "use abroad, in bollo",
            StatoFamiglia,
            usage("bollo/estero"),
            Channel::Online,
            0,
            quote(1600, 52),
        ),
        (
            "exempt, pays reduced diritti",
            Residenza,
            usage("esente:9"),
            Channel::Online,
            0,
            quote(0, 26),
        ),
        (
            "ONLUS, reduced diritti",
            Cittadinanza,
            usage("esente:1"),
            Channel::Counter,
            0,
            quote(0, 26),
        ),
        (
            "altro, reduced diritti",
            Residenza,
            usage("esente:99:uso interno"),
            Channel::Online,
            0,
            quote(0, 26),
        ),
        (
            "CTU waives diritti",
            Residenza,
            usage("esente:4"),
            Channel::Online,
            0,
            quote(0, 0),
        ),
        (
            "minors waive diritti",
            StatoFamiglia,
            usage("esente:6"),
            Channel::Counter,
            0,
            quote(0, 0),
        ),
        (
            "divorce waives diritti",
            StatoFamiglia,
            usage("esente:7/giudiziario"),
            Channel::Online,
            0,
            quote(0, 0),
        ),
        (
            "between PAs waives diritti",
            Residenza,
            usage("esente:10"),
            Channel::Online,
            0,
            quote(0, 0),
        ),
        (
            "Tabella B extra, reduced diritti",
            Residenza,
            exempt(106),
            Channel::Online,
            0,
            quote(0, 26),
        ),
        (
            "nascita is stato civile: free",
            Nascita,
            usage("bollo"),
            Channel::Online,
            0,
            Quote::FREE,
        ),
        (
            "matrimonio is stato civile: free",
            Matrimonio,
            usage("esente:9"),
            Channel::Counter,
            0,
            Quote::FREE,
        ),
        (
            "unione civile is stato civile: free",
            UnioneCivile,
            usage("bollo"),
            Channel::Online,
            0,
            Quote::FREE,
        ),
        (
            "the stato civile exemption: free",
            Residenza,
            exempt(100),
            Channel::Online,
            0,
            Quote::FREE,
        ),
        (
            "CDU, 1 parcel: two stamps",
            DestinazioneUrbanistica,
            usage("bollo"),
            Channel::Online,
            1,
            quote(3200, 2582),
        ),
        (
            "CDU, 5 parcels",
            DestinazioneUrbanistica,
            usage("bollo"),
            Channel::Counter,
            5,
            quote(3200, 2582),
        ),
        (
            "CDU, 6 parcels",
            DestinazioneUrbanistica,
            usage("bollo"),
            Channel::Online,
            6,
            quote(3200, 3873),
        ),
        (
            "CDU, 20 parcels",
            DestinazioneUrbanistica,
            usage("bollo"),
            Channel::Online,
            20,
            quote(3200, 5165),
        ),
        (
            "CDU, past the last tier",
            DestinazioneUrbanistica,
            usage("bollo"),
            Channel::Online,
            500,
            quote(3200, 5165),
        ),
        (
            "CDU exempt keeps its diritti",
            DestinazioneUrbanistica,
            usage("esente:3"),
            Channel::Online,
            2,
            quote(0, 2582),
        ),
        (
            "CDU between PAs is free",
            DestinazioneUrbanistica,
            usage("esente:10"),
            Channel::Online,
            2,
            quote(0, 0),
        ),
        (
            "CDU for succession: bollo by default",
            DestinazioneUrbanistica,
            exempt(SUCCESSIONE_EXEMPTION),
            Channel::Online,
            2,
            quote(3200, 2582),
        ),
        (
            "an exemption not accepted is charged",
            Residenza,
            exempt(42),
            Channel::Online,
            0,
            quote(1600, 52),
        ),
    ];
    for (what, kind, usage, channel, parcels, expected) in cases {
        assert_eq!(
            fees.quote(kind, &usage, channel, parcels),
            expected,
            "{what}"
        );
    }
}

#[test]
fn a_comune_that_waives_diritti_online_still_charges_them_at_the_counter() {
    let fees = FeeSchedule {
        diritti_online: DirittiOnline::Waived,
        ..FeeSchedule::default()
    };
    let bollo = usage("bollo");

    let online = fees.quote(CertificateKind::Residenza, &bollo, Channel::Online, 0);
    let counter = fees.quote(CertificateKind::Residenza, &bollo, Channel::Counter, 0);
    let exempt_online = fees.quote(
        CertificateKind::Residenza,
        &usage("esente:9"),
        Channel::Online,
        0,
    );
    let cdu_online = fees.quote(
        CertificateKind::DestinazioneUrbanistica,
        &bollo,
        Channel::Online,
        1,
    );

    assert_eq!(online, quote(1600, 0));
    assert_eq!(counter, quote(1600, 52));
    assert_eq!(exempt_online, Quote::FREE);
    assert_eq!(
        cdu_online,
        quote(3200, 2582),
        "CDU diritti are not waived online"
    );
    assert_eq!(online.total_cents(), 1600);
}

#[test]
fn a_comune_may_exempt_the_cdu_for_succession() {
    let fees = FeeSchedule {
        successione_exempt_cdu: true,
        ..FeeSchedule::default()
    };
    let successione = exempt(SUCCESSIONE_EXEMPTION);

    let quoted = fees.quote(
        CertificateKind::DestinazioneUrbanistica,
        &successione,
        Channel::Online,
        3,
    );

    assert_eq!(quoted, quote(0, 2582));
    assert_eq!(
        FeeSchedule::default().check_usage(CertificateKind::DestinazioneUrbanistica, &successione),
        Err(FeesError::SuccessioneNotExempt)
    );
    assert_eq!(
        fees.check_usage(CertificateKind::DestinazioneUrbanistica, &successione),
        Ok(())
    );
}

#[test]
fn uses_outside_the_comune_list_are_refused() {
    let fees = FeeSchedule {
        exemptions: FeeSchedule::default()
            .exemptions
            .into_iter()
            .filter(|e| e.id != 9)
            .collect(),
        ..FeeSchedule::default()
    };

    assert_eq!(
        fees.check_usage(CertificateKind::Residenza, &usage("esente:9")),
        Err(FeesError::ExemptionNotAccepted(9))
    );
    assert_eq!(
        fees.quote(
            CertificateKind::Residenza,
            &usage("esente:9"),
            Channel::Online,
            0
        ),
        quote(1600, 52)
    );
    assert_eq!(
        fees.check_usage(CertificateKind::Residenza, &usage("bollo")),
        Ok(())
    );
}

#[test]
fn the_default_lists_anpr_exemptions_and_the_tabella_b_extras() {
    let fees = FeeSchedule::default();

    let ids: Vec<u16> = fees.exemptions.iter().map(|e| e.id).collect();
    let waiving: Vec<u16> = fees
        .exemptions
        .iter()
        .filter(|e| e.waives_diritti)
        .map(|e| e.id)
        .collect();

    assert_eq!(
        ids,
        [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99, 101, 102, 103, 104, 105, 106, 107, 108
        ]
    );
    assert_eq!(waiving, [4, 6, 7, 10]);
    assert!(
        fees.exemptions
            .iter()
            .all(|e| !e.norm.is_empty() && !e.description.is_empty())
    );
    assert_eq!(fees.validate(), Ok(()));
}

#[test]
fn the_schedule_round_trips_through_toml() {
    let fees = FeeSchedule {
        diritti_online: DirittiOnline::Waived,
        successione_exempt_cdu: true,
        ..FeeSchedule::default()
    };

    let text = fees.to_toml();

    assert_eq!(FeeSchedule::from_toml(&text), Ok(fees));
    assert_eq!(
        FeeSchedule::from_toml(&FeeSchedule::default().to_toml()),
        Ok(FeeSchedule::default())
    );
}

#[test]
fn a_comune_writes_only_what_differs() {
    let text = r#"
        diritti_online = "waived"

        [cdu]
        tiers = [
            { up_to_parcels = 3, diritti_cents = 1000 },
            { up_to_parcels = 10, diritti_cents = 5165 },
        ]
    "#;

    let fees = FeeSchedule::from_toml(text).expect("valid");

    assert_eq!(fees.bollo_cents, 1600);
    assert_eq!(fees.diritti_online, DirittiOnline::Waived);
    assert_eq!(
        fees.cdu.tiers,
        [
            CduTier {
                up_to_parcels: 3,
                diritti_cents: 1000
            },
            CduTier {
                up_to_parcels: 10,
                diritti_cents: 5165
            }
        ]
    );
    assert!(fees.cdu.bollo_on_request && fees.cdu.bollo_on_certificate);
    assert_eq!(fees.exemptions, FeeSchedule::default().exemptions);
}

#[test]
fn invalid_schedules_are_refused_with_a_clear_error() {
    let cases = [
        (
            "bollo_cents = -1",
            FeesError::NegativeAmount {
                field: "bollo_cents".into(),
                cents: -1,
            },
        ),
        (
            "[cdu]\ntiers = [{ up_to_parcels = 5, diritti_cents = -5 }]",
            FeesError::NegativeAmount {
                field: "cdu.tiers.diritti_cents".into(),
                cents: -5,
            },
        ),
        (
            "[cdu]\ntiers = [{ up_to_parcels = 5, diritti_cents = 500 }, { up_to_parcels = 5, diritti_cents = 900 }]",
            FeesError::TiersNotAscending,
        ),
        ("[cdu]\ntiers = []", FeesError::TiersNotAscending),
        (
            "[[exemptions]]\nid = 42\ndescription = \"x\"\nnorm = \"y\"\nwaives_diritti = false",
            FeesError::UnknownExemption(42),
        ),
        (
            "[[exemptions]]\nid = 100\ndescription = \"x\"\nnorm = \"y\"\nwaives_diritti = true",
            FeesError::UnknownExemption(100),
        ),
        (
            "[[exemptions]]\nid = 9\ndescription = \"x\"\nnorm = \"y\"\nwaives_diritti = false\n\
             [[exemptions]]\nid = 9\ndescription = \"x\"\nnorm = \"y\"\nwaives_diritti = false",
            FeesError::DuplicateExemption(9),
        ),
        (
            "[[exemptions]]\nid = 9\ndescription = \" \"\nnorm = \"y\"\nwaives_diritti = false",
            FeesError::BlankExemption(9),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(FeeSchedule::from_toml(text), Err(expected), "{text}");
    }

    for text in [
        "bollo = 1600",
        "bollo_cents = \"sedici\"",
        "diritti_online = \"sometimes\"",
        "[cdu",
    ] {
        let error = FeeSchedule::from_toml(text).expect_err(text);
        assert!(matches!(error, FeesError::Toml(_)), "{text}: {error:?}");
        assert!(
            error
                .to_string()
                .starts_with("configurazione delle tariffe non valida: "),
            "{error}"
        );
    }
    assert!(
        FeeSchedule::from_toml("bollo = 1600")
            .expect_err("unknown field")
            .to_string()
            .contains("bollo"),
        "the message names the field"
    );
}

#[test]
fn a_comune_record_seeds_the_schedule() {
    let mut comune = testkit::fixtures::comune();
    comune.bollo_cents = 1700;
    comune.diritti_bollo_cents = 60;

    let fees = FeeSchedule::from_comune(&comune);

    assert_eq!(
        fees.quote(
            CertificateKind::Residenza,
            &usage("bollo"),
            Channel::Online,
            0
        ),
        quote(1700, 60)
    );
}
