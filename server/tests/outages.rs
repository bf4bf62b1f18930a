//! The stores going away under a running server, for real: a PostgreSQL
//! stopped (as by a crash) and started again, and an S3 store that stops
//! answering. No mocks: a throwaway PostgreSQL cluster of the test's own, and a
//! TCP proxy in front of the real SeaweedFS that can stall.
//!
//! Both need the engines `cargo xtask test` starts for its PostgreSQL + S3
//! layer (`MAEUM_TEST_DATABASE_URL`, `MAEUM_TEST_UPLOADS`); without them they
//! say so and pass.

mod common;

use common::*;
use maeum_server::Config;
use reqwest::Client;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

// ---- a PostgreSQL cluster of the test's own ----

/// `initdb` + `pg_ctl` on a temporary folder (as the `postgres` user when we
/// are root, which PostgreSQL refuses), listening on loopback only.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn init() -> Cluster {
        let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL under /usr/lib/postgresql (cargo xtask test installs it)")
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("pg_ctl").is_file())
            .collect();
        bins.sort();
        let uid = Command::new("id").arg("-u").output().unwrap();
        // Under the system's temporary folder: the `postgres` user must reach it.
        let dir = std::env::temp_dir().join(format!(
            "maeum-outage-{}-{}",
            std::process::id(),
            maeum_server::clock::system_now().0
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Cluster {
            bin: bins.pop().expect("initdb"),
            port: std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
            as_postgres: String::from_utf8_lossy(&uid.stdout).trim() == "0",
            dir,
        };
        if cluster.as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .unwrap();
            assert!(chown.success());
        }
        cluster.run(&format!(
            "{}/initdb -D {}/data -U postgres -A trust --no-sync -E UTF8",
            cluster.bin.display(),
            cluster.dir.display()
        ));
        cluster.start();
        cluster
    }

    fn run(&self, line: &str) {
        let mut c = if self.as_postgres {
            let mut c = Command::new("su");
            c.args(["postgres", "-s", "/bin/sh", "-c", line]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", line]);
            c
        };
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{line}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts (again, on the same port and data), and returns once it accepts connections.
    fn start(&self) {
        self.run(&format!(
            "{bin}/pg_ctl -w -t 60 -D {dir}/data -l {dir}/log start -o '-c listen_addresses=127.0.0.1 -p {port} -k {dir}'",
            bin = self.bin.display(),
            dir = self.dir.display(),
            port = self.port
        ));
    }

    /// Stops at once, as a crash would (the next start recovers from the WAL).
    fn crash(&self) {
        self.run(&format!(
            "{}/pg_ctl -D {}/data -m immediate -w stop",
            self.bin.display(),
            self.dir.display()
        ));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let line = format!(
            "{}/pg_ctl -D {}/data -m immediate -w stop",
            self.bin.display(),
            self.dir.display()
        );
        let _ = if self.as_postgres {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", &line])
                .output()
        } else {
            Command::new("sh").args(["-c", &line]).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_korean(s: &str) -> bool {
    s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

async fn claim(http: &Client, base: &str, token: &str, key: &str) -> reqwest::Response {
    http.post(format!("{base}/api/v1/claims"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&serde_json::json!({ "item_ids": [DRAWER, FOREVER] }))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap()
}

/// A retryable refusal: 503 `busy`, a Korean title and `Retry-After`.
async fn expect_busy(res: reqwest::Response, what: &str) {
    assert!(
        res.headers().contains_key("retry-after"),
        "{what}: Retry-After"
    );
    let p = expect_problem(res, 503, "busy").await;
    assert!(is_korean(p["title"].as_str().unwrap()), "{what}: {p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_a_running_server_is_a_503_and_the_same_key_succeeds_after() {
    if !on_postgres() {
        eprintln!("skipped: needs PostgreSQL (cargo xtask test runs it on PostgreSQL)");
        return;
    }
    let cluster = Cluster::init();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.database = Some(cluster.url());
    let server = maeum_server::start(config).await.unwrap();
    let base = server.url();
    let http = Client::new();
    let (alice, bob) = (server.token("alice"), server.token("bob"));

    // Acknowledged before the outage.
    let first = claim(&http, &base, &alice, "before").await;
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap();
    assert_eq!(
        statuses(&serde_json::from_str(&first).unwrap()),
        ["granted", "granted"]
    );

    cluster.crash();
    // Claims and reads that need the database: 503 busy, never a 500. Status may
    // still come from the row read a moment ago (docs/scaling.md), or be a 503.
    for attempt in 0..3 {
        expect_busy(claim(&http, &base, &bob, "during").await, "claim").await;
        let mine = http
            .get(format!("{base}/api/v1/me/claims"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        expect_busy(mine, "선물함").await;
        let status = http
            .get(format!("{base}/api/v1/status"))
            .send()
            .await
            .unwrap();
        match status.status().as_u16() {
            200 => {}
            503 => expect_busy(status, "status").await,
            other => panic!("status answered {other} during the outage ({attempt})"),
        }
    }

    cluster.start();
    // The same key goes through once the database is back (the pool replaces
    // its broken connections); until then it is still only ever a 503.
    let until = Instant::now() + Duration::from_secs(30);
    let granted = loop {
        let res = claim(&http, &base, &bob, "during").await;
        match res.status().as_u16() {
            200 => break res.text().await.unwrap(),
            503 => {
                assert!(Instant::now() < until, "still 503 30 s after the restart");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("{other} after the restart: {}", res.text().await.unwrap()),
        }
    };
    assert_eq!(
        statuses(&serde_json::from_str(&granted).unwrap()),
        ["granted", "granted"]
    );

    // Nothing acknowledged is lost, each key replays byte for byte, nobody holds twice.
    for (token, key, body) in [(&alice, "before", &first), (&bob, "during", &granted)] {
        let res = claim(&http, &base, token, key).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("idempotent-replayed"));
        assert_eq!(&res.text().await.unwrap(), body);
    }
    let (client, conn) = tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query(
            "SELECT user_id, COUNT(*) FROM claims GROUP BY user_id ORDER BY user_id",
            &[],
        )
        .await
        .unwrap();
    let held: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(held, [("alice".to_string(), 2), ("bob".to_string(), 2)]);
    let counted: i64 = client
        .query_one(
            "SELECT SUM(granted)::BIGINT FROM item_stripes WHERE item_id = $1",
            &[&DRAWER],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(counted, 2);
}

// ---- an S3 store that stops answering ----

/// A TCP proxy in front of the real store. Forwarding, or stalled: it drops the
/// connections it was forwarding and holds new ones open without a byte of answer.
struct Proxy {
    addr: SocketAddr,
    stalled: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            stalled: Arc::default(),
            conns: Arc::default(),
        };
        let (stalled, conns) = (proxy.stalled.clone(), proxy.conns.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let task = if stalled.load(Ordering::SeqCst) {
                    tokio::spawn(async move {
                        let mut buf = [0u8; 16 * 1024];
                        while sock.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                    })
                } else {
                    tokio::spawn(async move {
                        if let Ok(mut up) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut sock, &mut up).await;
                        }
                    })
                };
                conns.lock().unwrap().push(task);
            }
        });
        proxy
    }

    fn set_stalled(&self, stalled: bool) {
        self.stalled.store(stalled, Ordering::SeqCst);
        for task in self.conns.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_evidence_store_is_a_bounded_503_and_leaves_nothing_to_point_at() {
    let (Ok(endpoint), true) = (
        std::env::var("AWS_ENDPOINT_URL"),
        std::env::var("MAEUM_TEST_UPLOADS").is_ok_and(|u| !u.is_empty()),
    ) else {
        eprintln!("skipped: needs the S3 store (cargo xtask test runs it on SeaweedFS)");
        return;
    };
    let upstream: SocketAddr = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backing = Backing::fresh(data.clone()).await;
    let uploads = backing.uploads.clone().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_maeum-server"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--no-rate-limit",
            "--uploads",
            &uploads,
        ])
        .args(backing.cli_args())
        .env("AWS_ENDPOINT_URL", format!("http://{}", proxy.addr))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc::listening(child).expect("the server is listening");
    let token = maeum_server::TokenKey::load_or_create(&data)
        .unwrap()
        .issue("owner", maeum_server::clock::system_now().0 / 1000);
    let http = Client::new();
    let upload = |bytes: Vec<u8>| {
        http.post(format!("{}/api/v1/uploads", proc.1))
            .bearer_auth(&token)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(&[file_part("a.pdf", "application/pdf", &bytes)]))
            .timeout(Duration::from_secs(60))
            .send()
    };
    let first = pdf_fixture();
    let mut second = pdf_fixture();
    second.extend_from_slice(b"%second\n");
    let sha = |b: &[u8]| {
        use sha2::Digest;
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };

    // Through the proxy, the store works.
    assert_eq!(upload(first.clone()).await.unwrap().status(), 201);

    proxy.set_stalled(true);
    let started = Instant::now();
    let res = upload(second.clone()).await.unwrap();
    let waited = started.elapsed();
    expect_busy(res, "upload to a stalled store").await;
    // Bounded: the store's deadline (20 s), not the client's patience.
    assert!(
        waited < Duration::from_secs(30),
        "answered after {waited:?}"
    );
    let rows: Vec<String> = backing
        .all("SELECT sha256 FROM uploads WHERE user_id = ?1", &["owner"])
        .await;
    assert_eq!(rows, [sha(&first)], "no row for the stalled upload");
    let blobs = backing.blobs();
    assert_eq!(blobs.read(&sha(&second)).await.unwrap(), None, "no object");
    assert!(files_under(&data.join("uploads").join("tmp")).is_empty());

    // The same file again once the store answers: stored, once.
    proxy.set_stalled(false);
    let res = upload(second.clone()).await.unwrap();
    assert_eq!(res.status(), 201);
    let stored: Value = res.json().await.unwrap();
    assert_eq!(stored["sha256"], sha(&second));
    assert_eq!(blobs.read(&sha(&second)).await.unwrap(), Some(second));
}
