//! The release gate, pause/resume and the report, over real HTTP.

mod common;

use common::*;
use serde_json::Value;
use std::sync::Arc;

const RELEASE: &str = "2023-01-05T09:00:00+09:00";

async fn before_release() -> TestServer {
    TestServer::start_with(|c| {
        c.clock = Arc::new(maeum_server::Clock::starting_at(t(
            "2023-01-05T08:58:30+09:00",
        )))
    })
    .await
}

#[tokio::test]
async fn every_gated_endpoint_refuses_before_release_then_opens_by_the_server_clock() {
    let s = before_release().await;
    let status: Value = json(s.get("/api/v1/status", None).await).await;
    assert_eq!(status["open"], false);
    assert_eq!(status["release_at"], "2023-01-05T00:00:00Z");
    assert!(
        status["server_time"]
            .as_str()
            .unwrap()
            .starts_with("2023-01-04T23:58:3"),
        "{status}"
    );

    for res in [
        s.get("/api/v1/package", Some("early-bird")).await,
        s.get("/api/v1/me/claims", Some("early-bird")).await,
        s.claim("early-bird", "k", &[DRAWER]).await,
    ] {
        let p = expect_problem(res, 403, "not_open").await;
        assert_eq!(p["release_at"], "2023-01-05T00:00:00Z");
        assert!(
            p["server_time"]
                .as_str()
                .unwrap()
                .starts_with("2023-01-04T23:58:3"),
            "{p}"
        );
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("1월 5일 (목) 오전 9:00"),
            "{p}"
        );
    }
    // Even a malformed claim gets not_open, and nothing was granted.
    let res = s
        .http
        .post(s.url("/api/v1/claims"))
        .bearer_auth(s.token("x"))
        .body("junk")
        .send()
        .await
        .unwrap();
    expect_problem(res, 403, "not_open").await;
    let rows: i64 = s.backing.one("SELECT COUNT(*) FROM claims", &[]).await;
    assert_eq!(rows, 0);

    // The release instant passes on the server's clock.
    s.server.clock().set_now(t(RELEASE));
    let status: Value = json(s.get("/api/v1/status", None).await).await;
    assert_eq!(status["open"], true);
    assert_eq!(
        s.get("/api/v1/package", Some("early-bird")).await.status(),
        200
    );
    assert_eq!(
        s.get("/api/v1/me/claims", Some("early-bird"))
            .await
            .status(),
        200
    );
    assert_eq!(
        statuses(&json(s.claim("early-bird", "k", &[DRAWER]).await).await),
        ["granted"]
    );
}

