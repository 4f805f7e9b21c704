//! The store on SQLite and, when configured, PostgreSQL: migrations, and
//! every table read back as written.

mod common;

use common::{VIA_ROMA_1, databases, fields, no_progress, parcel, parcels_csv, people_csv, person};
use seal::{CodiceFiscale, ComuneCode, Kid};
use sqlx::Row as _;
use store::Store;
use store::model::{
    Address, AireRegistration, BolloMode, Certifiability, CivilStatus, Plan, Registration, Sex,
    UnionKind,
};
use time::macros::date;

#[tokio::test]
async fn migrations_run_once_and_reconnecting_finds_the_schema_current() {
    for db in databases().await {
        let again = Store::connect(&db.url).await.expect("second connection");
        let applied = sqlx_count(&db.url, "SELECT COUNT(*) AS n FROM _sqlx_migrations").await;
        assert_eq!(applied, 12, "{}", db.label);
        assert!(
            again.list_comuni().await.expect("query").is_empty(),
            "{}",
            db.label
        );
        again.close().await;
    }
}

#[tokio::test]
async fn comuni_round_trip_and_update_in_place() {
    for db in databases().await {
        let mut comune = common::test_comune();
        db.store.upsert_comune(&comune).await.expect("insert");
        assert_eq!(
            db.store.comune(comune.code).await.expect("read"),
            Some(comune.clone()),
            "{}",
            db.label
        );

        comune.bollo_mode = BolloMode::Virtuale {
            authorization: "12345/2026".into(),
            authorized_on: date!(2026 - 03 - 01),
        };
        comune.signer_kid = Some(Kid([1, 2, 3, 4, 5, 6, 7, 0xff]));
        comune.diritti_bollo_cents = 60;
        db.store.upsert_comune(&comune).await.expect("update");
        let other = store::demo::comune();
        db.store.upsert_comune(&other).await.expect("insert");

        assert_eq!(
            db.store.list_comuni().await.expect("list"),
            vec![other, comune],
            "{}",
            db.label
        );
        let unknown = ComuneCode::parse("999999").expect("valid code");
        assert_eq!(db.store.comune(unknown).await.expect("read"), None);
    }
}

