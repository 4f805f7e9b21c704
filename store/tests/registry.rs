//! The registry of issued certificates: gapless numbering (also with
//! concurrent issuers on PostgreSQL), failed preparations, status changes
//! and when a PDF may be handed out.

mod common;

use std::collections::BTreeSet;

use common::{TestDb, databases};
use seal::{CertificateKind, CertificateNumber, Clause, CodiceFiscale, ComuneCode, Kid};
use store::model::CertificateStatus;
use store::{CertificateFilter, NewCertificate, RegisterError, StatusChange, Store, StoreError};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-20 10:00:00 UTC);

/// A certificate as issuance would prepare it, its PDF naming its number.
fn prepared(number: CertificateNumber, status: CertificateStatus) -> NewCertificate {
    NewCertificate {
        kind: CertificateKind::Residenza,
        holder: CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid"),
        usage: seal::usage::parse_usage("bollo").expect("use"),
        clause: Clause::Standard,
        status,
        created_at: NOW,
        issued_at: (status == CertificateStatus::Issued).then_some(NOW),
        expires_at: Some(NOW + time::Duration::days(183)),
        seal: vec![0xd2, 0x84, 1, 2, 3],
        kid: Kid([9; 8]),
        pdf: format!("%PDF-1.7 certificato {number}").into_bytes(),
        issued_by: "test".into(),
        marca_id: None,
        origin: None,
    }
}

/// Registers a pending certificate in 2026.
async fn register(store: &Store, comune: ComuneCode) -> store::model::CertificateRecord {
    store
        .register_certificate(comune, 2026, |number, _| {
            Ok::<_, String>(prepared(number, CertificateStatus::Pending))
        })
        .await
        .expect("registered")
}

#[tokio::test]
async fn numbers_run_from_one_per_comune_and_year_without_gaps() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let other = store::demo::comune();
        db.store.upsert_comune(&other).await.expect("comune");

        let mut numbers = Vec::new();
        for _ in 0..5 {
            numbers.push(register(&db.store, comune).await);
        }
        let other_first = register(&db.store, other.code).await;
        let next_year = db
            .store
            .register_certificate(comune, 2027, |number, _| {
                Ok::<_, String>(prepared(number, CertificateStatus::Pending))
            })
            .await
            .expect("registered");

        let texts: Vec<String> = numbers.iter().map(|r| r.number.to_string()).collect();
        assert_eq!(
            texts,
            [
                "2026/000001",
                "2026/000002",
                "2026/000003",
                "2026/000004",
                "2026/000005"
            ],
            "{}",
            db.label
        );
        let indices: Vec<u32> = numbers.iter().map(|r| r.status_index).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
        assert_eq!(other_first.number.to_string(), "2026/000001");
        assert_eq!(other_first.status_index, 0);
        // A new year restarts the numbers; the status list goes on.
        assert_eq!(next_year.number.to_string(), "2027/000001");
        assert_eq!(next_year.status_index, 5);
    }
}

#[tokio::test]
async fn a_failed_preparation_writes_nothing_and_uses_no_number() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        register(&db.store, comune).await;

        let failed = db
            .store
            .register_certificate(comune, 2026, |_, _| {
                Err::<NewCertificate, _>("render failed")
            })
            .await;
        assert!(
            matches!(failed, Err(RegisterError::Prepare("render failed"))),
            "{}",
            db.label
        );
        let invalid = db
            .store
            .register_certificate(comune, 2026, |number, _| {
                Ok::<_, String>(prepared(number, CertificateStatus::Revoked))
            })
            .await;
        assert!(
            matches!(invalid, Err(RegisterError::Invalid(_))),
            "{}",
            db.label
        );

        let next = register(&db.store, comune).await;
        assert_eq!(next.number.to_string(), "2026/000002", "{}", db.label);
        assert_eq!(next.status_index, 1);
        let all = db
            .store
            .list_certificates(comune, &CertificateFilter::default())
            .await
            .expect("list");
        assert_eq!(all.len(), 2);
    }
}

