//! Requests, API keys and the audit log in the store, on SQLite and, when
//! configured, PostgreSQL: every transition is a compare-and-set, a request
//! and its certificate change together, and the audit chain holds.

mod common;

use common::databases;
use seal::{CertificateKind, CertificateNumber, Clause, CodiceFiscale, Kid};
use store::model::{CertificateStatus, Channel, PaymentMode, RequestState};
use store::{
    ApiKeyRole, NewCertificate, NewRequest, PaymentOpened, RegisterError, RequestTransition,
};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-02 10:00 UTC);

fn holder() -> CodiceFiscale {
    CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid")
}

fn new_request(comune: seal::ComuneCode) -> NewRequest {
    NewRequest {
        comune,
        kind: CertificateKind::Residenza,
        parts: vec![],
        holder: holder(),
        requester: holder(),
        email: Some("mario@example.org".into()),
        usage: seal::usage::parse_usage("bollo").expect("use"),
        channel: Channel::Online,
        created_by: "k1".into(),
        form_key: None,
        now: NOW,
    }
}

fn pending(number: CertificateNumber) -> NewCertificate {
    NewCertificate {
        kind: CertificateKind::Residenza,
        holder: holder(),
        usage: seal::usage::parse_usage("bollo").expect("use"),
        clause: Clause::Standard,
        status: CertificateStatus::Pending,
        created_at: NOW,
        issued_at: None,
        expires_at: None,
        seal: vec![0xd2, 0x84, 1, 2, 3],
        kid: Kid([9; 8]),
        pdf: format!("%PDF-1.7 {number}").into_bytes(),
        issued_by: "k1".into(),
        marca_id: None,
        origin: None,
    }
}

fn opened() -> PaymentOpened {
    PaymentOpened {
        mode: PaymentMode::Virtuale,
        amount_cents: 1652,
        iupd: Some("SIGILLO-1".into()),
        notice_number: seal::notice::NoticeNumber::parse("301000000000000144").expect("notice"),
        checkout_url: "http://127.0.0.1/checkout/301000000000000144".into(),
        pay_by: NOW + time::Duration::days(2),
    }
}

