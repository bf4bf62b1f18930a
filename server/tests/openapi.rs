//! `contract/openapi.yaml` and the server must agree: every documented route is
//! routed, every route is documented, and real responses (success and problem)
//! match the documented schemas and statuses.

mod common;

use common::*;
use maeum_conformance::openapi;
use maeum_server::api::{API_BASE, ROUTES};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn spec() -> &'static Value {
    openapi::spec()
}

/// Checks a real response against the operation's documented status, headers and
/// body schema, with the workspace's one validator (maeum-conformance's).
async fn check(path: &str, method: &str, res: reqwest::Response) -> Value {
    let status = res.status().as_u16();
    let headers: Vec<String> = res.headers().keys().map(|k| k.to_string()).collect();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.text().await.unwrap();
    let documented = openapi::content_types(path, method, status).unwrap_or_default();
    assert!(
        documented.is_empty() || ct.as_ref().is_some_and(|ct| documented.contains(ct)),
        "{method} {path} {status}: content type {ct:?} not documented"
    );
    let answer = openapi::Answer {
        status,
        content_type: ct.as_deref(),
        headers,
        body: &body,
    };
    openapi::check_answer(path, method, &answer).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_route_is_documented_and_every_documented_route_is_a_route() {
    let spec = spec();
    assert_eq!(spec["servers"][0]["url"], API_BASE);
    let mut documented = BTreeSet::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let dev_only = op.get("x-dev-only") == Some(&Value::Bool(true));
            documented.insert((method.to_uppercase(), path.clone(), dev_only));
        }
    }
    let routed: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.dev_only))
        .collect();
    assert_eq!(documented, routed);
}

#[test]
fn the_documented_problem_codes_are_the_contract_codes() {
    let spec = spec();
    let documented: BTreeSet<&str> = spec
        .pointer("/components/schemas/ProblemCode/enum")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let contract: BTreeSet<&str> = maeum_contract::problem::code::ALL.iter().copied().collect();
    assert_eq!(documented, contract);
}

