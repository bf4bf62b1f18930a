//! The command line: `serve`, `token`, `admin ...`, `report`. Hand-parsed.
//! Usage errors exit with status 2, other failures with 1.

use maeum_contract::money::group_thousands;
use maeum_contract::Timestamp;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::campaign::Campaign;
use crate::clock::{system_now, Clock};
use crate::token::{valid_user_id, TokenKey};
use crate::{db, Config};

pub const USAGE: &str = "\
maeum-server: 전 국민 마음 패키지 reference backend

Usage:
  maeum-server serve --data-dir DIR [--addr 127.0.0.1:8080] [--dist DIR] [--dev]
                     [--campaign FILE] [--fake-now RFC3339 (only with --dev)]
  maeum-server token USER_ID --data-dir DIR
  maeum-server admin cap ITEM_ID N|none --data-dir DIR
  maeum-server admin ineligible USER_ID --reason TEXT --data-dir DIR
  maeum-server admin eligible USER_ID --data-dir DIR
  maeum-server admin pause|resume --data-dir DIR
  maeum-server admin release-at RFC3339 --data-dir DIR
  maeum-server admin closes-at RFC3339|none --data-dir DIR
  maeum-server report --data-dir DIR

Admin changes are written to DIR/maeum.sqlite3; a running server sees them on its next request.
The token secret is MAEUM_TOKEN_SECRET if set, else DIR/token.key (created on first use).
";

/// A failed command: a usage mistake (exit 2) or a failure (exit 1).
#[derive(Debug, PartialEq)]
pub enum CliError {
    Usage(String),
    Failed(String),
}

fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

fn failed(msg: impl std::fmt::Display) -> CliError {
    CliError::Failed(msg.to_string())
}

impl From<db::DbError> for CliError {
    fn from(e: db::DbError) -> Self {
        failed(e)
    }
}

/// Parsed flags and positional arguments of one command.
#[derive(Debug, Default)]
struct Args {
    positional: Vec<String>,
    values: HashMap<&'static str, String>,
    switches: Vec<&'static str>,
}

impl Args {
    fn parse(
        raw: &[String],
        value_flags: &[&'static str],
        switch_flags: &[&'static str],
    ) -> Result<Args, CliError> {
        let mut args = Args::default();
        let mut i = 0;
        while i < raw.len() {
            let arg = &raw[i];
            i += 1;
            if arg == "--" {
                args.positional.extend(raw[i..].iter().cloned());
                break;
            }
            let Some(flag) = arg.strip_prefix("--") else {
                args.positional.push(arg.clone());
                continue;
            };
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (flag, None),
            };
            if let Some(&known) = switch_flags.iter().find(|&&f| f == name) {
                if inline.is_some() {
                    return Err(usage(format!("--{name} takes no value")));
                }
                args.switches.push(known);
            } else if let Some(&known) = value_flags.iter().find(|&&f| f == name) {
                let value = match inline {
                    Some(v) => v,
                    None => {
                        let v = raw
                            .get(i)
                            .ok_or_else(|| usage(format!("--{name} needs a value")))?;
                        i += 1;
                        v.clone()
                    }
                };
                if args.values.insert(known, value).is_some() {
                    return Err(usage(format!("--{name} given twice")));
                }
            } else {
                return Err(usage(format!("unknown option --{name}")));
            }
        }
        Ok(args)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.contains(&name)
    }

    fn data_dir(&self) -> Result<PathBuf, CliError> {
        match self.value("data-dir") {
            Some(d) if !d.is_empty() => Ok(PathBuf::from(d)),
            _ => Err(usage("--data-dir DIR is required")),
        }
    }

    fn positionals(&self, want: usize, shape: &str) -> Result<&[String], CliError> {
        if self.positional.len() != want {
            return Err(usage(format!("expected: {shape}")));
        }
        Ok(&self.positional)
    }
}

fn parse_time(s: &str, what: &str) -> Result<Timestamp, CliError> {
    Timestamp::parse_rfc3339(s).map_err(|_| {
        usage(format!(
            "{what}: {s:?} is not an RFC 3339 time with an offset, e.g. 2023-01-05T09:00:00+09:00"
        ))
    })
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(msg)) => {
            eprintln!("maeum-server: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(msg)) => {
            eprintln!("maeum-server: {msg}");
            ExitCode::from(1)
        }
    }
}