#[tokio::test]
async fn an_unknown_comune_gets_no_number() {
    for db in databases().await {
        let unknown = ComuneCode::parse("999998").expect("valid code");
        let result = db
            .store
            .register_certificate(unknown, 2026, |number, _| {
                Ok::<_, String>(prepared(number, CertificateStatus::Pending))
            })
            .await;
        assert!(
            matches!(result, Err(RegisterError::Store(StoreError::UnknownComune(c))) if c == unknown),
            "{}",
            db.label
        );
    }
}

/// Runs `tasks` issuers at once, each registering `per_task` certificates;
/// every seventh preparation of each task fails. Returns the numbers and
/// status indices registered.
async fn issue_concurrently(
    db: &TestDb,
    comune: ComuneCode,
    tasks: usize,
    per_task: usize,
) -> (Vec<u32>, Vec<u32>) {
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = db.store.clone();
        handles.push(tokio::spawn(async move {
            let mut registered = Vec::new();
            for n in 0..per_task {
                let fail = (task + n) % 7 == 3;
                let result = store
                    .register_certificate(comune, 2026, move |number, _| {
                        if fail {
                            Err("preparation failed on purpose")
                        } else {
                            Ok(prepared(number, CertificateStatus::Issued))
                        }
                    })
                    .await;
                match result {
                    Ok(record) => registered.push((record.number.sequence(), record.status_index)),
                    Err(RegisterError::Prepare(_)) if fail => {}
                    Err(other) => panic!("registration failed: {other}"),
                }
            }
            registered
        }));
    }
    let mut sequences = Vec::new();
    let mut indices = Vec::new();
    for handle in handles {
        for (sequence, index) in handle.await.expect("task finished") {
            sequences.push(sequence);
            indices.push(index);
        }
    }
    sequences.sort_unstable();
    indices.sort_unstable();
    (sequences, indices)
}

