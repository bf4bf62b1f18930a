//! Operating the server: metrics scraped and checked against the requests
//! made, readiness, request ids, a panicking handler, and the release profile.

mod common;

use common::*;
use maeum_server::Clock;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Starts a server with an operations listener on a free port.
async fn start_with_metrics(tweak: impl FnOnce(&mut maeum_server::Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        tweak(c);
    })
    .await
}

fn ops_url(s: &TestServer, path: &str) -> String {
    format!("{}{path}", s.server.metrics_url().unwrap())
}

/// Every sample of a scrape, `name{labels}` → value.
async fn scrape(s: &TestServer) -> HashMap<String, f64> {
    let res = s.http.get(ops_url(s, "/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

fn sample(m: &HashMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_exactly_the_requests_this_server_answered() {
    let s = start_with_metrics(|c| {
        c.campaign = campaign_with_cap(DRAWER, 5);
        c.rate_limit = Some(maeum_server::RateLimit {
            burst: 3,
            per_second: 0.001,
        });
    })
    .await;
    // Another server in the same process counts its own requests only.
    let early = start_with_metrics(|c| {
        c.clock = Arc::new(Clock::starting_at(t("2000-01-01T00:00:00Z")));
    })
    .await;

    for _ in 0..4 {
        assert_eq!(s.get("/api/v1/status", None).await.status(), 200);
    }
    assert_eq!(s.get("/api/v1/package", None).await.status(), 401);
    assert_eq!(s.claim("a", "k1", &[DRAWER]).await.status(), 200);
    assert_eq!(s.claim("b", "k2", &[DRAWER]).await.status(), 200);
    assert_eq!(
        s.claim("b", "k2", &[DRAWER]).await.status(),
        200,
        "a replay"
    );
    assert_eq!(s.claim("c", "k3", &[EMO_A]).await.status(), 200);
    // User a: burst 3, so the fourth new key is refused.
    for k in ["k4", "k5"] {
        assert_eq!(s.claim("a", k, &[FOREVER]).await.status(), 200);
    }
    assert_eq!(s.claim("a", "k6", &[FOREVER]).await.status(), 429);
    let pdf = pdf_fixture();
    let up = s.upload("owner", "증빙.pdf", "application/pdf", &pdf).await;
    assert_eq!(up.status(), 201);
    let res = s.damage_claim("owner", "d1", &damage_claim_body()).await;
    assert_eq!(res.status(), 201);
    assert_eq!(early.claim("z", "e1", &[DRAWER]).await.status(), 403);
    assert_eq!(early.get("/api/v1/package", Some("z")).await.status(), 403);

    let m = scrape(&s).await;
    let req = |route: &str, method: &str, status: u16| {
        sample(
            &m,
            &format!(
                "maeum_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(req("/api/v1/status", "GET", 200), 4.0);
    assert_eq!(req("/api/v1/package", "GET", 401), 1.0);
    assert_eq!(req("/api/v1/claims", "POST", 200), 6.0);
    assert_eq!(req("/api/v1/claims", "POST", 429), 1.0);
    assert_eq!(req("/api/v1/uploads", "POST", 201), 1.0);
    assert_eq!(req("/api/v1/damage-claims", "POST", 201), 1.0);
    assert_eq!(
        sample(
            &m,
            "maeum_http_request_duration_seconds_count{route=\"/api/v1/claims\",method=\"POST\"}"
        ),
        7.0
    );
    // Fresh grants only: neither the replay nor `already_claimed` counts again.
    assert_eq!(
        sample(
            &m,
            &format!("maeum_claims_granted_total{{item=\"{DRAWER}\"}}")
        ),
        2.0
    );
    assert_eq!(
        sample(
            &m,
            &format!("maeum_claims_granted_total{{item=\"{EMO_A}\"}}")
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            &format!("maeum_claims_granted_total{{item=\"{FOREVER}\"}}")
        ),
        1.0
    );
    assert_eq!(
        sample(&m, &format!("maeum_item_remaining{{item=\"{DRAWER}\"}}")),
        3.0
    );
    assert_eq!(sample(&m, "maeum_rate_limited_total"), 1.0);
    assert_eq!(sample(&m, "maeum_requests_shed_total"), 0.0);
    assert_eq!(sample(&m, "maeum_early_attempts_total"), 0.0);
    assert_eq!(
        sample(&m, "maeum_damage_claims_total{support=\"won\"}"),
        1.0
    );
    assert_eq!(sample(&m, "maeum_upload_bytes_total"), pdf.len() as f64);
    assert_eq!(sample(&m, "maeum_in_flight_requests"), 0.0);
    assert_eq!(sample(&m, "maeum_ready"), 1.0);

    let e = scrape(&early).await;
    assert_eq!(sample(&e, "maeum_early_attempts_total"), 2.0);
    assert_eq!(
        sample(&e, "maeum_claims_granted_total{item=\"drawer-plus-1m\"}"),
        0.0
    );
    assert!(!e.keys().any(|k| k.contains("/api/v1/status")), "{e:?}");
}

#[tokio::test]
async fn the_operations_listener_is_off_by_default_and_apart_from_the_api() {
    let plain = TestServer::start().await;
    assert!(plain.server.metrics_url().is_none());
    assert_eq!(plain.get("/api/metrics", None).await.status(), 404);
    assert_eq!(plain.get("/metrics", None).await.status(), 404);

    let s = start_with_metrics(|_| {}).await;
    assert_ne!(s.server.metrics_url().unwrap(), s.server.url());
    let live = s.http.get(ops_url(&s, "/livez")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let ready = s.http.get(ops_url(&s, "/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

/// Polls `/readyz` until it answers `want` (bounded, no fixed sleep).
async fn wait_ready(s: &TestServer, want: StatusCode) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = s
            .http
            .get(ops_url(s, "/readyz"))
            .send()
            .await
            .unwrap()
            .status();
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz stayed {got}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readiness_turns_503_while_the_store_cannot_take_a_write_and_back() {
    let s = start_with_metrics(|_| {}).await;
    wait_ready(&s, StatusCode::OK).await;
    // Another process holds the database's write lock (SQLite), or a lock on
    // the campaign table that the probe needs (PostgreSQL).
    if let Some(url) = &s.backing.database {
        let (mut client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let tx = client.transaction().await.unwrap();
        tx.batch_execute("LOCK TABLE campaign IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        wait_ready(&s, StatusCode::SERVICE_UNAVAILABLE).await;
        let live = s.http.get(ops_url(&s, "/livez")).send().await.unwrap();
        assert_eq!(live.status(), 200, "alive all the same");
        tx.commit().await.unwrap();
        wait_ready(&s, StatusCode::OK).await;
        return;
    }
    let blocker = db(&s.data_dir());
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    wait_ready(&s, StatusCode::SERVICE_UNAVAILABLE).await;
    let live = s.http.get(ops_url(&s, "/livez")).send().await.unwrap();
    assert_eq!(live.status(), 200, "alive all the same");
    blocker.execute_batch("COMMIT").unwrap();
    wait_ready(&s, StatusCode::OK).await;
}

#[tokio::test]
async fn a_valid_request_id_is_echoed_and_any_other_replaced() {
    let s = TestServer::start().await;
    let res = s
        .http
        .get(s.url("/api/v1/status"))
        .header("X-Request-Id", "lb-7f3a.01_x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-7f3a.01_x");
    for bad in ["has space", "a/b", &"x".repeat(65)] {
        let res = s
            .http
            .get(s.url("/api/v1/status"))
            .header("X-Request-Id", bad)
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_ne!(id, bad);
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    let a = s.get("/api/v1/status", None).await;
    let b = s.get("/api/v1/status", None).await;
    assert_ne!(a.headers()["x-request-id"], b.headers()["x-request-id"]);
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_next_request_succeeds() {
    async fn boom() -> &'static str {
        panic!("a bug in a handler")
    }
    let s = start_with_metrics(|c| {
        c.test_routes = Some(axum::Router::new().route("/test/panic", axum::routing::get(boom)));
    })
    .await;
    for _ in 0..2 {
        let res = s.get("/api/test/panic", None).await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        expect_problem(res, 500, "internal").await;
        assert_eq!(s.get("/api/v1/status", None).await.status(), 200);
    }
    let m = scrape(&s).await;
    assert_eq!(
        sample(
            &m,
            "maeum_http_requests_total{route=\"/api/test/panic\",method=\"GET\",status=\"500\"}"
        ),
        2.0
    );
}

/// `cargo build --release -p maeum-server` uses `[profile.release]`: it must
/// unwind, or `CatchPanicLayer` and the writer's `catch_unwind` do nothing.
#[test]
fn the_release_profile_unwinds_so_request_panics_are_caught() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    for profile in ["release", "server"] {
        let panic = manifest["profile"][profile]
            .get("panic")
            .and_then(|p| p.as_str());
        assert_ne!(panic, Some("abort"), "[profile.{profile}]");
    }
}

#[tokio::test]
async fn shed_requests_and_slots_in_use_are_counted_and_status_is_never_shed() {
    use tokio::io::AsyncWriteExt;
    let s = start_with_metrics(|c| c.max_in_flight = 1).await;
    // A claim whose body never finishes holds the only slot.
    let addr = s.server.addr();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/claims HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Idempotency-Key: held\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        s.token("holder")
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sample(&scrape(&s).await, "maeum_in_flight_requests") < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slot was never taken"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    expect_problem(s.claim("other", "k", &[DRAWER]).await, 503, "busy").await;
    expect_problem(s.get("/api/v1/package", Some("other")).await, 503, "busy").await;
    assert_eq!(s.get("/api/v1/status", None).await.status(), 200);
    let m = scrape(&s).await;
    assert_eq!(sample(&m, "maeum_requests_shed_total"), 2.0);
    assert_eq!(sample(&m, "maeum_in_flight_requests"), 1.0);
    drop(tcp);
}
