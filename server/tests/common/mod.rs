//! Shared helpers: start the real server in-process on loopback on fresh
//! storage, and talk to it over HTTP.
//!
//! The storage is SQLite + a local folder in a temporary directory, or, when
//! `MAEUM_TEST_DATABASE_URL` (a PostgreSQL server we may create databases on)
//! and `MAEUM_TEST_UPLOADS` (`s3://BUCKET`, with the `AWS_*` variables) are set,
//! a fresh PostgreSQL database and S3 prefix per server: `cargo xtask test`
//! runs every suite both ways.
#![allow(dead_code)]

use maeum_contract::Timestamp;
use maeum_server::{Campaign, Config, Server};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output};

pub const DRAWER: &str = "drawer-plus-1m";
pub const FOREVER: &str = "emoticon-forever";
pub const EMO_A: &str = "emoticon-90-a";
pub const MAKERS_2000: &str = "makers-2000";

pub struct TestServer {
    pub server: Server,
    pub dir: tempfile::TempDir,
    pub http: Client,
    pub backing: Backing,
}

/// Where a test server keeps its data: `database`/`uploads` are `None` for
/// SQLite and the local folder under `data`.
#[derive(Clone, Debug)]
pub struct Backing {
    pub data: PathBuf,
    pub database: Option<String>,
    pub uploads: Option<String>,
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        maeum_server::clock::system_now().0
    )
}

/// The engines the suites run on, from the environment (see the module comment).
pub fn on_postgres() -> bool {
    std::env::var("MAEUM_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

impl Backing {
    /// Fresh storage for one test: a new database and S3 prefix when asked for.
    pub async fn fresh(data: PathBuf) -> Backing {
        let database = match std::env::var("MAEUM_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = unique("t");
                let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                    .await
                    .expect("MAEUM_TEST_DATABASE_URL reachable");
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').unwrap().0;
                Some(format!("{base}/{name}"))
            }
            _ => None,
        };
        let uploads = match std::env::var("MAEUM_TEST_UPLOADS") {
            Ok(bucket) if !bucket.is_empty() => {
                Some(format!("{}/{}", bucket.trim_end_matches('/'), unique("t")))
            }
            _ => None,
        };
        Backing {
            data,
            database,
            uploads,
        }
    }

    /// SQLite and the local folder in `data`, whatever the environment says.
    pub fn sqlite(data: &Path) -> Backing {
        Backing {
            data: data.to_path_buf(),
            database: None,
            uploads: None,
        }
    }

    pub fn apply(&self, config: &mut Config) {
        config.database = self.database.clone();
        config.uploads = self.uploads.clone();
    }

    /// `--data-dir DIR [--database URL]` for the binary.
    pub fn cli_args(&self) -> Vec<String> {
        let mut args = vec![
            "--data-dir".to_string(),
            self.data.to_str().unwrap().to_string(),
        ];
        if let Some(db) = &self.database {
            args.extend(["--database".to_string(), db.clone()]);
        }
        args
    }

    /// The evidence store, as the server sees it.
    pub fn blobs(&self) -> maeum_server::blobs::Blobs {
        maeum_server::blobs::Blobs::open(self.uploads.as_deref(), &self.data.join("uploads"))
            .unwrap()
    }

    /// Runs a read-only query on whichever engine holds the data; `?1`, `?2`...
    /// are replaced by the quoted `params`. Each value comes back as text.
    pub async fn rows(&self, sql: &str, params: &[&str]) -> Vec<Vec<Option<String>>> {
        let mut sql = sql.to_string();
        for (i, p) in params.iter().enumerate().rev() {
            sql = sql.replace(
                &format!("?{}", i + 1),
                &format!("'{}'", p.replace('\'', "''")),
            );
        }
        match &self.database {
            None => {
                let conn = db(&self.data);
                let mut stmt = conn.prepare(&sql).unwrap();
                let n = stmt.column_count();
                let rows = stmt
                    .query_map([], |r| {
                        (0..n)
                            .map(|i| {
                                use rusqlite::types::ValueRef;
                                Ok(match r.get_ref(i)? {
                                    ValueRef::Null => None,
                                    ValueRef::Integer(v) => Some(v.to_string()),
                                    ValueRef::Real(v) => Some(v.to_string()),
                                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                                        Some(String::from_utf8_lossy(t).into_owned())
                                    }
                                })
                            })
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .unwrap()
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .unwrap();
                rows
            }
            Some(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
                    .simple_query(&sql)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => {
                            Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                        }
                        _ => None,
                    })
                    .collect()
            }
        }
    }

    /// The first row, as `T`.
    pub async fn one<T: FromCols>(&self, sql: &str, params: &[&str]) -> T {
        let rows = self.rows(sql, params).await;
        T::from_cols(rows.first().expect("one row"))
    }

    /// Every row, as `T`.
    pub async fn all<T: FromCols>(&self, sql: &str, params: &[&str]) -> Vec<T> {
        self.rows(sql, params)
            .await
            .iter()
            .map(|r| T::from_cols(r))
            .collect()
    }

    /// The item's grant counter (SQLite: `items.granted`; PostgreSQL: its stripes' sum).
    pub async fn granted(&self, item: &str) -> i64 {
        if self.database.is_some() {
            self.one(
                "SELECT COALESCE(SUM(granted), 0) FROM item_stripes WHERE item_id = ?1",
                &[item],
            )
            .await
        } else {
            self.one("SELECT granted FROM items WHERE id = ?1", &[item])
                .await
        }
    }
}

