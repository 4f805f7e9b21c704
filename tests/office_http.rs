//! The office pages' role × action matrix over real HTTP: every office page
//! and form, by direct address, for each role of the comune, for no
//! session, for a citizen's session, and for a member of another comune
//! (who acts only in their own: the first comune's certificate, request and
//! audit are not theirs to see or change); the API's routes with no key
//! and another comune's key. Then the local login (password and TOTP code,
//! the code refused a second time), a form with another session's token,
//! and a member disabled while logged in.

mod common;

use common::{
    HOLDER, STAFF_PASSWORD, add_staff, hidden, no_redirects, spawn_app, staff_cookie, virtuale,
};
use issuer::staff::{Action, Role};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use seal::ComuneCode;
use store::model::{CertificateStatus, ComuneRecord};
use time::OffsetDateTime;

/// A route of the office: method, path, the action it performs (`None`:
/// any role), and the form a POST sends (the CSRF token added).
struct Route {
    post: bool,
    path: String,
    action: Option<Action>,
    form: Vec<(&'static str, String)>,
}

fn get(path: impl Into<String>, action: Option<Action>) -> Route {
    Route {
        post: false,
        path: path.into(),
        action,
        form: Vec::new(),
    }
}

fn post(path: impl Into<String>, action: Action, form: &[(&'static str, &str)]) -> Route {
    Route {
        post: true,
        path: path.into(),
        action: Some(action),
        form: form.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    }
}

async fn send(
    http: &reqwest::Client,
    base: &str,
    route: &Route,
    cookie: Option<&str>,
    csrf: &str,
) -> reqwest::Response {
    let url = format!("{base}{}", route.path);
    let mut request = if route.post {
        let mut form = route.form.clone();
        form.push(("csrf", csrf.to_owned()));
        http.post(url).form(&form)
    } else {
        http.get(url)
    };
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.expect("request")
}

/// The session's CSRF token, from the office's home page.
async fn csrf_of(http: &reqwest::Client, base: &str, cookie: &str) -> String {
    let page = http
        .get(format!("{base}/sportello"))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("home");
    assert_eq!(page.status(), StatusCode::OK);
    hidden(&page.text().await.expect("html"), "csrf")
}

#[tokio::test]
async fn every_office_route_checks_the_role_and_the_comune() {
    let app = spawn_app(virtuale()).await;
    let http = no_redirects();
    let base = app.base.clone();
    let comune = store::demo::code();
    let heads = app.store.family_heads(comune, 12).await.expect("people");
    let people: Vec<String> = heads
        .iter()
        .map(|p| p.fiscal_code.as_str().to_owned())
        .collect();

    // Another comune on the same deployment, with a member who has every
    // role there.
    let other = ComuneRecord {
        code: ComuneCode::parse("999002").expect("code"),
        name: "Altrove".into(),
        verification_host: "altrove.example.it".into(),
        ..store::demo::comune()
    };
    app.store.upsert_comune(&other).await.expect("other comune");

    // What the first comune's office works on.
    let (certificate, _) = app.issue_exempt().await;
    let (status, request) = app.request("residenza", HOLDER, "bollo").await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let request_id = request["id"].as_str().expect("id").to_owned();
    let cert = certificate.id.clone();

    let routes = vec![
        get("/sportello", None),
        get("/sportello/verifica", Some(Action::Verify)),
        get("/sportello/rilascio", Some(Action::IssueAnagrafe)),
        post("/sportello/rilascio", Action::IssueAnagrafe, &[("q", "pa")]),
        post(
            "/sportello/rilascio/persona",
            Action::IssueAnagrafe,
            &[("persona", HOLDER)],
        ),
        post(
            "/sportello/rilascio/emetti",
            Action::IssueAnagrafe,
            &[("intestatario", HOLDER), ("persona", HOLDER)],
        ),
        get(
            format!("/sportello/richieste/{request_id}"),
            Some(Action::IssueAnagrafe),
        ),
        get(
            format!("/sportello/richieste/{request_id}/avviso.pdf"),
            Some(Action::IssueAnagrafe),
        ),
        get("/sportello/certificati", Some(Action::ReadCertificates)),
        get(
            format!("/sportello/certificati/{cert}"),
            Some(Action::ReadCertificates),
        ),
        get(
            format!("/sportello/certificati/{cert}/certificato.pdf"),
            Some(Action::ReadCertificates),
        ),
        // An empty reason and a malformed number: refused by the form,
        // never by the role, for a responsabile; nothing changes.
        post(
            format!("/sportello/certificati/{cert}/revoca"),
            Action::Withdraw,
            &[("motivo", "")],
        ),
        post(
            format!("/sportello/certificati/{cert}/sostituzione"),
            Action::Withdraw,
            &[("sostituto", "x")],
        ),
        get("/sportello/registro", Some(Action::ReadAudit)),
        get("/sportello/registro.csv", Some(Action::ReadAudit)),
        get("/sportello/amministrazione", Some(Action::Administer)),
        post(
            "/sportello/amministrazione/tariffe",
            Action::Administer,
            &[("diritti_bollo", "molto"), ("diritti_esente", "0,26")],
        ),
        post(
            "/sportello/amministrazione/personale",
            Action::Administer,
            &[("codice_fiscale", "NONVALIDO"), ("nome", "X")],
        ),
        post(
            "/sportello/amministrazione/comune",
            Action::Administer,
            &[("verifica", "https://non/un/host"), ("creditore", "1")],
        ),
        post(
            "/sportello/amministrazione/esenzioni",
            Action::Administer,
            &[("esenzione_1", "si"), ("esenzione_7", "si")],
        ),
        post(
            "/sportello/amministrazione/chiavi",
            Action::Administer,
            &[("nome", ""), ("ruolo", "portale")],
        ),
        post(
            "/sportello/amministrazione/chiavi/revoca",
            Action::Administer,
            &[("chiave", "inesistente")],
        ),
    ];

    // Each role of the comune: what it allows answers, the rest is 403.
    for (index, role) in Role::ALL.iter().enumerate() {
        let person = &people[index];
        add_staff(&app.store, comune, person, &[role.slug()]).await;
        let cookie = staff_cookie(&app.store, comune, person).await;
        let csrf = csrf_of(&http, &base, &cookie).await;
        for route in &routes {
            let response = send(&http, &base, route, Some(&cookie), &csrf).await;
            let status = response.status();
            let allowed = route.action.is_none_or(|action| action.allowed(&[*role]));
            if allowed {
                assert!(
                    status != StatusCode::FORBIDDEN
                        && status != StatusCode::UNAUTHORIZED
                        && response
                            .headers()
                            .get(LOCATION)
                            .is_none_or(|l| l != "/accedi/ufficio")
                        && !status.is_server_error(),
                    "{} {} for {}: {status}",
                    if route.post { "POST" } else { "GET" },
                    route.path,
                    role.slug()
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{} {} for {}",
                    if route.post { "POST" } else { "GET" },
                    route.path,
                    role.slug()
                );
                let text = response.text().await.expect("html");
                assert!(text.contains("Operazione non consentita"), "{text}");
            }
        }
    }

    // No session, and a citizen's session: every office route sends to
    // the staff login, and changes nothing.
    let citizen = {
        let code = seal::CodiceFiscale::parse(&people[0]).expect("valid");
        let (token, _) = app
            .store
            .create_session(&store::NewSession {
                kind: store::SessionKind::Citizen,
                comune,
                fiscal_code: &code,
                display_name: "Cittadino",
                provider: "demo",
                tokens: None,
                now: OffsetDateTime::now_utc(),
            })
            .await
            .expect("citizen session");
        // The citizen's token under the office's cookie name, too.
        format!("sigillo_sessione={token}; sigillo_ufficio={token}")
    };
    for cookie in [None, Some(citizen.as_str())] {
        for route in &routes {
            let response = send(&http, &base, route, cookie, "").await;
            assert_eq!(
                response.status(),
                StatusCode::SEE_OTHER,
                "{} with {cookie:?}",
                route.path
            );
            assert_eq!(
                response.headers().get(LOCATION).expect("location"),
                "/accedi/ufficio",
                "{}",
                route.path
            );
        }
    }

    // A member of the other comune, with every role there: the first
    // comune's certificate, request and audit are not theirs.
    let outsider = &people[5];
    add_staff(
        &app.store,
        other.code,
        outsider,
        &Role::ALL.map(|r| r.slug()),
    )
    .await;
    let cookie = staff_cookie(&app.store, other.code, outsider).await;
    let csrf = csrf_of(&http, &base, &cookie).await;
    for path in [
        format!("/sportello/certificati/{cert}"),
        format!("/sportello/certificati/{cert}/certificato.pdf"),
        format!("/sportello/richieste/{request_id}"),
        format!("/sportello/richieste/{request_id}/avviso.pdf"),
    ] {
        let response = send(&http, &base, &get(path.clone(), None), Some(&cookie), &csrf).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let revoke = post(
        format!("/sportello/certificati/{cert}/revoca"),
        Action::Withdraw,
        &[("motivo", "prova da un altro comune")],
    );
    let response = send(&http, &base, &revoke, Some(&cookie), &csrf).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let still = app
        .store
        .certificate(comune, &cert)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(still.status, CertificateStatus::Issued);
    let holder_in_other = send(
        &http,
        &base,
        &post(
            "/sportello/rilascio/persona",
            Action::IssueAnagrafe,
            &[("persona", HOLDER)],
        ),
        Some(&cookie),
        &csrf,
    )
    .await;
    assert_eq!(holder_in_other.status(), StatusCode::NOT_FOUND);
    let audit = send(
        &http,
        &base,
        &get("/sportello/registro.csv", None),
        Some(&cookie),
        &csrf,
    )
    .await;
    assert_eq!(audit.status(), StatusCode::OK);
    let csv = audit.text().await.expect("csv");
    assert!(!csv.contains(&cert) && !csv.contains(&request_id), "{csv}");
    let admin = send(
        &http,
        &base,
        &get("/sportello/amministrazione", None),
        Some(&cookie),
        &csrf,
    )
    .await
    .text()
    .await
    .expect("html");
    assert!(
        admin.contains("Altrove") && admin.contains("999002"),
        "{admin}"
    );

    // The API: no key, and a key of the other comune.
    let other_key = app
        .store
        .create_api_key(
            other.code,
            "altrove",
            store::ApiKeyRole::Sportello,
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("key")
        .secret;
    for (post, path) in [
        (false, format!("/api/v1/requests/{request_id}")),
        (false, format!("/api/v1/requests/{request_id}/pdf")),
        (false, format!("/api/v1/requests/{request_id}/notice.pdf")),
        (true, format!("/api/v1/requests/{request_id}/cancel")),
        (true, "/api/v1/requests".to_owned()),
    ] {
        let build = |key: Option<&str>| {
            let url = format!("{base}{path}");
            let request = if post {
                http.post(url).json(&serde_json::json!({}))
            } else {
                http.get(url)
            };
            match key {
                Some(key) => request.bearer_auth(key),
                None => request,
            }
        };
        let none = build(None).send().await.expect("send");
        assert_eq!(
            none.status(),
            StatusCode::UNAUTHORIZED,
            "{path} without a key"
        );
        if path != "/api/v1/requests" {
            let foreign = build(Some(&other_key)).send().await.expect("send");
            assert_eq!(
                foreign.status(),
                StatusCode::NOT_FOUND,
                "{path} with another comune's key"
            );
        }
    }
    let after = app.get(&request_id).await;
    assert_eq!(after.1["state"], "awaiting_payment", "{}", after.1);
}

#[tokio::test]
async fn the_local_login_takes_password_and_code_once_and_a_disabled_member_is_out() {
    let app = spawn_app(virtuale()).await;
    let http = no_redirects();
    let base = app.base.clone();
    let comune = store::demo::code();
    let person = app.store.family_heads(comune, 1).await.expect("people")[0]
        .fiscal_code
        .as_str()
        .to_owned();
    let secret = add_staff(&app.store, comune, &person, &["operatore_anagrafe"]).await;

    let login = |code: String, password: &'static str| {
        let http = http.clone();
        let base = base.clone();
        let person = person.clone();
        async move {
            let page = http
                .get(format!("{base}/accedi/ufficio"))
                .send()
                .await
                .expect("login page");
            assert_eq!(page.status(), StatusCode::OK);
            let cookie = common::set_cookie(&page, "sigillo_accesso").expect("login cookie");
            let token = hidden(&page.text().await.expect("html"), "csrf");
            http.post(format!("{base}/accedi/ufficio"))
                .header(COOKIE, cookie.split(';').next().expect("pair"))
                .form(&[
                    ("csrf", token.as_str()),
                    ("comune", comune.as_str()),
                    ("codice_fiscale", person.as_str()),
                    ("password", password),
                    ("codice", code.as_str()),
                ])
                .send()
                .await
                .expect("login")
        }
    };
    let now = OffsetDateTime::now_utc();
    let code = issuer::staff::totp_code(&secret, now).expect("code");
    let wrong = login(code.clone(), "una password sbagliata").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ok = login(code.clone(), STAFF_PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers().get(LOCATION).expect("location"), "/sportello");
    let session = common::set_cookie(&ok, "sigillo_ufficio").expect("office cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let cookie = session.split(';').next().expect("pair").to_owned();
    // The same code again: refused, whatever the password.
    let again = login(code, STAFF_PASSWORD).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(
        again
            .text()
            .await
            .expect("html")
            .contains("già stato usato")
    );

    // A form with another session's token is refused.
    let other = staff_cookie(&app.store, comune, &person).await;
    let other_csrf = csrf_of(&http, &base, &other).await;
    let forged = http
        .post(format!("{base}/sportello/rilascio"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", other_csrf.as_str()), ("q", "pa")])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        forged
            .text()
            .await
            .expect("html")
            .contains("Modulo non valido")
    );

    // The login is audited with the address, without the password.
    let entries = app
        .store
        .search_audit(
            comune,
            &store::AuditQuery {
                actor: Some(format!("staff:{person}")),
                limit: 10,
                ..store::AuditQuery::default()
            },
        )
        .await
        .expect("audit");
    assert!(
        entries
            .iter()
            .any(|e| e.event == "staff.login" && e.detail.contains("from=127.0.0.1")),
        "{entries:?}"
    );

    // Disabled while logged in: the next page ends the session.
    let code = seal::CodiceFiscale::parse(&person).expect("valid");
    app.store
        .set_staff_disabled(comune, &code, Some(OffsetDateTime::now_utc()))
        .await
        .expect("disabled");
    let page = http
        .get(format!("{base}/sportello"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("home");
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let page = http
        .get(format!("{base}/sportello"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("home");
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "the session is gone");
}

#[tokio::test]
async fn the_administrator_changes_the_comunes_settings_and_its_api_keys() {
    let app = spawn_app(virtuale()).await;
    let http = no_redirects();
    let base = app.base.clone();
    let comune = store::demo::code();
    let person = app.store.family_heads(comune, 1).await.expect("people")[0]
        .fiscal_code
        .as_str()
        .to_owned();
    add_staff(&app.store, comune, &person, &["amministratore"]).await;
    let cookie = staff_cookie(&app.store, comune, &person).await;
    let csrf = csrf_of(&http, &base, &cookie).await;
    let post_form = |path: &'static str, form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{base}{path}");
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        async move {
            let mut form = form;
            form.push(("csrf", csrf));
            http.post(url)
                .header(COOKIE, cookie)
                .form(&form)
                .send()
                .await
                .expect("post")
        }
    };

    // A wrong IBAN is refused and changes nothing.
    let settings = |iban: &str| {
        vec![
            ("verifica", "certificati.borgosigillo.example.it".to_owned()),
            ("creditore", "00000000999".to_owned()),
            ("iban", iban.to_owned()),
            ("bollo", "virtuale".to_owned()),
            ("autorizzazione", "123/2026".to_owned()),
            ("autorizzazione_data", "2026-03-02".to_owned()),
        ]
    };
    let wrong = post_form(
        "/sportello/amministrazione/comune",
        settings("IT60X0542811101000000123457"),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let before = app
        .store
        .comune(comune)
        .await
        .expect("read")
        .expect("there");
    assert_ne!(
        before.verification_host,
        "certificati.borgosigillo.example.it"
    );
    let saved = post_form(
        "/sportello/amministrazione/comune",
        settings("IT60 X054 2811 1010 0000 0123 456"),
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let after = app
        .store
        .comune(comune)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        after.verification_host,
        "certificati.borgosigillo.example.it"
    );
    assert_eq!(after.creditor_fiscal_code, "00000000999");
    assert_eq!(
        after.bollo_mode,
        store::model::BolloMode::Virtuale {
            authorization: "123/2026".into(),
            authorized_on: time::macros::date!(2026 - 03 - 02),
        }
    );
    assert_eq!(
        app.store
            .comune_iban(comune)
            .await
            .expect("iban")
            .as_deref(),
        Some("IT60X0542811101000000123456")
    );
    // The next certificate's QR points to the new host.
    let (record, _) = app.issue_exempt().await;
    let url = seal::text::to_url(&after.verification_host, &record.seal);
    assert!(
        url.starts_with("https://certificati.borgosigillo.example.it/v#"),
        "{url}"
    );

    // Only the exemptions ticked are accepted afterwards.
    let exemptions = post_form(
        "/sportello/amministrazione/esenzioni",
        vec![("esenzione_7", "si".to_owned())],
    )
    .await;
    assert_eq!(exemptions.status(), StatusCode::OK);
    let (status, refused) = app.request("residenza", HOLDER, "esente:9").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, accepted) = app.request("residenza", HOLDER, "esente:7").await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");

    // A new API key, shown once, works; revoked, it does not.
    let created = post_form(
        "/sportello/amministrazione/chiavi",
        vec![
            ("nome", "Portale di prova".to_owned()),
            ("ruolo", "portale".to_owned()),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    let html = created.text().await.expect("html");
    let needle = "<code id=\"nuova-chiave\">";
    let start = html.find(needle).expect("the key, once") + needle.len();
    let key = html[start..start + html[start..].find('<').expect("end")].to_owned();
    let id = key.split('_').nth(1).expect("id").to_owned();
    let ask = |key: String| {
        let http = http.clone();
        let url = format!("{base}/api/v1/requests/nessuna");
        async move {
            http.get(url)
                .bearer_auth(key)
                .send()
                .await
                .expect("api")
                .status()
        }
    };
    assert_eq!(
        ask(key.clone()).await,
        StatusCode::NOT_FOUND,
        "the key works"
    );
    let page = http
        .get(format!("{base}/sportello/amministrazione"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!page.contains(&key), "the secret is shown once only");
    let revoked = post_form(
        "/sportello/amministrazione/chiavi/revoca",
        vec![("chiave", id.clone())],
    )
    .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(ask(key).await, StatusCode::UNAUTHORIZED, "revoked");

    // Each change is in the audit chain, by the administrator.
    let entries = app
        .store
        .search_audit(
            comune,
            &store::AuditQuery {
                actor: Some(format!("staff:{person}")),
                limit: 20,
                ..store::AuditQuery::default()
            },
        )
        .await
        .expect("audit");
    let events: Vec<&str> = entries.iter().map(|e| e.event.as_str()).collect();
    for event in [
        "comune.settings_changed",
        "comune.fees_changed",
        "api_key.created",
        "api_key.revoked",
    ] {
        assert!(events.contains(&event), "{events:?}");
    }
    assert!(
        entries.iter().all(|e| !e.detail.contains("IT60X")),
        "the IBAN itself is not in the chain"
    );
    assert!(
        app.store
            .verify_audit_chain(comune)
            .await
            .expect("chain")
            .is_ok()
    );
}
