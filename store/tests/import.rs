//! The importers refuse bad files whole: every error is reported with its
//! line and column, and nothing is written.

mod common;

use std::sync::Mutex;

use common::{
    TestDb, VIA_ROMA_1, databases, fields, no_progress, parcel, parcels_csv, people_csv, person,
};
use seal::ComuneCode;
use store::{ImportError, ImportPhase, ImportProgress, RowError};

/// A valid one-family file: Mario Rossi, head of family 1.
fn mario() -> Vec<(String, String)> {
    person(&fields(&[
        &[
            ("id", "1"),
            ("cognome", "ROSSI"),
            ("nome", "MARIO"),
            ("famiglia_id", "1"),
            ("relazione", "1"),
        ],
        VIA_ROMA_1,
    ]))
}

/// A second member of Mario's family, with changes.
fn anna(changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let base: &[(&str, &str)] = &[
        ("id", "2"),
        ("cognome", "BIANCHI"),
        ("nome", "ANNA"),
        ("sesso", "F"),
        ("data_nascita", "1982-11-02"),
        ("famiglia_id", "1"),
        ("relazione", "2"),
    ];
    let mut all = fields(&[base, VIA_ROMA_1]);
    all.extend_from_slice(changes);
    person(&all)
}

/// Imports `file` and returns the row errors it was refused with.
async fn refused(db: &TestDb, comune: ComuneCode, file: &str) -> Vec<RowError> {
    match db
        .store
        .import_people(comune, file.as_bytes(), &no_progress)
        .await
    {
        Err(ImportError::Rejected { errors, total }) => {
            assert_eq!(errors.len(), total);
            errors
        }
        other => panic!("{}: expected a rejected file, got {other:?}", db.label),
    }
}

/// Asserts that nothing of a refused file reached the registry.
async fn nothing_written(db: &TestDb, comune: ComuneCode) {
    assert!(
        db.store
            .search_people(comune, "a", 100)
            .await
            .expect("query")
            .is_empty(),
        "{}: a refused file wrote rows",
        db.label
    );
}

fn columns(errors: &[RowError]) -> Vec<(u64, Option<&str>)> {
    errors
        .iter()
        .map(|error| (error.line, error.column.as_deref()))
        .collect()
}

#[tokio::test]
async fn a_wrong_check_character_is_reported_and_nothing_is_written() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let good = anna(&[]);
        let code = good
            .iter()
            .find(|(k, _)| k == "codice_fiscale")
            .map(|(_, v)| v.clone())
            .expect("a code");
        let wrong = format!(
            "{}{}",
            &code[..15],
            if code.ends_with('A') { 'B' } else { 'A' }
        );
        let file = people_csv(&[mario(), anna(&[("codice_fiscale", &wrong)])]);

        let errors = refused(&db, comune, &file).await;

        assert_eq!(
            columns(&errors),
            vec![(3, Some("codice_fiscale"))],
            "{}",
            db.label
        );
        assert!(
            errors[0].reason.contains("carattere di controllo"),
            "{}",
            errors[0]
        );
        nothing_written(&db, comune).await;
    }
}

#[tokio::test]
async fn a_codice_fiscale_that_does_not_match_the_data_names_the_part() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        // Mario's own (valid) code on other people's rows.
        let code = mario()
            .iter()
            .find(|(k, _)| k == "codice_fiscale")
            .map(|(_, v)| v.clone())
            .expect("a code");
        let mut marco = mario();
        marco.retain(|(k, _)| k != "id" && k != "nome");
        marco.push(("id".into(), "3".into()));
        marco.push(("nome".into(), "MARCO".into()));
        let file = people_csv(&[anna(&[("codice_fiscale", &code)]), marco]);

        let errors = refused(&db, comune, &file).await;

        let lines: Vec<(u64, Option<&str>, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref(), e.reason.as_str()))
            .collect();
        assert_eq!(lines.len(), 2, "{}: {lines:?}", db.label);
        assert_eq!((lines[0].0, lines[0].1), (2, Some("codice_fiscale")));
        assert!(lines[0].2.contains("lettere del cognome"), "{lines:?}");
        assert_eq!((lines[1].0, lines[1].1), (3, Some("codice_fiscale")));
        assert!(lines[1].2.contains("lettere del nome"), "{lines:?}");
        nothing_written(&db, comune).await;
    }
}

#[tokio::test]
async fn a_codice_fiscale_used_twice_is_reported() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let mut twin = mario();
        twin.retain(|(k, _)| k != "id" && k != "famiglia_id");
        twin.push(("id".into(), "2".into()));
        twin.push(("famiglia_id".into(), "2".into()));
        let file = people_csv(&[mario(), twin]);

        let errors = refused(&db, comune, &file).await;

        assert_eq!(
            columns(&errors),
            vec![(3, Some("codice_fiscale"))],
            "{}",
            db.label
        );
        assert!(
            errors[0].reason.contains("già usato alla riga 2"),
            "{}",
            errors[0]
        );
    }
}

