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
                     [--max-in-flight 512] [--rate-burst 10] [--rate-per-second 2]
                     [--no-rate-limit] [--upload-quota 30]
                     [--allow-origin ORIGIN]... [--connect-src ORIGIN]...
  maeum-server token USER_ID --data-dir DIR
  maeum-server admin cap ITEM_ID N|none --data-dir DIR
  maeum-server admin ineligible USER_ID --reason TEXT --data-dir DIR
  maeum-server admin eligible USER_ID --data-dir DIR
  maeum-server admin pause|resume --data-dir DIR
  maeum-server admin release-at RFC3339 --data-dir DIR
  maeum-server admin closes-at RFC3339|none --data-dir DIR
  maeum-server admin claims list --data-dir DIR
  maeum-server admin claims review|approve|pay RECEIPT --data-dir DIR
  maeum-server admin claims approve RECEIPT --won N --data-dir DIR   (after a proof review)
  maeum-server admin claims reject RECEIPT --reason TEXT --data-dir DIR
  maeum-server report --data-dir DIR

Several servers may share one data directory (SQLite WAL). --allow-origin lets an app
on another origin call the API (CORS); --connect-src adds API origins to the app's
Content-Security-Policy (absolute URLs in the dist's config.json are added by themselves).

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
    repeated: HashMap<&'static str, Vec<String>>,
    switches: Vec<&'static str>,
}

