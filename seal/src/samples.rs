//! Sample claims of fictional people, for tests, benchmarks, fuzz seeds and
//! documentation. The comune is the demo comune `999001`, which ISTAT has
//! never assigned.

use time::macros::{date, datetime};
use time::{Date, Duration};

use crate::{
    CertificateKind, CertificateNumber, Claims, Clause, CodiceFiscale, ComuneCode, Facts,
    FamilyMember, Holder, Stamp, Usage,
};

/// The demo comune's ISTAT code.
pub const DEMO_COMUNE: &str = "999001";

/// A codice fiscale from its first fifteen characters, check character
/// computed.
pub fn fiscal_code(first15: &str) -> CodiceFiscale {
    let check = char::from(CodiceFiscale::check_character(first15.as_bytes()));
    CodiceFiscale::parse(&format!("{first15}{check}"))
        .unwrap_or_else(|e| panic!("sample fiscal code {first15}: {e}"))
}

fn demo_comune() -> ComuneCode {
    ComuneCode::parse(DEMO_COMUNE).unwrap_or_else(|e| panic!("{e}"))
}

fn number(sequence: u32) -> CertificateNumber {
    CertificateNumber::new(2026, sequence).unwrap_or_else(|e| panic!("{e}"))
}

fn holder() -> Holder {
    Holder {
        surname: "ROSSI".into(),
        given_names: "MARIA CHIARA".into(),
        birth_date: date!(1985 - 12 - 10),
        birth_place: "ROMA (RM)".into(),
        fiscal_code: fiscal_code("RSSMCH85T50H501"),
    }
}

/// A certificato di residenza in bollo, paid through bollo virtuale.
pub fn residenza() -> Claims {
    let issued_at = datetime!(2026-03-02 09:15:00 UTC);
    Claims {
        issuer: demo_comune(),
        issued_at,
        expires_at: Some(issued_at + Duration::days(183)),
        number: number(123),
        kind: CertificateKind::Residenza,
        holder: holder(),
        facts: Facts::Residence {
            address: "VIA GIUSEPPE GARIBALDI 112 INT. 4, 00100 BORGO SIGILLO".into(),
        },
        usage: Usage {
            stamp: Stamp::Bollo,
            clause: Clause::Standard,
        },
        bollo: Some(crate::BolloRef::Iuv("01000000000014".into())),
        status_index: 122,
        demo: true,
    }
}

/// A certificato di stato di famiglia for a family of `members` people
/// (1 to 26), exempt for a foreign pension (id 9).
pub fn famiglia(members: usize) -> Claims {
    let names = [
        (
            "ROSSI",
            "MARIA CHIARA",
            date!(1985 - 12 - 10),
            1,
            "RSSMCH85T50H501",
        ),
        (
            "BIANCHI",
            "GIOVANNI BATTISTA",
            date!(1983 - 04 - 22),
            2,
            "BNCGNN83D22F205",
        ),
        (
            "BIANCHI",
            "FRANCESCO",
            date!(2012 - 06 - 03),
            3,
            "BNCFNC12H03H501",
        ),
        (
            "BIANCHI",
            "ANNA MARIA",
            date!(2015 - 01 - 17),
            3,
            "BNCNMR15A57H501",
        ),
        (
            "BIANCHI",
            "LUCA",
            date!(2019 - 09 - 30),
            3,
            "BNCLCU19P30H501",
        ),
        (
            "ROSSI",
            "ELENA",
            date!(1958 - 02 - 11),
            6,
            "RSSLNE58B51L219",
        ),
    ];
    let members = (0..members.clamp(1, 26))
        .map(|index| {
            let (surname, given_names, birth_date, relationship, _) = names[index % names.len()];
            FamilyMember {
                surname: surname.into(),
                given_names: given_names.into(),
                birth_date: birth_date + Duration::days(index as i64 / names.len() as i64),
                relationship,
                civil_status: None,
            }
        })
        .collect();
    Claims {
        number: number(124),
        kind: CertificateKind::StatoFamiglia,
        facts: Facts::Family {
            address: "VIA GIUSEPPE GARIBALDI 112 INT. 4, 00100 BORGO SIGILLO".into(),
            members,
        },
        usage: Usage {
            stamp: Stamp::Exempt {
                code: 9,
                note: None,
            },
            clause: Clause::Standard,
        },
        bollo: None,
        status_index: 123,
        ..residenza()
    }
}

/// A certificato contestuale of residenza, cittadinanza and esistenza in
/// vita, in bollo and for use abroad.
pub fn contestuale() -> Claims {
    Claims {
        number: number(125),
        kind: CertificateKind::Contestuale,
        facts: Facts::Combined(vec![
            (
                CertificateKind::Residenza,
                Facts::Residence {
                    address: "VIA ROMA 1, 00100 BORGO SIGILLO".into(),
                },
            ),
            (
                CertificateKind::Cittadinanza,
                Facts::Citizenship {
                    citizenship: "ITALIANA".into(),
                },
            ),
            (CertificateKind::EsistenzaInVita, Facts::Holder),
        ]),
        usage: Usage {
            stamp: Stamp::Bollo,
            clause: Clause::Estero,
        },
        status_index: 124,
        ..residenza()
    }
}

/// A certificato di nascita: unlimited validity, exempt with a free-text use.
pub fn nascita() -> Claims {
    Claims {
        number: number(126),
        kind: CertificateKind::Nascita,
        expires_at: None,
        facts: Facts::Holder,
        usage: Usage {
            stamp: Stamp::Exempt {
                code: 99,
                note: Some("uso interno dell'ente".into()),
            },
            clause: Clause::Standard,
        },
        bollo: None,
        status_index: 125,
        demo: false,
        ..residenza()
    }
}

/// A CDU whose many parcels travel as a digest of the full text.
pub fn cdu() -> Claims {
    Claims {
        number: number(127),
        kind: CertificateKind::DestinazioneUrbanistica,
        expires_at: Some(residenza().issued_at + Duration::days(365)),
        facts: Facts::digest_of("Foglio 12, particelle 34, 35, 36: zona E1 agricola …"),
        status_index: 126,
        ..residenza()
    }
}

/// Every sample above.
pub fn all() -> Vec<Claims> {
    vec![residenza(), famiglia(6), contestuale(), nascita(), cdu()]
}

/// A fixed date used by samples as "today", after every sample's `iat`.
pub const SAMPLE_NOW: Date = date!(2026 - 06 - 01);
