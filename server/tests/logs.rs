//! The log: one access line per request, as JSON with `--log-format json`, and
//! never a secret. The gift and business journeys run against the real binary
//! with known values, at the most verbose `RUST_LOG`, and everything the
//! process wrote is searched for them.

mod common;

use common::*;
use serde_json::{json, Value};

const CLAIM_KEY: &str = "idem-secret-claim-5f2a9c";
const DAMAGE_KEY: &str = "idem-secret-damage-77b1";
const CASH_KEY: &str = "idem-secret-cash-0c4e";

#[tokio::test]
async fn journeys_leave_one_access_line_each_and_no_secret_in_any_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::spawn(
        &[
            "--addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[("RUST_LOG", "trace")],
    );
    let token = stdout(&cli(&Backing::sqlite(&data), &["token", "owner"]))
        .trim()
        .to_string();
    let url = served.url.clone();
    let http = reqwest::Client::new();
    let post = |path: &str, key: &str, body: Value| {
        http.post(format!("{url}{path}"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let mut requests = 0;

    let res = post("/api/v1/claims", CLAIM_KEY, json!({ "item_ids": [DRAWER] }))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    requests += 1;

    let upload = http
        .post(format!("{url}/api/v1/uploads"))
        .bearer_auth(&token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&[file_part(
            "김카카오 통장 3333-01-1234567.pdf",
            "application/pdf",
            &pdf_fixture(),
        )]))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    let upload_id = json(upload).await["id"].as_str().unwrap().to_string();
    requests += 1;

    let mut body = damage_claim_body();
    body["evidence"] = json!([{ "upload_id": upload_id, "category": "bankbook" }]);
    let res = post("/api/v1/damage-claims", DAMAGE_KEY, body.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let receipt = json(res).await["receipt_no"].as_str().unwrap().to_string();
    requests += 1;
    // A second filing of the business: 409 with a problem document.
    let res = post("/api/v1/damage-claims", "idem-secret-again-1", body.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    requests += 1;
    // A form with mistakes: 422 naming the fields, not their values.
    let mut bad = body.clone();
    bad["phone"] = json!("010 1234 567");
    let res = post("/api/v1/damage-claims", "idem-secret-bad-2", bad)
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    requests += 1;

    let res = http
        .get(format!("{url}/api/v1/damage-claims/{receipt}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    requests += 1;
    let res = post(
        "/api/v1/channel-cash",
        CASH_KEY,
        json!({ "brn": "124-81-00998" }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    requests += 1;

    // Personal details in paths and a wrong token.
    for path in [
        "/api/v1/damage-claims/1248100998",
        "/api/01012345678",
        "/api/v1/status?phone=010-1234-5678",
    ] {
        http.get(format!("{url}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        requests += 1;
    }
    let res = http
        .get(format!("{url}/api/v1/me/claims"))
        .bearer_auth(format!("{token}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    requests += 1;

    let (status, out) = tokio::task::spawn_blocking(move || served.terminate())
        .await
        .unwrap();
    assert!(status.success());

    let secrets = [
        token.as_str(),
        token.rsplit('.').next().unwrap(),
        CLAIM_KEY,
        DAMAGE_KEY,
        CASH_KEY,
        "idem-secret",
        "124-81-00998",
        "1248100998",
        "010 1234 5678",
        "010-1234-5678",
        "01012345678",
        "3333-01-1234567",
        "3333011234567",
        "김카카오",
    ];
    for secret in secrets {
        assert!(
            !out.contains(secret),
            "{secret:?} appears in the server's output:\n{out}"
        );
    }

    // One JSON access line per request, with the route template and the problem code.
    let access: Vec<Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["target"] == "maeum::access")
        .collect();
    assert_eq!(access.len(), requests, "{out}");
    for line in &access {
        for field in [
            "method",
            "route",
            "status",
            "latency_ms",
            "request_id",
            "code",
        ] {
            assert!(!line[field].is_null(), "{field} missing in {line}");
        }
    }
    let routes: Vec<(&str, u64, &str)> = access
        .iter()
        .map(|v| {
            (
                v["route"].as_str().unwrap(),
                v["status"].as_u64().unwrap(),
                v["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        routes.contains(&("/api/v1/damage-claims", 409, "conflict")),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("/api/v1/damage-claims", 422, "validation")),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("/api/v1/damage-claims/{receipt_no}", 200, "-")),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("/api/v1/damage-claims/{receipt_no}", 404, "not_found")),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("unmatched", 404, "not_found")),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("/api/v1/me/claims", 401, "unauthorized")),
        "{routes:?}"
    );
}