impl Args {
    fn parse(
        raw: &[String],
        value_flags: &[&'static str],
        switch_flags: &[&'static str],
    ) -> Result<Args, CliError> {
        Args::parse_with(raw, value_flags, &[], switch_flags)
    }

    /// Like `parse`, with flags that may be given more than once.
    fn parse_with(
        raw: &[String],
        value_flags: &[&'static str],
        repeat_flags: &[&'static str],
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
            } else if let Some(&known) =
                value_flags.iter().chain(repeat_flags).find(|&&f| f == name)
            {
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
                if repeat_flags.contains(&known) {
                    args.repeated.entry(known).or_default().push(value);
                } else if args.values.insert(known, value).is_some() {
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

    fn all(&self, name: &str) -> &[String] {
        self.repeated.get(name).map_or(&[], Vec::as_slice)
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, CliError> {
        self.value(name)
            .map(|v| {
                v.replace([',', '_'], "")
                    .parse::<T>()
                    .map_err(|_| usage(format!("--{name} {v:?} is not a number")))
            })
            .transpose()
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
    let args = Args::parse_with(
        raw,
        &[
            "addr",
            "data-dir",
            "dist",
            "campaign",
            "fake-now",
            "max-in-flight",
            "rate-burst",
            "rate-per-second",
            "upload-quota",
        ],
        &["allow-origin", "connect-src"],
        &["dev", "no-rate-limit"],
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
    if let Some(n) = args.number::<usize>("max-in-flight")? {
        if n == 0 {
            return Err(usage("--max-in-flight must be at least 1"));
        }
        config.max_in_flight = n;
    }
    let burst = args.number::<u32>("rate-burst")?;
    let per_second = args.number::<f64>("rate-per-second")?;
    if args.switch("no-rate-limit") {
        if burst.is_some() || per_second.is_some() {
            return Err(usage(
                "--no-rate-limit cannot go with --rate-burst or --rate-per-second",
            ));
        }
        config.rate_limit = None;
    } else {
        let mut limit = crate::RateLimit::default();
        if let Some(b) = burst {
            limit.burst = b;
        }
        if let Some(r) = per_second {
            limit.per_second = r;
        }
        if limit.burst == 0 || !(limit.per_second.is_finite() && limit.per_second > 0.0) {
            return Err(usage(
                "--rate-burst and --rate-per-second must be above 0 (or use --no-rate-limit)",
            ));
        }
        config.rate_limit = Some(limit);
    }
    if let Some(q) = args.number::<u64>("upload-quota")? {
        config.upload_quota = q;
    }
    for (flag, list) in [
        ("allow-origin", &mut config.allow_origins),
        ("connect-src", &mut config.connect_src),
    ] {
        for value in args.all(flag) {
            let origin = crate::headers::origin_of(value)
                .filter(|o| o.len() == value.trim_end_matches('/').len())
                .ok_or_else(|| {
                    usage(format!(
                        "--{flag} {value:?} is not an origin like https://app.example.com"
                    ))
                })?;
            list.push(origin);
        }
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
    let args = Args::parse(raw, &["data-dir", "reason", "won"], &[])?;
    let Some(action) = args.positional.first().cloned() else {
        return Err(usage("admin needs an action: cap, ineligible, eligible, pause, resume, release-at, closes-at, claims"));
    };
    if action == "claims" {
        return admin_claims(&args);
    }
    if action != "ineligible" && args.value("reason").is_some() {
        return Err(usage(
            "--reason only goes with admin ineligible or admin claims reject",
        ));
    }
    if args.value("won").is_some() {
        return Err(usage("--won only goes with admin claims approve"));
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

/// `admin claims list|review|approve|reject|pay`.
fn admin_claims(args: &Args) -> Result<(), CliError> {
    use crate::bizdb::{self, Decision};
    let sub = args.positional.get(1).map(String::as_str).unwrap_or("");
    if sub != "reject" && args.value("reason").is_some() {
        return Err(usage("--reason only goes with admin claims reject"));
    }
    if sub != "approve" && args.value("won").is_some() {
        return Err(usage("--won only goes with admin claims approve"));
    }
    if sub == "list" {
        args.positionals(2, "maeum-server admin claims list --data-dir DIR")?;
        let conn = db::open_existing(&args.data_dir()?)?;
        print!("{}", format_claims(&bizdb::list_damage_claims(&conn)?));
        return Ok(());
    }
    let shape = match sub {
        "review" | "approve" | "pay" => {
            format!("maeum-server admin claims {sub} RECEIPT --data-dir DIR")
        }
        "reject" => "maeum-server admin claims reject RECEIPT --reason TEXT --data-dir DIR".into(),
        _ => {
            return Err(usage(
                "admin claims needs an action: list, review, approve, reject, pay",
            ))
        }
    };
    let p = args.positionals(3, &shape)?;
    let decision = match sub {
        "review" => Decision::Review,
        "pay" => Decision::Pay,
        "approve" => Decision::Approve {
            won: args.number::<u64>("won")?,
        },
        _ => {
            let reason = args
                .value("reason")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .ok_or_else(|| {
                    usage("--reason TEXT is required (the Korean text shown to the applicant)")
                })?;
            Decision::Reject {
                reason: reason.to_string(),
            }
        }
    };
    let mut conn = db::open_existing(&args.data_dir()?)?;
    let (before, after) = bizdb::decide_damage_claim(&mut conn, &p[2], &decision, system_now())?;
    println!(
        "{}: {} -> {}{}",
        after.receipt_no,
        bizdb::status_str(before.status),
        bizdb::status_str(after.status),
        after
            .reason
            .as_deref()
            .filter(|_| after.status == maeum_contract::business::DamageClaimStatus::Rejected)
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    Ok(())
}

fn support_text(s: maeum_contract::business::Support) -> String {
    match s {
        maeum_contract::business::Support::Won { won } => maeum_contract::money::format_won(won),
        maeum_contract::business::Support::Review { .. } => "review".to_string(),
    }
}

/// The operator's table of damage claims (no personal details beyond the business).
pub fn format_claims(rows: &[crate::bizdb::DamageClaimRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<10} {:<13} {:>15} {:>10}  {:<17}",
        "receipt", "status", "brn", "loss", "support", "submitted (KST)"
    );
    for r in rows {
        let brn = maeum_contract::business::Brn::parse(&r.brn)
            .map(|b| b.display())
            .unwrap_or_else(|_| r.brn.clone());
        let _ = writeln!(
            out,
            "{:<14} {:<10} {:<13} {:>15} {:>10}  {:<17}",
            r.receipt_no,
            crate::bizdb::status_str(r.status),
            brn,
            maeum_contract::money::format_won(r.loss_won),
            support_text(r.support),
            kst_minute(r.submitted_at)
        );
    }
    let _ = writeln!(out, "{} damage claims", group_thousands(rows.len() as u64));
    out
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
    fn repeatable_flags_collect_every_value() {
        let a = Args::parse_with(
            &strings(&["--allow-origin", "https://a", "--allow-origin=https://b"]),
            &[],
            &["allow-origin"],
            &[],
        )
        .unwrap();
        assert_eq!(a.all("allow-origin"), ["https://a", "https://b"]);
        assert!(a.all("connect-src").is_empty());
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
            assert!(
                matches!(run(&strings(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }
}