/// A small registry with every kind of record: a married family with a
/// child, a civil union, a family abroad, a convivenza, a cancelled and a
/// deceased person, an open procedure.
fn small_registry() -> String {
    let rossi_union = [
        ("unione_tipo", "matrimonio"),
        ("unione_data", "2008-09-13"),
        ("unione_luogo", "ROMA (RM)"),
    ];
    people_csv(&[
        person(&fields(&[
            &[
                ("id", "1"),
                ("cognome", "ROSSI"),
                ("nome", "MARIO"),
                ("stato_civile", "coniugato"),
                ("famiglia_id", "10"),
                ("relazione", "1"),
                ("unione_partner", "BIANCHI ANNA"),
            ],
            VIA_ROMA_1,
            &rossi_union,
        ])),
        person(&fields(&[
            &[
                ("id", "2"),
                ("cognome", "BIANCHI"),
                ("nome", "ANNA"),
                ("sesso", "F"),
                ("data_nascita", "1982-11-02"),
                ("luogo_nascita", "MILANO (MI)"),
                ("codice_luogo_nascita", "F205"),
                ("stato_civile", "coniugato"),
                ("famiglia_id", "10"),
                ("relazione", "2"),
                ("unione_partner", "ROSSI MARIO"),
            ],
            VIA_ROMA_1,
            &rossi_union,
        ])),
        person(&fields(&[
            &[
                ("id", "3"),
                ("cognome", "ROSSI"),
                ("nome", "LUCA"),
                ("data_nascita", "2010-01-20"),
                ("famiglia_id", "10"),
                ("relazione", "3"),
                ("certificabilita", "1"),
            ],
            VIA_ROMA_1,
        ])),
        person(&[
            ("id", "4"),
            ("cognome", "VERDI"),
            ("nome", "GIULIA"),
            ("sesso", "F"),
            ("data_nascita", "1990-07-07"),
            ("luogo_nascita", "FRANCIA"),
            ("codice_luogo_nascita", "Z110"),
            ("posizione", "A"),
            ("aire_paese", "FRANCIA"),
            ("aire_indirizzo", "12 RUE DES LILAS, 75011 PARIS"),
            ("aire_data_iscrizione", "2015-04-01"),
            ("famiglia_id", "11"),
            ("relazione", "1"),
        ]),
        person(&fields(&[
            &[
                ("id", "5"),
                ("cognome", "NERI"),
                ("nome", "PAOLO"),
                ("convivenza_id", "5"),
                ("convivenza_nome", "CASA PROVA"),
                ("relazione", "24"),
            ],
            &[
                ("indirizzo_via", "VIA DEL CONVENTO"),
                ("indirizzo_civico", "3"),
                ("indirizzo_cap", "99902"),
                ("indirizzo_localita", "PROVA"),
            ],
        ])),
        person(&fields(&[
            &[
                ("id", "6"),
                ("cognome", "BO"),
                ("nome", "IDA"),
                ("sesso", "F"),
                ("data_nascita", "1931-02-28"),
                ("stato_civile", "vedovo"),
                ("convivenza_id", "5"),
                ("convivenza_nome", "CASA PROVA"),
                ("relazione", "25"),
            ],
            &[
                ("indirizzo_via", "VIA DEL CONVENTO"),
                ("indirizzo_civico", "3"),
                ("indirizzo_cap", "99902"),
                ("indirizzo_localita", "PROVA"),
            ],
        ])),
        person(&[
            ("id", "7"),
            ("cognome", "GIALLI"),
            ("nome", "CARLO"),
            ("posizione", "C"),
            ("cancellazione_data", "2025-09-30"),
            ("cancellazione_motivo", "EMIGRAZIONE IN ALTRO COMUNE"),
        ]),
        person(&[
            ("id", "8"),
            ("cognome", "BRUNO"),
            ("nome", "ENZO"),
            ("data_nascita", "1940-03-03"),
            ("posizione", "C"),
            ("cancellazione_data", "2025-03-14"),
            ("cancellazione_motivo", "DECESSO"),
            ("data_decesso", "2025-03-14"),
        ]),
        person(&fields(&[
            &[
                ("id", "9"),
                ("cognome", "CONTE"),
                ("nome", "SARA"),
                ("sesso", "F"),
                ("famiglia_id", "12"),
                ("relazione", "1"),
                ("stato_civile", "unito-civilmente"),
                ("unione_tipo", "unione-civile"),
                ("unione_partner", "MARINI ELENA"),
                ("unione_data", "2019-05-04"),
                ("unione_luogo", "PROVA (XX)"),
                ("procedimento", "ACCERTAMENTO DELLA DIMORA ABITUALE"),
                ("procedimento_data", "2026-10-05"),
            ],
            &[
                ("indirizzo_via", "PIAZZA GRANDE"),
                ("indirizzo_civico", "12/B"),
                ("indirizzo_interno", "INT. 3"),
                ("indirizzo_cap", "99902"),
                ("indirizzo_localita", "PROVA"),
            ],
        ])),
        person(&fields(&[
            &[
                ("id", "10"),
                ("cognome", "MARINI"),
                ("nome", "ELENA"),
                ("sesso", "F"),
                ("data_nascita", "1984-12-24"),
                ("famiglia_id", "12"),
                ("relazione", "28"),
                ("stato_civile", "unito-civilmente"),
                ("unione_tipo", "unione-civile"),
                ("unione_partner", "CONTE SARA"),
                ("unione_data", "2019-05-04"),
                ("unione_luogo", "PROVA (XX)"),
            ],
            &[
                ("indirizzo_via", "PIAZZA GRANDE"),
                ("indirizzo_civico", "12/B"),
                ("indirizzo_interno", "INT. 3"),
                ("indirizzo_cap", "99902"),
                ("indirizzo_localita", "PROVA"),
            ],
        ])),
    ])
}

fn cf(surname: &str, names: &str, sex: Sex, born: time::Date, place: &str) -> CodiceFiscale {
    store::cf::compute(surname, names, sex, born, place).expect("valid data")
}

