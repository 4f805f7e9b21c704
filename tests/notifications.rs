//! Telling the citizen, over real HTTP and SMTP on loopback: an App IO
//! emulator on a port of its own and an SMTP sink. An issued certificate
//! (exempt at once, or in bollo once paid) makes exactly one App IO message
//! and one e-mail to the requester, with the link to the request and no
//! personal data; a citizen who refuses the comune's messages gets none;
//! App IO failing for a while delays the message, it does not lose or
//! double it. A certificate revoked afterwards makes one more message and
//! e-mail, «non è più valido», once.

mod common;

use std::time::Duration;

use common::{HOLDER, TestApp, spawn_app_configured};
use notify::emulator::{IoEmulator, SmtpSink};
use reqwest::StatusCode;
use sigillo::config::NotificationsConfig;

async fn app_with_channels() -> (TestApp, IoEmulator, SmtpSink) {
    let io = IoEmulator::new();
    let io_base = io.serve("127.0.0.1:0").await.expect("IO emulator");
    let sink = SmtpSink::start("127.0.0.1:0").await.expect("sink");
    let port = sink.addr().port();
    let app = spawn_app_configured(move |config| {
        config.notifications = NotificationsConfig {
            io: Some((io_base, "chiave-di-prova".into())),
            smtp: Some((
                "127.0.0.1".into(),
                port,
                "Comune di Borgo Sigillo <certificati@borgosigillo.example.it>".into(),
            )),
            emulators: false,
            every_seconds: 1,
            lease_seconds: 5,
        };
    })
    .await;
    (app, io, sink)
}

/// Waits until `done` holds (at most 20 s).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen in time");
}

#[tokio::test]
async fn an_issued_certificate_makes_one_io_message_and_one_email() {
    let (app, io, sink) = app_with_channels().await;
    let (status, exempt) = app.request("residenza", HOLDER, "esente:7").await;
    assert_eq!(status, StatusCode::CREATED, "{exempt}");
    assert_eq!(exempt["state"], "issued");
    let (_, in_bollo) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(in_bollo["state"], "awaiting_payment");
    let (paid, _) = app.pay(&in_bollo).await;
    assert!(paid.is_success() || paid.is_redirection());

    until("two messages and two e-mails", || {
        io.messages().len() >= 2 && sink.mails().len() >= 2
    })
    .await;
    // Passes go on every second: nothing more arrives.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let messages = io.messages();
    let mails = sink.mails();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(mails.len(), 2, "{mails:?}");

    for request in [&exempt, &in_bollo] {
        let id = request["id"].as_str().expect("id");
        let link = format!("/area-personale/richieste/{id}");
        let message = messages
            .iter()
            .find(|m| m.markdown.contains(&link))
            .unwrap_or_else(|| panic!("an IO message for {id}: {messages:?}"));
        assert_eq!(message.fiscal_code, HOLDER, "to the requester");
        assert_eq!(message.subject, "Il tuo certificato è pronto");
        assert!(message.markdown.contains("Certificato di residenza"));
        let mail = mails
            .iter()
            .find(|m| m.body().contains(&link))
            .unwrap_or_else(|| panic!("an e-mail for {id}"));
        assert_eq!(mail.to, ["richiedente@example.org"]);
        assert_eq!(mail.from, "certificati@borgosigillo.example.it", "{mail:?}");
        let records = app
            .store
            .notifications_of(store::demo::code(), id)
            .await
            .expect("outbox");
        assert_eq!(records.len(), 2);
        assert!(
            records.iter().all(|r| r.outcome.as_deref() == Some("sent")),
            "{records:?}"
        );
        // No personal data: not the fiscal code, not the name.
        let body = mail.body();
        assert!(body.contains("Certificato di residenza"), "{body}");
        for text in [&message.markdown, &body] {
            assert!(!text.contains(HOLDER), "{text}");
            assert!(!text.to_uppercase().contains("PARISI"), "{text}");
        }
    }
    let ids: std::collections::HashSet<_> = mails
        .iter()
        .filter_map(|mail| mail.header("Message-ID"))
        .collect();
    assert_eq!(ids.len(), 2, "a Message-ID each");
}

