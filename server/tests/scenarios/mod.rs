//! Fault scenarios, shared by `tests/faults.rs` (which asserts on them) and
//! `benches/faults.rs` (which runs the same code and prints the reliability
//! report).
//!
//! Loopback only, real SQLite files in temporary directories, the real binary
//! (spawned, so it can be SIGKILLed) or the library in-process. Every loop is
//! bounded by a count and a deadline; nothing here waits for ever.
//!
//! The simulated clients follow the app's rules (issue 5): a request that fails
//! to connect, times out or gets 502/503/504 goes to the next base URL; an
//! intent keeps one `Idempotency-Key` for all its retries, across bases;
//! backoff is exponential with full jitter, capped, and a `Retry-After` is
//! never undercut; each request has a timeout; each new intent tries the
//! preferred base again.
#![allow(dead_code)]

use maeum_server::TokenKey;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const BIN: &str = env!("CARGO_BIN_EXE_maeum-server");
/// The capped voucher.
pub const CAPPED: &str = "drawer-plus-1m";
pub const FOREVER: &str = "emoticon-forever";
pub const EMO_A: &str = "emoticon-90-a";
pub const MAKERS: &str = "makers-2000";

pub type Res<T> = Result<T, String>;

fn fail(what: &str, e: impl Display) -> String {
    format!("{what}: {e}")
}

// ---------------------------------------------------------------------------
// Statistics

/// The `p` quantile (0..=1) of sorted durations, nearest rank.
pub fn quantile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50, p99 and max of some durations.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spread {
    pub n: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Spread {
    pub fn of(mut v: Vec<Duration>) -> Spread {
        v.sort();
        Spread {
            n: v.len(),
            p50: quantile(&v, 0.50),
            p99: quantile(&v, 0.99),
            max: v.last().copied().unwrap_or_default(),
        }
    }
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

// ---------------------------------------------------------------------------
// Data directory, campaign, tokens, database checks

/// A data directory with a campaign file whose capped voucher has `cap`, and
/// a token key the servers will share.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub campaign: PathBuf,
    tokens: TokenKey,
    now_secs: i64,
}

impl Site {
    pub fn new(cap: u64) -> Res<Site> {
        let dir = tempfile::tempdir().map_err(|e| fail("temporary directory", e))?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).map_err(|e| fail("data directory", e))?;
        let shipped = maeum_server::campaign::DEFAULT_CAMPAIGN_TOML;
        let from = "cap = 3000000";
        if shipped.matches(from).count() != 1 {
            return Err(format!(
                "the shipped campaign no longer has one `{from}` line"
            ));
        }
        let text = shipped.replace(from, &format!("cap = {cap}"));
        let parsed = maeum_server::Campaign::parse(&text)?;
        let capped = parsed.items.iter().find(|i| i.id == CAPPED);
        if capped.and_then(|i| i.cap) != Some(cap) {
            return Err(format!("the campaign file does not cap {CAPPED} at {cap}"));
        }
        let campaign = dir.path().join("campaign.toml");
        std::fs::write(&campaign, text).map_err(|e| fail("campaign file", e))?;
        let tokens = TokenKey::load_or_create(&data)?;
        Ok(Site {
            dir,
            data,
            campaign,
            tokens,
            now_secs: maeum_server::clock::system_now().0 / 1000,
        })
    }

    pub fn token(&self, user: &str) -> String {
        self.tokens.issue(user, self.now_secs)
    }

    /// Starts `maeum-server serve` on `addr` over this site.
    pub fn spawn(&self, name: &str, addr: &str, extra: &[&str]) -> Res<Proc> {
        Proc::spawn(
            &self.data,
            &self.campaign,
            &self.dir.path().join(format!("{name}.log")),
            addr,
            extra,
        )
    }

    /// What the database holds, read directly.
    pub fn inspect(&self) -> Res<DbState> {
        inspect(&self.data)
    }
}

/// The claims table and the counters, as read from the SQLite file.
#[derive(Debug, Default)]
pub struct DbState {
    /// (user, item)
    pub rows: BTreeSet<(String, String)>,
    /// Groups of (user, item) with more than one row (the key forbids it; counted anyway).
    pub duplicate_rows: i64,
    /// Items whose `granted` counter differs from their number of rows.
    pub counter_mismatches: i64,
    /// `granted` of the capped item.
    pub capped_counter: i64,
}

impl DbState {
    pub fn rows_of(&self, item: &str) -> usize {
        self.rows.iter().filter(|(_, i)| i == item).count()
    }
}