#[tokio::test]
async fn every_documented_route_answers_something_other_than_404_or_405() {
    let s = TestServer::start_with(|c| c.dev = true).await;
    for (path, ops) in spec()["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let res = s
                .http
                .request(
                    method.to_uppercase().parse().unwrap(),
                    s.url(&format!("{API_BASE}{path}")),
                )
                .bearer_auth(s.token("probe"))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            if path.contains('{') && status == 404 {
                // A path with a parameter may answer its own 404 (no such resource),
                // which is not the router's "no such route".
                let body: Value = res.json().await.unwrap();
                let unrouted: Value = s
                    .get("/api/v1/no-such-route", None)
                    .await
                    .json()
                    .await
                    .unwrap();
                assert_ne!(
                    body["title"], unrouted["title"],
                    "{method} {path} is not routed"
                );
                continue;
            }
            assert!(
                ![404, 405].contains(&status),
                "{method} {path} is documented but answers {status}"
            );
        }
    }
    // and the dev-only route is absent without --dev
    let plain = TestServer::start().await;
    assert_eq!(plain.get("/api/dev/login?user=x", None).await.status(), 404);
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let s = TestServer::start_with(|c| {
        c.dev = true;
        c.campaign = campaign_with_cap(DRAWER, 1);
    })
    .await;

    check("/v1/status", "GET", s.get("/api/v1/status", None).await).await;
    let package = check(
        "/v1/package",
        "GET",
        s.get("/api/v1/package", Some("a")).await,
    )
    .await;
    assert_eq!(package["items"].as_array().unwrap().len(), 6);
    check("/v1/package", "GET", s.get("/api/v1/package", None).await).await;

    let all: Vec<&str> = package["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let granted = check("/v1/claims", "POST", s.claim("a", "k", &all).await).await;
    assert!(statuses(&granted).iter().all(|st| st == "granted"));
    let replay = s.claim("a", "k", &all).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    check("/v1/claims", "POST", replay).await;
    let mixed = check(
        "/v1/claims",
        "POST",
        s.claim("b", "k", &[DRAWER, FOREVER]).await,
    )
    .await;
    assert_eq!(statuses(&mixed), ["sold_out", "granted"]);
    let again = check("/v1/claims", "POST", s.claim("a", "k2", &[FOREVER]).await).await;
    assert_eq!(statuses(&again), ["already_claimed"]);
    assert!(s
        .cli(&["admin", "ineligible", "c", "--reason", "대상이 아니에요"])
        .status
        .success());
    let inel = check("/v1/claims", "POST", s.claim("c", "k", &[FOREVER]).await).await;
    assert_eq!(inel["results"][0]["reason"], "대상이 아니에요");

    let mine = check(
        "/v1/me/claims",
        "GET",
        s.get("/api/v1/me/claims", Some("a")).await,
    )
    .await;
    assert_eq!(mine["claims"].as_array().unwrap().len(), 6);
    check(
        "/v1/me/claims",
        "GET",
        s.get("/api/v1/me/claims", Some("c")).await,
    )
    .await;

    // Problems.
    let post = |key: Option<&str>, ct: &str, body: &str| {
        let mut req = s
            .http
            .post(s.url("/api/v1/claims"))
            .bearer_auth(s.token("d"))
            .header("Content-Type", ct)
            .body(body.to_string());
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send()
    };
    let body = r#"{"item_ids":["emoticon-forever"]}"#;
    for (res, code) in [
        (
            post(None, "application/json", body).await.unwrap(),
            "missing_idempotency_key",
        ),
        (
            post(Some("k"), "application/json", "{").await.unwrap(),
            "invalid_json",
        ),
        (
            post(Some("k"), "text/plain", body).await.unwrap(),
            "unsupported_media_type",
        ),
        (
            post(Some("k"), "application/json", r#"{"item_ids":["nope"]}"#)
                .await
                .unwrap(),
            "unknown_item",
        ),
        (
            post(
                Some("k"),
                "application/json",
                &format!("{{\"item_ids\":[\"{}\"]}}", "x".repeat(17_000)),
            )
            .await
            .unwrap(),
            "payload_too_large",
        ),
        (
            s.claim("a", "k", &[FOREVER]).await,
            "idempotency_key_reused",
        ),
        (
            s.http.post(s.url("/api/v1/claims")).send().await.unwrap(),
            "unauthorized",
        ),
    ] {
        let p = check("/v1/claims", "POST", res).await;
        assert_eq!(p["code"], code);
    }
    let login = check(
        "/dev/login",
        "GET",
        s.get("/api/dev/login?user=x", None).await,
    )
    .await;
    assert_eq!(login, Value::Null);
    let bad_login = check(
        "/dev/login",
        "GET",
        s.get("/api/dev/login?user=", None).await,
    )
    .await;
    assert_eq!(bad_login["code"], "bad_request");

    // Gate states.
    assert!(s.cli(&["admin", "pause"]).status.success());
    let paused = check("/v1/claims", "POST", s.claim("e", "k", &[FOREVER]).await).await;
    assert_eq!(paused["code"], "paused");
    check("/v1/status", "GET", s.get("/api/v1/status", None).await).await;
    assert!(s.cli(&["admin", "resume"]).status.success());
    assert!(s
        .cli(&["admin", "closes-at", "2024-01-01T00:00:00Z"])
        .status
        .success());
    let closed = check("/v1/claims", "POST", s.claim("e", "k", &[FOREVER]).await).await;
    assert_eq!(closed["code"], "closed");
    let status = check("/v1/status", "GET", s.get("/api/v1/status", None).await).await;
    assert!(status["closes_at"].is_string());
    s.server.clock().set_now(t("2023-01-01T00:00:00Z"));
    for (path, method) in [("/v1/package", "GET"), ("/v1/me/claims", "GET")] {
        let p = check(path, method, s.get(&format!("/api{path}"), Some("e")).await).await;
        assert_eq!(p["code"], "not_open");
        assert!(p["release_at"].is_string() && p["server_time"].is_string());
    }
    let p = check("/v1/claims", "POST", s.claim("e", "k", &[FOREVER]).await).await;
    assert_eq!(p["code"], "not_open");
}

#[tokio::test]
async fn business_responses_match_the_documented_schemas() {
    let s = TestServer::start_with(|c| c.upload_quota = 2).await;
    let up = "/v1/uploads";
    let first = check(
        up,
        "POST",
        s.upload("a", "a.jpg", "image/jpeg", &jpeg_fixture()).await,
    )
    .await;
    check(
        up,
        "POST",
        s.upload("a", "b.png", "image/png", &png_fixture()).await,
    )
    .await;
    for (res, code) in [
        (
            s.upload("a", "c.pdf", "application/pdf", &pdf_fixture())
                .await,
            "quota_exceeded",
        ),
        (
            s.upload("b", "x.jpg", "image/jpeg", &exe_fixture()).await,
            "unsupported_media_type",
        ),
        (
            s.upload("b", "x.jpg", "image/jpeg", b"").await,
            "bad_request",
        ),
        (
            s.upload_parts(
                "b",
                &[
                    file_part("a.jpg", "image/jpeg", &jpeg_fixture()),
                    text_part("category", "x"),
                ],
            )
            .await,
            "validation",
        ),
        (
            s.http.post(s.url("/api/v1/uploads")).send().await.unwrap(),
            "unauthorized",
        ),
    ] {
        assert_eq!(check(up, "POST", res).await["code"], code);
    }
    let mut big = pdf_fixture();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let p = check(
        up,
        "POST",
        s.upload("b", "big.pdf", "application/pdf", &big).await,
    )
    .await;
    assert_eq!(p["code"], "payload_too_large");

    let dc = "/v1/damage-claims";
    let mut body = damage_claim_body();
    body["loss_won"] = json!(900_000);
    body["evidence"] = json!([{"upload_id": first["id"], "category": "sales_loss"}]);
    let receipt = check(dc, "POST", s.damage_claim("a", "k", &body).await).await;
    assert_eq!(receipt["support"], json!({"requires_review": true}));
    check(dc, "POST", s.damage_claim("a", "k", &body).await).await;
    let mut invalid = damage_claim_body();
    invalid["brn"] = json!("1");
    for (res, code) in [
        (
            s.damage_claim("b", "k", &damage_claim_body()).await,
            "conflict",
        ),
        (s.damage_claim("b", "k2", &invalid).await, "validation"),
        (
            s.post_json("b", "/api/v1/damage-claims", None, &invalid)
                .await,
            "missing_idempotency_key",
        ),
        (
            s.post_json("b", "/api/v1/damage-claims", Some("k3"), &json!({"x": 1}))
                .await,
            "invalid_json",
        ),
        (
            s.damage_claim("a", "k", &damage_claim_body()).await,
            "idempotency_key_reused",
        ),
    ] {
        assert_eq!(check(dc, "POST", res).await["code"], code);
    }
    let status = "/v1/damage-claims/{receipt_no}";
    let no = receipt["receipt_no"].as_str().unwrap();
    let path = format!("/api/v1/damage-claims/{no}");
    check(status, "GET", s.get(&path, Some("a")).await).await;
    assert!(s
        .cli(&[
            "admin",
            "claims",
            "reject",
            no,
            "--reason",
            "증빙이 부족해요"
        ])
        .status
        .success());
    let rejected = check(status, "GET", s.get(&path, Some("a")).await).await;
    assert_eq!(rejected["reason"], "증빙이 부족해요");
    assert_eq!(
        check(status, "GET", s.get(&path, Some("b")).await).await["code"],
        "not_found"
    );

    let cc = "/v1/channel-cash";
    check(cc, "POST", s.channel_cash("a", "c1", "124-81-00998").await).await;
    check(cc, "POST", s.channel_cash("a", "c1", "124-81-00998").await).await;
    check(cc, "POST", s.channel_cash("b", "c1", "124-81-00998").await).await;
    assert_eq!(
        check(cc, "POST", s.channel_cash("b", "c2", "nope").await).await["code"],
        "validation"
    );

    // Load and surge answers.
    let mut last = None;
    for i in 0..30 {
        let res = s
            .channel_cash("script", &format!("s{i}"), "124-81-00998")
            .await;
        if res.status() == 429 {
            last = Some(res);
            break;
        }
    }
    let limited = check(cc, "POST", last.expect("the script is rate limited")).await;
    assert_eq!(limited["code"], "rate_limited");
}