#[tokio::test]
async fn an_unknown_relationship_code_is_reported() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let file = people_csv(&[mario(), anna(&[("relazione", "27")])]);

        let errors = refused(&db, comune, &file).await;

        assert_eq!(
            columns(&errors),
            vec![(3, Some("relazione"))],
            "{}",
            db.label
        );
        assert!(errors[0].reason.contains("27"), "{}", errors[0]);
        nothing_written(&db, comune).await;
    }
}

#[tokio::test]
async fn bad_dates_are_reported() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let mut bad = anna(&[]);
        bad.retain(|(k, _)| k != "data_nascita");
        bad.push(("data_nascita".into(), "1982-02-30".into()));
        let file = people_csv(&[
            mario(),
            bad,
            person(&[
                ("id", "3"),
                ("cognome", "VERDI"),
                ("nome", "LUCA"),
                ("data_decesso", "2999-01-01"),
                ("unione_tipo", "matrimonio"),
                ("unione_partner", "X"),
                ("unione_data", "14/02/2010"),
                ("unione_luogo", "ROMA"),
            ]),
        ]);

        let errors = refused(&db, comune, &file).await;

        assert_eq!(
            columns(&errors),
            vec![
                (3, Some("data_nascita")),
                (4, Some("data_decesso")),
                (4, Some("unione_data")),
            ],
            "{}: {errors:?}",
            db.label
        );
        assert!(errors[0].reason.contains("AAAA-MM-GG"));
        assert!(errors[1].reason.contains("futuro"));
        nothing_written(&db, comune).await;
    }
}

#[tokio::test]
async fn family_rules_are_checked_across_rows() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let file = people_csv(&[
            mario(),
            // A second head, at another address.
            anna(&[("relazione", "1"), ("indirizzo_civico", "2")]),
            // A convivenza code in a family.
            person(&fields(&[
                &[
                    ("id", "3"),
                    ("cognome", "VERDI"),
                    ("nome", "LUCA"),
                    ("famiglia_id", "1"),
                    ("relazione", "25"),
                ],
                VIA_ROMA_1,
            ])),
        ]);

        let errors = refused(&db, comune, &file).await;

        assert_eq!(
            columns(&errors),
            vec![
                (3, Some("relazione")),
                (3, Some("indirizzo_via")),
                (4, Some("relazione")),
            ],
            "{}: {errors:?}",
            db.label
        );
        nothing_written(&db, comune).await;
    }
}

#[tokio::test]
async fn a_bad_file_leaves_the_previous_import_in_place() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let good = people_csv(&[mario(), anna(&[])]);
        db.store
            .import_people(comune, good.as_bytes(), &no_progress)
            .await
            .expect("valid file");
        let bad = people_csv(&[mario(), anna(&[("sesso", "X")])]);

        let errors = refused(&db, comune, &bad).await;

        assert_eq!(columns(&errors), vec![(3, Some("sesso"))]);
        let family = db
            .store
            .family(comune, 1)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(family.members.len(), 2, "{}", db.label);
    }
}

#[tokio::test]
async fn header_problems_are_reported_on_line_one() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let file = people_csv(&[mario()])
            .replacen("cognome,", "cognom,", 1)
            .replacen("nome,", "nome,nome,", 1);

        let errors = refused(&db, comune, &file).await;

        let reasons: Vec<(u64, Option<&str>, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref(), e.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (1, Some("cognom"), "colonna sconosciuta"),
                (1, Some("nome"), "colonna ripetuta nell'intestazione"),
                (1, Some("cognome"), "colonna mancante nell'intestazione"),
            ],
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn a_row_with_the_wrong_number_of_fields_is_reported_and_others_still_checked() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let mut file = people_csv(&[mario()]);
        file.push_str("2,TOO,FEW\n");
        file.push_str(
            people_csv(&[anna(&[("sesso", "?")])])
                .lines()
                .nth(1)
                .unwrap_or_default(),
        );
        file.push('\n');

        let errors = refused(&db, comune, &file).await;

        assert_eq!(
            columns(&errors),
            vec![(3, None), (4, Some("sesso"))],
            "{}",
            db.label
        );
        assert!(
            errors[0].reason.contains("3 campi invece di 34"),
            "{}",
            errors[0]
        );
    }
}

#[tokio::test]
async fn a_file_without_data_rows_is_refused_rather_than_emptying_the_registry() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        db.store
            .import_people(comune, people_csv(&[mario()]).as_bytes(), &no_progress)
            .await
            .expect("valid file");

        let errors = refused(&db, comune, &people_csv(&[])).await;

        assert_eq!(columns(&errors), vec![(2, None)], "{}", db.label);
        assert!(db.store.person(comune, 1).await.expect("query").is_some());
        let parcels = db
            .store
            .import_parcels(comune, parcels_csv(&[]).as_bytes(), &no_progress)
            .await;
        assert!(matches!(parcels, Err(ImportError::Rejected { .. })));
    }
}

