//! Two `sigillo` servers on one PostgreSQL, as a deployment scaled out
//! behind a load balancer: a citizen logged in on one is logged in on the
//! other, a logout on one ends the session on both, and the same summary
//! form sent to both at once makes one request; both drain the same
//! notifications outbox, and each certificate makes one App IO message and
//! one e-mail.
//!
//! Needs `SIGILLO_TEST_DATABASE_URL`; without it the test is skipped (a
//! failure under CI=true). Each run works in a schema of its own.

mod common;

use notify::emulator::{IoEmulator, SmtpSink};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use sigillo::app::App;
use sigillo::config::NotificationsConfig;
use sigillo::config::{Config, Overrides};

fn cookie_pair(response: &reqwest::Response, name: &str) -> String {
    common::set_cookie(response, name)
        .and_then(|value| value.split(';').next().map(str::to_owned))
        .expect("the cookie")
}

#[tokio::test]
async fn a_session_opened_on_one_node_is_the_same_on_the_other() {
    let Some((schema, url)) = common::Schema::create("sigillo_nodes").await else {
        return;
    };
    let fixture = common::fixture(common::virtuale(), false, "").await;
    common::set_up_demo(&fixture.data_dir, &url, common::virtuale()).await;
    let mut config =
        Config::load(Some(&fixture.config_path), Overrides::default()).expect("config");
    config.database_url = url;
    let mut bases = Vec::new();
    for _ in 0..2 {
        let node = App::build(&config).await.expect("a node");
        bases.push(node.base_url().to_owned());
        tokio::spawn(node.serve());
    }
    let (a, b) = (&bases[0], &bases[1]);
    assert_ne!(a, b);
    let http = common::no_redirects();

    // Log in on A.
    let page = http.get(format!("{a}/accedi")).send().await.expect("GET");
    let login = cookie_pair(&page, "sigillo_accesso");
    let token = common::hidden(&page.text().await.expect("html"), "csrf");
    let answer = http
        .post(format!("{a}/accedi/demo"))
        .header(COOKIE, login)
        .form(&[("csrf", token.as_str()), ("persona", common::HOLDER)])
        .send()
        .await
        .expect("login");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let session = cookie_pair(&answer, "sigillo_sessione");

    // B knows the session, with the same CSRF token.
    let on = |base: &str| {
        let session = session.clone();
        let base = base.to_owned();
        let http = http.clone();
        async move {
            http.get(format!("{base}/area-personale"))
                .header(COOKIE, session)
                .send()
                .await
                .expect("GET")
        }
    };
    let from_a = on(a).await;
    assert_eq!(from_a.status(), StatusCode::OK);
    let csrf = common::hidden(&from_a.text().await.expect("html"), "csrf");
    let from_b = on(b).await;
    assert_eq!(from_b.status(), StatusCode::OK);
    assert_eq!(
        common::hidden(&from_b.text().await.expect("html"), "csrf"),
        csrf
    );

    // The privacy notice acknowledged on B, the summary asked on A, and the
    // same form sent to both nodes at once: one request.
    let ack = http
        .post(format!("{b}/richiesta/privacy"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str()), ("letto", "si")])
        .send()
        .await
        .expect("privacy");
    assert_eq!(ack.status(), StatusCode::SEE_OTHER);
    let choice = vec![
        ("csrf", csrf.clone()),
        ("tipo", "residenza".to_owned()),
        ("persona", common::HOLDER.to_owned()),
        ("uso", "esente".to_owned()),
        ("esenzione", "7".to_owned()),
    ];
    let summary = http
        .post(format!("{a}/richiesta/riepilogo"))
        .header(COOKIE, &session)
        .form(&choice)
        .send()
        .await
        .expect("summary");
    assert_eq!(summary.status(), StatusCode::OK);
    let key = common::hidden(&summary.text().await.expect("html"), "modulo");
    let mut send = choice.clone();
    send.push(("modulo", key));
    let post = |base: &str| {
        http.post(format!("{base}/richiesta/invia"))
            .header(COOKIE, &session)
            .form(&send)
            .send()
    };
    let (to_a, to_b) = tokio::join!(post(a), post(b));
    let to_a = to_a.expect("send to A");
    let to_b = to_b.expect("send to B");
    assert_eq!(to_a.status(), StatusCode::SEE_OTHER);
    assert_eq!(to_b.status(), StatusCode::SEE_OTHER);
    assert_eq!(to_a.headers()[LOCATION], to_b.headers()[LOCATION]);
    let store = store::Store::connect(&config.database_url)
        .await
        .expect("store");
    let holder = seal::CodiceFiscale::parse(common::HOLDER).expect("valid");
    let requests = store
        .requests_of_person(store::demo::code(), &holder, 50)
        .await
        .expect("list");
    assert_eq!(requests.len(), 1, "one request from two nodes");

    // Logout on B ends the session on A too.
    let out = http
        .post(format!("{b}/esci"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = on(a).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(after.headers()[LOCATION], "/accedi");

    store.close().await;
    schema.drop_now().await;
}

#[tokio::test]
async fn two_nodes_draining_one_outbox_send_each_notification_once() {
    let Some((schema, url)) = common::Schema::create("sigillo_nodes").await else {
        return;
    };
    let io = IoEmulator::new();
    let io_base = io.serve("127.0.0.1:0").await.expect("IO emulator");
    let sink = SmtpSink::start("127.0.0.1:0").await.expect("sink");
    let fixture = common::fixture(common::virtuale(), false, "").await;
    let store = common::set_up_demo(&fixture.data_dir, &url, common::virtuale()).await;
    let key = store
        .create_api_key(
            store::demo::code(),
            "test",
            store::ApiKeyRole::Sportello,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .expect("key")
        .secret;
    let mut config =
        Config::load(Some(&fixture.config_path), Overrides::default()).expect("config");
    config.database_url = url;
    config.notifications = NotificationsConfig {
        io: Some((io_base, "chiave".into())),
        smtp: Some((
            "127.0.0.1".into(),
            sink.addr().port(),
            "Comune di Borgo Sigillo <certificati@borgosigillo.example.it>".into(),
        )),
        emulators: false,
        every_seconds: 1,
        lease_seconds: 30,
    };
    let mut bases = Vec::new();
    for _ in 0..2 {
        let node = App::build(&config).await.expect("a node");
        bases.push(node.base_url().to_owned());
        tokio::spawn(node.serve());
    }
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..8 {
        let base = &bases[i % 2];
        let answer: serde_json::Value = http
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&key)
            .json(&serde_json::json!({
                "kind": "residenza",
                "holder": common::HOLDER,
                "requester": common::HOLDER,
                "use": "esente:7",
                "email": "richiedente@example.org",
            }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer["state"], "issued", "{answer}");
        ids.push(answer["id"].as_str().expect("id").to_owned());
    }
    for _ in 0..200 {
        if io.messages().len() >= ids.len() && sink.mails().len() >= ids.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Both nodes keep draining every second: nothing more arrives.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let messages = io.messages();
    let mails = sink.mails();
    assert_eq!(messages.len(), ids.len(), "{messages:?}");
    assert_eq!(mails.len(), ids.len());
    for id in &ids {
        let link = format!("/area-personale/richieste/{id}");
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.markdown.contains(&link))
                .count(),
            1,
            "one IO message for {id}"
        );
        assert_eq!(
            mails.iter().filter(|m| m.body().contains(&link)).count(),
            1,
            "one e-mail for {id}"
        );
    }
    store.close().await;
    schema.drop_now().await;
}
