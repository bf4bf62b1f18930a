//! `maeum-conformance --base URL --token-cmd 'COMMAND {user}'`: checks a backend
//! against the maeum contract and prints what is wrong, check by check.

use clap::Parser;
use maeum_conformance::people::{Admin, Tokens};
use std::path::PathBuf;
use std::process::ExitCode;

/// Checks a backend against the maeum contract (contract/openapi.yaml) over HTTP.
///
/// Exit status 0 only when no check failed. Each run uses new users and new
/// businesses, so it can run again and again against the same backend.
#[derive(Parser)]
#[command(version, after_help = AFTER_HELP)]
struct Cli {
    /// The API base, e.g. https://api.example.com/api
    #[arg(long)]
    base: String,
    /// Prints a bearer token for a user id, e.g. 'maeum-server token {user} --data-dir DIR'
    #[arg(
        long,
        value_name = "COMMAND {user}",
        required_unless_present = "tokens",
        conflicts_with = "tokens"
    )]
    token_cmd: Option<String>,
    /// `user token` per line, users never used before (the kit says how many it needs)
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// Operator hook taking `cap ITEM N|none`, `pause`, `resume`, `release-at RFC3339`,
    /// e.g. 'maeum-server admin {args} --data-dir DIR'. Without it those checks are skipped.
    #[arg(long, value_name = "COMMAND {args}")]
    admin_cmd: Option<String>,
    /// The app's origin, for the CORS checks (skipped without it)
    #[arg(long, value_name = "ORIGIN")]
    app_origin: Option<String>,
    /// Only this group of checks (repeatable)
    #[arg(long, value_parser = maeum_conformance::checks::GROUPS)]
    only: Vec<String>,
    /// Also write the results as JUnit XML
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print the results as JSON instead of text
    #[arg(long)]
    json: bool,
}

const AFTER_HELP: &str = "Against the reference server:
  maeum-conformance --base http://127.0.0.1:8080/api \\
    --token-cmd 'maeum-server token {user} --data-dir DIR' \\
    --admin-cmd 'maeum-server admin {args} --data-dir DIR'";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let tokens = match (&cli.token_cmd, &cli.tokens) {
        (Some(cmd), _) => Tokens::Command(cmd.clone()),
        (None, Some(file)) => match Tokens::from_file(file) {
            Ok(t) => t,
            Err(e) => return fail(&e),
        },
        (None, None) => return fail("give --token-cmd or --tokens"),
    };
    let report = match maeum_conformance::run(maeum_conformance::Config {
        base: cli.base,
        tokens,
        admin: cli.admin_cmd.map(Admin::Command),
        app_origin: cli.app_origin,
        only: cli.only,
    }) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if let Some(path) = &cli.junit {
        if let Err(e) = std::fs::write(path, report.junit()) {
            return fail(&format!("{}: {e}", path.display()));
        }
    }
    if cli.json {
        println!("{:#}", report.json());
    } else {
        print!("{}", report.text());
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fail(why: &str) -> ExitCode {
    eprintln!("maeum-conformance: {why}");
    ExitCode::from(2)
}
