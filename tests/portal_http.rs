//! The citizen portal over HTTP, without a browser: what a hostile or
//! unlucky request meets. A form with another session's token, a forged or
//! timed-out session cookie, a login form not opened here, the summary
//! sent twice, a logout; and the cookies' attributes over HTTP and HTTPS.
//! Each refused with a page that says what to do, and nothing changed.

mod common;

use common::{
    TestApp, hidden, no_redirects, set_cookie, spawn_app, spawn_app_configured, virtuale,
};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};

/// A demo login as `fiscal_code`: the session cookie (`name=value`).
async fn login(app: &TestApp, fiscal_code: &str) -> String {
    let http = no_redirects();
    let page = http
        .get(format!("{}/accedi", app.base))
        .send()
        .await
        .expect("GET /accedi");
    let login_cookie = set_cookie(&page, "sigillo_accesso").expect("a login cookie");
    let login_pair = login_cookie.split(';').next().expect("pair").to_owned();
    let html = page.text().await.expect("html");
    let token = hidden(&html, "csrf");
    let answer = http
        .post(format!("{}/accedi/demo", app.base))
        .header(COOKIE, login_pair)
        .form(&[("csrf", token.as_str()), ("persona", fiscal_code)])
        .send()
        .await
        .expect("POST /accedi/demo");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&answer, "sigillo_sessione").expect("a session cookie");
    cookie.split(';').next().expect("pair").to_owned()
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    no_redirects()
        .get(format!("{}{path}", app.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("GET")
}

/// The session's CSRF token, as its pages carry it.
async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    let html = get(app, "/area-personale", cookie)
        .await
        .text()
        .await
        .expect("html");
    hidden(&html, "csrf")
}

async fn post(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    no_redirects()
        .post(format!("{}{path}", app.base))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .expect("POST")
}