pub fn inspect(data: &Path) -> Res<DbState> {
    let file = data.join("maeum.sqlite3");
    let conn = rusqlite::Connection::open_with_flags(
        &file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail("opening the database", e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| fail("busy timeout", e))?;
    let q = |e: rusqlite::Error| fail("reading the database", e);
    let mut rows = BTreeSet::new();
    let mut stmt = conn
        .prepare("SELECT user_id, item_id FROM claims")
        .map_err(q)?;
    let mut it = stmt.query([]).map_err(q)?;
    while let Some(r) = it.next().map_err(q)? {
        rows.insert((r.get(0).map_err(q)?, r.get(1).map_err(q)?));
    }
    let duplicate_rows = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT 1 FROM claims GROUP BY user_id, item_id HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .map_err(q)?;
    let counter_mismatches = conn
        .query_row(
            "SELECT COUNT(*) FROM items i
             WHERE i.granted != (SELECT COUNT(*) FROM claims c WHERE c.item_id = i.id)",
            [],
            |r| r.get(0),
        )
        .map_err(q)?;
    let capped_counter = conn
        .query_row("SELECT granted FROM items WHERE id = ?1", [CAPPED], |r| {
            r.get(0)
        })
        .map_err(q)?;
    Ok(DbState {
        rows,
        duplicate_rows,
        counter_mismatches,
        capped_counter,
    })
}

// ---------------------------------------------------------------------------
// The real binary

/// A spawned `maeum-server serve`, SIGKILLed when dropped.
pub struct Proc {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`
    pub addr: String,
}

impl Proc {
    pub fn spawn(
        data: &Path,
        campaign: &Path,
        log: &Path,
        addr: &str,
        extra: &[&str],
    ) -> Res<Proc> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| fail("server log", e))?;
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", addr, "--data-dir"])
            .arg(data)
            .arg("--campaign")
            .arg(campaign)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| fail("spawning maeum-server", e))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        match line.trim().strip_prefix("listening on ") {
            Some(url) => {
                let url = url.to_string();
                let addr = url.trim_start_matches("http://").to_string();
                Ok(Proc { child, url, addr })
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("maeum-server did not start on {addr}: {line:?}"))
            }
        }
    }

    /// Starts again on a port just freed by a kill, trying for up to `within`.
    pub fn respawn(
        data: &Path,
        campaign: &Path,
        log: &Path,
        addr: &str,
        extra: &[&str],
        within: Duration,
    ) -> Res<Proc> {
        let until = Instant::now() + within;
        loop {
            match Proc::spawn(data, campaign, log, addr, extra) {
                Ok(p) => return Ok(p),
                Err(e) if Instant::now() >= until => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps it.
    pub fn sigkill(&mut self) -> Res<()> {
        self.child.kill().map_err(|e| fail("SIGKILL", e))?;
        self.child.wait().map_err(|e| fail("reaping", e))?;
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// A client that retries like the app

/// Retry rules.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Per request.
    pub timeout: Duration,
}

impl Policy {
    pub const APP: Policy = Policy {
        max_attempts: 24,
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
    };

    /// A random wait in `[0, min(cap, base × 2^attempt))`.
    pub fn full_jitter(&self, attempt: u32) -> Duration {
        let ceiling = self
            .backoff_base
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.backoff_cap);
        ceiling.mul_f64(rand::random::<f64>())
    }
}

/// `Retry-After` in seconds (the server sends seconds; a date is not expected here).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// One HTTP exchange as the client saw it.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Index of the server in the scenario's URL list.
    pub server: usize,
    pub claim: bool,
    pub at: Instant,
    pub took: Duration,
    /// `None`: no answer (refused, reset, timed out).
    pub status: Option<u16>,
}

impl Sent {
    pub fn end(&self) -> Instant {
        self.at + self.took
    }
}

/// The final answer to one logical request.
#[derive(Debug)]
pub enum Answer {
    Done {
        status: u16,
        body: String,
        replayed: bool,
    },
    /// Out of attempts or past the deadline: the app's waiting state.
    GaveUp { attempts: u32, last: String },
}

pub struct Caller {
    http: reqwest::Client,
    urls: Arc<Vec<String>>,
    /// Servers in this client's order of preference.
    order: Vec<usize>,
    at: usize,
    pub policy: Policy,
    pub deadline: Instant,
    pub log: Vec<Sent>,
    answered: Option<Arc<AtomicUsize>>,
    /// Claims in flight, per server.
    in_flight: Option<Arc<Vec<AtomicUsize>>>,
}

impl Caller {
    pub fn new(
        http: reqwest::Client,
        urls: Arc<Vec<String>>,
        order: Vec<usize>,
        policy: Policy,
        deadline: Instant,
    ) -> Caller {
        Caller {
            http,
            urls,
            order,
            at: 0,
            policy,
            deadline,
            log: Vec::new(),
            answered: None,
            in_flight: None,
        }
    }

    /// Counts every HTTP answer into `counter`.
    pub fn counting(mut self, counter: Arc<AtomicUsize>) -> Caller {
        self.answered = Some(counter);
        self
    }

    /// Counts the claims this client has in flight at each server into `counters`.
    pub fn tracking(mut self, counters: Arc<Vec<AtomicUsize>>) -> Caller {
        self.in_flight = Some(counters);
        self
    }

    /// The next intent starts at the preferred server again.
    pub fn prefer_primary(&mut self) {
        self.at = 0;
    }

    fn next_server(&mut self) {
        self.at = (self.at + 1) % self.order.len().max(1);
    }

    /// `GET path` with retries.
    pub async fn get(&mut self, path: &str, token: &str) -> Answer {
        self.call(path, token, None).await
    }

    /// `POST /api/v1/claims` with one key for every retry.
    pub async fn claim(&mut self, token: &str, key: &str, items: &[&str]) -> Answer {
        let body = serde_json::json!({ "item_ids": items });
        self.call("/api/v1/claims", token, Some((key, &body))).await
    }

    async fn call(&mut self, path: &str, token: &str, claim: Option<(&str, &Value)>) -> Answer {
        let mut failed_in_round = 0usize;
        let mut last = String::from("no attempt");
        for attempt in 0..self.policy.max_attempts {
            let now = Instant::now();
            if now >= self.deadline {
                return Answer::GaveUp {
                    attempts: attempt,
                    last,
                };
            }
            let server = self.order.get(self.at).copied().unwrap_or(0);
            let url = format!("{}{path}", self.urls[server]);
            let timeout = self
                .policy
                .timeout
                .min(self.deadline.saturating_duration_since(now));
            let req = match claim {
                Some((key, body)) => self
                    .http
                    .post(url)
                    .header("Idempotency-Key", key)
                    .json(body),
                None => self.http.get(url),
            };
            let counter = match (&self.in_flight, claim.is_some()) {
                (Some(c), true) => c.get(server),
                _ => None,
            };
            if let Some(c) = counter {
                c.fetch_add(1, Ordering::SeqCst);
            }
            let t0 = Instant::now();
            let res = req.bearer_auth(token).timeout(timeout).send().await;
            let res = match res {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let headers = r.headers().clone();
                    r.text().await.map(|body| (status, headers, body))
                }
                Err(e) => Err(e),
            };
            let took = t0.elapsed();
            if let Some(c) = counter {
                c.fetch_sub(1, Ordering::SeqCst);
            }
            let status = res.as_ref().ok().map(|(s, _, _)| *s);
            self.log.push(Sent {
                server,
                claim: claim.is_some(),
                at: t0,
                took,
                status,
            });
            if status.is_some() {
                if let Some(c) = &self.answered {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            let pause = match res {
                Err(e) => {
                    // Refused, reset or timed out: the next server at once; a
                    // pause only once every server failed in a row.
                    last = format!("no answer from {}: {e}", self.urls[server]);
                    self.next_server();
                    failed_in_round += 1;
                    if failed_in_round < self.order.len() {
                        continue;
                    }
                    failed_in_round = 0;
                    self.policy.full_jitter(attempt)
                }
                Ok((status @ 502..=504, headers, _)) => {
                    last = format!("{status} from {}", self.urls[server]);
                    self.next_server();
                    retry_after(&headers).unwrap_or_default() + self.policy.full_jitter(attempt)
                }
                Ok((429, headers, _)) => {
                    last = "429".into();
                    retry_after(&headers).unwrap_or_default() + self.policy.full_jitter(attempt)
                }
                Ok((status, headers, body)) => {
                    return Answer::Done {
                        status,
                        replayed: headers.contains_key("idempotent-replayed"),
                        body,
                    }
                }
            };
            if Instant::now() + pause >= self.deadline {
                return Answer::GaveUp {
                    attempts: attempt + 1,
                    last,
                };
            }
            tokio::time::sleep(pause).await;
        }
        Answer::GaveUp {
            attempts: self.policy.max_attempts,
            last,
        }
    }
}

/// `item_id → status` of a claim answer.
pub fn claim_statuses(body: &str) -> Res<BTreeMap<String, String>> {
    let v: Value = serde_json::from_str(body).map_err(|e| fail("claim answer", e))?;
    let results = v["results"]
        .as_array()
        .ok_or_else(|| format!("claim answer without results: {body}"))?;
    let mut out = BTreeMap::new();
    for r in results {
        let (Some(item), Some(status)) = (r["item_id"].as_str(), r["status"].as_str()) else {
            return Err(format!("claim result without item or status: {body}"));
        };
        out.insert(item.to_string(), status.to_string());
    }
    Ok(out)
}

fn http_client(max_idle: usize) -> Res<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(max_idle)
        .connect_timeout(Duration::from_secs(3))
        .build()
        .map_err(|e| fail("HTTP client", e))
}

/// Counts of what every request got.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub requests: usize,
    pub no_answer: usize,
    pub shed_503: usize,
    pub limited_429: usize,
}

impl Tally {
    pub fn add(&mut self, log: &[Sent]) {
        for s in log {
            self.requests += 1;
            match s.status {
                None => self.no_answer += 1,
                Some(503) => self.shed_503 += 1,
                Some(429) => self.limited_429 += 1,
                Some(_) => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Scenario 1: two servers, one SIGKILLed and restarted under load

#[derive(Clone, Debug)]
pub struct KillRestart {
    pub clients: usize,
    pub cap: u64,
    /// The primary is killed once this many HTTP answers have arrived and at
    /// least `kill_with_in_flight` claims are in flight to it (or at `kill_at_latest`).
    pub kill_after_answers: usize,
    pub kill_with_in_flight: usize,
    pub kill_at_latest: Duration,
    /// How long the primary stays down before it is restarted on the same port.
    pub down_for: Duration,
    /// Clients arrive in waves of this many at once ...
    pub wave: usize,
    /// ... spread evenly over this time.
    pub arrival: Duration,
    /// Pause between a client's two intents (random up to this).
    pub think: Duration,
    /// Each client must be done this long after it arrived.
    pub client_bound: Duration,
    pub policy: Policy,
}

impl Default for KillRestart {
    fn default() -> Self {
        KillRestart {
            clients: 200,
            cap: 150,
            kill_after_answers: 200,
            kill_with_in_flight: 8,
            kill_at_latest: Duration::from_secs(4),
            down_for: Duration::from_millis(800),
            wave: 40,
            arrival: Duration::from_secs(2),
            think: Duration::from_millis(400),
            client_bound: Duration::from_secs(25),
            policy: Policy::APP,
        }
    }
}

/// What one client of the kill scenario did.
#[derive(Debug)]
pub struct KillClient {
    pub user: String,
    /// Index of its preferred server (0 = the one that gets killed).
    pub primary: usize,
    /// Final status per item, for the intents that got an answer.
    pub told: BTreeMap<String, String>,
    /// Items of intents that never got an answer.
    pub unanswered: BTreeSet<String>,
    pub replays: usize,
    /// Per claim intent: its attempts in `log`, and whether its answer was a replay.
    pub intents: Vec<(std::ops::Range<usize>, bool)>,
    pub errors: Vec<String>,
    pub took: Duration,
    pub log: Vec<Sent>,
}

#[derive(Debug, Default)]
pub struct KillReport {
    pub clients: usize,
    pub cap: u64,
    pub capped_rows: usize,
    pub capped_counter: i64,
    /// Clients that were told the capped item was granted.
    pub capped_told_granted: usize,
    pub duplicate_rows: i64,
    pub counter_mismatches: i64,
    /// (user, item) told `granted` but absent from the database.
    pub lost: Vec<String>,
    /// (user, item) in the database although the answered intent said otherwise.
    pub unacknowledged_rows: Vec<String>,
    /// Rows for intents that never got an answer (allowed: the client would retry).
    pub rows_of_unanswered: usize,
    /// Clients that ran out of attempts or time on some intent.
    pub gave_up: usize,
    /// Answers other than 200 with results, or unexpected statuses.
    pub errors: Vec<String>,
    pub replays: usize,
    pub answers_at_kill: usize,
    /// Claims in flight to the primary when it was killed (by the clients' count).
    pub in_flight_at_kill: usize,
    /// Claim intents with an attempt at the primary cut off by the kill ...
    pub cut_by_kill: usize,
    /// ... of which the retry got a replay (the claim had committed before the kill) ...
    pub cut_then_replayed: usize,
    /// ... or a fresh answer (it had not).
    pub cut_then_answered_fresh: usize,
    /// SIGKILL → first 200 from the secondary to a client that had been talking to the primary.
    pub failover_first: Option<Duration>,
    /// Per such client: first failed request at the primary → next 200 from the secondary.
    pub failover_per_client: Spread,
    /// SIGKILL → the restarted primary printed `listening on`.
    pub restart_took: Duration,
    /// Requests answered by the restarted primary.
    pub served_after_restart: usize,
    pub client_time: Spread,
    pub tally: Tally,
    pub elapsed: Duration,
}

impl KillReport {
    /// Every property the fault test requires, as messages; empty means all hold.
    pub fn violations(&self, bound: Duration) -> Vec<String> {
        let mut v = Vec::new();
        if self.capped_rows as u64 > self.cap || self.capped_counter as u64 > self.cap {
            v.push(format!(
                "cap exceeded: {} rows, counter {}, cap {}",
                self.capped_rows, self.capped_counter, self.cap
            ));
        }
        if self.duplicate_rows != 0 {
            v.push(format!("{} duplicate grants", self.duplicate_rows));
        }
        if self.counter_mismatches != 0 {
            v.push(format!(
                "{} item counters differ from their rows",
                self.counter_mismatches
            ));
        }
        if !self.lost.is_empty() {
            v.push(format!("acknowledged grants lost: {:?}", self.lost));
        }
        if !self.unacknowledged_rows.is_empty() {
            v.push(format!(
                "rows the client was not told about: {:?}",
                self.unacknowledged_rows
            ));
        }
        if self.gave_up != 0 {
            v.push(format!("{} clients did not finish", self.gave_up));
        }
        if !self.errors.is_empty() {
            v.push(format!("unexpected answers: {:?}", self.errors));
        }
        if self.client_time.max > bound {
            v.push(format!(
                "slowest client took {:?}, bound {bound:?}",
                self.client_time.max
            ));
        }
        v
    }
}

async fn kill_client(
    i: usize,
    site_token: String,
    mut caller: Caller,
    start_in: Duration,
    think: Duration,
    bound: Duration,
) -> KillClient {
    tokio::time::sleep(start_in).await;
    let started = Instant::now();
    caller.deadline = started + bound;
    let user = format!("kr-{i:03}");
    let primary = caller.order.first().copied().unwrap_or(0);
    let mut out = KillClient {
        user: user.clone(),
        primary,
        told: BTreeMap::new(),
        unanswered: BTreeSet::new(),
        replays: 0,
        intents: Vec::new(),
        errors: Vec::new(),
        took: Duration::ZERO,
        log: Vec::new(),
    };
    match caller.get("/api/v1/package", &site_token).await {
        Answer::Done { status: 200, .. } => {}
        Answer::Done { status, body, .. } => {
            out.errors.push(format!("{user}: package {status}: {body}"))
        }
        Answer::GaveUp { .. } => {}
    }
    let intents: [(&str, &[&str]); 2] = [("a", &[CAPPED, FOREVER]), ("b", &[EMO_A, MAKERS])];
    for (n, (suffix, items)) in intents.iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(think.mul_f64(rand::random::<f64>())).await;
        }
        caller.prefer_primary();
        let key = format!("{user}-{suffix}");
        let first = caller.log.len();
        let answer = caller.claim(&site_token, &key, items).await;
        let replay = matches!(answer, Answer::Done { replayed: true, .. });
        out.intents.push((first..caller.log.len(), replay));
        match answer {
            Answer::Done {
                status: 200,
                body,
                replayed,
            } => {
                out.replays += usize::from(replayed);
                match claim_statuses(&body) {
                    Ok(map) => out.told.extend(map),
                    Err(e) => out.errors.push(format!("{user}: {e}")),
                }
            }
            Answer::Done { status, body, .. } => {
                out.errors.push(format!("{user}: claim {status}: {body}"));
                out.unanswered.extend(items.iter().map(|s| s.to_string()));
            }
            Answer::GaveUp { last, .. } => {
                out.errors.push(format!("{user}: gave up ({last})"));
                out.unanswered.extend(items.iter().map(|s| s.to_string()));
            }
        }
    }
    out.took = started.elapsed();
    out.log = caller.log;
    out
}

/// Two servers (the real binary) over one data directory; 200 clients claim
/// with retries; the first server is SIGKILLed mid-run and restarted on its port.
pub async fn kill_and_restart(cfg: &KillRestart) -> Res<KillReport> {
    let site = Arc::new(Site::new(cfg.cap)?);
    let mut primary = site.spawn("primary", "127.0.0.1:0", &[])?;
    let secondary = site.spawn("secondary", "127.0.0.1:0", &[])?;
    let primary_addr = primary.addr.clone();
    let urls = Arc::new(vec![primary.url.clone(), secondary.url.clone()]);
    let http = http_client(cfg.clients)?;
    let answered = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(vec![AtomicUsize::new(0), AtomicUsize::new(0)]);
    let waves = cfg.clients.div_ceil(cfg.wave.max(1)).max(1);
    let started = Instant::now();

    let tasks: Vec<_> = (0..cfg.clients)
        .map(|i| {
            let order = if i % 2 == 0 { vec![0, 1] } else { vec![1, 0] };
            let start_in = cfg
                .arrival
                .mul_f64((i / cfg.wave.max(1)) as f64 / waves as f64);
            let caller = Caller::new(
                http.clone(),
                urls.clone(),
                order,
                cfg.policy,
                Instant::now() + start_in + cfg.client_bound,
            )
            .counting(answered.clone())
            .tracking(in_flight.clone());
            let token = site.token(&format!("kr-{i:03}"));
            tokio::spawn(kill_client(
                i,
                token,
                caller,
                start_in,
                cfg.think,
                cfg.client_bound,
            ))
        })
        .collect();

    // Kill the primary mid-run, then bring it back on the same port.
    let latest = started + cfg.kill_at_latest;
    while (answered.load(Ordering::Relaxed) < cfg.kill_after_answers
        || in_flight[0].load(Ordering::SeqCst) < cfg.kill_with_in_flight)
        && Instant::now() < latest
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let in_flight_at_kill = in_flight[0].load(Ordering::SeqCst);
    let answers_at_kill = answered.load(Ordering::Relaxed);
    // The instant the kill begins: a request it cuts ends after it, however
    // long the signal and the reaping take (sigkill waits for the exit).
    let killed_at = Instant::now();
    primary.sigkill()?;
    drop(primary);
    tokio::time::sleep(cfg.down_for).await;
    let restart = {
        let site = site.clone();
        tokio::task::spawn_blocking(move || {
            Proc::respawn(
                &site.data,
                &site.campaign,
                &site.dir.path().join("primary.log"),
                &primary_addr,
                &[],
                Duration::from_secs(10),
            )
        })
    };
    let restarted = restart.await.map_err(|e| fail("restart task", e))??;
    let restart_took = killed_at.elapsed();
    let restarted_at = Instant::now();

    let mut clients = Vec::with_capacity(cfg.clients);
    for t in tasks {
        clients.push(t.await.map_err(|e| fail("client task", e))?);
    }
    let elapsed = started.elapsed();
    let db = site.inspect()?;
    drop(restarted);
    drop(secondary);

    let mut report = KillReport {
        clients: cfg.clients,
        cap: cfg.cap,
        capped_rows: db.rows_of(CAPPED),
        capped_counter: db.capped_counter,
        duplicate_rows: db.duplicate_rows,
        counter_mismatches: db.counter_mismatches,
        answers_at_kill,
        in_flight_at_kill,
        restart_took,
        elapsed,
        ..KillReport::default()
    };
    let mut per_client_failover = Vec::new();
    let mut times = Vec::new();
    for c in &clients {
        report.tally.add(&c.log);
        report.replays += c.replays;
        for (range, replayed) in &c.intents {
            let cut = c.log.get(range.clone()).is_some_and(|attempts| {
                attempts.iter().any(|s| {
                    s.server == 0 && s.status.is_none() && s.at < killed_at && s.end() >= killed_at
                })
            });
            if cut {
                report.cut_by_kill += 1;
                let answered = c
                    .log
                    .get(range.clone())
                    .and_then(|a| a.last())
                    .is_some_and(|s| s.status == Some(200));
                if *replayed {
                    report.cut_then_replayed += 1;
                } else if answered {
                    report.cut_then_answered_fresh += 1;
                }
            }
        }
        report.errors.extend(c.errors.iter().cloned());
        if !c.unanswered.is_empty() {
            report.gave_up += 1;
        }
        times.push(c.took);
        for (item, status) in &c.told {
            let key = (c.user.clone(), item.clone());
            let present = db.rows.contains(&key);
            match status.as_str() {
                "granted" => {
                    if item == CAPPED {
                        report.capped_told_granted += 1;
                    }
                    if !present {
                        report.lost.push(format!("{}/{item}", c.user));
                    }
                }
                "sold_out" if item == CAPPED => {
                    if present {
                        report
                            .unacknowledged_rows
                            .push(format!("{}/{item}", c.user));
                    }
                }
                other => report
                    .errors
                    .push(format!("{}: {item} answered {other}", c.user)),
            }
        }
        report.rows_of_unanswered += c
            .unanswered
            .iter()
            .filter(|item| db.rows.contains(&(c.user.clone(), (*item).clone())))
            .count();
        report.served_after_restart += c
            .log
            .iter()
            .filter(|s| s.server == 0 && s.at >= restarted_at && s.status == Some(200))
            .count();
        // Failover, for clients of the primary that talked to it before the kill.
        if c.primary == 0 && c.log.iter().any(|s| s.server == 0 && s.at < killed_at) {
            let first_ok_b = c
                .log
                .iter()
                .find(|s| s.server == 1 && s.at >= killed_at && s.status == Some(200));
            if let Some(ok) = first_ok_b {
                let since_kill = ok.end().saturating_duration_since(killed_at);
                report.failover_first = Some(
                    report
                        .failover_first
                        .map_or(since_kill, |f| f.min(since_kill)),
                );
            }
            let first_fail = c
                .log
                .iter()
                .find(|s| s.server == 0 && s.status.is_none() && s.end() >= killed_at);
            if let Some(fail) = first_fail {
                if let Some(ok) = c
                    .log
                    .iter()
                    .find(|s| s.server == 1 && s.at >= fail.end() && s.status == Some(200))
                {
                    per_client_failover.push(ok.end().saturating_duration_since(fail.end()));
                }
            }
        }
    }
    // Rows nobody was told about, among answered intents.
    for (user, item) in &db.rows {
        let Some(c) = user
            .strip_prefix("kr-")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| clients.get(n))
        else {
            report.unacknowledged_rows.push(format!("{user}/{item}"));
            continue;
        };
        if !c.told.contains_key(item) && !c.unanswered.contains(item) {
            report.unacknowledged_rows.push(format!("{user}/{item}"));
        }
    }
    report.unacknowledged_rows.sort();
    report.unacknowledged_rows.dedup();
    report.failover_per_client = Spread::of(per_client_failover);
    report.client_time = Spread::of(times);
    Ok(report)
}

// ---------------------------------------------------------------------------
// Scenario 2: a surge at the opening minute

#[derive(Clone, Debug)]
pub struct Surge {
    pub clients: usize,
    pub cap: u64,
    pub max_in_flight: usize,
    /// Each client must be done this long after the start.
    pub client_bound: Duration,
    pub status_every: Duration,
    /// One user running a script of this many claims with fresh keys, during the surge.
    pub script_requests: usize,
    pub policy: Policy,
}

impl Default for Surge {
    fn default() -> Self {
        Surge {
            clients: 1000,
            cap: 100,
            max_in_flight: 64,
            client_bound: Duration::from_secs(40),
            status_every: Duration::from_millis(25),
            script_requests: 200,
            policy: Policy::APP,
        }
    }
}

#[derive(Debug, Default)]
pub struct SurgeReport {
    pub clients: usize,
    pub cap: u64,
    pub max_in_flight: usize,
    pub db_grants: usize,
    pub capped_counter: i64,
    pub duplicate_rows: i64,
    pub counter_mismatches: i64,
    pub told_granted: usize,
    pub told_sold_out: usize,
    /// Out of attempts or time: the app's waiting state.
    pub waiting: usize,
    /// Told granted but not in the database, or in the database but told otherwise.
    pub mismatched: Vec<String>,
    pub errors: Vec<String>,
    pub tally: Tally,
    /// Every answered request of the surge clients.
    pub latency: Spread,
    /// Claim requests answered 200.
    pub claim_latency: Spread,
    /// Client arrival → final answer.
    pub completion: Spread,
    pub status_polls: usize,
    pub status_failures: Vec<String>,
    pub status_latency: Spread,
    pub script_requests: usize,
    pub script_limited: usize,
    pub script_shed: usize,
    /// Script claims answered 200, and over how long the script ran.
    pub script_ok: usize,
    pub script_ran: Duration,
    pub elapsed: Duration,
}

impl SurgeReport {
    pub fn violations(&self, bound: Duration, max_waiting: usize) -> Vec<String> {
        let mut v = Vec::new();
        if self.db_grants as u64 != self.cap || self.capped_counter as u64 != self.cap {
            v.push(format!(
                "{} rows / counter {} for a cap of {}",
                self.db_grants, self.capped_counter, self.cap
            ));
        }
        if self.told_granted as u64 != self.cap {
            v.push(format!("{} clients told granted", self.told_granted));
        }
        if self.duplicate_rows != 0 || self.counter_mismatches != 0 {
            v.push(format!(
                "{} duplicates, {} counter mismatches",
                self.duplicate_rows, self.counter_mismatches
            ));
        }
        if !self.mismatched.is_empty() {
            v.push(format!(
                "client and database disagree: {:?}",
                self.mismatched
            ));
        }
        if self.told_granted + self.told_sold_out + self.waiting != self.clients {
            v.push(format!(
                "{} granted + {} sold out + {} waiting != {} clients",
                self.told_granted, self.told_sold_out, self.waiting, self.clients
            ));
        }
        if self.waiting > max_waiting {
            v.push(format!("{} clients still waiting", self.waiting));
        }
        if !self.errors.is_empty() {
            v.push(format!("errors: {:?}", self.errors));
        }
        if !self.status_failures.is_empty() {
            v.push(format!(
                "status failed {} of {} polls: {:?}",
                self.status_failures.len(),
                self.status_polls,
                self.status_failures
            ));
        }
        if self.completion.max > bound {
            v.push(format!(
                "slowest client took {:?}, bound {bound:?}",
                self.completion.max
            ));
        }
        v
    }
}

enum SurgeEnd {
    Granted,
    SoldOut,
    Waiting,
    Error(String),
}

/// `cap` vouchers, `clients` clients at once, a small in-flight bound so the
/// server sheds; `/v1/status` polled throughout.
pub async fn surge(cfg: &Surge) -> Res<SurgeReport> {
    let site = Site::new(cfg.cap)?;
    let server = site.spawn(
        "surge",
        "127.0.0.1:0",
        &["--max-in-flight", &cfg.max_in_flight.to_string()],
    )?;
    let urls = Arc::new(vec![server.url.clone()]);
    let http = http_client(cfg.clients)?;
    let (go, ready) = tokio::sync::watch::channel(false);
    let done = Arc::new(AtomicUsize::new(0));

    let tasks: Vec<_> = (0..cfg.clients)
        .map(|i| {
            let user = format!("sg-{i:04}");
            let token = site.token(&user);
            let (http, urls, mut ready, done) =
                (http.clone(), urls.clone(), ready.clone(), done.clone());
            let (policy, bound) = (cfg.policy, cfg.client_bound);
            tokio::spawn(async move {
                let _ = ready.wait_for(|go| *go).await;
                let started = Instant::now();
                let mut caller = Caller::new(http, urls, vec![0], policy, started + bound);
                let mut end = match caller.get("/api/v1/package", &token).await {
                    Answer::Done { status: 200, .. } | Answer::GaveUp { .. } => None,
                    Answer::Done { status, body, .. } => {
                        Some(SurgeEnd::Error(format!("{user}: package {status}: {body}")))
                    }
                };
                if end.is_none() {
                    end = Some(
                        match caller
                            .claim(&token, &format!("{user}-claim"), &[CAPPED])
                            .await
                        {
                            Answer::Done {
                                status: 200, body, ..
                            } => match claim_statuses(&body).map(|m| m.get(CAPPED).cloned()) {
                                Ok(Some(s)) if s == "granted" => SurgeEnd::Granted,
                                Ok(Some(s)) if s == "sold_out" => SurgeEnd::SoldOut,
                                other => SurgeEnd::Error(format!("{user}: {other:?}")),
                            },
                            Answer::Done { status, body, .. } => {
                                SurgeEnd::Error(format!("{user}: claim {status}: {body}"))
                            }
                            Answer::GaveUp { .. } => SurgeEnd::Waiting,
                        },
                    );
                }
                let took = started.elapsed();
                done.fetch_add(1, Ordering::Relaxed);
                (user, end.unwrap_or(SurgeEnd::Waiting), took, caller.log)
            })
        })
        .collect();

    // The status poller: its own connection pool, never retried.
    let status_task = {
        let (url, mut ready, done) = (
            format!("{}/api/v1/status", server.url),
            ready.clone(),
            done.clone(),
        );
        let (every, clients, bound) = (cfg.status_every, cfg.clients, cfg.client_bound);
        tokio::spawn(async move {
            let http = http_client(4)?;
            let _ = ready.wait_for(|go| *go).await;
            let until = Instant::now() + bound + Duration::from_secs(5);
            let mut polls = Vec::new();
            let mut failures = Vec::new();
            while done.load(Ordering::Relaxed) < clients && Instant::now() < until {
                let t0 = Instant::now();
                let res = http.get(&url).timeout(Duration::from_secs(2)).send().await;
                let took = t0.elapsed();
                match res {
                    Ok(r) if r.status() == 200 => {
                        if let Err(e) = r.bytes().await {
                            failures.push(format!("body: {e}"));
                        }
                    }
                    Ok(r) => failures.push(format!("status answered {}", r.status())),
                    Err(e) => failures.push(format!("status: {e}")),
                }
                polls.push(took);
                tokio::time::sleep(every.saturating_sub(took)).await;
            }
            Ok::<_, String>((polls, failures))
        })
    };

    // A script: one user, fresh keys, no pauses.
    let script_task = {
        let (url, mut ready, done) = (
            format!("{}/api/v1/claims", server.url),
            ready.clone(),
            done.clone(),
        );
        let (token, n, clients) = (site.token("script-user"), cfg.script_requests, cfg.clients);
        let http = http.clone();
        tokio::spawn(async move {
            let _ = ready.wait_for(|go| *go).await;
            let t0 = Instant::now();
            let (mut sent, mut limited, mut shed, mut ok) = (0, 0, 0, 0);
            for k in 0..n {
                if done.load(Ordering::Relaxed) >= clients {
                    break;
                }
                let res = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("script-{k}"))
                    .json(&serde_json::json!({ "item_ids": [FOREVER] }))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                sent += 1;
                match res.map(|r| r.status().as_u16()) {
                    Ok(429) => limited += 1,
                    Ok(503) => shed += 1,
                    Ok(200) => ok += 1,
                    _ => {}
                }
            }
            (sent, limited, shed, ok, t0.elapsed())
        })
    };

    drop(ready);
    let started = Instant::now();
    let _ = go.send(true);
    let mut ends = Vec::with_capacity(cfg.clients);
    for t in tasks {
        ends.push(t.await.map_err(|e| fail("client task", e))?);
    }
    let elapsed = started.elapsed();
    let (polls, status_failures) = status_task.await.map_err(|e| fail("status task", e))??;
    let (script_sent, script_limited, script_shed, script_ok, script_ran) =
        script_task.await.map_err(|e| fail("script task", e))?;
    let db = site.inspect()?;
    drop(server);

    let mut report = SurgeReport {
        clients: cfg.clients,
        cap: cfg.cap,
        max_in_flight: cfg.max_in_flight,
        db_grants: db.rows_of(CAPPED),
        capped_counter: db.capped_counter,
        duplicate_rows: db.duplicate_rows,
        counter_mismatches: db.counter_mismatches,
        status_polls: polls.len(),
        status_failures,
        status_latency: Spread::of(polls),
        script_requests: script_sent,
        script_limited,
        script_shed,
        script_ok,
        script_ran,
        elapsed,
        ..SurgeReport::default()
    };
    let mut latencies = Vec::new();
    let mut claim_latencies = Vec::new();
    let mut completion = Vec::new();
    for (user, end, took, log) in &ends {
        report.tally.add(log);
        completion.push(*took);
        for s in log {
            if s.status.is_some() {
                latencies.push(s.took);
            }
            if s.claim && s.status == Some(200) {
                claim_latencies.push(s.took);
            }
        }
        let row = db.rows.contains(&(user.clone(), CAPPED.to_string()));
        match end {
            SurgeEnd::Granted => {
                report.told_granted += 1;
                if !row {
                    report
                        .mismatched
                        .push(format!("{user} told granted, no row"));
                }
            }
            SurgeEnd::SoldOut => {
                report.told_sold_out += 1;
                if row {
                    report
                        .mismatched
                        .push(format!("{user} told sold out, has a row"));
                }
            }
            SurgeEnd::Waiting => report.waiting += 1,
            SurgeEnd::Error(e) => report.errors.push(e.clone()),
        }
    }
    report.latency = Spread::of(latencies);
    report.claim_latency = Spread::of(claim_latencies);
    report.completion = Spread::of(completion);
    Ok(report)
}

// ---------------------------------------------------------------------------
// Scenario 3: malformed, slow and dropped requests

/// One misbehaving client and what the server did about it.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub seen: String,
    /// After it, a normal claim was answered 200 at once.
    pub others_fine: bool,
    pub ok: bool,
}

#[derive(Debug, Default)]
pub struct MalformedReport {
    pub cases: Vec<Case>,
    pub status_polls: usize,
    pub status_failures: Vec<String>,
    pub elapsed: Duration,
}

impl MalformedReport {
    pub fn violations(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .cases
            .iter()
            .filter(|c| !c.ok || !c.others_fine)
            .map(|c| format!("{}: {} (others fine: {})", c.name, c.seen, c.others_fine))
            .collect();
        if !self.status_failures.is_empty() {
            v.push(format!("status failures: {:?}", self.status_failures));
        }
        v
    }
}

/// How long a stalled request body may send nothing before the server gives up on it.
pub const BODY_IDLE: Duration = Duration::from_millis(800);
/// How long a client may take to send a request head before the server closes it.
pub const HEADER_READ: Duration = Duration::from_millis(800);
pub const SLOTS: usize = 6;

struct Target {
    server: maeum_server::Server,
    http: reqwest::Client,
    n: AtomicUsize,
}

impl Target {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// A normal claim by a fresh user: its status, or the transport error.
    async fn normal_claim(&self) -> Result<u16, String> {
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let user = format!("neighbour-{n}");
        self.http
            .post(self.url("/api/v1/claims"))
            .bearer_auth(self.server.token(&user))
            .header("Idempotency-Key", format!("{user}-k"))
            .json(&serde_json::json!({ "item_ids": [FOREVER] }))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    }

    async fn others_fine(&self) -> bool {
        self.normal_claim().await == Ok(200)
    }

    /// Waits (bounded) until a normal claim gets 200 again.
    async fn recovers_within(&self, bound: Duration) -> Option<Duration> {
        let t0 = Instant::now();
        while t0.elapsed() < bound {
            if self.normal_claim().await == Ok(200) {
                return Some(t0.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    async fn raw(&self, bytes: &[u8]) -> Res<TcpStream> {
        let mut tcp = TcpStream::connect(self.server.addr())
            .await
            .map_err(|e| fail("connect", e))?;
        tcp.write_all(bytes).await.map_err(|e| fail("write", e))?;
        tcp.flush().await.map_err(|e| fail("flush", e))?;
        Ok(tcp)
    }

    /// Headers of a claim announcing `declared` body bytes, then `body`.
    fn claim_head(&self, user: &str, declared: usize, body: &[u8]) -> Vec<u8> {
        let mut b = format!(
            "POST /api/v1/claims HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Idempotency-Key: {user}-raw\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n",
            self.server.token(user)
        )
        .into_bytes();
        b.extend_from_slice(body);
        b
    }
}

/// Reads what the server sends back until it closes, for at most `bound`.
async fn read_answer(tcp: &mut TcpStream, bound: Duration) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let until = Instant::now() + bound;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut chunk)).await {
            Err(_) => {
                return match first_line(&buf) {
                    Some(l) => format!("{l} (connection kept open)"),
                    None => "no answer, connection kept open".into(),
                }
            }
            Ok(Ok(0)) => {
                return match first_line(&buf) {
                    Some(l) => format!("{l}, then closed"),
                    None => "closed without an answer".into(),
                }
            }
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 64 * 1024 {
                    return "too much".into();
                }
            }
            Ok(Err(e)) => {
                return match first_line(&buf) {
                    Some(l) => format!("{l}, then reset"),
                    None => format!("reset ({})", e.kind()),
                }
            }
        }
    }
}

fn show(r: &Result<u16, String>) -> String {
    match r {
        Ok(s) => s.to_string(),
        Err(e) => e.clone(),
    }
}

fn first_line(buf: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(buf);
    text.lines()
        .next()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
}

/// Misbehaving clients against an in-process server with `SLOTS` in-flight
/// slots; after each, a normal claim must be answered at once, and
/// `/v1/status` is polled throughout.
pub async fn malformed() -> Res<MalformedReport> {
    let dir = tempfile::tempdir().map_err(|e| fail("temporary directory", e))?;
    let mut config = maeum_server::Config::new(dir.path().join("data"));
    config.max_in_flight = SLOTS;
    config.body_idle_timeout = BODY_IDLE;
    config.header_read_timeout = HEADER_READ;
    let server = maeum_server::start(config).await?;
    let t = Arc::new(Target {
        server,
        http: http_client(16)?,
        n: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let stop = Arc::new(AtomicUsize::new(0));
    let poller = {
        let (url, stop) = (t.url("/api/v1/status"), stop.clone());
        tokio::spawn(async move {
            let http = http_client(2)?;
            let (mut polls, mut failures) = (0usize, Vec::new());
            while stop.load(Ordering::Relaxed) == 0 && polls < 5000 {
                polls += 1;
                match http.get(&url).timeout(Duration::from_secs(2)).send().await {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => failures.push(format!("{}", r.status())),
                    Err(e) => failures.push(e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Ok::<_, String>((polls, failures))
        })
    };

    let mut cases = Vec::new();
    let answer_bound = Duration::from_secs(3);

    // Half a request line, then gone.
    {
        let tcp = t.raw(b"POST /api/v1/cla").await?;
        drop(tcp);
        cases.push(Case {
            name: "half a request line, then the connection dropped",
            seen: "nothing to answer".into(),
            others_fine: t.others_fine().await,
            ok: true,
        });
    }
    // Headers cut off, then gone.
    {
        let head = t.claim_head("cut", 20, b"");
        let tcp = t.raw(&head[..head.len() / 2]).await?;
        drop(tcp);
        cases.push(Case {
            name: "headers cut mid-way, then the connection dropped",
            seen: "nothing to answer".into(),
            others_fine: t.others_fine().await,
            ok: true,
        });
    }
    // Bodies cut mid-way, held open: every slot taken, then all dropped.
    {
        let body = br#"{"item_ids": ["emoticon-forever"]}"#;
        let mut held = Vec::new();
        for k in 0..SLOTS {
            held.push(
                t.raw(&t.claim_head(&format!("drop-{k}"), body.len(), &body[..12]))
                    .await?,
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let while_held = t.normal_claim().await;
        drop(held);
        let back = t.recovers_within(Duration::from_secs(2)).await;
        cases.push(Case {
            name: "bodies cut mid-way in every in-flight slot, then the connections dropped",
            seen: format!(
                "while held: {}; slots free again after the drop: {}",
                show(&while_held),
                back.map_or("no".into(), ms)
            ),
            others_fine: back.is_some(),
            ok: while_held == Ok(503) && back.is_some_and(|d| d < Duration::from_secs(1)),
        });
    }
    // Bodies stalled in every slot and never dropped: the idle timeout frees them.
    {
        let body = br#"{"item_ids": ["emoticon-forever"]}"#;
        let mut held = Vec::new();
        for k in 0..SLOTS {
            held.push(
                t.raw(&t.claim_head(&format!("stall-{k}"), body.len(), &body[..12]))
                    .await?,
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let while_held = t.normal_claim().await;
        let back = t.recovers_within(BODY_IDLE + Duration::from_secs(3)).await;
        let stalled_saw = match held.first_mut() {
            Some(tcp) => read_answer(tcp, answer_bound).await,
            None => String::new(),
        };
        drop(held);
        cases.push(Case {
            name: "bodies stalled in every in-flight slot (slow client, never sends the rest)",
            seen: format!(
                "while stalled: {}; a normal claim answered again after {}; the stalled client got: {stalled_saw}",
                show(&while_held),
                back.map_or("never".into(), ms)
            ),
            others_fine: back.is_some(),
            ok: while_held == Ok(503)
                && back.is_some_and(|d| d < BODY_IDLE + Duration::from_secs(2)),
        });
    }
    // A body cut mid-way and the sending side closed.
    {
        let body = br#"{"item_ids": ["emoticon-forever"]}"#;
        let mut tcp = t
            .raw(&t.claim_head("halfclose", body.len(), &body[..12]))
            .await?;
        let _ = tcp.shutdown().await;
        let seen = read_answer(&mut tcp, answer_bound).await;
        cases.push(Case {
            name: "body cut mid-way, then the client closed its side",
            ok: !seen.contains("kept open"),
            seen,
            others_fine: t.others_fine().await,
        });
    }
    // Garbage bytes.
    {
        let mut junk: Vec<u8> = (0..4096).map(|_| rand::random::<u8>()).collect();
        junk.extend_from_slice(b"\r\n\r\n");
        let mut tcp = t.raw(&junk).await?;
        let seen = read_answer(&mut tcp, answer_bound).await;
        cases.push(Case {
            name: "4 KiB of random bytes",
            ok: !seen.contains("kept open") && !seen.starts_with("HTTP/1.1 2"),
            seen,
            others_fine: t.others_fine().await,
        });
    }
    {
        let mut tcp = t.raw(b"HELLO maeum\r\n\r\n").await?;
        let seen = read_answer(&mut tcp, answer_bound).await;
        cases.push(Case {
            name: "a line that is not HTTP",
            ok: !seen.contains("kept open") && !seen.starts_with("HTTP/1.1 2"),
            seen,
            others_fine: t.others_fine().await,
        });
    }
    {
        let mut req = b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".to_vec();
        req.extend(std::iter::repeat_n(b'a', 512 * 1024));
        req.extend_from_slice(b"\r\n\r\n");
        let mut tcp = TcpStream::connect(t.server.addr())
            .await
            .map_err(|e| fail("connect", e))?;
        // The server may close before everything is written.
        let _ = tokio::time::timeout(answer_bound, tcp.write_all(&req)).await;
        let seen = read_answer(&mut tcp, answer_bound).await;
        cases.push(Case {
            name: "a 512 KiB header",
            ok: !seen.contains("kept open") && !seen.starts_with("HTTP/1.1 2"),
            seen,
            others_fine: t.others_fine().await,
        });
    }
    // A complete request whose JSON body stops mid-way.
    {
        let res = t
            .http
            .post(t.url("/api/v1/claims"))
            .bearer_auth(t.server.token("truncated"))
            .header("Idempotency-Key", "truncated-1")
            .header("Content-Type", "application/json")
            .body(r#"{"item_ids": ["emoticon-forever", "drawer-pl"#)
            .timeout(answer_bound)
            .send()
            .await
            .map_err(|e| fail("truncated JSON", e))?;
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let code = body["code"].as_str().unwrap_or("").to_string();
        cases.push(Case {
            name: "a JSON body truncated mid-way (complete HTTP request)",
            seen: format!("{status} {ct} code={code}"),
            ok: status == 400
                && ct == "application/problem+json"
                && code == "invalid_json"
                && body["status"] == 400,
            others_fine: t.others_fine().await,
        });
    }
    // Many connections that never finish their headers (slowloris): they hold
    // no slot, and the server closes them once the header-read timeout passes.
    {
        let head = t.claim_head("loris", 10, b"");
        let opened = Instant::now();
        let mut held = Vec::new();
        for _ in 0..64 {
            held.push(t.raw(&head[..40]).await?);
        }
        let mut fine = true;
        for _ in 0..SLOTS * 2 {
            fine &= t.others_fine().await;
        }
        let mut closed = 0;
        for conn in &mut held {
            let mut rest = Vec::new();
            let read = tokio::time::timeout(HEADER_READ * 5, conn.read_to_end(&mut rest)).await;
            closed += usize::from(read.is_ok());
        }
        let after = opened.elapsed();
        cases.push(Case {
            name: "64 connections that never finish their headers",
            seen: format!(
                "{} normal claims answered 200 meanwhile; {closed} of 64 closed by the server, \
                 all within {} ms",
                SLOTS * 2,
                after.as_millis()
            ),
            ok: fine && closed == 64,
            others_fine: fine,
        });
    }

    stop.store(1, Ordering::Relaxed);
    let (status_polls, status_failures) = poller.await.map_err(|e| fail("status poller", e))??;
    let report = MalformedReport {
        cases,
        status_polls,
        status_failures,
        elapsed: started.elapsed(),
    };
    if let Ok(t) = Arc::try_unwrap(t) {
        let _ = tokio::time::timeout(Duration::from_secs(2), t.server.shutdown()).await;
    }
    Ok(report)
}
