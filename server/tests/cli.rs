//! The real `maeum-server` binary: serve, token, usage errors, campaign files.

mod common;

use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_maeum-server");

/// Spawns `serve` and waits for its `listening on http://ADDR` line.
fn spawn_serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, url)
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap()
}

#[tokio::test]
async fn serve_on_port_zero_prints_the_real_address_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (child, url) = spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let status: Value = reqwest::get(format!("{url}/api/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["open"], true);
    assert!(data.join("maeum.sqlite3").is_file() && data.join("token.key").is_file());

    // A token printed by the CLI works against the running server.
    let out = cli(&Backing::sqlite(&data), &["token", "alice"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    let res = reqwest::Client::new()
        .get(format!("{url}/api/v1/me/claims"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let exit = terminate(child);
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

#[tokio::test]
async fn fake_now_moves_the_server_clock_only_in_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            d,
            "--fake-now",
            "2023-01-05T08:59:00+09:00",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--fake-now only works together with --dev"),
        "{}",
        stderr(&out)
    );

    let (child, url) = spawn_serve(&[
        "--dev",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        d,
        "--fake-now",
        "2023-01-05T08:59:00+09:00",
    ]);
    let status: Value = reqwest::get(format!("{url}/api/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["open"], false);
    assert!(
        status["server_time"]
            .as_str()
            .unwrap()
            .starts_with("2023-01-04T23:59:0"),
        "{status}"
    );
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = login
        .get(format!("{url}/api/dev/login?user=designer"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    terminate(child);
}

#[test]
fn usage_mistakes_exit_2_with_a_message_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for args in [
        vec![],
        vec!["launch"],
        vec!["serve"],
        vec!["serve", "--data-dir", d, "--addr", "localhost"],
        vec!["serve", "--data-dir", d, "--colour"],
        vec!["token", "--data-dir", d],
        vec!["token", "no spaces allowed", "--data-dir", d],
        vec!["admin", "--data-dir", d],
        vec!["admin", "cap", "drawer-plus-1m", "--data-dir", d],
        vec!["admin", "cap", "drawer-plus-1m", "lots", "--data-dir", d],
        vec!["admin", "ineligible", "u1", "--data-dir", d],
        vec!["admin", "release-at", "2023-01-05 09:00", "--data-dir", d],
        vec!["report"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("Usage:") && err.starts_with("maeum-server: "),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success() && stdout(&help).contains("admin release-at"));
}

#[test]
fn every_command_has_help_and_the_binary_a_version() {
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("maeum-server {}", env!("CARGO_PKG_VERSION"))
    );
    for (line, expect) in [
        (&["serve", "--help"][..], "--metrics-addr"),
        (&["serve", "--help"], "--jwks-url"),
        (&["token", "--help"], "USER_ID"),
        (&["admin", "--help"], "release-at"),
        (&["admin", "cap", "--help"], "N|none"),
        (&["admin", "claims", "--help"], "reject"),
        (&["admin", "claims", "reject", "--help"], "--reason"),
        (&["report", "--help"], "--data-dir"),
    ] {
        let out = Command::new(BIN).args(line).output().unwrap();
        assert!(out.status.success(), "{line:?}");
        assert!(stdout(&out).contains(expect), "{line:?}: {}", stdout(&out));
    }
    // A JWKS needs its issuer and audience; a wrong format value is a usage error.
    for line in [
        &[
            "serve",
            "--data-dir",
            "/tmp/x",
            "--jwks-url",
            "http://idp/jwks",
        ][..],
        &["serve", "--data-dir", "/tmp/x", "--log-format", "xml"],
        &["serve", "--data-dir", "/tmp/x", "--metrics-addr", "nowhere"],
    ] {
        let out = Command::new(BIN).args(line).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{line:?}");
        assert!(stderr(&out).contains("Usage:"), "{line:?}");
    }
}

#[test]
fn admin_and_report_need_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["admin", "pause"][..],
        &["report"],
        &["admin", "cap", "drawer-plus-1m", "5"],
    ] {
        let out = cli(&Backing::sqlite(dir.path()), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("start `maeum-server serve"),
            "{}",
            stderr(&out)
        );
    }
    assert!(
        !dir.path().join("maeum.sqlite3").exists(),
        "admin must not create an empty database"
    );
}

#[tokio::test]
async fn a_campaign_file_sets_items_and_release_and_a_bad_one_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("campaign.toml");
    std::fs::write(
        &file,
        r#"release_at = "2030-05-01T10:00:00+09:00"
[[items]]
id = "only-one"
kind = "voucher"
title = "시험용 이용권"
price_won = 1000
validity = { type = "months", months = 2 }
cap = 7
code_prefix = "TST"
"#,
    )
    .unwrap();
    let (child, url) = spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
        "--campaign",
        file.to_str().unwrap(),
    ]);
    let status: Value = reqwest::get(format!("{url}/api/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["release_at"], "2030-05-01T01:00:00Z");
    terminate(child);
    let items: Vec<(String, Option<i64>)> = db(&data)
        .prepare("SELECT id, cap FROM items")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(items, [("only-one".to_string(), Some(7))]);

    std::fs::write(&file, "release_at = \"soon\"\n").unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            data.to_str().unwrap(),
            "--campaign",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("campaign file"), "{}", stderr(&out));
}
