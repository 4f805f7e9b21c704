//! Registry data for tests and benchmarks: the demo comune and a family
//! of three, held in memory.

use seal::ComuneCode;
use seal::samples::fiscal_code;
use store::model::{
    Address, BolloMode, Certifiability, CivilStatus, ComuneRecord, Family, Person, Registration,
    Sex, Subject, UnionKind, UnionRecord,
};
use time::macros::date;

/// The demo comune's record.
pub fn comune() -> ComuneRecord {
    ComuneRecord {
        code: ComuneCode::parse("999001").expect("code"),
        belfiore: "Z999".into(),
        name: "Borgo Sigillo".into(),
        province: "XX".into(),
        creditor_fiscal_code: "00000000000".into(),
        verification_host: "certificati.borgosigillo.example.it".into(),
        bollo_mode: BolloMode::Virtuale {
            authorization: "1234/2020".into(),
            authorized_on: date!(2020 - 01 - 15),
        },
        bollo_cents: 1600,
        diritti_bollo_cents: 52,
        diritti_esente_cents: 26,
        demo: true,
        signer_kid: None,
    }
}

/// A resident of the demo comune, married, in family 1.
pub fn person(
    id: i64,
    surname: &str,
    names: &str,
    sex: Sex,
    cf15: &str,
    relationship: u16,
) -> Person {
    Person {
        id,
        comune: ComuneCode::parse("999001").expect("code"),
        fiscal_code: fiscal_code(cf15),
        surname: surname.into(),
        given_names: names.into(),
        sex,
        birth_date: date!(1985 - 12 - 10),
        birth_place: "ROMA (RM)".into(),
        citizenship: "ITALIANA".into(),
        civil_status: CivilStatus::Married,
        registration: Registration::Resident,
        family_id: Some(1),
        relationship: Some(relationship),
        convivenza_id: None,
        certifiability: Certifiability::Full,
        death_date: None,
    }
}

/// ROSSI MARIA CHIARA, head of a family of three, married.
pub fn subject() -> Subject {
    let holder = person(1, "ROSSI", "MARIA CHIARA", Sex::F, "RSSMCH85T50H501", 1);
    let son = person(3, "BIANCHI", "LUCA", Sex::M, "BNCLCU12H03H501", 3);
    let members = vec![
        holder.clone(),
        person(2, "BIANCHI", "GIOVANNI", Sex::M, "BNCGNN83D22F205", 2),
        Person {
            civil_status: CivilStatus::Single,
            ..son
        },
    ];
    Subject {
        person: holder,
        family: Some(Family {
            id: 1,
            address: Some(Address {
                street: "VIA GIUSEPPE GARIBALDI".into(),
                number: "112".into(),
                unit: Some("INT. 4".into()),
                postcode: "00100".into(),
                locality: "BORGO SIGILLO".into(),
            }),
            members,
        }),
        convivenza: None,
        unions: vec![UnionRecord {
            kind: UnionKind::Marriage,
            person_id: 1,
            partner_name: "BIANCHI GIOVANNI".into(),
            date: date!(2010 - 06 - 12),
            place: "BORGO SIGILLO".into(),
            ended_on: None,
        }],
        open_procedures: Vec::new(),
    }
}
