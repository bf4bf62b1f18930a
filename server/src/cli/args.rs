//! The command line as data: every command, flag and value check (clap derive).

use clap::{Args, Parser, Subcommand};
use maeum_contract::Timestamp;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Shown under `maeum-server --help`.
const OVERVIEW: &str = "\
Commands at a glance:
  maeum-server serve --data-dir DIR [--addr 127.0.0.1:8080] [--dist DIR] [--dev] ...
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

Admin changes are written to DIR/maeum.sqlite3 (or the --database / DATABASE_URL PostgreSQL);
a running server sees them on its next request. --uploads s3://BUCKET/PREFIX keeps evidence in
an S3-compatible store (AWS_* variables; see docs/scaling.md).
The token secret is MAEUM_TOKEN_SECRET if set, else DIR/token.key (created on first use).
See docs/operations.md for running it in production.";

#[derive(Debug, Parser)]
#[command(
    name = "maeum-server",
    version,
    about = "전 국민 마음 패키지 reference backend",
    after_help = OVERVIEW
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves the API (and, with --dist, the built app) until SIGTERM or ctrl-c.
    Serve(Box<ServeArgs>),
    /// Prints a bearer token for USER_ID (the server's own dev tokens).
    Token {
        #[arg(value_name = "USER_ID", value_parser = user_id)]
        user: String,
        /// Prints N tokens instead, for USER_ID-0 ... USER_ID-(N-1), one a line (load tests).
        #[arg(long, value_name = "N")]
        count: Option<u32>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Changes the campaign in the database; a running server sees it on its next request.
    #[command(subcommand)]
    Admin(Admin),
    /// Prints items, grants per minute and early attempts.
    Report {
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Debug, Args)]
pub struct DataDir {
    /// The data directory: maeum.sqlite3, token.key, uploads/.
    #[arg(long = "data-dir", value_name = "DIR", value_parser = non_empty_path)]
    pub dir: PathBuf,
    /// Keep the data in PostgreSQL (postgres://USER@HOST:PORT/DB) instead of DIR/maeum.sqlite3.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,
}

impl DataDir {
    /// The database these arguments name.
    pub fn database(&self) -> Result<crate::store::Database, CliError> {
        crate::store::Database::choose(self.database.as_deref(), &self.dir).map_err(CliError::Usage)
    }