/// A query row as a value or a tuple of values.
pub trait FromCols: Sized {
    fn from_cols(cols: &[Option<String>]) -> Self;
}

pub trait FromCol: Sized {
    fn from_col(col: &Option<String>) -> Self;
}

impl FromCol for i64 {
    fn from_col(col: &Option<String>) -> Self {
        col.as_deref().unwrap().parse().unwrap()
    }
}

impl FromCol for String {
    fn from_col(col: &Option<String>) -> Self {
        col.clone().unwrap()
    }
}

impl FromCol for Option<String> {
    fn from_col(col: &Option<String>) -> Self {
        col.clone()
    }
}

impl FromCols for i64 {
    fn from_cols(cols: &[Option<String>]) -> Self {
        i64::from_col(&cols[0])
    }
}

impl FromCols for String {
    fn from_cols(cols: &[Option<String>]) -> Self {
        String::from_col(&cols[0])
    }
}

impl<A: FromCol, B: FromCol> FromCols for (A, B) {
    fn from_cols(cols: &[Option<String>]) -> Self {
        (A::from_col(&cols[0]), B::from_col(&cols[1]))
    }
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
        let backing = Backing::fresh(dir.path().join("data")).await;
        let mut config = Config::new(dir.path().join("data"));
        backing.apply(&mut config);
        tweak(&mut config);
        let server = maeum_server::start(config).await.unwrap();
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer {
            server,
            dir,
            http,
            backing,
        }
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

    /// Runs the real binary against this server's data.
    pub fn cli(&self, args: &[&str]) -> Output {
        cli(&self.backing, args)
    }
}

pub fn cli(backing: &Backing, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_maeum-server"))
        .args(args)
        .args(backing.cli_args())
        .env_remove("DATABASE_URL")
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

// ---- small businesses ----

/// First bytes of each allowed evidence type, padded into small files.
pub fn jpeg_fixture() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

pub fn png_fixture() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend_from_slice(b"\x1f\x15\xc4\x89\0\0\0\0IEND\xaeB`\x82");
    b
}

pub fn pdf_fixture() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

pub fn heic_fixture() -> Vec<u8> {
    let mut b = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    b.extend_from_slice(b"\0\0\0\x08free");
    b
}

/// A Windows executable, as someone might rename it to `.jpg`.
pub fn exe_fixture() -> Vec<u8> {
    let mut b = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    b.extend(std::iter::repeat_n(0u8, 64));
    b
}

pub const BOUNDARY: &str = "maeum-test-boundary-7Q4K93";

/// One multipart part: name, optional file name and type, bytes.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub bytes: &'a [u8],
}

pub fn file_part<'a>(filename: &'a str, content_type: &'a str, bytes: &'a [u8]) -> Part<'a> {
    Part {
        name: "file",
        filename: Some(filename),
        content_type: Some(content_type),
        bytes,
    }
}

pub fn text_part<'a>(name: &'a str, value: &'a str) -> Part<'a> {
    Part {
        name,
        filename: None,
        content_type: None,
        bytes: value.as_bytes(),
    }
}

