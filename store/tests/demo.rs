//! The demo comune loads through the importers and has every shape of
//! registry and parcel the issuance controls must handle.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::databases;
use seal::CodiceFiscale;
use store::anpr;
use store::model::{Certifiability, Person, Registration};

/// Every person of the demo, read back from the store by the fiscal codes
/// in the demo file.
async fn demo_people(db: &common::TestDb) -> Vec<Person> {
    let comune = store::demo::code();
    let mut reader = csv::Reader::from_reader(store::demo::PEOPLE_CSV.as_bytes());
    let mut people = Vec::new();
    for record in reader.records() {
        let record = record.expect("a demo row");
        let code = CodiceFiscale::parse(&record[1]).expect("a demo fiscal code");
        let person = db
            .store
            .person_by_fiscal_code(comune, &code)
            .await
            .expect("query")
            .expect("every demo person is stored");
        people.push(person);
    }
    people
}

#[tokio::test]
async fn the_demo_loads_through_the_importers_with_every_shape() {
    for db in databases().await {
        let summary = store::demo::load(&db.store).await.expect("demo loads");
        let comune = store::demo::code();
        let record = db
            .store
            .comune(comune)
            .await
            .expect("query")
            .expect("demo comune");
        assert!(record.demo, "the demo comune is marked as a demo");
        assert_eq!(
            (record.belfiore.as_str(), record.province.as_str()),
            ("M999", "XX")
        );

        let people = demo_people(&db).await;
        assert!(people.len() >= 200, "{}: {} people", db.label, people.len());
        assert_eq!(summary.people.rows as usize, people.len());
        let count = |test: &dyn Fn(&Person) -> bool| people.iter().filter(|p| test(p)).count();

        let mut families: BTreeMap<i64, Vec<&Person>> = BTreeMap::new();
        for person in &people {
            if let Some(family) = person.family_id {
                families.entry(family).or_default().push(person);
            }
        }
        let has =
            |members: &[&Person], code: u16| members.iter().any(|m| m.relationship == Some(code));
        let shapes = |test: &dyn Fn(&[&Person]) -> bool| {
            families.values().filter(|members| test(members)).count()
        };
        assert!(shapes(&|m| m.len() == 1) >= 20, "singles");
        assert!(
            shapes(&|m| has(m, anpr::SPOUSE) && !has(m, anpr::CHILD)) >= 10,
            "couples"
        );
        assert!(
            shapes(&|m| has(m, anpr::SPOUSE) && has(m, anpr::CHILD)) >= 20,
            "with children"
        );
        assert!(
            shapes(&|m| has(m, anpr::CIVIL_PARTNER)) >= 3,
            "civil unions"
        );
        assert!(shapes(&|m| has(m, anpr::COHABITANT)) >= 3, "cohabitants");
        assert!(
            shapes(&|m| has(m, 6) || has(m, 9)) >= 1,
            "extended families"
        );
        assert_eq!(
            shapes(&|m| !has(m, anpr::HEAD_OF_FAMILY)),
            1,
            "one family without head"
        );
        let abroad = shapes(&|m| {
            m.iter()
                .all(|p| matches!(p.registration, Registration::Aire(_)))
        });
        assert!(abroad >= 4, "families abroad");

        let convivenze: BTreeSet<i64> = people.iter().filter_map(|p| p.convivenza_id).collect();
        assert_eq!(convivenze.len(), 2, "a care home and a convent");
        for id in convivenze {
            let convivenza = db
                .store
                .convivenza(comune, id)
                .await
                .expect("query")
                .expect("found");
            let members = db
                .store
                .convivenza_members(comune, id)
                .await
                .expect("query");
            assert_eq!(convivenza.head_id, Some(members[0].id));
            assert!(members.len() >= 5);
        }

        assert_eq!(count(&|p| p.death_date.is_some()), 1, "one deceased");
        assert_eq!(
            count(
                &|p| matches!(&p.registration, Registration::Cancelled { reason, .. } if reason != "DECESSO")
            ),
            1,
            "one cancelled"
        );
        assert_eq!(
            count(&|p| p.certifiability == Certifiability::NotCertifiable),
            1
        );
        assert_eq!(
            count(&|p| p.certifiability == Certifiability::Interdicted),
            1
        );
        let mut with_procedure = 0;
        for person in &people {
            if !db
                .store
                .open_procedures_of(comune, person.id)
                .await
                .expect("query")
                .is_empty()
            {
                with_procedure += 1;
            }
        }
        assert_eq!(with_procedure, 1, "one open procedure");
        assert!(
            people
                .iter()
                .any(|p| p.birth_place.starts_with("BORGO SIGILLO")),
            "some were born in the demo comune"
        );
        assert!(
            people
                .iter()
                .any(|p| p.fiscal_code.as_str().as_bytes()[11] == b'Z'),
            "some were born abroad"
        );
        assert!(
            people
                .iter()
                .any(|p| store::cf::base_form(&p.fiscal_code) != p.fiscal_code.as_str()[..15]),
            "someone has an omocodia variant of a code"
        );

        let parcels = db.store.list_parcels(comune).await.expect("query");
        assert_eq!(parcels.len(), 50, "{}", db.label);
        assert_eq!(
            summary.parcels.rows as usize,
            parcels
                .iter()
                .map(|p| p.zones_in_force.len() + p.zones_adopted.len())
                .sum::<usize>()
        );
        assert!(
            parcels
                .iter()
                .filter(|p| p.zones_in_force.len() > 1)
                .count()
                >= 5,
            "split parcels"
        );
        assert!(parcels.iter().any(|p| p.zones_in_force.len() == 3));
        assert!(parcels.iter().filter(|p| !p.constraints.is_empty()).count() >= 10);
        let differing = parcels
            .iter()
            .filter(|p| {
                let codes = |shares: &[store::model::ZoneShare]| -> Vec<(String, u32)> {
                    shares
                        .iter()
                        .map(|s| (s.zone.code.clone(), s.share_bp))
                        .collect()
                };
                codes(&p.zones_in_force) != codes(&p.zones_adopted)
            })
            .count();
        assert!(differing >= 5, "the adopted plan differs for some parcels");
        let zone_letters: BTreeSet<char> = parcels
            .iter()
            .flat_map(|p| p.zones_in_force.iter())
            .filter_map(|s| s.zone.code.chars().next())
            .collect();
        assert_eq!(zone_letters, BTreeSet::from(['A', 'B', 'C', 'D', 'E', 'F']));
    }
}

#[tokio::test]
async fn loading_the_demo_again_gives_the_same_data() {
    let db = common::sqlite().await;
    let first = store::demo::load(&db.store).await.expect("demo loads");
    let before = demo_people(&db).await;
    let second = store::demo::load(&db.store)
        .await
        .expect("demo loads again");
    assert_eq!(first, second);
    assert_eq!(before, demo_people(&db).await);
}
