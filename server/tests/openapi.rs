//! `contract/openapi.yaml` and the server must agree: every documented route is
//! routed, every route is documented, and real responses (success and problem)
//! match the documented schemas and statuses.

mod common;

use common::*;
use maeum_server::api::{API_BASE, ROUTES};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../contract/openapi.yaml"
    ))
    .unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn resolve<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local refs: {r}"));
        schema = spec
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    schema
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        other => panic!("unsupported type {other}"),
    }
}

/// A small JSON Schema check covering what the document uses.
fn validate(spec: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(spec, schema);
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| validate(spec, o, v, at).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{at}: {v} matches {matching} of the oneOf options"));
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(t, v) => {
            return Err(format!("{at}: {v} is not {t}"))
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_matches(t.as_str().unwrap(), v)) => {
            return Err(format!("{at}: {v} is none of {ts:?}"))
        }
        _ => {}
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return Err(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let (Some("date-time"), Some(s)) = (schema.get("format").and_then(Value::as_str), v.as_str())
    {
        maeum_contract::Timestamp::parse_rfc3339(s).map_err(|e| format!("{at}: {e}"))?;
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_i64), v.as_i64()) {
        if n < min {
            return Err(format!("{at}: {n} < {min}"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = req.as_str().unwrap();
            if !obj.contains_key(key) {
                return Err(format!("{at}: required key {key:?} missing in {v}"));
            }
        }
        if let Some(props) = props {
            for (key, value) in obj {
                match props.get(key) {
                    Some(p) => validate(spec, p, value, &format!("{at}.{key}"))?,
                    None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(format!("{at}: undocumented key {key:?}"))
                    }
                    None => {}
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            validate(spec, items, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Checks a real response against the operation's documented status, headers and body schema.
async fn check(spec: &Value, path: &str, method: &str, res: reqwest::Response) -> Value {
    let status = res.status().as_u16().to_string();
    let op = &spec["paths"][path][method.to_lowercase()];
    let documented = op["responses"]
        .get(&status)
        .unwrap_or_else(|| panic!("{method} {path} answered {status}, which is not documented"));
    let documented = resolve(spec, documented);
    for (name, _) in documented
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let optional = name.eq_ignore_ascii_case("Idempotent-Replayed");
        assert!(
            optional || res.headers().contains_key(name.as_str()),
            "{method} {path} {status}: documented header {name} missing"
        );
    }
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let content = documented.get("content").and_then(Value::as_object);
    let body = res.text().await.unwrap();
    let Some(content) = content else {
        assert!(
            body.is_empty(),
            "{method} {path} {status}: undocumented body {body}"
        );
        return Value::Null;
    };
    let ct = ct.unwrap_or_else(|| panic!("{method} {path} {status}: no content type"));
    let schema = &content
        .get(&ct)
        .unwrap_or_else(|| panic!("{method} {path} {status}: content type {ct} not documented"))
        ["schema"];
    let value: Value = serde_json::from_str(&body).unwrap();
    if let Err(e) = validate(spec, schema, &value, &format!("{method} {path} {status}")) {
        panic!("{e}");
    }
    value
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
    let spec = spec();
    let s = TestServer::start_with(|c| {
        c.dev = true;
        c.campaign = campaign_with_cap(DRAWER, 1);
    })
    .await;

    check(
        &spec,
        "/v1/status",
        "GET",
        s.get("/api/v1/status", None).await,
    )
    .await;
    let package = check(
        &spec,
        "/v1/package",
        "GET",
        s.get("/api/v1/package", Some("a")).await,
    )
    .await;
    assert_eq!(package["items"].as_array().unwrap().len(), 6);
    check(
        &spec,
        "/v1/package",
        "GET",
        s.get("/api/v1/package", None).await,
    )
    .await;

    let all: Vec<&str> = package["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let granted = check(&spec, "/v1/claims", "POST", s.claim("a", "k", &all).await).await;
    assert!(statuses(&granted).iter().all(|st| st == "granted"));
    let replay = s.claim("a", "k", &all).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    check(&spec, "/v1/claims", "POST", replay).await;
    let mixed = check(
        &spec,
        "/v1/claims",
        "POST",
        s.claim("b", "k", &[DRAWER, FOREVER]).await,
    )
    .await;
    assert_eq!(statuses(&mixed), ["sold_out", "granted"]);
    let again = check(
        &spec,
        "/v1/claims",
        "POST",
        s.claim("a", "k2", &[FOREVER]).await,
    )
    .await;
    assert_eq!(statuses(&again), ["already_claimed"]);
    assert!(s
        .cli(&["admin", "ineligible", "c", "--reason", "대상이 아니에요"])
        .status
        .success());
    let inel = check(
        &spec,
        "/v1/claims",
        "POST",
        s.claim("c", "k", &[FOREVER]).await,
    )
    .await;
    assert_eq!(inel["results"][0]["reason"], "대상이 아니에요");

    let mine = check(
        &spec,
        "/v1/me/claims",
        "GET",
        s.get("/api/v1/me/claims", Some("a")).await,
    )
    .await;
    assert_eq!(mine["claims"].as_array().unwrap().len(), 6);
    check(
        &spec,
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
        let p = check(&spec, "/v1/claims", "POST", res).await;
        assert_eq!(p["code"], code);
    }
    let login = check(
        &spec,
        "/dev/login",
        "GET",
        s.get("/api/dev/login?user=x", None).await,
    )
    .await;
    assert_eq!(login, Value::Null);
    let bad_login = check(
        &spec,
        "/dev/login",
        "GET",
        s.get("/api/dev/login?user=", None).await,
    )
    .await;
    assert_eq!(bad_login["code"], "bad_request");

    // Gate states.
    assert!(s.cli(&["admin", "pause"]).status.success());
    let paused = check(
        &spec,
        "/v1/claims",
        "POST",
        s.claim("e", "k", &[FOREVER]).await,
    )
    .await;
    assert_eq!(paused["code"], "paused");
    check(
        &spec,
        "/v1/status",
        "GET",
        s.get("/api/v1/status", None).await,
    )
    .await;
    assert!(s.cli(&["admin", "resume"]).status.success());
    assert!(s
        .cli(&["admin", "closes-at", "2024-01-01T00:00:00Z"])
        .status
        .success());
    let closed = check(
        &spec,
        "/v1/claims",
        "POST",
        s.claim("e", "k", &[FOREVER]).await,
    )
    .await;
    assert_eq!(closed["code"], "closed");
    let status = check(
        &spec,
        "/v1/status",
        "GET",
        s.get("/api/v1/status", None).await,
    )
    .await;
    assert!(status["closes_at"].is_string());
    s.server.clock().set_now(t("2023-01-01T00:00:00Z"));
    for (path, method) in [("/v1/package", "GET"), ("/v1/me/claims", "GET")] {
        let p = check(
            &spec,
            path,
            method,
            s.get(&format!("/api{path}"), Some("e")).await,
        )
        .await;
        assert_eq!(p["code"], "not_open");
        assert!(p["release_at"].is_string() && p["server_time"].is_string());
    }
    let p = check(
        &spec,
        "/v1/claims",
        "POST",
        s.claim("e", "k", &[FOREVER]).await,
    )
    .await;
    assert_eq!(p["code"], "not_open");
}

#[tokio::test]
async fn business_responses_match_the_documented_schemas() {
    let spec = spec();
    let s = TestServer::start_with(|c| c.upload_quota = 2).await;
    let up = "/v1/uploads";
    let first = check(
        &spec,
        up,
        "POST",
        s.upload("a", "a.jpg", "image/jpeg", &jpeg_fixture()).await,
    )
    .await;
    check(
        &spec,
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
        assert_eq!(check(&spec, up, "POST", res).await["code"], code);
    }
    let mut big = pdf_fixture();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let p = check(
        &spec,
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
    let receipt = check(&spec, dc, "POST", s.damage_claim("a", "k", &body).await).await;
    assert_eq!(receipt["support"], json!({"requires_review": true}));
    check(&spec, dc, "POST", s.damage_claim("a", "k", &body).await).await;
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
        assert_eq!(check(&spec, dc, "POST", res).await["code"], code);
    }
    let status = "/v1/damage-claims/{receipt_no}";
    let no = receipt["receipt_no"].as_str().unwrap();
    let path = format!("/api/v1/damage-claims/{no}");
    check(&spec, status, "GET", s.get(&path, Some("a")).await).await;
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
    let rejected = check(&spec, status, "GET", s.get(&path, Some("a")).await).await;
    assert_eq!(rejected["reason"], "증빙이 부족해요");
    assert_eq!(
        check(&spec, status, "GET", s.get(&path, Some("b")).await).await["code"],
        "not_found"
    );

    let cc = "/v1/channel-cash";
    check(
        &spec,
        cc,
        "POST",
        s.channel_cash("a", "c1", "124-81-00998").await,
    )
    .await;
    check(
        &spec,
        cc,
        "POST",
        s.channel_cash("a", "c1", "124-81-00998").await,
    )
    .await;
    check(
        &spec,
        cc,
        "POST",
        s.channel_cash("b", "c1", "124-81-00998").await,
    )
    .await;
    assert_eq!(
        check(&spec, cc, "POST", s.channel_cash("b", "c2", "nope").await).await["code"],
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
    let limited = check(&spec, cc, "POST", last.expect("the script is rate limited")).await;
    assert_eq!(limited["code"], "rate_limited");
}

#[test]
fn the_validator_rejects_undocumented_keys_and_wrong_types() {
    // Guard the guard: the checks above mean something only if the validator can fail.
    let spec = spec();
    let item = json!({"$ref": "#/components/schemas/Item"});
    let good = json!({"id": "x", "kind": "coupon", "title": "t", "price_won": 1, "validity": {"type": "permanent"},
        "cap": null, "remaining": null, "as_of": "2023-01-05T00:00:00Z"});
    validate(&spec, &item, &good, "item").unwrap();
    let mut extra = good.clone();
    extra["colour"] = json!("red");
    assert!(validate(&spec, &item, &extra, "item").is_err());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("as_of");
    assert!(validate(&spec, &item, &missing, "item").is_err());
    let mut wrong = good.clone();
    wrong["validity"] = json!({"type": "days_from_claim"});
    assert!(validate(&spec, &item, &wrong, "item").is_err());
    let mut bad_time = good;
    bad_time["as_of"] = json!("yesterday");
    assert!(validate(&spec, &item, &bad_time, "item").is_err());
}
