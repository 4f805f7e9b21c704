//! The `sigillo` command line, run as a user runs it.

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
fn running_without_a_command_creates_demo_keys_and_verifies_a_sample_seal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = sigillo(dir.path(), &[]);
    assert!(first.status.success(), "{first:?}");
    assert!(stdout(&first).contains("create"), "{}", stdout(&first));
    assert!(stdout(&first).contains("firma verificata"));
    assert!(
        dir.path()
            .join("sigillo-data/keys/999001/ca.crt.pem")
            .exists()
    );

    let second = sigillo(dir.path(), &[]);
    assert!(second.status.success());
    assert!(
        stdout(&second).contains("già presenti"),
        "{}",
        stdout(&second)
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