    /// Opens the existing database on a small runtime and runs `f` on it (for `admin` and `report`).
    pub fn with_store<R>(
        &self,
        f: impl AsyncFnOnce(&crate::store::Store) -> Result<R, CliError>,
    ) -> Result<R, CliError> {
        let database = self.database()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::failed(format!("cannot start the runtime: {e}")))?;
        runtime.block_on(async {
            let store = crate::store::Store::open_existing(&database).await?;
            f(&store).await
        })
    }
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("jwks").args(["jwks_url", "jwks_file"]))]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// Address to listen on (port 0: any free port; the real one is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = socket_addr)]
    pub addr: SocketAddr,
    /// The built app to serve beside the API.
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// Adds GET /api/dev/login?user=ID, which hands out tokens.
    #[arg(long)]
    pub dev: bool,
    /// A campaign TOML file (items, caps, release time) instead of the shipped one.
    #[arg(long, value_name = "FILE")]
    pub campaign: Option<PathBuf>,
    /// Starts the server clock at this instant (only with --dev).
    #[arg(long, value_name = "RFC3339", value_parser = time)]
    pub fake_now: Option<Timestamp>,
    /// API requests handled at once in this process; more are shed with 503 busy.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub max_in_flight: Option<usize>,
    /// Claim requests one user may send at once (per process).
    #[arg(long, value_name = "N", value_parser = at_least_one_u32)]
    pub rate_burst: Option<u32>,
    /// Claim requests one user may send per second after the burst (per process).
    #[arg(long, value_name = "R", value_parser = positive_rate)]
    pub rate_per_second: Option<f64>,
    /// Turns the per-user rate limit off.
    #[arg(long, conflicts_with_all = ["rate_burst", "rate_per_second"])]
    pub no_rate_limit: bool,
    /// Evidence uploads one user may store.
    #[arg(long, value_name = "N", value_parser = number::<u64>)]
    pub upload_quota: Option<u64>,
    /// Connections to PostgreSQL this process keeps at most (default 8).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub database_pool: Option<usize>,
    /// Keep evidence in an S3-compatible bucket (s3://BUCKET/PREFIX) instead of DIR/uploads;
    /// credentials and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ENDPOINT_URL (AWS_ALLOW_HTTP=true for a plain-HTTP endpoint).
    #[arg(long, value_name = "URL", value_parser = s3_url)]
    pub uploads: Option<String>,
    /// An app origin allowed to call the API from another origin (CORS); repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN", value_parser = origin)]
    pub allow_origins: Vec<String>,
    /// An API origin added to the app's connect-src; repeatable.
    #[arg(long = "connect-src", value_name = "ORIGIN", value_parser = origin)]
    pub connect_src: Vec<String>,
    /// Accept identity tokens (JWT, RS256 or ES256) verified with this JWKS URL
    /// instead of the server's own tokens.
    #[arg(long, value_name = "URL", requires_all = ["issuer", "audience"], conflicts_with = "jwks_file")]
    pub jwks_url: Option<String>,
    /// Like --jwks-url, with the JWKS read from a file once at start.
    #[arg(long, value_name = "FILE", requires_all = ["issuer", "audience"])]
    pub jwks_file: Option<PathBuf>,
    /// The `iss` identity tokens must carry.
    #[arg(long, value_name = "ISSUER", requires = "jwks")]
    pub issuer: Option<String>,
    /// The `aud` identity tokens must carry (the app's client id).
    #[arg(long, value_name = "AUDIENCE", requires = "jwks")]
    pub audience: Option<String>,
    /// Log lines as text or one JSON object a line (filter with RUST_LOG).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t)]
    pub log_format: crate::logging::Format,
    /// Serves /metrics, /livez and /readyz on this address (off when absent).
    #[arg(long, value_name = "ADDR", value_parser = socket_addr)]
    pub metrics_addr: Option<SocketAddr>,
    /// After SIGTERM, how long requests in flight may take to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = number::<u64>)]
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Sets how many of ITEM_ID may be granted (`none`: unlimited).
    Cap {
        item: String,
        #[arg(value_name = "N|none", value_parser = cap)]
        cap: Cap,
        #[command(flatten)]
        data: DataDir,
    },
    /// Marks a user ineligible, with the reason shown to them.
    Ineligible {
        #[arg(value_name = "USER_ID", value_parser = user_id)]
        user: String,
        /// The Korean text shown to the user.
        #[arg(long, value_name = "TEXT", value_parser = text)]
        reason: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Makes a user eligible again.
    Eligible {
        #[arg(value_name = "USER_ID", value_parser = user_id)]
        user: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Pauses claims (they answer 503 paused).
    Pause {
        #[command(flatten)]
        data: DataDir,
    },
    /// Accepts claims again.
    Resume {
        #[command(flatten)]
        data: DataDir,
    },
    /// Moves the release instant.
    ReleaseAt {
        #[arg(value_name = "RFC3339", value_parser = time)]
        at: Timestamp,
        #[command(flatten)]
        data: DataDir,
    },
    /// Sets (or with `none` removes) the closing instant.
    ClosesAt {
        #[arg(value_name = "RFC3339|none", value_parser = time_or_none)]
        at: Until,
        #[command(flatten)]
        data: DataDir,
    },
    /// Lists and decides damage claims.
    #[command(subcommand)]
    Claims(Claims),
}

#[derive(Debug, Subcommand)]
pub enum Claims {
    /// Lists every damage claim.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Moves a claim into review.
    Review {
        receipt: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Approves a claim (--won sets the amount after a proof review).
    Approve {
        receipt: String,
        #[arg(long, value_name = "N", value_parser = number::<u64>)]
        won: Option<u64>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Rejects a claim, with the reason shown to the applicant.
    Reject {
        receipt: String,
        /// The Korean text shown to the applicant.
        #[arg(long, value_name = "TEXT", value_parser = text)]
        reason: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Marks an approved claim as paid.
    Pay {
        receipt: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// A failed command: a usage mistake (exit 2, the text names the usage), a
/// failure (exit 1), or help or version text asked for (printed, exit 0).
#[derive(Debug, PartialEq)]
pub enum CliError {
    Usage(String),
    Failed(String),
    Shown(String),
}

impl CliError {
    pub(super) fn failed(msg: impl std::fmt::Display) -> CliError {
        CliError::Failed(msg.to_string())
    }
}

impl From<crate::db::DbError> for CliError {
    fn from(e: crate::db::DbError) -> Self {
        CliError::failed(e)
    }
}

impl From<clap::Error> for CliError {
    fn from(e: clap::Error) -> Self {
        use clap::error::ErrorKind;
        let text = e.render().to_string();
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => CliError::Shown(text),
            _ => CliError::Usage(text.trim_end().to_string()),
        }
    }
}

/// Parses one command line (without the program name).
pub(super) fn parse(args: &[String]) -> Result<Cli, CliError> {
    let line = std::iter::once("maeum-server").chain(args.iter().map(String::as_str));
    Cli::try_parse_from(line).map_err(|e| match CliError::from(e) {
        // A bad value's message has no usage line; add the command's own.
        CliError::Usage(text) if !text.contains("Usage:") => {
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            CliError::Usage(format!("{text}\n\n{}", usage_of(&words)))
        }
        other => other,
    })
}

/// A usage mistake found after parsing, shown like clap's own: with the usage of `command`.
pub(super) fn usage(command: &[&str], msg: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("error: {msg}\n\n{}", usage_of(command)))
}

/// The usage line of the deepest subcommand named in `words`.
fn usage_of(words: &[&str]) -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    for word in words {
        if let Some(sub) = cmd.find_subcommand(word) {
            cmd = sub.clone();
        }
    }
    cmd.render_usage().to_string()
}

/// An item cap: a number, or `None` for unlimited.
#[derive(Clone, Copy, Debug)]
pub struct Cap(pub Option<u64>);

/// A closing instant, or `None` for never.
#[derive(Clone, Copy, Debug)]
pub struct Until(pub Option<Timestamp>);

// ---- value checks (clap turns an `Err` into a usage error naming the flag) ----

/// A whole number; `,` and `_` may group digits (`1,000,000`).
fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.replace([',', '_'], "")
        .parse::<T>()
        .map_err(|_| format!("{s:?} is not a number"))
}

fn at_least_one(s: &str) -> Result<usize, String> {
    number::<usize>(s).and_then(|n| {
        if n >= 1 {
            Ok(n)
        } else {
            Err("must be at least 1".into())
        }
    })
}

fn at_least_one_u32(s: &str) -> Result<u32, String> {
    number::<u32>(s).and_then(|n| {
        if n >= 1 {
            Ok(n)
        } else {
            Err("must be above 0 (or use --no-rate-limit)".into())
        }
    })
}

fn positive_rate(s: &str) -> Result<f64, String> {
    number::<f64>(s).and_then(|r| {
        if r.is_finite() && r > 0.0 {
            Ok(r)
        } else {
            Err("must be above 0 (or use --no-rate-limit)".into())
        }
    })
}

fn non_empty_path(s: &str) -> Result<PathBuf, String> {
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(PathBuf::from(s))
    }
}

fn text(s: &str) -> Result<String, String> {
    match s.trim() {
        "" => Err("must not be empty".into()),
        t => Ok(t.to_string()),
    }
}

fn socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not an address like 127.0.0.1:8080"))
}

