//! Scale-out guarantees (issue 12): the capped item's counter stays exact under
//! concurrency (on PostgreSQL it is striped, see docs/scaling.md), and three
//! `serve` processes sharing one PostgreSQL keep every promise while one of
//! them is SIGKILLed and restarted mid-load.

mod common;

use common::*;
use maeum_server::TokenKey;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn claim_status(s: &TestServer, user: String) -> String {
    let body = json(s.claim(&user, &format!("k-{user}"), &[DRAWER]).await).await;
    statuses(&body)[0].clone()
}

/// 1,000 concurrent claimers against a cap of 100, then the operator raises the
/// cap by 50 mid-stream: exactly 100, then exactly 150, never more; the
/// counter (every stripe, on PostgreSQL) agrees with the rows and `remaining`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_capped_counter_is_exact_under_concurrency_and_a_cap_change() {
    let s = Arc::new(TestServer::start_with(|c| c.campaign = campaign_with_cap(DRAWER, 100)).await);
    let wave = |from: usize| {
        let s = s.clone();
        async move {
            let tasks: Vec<_> = (from..from + 500)
                .map(|i| tokio::spawn(claim_status_owned(s.clone(), format!("hot-{i:04}"))))
                .collect();
            let mut granted = 0;
            for t in tasks {
                if t.await.unwrap() == "granted" {
                    granted += 1;
                }
            }
            granted
        }
    };
    let first = wave(0).await + wave(500).await;
    assert_eq!(first, 100);
    assert_eq!(s.backing.granted(DRAWER).await, 100);
    // Raise the cap while claims keep coming.
    let more = tokio::spawn(wave(1000));
    let raised = {
        let b = s.backing.clone();
        tokio::task::spawn_blocking(move || cli(&b, &["admin", "cap", DRAWER, "150"]))
            .await
            .unwrap()
    };
    assert!(raised.status.success(), "{}", stderr(&raised));
    let during = more.await.unwrap();
    let after = wave(1500).await;
    assert_eq!(first + during + after, 150);
    let rows: i64 = s
        .backing
        .one("SELECT COUNT(*) FROM claims WHERE item_id = ?1", &[DRAWER])
        .await;
    assert_eq!(rows, 150);
    assert_eq!(s.backing.granted(DRAWER).await, 150);
    let package = json(s.get("/api/v1/package", Some("looker")).await).await;
    let drawer = package["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == DRAWER)
        .unwrap();
    assert_eq!(drawer["remaining"], 0);
    if s.backing.database.is_some() {
        // Every stripe within its share, the shares adding up to the cap.
        let (over, shares): (i64, i64) = s
            .backing
            .one(
                "SELECT COUNT(*) FILTER (WHERE granted > share), SUM(share) FROM item_stripes WHERE item_id = ?1",
                &[DRAWER],
            )
            .await;
        assert_eq!((over, shares), (0, 150));
    }
}

async fn claim_status_owned(s: Arc<TestServer>, user: String) -> String {
    claim_status(&s, user).await
}

// ---- three processes on one PostgreSQL ----

const BIN: &str = env!("CARGO_BIN_EXE_maeum-server");
const SERVERS: usize = 3;
const CLIENTS: usize = 1000;
const CAP: u64 = 100;

fn spawn(backing: &Backing, campaign: &std::path::Path, addr: &str) -> Option<Proc> {
    let child = Command::new(BIN)
        .args(["serve", "--addr", addr, "--no-rate-limit"])
        .args(backing.cli_args())
        .arg("--campaign")
        .arg(campaign)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proc::listening(child)
}

/// What a client was finally told, and by which answer.
struct Told {
    user: String,
    key: String,
    status: String,
    body: String,
}

