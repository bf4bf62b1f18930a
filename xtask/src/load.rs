//! `cargo xtask bench`'s server load: wrk (Debian's) drives the release server
//! with the opening mix of `xtask/wrk/opening.lua` for 60 s, on SQLite with one
//! process and on PostgreSQL with two, and the figures go into docs/perf.md.

use crate::services::{ensure_postgres, Postgres};
use crate::setup::{apt_install, root, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Connections per server process, and wrk threads per wrk process.
const CONNECTIONS: u32 = 64;
const THREADS: u32 = 2;
/// Users with a token: more than the fastest run can claim in its time.
const USERS: u32 = 700_000;
/// Shared by every server of the run, so one token file serves all.
const SECRET: &str = "maeum-bench-secret-0123456789";

fn seconds() -> u32 {
    std::env::var("MAEUM_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

/// `MAEUM_BENCH_CONNECTIONS` overrides [`CONNECTIONS`] (for experiments).
fn connections() -> u32 {
    std::env::var("MAEUM_BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CONNECTIONS)
}

fn ensure_wrk() -> Result {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    apt_install(&["wrk"], "wrk is missing")
}

/// A `serve` process, killed when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(bin: &Path, data: &Path, database: Option<&str>) -> Result<Served> {
    std::fs::create_dir_all(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let mut c = Command::new(bin);
    c.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--max-in-flight",
        "4096",
        "--data-dir",
    ])
    .arg(data)
    .env("MAEUM_TOKEN_SECRET", SECRET)
    .env_remove("DATABASE_URL")
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if let Some(db) = database {
        c.args(["--database", db]);
        if let Ok(n) = std::env::var("MAEUM_BENCH_POOL") {
            c.args(["--database-pool", &n]);
        }
    }
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Ok(Served {
            url: url.to_string(),
            child,
        }),
        None => {
            let _ = child.kill();
            Err(format!("the server did not start: {line:?}"))
        }
    }
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// What one wrk process measured.
#[derive(Default, Debug)]
struct Wrk {
    requests: u64,
    duration_us: u64,
    grants: u64,
    granted_claims: u64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    errors: u64,
    non2xx: u64,
}

fn parse_wrk(out: &str) -> Wrk {
    let mut w = Wrk::default();
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|s| s.parse().ok()).unwrap_or(0);
        match f.first() {
            Some(&"grants") => (w.grants, w.granted_claims) = (num(1), num(3)),
            Some(&"latency_us") => (w.p50_us, w.p99_us, w.max_us) = (num(2), num(4), num(6)),
            Some(&"requests") => {
                (w.requests, w.duration_us, w.errors, w.non2xx) = (num(1), num(3), num(5), num(7))
            }
            _ => {}
        }
    }
    w
}

/// One row of the table: `servers` processes, one wrk process on each.
struct Run {
    label: String,
    wrks: Vec<Wrk>,
    rss: Vec<(f64, f64)>,
}