pub fn run(args: &[String]) -> Result<(), CliError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(usage("no command given"));
    };
    match command.as_str() {
        "serve" => serve(rest),
        "token" => token(rest),
        "admin" => admin(rest),
        "report" => report(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn serve(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(
        raw,
        &["addr", "data-dir", "dist", "campaign", "fake-now"],
        &["dev"],
    )?;
    args.positionals(0, "maeum-server serve --data-dir DIR [options]")?;
    let mut config = Config::new(args.data_dir()?);
    let addr = args.value("addr").unwrap_or("127.0.0.1:8080");
    config.addr = addr.parse::<SocketAddr>().map_err(|_| {
        usage(format!(
            "--addr {addr:?} is not an address like 127.0.0.1:8080"
        ))
    })?;
    config.dist = args.value("dist").map(PathBuf::from);
    config.dev = args.switch("dev");
    if let Some(path) = args.value("campaign") {
        config.campaign = Campaign::load(std::path::Path::new(path)).map_err(usage)?;
    }
    if let Some(fake) = args.value("fake-now") {
        if !config.dev {
            return Err(usage("--fake-now only works together with --dev"));
        }
        config.clock = Arc::new(Clock::starting_at(parse_time(fake, "--fake-now")?));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(failed)?;
    runtime.block_on(async move {
        let dev = config.dev;
        let fake = args.value("fake-now").is_some();
        let server = crate::start(config).await.map_err(failed)?;
        if dev {
            eprintln!("maeum-server: --dev: GET /api/dev/login?user=ID hands out tokens");
        }
        if fake {
            eprintln!(
                "maeum-server: --fake-now: the server clock reads {}",
                server.clock().now()
            );
        }
        use std::io::Write as _;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on {}", server.url());
        let _ = out.flush();
        server.run_until_signal().await.map_err(failed)
    })
}

fn token(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(raw, &["data-dir"], &[])?;
    let user = &args.positionals(1, "maeum-server token USER_ID --data-dir DIR")?[0];
    if !valid_user_id(user) {
        return Err(usage(format!(
            "USER_ID {user:?} must be 1 to 64 characters of A-Z a-z 0-9 _ -"
        )));
    }
    let dir = args.data_dir()?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    let key = TokenKey::load_or_create(&dir).map_err(failed)?;
    println!("{}", key.issue(user, system_now().0 / 1000));
    Ok(())
}

fn admin(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(raw, &["data-dir", "reason"], &[])?;
    let Some(action) = args.positional.first().cloned() else {
        return Err(usage("admin needs an action: cap, ineligible, eligible, pause, resume, release-at, closes-at"));
    };
    if action != "ineligible" && args.value("reason").is_some() {
        return Err(usage("--reason only goes with admin ineligible"));
    }
    let now = system_now();
    match action.as_str() {
        "cap" => {
            let p = args.positionals(3, "maeum-server admin cap ITEM_ID N|none --data-dir DIR")?;
            let cap = match p[2].as_str() {
                "none" | "unlimited" => None,
                n => Some(
                    n.replace([',', '_'], "")
                        .parse::<u64>()
                        .ok()
                        .filter(|&n| n <= i64::MAX as u64)
                        .ok_or_else(|| {
                            usage(format!("cap {n:?} is not a whole number (or `none`)"))
                        })?,
                ),
            };
            let mut conn = db::open_existing(&args.data_dir()?)?;
            let (old, granted) = db::set_cap(&mut conn, &p[1], cap)?;
            let show = |c: Option<u64>| c.map_or("unlimited".to_string(), group_thousands);
            println!(
                "{}: cap {} -> {} ({} granted so far)",
                p[1],
                show(old),
                show(cap),
                group_thousands(granted)
            );
            if cap.is_some_and(|c| c < granted) {
                eprintln!("maeum-server: note: the new cap is below what was already granted; nothing more will be granted");
            }
        }
        "ineligible" => {
            let p = args.positionals(
                2,
                "maeum-server admin ineligible USER_ID --reason TEXT --data-dir DIR",
            )?;
            let reason = args
                .value("reason")
                .map(str::trim)
                .filter(|r| !r.is_empty());
            let reason = reason.ok_or_else(|| {
                usage("--reason TEXT is required (the Korean text shown to the user)")
            })?;
            check_user(&p[1])?;
            let mut conn = db::open_existing(&args.data_dir()?)?;
            db::set_ineligible(&mut conn, &p[1], Some(reason), now)?;
            println!("{}: ineligible ({reason})", p[1]);
        }
        "eligible" => {
            let p = args.positionals(2, "maeum-server admin eligible USER_ID --data-dir DIR")?;
            check_user(&p[1])?;
            let mut conn = db::open_existing(&args.data_dir()?)?;
            db::set_ineligible(&mut conn, &p[1], None, now)?;
            println!("{}: eligible", p[1]);
        }
        "pause" | "resume" => {
            args.positionals(1, &format!("maeum-server admin {action} --data-dir DIR"))?;
            let mut conn = db::open_existing(&args.data_dir()?)?;
            db::set_paused(&mut conn, action == "pause", now)?;
            println!(
                "{}",
                if action == "pause" {
                    "paused: claims now answer 503 paused"
                } else {
                    "resumed: claims are accepted"
                }
            );
        }
        "release-at" => {
            let p = args.positionals(2, "maeum-server admin release-at RFC3339 --data-dir DIR")?;
            let at = parse_time(&p[1], "release-at")?;
            let mut conn = db::open_existing(&args.data_dir()?)?;
            let old = db::set_release_at(&mut conn, at, now)?;
            println!("release_at {} -> {} ({} KST)", old, at, kst_full(at));
        }
        "closes-at" => {
            let p = args.positionals(
                2,
                "maeum-server admin closes-at RFC3339|none --data-dir DIR",
            )?;
            let at = match p[1].as_str() {
                "none" => None,
                t => Some(parse_time(t, "closes-at")?),
            };
            let mut conn = db::open_existing(&args.data_dir()?)?;
            db::set_closes_at(&mut conn, at, now)?;
            println!(
                "closes_at {}",
                at.map_or("none".to_string(), |t| format!("{t} ({} KST)", kst_full(t)))
            );
        }
        other => return Err(usage(format!("unknown admin action {other:?}"))),
    }
    Ok(())
}

fn check_user(user: &str) -> Result<(), CliError> {
    if valid_user_id(user) {
        Ok(())
    } else {
        Err(usage(format!(
            "USER_ID {user:?} must be 1 to 64 characters of A-Z a-z 0-9 _ -"
        )))
    }
}

/// `2023-01-05 09:00` in Korea time.
fn kst_minute(t: Timestamp) -> String {
    let c = t.kst();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute
    )
}

fn kst_full(t: Timestamp) -> String {
    let c = t.kst();
    format!("{}:{:02}", kst_minute(t), c.second)
}

fn report(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(raw, &["data-dir"], &[])?;
    args.positionals(0, "maeum-server report --data-dir DIR")?;
    let conn = db::open_existing(&args.data_dir()?)?;
    print!("{}", format_report(&db::report(&conn)?, system_now()));
    Ok(())
}

/// The report as printed (times in Korea time).
pub fn format_report(r: &db::Report, now: Timestamp) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let s = &r.settings;
    let _ = writeln!(out, "maeum report, {} KST", kst_full(now));
    let _ = writeln!(
        out,
        "release_at  {} KST ({})",
        kst_full(s.release_at),
        s.release_at
    );
    let _ = writeln!(
        out,
        "closes_at   {}",
        s.closes_at
            .map_or("-".to_string(), |t| format!("{} KST ({t})", kst_full(t)))
    );
    let _ = writeln!(out, "paused      {}", if s.paused { "yes" } else { "no" });

    let _ = writeln!(out, "\nitems");
    let _ = writeln!(
        out,
        "  {:<20} {:>12} {:>12} {:>12}",
        "item", "cap", "granted", "remaining"
    );
    for item in &r.items {
        let cap = item.cap.map_or("-".to_string(), group_thousands);
        let remaining = item.cap.map_or("-".to_string(), |c| {
            group_thousands(c.saturating_sub(item.granted))
        });
        let _ = writeln!(
            out,
            "  {:<20} {:>12} {:>12} {:>12}",
            item.id,
            cap,
            group_thousands(item.granted),
            remaining
        );
    }

    let _ = writeln!(out, "\nclaims granted per minute (KST)");
    if r.granted_per_minute.is_empty() {
        let _ = writeln!(out, "  none");
    } else {
        let _ = writeln!(out, "  {:<17} {:<20} {:>9}", "minute", "item", "granted");
        for m in &r.granted_per_minute {
            let _ = writeln!(
                out,
                "  {:<17} {:<20} {:>9}",
                kst_minute(m.minute),
                m.key,
                group_thousands(m.count)
            );
        }
    }

    let before: u64 = r.granted_before_release.iter().map(|(_, n)| n).sum();
    let _ = writeln!(
        out,
        "\nclaims dated before release_at: {}",
        group_thousands(before)
    );
    for (item, n) in &r.granted_before_release {
        let _ = writeln!(out, "  {:<20} {:>9}", item, group_thousands(*n));
    }

    let _ = write!(
        out,
        "\nearly attempts refused: {} from {} users",
        group_thousands(r.early_total),
        group_thousands(r.early_users)
    );
    if let (Some(first), Some(last)) = (r.early_first, r.early_last) {
        let _ = write!(out, ", {} to {} KST", kst_full(first), kst_full(last));
    }
    let _ = writeln!(out);
    if !r.early_per_minute.is_empty() {
        let _ = writeln!(
            out,
            "  {:<17} {:<20} {:>9} {:>7}",
            "minute", "endpoint", "attempts", "users"
        );
        for m in &r.early_per_minute {
            let _ = writeln!(
                out,
                "  {:<17} {:<20} {:>9} {:>7}",
                kst_minute(m.minute),
                m.key,
                group_thousands(m.count),
                group_thousands(m.users)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_take_values_inline_or_next_and_reject_unknowns() {
        let a = Args::parse(
            &strings(&["x", "--data-dir=/d", "--dev", "--addr", "1.2.3.4:5"]),
            &["data-dir", "addr"],
            &["dev"],
        )
        .unwrap();
        assert_eq!(a.positional, ["x"]);
        assert_eq!(
            (a.value("data-dir"), a.value("addr"), a.switch("dev")),
            (Some("/d"), Some("1.2.3.4:5"), true)
        );
        assert!(matches!(
            Args::parse(&strings(&["--nope"]), &[], &[]),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            Args::parse(&strings(&["--addr"]), &["addr"], &[]),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            Args::parse(&strings(&["--dev=1"]), &[], &["dev"]),
            Err(CliError::Usage(_))
        ));
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
            &["admin", "release-at", "tomorrow", "--data-dir", "/tmp/x"],
            &["admin", "launch", "--data-dir", "/tmp/x"],
        ] {
            assert!(
                matches!(run(&strings(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }
}