#[tokio::test]
async fn an_omocodia_variant_of_the_right_code_is_accepted() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let code = mario()
            .iter()
            .find(|(k, _)| k == "codice_fiscale")
            .map(|(_, v)| v.clone())
            .expect("a code");
        let base = seal::CodiceFiscale::parse(&code).expect("valid");
        let variant = store::cf::omocodia_variant(&base, 2).expect("variant");
        let mut row = mario();
        row.retain(|(k, _)| k != "codice_fiscale");
        row.push(("codice_fiscale".into(), variant.to_string()));

        db.store
            .import_people(comune, people_csv(&[row]).as_bytes(), &no_progress)
            .await
            .expect("an omocodia variant is a valid code");

        let found = db
            .store
            .person_by_fiscal_code(comune, &variant)
            .await
            .expect("query");
        assert_eq!(found.map(|p| p.id), Some(1), "{}", db.label);
    }
}

#[tokio::test]
async fn an_unknown_comune_is_refused_before_reading() {
    for db in databases().await {
        let unknown = ComuneCode::parse("999998").expect("valid code");
        let result = db
            .store
            .import_people(unknown, people_csv(&[mario()]).as_bytes(), &no_progress)
            .await;
        assert!(
            matches!(result, Err(ImportError::UnknownComune(code)) if code == unknown),
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn progress_is_reported_while_checking_and_while_writing() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let seen: Mutex<Vec<ImportProgress>> = Mutex::new(Vec::new());
        let record = |progress: ImportProgress| {
            if let Ok(mut seen) = seen.lock() {
                seen.push(progress);
            }
        };
        db.store
            .import_people(
                comune,
                people_csv(&[mario(), anna(&[])]).as_bytes(),
                &record,
            )
            .await
            .expect("valid file");
        let seen = seen.into_inner().expect("not poisoned");
        let last_check = seen
            .iter()
            .rfind(|p| p.phase == ImportPhase::Checking)
            .expect("checking reported");
        assert_eq!(last_check.done, 2, "{}", db.label);
        let last = seen.last().expect("progress reported");
        assert_eq!(
            (last.phase, last.done, last.total),
            (ImportPhase::Writing, 2, Some(2))
        );
    }
}

async fn parcels_refused(db: &TestDb, comune: ComuneCode, file: &str) -> Vec<RowError> {
    match db
        .store
        .import_parcels(comune, file.as_bytes(), &no_progress)
        .await
    {
        Err(ImportError::Rejected { errors, .. }) => errors,
        other => panic!("{}: expected a rejected file, got {other:?}", db.label),
    }
}

#[tokio::test]
async fn zone_shares_must_add_to_100_percent_under_each_plan() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let file = parcels_csv(&[
            parcel(&[
                ("foglio", "1"),
                ("particella", "1"),
                ("quota_percentuale", "60"),
            ]),
            parcel(&[
                ("foglio", "1"),
                ("particella", "1"),
                ("zona_codice", "E1"),
                ("zona_nome", "Agricola"),
                ("quota_percentuale", "35,5"),
            ]),
            parcel(&[("foglio", "1"), ("particella", "2")]),
            parcel(&[
                ("foglio", "1"),
                ("particella", "2"),
                ("piano", "adottato"),
                ("quota_percentuale", "100,01"),
            ]),
        ]);

        let errors = parcels_refused(&db, comune, &file).await;

        let found: Vec<(u64, Option<&str>, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref(), e.reason.as_str()))
            .collect();
        assert_eq!(found.len(), 2, "{}: {found:?}", db.label);
        assert_eq!(found[0].0, 2);
        assert!(
            found[0].2.contains("sommano a 95,50%"),
            "{}: {found:?}",
            db.label
        );
        assert_eq!((found[1].0, found[1].1), (5, Some("quota_percentuale")));
        assert!(
            db.store
                .list_parcels(comune)
                .await
                .expect("query")
                .is_empty(),
            "{}: nothing written",
            db.label
        );
    }
}

#[tokio::test]
async fn parcel_rows_must_agree_with_each_other() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let file = parcels_csv(&[
            parcel(&[
                ("foglio", "1"),
                ("particella", "1"),
                ("quota_percentuale", "50"),
            ]),
            // Same parcel, another area; the same zone twice.
            parcel(&[
                ("foglio", "1"),
                ("particella", "1"),
                ("superficie_m2", "999"),
                ("quota_percentuale", "50"),
            ]),
            // A parcel zoned only under the adopted plan.
            parcel(&[
                ("foglio", "1"),
                ("particella", "2"),
                ("piano", "adottato"),
                ("zona_nome", "Altro nome"),
            ]),
            parcel(&[
                ("foglio", "1"),
                ("particella", "3"),
                ("vincoli", "PAES|solo due"),
            ]),
            // Zone B1 of the plan in force described differently.
            parcel(&[
                ("foglio", "1"),
                ("particella", "4"),
                ("zona_nome", "Altro nome"),
            ]),
        ]);

        let errors = parcels_refused(&db, comune, &file).await;

        assert_eq!(
            columns(&errors),
            vec![
                (3, Some("superficie_m2")),
                (3, Some("zona_codice")),
                (4, Some("piano")),
                (5, Some("vincoli")),
                (6, Some("zona_codice")),
            ],
            "{}: {errors:?}",
            db.label
        );
    }
}