fn drive(label: &str, servers: &[Served], tokens: &Path) -> Result<Run> {
    let script = root().join("xtask/wrk/opening.lua");
    let rss_start: Vec<f64> = servers.iter().map(|s| rss_mib(s.child.id())).collect();
    let children: Vec<Child> = servers
        .iter()
        .enumerate()
        .map(|(slot, s)| {
            Command::new("wrk")
                .args([
                    &format!("-t{THREADS}"),
                    &format!("-c{}", connections() / servers.len() as u32),
                    &format!("-d{}s", seconds()),
                    "--timeout",
                    "10s",
                    "-s",
                ])
                .arg(&script)
                .arg(&s.url)
                .env("MAEUM_TOKENS", tokens)
                .env("MAEUM_WRK_SLOT", slot.to_string())
                .env("MAEUM_WRK_SLOTS", servers.len().to_string())
                .env("MAEUM_WRK_THREADS", THREADS.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start wrk: {e}"))
        })
        .collect::<Result<_>>()?;
    let mut wrks = Vec::new();
    for c in children {
        let out = c.wait_with_output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("{text}");
        wrks.push(parse_wrk(&text));
    }
    let rss = servers
        .iter()
        .zip(rss_start)
        .map(|(s, start)| (start, rss_mib(s.child.id())))
        .collect();
    Ok(Run {
        label: label.to_string(),
        wrks,
        rss,
    })
}

impl Run {
    /// The longest wrk run, in seconds.
    fn seconds(&self) -> f64 {
        self.wrks
            .iter()
            .map(|w| w.duration_us)
            .max()
            .unwrap_or(1)
            .max(1) as f64
            / 1e6
    }

    /// Granted claims per second and the worst p99 in ms.
    fn claims_and_p99(&self) -> (f64, f64) {
        let secs = self.seconds();
        let claims = self.wrks.iter().map(|w| w.granted_claims).sum::<u64>() as f64 / secs;
        let p99 = self.wrks.iter().map(|w| w.p99_us).max().unwrap_or(0) as f64 / 1000.0;
        (claims, p99)
    }

    fn row(&self) -> String {
        let secs = self.seconds();
        let sum = |f: fn(&Wrk) -> u64| self.wrks.iter().map(f).sum::<u64>();
        let max = |f: fn(&Wrk) -> u64| self.wrks.iter().map(f).max().unwrap_or(0);
        let ms = |us: u64| format!("{:.1}", us as f64 / 1000.0);
        let rss: Vec<String> = self
            .rss
            .iter()
            .map(|(a, b)| format!("{a:.0} → {b:.0}"))
            .collect();
        format!(
            "| {} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} | {} |\n",
            self.label,
            sum(|w| w.requests) as f64 / secs,
            sum(|w| w.granted_claims) as f64 / secs,
            sum(|w| w.grants) as f64 / secs,
            ms(max(|w| w.p50_us)),
            ms(max(|w| w.p99_us)),
            ms(max(|w| w.max_us)),
            sum(|w| w.errors + w.non2xx),
            rss.join(", ")
        )
    }
}

/// Runs both configurations and returns the docs/perf.md section.
pub fn server_load(bin: &Path) -> Result<String> {
    ensure_wrk()?;
    let scratch: PathBuf = root().join("target/bench-load");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let tokens = scratch.join("tokens.txt");
    let out = Command::new(bin)
        .args([
            "token",
            "bench",
            "--count",
            &USERS.to_string(),
            "--data-dir",
        ])
        .arg(&scratch)
        .env("MAEUM_TOKEN_SECRET", SECRET)
        .output()
        .map_err(|e| e.to_string())?;
    std::fs::write(&tokens, &out.stdout).map_err(|e| e.to_string())?;

    // `MAEUM_BENCH_ONLY=sqlite|postgres` runs one configuration (for experiments).
    let only = std::env::var("MAEUM_BENCH_ONLY").unwrap_or_default();
    let mut rows = String::new();
    let mut ceiling = String::new();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" / "))
        .unwrap_or_else(|_| "unknown".into());
    if only != "postgres" {
        let one = serve(bin, &scratch.join("sqlite"), None)?;
        rows += &drive("SQLite, 1 process", &[one], &tokens)?.row();
    }
    if only != "sqlite" {
        let pg = Postgres::start()?;
        let servers = [
            serve(bin, &scratch.join("pg-a"), Some(&pg.url))?,
            serve(bin, &scratch.join("pg-b"), Some(&pg.url))?,
        ];
        let run = drive("PostgreSQL 15, 2 processes", &servers, &tokens)?;
        rows += &run.row();
        drop(servers);
        let (alone, text) = pgbench(&pg)?;
        ceiling = text + &verdict(run.claims_and_p99(), alone);
    }
    Ok(format!(
        "## Reference server under wrk, {secs} s, opening mix\n\n\
         `wrk -t{THREADS} -c{connections}` (split evenly over the processes, one wrk per process) with \
         `xtask/wrk/opening.lua`: of every 20 requests, 10 claims of the capped voucher and the forever \
         emoticon by a person not seen before (new user, new key), 4 package loads, 3 선물함 \
         (`GET /v1/me/claims`) and 3 status polls by people who just claimed: each person of the wave \
         claims once and looks at the package, the 선물함 and the status about twice in all. Durable \
         commits on both (SQLite WAL `synchronous=FULL`; PostgreSQL's default `fsync`/`synchronous_commit`, \
         a throwaway cluster started by xtask, default settings; each server keeps its default pool of 8 \
         connections). **Everything shares the machine's 2 cores**: wrk, the server processes and \
         PostgreSQL. Load average (1 / 5 / 15 min) before the runs: {load}.\n\n\
         | configuration | requests/s | granted claims/s | items granted/s | p50 ms | p99 ms | max ms | errors + non-2xx | RSS MiB start → end |\n\
         |---|---|---|---|---|---|---|---|---|\n{rows}\n\
         Latency percentiles with two processes are the worse of the two wrk runs. Goal for PostgreSQL \
         with two processes: ≥ 5,000 granted claims/s with p99 ≤ 50 ms.\n{ceiling}",
        secs = seconds(),
        connections = connections(),
    ))
}