/// Claims `[DRAWER]` under one key until some server answers 200: connection
/// errors and 503s move on to the next server (failover), with a short backoff.
async fn claimer(
    http: reqwest::Client,
    urls: Arc<std::sync::Mutex<Vec<String>>>,
    token: String,
    user: String,
    first: usize,
    answered: Arc<AtomicUsize>,
) -> Result<Told, String> {
    let key = format!("k-{user}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut server = first;
    let mut pause = Duration::from_millis(20);
    loop {
        let url = urls.lock().unwrap()[server % SERVERS].clone();
        let sent = http
            .post(format!("{url}/api/v1/claims"))
            .bearer_auth(&token)
            .header("Idempotency-Key", &key)
            .json(&serde_json::json!({ "item_ids": [DRAWER] }))
            .timeout(Duration::from_secs(15))
            .send()
            .await;
        if let Ok(res) = sent {
            let status = res.status().as_u16();
            if let Ok(body) = res.text().await {
                answered.fetch_add(1, Ordering::Relaxed);
                match status {
                    200 => {
                        let v: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
                        return Ok(Told {
                            status: statuses(&v)[0].clone(),
                            user,
                            key,
                            body,
                        });
                    }
                    503 => {}
                    other => return Err(format!("{user}: {other} {body}")),
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{user}: no answer within 60 s"));
        }
        server += 1;
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_on_one_postgres_keep_every_promise_through_a_sigkill() {
    if !on_postgres() {
        eprintln!(
            "skipped: needs MAEUM_TEST_DATABASE_URL (cargo xtask test runs it on PostgreSQL)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let backing = Backing::fresh(data.clone()).await;
    let campaign = dir.path().join("campaign.toml");
    std::fs::write(
        &campaign,
        maeum_server::campaign::DEFAULT_CAMPAIGN_TOML
            .replace("cap = 3000000", &format!("cap = {CAP}")),
    )
    .unwrap();
    // Three processes start at once over one empty database (migrations race too).
    let procs: Vec<_> = (0..SERVERS)
        .map(|_| {
            let (b, c) = (backing.clone(), campaign.clone());
            std::thread::spawn(move || spawn(&b, &c, "127.0.0.1:0").expect("serve starts"))
        })
        .collect();
    let mut procs: Vec<Option<Proc>> = procs.into_iter().map(|t| Some(t.join().unwrap())).collect();
    let urls = Arc::new(std::sync::Mutex::new(
        procs
            .iter()
            .map(|p| p.as_ref().unwrap().1.clone())
            .collect::<Vec<_>>(),
    ));
    let tokens = TokenKey::load_or_create(&data).unwrap();
    let now = maeum_server::clock::system_now().0 / 1000;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let user = format!("mp-{i:04}");
            tokio::spawn(claimer(
                http.clone(),
                urls.clone(),
                tokens.issue(&user, now),
                user,
                i % SERVERS,
                answered.clone(),
            ))
        })
        .collect();
    // SIGKILL the first process once the load is well under way, then restart it.
    let until = Instant::now() + Duration::from_secs(20);
    while answered.load(Ordering::Relaxed) < CLIENTS / 4 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let at_kill = answered.load(Ordering::Relaxed);
    assert!(at_kill < CLIENTS, "the load finished before the kill");
    let addr = procs[0]
        .as_ref()
        .unwrap()
        .1
        .trim_start_matches("http://")
        .to_string();
    procs[0] = None; // SIGKILL
    let restarted = {
        let (b, c) = (backing.clone(), campaign.clone());
        tokio::task::spawn_blocking(move || {
            let until = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(p) = spawn(&b, &c, &addr) {
                    return p;
                }
                assert!(
                    Instant::now() < until,
                    "the killed process restarts on its port"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .await
        .unwrap()
    };
    procs[0] = Some(restarted);

    let mut told = Vec::with_capacity(CLIENTS);
    for t in tasks {
        told.push(t.await.unwrap().unwrap());
    }
    let granted: Vec<&Told> = told.iter().filter(|t| t.status == "granted").collect();
    assert_eq!(granted.len() as u64, CAP, "exactly the cap was granted");
    assert!(told
        .iter()
        .all(|t| t.status == "granted" || t.status == "sold_out"));
    let rows: BTreeMap<String, i64> = backing
        .all::<(String, i64)>(
            "SELECT user_id, COUNT(*) FROM claims WHERE item_id = ?1 GROUP BY user_id",
            &[DRAWER],
        )
        .await
        .into_iter()
        .collect();
    assert_eq!(rows.len() as u64, CAP, "as many rows as grants");
    assert!(rows.values().all(|&n| n == 1), "0 duplicates");
    for t in &granted {
        assert!(
            rows.contains_key(&t.user),
            "{} was told granted: lost",
            t.user
        );
    }
    assert_eq!(backing.granted(DRAWER).await as u64, CAP);
    // Every key replays its answer byte for byte, from any process.
    let urls = urls.lock().unwrap().clone();
    for (i, t) in told.iter().enumerate().step_by(7) {
        let res = http
            .post(format!("{}/api/v1/claims", urls[(i + 1) % SERVERS]))
            .bearer_auth(tokens.issue(&t.user, now))
            .header("Idempotency-Key", &t.key)
            .json(&serde_json::json!({ "item_ids": [DRAWER] }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers().contains_key("idempotent-replayed"),
            "{}",
            t.user
        );
        assert_eq!(res.text().await.unwrap(), t.body, "{}", t.user);
    }
    eprintln!(
        "{CLIENTS} claimers on {SERVERS} processes: {} granted, first process killed after {at_kill} answers and restarted",
        granted.len()
    );
}

/// An evidence store that is down: the uploader hears a Korean 503 `busy` with
/// `Retry-After`, and no upload row (nothing a claim could point at) is kept.
#[tokio::test]
async fn an_unreachable_evidence_store_is_a_retryable_503_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backing = Backing::fresh(data.clone()).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--uploads",
            "s3://down/evidence",
        ])
        .args(backing.cli_args())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "nobody")
        .env("AWS_SECRET_ACCESS_KEY", "nothing")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc::listening(child).expect("the server is listening");
    let token = TokenKey::load_or_create(&data)
        .unwrap()
        .issue("owner", maeum_server::clock::system_now().0 / 1000);
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/uploads", proc.1))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&[file_part(
            "a.pdf",
            "application/pdf",
            &pdf_fixture(),
        )]))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    let p = expect_problem(res, 503, "busy").await;
    assert!(
        p["title"].as_str().unwrap().contains("저장하지 못했어요"),
        "{p}"
    );
    let rows: i64 = backing.one("SELECT COUNT(*) FROM uploads", &[]).await;
    assert_eq!(rows, 0);
    assert!(files_under(&data.join("uploads").join("tmp")).is_empty());
}
