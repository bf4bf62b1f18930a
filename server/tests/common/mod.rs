//! Shared helpers: start the real server in-process on loopback with a fresh
//! SQLite file in a temporary directory, and talk to it over HTTP.
#![allow(dead_code)]

use maeum_contract::Timestamp;
use maeum_server::{Campaign, Config, Server};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

pub const DRAWER: &str = "drawer-plus-1m";
pub const FOREVER: &str = "emoticon-forever";
pub const EMO_A: &str = "emoticon-90-a";
pub const MAKERS_2000: &str = "makers-2000";

pub struct TestServer {
    pub server: Server,
    pub dir: tempfile::TempDir,
    pub http: Client,
}

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts with the shipped campaign, adjusted by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path().join("data"));
        tweak(&mut config);
        let server = maeum_server::start(config).await.unwrap();
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer { server, dir, http }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub fn token(&self, user: &str) -> String {
        self.server.token(user)
    }

    pub async fn get(&self, path: &str, user: Option<&str>) -> Response {
        let mut req = self.http.get(self.url(path));
        if let Some(u) = user {
            req = req.bearer_auth(self.token(u));
        }
        req.send().await.unwrap()
    }

    /// `POST /api/v1/claims` with a JSON body and a key.
    pub async fn claim(&self, user: &str, key: &str, items: &[&str]) -> Response {
        self.http
            .post(self.url("/api/v1/claims"))
            .bearer_auth(self.token(user))
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({ "item_ids": items }))
            .send()
            .await
            .unwrap()
    }

    /// Runs the real binary against this server's data directory.
    pub fn cli(&self, args: &[&str]) -> Output {
        cli(&self.data_dir(), args)
    }
}

pub fn cli(data_dir: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let dir = data_dir.to_str().unwrap();
    all.extend(["--data-dir", dir]);
    std::process::Command::new(env!("CARGO_BIN_EXE_maeum-server"))
        .args(&all)
        .output()
        .unwrap()
}

pub fn campaign_with_cap(item: &str, cap: u64) -> Campaign {
    let mut c = Campaign::shipped();
    c.items.iter_mut().find(|i| i.id == item).unwrap().cap = Some(cap);
    c
}

pub async fn json(res: Response) -> Value {
    res.json().await.unwrap()
}

/// Asserts a problem document with this status and code, and returns it.
pub async fn expect_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        res.status(),
        StatusCode::from_u16(status).unwrap(),
        "status for {code}"
    );
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        ct.as_deref(),
        Some("application/problem+json"),
        "content type for {code}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    body
}

pub fn statuses(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

/// Opens the server's SQLite file directly (read-only checks).
pub fn db(data_dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(data_dir.join("maeum.sqlite3")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
