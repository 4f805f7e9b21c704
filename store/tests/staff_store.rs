//! The comune's staff in the store, on SQLite and, when configured,
//! PostgreSQL: members and their roles per comune, credentials, failed
//! logins counted (all of them, also at once) up to the lock, a TOTP step
//! accepted once.

mod common;

use common::{databases, test_comune};
use seal::{CodiceFiscale, ComuneCode};
use store::model::ComuneRecord;
use store::{FailedLogin, NewStaff};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);
const LOCKOUT: Duration = Duration::minutes(15);

fn anna() -> CodiceFiscale {
    CodiceFiscale::parse("BNCNNA90A41H501T").expect("valid")
}

#[tokio::test]
async fn members_have_roles_per_comune_and_credentials_of_their_own() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let other = ComuneRecord {
            code: ComuneCode::parse("999003").expect("code"),
            name: "Altra".into(),
            ..test_comune()
        };
        db.store.upsert_comune(&other).await.expect("comune");
        let store = &db.store;
        let person = anna();
        let added = store
            .upsert_staff(&NewStaff {
                comune,
                fiscal_code: &person,
                display_name: "Anna Bianchi",
                roles: &["operatore_anagrafe"],
                now: NOW,
            })
            .await
            .expect("added");
        assert_eq!(added.roles, ["operatore_anagrafe"], "{}", db.label);
        assert_eq!(added.password_hash, None);
        // Again: the roles change, the member stays one.
        let updated = store
            .upsert_staff(&NewStaff {
                roles: &["operatore_anagrafe", "responsabile"],
                ..NewStaff {
                    comune,
                    fiscal_code: &person,
                    display_name: "Anna Bianchi",
                    roles: &[],
                    now: NOW,
                }
            })
            .await
            .expect("updated");
        assert_eq!(updated.roles, ["operatore_anagrafe", "responsabile"]);
        assert_eq!(updated.created_at, NOW);
        store
            .upsert_staff(&NewStaff {
                comune: other.code,
                fiscal_code: &person,
                display_name: "Anna Bianchi",
                roles: &["amministratore"],
                now: NOW,
            })
            .await
            .expect("added elsewhere");
        let everywhere = store.staff_of_person(&person).await.expect("read");
        assert_eq!(everywhere.len(), 2, "{}", db.label);
        assert_eq!(store.list_staff(comune).await.expect("list").len(), 1);

        assert!(
            store
                .set_staff_credentials(comune, &person, Some("$argon2id$…"), Some("SECRET"))
                .await
                .expect("set")
        );
        let found = store
            .staff(comune, &person)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.password_hash.as_deref(), Some("$argon2id$…"));
        assert_eq!(found.totp_secret.as_deref(), Some("SECRET"));
        let elsewhere = store
            .staff(other.code, &person)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(elsewhere.password_hash, None, "credentials are per comune");
        assert!(
            !format!("{found:?}").contains("argon2"),
            "no secret in Debug"
        );
        assert!(
            store
                .set_staff_disabled(comune, &person, Some(NOW))
                .await
                .expect("disabled")
        );
        assert_eq!(
            store
                .staff(comune, &person)
                .await
                .expect("read")
                .expect("found")
                .disabled_at,
            Some(NOW)
        );
    }
}

#[tokio::test]
async fn failures_lock_the_account_and_a_totp_step_is_used_once() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let person = anna();
        store
            .upsert_staff(&NewStaff {
                comune,
                fiscal_code: &person,
                display_name: "Anna Bianchi",
                roles: &["responsabile"],
                now: NOW,
            })
            .await
            .expect("added");
        for expected in 1..5 {
            assert_eq!(
                store
                    .record_staff_failure(comune, &person, NOW, 5, LOCKOUT)
                    .await
                    .expect("counted"),
                FailedLogin::Counted(expected),
                "{}",
                db.label
            );
        }
        assert_eq!(
            store
                .record_staff_failure(comune, &person, NOW, 5, LOCKOUT)
                .await
                .expect("counted"),
            FailedLogin::Locked(NOW + LOCKOUT),
            "{}",
            db.label
        );
        // A success forgets the failures and the lock, and records the step.
        assert!(
            store
                .record_staff_success(comune, &person, Some(100))
                .await
                .expect("recorded")
        );
        let found = store
            .staff(comune, &person)
            .await
            .expect("read")
            .expect("found");
        assert_eq!((found.failed_logins, found.locked_until), (0, None));
        assert_eq!(found.totp_last_step, Some(100));
        // The same step, or an earlier one, again: refused, nothing changed.
        for step in [100, 99] {
            assert!(
                !store
                    .record_staff_success(comune, &person, Some(step))
                    .await
                    .expect("checked"),
                "{}: step {step} reused",
                db.label
            );
        }
        assert!(
            store
                .record_staff_success(comune, &person, Some(101))
                .await
                .expect("recorded")
        );

        // Twenty failures at once: every one counted.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                let person = person.clone();
                tokio::spawn(async move {
                    store
                        .record_staff_failure(comune, &person, NOW, 5, LOCKOUT)
                        .await
                        .expect("counted")
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("joined");
        }
        let found = store
            .staff(comune, &person)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.failed_logins, 20, "{}", db.label);
        assert_eq!(found.locked_until, Some(NOW + LOCKOUT));
        // An unknown member: nothing to count.
        let nobody = CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid");
        assert_eq!(
            store
                .record_staff_failure(comune, &nobody, NOW, 5, LOCKOUT)
                .await
                .expect("checked"),
            FailedLogin::Counted(0)
        );
    }
}
