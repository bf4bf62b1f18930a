//! The command line: `serve`, `token`, `admin …`, `report` (clap derive, see
//! [`args`]). Usage errors exit with status 2, other failures with 1.

mod admin;
pub mod args;
mod report;

use std::process::ExitCode;
use std::sync::Arc;

use crate::campaign::Campaign;
use crate::clock::{system_now, Clock};
use crate::token::TokenKey;
use crate::Config;

use args::{usage, CliError, Command, ServeArgs};
pub use report::format_report;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Shown(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(CliError::Usage(msg)) => {
            eprintln!("maeum-server: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(msg)) => {
            eprintln!("maeum-server: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Runs one command line (without the program name).
pub fn run(args: &[String]) -> Result<(), CliError> {
    let cli = args::parse(args)?;
    match cli.command {
        Command::Serve(serve_args) => serve(*serve_args),
        Command::Token { user, count, data } => {
            std::fs::create_dir_all(&data.dir).map_err(|e| {
                CliError::failed(format!("cannot create {}: {e}", data.dir.display()))
            })?;
            let key = TokenKey::load_or_create(&data.dir).map_err(CliError::failed)?;
            let now = system_now().0 / 1000;
            match count {
                None => println!("{}", key.issue(&user, now)),
                Some(n) => {
                    use std::io::Write as _;
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    for i in 0..n {
                        let _ = writeln!(out, "{}", key.issue(&format!("{user}-{i}"), now));
                    }
                }
            }
            Ok(())
        }
        Command::Admin(action) => admin::run(action),
        Command::Report { data } => report::run(data),
    }
}

/// The server's [`Config`] from `serve`'s flags.
fn config(args: &ServeArgs) -> Result<Config, CliError> {
    let mut config = Config::new(args.data.dir.clone());
    config.addr = args.addr;
    config.dist = args.dist.clone();
    config.dev = args.dev;
    if let Some(path) = &args.campaign {
        config.campaign = Campaign::load(path).map_err(|e| usage(&["serve"], e))?;
    }
    if let Some(fake) = args.fake_now {
        if !args.dev {
            return Err(usage(
                &["serve"],
                "--fake-now only works together with --dev",
            ));
        }
        config.clock = Arc::new(Clock::starting_at(fake));
    }
    if let Some(n) = args.max_in_flight {
        config.max_in_flight = n;
    }
    config.rate_limit = if args.no_rate_limit {
        None
    } else {
        let mut limit = crate::RateLimit::default();
        limit.burst = args.rate_burst.unwrap_or(limit.burst);
        limit.per_second = args.rate_per_second.unwrap_or(limit.per_second);
        Some(limit)
    };
    config.database = args.data.database.clone();
    config.uploads = args.uploads.clone();
    if let Some(n) = args.database_pool {
        config.database_pool = n;
    }
    if let Some(q) = args.upload_quota {
        config.upload_quota = q;
    }
    config.allow_origins = args.allow_origins.clone();
    config.connect_src = args.connect_src.clone();
    config.metrics_addr = args.metrics_addr;
    let jwks = match (&args.jwks_url, &args.jwks_file) {
        (Some(url), _) => Some(crate::jwt::JwksSource::Url(url.clone())),
        (None, Some(file)) => Some(crate::jwt::JwksSource::File(file.clone())),
        (None, None) => None,
    };
    config.jwt = match (jwks, &args.issuer, &args.audience) {
        (Some(jwks), Some(issuer), Some(audience)) => Some(crate::jwt::JwtConfig {
            jwks,
            issuer: issuer.clone(),
            audience: audience.clone(),
        }),
        _ => None,
    };
    config.shutdown_grace = std::time::Duration::from_secs(args.shutdown_grace_seconds);
    Ok(config)
}

fn serve(args: ServeArgs) -> Result<(), CliError> {
    let config = config(&args)?;
    crate::logging::init(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::failed)?;
    runtime.block_on(async move {
        let server = crate::start(config).await.map_err(CliError::failed)?;
        if args.dev {
            eprintln!("maeum-server: --dev: GET /api/dev/login?user=ID hands out tokens");
        }
        if args.fake_now.is_some() {
            eprintln!(
                "maeum-server: --fake-now: the server clock reads {}",
                server.clock().now()
            );
        }
        use std::io::Write as _;
        let mut out = std::io::stdout();
        tracing::info!(
            addr = %server.addr(),
            metrics = server.metrics_url().as_deref().unwrap_or("off"),
            "listening"
        );
        let _ = writeln!(out, "listening on {}", server.url());
        if let Some(url) = server.metrics_url() {
            let _ = writeln!(out, "metrics on {url}");
        }
        let _ = out.flush();
        server.run_until_signal().await.map_err(CliError::failed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use args::Cli;
    use clap::Parser;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn serve_args(extra: &[&str]) -> Result<ServeArgs, CliError> {
        let mut line = vec!["maeum-server", "serve", "--data-dir", "/d"];
        line.extend(extra);
        match Cli::try_parse_from(line)?.command {
            Command::Serve(a) => Ok(*a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_take_values_inline_or_next_and_repeat_where_they_may() {
        let a = serve_args(&[
            "--addr=1.2.3.4:5",
            "--dev",
            "--allow-origin",
            "https://a",
            "--allow-origin=https://b",
            "--upload-quota",
            "1,000",
        ])
        .unwrap();
        assert_eq!(a.addr.to_string(), "1.2.3.4:5");
        assert!(a.dev);
        assert_eq!(a.allow_origins, ["https://a", "https://b"]);
        assert!(a.connect_src.is_empty());
        assert_eq!(a.upload_quota, Some(1000));
        assert_eq!(serve_args(&[]).unwrap().addr.to_string(), "127.0.0.1:8080");
        for bad in [
            &["--nope"][..],
            &["--addr"],
            &["--dev=1"],
            &["--addr", "1.2.3.4:5", "--addr", "1.2.3.4:6"],
        ] {
            assert!(
                matches!(serve_args(bad), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn help_and_version_are_shown_not_failures() {
        for line in [
            &["--help"][..],
            &["--version"],
            &["serve", "--help"],
            &["admin", "claims", "reject", "--help"],
        ] {
            assert!(
                matches!(run(&strings(line)), Err(CliError::Shown(_))),
                "{line:?}"
            );
        }
    }

    #[test]
    fn usage_mistakes_are_usage_errors() {
        for bad in [
            &[][..],
            &["frobnicate"],
            &["serve"],
            &[
                "serve",
                "--data-dir",
                "/tmp/x",
                "--fake-now",
                "2023-01-05T09:00:00+09:00",
            ],
            &["serve", "--data-dir", "/tmp/x", "--addr", "nope"],
            &["token", "--data-dir", "/tmp/x"],
            &["token", "bad user", "--data-dir", "/tmp/x"],
            &[
                "admin",
                "cap",
                "drawer-plus-1m",
                "many",
                "--data-dir",
                "/tmp/x",
            ],
            &["admin", "ineligible", "u1", "--data-dir", "/tmp/x"],
            &[
                "admin",
                "ineligible",
                "u1",
                "--reason",
                " ",
                "--data-dir",
                "/tmp/x",
            ],
            &["admin", "release-at", "tomorrow", "--data-dir", "/tmp/x"],
            &["admin", "launch", "--data-dir", "/tmp/x"],
            &["serve", "--data-dir", "/tmp/x", "--max-in-flight", "0"],
            &["serve", "--data-dir", "/tmp/x", "--rate-burst", "0"],
            &["serve", "--data-dir", "/tmp/x", "--rate-per-second", "fast"],
            &[
                "serve",
                "--data-dir",
                "/tmp/x",
                "--no-rate-limit",
                "--rate-burst",
                "5",
            ],
            &[
                "serve",
                "--data-dir",
                "/tmp/x",
                "--allow-origin",
                "app.example",
            ],
            &[
                "serve",
                "--data-dir",
                "/tmp/x",
                "--connect-src",
                "https://a.example/api",
            ],
            &["serve", "--data-dir", ""],
            &["admin", "claims", "--data-dir", "/tmp/x"],
            &["admin", "claims", "approve", "--data-dir", "/tmp/x"],
            &[
                "admin",
                "claims",
                "reject",
                "D-2301-ABCDEF",
                "--data-dir",
                "/tmp/x",
            ],
            &[
                "admin",
                "claims",
                "pay",
                "D-2301-ABCDEF",
                "--reason",
                "x",
                "--data-dir",
                "/tmp/x",
            ],
            &[
                "admin",
                "claims",
                "review",
                "D-2301-ABCDEF",
                "--won",
                "1",
                "--data-dir",
                "/tmp/x",
            ],
            &[
                "admin",
                "cap",
                "drawer-plus-1m",
                "5",
                "--won",
                "1",
                "--data-dir",
                "/tmp/x",
            ],
        ] {
            match run(&strings(bad)) {
                Err(CliError::Usage(text)) => assert!(text.contains("Usage:"), "{bad:?}: {text}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