fn failures(tasks: usize, per_task: usize) -> usize {
    (0..tasks)
        .flat_map(|task| (0..per_task).map(move |n| (task + n) % 7 == 3))
        .filter(|fail| *fail)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issuers_on_postgresql_get_gapless_unique_numbers() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let comune = common::with_comune(&db).await;
    let (tasks, per_task) = (8, 25);

    let (sequences, indices) = issue_concurrently(&db, comune, tasks, per_task).await;

    let expected = tasks * per_task - failures(tasks, per_task);
    assert!(failures(tasks, per_task) > 0, "some preparations fail");
    assert_eq!(sequences, (1..=expected as u32).collect::<Vec<_>>());
    assert_eq!(indices, (0..expected as u32).collect::<Vec<_>>());
    let stored = db
        .store
        .list_certificates(
            comune,
            &CertificateFilter {
                limit: 1000,
                ..CertificateFilter::default()
            },
        )
        .await
        .expect("list");
    let unique: BTreeSet<String> = stored.iter().map(|r| r.number.to_string()).collect();
    assert_eq!(unique.len(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issuers_on_sqlite_queue_for_the_write_lock_without_gaps() {
    let db = common::sqlite().await;
    let comune = common::with_comune(&db).await;

    let (sequences, indices) = issue_concurrently(&db, comune, 4, 10).await;

    let expected = 40 - failures(4, 10);
    assert_eq!(sequences, (1..=expected as u32).collect::<Vec<_>>());
    assert_eq!(indices, (0..expected as u32).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_pending_certificates_pdf_is_not_downloadable_until_issued() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let record = register(&db.store, comune).await;

        let pending = db.store.certificate_pdf(comune, &record.id).await;
        assert!(
            matches!(
                pending,
                Err(StoreError::PdfNotAvailable {
                    status: CertificateStatus::Pending
                })
            ),
            "{}: {pending:?}",
            db.label
        );

        let issued = db
            .store
            .set_certificate_status(comune, &record.id, StatusChange::Issue { at: NOW })
            .await
            .expect("issued");
        assert_eq!(issued.status, CertificateStatus::Issued);
        assert_eq!(issued.issued_at, Some(NOW));
        let pdf = db
            .store
            .certificate_pdf(comune, &record.id)
            .await
            .expect("downloadable once issued");
        assert_eq!(
            pdf,
            format!("%PDF-1.7 certificato {}", record.number).into_bytes()
        );
        use sha2::Digest as _;
        assert_eq!(
            issued.pdf_sha256.to_hex(),
            hex::encode(sha2::Sha256::digest(&pdf))
        );

        let unpaid = register(&db.store, comune).await;
        db.store
            .set_certificate_status(comune, &unpaid.id, StatusChange::Void)
            .await
            .expect("voided");
        assert!(matches!(
            db.store.certificate_pdf(comune, &unpaid.id).await,
            Err(StoreError::PdfNotAvailable {
                status: CertificateStatus::Void
            })
        ));
        assert!(matches!(
            db.store.certificate_pdf(comune, "no-such-id").await,
            Err(StoreError::CertificateNotFound)
        ));
    }
}

#[tokio::test]
async fn status_changes_follow_the_allowed_transitions() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let record = register(&db.store, comune).await;
        let revoke = |reason: &str| StatusChange::Revoke {
            reason: reason.into(),
            at: NOW + time::Duration::hours(1),
        };

        let early = db
            .store
            .set_certificate_status(comune, &record.id, revoke("errore"))
            .await;
        assert!(
            matches!(
                early,
                Err(StoreError::StatusTransition {
                    from: CertificateStatus::Pending,
                    to: CertificateStatus::Revoked
                })
            ),
            "{}",
            db.label
        );
        for _ in 0..2 {
            // Issuing twice is harmless (a duplicate payment receipt).
            db.store
                .set_certificate_status(comune, &record.id, StatusChange::Issue { at: NOW })
                .await
                .expect("issued");
        }
        let revoked = db
            .store
            .set_certificate_status(comune, &record.id, revoke("dati errati"))
            .await
            .expect("revoked");
        let again = db
            .store
            .set_certificate_status(comune, &record.id, revoke("altro"))
            .await
            .expect("revoking again changes nothing");
        assert_eq!(revoked, again);
        assert_eq!(revoked.status, CertificateStatus::Revoked);
        assert_eq!(revoked.revocation_reason.as_deref(), Some("dati errati"));
        assert_eq!(revoked.revoked_at, Some(NOW + time::Duration::hours(1)));
        assert_eq!(revoked.issued_at, Some(NOW));
        assert!(db.store.certificate_pdf(comune, &record.id).await.is_ok());
        assert!(matches!(
            db.store
                .set_certificate_status(comune, &record.id, StatusChange::Issue { at: NOW })
                .await,
            Err(StoreError::StatusTransition { .. })
        ));
        assert!(matches!(
            db.store
                .set_certificate_status(comune, "no-such-id", StatusChange::Void)
                .await,
            Err(StoreError::CertificateNotFound)
        ));
    }
}

#[tokio::test]
async fn certificates_are_found_by_id_and_number_and_listed_newest_first() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let first = register(&db.store, comune).await;
        let cdu = db
            .store
            .register_certificate(comune, 2026, |number, _| {
                let mut new = prepared(number, CertificateStatus::Issued);
                new.kind = CertificateKind::DestinazioneUrbanistica;
                new.clause = Clause::Estero;
                new.usage = seal::usage::parse_usage("esente:4").expect("use");
                new.created_at = NOW + time::Duration::minutes(5);
                new.expires_at = None;
                Ok::<_, String>(new)
            })
            .await
            .expect("registered");

        let by_id = db.store.certificate(comune, &cdu.id).await.expect("query");
        assert_eq!(by_id.as_ref(), Some(&cdu), "{}", db.label);
        let by_number = db
            .store
            .certificate_by_number(comune, first.number)
            .await
            .expect("query");
        assert_eq!(by_number, Some(first.clone()));
        assert_eq!(first.seal, vec![0xd2, 0x84, 1, 2, 3]);
        assert_eq!(first.kid, Kid([9; 8]));

        let all = db
            .store
            .list_certificates(comune, &CertificateFilter::default())
            .await
            .expect("list");
        assert_eq!(all, vec![cdu.clone(), first.clone()]);
        let pending = db
            .store
            .list_certificates(
                comune,
                &CertificateFilter {
                    status: Some(CertificateStatus::Pending),
                    ..CertificateFilter::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(pending, vec![first.clone()]);
        let cdus = db
            .store
            .list_certificates(
                comune,
                &CertificateFilter {
                    kind: Some(CertificateKind::DestinazioneUrbanistica),
                    holder: Some(first.holder.clone()),
                    ..CertificateFilter::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(cdus, vec![cdu]);
        let one = db
            .store
            .list_certificates(
                comune,
                &CertificateFilter {
                    limit: 1,
                    ..CertificateFilter::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(one.len(), 1);
        assert_eq!(
            db.store.certificate(comune, "none").await.expect("query"),
            None
        );
    }
}

#[tokio::test]
async fn open_data_counts_released_certificates_only() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        for status in [
            CertificateStatus::Issued,
            CertificateStatus::Issued,
            CertificateStatus::Pending,
        ] {
            store
                .register_certificate(comune, 2026, |number, _| {
                    Ok::<_, String>(prepared(number, status))
                })
                .await
                .expect("registered");
        }
        // One of the issued ones is revoked later: it was released, so it
        // counts.
        let first = store
            .certificate_by_number(comune, CertificateNumber::new(2026, 1).expect("number"))
            .await
            .expect("read")
            .expect("exists");
        store
            .set_certificate_status(
                comune,
                &first.id,
                StatusChange::Revoke {
                    at: NOW,
                    reason: "prova".into(),
                },
            )
            .await
            .expect("revoked");
        let released = store.released_certificates(comune).await.expect("read");
        assert_eq!(released.len(), 2, "{}", db.label);
        assert!(
            released
                .iter()
                .all(|r| r.in_bollo && r.kind == CertificateKind::Residenza && r.issued_at == NOW),
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn a_paper_marca_pays_one_certificate_even_when_two_counters_race() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let other = store::demo::comune();
        db.store.upsert_comune(&other).await.expect("comune");
        let with_marca = |id: &'static str| {
            move |number, _| {
                Ok::<_, String>(NewCertificate {
                    marca_id: Some(id.to_owned()),
                    ..prepared(number, CertificateStatus::Issued)
                })
            }
        };
        // Eight counters present the same stamp at once.
        let mut handles = Vec::new();
        for _ in 0..8 {
            let store = db.store.clone();
            handles.push(tokio::spawn(async move {
                store
                    .register_certificate(comune, 2026, with_marca("01234567890123"))
                    .await
            }));
        }
        let mut issued = Vec::new();
        let mut refused = 0;
        for handle in handles {
            match handle.await.expect("task") {
                Ok(record) => issued.push(record),
                Err(RegisterError::Store(StoreError::MarcaUsed(id))) => {
                    assert_eq!(id, "01234567890123", "{}", db.label);
                    refused += 1;
                }
                Err(other) => panic!("{}: {other}", db.label),
            }
        }
        assert_eq!((issued.len(), refused), (1, 7), "{}", db.label);
        // The refused ones took no number: the next is the second.
        let next = db
            .store
            .register_certificate(comune, 2026, with_marca("01234567890124"))
            .await
            .expect("another stamp");
        assert_eq!(next.number.sequence(), 2, "{}", db.label);
        // The same identifier in another comune is that comune's stamp.
        db.store
            .register_certificate(other.code, 2026, with_marca("01234567890123"))
            .await
            .expect("another comune");
        // The registration is audited, with the stamp named, not its digits.
        let entries = db
            .store
            .audit_entries(comune, Some(&issued[0].id), 10)
            .await
            .expect("audit");
        assert_eq!(entries.len(), 1, "{}", db.label);
        assert_eq!(entries[0].event, "certificate.issued", "{}", db.label);
        assert!(entries[0].detail.contains("bollo=marca"), "{}", db.label);
        assert!(
            !entries[0].detail.contains("01234567890123"),
            "{}",
            db.label
        );
    }
}