#[tokio::test]
async fn every_registry_table_reads_back_what_was_imported() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let summary = db
            .store
            .import_people(comune, small_registry().as_bytes(), &no_progress)
            .await
            .expect("valid file");
        assert_eq!(summary.rows, 10, "{}", db.label);

        let mario = cf("ROSSI", "MARIO", Sex::M, date!(1980 - 05 - 17), "H501");
        let person = db
            .store
            .person_by_fiscal_code(comune, &mario)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(person.id, 1);
        assert_eq!(person.comune, comune);
        assert_eq!(
            (person.surname.as_str(), person.given_names.as_str()),
            ("ROSSI", "MARIO")
        );
        assert_eq!(person.sex, Sex::M);
        assert_eq!(person.birth_date, date!(1980 - 05 - 17));
        assert_eq!(person.birth_place, "ROMA (RM)");
        assert_eq!(person.citizenship, "ITALIANA");
        assert_eq!(person.civil_status, CivilStatus::Married);
        assert_eq!(person.registration, Registration::Resident);
        assert_eq!((person.family_id, person.relationship), (Some(10), Some(1)));
        assert_eq!(person.convivenza_id, None);
        assert_eq!(person.certifiability, Certifiability::Full);
        assert_eq!(person.death_date, None);
        assert_eq!(
            db.store.person(comune, 1).await.expect("query"),
            Some(person)
        );

        let address = db.store.address_of(comune, 3).await.expect("query");
        assert_eq!(
            address,
            Some(Address {
                street: "VIA ROMA".into(),
                number: "1".into(),
                unit: None,
                postcode: "99902".into(),
                locality: "PROVA".into(),
            }),
            "{}",
            db.label
        );
        let unions = db.store.unions_of(comune, 2).await.expect("query");
        assert_eq!(unions.len(), 1);
        assert_eq!(unions[0].kind, UnionKind::Marriage);
        assert_eq!(unions[0].partner_name, "ROSSI MARIO");
        assert_eq!(unions[0].date, date!(2008 - 09 - 13));
        assert_eq!(unions[0].ended_on, None);

        let luca = db
            .store
            .person(comune, 3)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(luca.certifiability, Certifiability::Partial);

        let abroad = db
            .store
            .person(comune, 4)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(
            abroad.registration,
            Registration::Aire(AireRegistration {
                country: "FRANCIA".into(),
                address_abroad: "12 RUE DES LILAS, 75011 PARIS".into(),
                registered_on: date!(2015 - 04 - 01),
            })
        );
        assert_eq!(abroad.birth_place, "FRANCIA");
        let family_abroad = db
            .store
            .family(comune, 11)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(family_abroad.address, None);
        assert_eq!(db.store.address_of(comune, 4).await.expect("query"), None);

        let convivenza = db
            .store
            .convivenza(comune, 5)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(convivenza.name, "CASA PROVA");
        assert_eq!(convivenza.head_id, Some(5));
        assert_eq!(convivenza.address.street, "VIA DEL CONVENTO");
        let members = db.store.convivenza_members(comune, 5).await.expect("query");
        let ids: Vec<(i64, Option<u16>)> = members.iter().map(|m| (m.id, m.relationship)).collect();
        assert_eq!(ids, vec![(5, Some(24)), (6, Some(25))], "{}", db.label);
        assert_eq!(members[1].convivenza_id, Some(5));
        assert_eq!(members[1].family_id, None);
        assert_eq!(
            db.store.address_of(comune, 6).await.expect("query"),
            Some(convivenza.address)
        );

        let cancelled = db
            .store
            .person(comune, 7)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(
            cancelled.registration,
            Registration::Cancelled {
                on: date!(2025 - 09 - 30),
                reason: "EMIGRAZIONE IN ALTRO COMUNE".into(),
            }
        );
        let deceased = db
            .store
            .person(comune, 8)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(deceased.death_date, Some(date!(2025 - 03 - 14)));
        assert_eq!(deceased.family_id, None);

        let sara = db
            .store
            .person(comune, 9)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(sara.civil_status, CivilStatus::CivilUnion);
        let procedures = db.store.open_procedures_of(comune, 9).await.expect("query");
        assert_eq!(procedures.len(), 1);
        assert_eq!(procedures[0].opened_on, date!(2026 - 10 - 05));
        assert!(
            db.store
                .open_procedures_of(comune, 1)
                .await
                .expect("query")
                .is_empty()
        );
        let union = &db.store.unions_of(comune, 10).await.expect("query")[0];
        assert_eq!(union.kind, UnionKind::CivilUnion);
        let home = db
            .store
            .address_of(comune, 10)
            .await
            .expect("query")
            .expect("address");
        assert_eq!(home.unit.as_deref(), Some("INT. 3"));
        assert_eq!(home.line(), "PIAZZA GRANDE 12/B INT. 3, 99902 PROVA");

        assert_eq!(db.store.person(comune, 99).await.expect("query"), None);
        assert_eq!(db.store.family(comune, 99).await.expect("query"), None);
        assert_eq!(db.store.convivenza(comune, 99).await.expect("query"), None);
    }
}