#[tokio::test]
async fn a_request_moves_through_its_states_once_each_with_its_certificate() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let request = store
            .insert_request(&new_request(comune))
            .await
            .expect("insert");
        assert_eq!(request.state, RequestState::Requested, "{}", db.label);
        assert_eq!(request.email.as_deref(), Some("mario@example.org"));

        let certificate = store
            .register_certificate_for_request(comune, 2026, &request.id, |number, _| {
                Ok::<_, String>(pending(number))
            })
            .await
            .expect("prepared");
        // A second preparation (another node, a retry) loses and writes nothing.
        let again = store
            .register_certificate_for_request(comune, 2026, &request.id, |number, _| {
                Ok::<_, String>(pending(number))
            })
            .await;
        assert!(
            matches!(again, Err(RegisterError::Invalid(_))),
            "{}",
            db.label
        );
        let prepared = store
            .request(comune, &request.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(prepared.state, RequestState::Prepared);
        assert_eq!(
            prepared.certificate_id.as_deref(),
            Some(certificate.id.as_str())
        );

        assert!(
            store
                .record_payment_opened(comune, &request.id, &opened(), NOW)
                .await
                .expect("open")
        );
        assert!(
            !store
                .record_payment_opened(comune, &request.id, &opened(), NOW)
                .await
                .expect("again")
        );
        let by_notice = store
            .request_by_notice(
                &seal::notice::NoticeNumber::parse("301000000000000144").expect("notice"),
            )
            .await
            .expect("read")
            .expect("found");
        assert_eq!(by_notice.id, request.id);

        let paid = RequestTransition::Paid {
            receipt_id: "R-1".into(),
            iubd: None,
            paid_at: NOW,
            resealed: None,
        };
        assert!(
            store
                .finish_request(comune, &request.id, &paid, "pagopa", NOW)
                .await
                .expect("paid")
        );
        assert!(
            !store
                .finish_request(comune, &request.id, &paid, "pagopa", NOW)
                .await
                .expect("dup")
        );
        assert!(
            !store
                .finish_request(comune, &request.id, &RequestTransition::Expired, "x", NOW)
                .await
                .expect("late expiry")
        );
        let issued = store
            .request(comune, &request.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(issued.state, RequestState::Issued, "{}", db.label);
        let payment = issued.payment.expect("payment");
        assert_eq!(payment.receipt_id.as_deref(), Some("R-1"));
        assert_eq!(payment.amount_cents, 1652);
        let certificate = store
            .certificate(comune, &certificate.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(certificate.status, CertificateStatus::Issued);
        assert!(store.open_requests(10).await.expect("open").is_empty());

        let events: Vec<String> = store
            .audit_entries(comune, Some(&request.id), 10)
            .await
            .expect("audit")
            .into_iter()
            .map(|entry| entry.event)
            .collect();
        assert_eq!(
            events,
            [
                "request.created",
                "certificate.prepared",
                "payment.opened",
                "certificate.issued"
            ],
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn an_expired_request_voids_its_certificate_and_a_refused_one_takes_no_number() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let request = store
            .insert_request(&new_request(comune))
            .await
            .expect("insert");
        let certificate = store
            .register_certificate_for_request(comune, 2026, &request.id, |number, _| {
                Ok::<_, String>(pending(number))
            })
            .await
            .expect("prepared");
        assert!(
            store
                .finish_request(comune, &request.id, &RequestTransition::Expired, "x", NOW)
                .await
                .expect("expired")
        );
        let void = store
            .certificate(comune, &certificate.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(void.status, CertificateStatus::Void, "{}", db.label);
        // The requester is told the payment expired, on each channel.
        let told = store
            .notifications_of(comune, &request.id)
            .await
            .expect("outbox");
        assert_eq!(told.len(), 2, "{}: {told:?}", db.label);
        assert!(told.iter().all(|n| n.event == "payment_expired"));

        let refused = store
            .insert_request(&new_request(comune))
            .await
            .expect("insert");
        assert!(
            store
                .refuse_request(comune, &refused.id, "deceduta", "eligibility", NOW)
                .await
                .expect("refuse")
        );
        assert!(
            !store
                .refuse_request(comune, &refused.id, "deceduta", "eligibility", NOW)
                .await
                .expect("again")
        );
        let refused = store
            .request(comune, &refused.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(refused.state, RequestState::Refused);
        assert!(refused.certificate_id.is_none());
    }
}

#[tokio::test]
async fn api_keys_authenticate_until_revoked_and_only_with_their_secret() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let created = store
            .create_api_key(comune, "portale", ApiKeyRole::Portale, NOW)
            .await
            .expect("create");
        assert!(
            !format!("{created:?}").contains(&created.secret[10..]),
            "Debug hides the secret"
        );
        let found = store
            .authenticate_api_key(&created.secret)
            .await
            .expect("auth")
            .expect("valid");
        assert_eq!(found.role, ApiKeyRole::Portale, "{}", db.label);
        let mut wrong = created.secret.clone();
        wrong.pop();
        wrong.push('x');
        assert!(
            store
                .authenticate_api_key(&wrong)
                .await
                .expect("auth")
                .is_none()
        );
        assert!(
            store
                .authenticate_api_key("sig_zz_y")
                .await
                .expect("auth")
                .is_none()
        );
        assert_eq!(store.list_api_keys(comune).await.expect("list").len(), 1);
        assert!(
            store
                .revoke_api_key(comune, &created.key.id, NOW)
                .await
                .expect("revoke")
        );
        assert!(
            store
                .authenticate_api_key(&created.secret)
                .await
                .expect("auth")
                .is_none()
        );
        assert!(
            !store
                .revoke_api_key(comune, "000000000000", NOW)
                .await
                .expect("unknown")
        );
    }
}

#[tokio::test]
async fn the_audit_chain_detects_an_edited_entry() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        for n in 0..3 {
            store
                .insert_request(&new_request(comune))
                .await
                .expect("insert");
            assert_eq!(
                store.verify_audit_chain(comune).await.expect("chain"),
                Ok(n + 1)
            );
        }
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .expect("connect");
        sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
            .execute(&mut connection)
            .await
            .expect("tamper");
        assert_eq!(
            store.verify_audit_chain(comune).await.expect("chain"),
            Err(2),
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn an_issued_request_tells_its_requester_once_per_channel_and_one_sender_sends_each() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let request = store
            .insert_request(&new_request(comune))
            .await
            .expect("insert");
        store
            .register_certificate_for_request(comune, 2026, &request.id, |number, _| {
                Ok::<_, String>(pending(number))
            })
            .await
            .expect("prepared");
        store
            .record_payment_opened(comune, &request.id, &opened(), NOW)
            .await
            .expect("open");
        assert!(
            store
                .notifications_of(comune, &request.id)
                .await
                .expect("read")
                .is_empty(),
            "nothing to say before the release"
        );
        let paid = RequestTransition::Paid {
            receipt_id: "R-1".into(),
            iubd: None,
            paid_at: NOW,
            resealed: None,
        };
        store
            .finish_request(comune, &request.id, &paid, "pagopa", NOW)
            .await
            .expect("paid");
        store
            .finish_request(comune, &request.id, &paid, "pagopa", NOW)
            .await
            .expect("again, a no-op");
        let written = store
            .notifications_of(comune, &request.id)
            .await
            .expect("read");
        let channels: Vec<&str> = written.iter().map(|n| n.channel.as_str()).collect();
        assert_eq!(channels, ["email", "io"], "{}", db.label);

        // Two senders at once: each row to one of them.
        let lease = time::Duration::seconds(60);
        let (a, b) = tokio::join!(
            store.claim_notifications("a", NOW, lease, 10),
            store.claim_notifications("b", NOW, lease, 10)
        );
        let (a, b) = (a.expect("claim a"), b.expect("claim b"));
        assert_eq!(a.len() + b.len(), 2, "{}: {a:?} {b:?}", db.label);
        let mut ids: Vec<&str> = a.iter().chain(&b).map(|n| n.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 2, "{}", db.label);
        assert!(
            store
                .claim_notifications("c", NOW, lease, 10)
                .await
                .expect("claim c")
                .is_empty(),
            "claimed rows are not due"
        );
        let (mine, sender) = if a.is_empty() { (&b, "b") } else { (&a, "a") };
        let first = &mine[0];
        assert_eq!(first.request_id, request.id);
        // A lease that ends: another sender takes the row, the first lost it.
        let later = NOW + time::Duration::seconds(61);
        let taken = store
            .claim_notifications("d", later, lease, 10)
            .await
            .expect("claim d");
        assert_eq!(taken.len(), 2, "{}: both leases ended", db.label);
        assert!(
            !store
                .finish_notification(&first.id, sender, store::Outcome::Sent, later)
                .await
                .expect("finish"),
            "{}: the claim was lost",
            db.label
        );
        // d sends one, fails the other (retried later), then sends it.
        assert!(
            store
                .finish_notification(&taken[0].id, "d", store::Outcome::Sent, later)
                .await
                .expect("finish")
        );
        store
            .retry_notification(&taken[1].id, "d", "IO: 503", later + lease)
            .await
            .expect("retry");
        assert!(
            store
                .claim_notifications("e", later, lease, 10)
                .await
                .expect("claim")
                .is_empty(),
            "not due yet"
        );
        let again = store
            .claim_notifications("e", later + lease, lease, 10)
            .await
            .expect("claim");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1);
        assert!(
            store
                .finish_notification(&again[0].id, "e", store::Outcome::Sent, later + lease)
                .await
                .expect("finish")
        );
        let done = store
            .notifications_of(comune, &request.id)
            .await
            .expect("read");
        assert!(
            done.iter().all(|n| n.outcome.as_deref() == Some("sent")),
            "{done:?}"
        );
    }
}
