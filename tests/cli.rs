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

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn verify_keeps_its_exit_codes_apart_and_misuse_is_told_in_italian() {
    let dir = tempfile::tempdir().expect("temp dir");
    let misuse = sigillo(dir.path(), &["verify", "--jsno", "123"]);
    assert_eq!(misuse.status.code(), Some(4), "{misuse:?}");
    assert!(
        stderr(&misuse).starts_with("errore: argomento sconosciuto «--jsno»"),
        "{}",
        stderr(&misuse)
    );
    // No trust given and none in the data directory: a usage error too.
    let no_trust = sigillo(dir.path(), &["verify", "123456"]);
    assert_eq!(no_trust.status.code(), Some(4), "{no_trust:?}");
    assert!(
        stderr(&no_trust).contains("--trust"),
        "{}",
        stderr(&no_trust)
    );

    assert!(sigillo(dir.path(), &["init", "--demo"]).status.success());
    let out = dir.path().join("r.pdf");
    let out = out.to_str().expect("UTF-8 path");
    let issue = [
        "issue",
        "--kind",
        "residenza",
        "--cf",
        "PRSRRT80H69G504L",
        "--use",
        "esente:9",
        "--out",
        out,
    ];
    assert!(sigillo(dir.path(), &issue).status.success());
    // Authentic, its status not checkable offline without a list: 1.
    let checked = sigillo(dir.path(), &["verify", out]);
    assert_eq!(checked.status.code(), Some(1), "{checked:?}");
    // A PDF altered after signing: invalid, 2.
    let mut pdf = std::fs::read(out).expect("the PDF");
    let at = pdf.len() / 3;
    pdf[at] ^= 0x20;
    let altered = dir.path().join("altered.pdf");
    std::fs::write(&altered, pdf).expect("write");
    let invalid = sigillo(dir.path(), &["verify", altered.to_str().expect("UTF-8")]);
    assert_eq!(invalid.status.code(), Some(2), "{invalid:?}");
    // A picture with no seal in it: 3.
    let blank = dir.path().join("bianca.png");
    image::GrayImage::from_pixel(300, 200, image::Luma([255]))
        .save(&blank)
        .expect("write a PNG");
    let none = sigillo(dir.path(), &["verify", blank.to_str().expect("UTF-8")]);
    assert_eq!(none.status.code(), Some(3), "{none:?}");
    // Another command's misuse keeps 2.
    let other = sigillo(dir.path(), &["certificates", "lsit"]);
    assert_eq!(other.status.code(), Some(2));
    assert!(
        stderr(&other).contains("forse si intendeva «list»?"),
        "{}",
        stderr(&other)
    );
}

#[test]
fn a_compromised_signer_is_revoked_from_a_date_and_the_registry_tells_the_whole_story() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(sigillo(dir.path(), &["init", "--demo"]).status.success());
    let out = dir.path().join("r.pdf");
    let out = out.to_str().expect("UTF-8 path");
    let issued = sigillo(
        dir.path(),
        &[
            "issue",
            "--kind",
            "residenza",
            "--cf",
            "PRSRRT80H69G504L",
            "--use",
            "esente:9",
            "--out",
            out,
        ],
    );
    let number = stdout(&issued)
        .split("n. ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("number")
        .to_owned();
    let shown = stdout(&sigillo(dir.path(), &["keys", "show"]));
    let kid = shown
        .lines()
        .filter_map(|line| line.trim().strip_prefix("kid:"))
        .map(str::trim)
        .nth(1)
        .expect("the signer's kid")
        .to_owned();
    // The signer in use cannot be revoked: rotate first.
    let refused = sigillo(
        dir.path(),
        &["keys", "revoke-signer", &kid, "--since", "2026-01-01"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("keys rotate"),
        "{}",
        stderr(&refused)
    );
    assert!(sigillo(dir.path(), &["keys", "rotate"]).status.success());

    // Revoked from tomorrow: today's certificate stays authentic, warned.
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    let revoked = sigillo(
        dir.path(),
        &["keys", "revoke-signer", &kid, "--since", &tomorrow],
    );
    assert!(revoked.status.success(), "{revoked:?}");
    let later = sigillo(dir.path(), &["verify", out]);
    assert_eq!(later.status.code(), Some(1), "{later:?}");
    assert!(
        stdout(&later).contains("è stato revocato dal Comune dal"),
        "{}",
        stdout(&later)
    );
    // Revoked from before it was made: invalid at the key step.
    let yesterday = (time::OffsetDateTime::now_utc() - time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    assert!(
        sigillo(
            dir.path(),
            &["keys", "revoke-signer", &kid, "--since", &yesterday]
        )
        .status
        .success()
    );
    let earlier = sigillo(dir.path(), &["verify", "--json", out]);
    assert_eq!(earlier.status.code(), Some(2), "{earlier:?}");
    let report: serde_json::Value = serde_json::from_slice(&earlier.stdout).expect("JSON");
    assert_eq!(report["step"]["name"], "key");
    assert_eq!(report["reason"]["code"], "signer_revoked");
    assert!(stdout(&sigillo(dir.path(), &["keys", "show"])).contains("REVOCATO dal"));

    // The registry: who revoked the certificate, when and why; the list
    // takes the word it prints.
    assert!(
        sigillo(
            dir.path(),
            &[
                "certificates",
                "revoke",
                &number,
                "--reason",
                "chiave compromessa"
            ]
        )
        .status
        .success()
    );
    let shown = stdout(&sigillo(dir.path(), &["certificates", "show", &number]));
    assert!(shown.contains("stato:        revocato"), "{shown}");
    assert!(shown.contains("revocato:     il "), "{shown}");
    assert!(shown.contains(" da cli"), "{shown}");
    assert!(
        shown.contains("motivo:       chiave compromessa"),
        "{shown}"
    );
    assert!(shown.contains("bollo:        esente"), "{shown}");
    assert!(shown.contains("rilasciato:   "), "{shown}");
    let listed = sigillo(
        dir.path(),
        &["certificates", "list", "--status", "revocato"],
    );
    assert!(listed.status.success(), "{listed:?}");
    assert!(stdout(&listed).contains(&number), "{}", stdout(&listed));
    let wrong = sigillo(dir.path(), &["certificates", "list", "--status", "void"]);
    assert!(wrong.status.success(), "the code is taken too: {wrong:?}");
    let unknown = sigillo(dir.path(), &["certificates", "list", "--status", "perso"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("annullato"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn people_search_without_a_term_says_how_to_use_it_and_demo_honours_the_host() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bare = sigillo(dir.path(), &["people", "search"]);
    assert_eq!(bare.status.code(), Some(1), "{bare:?}");
    assert!(
        stderr(&bare).contains("sigillo people search rossi"),
        "{}",
        stderr(&bare)
    );
    std::fs::write(
        dir.path().join("sigillo.toml"),
        "[comune]\nverification_host = \"certificati.borgo.example.it\"\n",
    )
    .expect("config");
    let demo = sigillo(dir.path(), &["demo"]);
    assert!(demo.status.success(), "{demo:?}");
    assert!(
        stdout(&demo).contains("https://certificati.borgo.example.it/v#"),
        "{}",
        stdout(&demo)
    );
}
