//! The comune's staff from the command line, and the local login it sets
//! up, on SQLite and, when configured, PostgreSQL: a member added with two
//! roles, an unknown role refused; a password (from standard input) and a
//! TOTP factor printed once; a login with both, the same code refused a
//! second time, five wrong passwords locking the account even for the right
//! one, a disabled member refused.

mod common;

use std::path::Path;
use std::process::Output;

use issuer::staff::{LocalLogin, Role, local_login, totp_code};
use seal::CodiceFiscale;
use store::Store;
use time::{Duration, OffsetDateTime};

const MEMBER: &str = "BNCNNA90A41H501T";
const PASSWORD: &str = "una password di prova";

fn sigillo(dir: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    common::sigillo_cli(dir, database_url, args, stdin)
}

fn text(output: &Output) -> String {
    common::output_text(output)
}

async fn staff_and_local_login(label: &str, database_url: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str], stdin: Option<&str>| sigillo(dir.path(), database_url, args, stdin);
    let init = run(&["init", "--demo"], None);
    assert!(init.status.success(), "{label}: {}", text(&init));
    let added = run(
        &[
            "staff",
            "add",
            "--cf",
            MEMBER,
            "--name",
            "Anna Bianchi",
            "--role",
            "operatore_anagrafe",
            "--role",
            "responsabile",
        ],
        None,
    );
    assert!(added.status.success(), "{label}: {}", text(&added));
    let unknown = run(
        &[
            "staff",
            "add",
            "--cf",
            MEMBER,
            "--name",
            "Anna Bianchi",
            "--role",
            "sindaco",
        ],
        None,
    );
    assert_eq!(
        unknown.status.code(),
        Some(1),
        "{label}: {}",
        text(&unknown)
    );
    assert!(
        text(&unknown).contains("ruolo sconosciuto: sindaco"),
        "{}",
        text(&unknown)
    );
    let short = run(&["staff", "password", "--cf", MEMBER], Some("corta\n"));
    assert_eq!(short.status.code(), Some(1), "{label}: {}", text(&short));

    let set = run(
        &["staff", "password", "--cf", MEMBER],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(set.status.success(), "{label}: {}", text(&set));
    let printed = text(&set);
    assert!(
        printed.contains("otpauth://totp/Sigillo%20999001:"),
        "{printed}"
    );
    let secret = printed
        .split("oppure la chiave ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the secret")
        .to_owned();
    let listed = text(&run(&["staff", "list"], None));
    assert!(
        listed.contains(&format!(
            "{MEMBER}  Anna Bianchi  Operatore anagrafe, Responsabile  password locale"
        )),
        "{listed}"
    );

    let store = Store::connect(database_url).await.expect("store");
    let comune = store::demo::code();
    let member = CodiceFiscale::parse(MEMBER).expect("valid");
    let now = OffsetDateTime::now_utc();
    let code = totp_code(&secret, now).expect("code");
    let login = |password: &'static str, code: String, at: OffsetDateTime| {
        let store = store.clone();
        let member = member.clone();
        async move {
            local_login(&store, comune, &member, password, &code, at)
                .await
                .expect("checked")
        }
    };
    let LocalLogin::Ok(record) = login(PASSWORD, code.clone(), now).await else {
        panic!("{label}: the right password and code refused");
    };
    assert_eq!(
        issuer::staff::roles_of(&record),
        [Role::OperatoreAnagrafe, Role::Responsabile]
    );
    assert_eq!(
        login(PASSWORD, code.clone(), now).await,
        LocalLogin::CodeReused,
        "{label}"
    );
    assert_eq!(
        login(PASSWORD, "000000".into(), now).await,
        LocalLogin::Refused
    );

    // Wrong passwords: the fifth failure in a row locks the account.
    let later = now + Duration::seconds(90);
    let fresh = totp_code(&secret, later).expect("code");
    for _ in 0..3 {
        assert_eq!(
            login("sbagliata del tutto", fresh.clone(), later).await,
            LocalLogin::Refused
        );
    }
    assert!(
        matches!(
            login("sbagliata del tutto", fresh.clone(), later).await,
            LocalLogin::Locked(_)
        ),
        "{label}"
    );
    assert!(
        matches!(login(PASSWORD, fresh, later).await, LocalLogin::Locked(_)),
        "{label}"
    );
    // After the lock, the right password and a fresh code work again.
    let after = later + issuer::staff::LOCKOUT + Duration::seconds(60);
    let code = totp_code(&secret, after).expect("code");
    assert!(
        matches!(login(PASSWORD, code, after).await, LocalLogin::Ok(_)),
        "{label}"
    );

    // Disabled: refused whatever is typed.
    let disabled = run(&["staff", "disable", "--cf", MEMBER], None);
    assert!(disabled.status.success(), "{label}: {}", text(&disabled));
    let at = after + Duration::seconds(60);
    let code = totp_code(&secret, at).expect("code");
    assert_eq!(
        login(PASSWORD, code, at).await,
        LocalLogin::Refused,
        "{label}"
    );
    // Someone not on the staff: refused the same way.
    let nobody = CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid");
    assert_eq!(
        local_login(&store, comune, &nobody, PASSWORD, "123456", at)
            .await
            .expect("checked"),
        LocalLogin::Refused
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_and_their_local_login_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("staff.db").display());
    staff_and_local_login("sqlite", &url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_and_their_local_login_on_postgresql() {
    let Some((schema, url)) = common::Schema::create("sigillo_staff").await else {
        return;
    };
    staff_and_local_login("postgresql", &url).await;
    schema.drop_now().await;
}