/// Accepts the privacy notice in the session.
async fn read_privacy(app: &TestApp, cookie: &str) {
    let csrf = csrf_of(app, cookie).await;
    let answer = post(
        app,
        "/richiesta/privacy",
        cookie,
        &[("csrf", &csrf), ("letto", "si")],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
}

async fn requests_in_store(app: &TestApp) -> usize {
    app.store
        .requests_of_person(store::demo::code(), &holder(), 100)
        .await
        .expect("list")
        .len()
}

fn holder() -> seal::CodiceFiscale {
    seal::CodiceFiscale::parse(common::HOLDER).expect("valid")
}

#[tokio::test]
async fn a_session_cookie_is_http_only_lax_and_secure_under_https() {
    let app = spawn_app(virtuale()).await;
    let http = no_redirects();
    let page = http
        .get(format!("{}/accedi", app.base))
        .send()
        .await
        .expect("GET");
    let login = set_cookie(&page, "sigillo_accesso").expect("login cookie");
    assert!(
        login.contains("HttpOnly") && login.contains("SameSite=Lax"),
        "{login}"
    );
    assert!(login.contains("Max-Age=600"), "{login}");
    let cookie = login_full_cookie(&app).await;
    for flag in ["Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "{cookie}"
    );

    // Under an https public address: __Host- and Secure.
    let app = spawn_app_configured(|config| {
        config.server.public_base_url = Some("https://certificati.example.it".into());
    })
    .await;
    let page = no_redirects()
        .get(format!("{}/accedi", app.local))
        .send()
        .await
        .expect("GET");
    let login = set_cookie(&page, "sigillo_accesso").expect("login cookie");
    assert!(login.contains("Secure"), "{login}");
    let login_pair = login.split(';').next().expect("pair").to_owned();
    let token = hidden(&page.text().await.expect("html"), "csrf");
    let answer = no_redirects()
        .post(format!("{}/accedi/demo", app.local))
        .header(COOKIE, login_pair)
        .form(&[("csrf", token.as_str()), ("persona", common::HOLDER)])
        .send()
        .await
        .expect("POST");
    let cookie = set_cookie(&answer, "__Host-sigillo_sessione").expect("a __Host- cookie");
    for flag in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}

/// The whole `Set-Cookie` of a demo login.
async fn login_full_cookie(app: &TestApp) -> String {
    let http = no_redirects();
    let page = http
        .get(format!("{}/accedi", app.local))
        .send()
        .await
        .expect("GET");
    let pair = set_cookie(&page, "sigillo_accesso")
        .expect("login cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let token = hidden(&page.text().await.expect("html"), "csrf");
    let answer = http
        .post(format!("{}/accedi/demo", app.local))
        .header(COOKIE, pair)
        .form(&[("csrf", token.as_str()), ("persona", common::HOLDER)])
        .send()
        .await
        .expect("POST");
    set_cookie(&answer, "sigillo_sessione").expect("session cookie")
}

#[tokio::test]
async fn a_login_form_not_opened_here_logs_no_one_in() {
    let app = spawn_app(virtuale()).await;
    // No login cookie at all, then a cookie that is not the form's token.
    for cookie in ["", "sigillo_accesso=00ff"] {
        let answer = no_redirects()
            .post(format!("{}/accedi/demo", app.base))
            .header(COOKIE, cookie)
            .form(&[
                ("csrf", "a".repeat(64).as_str()),
                ("persona", common::HOLDER),
            ])
            .send()
            .await
            .expect("POST");
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{cookie}");
        assert!(set_cookie(&answer, "sigillo_sessione").is_none());
        let html = answer.text().await.expect("html");
        assert!(html.contains("Accesso non riuscito"), "{html}");
    }
    // A person not in the registry is not logged in either.
    let page = no_redirects()
        .get(format!("{}/accedi", app.base))
        .send()
        .await
        .expect("GET");
    let pair = set_cookie(&page, "sigillo_accesso")
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let token = hidden(&page.text().await.expect("html"), "csrf");
    let answer = no_redirects()
        .post(format!("{}/accedi/demo", app.base))
        .header(COOKIE, pair)
        .form(&[("csrf", token.as_str()), ("persona", "RSSMRA85T10A562S")])
        .send()
        .await
        .expect("POST");
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(set_cookie(&answer, "sigillo_sessione").is_none());
}

#[tokio::test]
async fn a_form_with_another_token_or_a_forged_cookie_changes_nothing() {
    let app = spawn_app(virtuale()).await;
    let cookie = login(&app, common::HOLDER).await;
    read_privacy(&app, &cookie).await;
    let before = requests_in_store(&app).await;
    let form = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("tipo", "residenza"),
            ("persona", common::HOLDER),
            ("uso", "esente"),
            ("esenzione", "7"),
            (
                "modulo",
                "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12",
            ),
        ]
    };
    let answer = post(&app, "/richiesta/invia", &cookie, &form("0000")).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(
        answer
            .text()
            .await
            .expect("html")
            .contains("Modulo non valido")
    );
    assert_eq!(requests_in_store(&app).await, before, "nothing stored");

    // A cookie that names no session: to the login, for pages and forms.
    let forged = format!("sigillo_sessione={}", "ab".repeat(32));
    for path in ["/area-personale", "/richiesta", "/richiesta/dati"] {
        let answer = get(&app, path, &forged).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.headers()[LOCATION], "/accedi", "{path}");
    }
    let answer = post(&app, "/richiesta/invia", &forged, &form("0000")).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(requests_in_store(&app).await, before, "nothing stored");
    // Not even looked up when it is not a token's shape.
    let answer = get(&app, "/area-personale", "sigillo_sessione=' OR 1=1 --").await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_summary_sent_twice_is_one_request() {
    let app = spawn_app(virtuale()).await;
    let cookie = login(&app, common::HOLDER).await;
    read_privacy(&app, &cookie).await;
    let csrf = csrf_of(&app, &cookie).await;
    let choice = [
        ("csrf", csrf.as_str()),
        ("tipo", "residenza"),
        ("persona", common::HOLDER),
        ("uso", "esente"),
        ("esenzione", "7"),
    ];
    let summary = post(&app, "/richiesta/riepilogo", &cookie, &choice).await;
    assert_eq!(summary.status(), StatusCode::OK);
    let html = summary.text().await.expect("html");
    let key = hidden(&html, "modulo");
    assert_eq!(key.len(), 64);
    let mut send = choice.to_vec();
    send.push(("modulo", key.as_str()));

    let before = requests_in_store(&app).await;
    let (first, second) = tokio::join!(
        post(&app, "/richiesta/invia", &cookie, &send),
        post(&app, "/richiesta/invia", &cookie, &send)
    );
    let third = post(&app, "/richiesta/invia", &cookie, &send).await;
    let places: Vec<String> = [first, second, third]
        .iter()
        .map(|answer| {
            assert_eq!(answer.status(), StatusCode::SEE_OTHER);
            answer.headers()[LOCATION]
                .to_str()
                .expect("ASCII")
                .to_owned()
        })
        .collect();
    assert!(places.iter().all(|place| place == &places[0]), "{places:?}");
    assert_eq!(requests_in_store(&app).await, before + 1, "one request");
}