#[tokio::test]
async fn family_members_come_head_first_then_partner_then_by_relationship_and_age() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let member =
            |id: &'static str, name: &'static str, born: &'static str, rel: &'static str| {
                person(&fields(&[
                    &[
                        ("id", id),
                        ("cognome", "FERRI"),
                        ("nome", name),
                        ("data_nascita", born),
                        ("famiglia_id", "1"),
                        ("relazione", rel),
                    ],
                    VIA_ROMA_1,
                ]))
            };
        // Written in a scrambled order on purpose.
        let file = people_csv(&[
            member("1", "LUCA", "2012-01-01", "3"),
            member("2", "PIETRO", "1940-01-01", "6"),
            member("3", "MARCO", "2008-01-01", "3"),
            member("4", "PAOLO", "1975-01-01", "1"),
            member("5", "CARLO", "1977-01-01", "28"),
        ]);
        db.store
            .import_people(comune, file.as_bytes(), &no_progress)
            .await
            .expect("valid file");
        let family = db
            .store
            .family(comune, 1)
            .await
            .expect("query")
            .expect("found");
        let order: Vec<&str> = family
            .members
            .iter()
            .map(|m| m.given_names.as_str())
            .collect();
        assert_eq!(
            order,
            vec!["PAOLO", "CARLO", "MARCO", "LUCA", "PIETRO"],
            "{}",
            db.label
        );
        assert_eq!(
            family.address.map(|a| a.street),
            Some("VIA ROMA".to_owned())
        );
    }
}

#[tokio::test]
async fn search_finds_names_and_fiscal_code_prefixes_whatever_the_case() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        db.store
            .import_people(comune, small_registry().as_bytes(), &no_progress)
            .await
            .expect("valid file");
        let names = |people: Vec<store::model::Person>| -> Vec<String> {
            people
                .into_iter()
                .map(|p| format!("{} {}", p.surname, p.given_names))
                .collect()
        };
        let search = |query: &'static str, limit| db.store.search_people(comune, query, limit);

        assert_eq!(
            names(search("rossi", 10).await.expect("query")),
            vec!["ROSSI LUCA", "ROSSI MARIO"],
            "{}",
            db.label
        );
        assert_eq!(
            names(search("  Mario   Rossi ", 10).await.expect("query")),
            vec!["ROSSI MARIO"]
        );
        assert_eq!(
            names(search("ssi mar", 10).await.expect("query")),
            vec!["ROSSI MARIO"]
        );
        assert_eq!(
            names(search("rssmra", 10).await.expect("query")),
            vec!["ROSSI MARIO"]
        );
        assert_eq!(search("rossi", 1).await.expect("query").len(), 1);
        assert!(search("%", 10).await.expect("query").is_empty());
        assert!(search("r_ssi", 10).await.expect("query").is_empty());
        assert!(search("   ", 10).await.expect("query").is_empty());

        let other = store::demo::comune();
        db.store.upsert_comune(&other).await.expect("comune");
        assert!(
            db.store
                .search_people(other.code, "rossi mario", 10)
                .await
                .expect("query")
                .is_empty(),
            "another comune's registry is separate"
        );
    }
}

#[tokio::test]
async fn a_new_import_replaces_the_comunes_registry_and_leaves_others_alone() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let other = store::demo::comune();
        db.store.upsert_comune(&other).await.expect("comune");
        for code in [comune, other.code] {
            db.store
                .import_people(code, small_registry().as_bytes(), &no_progress)
                .await
                .expect("valid file");
        }
        let replacement = people_csv(&[person(&fields(&[
            &[
                ("id", "1"),
                ("cognome", "NUOVO"),
                ("nome", "ABITANTE"),
                ("famiglia_id", "1"),
                ("relazione", "1"),
            ],
            VIA_ROMA_1,
        ]))]);
        db.store
            .import_people(comune, replacement.as_bytes(), &no_progress)
            .await
            .expect("valid file");

        let first = db
            .store
            .person(comune, 1)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(first.surname, "NUOVO", "{}", db.label);
        assert_eq!(db.store.person(comune, 2).await.expect("query"), None);
        assert!(
            db.store
                .unions_of(comune, 1)
                .await
                .expect("query")
                .is_empty()
        );
        assert_eq!(db.store.convivenza(comune, 5).await.expect("query"), None);
        assert!(
            db.store
                .person(other.code, 2)
                .await
                .expect("query")
                .is_some()
        );
    }
}