/// The comune's outbox rows about `id`, once all have ended.
async fn ended(app: &TestApp, id: &str) -> Vec<store::NotificationRecord> {
    for _ in 0..200 {
        let rows = app
            .store
            .notifications_of(store::demo::code(), id)
            .await
            .expect("outbox");
        if !rows.is_empty() && rows.iter().all(|r| r.outcome.is_some()) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the notifications of {id} did not end");
}

#[tokio::test]
async fn a_citizen_who_refuses_the_comunes_messages_gets_none_on_app_io() {
    let (app, io, sink) = app_with_channels().await;
    io.refuse(HOLDER);
    let (_, request) = app.request("residenza", HOLDER, "esente:7").await;
    let rows = ended(&app, request["id"].as_str().expect("id")).await;
    let io_row = rows.iter().find(|r| r.channel == "io").expect("io row");
    assert_eq!(io_row.outcome.as_deref(), Some("not_allowed"));
    assert!(io.messages().is_empty(), "no IO message to who refuses");
    assert!(io.profile_calls() >= 1, "the profile was asked first");
    let email_row = rows
        .iter()
        .find(|r| r.channel == "email")
        .expect("email row");
    assert_eq!(email_row.outcome.as_deref(), Some("sent"));
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test]
async fn app_io_down_for_a_while_delays_the_message_and_does_not_double_it() {
    let (app, io, _sink) = app_with_channels().await;
    // The first call (the profile) fails: the row goes back for 30 s.
    io.fail_next(1);
    let (_, request) = app.request("residenza", HOLDER, "esente:7").await;
    let id = request["id"].as_str().expect("id").to_owned();
    let mut retried = false;
    for _ in 0..100 {
        let rows = app
            .store
            .notifications_of(store::demo::code(), &id)
            .await
            .expect("outbox");
        if rows
            .iter()
            .any(|r| r.channel == "io" && r.attempts == 1 && r.outcome.is_none())
        {
            retried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(retried, "the failed attempt is counted and the row kept");
    assert!(io.messages().is_empty());
    // Then, past the delay, one message.
    for _ in 0..450 {
        if !io.messages().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(io.messages().len(), 1, "{:?}", io.messages());
    let rows = ended(&app, &id).await;
    let io_row = rows.iter().find(|r| r.channel == "io").expect("io row");
    assert_eq!(io_row.attempts, 2);
    assert_eq!(io_row.outcome.as_deref(), Some("sent"));
}

#[tokio::test]
async fn a_revoked_certificate_tells_the_citizen_once_on_each_channel() {
    let (app, io, sink) = app_with_channels().await;
    let (status, request) = app.request("residenza", HOLDER, "esente:7").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    until("the certificate's message", || {
        io.messages().len() == 1 && sink.mails().len() == 1
    })
    .await;
    // Revoked at the office; revoking again is refused and tells nobody.
    let record = app.certificate_of(&request).await;
    app.revoke(&record).await;
    let again = issuer::withdraw::withdraw(
        &app.store,
        store::demo::code(),
        record.number,
        issuer::withdraw::Withdrawal::Revoke {
            reason: "di nuovo".into(),
        },
        "test",
        time::OffsetDateTime::now_utc(),
    )
    .await;
    assert!(again.is_err());
    until("the withdrawal's message", || {
        io.messages().len() == 2 && sink.mails().len() == 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let messages = io.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(sink.mails().len(), 2);
    let withdrawn = messages
        .iter()
        .find(|m| m.subject == "Il tuo certificato non è più valido")
        .expect("the withdrawal's message");
    let id = request["id"].as_str().expect("id");
    assert!(
        withdrawn
            .markdown
            .contains(&format!("/area-personale/richieste/{id}")),
        "{withdrawn:?}"
    );
    assert!(!withdrawn.markdown.contains(HOLDER));
    let rows = app
        .store
        .notifications_of(store::demo::code(), id)
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 4, "{rows:?}");
}