#[tokio::test]
async fn a_timed_out_session_says_so_and_logout_ends_it() {
    let app = spawn_app(virtuale()).await;
    let cookie = login(&app, common::HOLDER).await;
    assert_eq!(
        get(&app, "/area-personale", &cookie).await.status(),
        StatusCode::OK
    );

    // 31 minutes without a request, as the database sees it.
    let token = cookie.split_once('=').expect("pair").1;
    let now = time::OffsetDateTime::now_utc();
    let found = app
        .store
        .session(
            token,
            now + time::Duration::minutes(31),
            web::SESSION_TIMEOUTS,
        )
        .await
        .expect("read");
    assert_eq!(found, store::SessionLookup::Expired);
    let answer = get(&app, "/area-personale", &cookie).await;
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "deleted: to the login"
    );

    // A session opened 9 hours ago, in use all along: the expired page.
    let person = holder();
    let (token, _) = app
        .store
        .create_session(&store::NewSession {
            kind: store::SessionKind::Citizen,
            comune: store::demo::code(),
            fiscal_code: &person,
            display_name: "Roberta Persico",
            provider: "demo",
            tokens: None,
            now: now - time::Duration::hours(9),
        })
        .await
        .expect("opened");
    let cookie = format!("sigillo_sessione={token}");
    let answer = get(&app, "/area-personale", &cookie).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let cleared = set_cookie(&answer, "sigillo_sessione").expect("cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(
        answer
            .text()
            .await
            .expect("html")
            .contains("Sessione scaduta")
    );

    // Logout: the session ends in the database, so the cookie opens nothing.
    let cookie = login(&app, common::HOLDER).await;
    let csrf = csrf_of(&app, &cookie).await;
    let wrong = post(&app, "/esci", &cookie, &[("csrf", "0")]).await;
    assert_eq!(
        wrong.status(),
        StatusCode::FORBIDDEN,
        "logout needs the token"
    );
    assert_eq!(
        get(&app, "/area-personale", &cookie).await.status(),
        StatusCode::OK
    );
    let out = post(&app, "/esci", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookie(&out, "sigillo_sessione")
            .expect("cleared")
            .contains("Max-Age=0")
    );
    let after = get(&app, "/area-personale", &cookie).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(after.headers()[LOCATION], "/accedi");
}

#[tokio::test]
async fn without_the_demo_login_its_form_is_not_there() {
    let app = spawn_app_configured(|config| config.portal.demo_login = false).await;
    let page = get(&app, "/accedi", "").await;
    assert!(set_cookie(&page, "sigillo_accesso").is_none());
    let html = page.text().await.expect("html");
    assert!(!html.contains("/accedi/demo"), "{html}");
    let answer = no_redirects()
        .post(format!("{}/accedi/demo", app.base))
        .form(&[("csrf", "x"), ("persona", common::HOLDER)])
        .send()
        .await
        .expect("POST");
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_contestuale_is_asked_with_at_least_two_parts() {
    let app = spawn_app(virtuale()).await;
    let cookie = login(&app, common::HOLDER).await;
    read_privacy(&app, &cookie).await;
    let csrf = csrf_of(&app, &cookie).await;
    let mut choice = vec![
        ("csrf", csrf.as_str()),
        ("tipo", "contestuale"),
        ("persona", common::HOLDER),
        ("uso", "esente"),
        ("esenzione", "7"),
        ("parte_residenza", "si"),
    ];
    let one = post(&app, "/richiesta/riepilogo", &cookie, &choice).await;
    assert_eq!(one.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = one.text().await.expect("html");
    assert!(html.contains("almeno due certificati"), "{html}");
    assert!(
        html.contains("id=\"parte_residenza\" value=\"si\" checked"),
        "the ticked part stays ticked"
    );

    choice.push(("parte_stato_famiglia", "si"));
    let summary = post(&app, "/richiesta/riepilogo", &cookie, &choice).await;
    assert_eq!(summary.status(), StatusCode::OK);
    let html = summary.text().await.expect("html");
    assert!(
        html.contains(
            "Certificato contestuale: Certificato di residenza; Certificato di stato di famiglia"
        ),
        "{html}"
    );
    let key = hidden(&html, "modulo");
    assert_eq!(hidden(&html, "parte_stato_famiglia"), "si");
    let mut send = choice.clone();
    send.push(("modulo", key.as_str()));
    let sent = post(&app, "/richiesta/invia", &cookie, &send).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let place = sent.headers()[LOCATION].to_str().expect("ASCII").to_owned();
    let id = place.rsplit('/').next().expect("id");
    let record = app
        .store
        .request(store::demo::code(), id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(record.kind, seal::CertificateKind::Contestuale);
    assert_eq!(
        record.parts,
        [
            seal::CertificateKind::Residenza,
            seal::CertificateKind::StatoFamiglia
        ]
    );
    assert_eq!(record.state, store::model::RequestState::Issued);
}