fn small_parcels() -> String {
    let paes = "PAES|Vincolo paesaggistico|D.Lgs. 42/2004 art. 142";
    parcels_csv(&[
        parcel(&[("foglio", "10"), ("particella", "5"), ("vincoli", paes)]),
        parcel(&[
            ("foglio", "10"),
            ("particella", "5"),
            ("piano", "adottato"),
            ("zona_codice", "F2"),
            ("zona_nome", "Verde pubblico"),
            ("zona_articoli_nta", "art. 31; art. 32"),
            ("zona_usi", "Parchi"),
            ("vincoli", paes),
        ]),
        parcel(&[
            ("foglio", "2"),
            ("particella", "120"),
            ("superficie_m2", "5000"),
            ("quota_percentuale", "62,5"),
            ("vincoli", "IDRO|Vincolo idrogeologico|R.D.L. 3267/1923"),
        ]),
        parcel(&[
            ("foglio", "2"),
            ("particella", "120"),
            ("superficie_m2", "5000"),
            ("zona_codice", "E1"),
            ("zona_nome", "Agricola"),
            ("zona_articoli_nta", "art. 25"),
            ("zona_usi", "Attività agricole"),
            ("quota_percentuale", "37.5"),
            ("vincoli", "IDRO|Vincolo idrogeologico|R.D.L. 3267/1923"),
        ]),
        parcel(&[("foglio", "2"), ("particella", "120"), ("subalterno", "3")]),
    ])
}

#[tokio::test]
async fn parcels_read_back_with_zones_under_both_plans_and_constraints() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        db.store
            .import_parcels(comune, small_parcels().as_bytes(), &no_progress)
            .await
            .expect("valid file");

        let parcel = db
            .store
            .parcel(comune, "10", "5", None)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(parcel.area_m2, 1000, "{}", db.label);
        assert_eq!(parcel.zones_in_force.len(), 1);
        assert_eq!(parcel.zones_in_force[0].zone.code, "B1");
        assert_eq!(parcel.zones_in_force[0].zone.plan, Plan::InForce);
        assert_eq!(parcel.zones_in_force[0].share_bp, 10_000);
        assert_eq!(parcel.zones_adopted[0].zone.code, "F2");
        assert_eq!(parcel.zones_adopted[0].zone.plan, Plan::Adopted);
        assert_eq!(
            parcel.zones_adopted[0].zone.nta_articles,
            vec!["art. 31", "art. 32"]
        );
        assert_eq!(parcel.constraints.len(), 1);
        assert_eq!(parcel.constraints[0].norm, "D.Lgs. 42/2004 art. 142");

        let split = db
            .store
            .parcel(comune, "2", "120", None)
            .await
            .expect("query")
            .expect("found");
        let shares: Vec<(&str, u32)> = split
            .zones_in_force
            .iter()
            .map(|s| (s.zone.code.as_str(), s.share_bp))
            .collect();
        assert_eq!(shares, vec![("B1", 6250), ("E1", 3750)]);
        assert!(split.zones_adopted.is_empty());
        assert_eq!(split.constraints[0].code, "IDRO");

        let sub = db
            .store
            .parcel(comune, "2", "120", Some("3"))
            .await
            .expect("query")
            .expect("found");
        assert_eq!(sub.subalterno.as_deref(), Some("3"));
        assert!(sub.constraints.is_empty());

        let all = db.store.list_parcels(comune).await.expect("query");
        let keys: Vec<(String, String, Option<String>)> = all
            .into_iter()
            .map(|p| (p.foglio, p.particella, p.subalterno))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("2".into(), "120".into(), None),
                ("2".into(), "120".into(), Some("3".into())),
                ("10".into(), "5".into(), None),
            ],
            "{}",
            db.label
        );
        assert_eq!(
            db.store
                .parcel(comune, "2", "121", None)
                .await
                .expect("query"),
            None
        );
    }
}

/// A single integer from a fresh connection to `url`.
async fn sqlx_count(url: &str, sql: &'static str) -> i64 {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(url).await.expect("connect");
    sqlx::query(sql)
        .fetch_one(&mut connection)
        .await
        .expect("query")
        .try_get("n")
        .expect("a count")
}

#[tokio::test]
async fn an_in_memory_sqlite_store_keeps_its_data_in_its_one_connection() {
    let store = Store::connect("sqlite::memory:")
        .await
        .expect("in-memory store");
    store::demo::load(&store).await.expect("demo loads");
    let found = store
        .search_people(store::demo::code(), "a", 5)
        .await
        .expect("query");
    assert_eq!(found.len(), 5);
}
