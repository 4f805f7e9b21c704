//! The portal's sessions in the store, on SQLite and, when configured,
//! PostgreSQL: a token opens its session and nothing else, the idle and
//! absolute timeouts end it, logout ends it; the area personale lists a
//! person's requests and no one else's; a login under way with an OpenID
//! provider is taken once, by the browser that started it, in time.

mod common;

use common::databases;
use seal::{CertificateKind, CodiceFiscale};
use store::model::Channel;
use store::{
    LoginLookup, NewLogin, NewRequest, NewSession, ProviderTokens, SessionKind, SessionLookup,
    SessionTimeouts,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const LOGIN: OffsetDateTime = datetime!(2026-03-02 10:00 UTC);

const TIMEOUTS: SessionTimeouts = SessionTimeouts {
    idle: Duration::minutes(30),
    absolute: Duration::hours(8),
};

fn mario() -> CodiceFiscale {
    CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid")
}

fn anna() -> CodiceFiscale {
    CodiceFiscale::parse("BNCNNA90A41H501T").expect("valid")
}

#[tokio::test]
async fn a_session_lives_while_used_and_ends_idle_absolute_or_at_logout() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let person = mario();
        let new = NewSession {
            kind: SessionKind::Citizen,
            comune,
            fiscal_code: &person,
            display_name: "Mario Rossi",
            provider: "demo",
            tokens: None,
            now: LOGIN,
        };
        let (token, record) = store.create_session(&new).await.expect("created");
        assert_ne!(record.id, token, "{}: the token is not stored", db.label);
        assert_eq!(record.csrf.len(), 64);

        // Used every 20 minutes it stays open, well past the idle timeout...
        let mut at = LOGIN;
        for _ in 0..6 {
            at += Duration::minutes(20);
            let found = store.session(&token, at, TIMEOUTS).await.expect("read");
            let SessionLookup::Active(found) = found else {
                panic!("{}: ended at {at}: {found:?}", db.label);
            };
            assert_eq!(found.fiscal_code, person);
            assert_eq!(found.last_seen, at, "{}", db.label);
        }
        // ... and a wrong token opens nothing.
        let wrong = format!("{}0", &token[..63]);
        assert_eq!(
            store.session(&wrong, at, TIMEOUTS).await.expect("read"),
            SessionLookup::Unknown
        );

        // 31 minutes idle: expired once, then unknown (it was deleted).
        let late = at + Duration::minutes(31);
        assert_eq!(
            store.session(&token, late, TIMEOUTS).await.expect("read"),
            SessionLookup::Expired,
            "{}",
            db.label
        );
        assert_eq!(
            store.session(&token, late, TIMEOUTS).await.expect("read"),
            SessionLookup::Unknown
        );

        // Busy all along, a session still ends 8 hours after login.
        let (token, _) = store.create_session(&new).await.expect("created");
        let mut at = LOGIN;
        while at < LOGIN + Duration::hours(8) - Duration::minutes(10) {
            at += Duration::minutes(10);
            assert!(matches!(
                store.session(&token, at, TIMEOUTS).await.expect("read"),
                SessionLookup::Active(_)
            ));
        }
        at += Duration::minutes(10);
        assert_eq!(
            store.session(&token, at, TIMEOUTS).await.expect("read"),
            SessionLookup::Expired,
            "{}",
            db.label
        );

        // Logout ends it at once; the privacy acknowledgement is kept per session.
        let (token, record) = store.create_session(&new).await.expect("created");
        store
            .mark_privacy_read(&record.id, LOGIN)
            .await
            .expect("marked");
        let SessionLookup::Active(read) =
            store.session(&token, LOGIN, TIMEOUTS).await.expect("read")
        else {
            panic!("{}: not active", db.label);
        };
        assert_eq!(read.privacy_read_at, Some(LOGIN));
        store.end_session(&record.id).await.expect("ended");
        assert_eq!(
            store.session(&token, LOGIN, TIMEOUTS).await.expect("read"),
            SessionLookup::Unknown
        );

        // The purge removes what timed out and keeps what did not.
        let (old, _) = store.create_session(&new).await.expect("created");
        let fresh_at = LOGIN + Duration::hours(1);
        let (fresh, _) = store
            .create_session(&NewSession {
                kind: SessionKind::Citizen,
                now: fresh_at,
                ..new.clone()
            })
            .await
            .expect("created");
        let purged = store
            .purge_sessions(fresh_at + Duration::minutes(1), TIMEOUTS)
            .await
            .expect("purged");
        assert_eq!(purged, 1, "{}", db.label);
        assert_eq!(
            store.session(&old, fresh_at, TIMEOUTS).await.expect("read"),
            SessionLookup::Unknown
        );
        assert!(matches!(
            store
                .session(&fresh, fresh_at, TIMEOUTS)
                .await
                .expect("read"),
            SessionLookup::Active(_)
        ));
    }
}

