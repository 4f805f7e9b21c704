//! `sigillo audit verify` as an operator runs it, on SQLite and, when
//! configured, PostgreSQL: an intact audit trail passes (exit 0); a row
//! edited in the database, or one taken out, is named by its number (exit
//! 3); the other comuni's chains are still checked and reported intact.

mod common;

use std::path::Path;
use std::process::Output;

use sqlx::Connection as _;

fn sigillo(dir: &Path, database_url: &str, args: &[&str]) -> Output {
    common::sigillo_cli(dir, database_url, args, None)
}

fn text(output: &Output) -> String {
    common::output_text(output)
}

async fn execute(database_url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("database");
    let done = sqlx::query(sql)
        .execute(&mut connection)
        .await
        .expect("statement");
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

async fn tamper_and_verify(label: &str, database_url: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let init = sigillo(dir.path(), database_url, &["init", "--demo"]);
    assert!(init.status.success(), "{label}: {}", text(&init));
    // Three certificates issued and revoked: six entries in the demo
    // comune's chain (each issuance, each revocation).
    for _ in 0..3 {
        let out = dir.path().join("certificato.pdf");
        let issued = sigillo(
            dir.path(),
            database_url,
            &[
                "issue",
                "--kind",
                "residenza",
                "--cf",
                "PRSRRT80H69G504L",
                "--use",
                "esente:9",
                "--out",
                out.to_str().expect("UTF-8"),
            ],
        );
        assert!(issued.status.success(), "{label}: {}", text(&issued));
        let number = text(&issued)
            .split("n. ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .expect("number")
            .to_owned();
        let revoked = sigillo(
            dir.path(),
            database_url,
            &["certificates", "revoke", &number, "--reason", "prova"],
        );
        assert!(revoked.status.success(), "{label}: {}", text(&revoked));
    }
    let intact = sigillo(dir.path(), database_url, &["audit", "verify"]);
    assert_eq!(intact.status.code(), Some(0), "{label}: {}", text(&intact));
    assert!(
        text(&intact).contains("999001: 6 voci, catena integra."),
        "{label}: {}",
        text(&intact)
    );

    // An entry edited in place: its number is named.
    execute(
        database_url,
        "UPDATE audit_log SET actor = 'qualcun altro' WHERE comune = '999001' AND seq = 2",
    )
    .await;
    let edited = sigillo(dir.path(), database_url, &["audit", "verify"]);
    assert_eq!(edited.status.code(), Some(3), "{label}: {}", text(&edited));
    assert!(
        text(&edited).contains("999001: catena interrotta alla voce 2"),
        "{label}: {}",
        text(&edited)
    );
    // The same with the comune named.
    let named = sigillo(
        dir.path(),
        database_url,
        &["--comune", "999001", "audit", "verify"],
    );
    assert_eq!(named.status.code(), Some(3), "{label}: {}", text(&named));

    // An entry taken out: the one after it is named.
    execute(
        database_url,
        "DELETE FROM audit_log WHERE comune = '999001' AND seq = 2",
    )
    .await;
    let removed = sigillo(dir.path(), database_url, &["audit", "verify"]);
    assert_eq!(
        removed.status.code(),
        Some(3),
        "{label}: {}",
        text(&removed)
    );
    assert!(
        text(&removed).contains("catena interrotta alla voce 3"),
        "{label}: {}",
        text(&removed)
    );

    // No database: not checked, which is neither intact nor broken.
    let unreachable = sigillo(
        dir.path(),
        "postgres://nobody@127.0.0.1:9/none",
        &["audit", "verify"],
    );
    assert_eq!(
        unreachable.status.code(),
        Some(1),
        "{label}: {}",
        text(&unreachable)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_or_removed_audit_entry_is_named_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("audit.db").display());
    tamper_and_verify("sqlite", &url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_or_removed_audit_entry_is_named_on_postgresql() {
    let Some((schema, url)) = common::Schema::create("sigillo_audit").await else {
        return;
    };
    tamper_and_verify("postgresql", &url).await;
    schema.drop_now().await;
}
