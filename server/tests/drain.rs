//! SIGTERM: `/readyz` turns 503, new connections stop, requests in flight
//! finish, the process exits 0, and no acknowledged claim is lost; past the
//! grace period the rest are cut off and it still exits 0.

mod common;

use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An upload whose body is half sent: a request that stays in flight.
async fn half_sent_upload(url: &str, token: &str) -> (TcpStream, Vec<u8>) {
    let body = multipart(&[file_part("증빙.pdf", "application/pdf", &pdf_fixture())]);
    let addr = url.strip_prefix("http://").unwrap();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/uploads HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let half = body.len() / 2;
    tcp.write_all(&body[..half]).await.unwrap();
    (tcp, body[half..].to_vec())
}

async fn metric(http: &reqwest::Client, metrics_url: &str, name: &str) -> f64 {
    let text = http
        .get(format!("{metrics_url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map_or(0.0, |v| v.parse().unwrap())
}

/// Polls until `check` holds (bounded; no fixed sleep decides anything).
async fn wait_for<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_in_flight_requests_and_loses_no_acknowledged_claim() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::spawn(
        &[
            "--addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--no-rate-limit",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    let (url, ops) = (served.url.clone(), served.metrics_url.clone().unwrap());
    let http = reqwest::Client::new();
    let token = |user: &str| {
        stdout(&cli(&Backing::sqlite(&data), &["token", user]))
            .trim()
            .to_string()
    };
    let uploader = token("uploader");
    // One token per client: the load is real claims, each user claiming once.
    let tokens: Vec<String> = (0..8).map(|i| token(&format!("load{i}"))).collect();

    let (mut upload, rest) = half_sent_upload(&url, &uploader).await;
    wait_for("the upload to hold a slot", || async {
        metric(&http, &ops, "maeum_in_flight_requests").await >= 1.0
    })
    .await;

    // Load: clients claim with fresh keys until the server stops taking them.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for (c, tok) in tokens.iter().enumerate() {
        let (url, tok, acked, answered) =
            (url.clone(), tok.clone(), acked.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..5000 {
                let key = format!("drain-{c}-{i}");
                let res = http
                    .post(format!("{url}/api/v1/claims"))
                    .bearer_auth(&tok)
                    .header("Idempotency-Key", &key)
                    .json(&serde_json::json!({ "item_ids": [DRAWER, FOREVER] }))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                let ok = res.status() == 200;
                if ok && res.json::<serde_json::Value>().await.is_ok() {
                    acked.lock().unwrap().push(key);
                }
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    wait_for("claims under load", || async {
        answered.load(Ordering::SeqCst) >= 40
    })
    .await;

    served.sigterm();
    wait_for("/readyz to turn 503", || async {
        http.get(format!("{ops}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 503)
    })
    .await;
    // New connections are refused while the upload is still in flight.
    wait_for("the public port to close", || async {
        TcpStream::connect(url.strip_prefix("http://").unwrap())
            .await
            .is_err()
    })
    .await;

    // The request in flight finishes and is answered in full.
    upload.write_all(&rest).await.unwrap();
    let mut answer = String::new();
    upload.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    for c in clients {
        c.await.unwrap();
    }
    let (status, _) = tokio::task::spawn_blocking(move || served.wait())
        .await
        .unwrap();
    assert!(status.success(), "exit {status:?}");

    // Every acknowledged claim is in the database.
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    let conn = db(&data);
    for key in &acked {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM idempotency WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "acknowledged claim {key} was lost");
    }
    let uploads: i64 = conn
        .query_row("SELECT COUNT(*) FROM uploads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(uploads, 1);
}

#[tokio::test]
async fn past_the_grace_period_a_stuck_request_is_cut_and_the_process_still_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::spawn(
        &[
            "--addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--shutdown-grace-seconds",
            "1",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    let http = reqwest::Client::new();
    let ops = served.metrics_url.clone().unwrap();
    let token = stdout(&cli(&Backing::sqlite(&data), &["token", "stuck"]))
        .trim()
        .to_string();
    let (_upload, _rest) = half_sent_upload(&served.url, &token).await;
    wait_for("the upload to hold a slot", || async {
        metric(&http, &ops, "maeum_in_flight_requests").await >= 1.0
    })
    .await;
    let started = Instant::now();
    let (status, out) = tokio::task::spawn_blocking(move || served.terminate())
        .await
        .unwrap();
    assert!(status.success(), "exit {status:?}\n{out}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(out.contains("grace period"), "{out}");
}
