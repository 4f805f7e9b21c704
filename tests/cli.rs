//! The `sigillo` command line, run as a user runs it: keys, the demo, the
//! counter's commands and imports.

use std::process::{Command, Output};

fn sigillo(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigillo"))
        .current_dir(dir)
        .env_remove("SIGILLO_DATA_DIR")
        .env_remove("SIGILLO_CONFIG")
        .env_remove("SIGILLO_COMUNE_CODE")
        .env_remove("SIGILLO_COMUNE_NAME")
        .args(args)
        .output()
        .expect("sigillo runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_demo_command_sets_up_the_demo_and_issues_a_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = sigillo(dir.path(), &["demo"]);
    assert!(first.status.success(), "{first:?}");
    let text = stdout(&first);
    assert!(text.contains("Chiavi create"), "{text}");
    assert!(text.contains("Dati demo caricati: 220 persone"), "{text}");
    assert!(text.contains("Rilasciato il certificato n. "), "{text}");
    assert!(
        dir.path()
            .join("sigillo-data/keys/999001/ca.crt.pem")
            .exists()
    );
    assert!(dir.path().join("sigillo-data/sigillo.db").exists());
    let pdf = std::fs::read_dir(dir.path().join("sigillo-data"))
        .expect("data dir")
        .filter_map(Result::ok)
        .find(|entry| entry.file_name().to_string_lossy().ends_with(".pdf"))
        .expect("the demo certificate");
    assert!(
        std::fs::read(pdf.path())
            .expect("pdf")
            .starts_with(b"%PDF-")
    );

    let second = sigillo(dir.path(), &["demo"]);
    assert!(second.status.success());
    assert!(
        stdout(&second).contains("già presenti"),
        "{}",
        stdout(&second)
    );
    assert!(stdout(&second).contains("/000002"), "{}", stdout(&second));
}

#[test]
fn the_counter_searches_issues_lists_and_revokes_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(sigillo(dir.path(), &["init", "--demo"]).status.success());
    let found = sigillo(dir.path(), &["people", "search", "parisi"]);
    assert!(
        stdout(&found).contains("PRSRRT80H69G504L  PARISI ROBERTA"),
        "{}",
        stdout(&found)
    );

    let out = dir.path().join("residenza.pdf");
    let out = out.to_str().expect("UTF-8 path");
    let args = [
        "issue",
        "--kind",
        "residenza",
        "--cf",
        "PRSRRT80H69G504L",
        "--use",
        "esente:9",
    ];
    let issued = sigillo(dir.path(), &[&args[..], &["--out", out]].concat());
    assert!(issued.status.success(), "{issued:?}");
    let text = stdout(&issued);
    assert!(text.contains("Rilasciato il certificato n. "), "{text}");
    assert!(text.contains("Verifica: https://localhost/v#"), "{text}");
    let number = text
        .split("n. ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("number");

    let refused = sigillo(
        dir.path(),
        &[
            "issue",
            "--kind",
            "residenza",
            "--cf",
            "FBBPLG40A26E172E",
            "--use",
            "esente:9",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("deceduta"));

    let listed = sigillo(dir.path(), &["certificates", "list"]);
    assert!(stdout(&listed).contains(number), "{}", stdout(&listed));
    let revoked = sigillo(
        dir.path(),
        &["certificates", "revoke", number, "--reason", "errore"],
    );
    assert!(revoked.status.success(), "{revoked:?}");
    let shown = sigillo(dir.path(), &["certificates", "show", number]);
    assert!(stdout(&shown).contains("revocato"), "{}", stdout(&shown));
    let again = sigillo(
        dir.path(),
        &["certificates", "revoke", number, "--reason", "altro"],
    );
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("già revocato"),
        "{again:?}"
    );
}

#[test]
fn keys_init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(sigillo(dir.path(), &["keys", "init"]).status.success());
    let again = sigillo(dir.path(), &["keys", "init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(
        sigillo(dir.path(), &["keys", "init", "--force"])
            .status
            .success()
    );
}

#[test]
fn keys_show_and_rotate_list_every_signer_and_mark_the_current_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("elsewhere");
    let data = data.to_str().expect("UTF-8 path");
    assert!(
        sigillo(dir.path(), &["--data-dir", data, "keys", "init"])
            .status
            .success()
    );
    assert!(
        sigillo(dir.path(), &["--data-dir", data, "keys", "rotate"])
            .status
            .success()
    );
    let shown = sigillo(dir.path(), &["--data-dir", data, "keys", "show"]);
    assert!(shown.status.success());
    let text = stdout(&shown);
    assert_eq!(text.matches("Firmatario").count(), 2, "{text}");
    assert_eq!(text.matches("(in uso)").count(), 1, "{text}");
    assert!(text.contains("SHA-256:"));
}

#[test]
fn a_config_file_and_environment_choose_the_comune() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("sigillo.toml"),
        "[comune]\ncode = \"058091\"\nname = \"Roma\"\n",
    )
    .expect("write config");
    let init = sigillo(dir.path(), &["keys", "init"]);
    assert!(init.status.success(), "{init:?}");
    assert!(dir.path().join("sigillo-data/keys/058091").exists());
    assert!(stdout(&init).contains("Roma"));

    let output = Command::new(env!("CARGO_BIN_EXE_sigillo"))
        .current_dir(dir.path())
        .env("SIGILLO_COMUNE_CODE", "015146")
        .env("SIGILLO_COMUNE_NAME", "Milano")
        .args(["keys", "init"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    assert!(dir.path().join("sigillo-data/keys/015146").exists());
}

#[test]
fn a_wrong_comune_code_or_command_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad_code = sigillo(dir.path(), &["--comune", "58091", "keys", "show"]);
    assert_eq!(bad_code.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_code.stderr).contains("58091"));
    let no_keys = sigillo(dir.path(), &["keys", "show"]);
    assert_eq!(no_keys.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_keys.stderr).contains("keys init"));
    assert_eq!(
        sigillo(dir.path(), &["keys", "frobnicate"]).status.code(),
        Some(2)
    );
}

#[test]
fn an_import_reports_every_bad_row_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(sigillo(dir.path(), &["init", "--demo"]).status.success());
    let demo = include_str!("../store/demo/people.csv");
    let mut lines: Vec<String> = demo.lines().map(str::to_owned).collect();
    // Row 3 (line 3 of the file) gets a fiscal code with a wrong check character.
    let broken = lines[2].replacen(",VLNMNL53C27A275T,", ",VLNMNL53C27A275X,", 1);
    lines[2] = broken;
    let file = dir.path().join("anagrafe.csv");
    std::fs::write(&file, lines.join("\n")).expect("write");
    let file = file.to_str().expect("UTF-8 path");

    let rejected = sigillo(dir.path(), &["import", "people", file]);
    assert_eq!(rejected.status.code(), Some(1));
    let errors = String::from_utf8_lossy(&rejected.stderr);
    assert!(errors.contains("riga 3"), "{errors}");
    assert!(errors.contains("codice_fiscale"), "{errors}");
    let still = sigillo(dir.path(), &["people", "search", "VLNMNL53C27A275T"]);
    assert!(
        stdout(&still).contains("VALENTINI EMANUELE"),
        "{}",
        stdout(&still)
    );

    let good = dir.path().join("buono.csv");
    std::fs::write(&good, demo).expect("write");
    let imported = sigillo(
        dir.path(),
        &["import", "people", good.to_str().expect("path")],
    );
    assert!(imported.status.success(), "{imported:?}");
    assert!(
        stdout(&imported).contains("Importate 220 righe di persone"),
        "{}",
        stdout(&imported)
    );
}