pub(super) fn time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).map_err(|_| {
        format!("{s:?} is not an RFC 3339 time with an offset, e.g. 2023-01-05T09:00:00+09:00")
    })
}

fn time_or_none(s: &str) -> Result<Until, String> {
    match s {
        "none" => Ok(Until(None)),
        t => time(t).map(|t| Until(Some(t))),
    }
}

fn cap(s: &str) -> Result<Cap, String> {
    match s {
        "none" | "unlimited" => Ok(Cap(None)),
        n => number::<u64>(n)
            .ok()
            .filter(|&n| n <= i64::MAX as u64)
            .map(|n| Cap(Some(n)))
            .ok_or_else(|| format!("{n:?} is not a whole number (or `none`)")),
    }
}

fn user_id(s: &str) -> Result<String, String> {
    if crate::token::valid_user_id(s) {
        Ok(s.to_string())
    } else {
        Err("must be 1 to 64 characters of A-Z a-z 0-9 _ -".into())
    }
}

/// An origin exactly (`https://app.example.com`), not a URL with a path.
fn origin(s: &str) -> Result<String, String> {
    crate::headers::origin_of(s)
        .filter(|o| o.len() == s.trim_end_matches('/').len())
        .ok_or_else(|| format!("{s:?} is not an origin like https://app.example.com"))
}

/// `s3://BUCKET` or `s3://BUCKET/PREFIX`.
fn s3_url(s: &str) -> Result<String, String> {
    match s.strip_prefix("s3://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(s.to_string()),
        _ => Err(format!(
            "{s:?} is not an S3 location like s3://BUCKET/PREFIX"
        )),
    }
}