#[tokio::test]
async fn a_person_sees_the_requests_they_made_or_that_are_about_them_only() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let request = |holder: CodiceFiscale, requester: CodiceFiscale, minutes: i64| NewRequest {
            comune,
            kind: CertificateKind::Residenza,
            parts: vec![],
            holder,
            requester,
            email: None,
            usage: seal::usage::parse_usage("bollo").expect("use"),
            channel: Channel::Online,
            created_by: "portale".into(),
            form_key: None,
            now: LOGIN + Duration::minutes(minutes),
        };
        let own = store
            .insert_request(&request(mario(), mario(), 0))
            .await
            .expect("own");
        let for_anna = store
            .insert_request(&request(anna(), mario(), 1))
            .await
            .expect("for anna");
        let by_anna = store
            .insert_request(&request(anna(), anna(), 2))
            .await
            .expect("by anna");

        let ids = |records: Vec<store::model::RequestRecord>| {
            records
                .into_iter()
                .map(|record| record.id)
                .collect::<Vec<_>>()
        };
        let marios = store
            .requests_of_person(comune, &mario(), 50)
            .await
            .expect("list");
        assert_eq!(
            ids(marios),
            [for_anna.id.clone(), own.id.clone()],
            "{}",
            db.label
        );
        let annas = store
            .requests_of_person(comune, &anna(), 50)
            .await
            .expect("list");
        assert_eq!(ids(annas), [by_anna.id, for_anna.id], "{}", db.label);
        let nobody = CodiceFiscale::parse("VRDLGU70M01F205I").expect("valid");
        assert!(
            store
                .requests_of_person(comune, &nobody, 50)
                .await
                .expect("list")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_login_under_way_is_taken_once_by_its_browser_in_time() {
    const TTL: Duration = Duration::minutes(10);
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let store = &db.store;
        let state = "s".repeat(43);
        let new = NewLogin {
            kind: SessionKind::Citizen,
            state: &state,
            browser: "browser-a",
            comune,
            provider: "spid",
            nonce: "n0nce-of-at-least-thirty-two-characters",
            code_verifier: "verifier-of-at-least-forty-three-characters-long",
            now: LOGIN,
        };
        store.create_login(&new).await.expect("created");

        // Another browser with the same state finds it but cannot take it.
        let at = LOGIN + Duration::minutes(1);
        assert_eq!(
            store
                .take_login(&state, "browser-b", at, TTL)
                .await
                .expect("read"),
            LoginLookup::OtherBrowser,
            "{}",
            db.label
        );
        // Its own browser takes it, once.
        let LoginLookup::Found(found) = store
            .take_login(&state, "browser-a", at, TTL)
            .await
            .expect("read")
        else {
            panic!("{}: not found", db.label);
        };
        assert_eq!(found.provider, "spid");
        assert_eq!(found.nonce, new.nonce);
        assert_eq!(found.code_verifier, new.code_verifier);
        assert_eq!(found.comune, comune);
        assert_eq!(
            store
                .take_login(&state, "browser-a", at, TTL)
                .await
                .expect("read"),
            LoginLookup::Unknown,
            "{}: a state is used once",
            db.label
        );

        // Too late: expired, and gone.
        let late = "l".repeat(43);
        store
            .create_login(&NewLogin {
                kind: SessionKind::Citizen,
                state: &late,
                ..new.clone()
            })
            .await
            .expect("created");
        assert_eq!(
            store
                .take_login(&late, "browser-a", LOGIN + TTL, TTL)
                .await
                .expect("read"),
            LoginLookup::Expired,
            "{}",
            db.label
        );
        assert_eq!(
            store
                .take_login(&late, "browser-a", at, TTL)
                .await
                .expect("read"),
            LoginLookup::Unknown
        );

        // Two callbacks at once with the same state: one finds it.
        let raced = "r".repeat(43);
        store
            .create_login(&NewLogin {
                kind: SessionKind::Citizen,
                state: &raced,
                ..new.clone()
            })
            .await
            .expect("created");
        let (first, second) = tokio::join!(
            store.take_login(&raced, "browser-a", at, TTL),
            store.take_login(&raced, "browser-a", at, TTL)
        );
        let found = [first.expect("read"), second.expect("read")]
            .iter()
            .filter(|lookup| matches!(lookup, LoginLookup::Found(_)))
            .count();
        assert_eq!(found, 1, "{}", db.label);

        // The purge removes the old ones only.
        let old = "o".repeat(43);
        store
            .create_login(&NewLogin {
                kind: SessionKind::Citizen,
                state: &old,
                ..new.clone()
            })
            .await
            .expect("created");
        let recent = "f".repeat(43);
        store
            .create_login(&NewLogin {
                kind: SessionKind::Citizen,
                state: &recent,
                now: LOGIN + Duration::minutes(9),
                ..new.clone()
            })
            .await
            .expect("created");
        assert_eq!(
            store.purge_logins(LOGIN + TTL, TTL).await.expect("purged"),
            1,
            "{}",
            db.label
        );
        assert!(matches!(
            store
                .take_login(&recent, "browser-a", LOGIN + Duration::minutes(9), TTL)
                .await
                .expect("read"),
            LoginLookup::Found(_)
        ));
    }
}

#[tokio::test]
async fn a_provider_session_keeps_what_logout_needs() {
    for db in databases().await {
        let comune = common::with_comune(&db).await;
        let person = mario();
        let tokens = ProviderTokens {
            id_token: "header.payload.signature".to_owned(),
            access_token: "access".to_owned(),
        };
        let (token, record) = db
            .store
            .create_session(&NewSession {
                kind: SessionKind::Citizen,
                comune,
                fiscal_code: &person,
                display_name: "Mario Rossi",
                provider: "spid",
                tokens: Some(tokens.clone()),
                now: LOGIN,
            })
            .await
            .expect("created");
        assert_eq!(record.tokens.as_ref(), Some(&tokens));
        let SessionLookup::Active(found) = db
            .store
            .session(&token, LOGIN, TIMEOUTS)
            .await
            .expect("read")
        else {
            panic!("{}: not found", db.label);
        };
        assert_eq!(found.tokens, Some(tokens), "{}", db.label);
        assert!(
            !format!("{found:?}").contains("access"),
            "tokens not in Debug"
        );
    }
}