/// What PostgreSQL alone does on this machine: pgbench on the same cluster right
/// after the wrk run, the claim statement the server sends and the 선물함 read in
/// the mix's proportion (10 : 3), 16 clients (two pools of 8), no HTTP and no servers.
fn pgbench(pg: &Postgres) -> Result<(f64, String)> {
    let bin = ensure_postgres()?;
    let secs = 20;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis();
    let scripts = root().join("xtask/wrk");
    let out = Command::new(bin.join("pgbench"))
        .args(["-n", "-M", "prepared", "-c", "16", "-j", "2", "-T"])
        .arg(secs.to_string())
        .arg("-D")
        .arg(format!("now={now}"))
        .arg("-f")
        .arg(format!("{}@10", scripts.join("claim.pgbench").display()))
        .arg("-f")
        .arg(format!("{}@3", scripts.join("mine.pgbench").display()))
        .arg(&pg.url)
        .output()
        .map_err(|e| format!("cannot run pgbench: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err("pgbench failed (see above)".into());
    }
    // Counted in the database, so a statement that wrote nothing counts nothing.
    let counted = Command::new(bin.join("psql"))
        .args([
            "-At",
            "-c",
            "SELECT COUNT(*) FROM idempotency WHERE user_id LIKE 'pgb-%'",
        ])
        .arg(&pg.url)
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    let claims: f64 = String::from_utf8_lossy(&counted.stdout)
        .trim()
        .parse()
        .map_err(|_| "psql did not count the pgbench claims")?;
    let latency = text
        .lines()
        .find_map(|l| l.strip_prefix("latency average = "))
        .unwrap_or("?")
        .trim();
    let alone = claims / f64::from(secs);
    Ok((alone, format!(
        "\nThe ceiling, measured on the same cluster right after: `pgbench -M prepared -c 16 -j 2 -T {secs}` \
         with `xtask/wrk/claim.pgbench` (the claim statement the server sends) and `xtask/wrk/mine.pgbench` \
         (the 선물함 read), 10 : 3 — PostgreSQL alone, no HTTP, no server processes, no wrk: \
         **{alone:.0} granted claims/s** (counted in the database), latency average {latency}.\n"
    )))
}

/// Whether the goal was met, said with the numbers that decide it.
fn verdict((claims, p99): (f64, f64), alone: f64) -> String {
    if claims >= 5000.0 && p99 <= 50.0 {
        return format!("\nGoal met: {claims:.0} granted claims/s with p99 {p99:.1} ms.\n");
    }
    format!(
        "\n**Goal not met on this machine**: {claims:.0} granted claims/s, p99 {p99:.1} ms. PostgreSQL \
         alone, with a client that costs almost nothing (pgbench, above), does {alone:.0} claims/s here \
         (≈ {per_core:.0} per core); the bench also runs two server processes (≈ 100–130 µs of CPU \
         per request, ≈ {server_cores:.1} core at 10,000 requests/s) and wrk (≈ 0.3 core) on the same 2 cores, so \
         5,000 claims/s needs about {cores:.0} cores of this machine. Per core of everything \
         (database, servers, wrk): ≈ {whole:.0} granted claims/s.\n",
        per_core = alone / 2.0,
        server_cores = 10_000.0 * 115e-6,
        cores = 5000.0 / (alone / 2.0) + 10_000.0 * 115e-6 + 0.3,
        whole = claims / 2.0,
    )
}