#[tokio::test]
async fn early_attempts_are_recorded_and_counted_in_the_report() {
    let s = before_release().await;
    for user in ["leak-1", "leak-2", "leak-1"] {
        s.get("/api/v1/package", Some(user)).await;
    }
    s.claim("leak-2", "k", &[DRAWER]).await;
    s.get("/api/v1/package", None).await; // no token: 401, not an attempt on the campaign
    s.server.clock().set_now(t("2023-01-05T09:00:10+09:00"));
    s.claim("on-time", "k", &[DRAWER, FOREVER]).await;

    let out = s.cli(&["report"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("early attempts refused: 4 from 2 users"),
        "{report}"
    );
    assert!(
        report.contains("2023-01-05 08:58"),
        "per-minute rows in Korea time: {report}"
    );
    assert!(
        report.contains("GET /v1/package") && report.contains("POST /v1/claims"),
        "{report}"
    );
    let granted_row = report
        .lines()
        .find(|l| l.contains("2023-01-05 09:00") && l.contains(DRAWER))
        .expect(&report);
    assert!(granted_row.trim_end().ends_with(" 1"), "{granted_row}");
    assert!(
        report.contains("claims dated before release_at: 0"),
        "{report}"
    );

    let rows: Vec<(String, String)> = s
        .backing
        .all(
            "SELECT user_id, endpoint FROM early_attempts ORDER BY id",
            &[],
        )
        .await;
    assert_eq!(
        rows[0],
        ("leak-1".to_string(), "GET /v1/package".to_string())
    );
    assert_eq!(
        rows[3],
        ("leak-2".to_string(), "POST /v1/claims".to_string())
    );
}

#[tokio::test]
async fn release_at_moved_by_the_operator_applies_to_the_running_server() {
    let s = TestServer::start().await;
    assert_eq!(
        statuses(&json(s.claim("a", "k", &[FOREVER]).await).await),
        ["granted"]
    );
    let out = s.cli(&["admin", "release-at", "2999-01-01T09:00:00+09:00"]);
    assert!(out.status.success(), "{}", stderr(&out));
    expect_problem(s.claim("b", "k", &[FOREVER]).await, 403, "not_open").await;
    let status: Value = json(s.get("/api/v1/status", None).await).await;
    assert_eq!(
        (status["open"].clone(), status["release_at"].clone()),
        (Value::Bool(false), Value::from("2999-01-01T00:00:00Z"))
    );
    // The report can tell claims made before the (new) release instant.
    let report = stdout(&s.cli(&["report"]));
    assert!(
        report.contains("claims dated before release_at: 1"),
        "{report}"
    );
}

#[tokio::test]
async fn pause_answers_503_with_retry_after_and_resume_recovers() {
    let s = TestServer::start().await;
    let out = s.cli(&["admin", "pause"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let res = s.claim("a", "k", &[FOREVER]).await;
    assert_eq!(res.headers()["retry-after"], "30");
    expect_problem(res, 503, "paused").await;
    let status: Value = json(s.get("/api/v1/status", None).await).await;
    assert_eq!(
        (status["paused"].clone(), status["open"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    // Reading stays possible while paused.
    assert_eq!(s.get("/api/v1/package", Some("a")).await.status(), 200);

    assert!(s.cli(&["admin", "resume"]).status.success());
    // The same key works after the pause: refusals are not stored.
    assert_eq!(
        statuses(&json(s.claim("a", "k", &[FOREVER]).await).await),
        ["granted"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pausing_while_claims_are_in_flight_never_half_grants() {
    let s = Arc::new(TestServer::start().await);
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(i % 50)).await;
                let res = s.claim(&format!("u{i}"), "k", &[DRAWER, FOREVER]).await;
                (
                    format!("u{i}"),
                    res.status().as_u16(),
                    res.text().await.unwrap(),
                )
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let backing = s.backing.clone();
    let paused = tokio::task::spawn_blocking(move || cli(&backing, &["admin", "pause"]))
        .await
        .unwrap();
    assert!(paused.status.success());

    let mut granted_users = 0;
    for t in tasks {
        let (user, status, body) = t.await.unwrap();
        let rows: i64 = s
            .backing
            .one("SELECT COUNT(*) FROM claims WHERE user_id = ?1", &[&user])
            .await;
        match status {
            200 => {
                assert!(body.contains("\"granted\""), "{body}");
                assert_eq!(rows, 2, "{user}: a 200 means both rows are committed");
                granted_users += 1;
            }
            503 => {
                assert!(body.contains("\"paused\""), "{body}");
                assert_eq!(rows, 0, "{user}: a refusal grants nothing");
            }
            other => panic!("{user}: unexpected {other} {body}"),
        }
    }
    let drawer: i64 = s.backing.granted(DRAWER).await;
    assert_eq!(drawer, granted_users);
    expect_problem(s.claim("late", "k", &[FOREVER]).await, 503, "paused").await;
}

#[tokio::test]
async fn after_closes_at_claims_are_refused_but_the_user_still_sees_what_they_hold() {
    let s = TestServer::start().await;
    s.claim("a", "k", &[FOREVER]).await;
    assert!(s
        .cli(&["admin", "closes-at", "2024-01-01T00:00:00+09:00"])
        .status
        .success());
    expect_problem(s.claim("a", "k2", &[DRAWER]).await, 403, "closed").await;
    let mine: Value = json(s.get("/api/v1/me/claims", Some("a")).await).await;
    assert_eq!(mine["claims"].as_array().unwrap().len(), 1);
    let status: Value = json(s.get("/api/v1/status", None).await).await;
    assert_eq!(
        (status["open"].clone(), status["closes_at"].clone()),
        (Value::Bool(false), Value::from("2023-12-31T15:00:00Z"))
    );
}

#[tokio::test]
async fn the_dev_login_route_exists_only_with_dev() {
    let plain = TestServer::start().await;
    expect_problem(
        plain.get("/api/dev/login?user=alice", None).await,
        404,
        "not_found",
    )
    .await;

    let dev = TestServer::start_with(|c| c.dev = true).await;
    let res = dev.get("/api/dev/login?user=alice", None).await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let token = location.strip_prefix("/#access_token=").expect(&location);
    let res = dev
        .http
        .get(dev.url("/api/v1/me/claims"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the handed-out token works");
    expect_problem(
        dev.get("/api/dev/login?user=bad%20id", None).await,
        400,
        "bad_request",
    )
    .await;
    expect_problem(dev.get("/api/dev/login", None).await, 400, "bad_request").await;
}
