//! maeum-conformance: runs the contract's behaviour (`contract/openapi.yaml`)
//! against a backend over HTTP and says, check by check, what is wrong.
//!
//! [`run`] is the whole kit; the binary is its command line. [`openapi`] is the
//! workspace's one OpenAPI validator (the reference server's tests use it too).

pub mod checks;
pub mod client;
pub mod openapi;
pub mod people;
pub mod report;

use client::{Client, Exchange, Failure};
use people::{Admin, Tokens, User};
use report::{CheckResult, Outcome, Report};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// What to check and how to reach the backend.
pub struct Config {
    /// The API base, e.g. `https://api.example.com/api`.
    pub base: String,
    pub tokens: Tokens,
    /// Without it, the checks that need an operator are skipped.
    pub admin: Option<Admin>,
    /// The app's origin, for the CORS checks (skipped without it).
    pub app_origin: Option<String>,
    /// Only these groups (empty: all).
    pub only: Vec<String>,
}

/// One run against one backend: the HTTP client, users, keys.
pub struct Kit {
    pub http: Client,
    tokens: Tokens,
    admin: Option<Admin>,
    pub app_origin: Option<String>,
    /// Random per run, so users and keys are new each time.
    run: String,
    counter: AtomicU64,
    users_used: AtomicUsize,
    reader: OnceLock<User>,
}

impl Kit {
    /// A user never seen before (for a token file: the next one in it).
    pub fn user(&self) -> Result<User, Failure> {
        let n = self.users_used.fetch_add(1, Ordering::SeqCst);
        self.tokens
            .user(format!("ck-{}-u{n}", self.run))
            .map_err(Failure::new)
    }

    /// How many users this run has used.
    pub fn users_used(&self) -> usize {
        self.users_used.load(Ordering::SeqCst)
    }

    /// A new Idempotency-Key.
    pub fn key(&self) -> String {
        format!(
            "ck-{}-k{}",
            self.run,
            self.counter.fetch_add(1, Ordering::SeqCst)
        )
    }

    /// Something unique to this run (for ids that must not exist).
    pub fn unique(&self, what: &str) -> String {
        format!(
            "{what}-{}-{}",
            self.run,
            self.counter.fetch_add(1, Ordering::SeqCst)
        )
    }

    pub fn has_admin(&self) -> bool {
        self.admin.is_some()
    }

    /// Runs the operator hook.
    pub fn admin(&self, args: &[&str]) -> Result<(), Failure> {
        let admin = self
            .admin
            .as_ref()
            .ok_or_else(|| Failure::new("needs --admin-cmd"))?;
        admin
            .run(args)
            .map_err(|e| Failure::new(format!("--admin-cmd {}: {e}", args.join(" "))))
    }

    /// `POST /v1/claims` for these items with this key.
    pub fn claim(&self, user: &User, key: &str, items: &[&str]) -> Result<Exchange, Failure> {
        self.http
            .post("/v1/claims")
            .bearer(&user.token)
            .key(key)
            .json(&json!({ "item_ids": items }))
            .send()
    }

    /// `GET /v1/status`, as JSON (checked to be 200).
    pub fn status(&self) -> Result<Value, Failure> {
        self.http.get("/v1/status").send()?.expect(200)
    }

    /// The package's items, read by one user kept for the run.
    pub fn items(&self) -> Result<Vec<Value>, Failure> {
        let reader = match self.reader.get() {
            Some(u) => u.clone(),
            None => {
                let u = self.user()?;
                self.reader.get_or_init(|| u).clone()
            }
        };
        let x = self.http.get("/v1/package").bearer(&reader.token).send()?;
        let body = x.expect(200)?;
        body["items"]
            .as_array()
            .filter(|a| !a.is_empty())
            .cloned()
            .ok_or_else(|| Failure::at("the package has no items", &x))
    }

    /// An item anyone may still claim: an uncapped one if there is one (so the
    /// checks use up nothing scarce), else the one with the most left.
    pub fn claimable_item(&self) -> Result<String, Failure> {
        let items = self.items()?;
        let left = |i: &Value| i["remaining"].as_u64().unwrap_or(0);
        items
            .iter()
            .find(|i| i["cap"].is_null())
            .or_else(|| items.iter().filter(|i| left(i) > 0).max_by_key(|i| left(i)))
            .and_then(|i| i["id"].as_str())
            .map(str::to_string)
            .ok_or_else(|| Failure::new("no item of the package can still be claimed"))
    }
}

/// Runs every selected check, then the rules audited over all their answers.
pub fn run(config: Config) -> Result<Report, String> {
    let kit = Kit {
        http: Client::new(&config.base)?,
        tokens: config.tokens,
        admin: config.admin,
        app_origin: config.app_origin,
        run: format!("{:08x}", fastrand::u32(..)),
        counter: AtomicU64::new(0),
        users_used: AtomicUsize::new(0),
        reader: OnceLock::new(),
    };
    let selected: Vec<&checks::Check> = checks::ALL
        .iter()
        .filter(|c| config.only.is_empty() || config.only.iter().any(|g| g == c.group))
        .collect();
    if let Some(have) = kit.tokens.limit() {
        let need = checks::users_needed(&selected, kit.has_admin());
        if have < need {
            return Err(format!(
                "--tokens has {have} users; these checks need {need} fresh ones"
            ));
        }
    }
    let mut report = Report {
        base: config.base.clone(),
        results: Vec::new(),
        users: 0,
    };
    // A backend that says it is not open can only be checked for its gate. One
    // that cannot say (unreachable, broken status) is checked anyway and fails.
    let closed = match kit.status() {
        Ok(s) if s["open"] == false => Some(format!(
            "the backend is not open (release_at {}, paused {})",
            s["release_at"], s["paused"]
        )),
        _ => None,
    };
    for check in selected {
        let started = Instant::now();
        let outcome = match checks::unmet(check, &kit, closed.as_deref()) {
            Some(why) => Outcome::Skip(why),
            None => match (check.run)(&kit) {
                Ok(o) => o,
                Err(f) => Outcome::Fail(f),
            },
        };
        report.results.push(CheckResult {
            id: check.id,
            group: check.group,
            title: check.title,
            outcome,
            millis: started.elapsed().as_millis(),
        });
    }
    report
        .results
        .extend(checks::audited(&kit.http.audit_so_far()));
    report.users = kit.users_used();
    Ok(report)
}