/// A `multipart/form-data` body.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = p.filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = p.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A complete, valid damage claim body (loss 420,000원 → 50,000원).
pub fn damage_claim_body() -> Value {
    serde_json::json!({
        "brn": "124-81-00998",
        "business_name": " 카카오 분식 ",
        "representative": "김카카오",
        "phone": "010 1234 5678",
        "email": "",
        "services": ["kakaotalk_channel", "kakao_pay"],
        "paid_service": true,
        "period_from": "2022-10-15",
        "period_to": "2022-10-17",
        "loss_won": 420000,
        "description": "주문 알림이 오지 않아 손님을 놓쳤어요.",
        "evidence": [],
        "payout": {"bank_code": "090", "account_no": "3333-01-1234567", "holder": "김카카오"},
        "consents": {"privacy_required": true, "marketing": false}
    })
}

impl TestServer {
    /// `POST /api/v1/uploads` with a prepared multipart body.
    pub async fn upload_parts(&self, user: &str, parts: &[Part<'_>]) -> Response {
        self.http
            .post(self.url("/api/v1/uploads"))
            .bearer_auth(self.token(user))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(parts))
            .send()
            .await
            .unwrap()
    }

    /// Uploads one file; returns the response.
    pub async fn upload(&self, user: &str, filename: &str, ct: &str, bytes: &[u8]) -> Response {
        self.upload_parts(user, &[file_part(filename, ct, bytes)])
            .await
    }

    /// POSTs JSON with an optional key.
    pub async fn post_json(
        &self,
        user: &str,
        path: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut req = self
            .http
            .post(self.url(path))
            .bearer_auth(self.token(user))
            .json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.unwrap()
    }

    pub async fn damage_claim(&self, user: &str, key: &str, body: &Value) -> Response {
        self.post_json(user, "/api/v1/damage-claims", Some(key), body)
            .await
    }

    pub async fn channel_cash(&self, user: &str, key: &str, brn: &str) -> Response {
        self.post_json(
            user,
            "/api/v1/channel-cash",
            Some(key),
            &serde_json::json!({ "brn": brn }),
        )
        .await
    }
}

/// Files under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The real binary serving in a child process, with everything it writes kept.
pub struct Served {
    pub child: std::process::Child,
    pub url: String,
    /// The operations listener, with `--metrics-addr`.
    pub metrics_url: Option<String>,
    output: std::sync::Arc<std::sync::Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Served {
    /// `maeum-server serve ARGS` with `env`; waits for its address line(s).
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Served {
        use std::io::{BufRead, BufReader, Read};
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_maeum-server"))
            .arg("serve")
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        output.lock().unwrap().push_str(&line);
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let metrics_url = if args.contains(&"--metrics-addr") {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            output.lock().unwrap().push_str(&line);
            Some(line.trim().strip_prefix("metrics on ").unwrap().to_string())
        } else {
            None
        };
        // Both pipes are drained all along, so a chatty server never blocks on them.
        let mut readers = Vec::new();
        let stderr = child.stderr.take().unwrap();
        for mut source in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(stderr)] {
            let out = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = String::new();
                let _ = source.read_to_string(&mut buf);
                out.lock().unwrap().push_str(&buf);
            }));
        }
        Served {
            child,
            url,
            metrics_url,
            output,
            readers,
        }
    }

    /// SIGTERM; waits for the exit and returns it with everything written.
    pub fn terminate(self) -> (std::process::ExitStatus, String) {
        self.sigterm();
        self.wait()
    }

    pub fn sigterm(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the exit; returns it with everything the process wrote.
    pub fn wait(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        let out = self.output.lock().unwrap().clone();
        (status, out)
    }
}

/// A `maeum-server serve` child process and the URL it listens on, SIGKILLed
/// when dropped.
pub struct Proc(pub Child, pub String);

impl Proc {
    /// Waits for the child's `listening on URL` line (its stdout piped);
    /// `None`, the child gone, when it printed anything else.
    pub fn listening(mut child: Child) -> Option<Proc> {
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        match (read, line.trim().strip_prefix("listening on ")) {
            (Some(Ok(_)), Some(url)) => Some(Proc(child, url.to_string())),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
