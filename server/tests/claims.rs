//! Claims over real HTTP on loopback against a real SQLite file.

mod common;

use common::*;
use maeum_contract::{time::kst_date, ClaimResponse, MyClaims, Package};
use serde_json::{json, Value};

#[tokio::test]
async fn package_lists_the_six_items_with_the_capped_voucher_counting_down() {
    let s = TestServer::start().await;
    let res = s.get("/api/v1/package", Some("u1")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let package: Package = res.json().await.unwrap();
    assert_eq!(package.items.len(), 6);
    let drawer = package.items.iter().find(|i| i.id == DRAWER).unwrap();
    assert_eq!(
        (drawer.cap, drawer.remaining, drawer.price_won),
        (Some(3_000_000), Some(3_000_000), 1900)
    );

    s.claim("u1", "k1", &[DRAWER]).await;
    let package: Package = s
        .get("/api/v1/package", Some("u2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        package
            .items
            .iter()
            .find(|i| i.id == DRAWER)
            .unwrap()
            .remaining,
        Some(2_999_999)
    );
    assert!(package
        .items
        .iter()
        .filter(|i| i.id != DRAWER)
        .all(|i| i.cap.is_none() && i.remaining.is_none()));
}

#[tokio::test]
async fn a_claim_is_granted_with_its_code_and_expiry_and_shows_in_my_claims() {
    let s = TestServer::start().await;
    let res = s
        .claim("alice", "key-1", &[EMO_A, MAKERS_2000, FOREVER])
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("idempotent-replayed").is_none());
    let body: ClaimResponse = res.json().await.unwrap();
    assert_eq!(body.results.len(), 3);
    assert!(body
        .results
        .iter()
        .all(|r| r.status == maeum_contract::ClaimStatus::Granted));
    let emo = body.results[0].claim.as_ref().unwrap();
    assert_eq!(emo.code, None);
    let expires = emo.expires_at.unwrap();
    assert_eq!(kst_date(expires), kst_date(emo.claimed_at.add_days(90)));
    let coupon = body.results[1].claim.as_ref().unwrap();
    let code = coupon.code.as_deref().unwrap();
    assert!(code.starts_with("MKR-") && code.len() == 13, "{code}");
    assert_eq!(body.results[2].claim.as_ref().unwrap().expires_at, None);

    let mine: MyClaims = s
        .get("/api/v1/me/claims", Some("alice"))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = mine.claims.iter().map(|c| c.item_id.as_str()).collect();
    assert_eq!(ids, [FOREVER, EMO_A, MAKERS_2000], "package order");
    assert_eq!(mine.claims[2].code.as_deref(), Some(code));
    assert_eq!(mine.ineligible_reason, None);
    let bob: MyClaims = s
        .get("/api/v1/me/claims", Some("bob"))
        .await
        .json()
        .await
        .unwrap();
    assert!(bob.claims.is_empty());
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer_byte_for_byte() {
    let s = TestServer::start().await;
    let first = s
        .claim("alice", "k", &[MAKERS_2000, DRAWER])
        .await
        .text()
        .await
        .unwrap();
    let again = s.claim("alice", "k", &[MAKERS_2000, DRAWER]).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first);
    let rows: i64 = s
        .backing
        .one("SELECT COUNT(*) FROM claims WHERE user_id = 'alice'", &[])
        .await;
    assert_eq!(rows, 2);
}

/// A fast double (or twentyfold) tap sends the same key at once: one grant, one answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_grant_once_and_all_get_the_same_answer() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let res = s
                    .claim("tapper", "one-intent", &[DRAWER, MAKERS_2000])
                    .await;
                assert_eq!(res.status(), 200);
                res.text().await.unwrap()
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        bodies.push(t.await.unwrap());
    }
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "every tap sees the first answer"
    );
    assert_eq!(
        statuses(&serde_json::from_str(&bodies[0]).unwrap()),
        ["granted", "granted"]
    );
    let rows: i64 = s
        .backing
        .one("SELECT COUNT(*) FROM claims WHERE user_id = 'tapper'", &[])
        .await;
    let granted: i64 = s.backing.granted(DRAWER).await;
    assert_eq!((rows, granted), (2, 1));
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_grants_nothing() {
    let s = TestServer::start().await;
    s.claim("alice", "k", &[FOREVER]).await;
    let res = s.claim("alice", "k", &[DRAWER]).await;
    expect_problem(res, 422, "idempotency_key_reused").await;
    let mine: MyClaims = s
        .get("/api/v1/me/claims", Some("alice"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.claims.len(), 1);
    // Keys belong to one user: another user may use the same key.
    let res = s.claim("bob", "k", &[DRAWER]).await;
    assert_eq!(statuses(&json(res).await), ["granted"]);
}

#[tokio::test]
async fn a_missing_or_malformed_idempotency_key_is_400() {
    let s = TestServer::start().await;
    let res = s
        .http
        .post(s.url("/api/v1/claims"))
        .bearer_auth(s.token("alice"))
        .json(&json!({"item_ids": [FOREVER]}))
        .send()
        .await
        .unwrap();
    expect_problem(res, 400, "missing_idempotency_key").await;
    let res = s
        .http
        .post(s.url("/api/v1/claims"))
        .bearer_auth(s.token("alice"))
        .header("Idempotency-Key", "has space")
        .json(&json!({"item_ids": [FOREVER]}))
        .send()
        .await
        .unwrap();
    expect_problem(res, 400, "bad_request").await;
    let rows: i64 = s.backing.one("SELECT COUNT(*) FROM claims", &[]).await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn no_token_or_a_bad_token_is_401_on_every_private_endpoint() {
    let s = TestServer::start().await;
    // mallory's payload under alice's signature
    let forged = {
        let alice = s.token("alice");
        let mallory = s.token("mallory");
        format!(
            "{}.{}",
            mallory.split_once('.').unwrap().0,
            alice.split_once('.').unwrap().1
        )
    };
    for auth in [
        None,
        Some("Bearer nonsense".to_string()),
        Some(format!("Bearer {forged}")),
        Some(format!("Basic {}", s.token("alice"))),
    ] {
        for (method, path) in [
            ("GET", "/api/v1/package"),
            ("GET", "/api/v1/me/claims"),
            ("POST", "/api/v1/claims"),
        ] {
            let mut req = s
                .http
                .request(method.parse().unwrap(), s.url(path))
                .header("Idempotency-Key", "k");
            if method == "POST" {
                req = req.json(&json!({"item_ids": [FOREVER]}));
            }
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.headers()["www-authenticate"], "Bearer");
            expect_problem(res, 401, "unauthorized").await;
        }
    }
    // A token from another server's secret is rejected too.
    let other = TestServer::start().await;
    let res = s.get("/api/v1/package", None).await;
    expect_problem(res, 401, "unauthorized").await;
    let res = s
        .http
        .get(s.url("/api/v1/package"))
        .bearer_auth(other.token("alice"))
        .send()
        .await
        .unwrap();
    expect_problem(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn malformed_empty_or_oversized_bodies_are_4xx_problems_never_500() {
    let s = TestServer::start().await;
    let post = |body: Vec<u8>, ct: Option<&'static str>| {
        let mut req = s
            .http
            .post(s.url("/api/v1/claims"))
            .bearer_auth(s.token("alice"))
            .header("Idempotency-Key", "k")
            .body(body);
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        req.send()
    };
    for (body, code) in [
        (&b"{not json"[..], "invalid_json"),
        (b"{\"item_ids\": \"emoticon-forever\"}", "invalid_json"),
        (
            b"{\"item_ids\": [\"emoticon-forever\"], \"extra\": 1}",
            "invalid_json",
        ),
        (b"[1,2,3]", "invalid_json"),
        (b"", "invalid_json"),
        (b"{\"item_ids\": []}", "bad_request"),
        (b"{\"item_ids\": [\"\"]}", "bad_request"),
    ] {
        expect_problem(
            post(body.to_vec(), Some("application/json")).await.unwrap(),
            400,
            code,
        )
        .await;
    }
    let too_many: Vec<String> = (0..21).map(|i| format!("item-{i}")).collect();
    let body = serde_json::to_vec(&json!({ "item_ids": too_many })).unwrap();
    expect_problem(
        post(body, Some("application/json")).await.unwrap(),
        400,
        "bad_request",
    )
    .await;

    let big = format!("{{\"item_ids\": [\"{}\"]}}", "a".repeat(20 * 1024)).into_bytes();
    expect_problem(
        post(big, Some("application/json")).await.unwrap(),
        413,
        "payload_too_large",
    )
    .await;

    let good = br#"{"item_ids": ["emoticon-forever"]}"#.to_vec();
    expect_problem(
        post(good.clone(), Some("text/plain")).await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    expect_problem(
        post(good.clone(), None).await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    expect_problem(
        post(good.clone(), Some("application/x-www-form-urlencoded"))
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    // and with a charset parameter it is fine
    let res = post(good, Some("application/json; charset=utf-8"))
        .await
        .unwrap();
    assert_eq!(statuses(&json(res).await), ["granted"]);
}

#[tokio::test]
async fn an_unknown_item_is_422_and_nothing_in_the_request_is_granted() {
    let s = TestServer::start().await;
    let res = s.claim("alice", "k", &[FOREVER, "no-such-item"]).await;
    let problem = expect_problem(res, 422, "unknown_item").await;
    assert!(problem["detail"].as_str().unwrap().contains("no-such-item"));
    let rows: i64 = s.backing.one("SELECT COUNT(*) FROM claims", &[]).await;
    assert_eq!(rows, 0);
    // The refusal was not stored under the key: the corrected request goes through.
    let res = s.claim("alice", "k", &[FOREVER]).await;
    assert_eq!(statuses(&json(res).await), ["granted"]);
}

#[tokio::test]
async fn a_second_claim_under_a_new_key_is_already_claimed_with_the_same_claim() {
    let s = TestServer::start().await;
    let first = json(s.claim("alice", "k1", &[MAKERS_2000]).await).await;
    let second = json(s.claim("alice", "k2", &[MAKERS_2000, FOREVER]).await).await;
    assert_eq!(statuses(&second), ["already_claimed", "granted"]);
    assert_eq!(
        second["results"][0]["claim"], first["results"][0]["claim"],
        "same code and times"
    );
    let rows: i64 = s
        .backing
        .one(
            "SELECT COUNT(*) FROM claims WHERE user_id = 'alice' AND item_id = ?1",
            &[MAKERS_2000],
        )
        .await;
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn an_ineligible_user_gets_the_reason_and_nothing_else() {
    let s = TestServer::start().await;
    // alice claims first, then is marked ineligible: she keeps what she has.
    s.claim("alice", "k0", &[FOREVER]).await;
    let reason = "해외 번호로 가입한 계정은 받을 수 없어요";
    for user in ["mallory", "alice"] {
        let out = s.cli(&["admin", "ineligible", user, "--reason", reason]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let body = json(s.claim("mallory", "k1", &[FOREVER, DRAWER]).await).await;
    assert_eq!(statuses(&body), ["ineligible", "ineligible"]);
    assert_eq!(body["results"][0]["reason"], reason);
    assert!(body["results"][0]["claim"].is_null());
    let body = json(s.claim("alice", "k1", &[FOREVER, DRAWER]).await).await;
    assert_eq!(statuses(&body), ["already_claimed", "ineligible"]);

    let mine: MyClaims = s
        .get("/api/v1/me/claims", Some("mallory"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.ineligible_reason.as_deref(), Some(reason));
    assert!(mine.claims.is_empty());
    let drawer_granted: i64 = s.backing.granted(DRAWER).await;
    assert_eq!(
        drawer_granted, 0,
        "an ineligible claim takes nothing from the cap"
    );

    // and can be undone
    assert!(s.cli(&["admin", "eligible", "mallory"]).status.success());
    assert_eq!(
        statuses(&json(s.claim("mallory", "k2", &[FOREVER]).await).await),
        ["granted"]
    );
}

#[tokio::test]
async fn the_capped_voucher_sells_out_at_its_cap_and_a_raised_cap_is_seen_without_restart() {
    let s = TestServer::start_with(|c| c.campaign = campaign_with_cap(DRAWER, 2)).await;
    for (i, user) in ["a", "b"].iter().enumerate() {
        assert_eq!(
            statuses(&json(s.claim(user, &format!("k{i}"), &[DRAWER]).await).await),
            ["granted"]
        );
    }
    let body = json(s.claim("c", "k", &[DRAWER, FOREVER]).await).await;
    assert_eq!(statuses(&body), ["sold_out", "granted"]);
    assert!(body["results"][0]["claim"].is_null());
    let package: Package = s
        .get("/api/v1/package", Some("c"))
        .await
        .json()
        .await
        .unwrap();
    assert!(package
        .items
        .iter()
        .find(|i| i.id == DRAWER)
        .unwrap()
        .sold_out());

    // The operator raises the cap on the running server with the real CLI.
    let out = s.cli(&["admin", "cap", DRAWER, "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 -> 3"), "{}", stdout(&out));
    let package: Package = s
        .get("/api/v1/package", Some("c"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        package
            .items
            .iter()
            .find(|i| i.id == DRAWER)
            .unwrap()
            .remaining,
        Some(1)
    );
    assert_eq!(
        statuses(&json(s.claim("c", "k2", &[DRAWER]).await).await),
        ["granted"]
    );
    assert_eq!(
        statuses(&json(s.claim("d", "k", &[DRAWER]).await).await),
        ["sold_out"]
    );

    // An unknown item is a clear CLI failure.
    let out = s.cli(&["admin", "cap", "nope", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("drawer-plus-1m"),
        "lists the known items: {}",
        stderr(&out)
    );
}

/// 300 users press 받기 on the voucher capped at 100 at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_users_racing_for_a_cap_of_one_hundred_get_exactly_one_hundred() {
    let s = std::sync::Arc::new(
        TestServer::start_with(|c| c.campaign = campaign_with_cap(DRAWER, 100)).await,
    );
    let users: Vec<String> = (0..300).map(|i| format!("racer-{i:03}")).collect();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(users.len()));

    let run = |round: &'static str, fresh_key: bool| {
        let tasks: Vec<_> = users
            .iter()
            .map(|user| {
                let (s, barrier, user) = (s.clone(), barrier.clone(), user.clone());
                tokio::spawn(async move {
                    let key = if fresh_key {
                        format!("{user}-{round}")
                    } else {
                        format!("{user}-first")
                    };
                    barrier.wait().await;
                    let res = s.claim(&user, &key, &[DRAWER]).await;
                    assert_eq!(res.status(), 200, "{user} {round}");
                    let body = json(res).await;
                    (
                        user,
                        body["results"][0]["status"].as_str().unwrap().to_string(),
                        body,
                    )
                })
            })
            .collect();
        async move {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        }
    };

    let first = run("first", false).await;
    let winners: Vec<&String> = first
        .iter()
        .filter(|(_, st, _)| st == "granted")
        .map(|(u, _, _)| u)
        .collect();
    assert_eq!(winners.len(), 100);
    assert_eq!(
        first.iter().filter(|(_, st, _)| st == "sold_out").count(),
        200
    );

    // Retries: the same keys replay, new keys find what each user already has.
    let replay = run("replay", false).await;
    for ((u1, st1, b1), (u2, st2, b2)) in first.iter().zip(&replay) {
        assert_eq!(
            (u1, st1, b1),
            (u2, st2, b2),
            "a retry with the same key replays"
        );
    }
    let again = run("second", true).await;
    for (user, status, _) in &again {
        let expected = if winners.contains(&user) {
            "already_claimed"
        } else {
            "sold_out"
        };
        assert_eq!(status, expected, "{user}");
    }

    let (rows, distinct): (i64, i64) = s
        .backing
        .one(
            "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM claims WHERE item_id = ?1",
            &[DRAWER],
        )
        .await;
    assert_eq!((rows, distinct), (100, 100));
    let granted: i64 = s.backing.granted(DRAWER).await;
    assert_eq!(granted, 100);
    let codes: i64 = s
        .backing
        .one("SELECT COUNT(DISTINCT code) FROM claims", &[])
        .await;
    assert_eq!(codes, 100);
}

#[tokio::test]
async fn unknown_api_paths_are_404_and_wrong_methods_405_problems() {
    let s = TestServer::start().await;
    for path in ["/api/v1/nope", "/api/v2/package", "/api", "/api/dev/login"] {
        expect_problem(s.get(path, Some("alice")).await, 404, "not_found").await;
    }
    let res = s.http.delete(s.url("/api/v1/claims")).send().await.unwrap();
    expect_problem(res, 405, "method_not_allowed").await;
    let res = s.http.post(s.url("/api/v1/package")).send().await.unwrap();
    expect_problem(res, 405, "method_not_allowed").await;
    // Without --dist, non-API paths are problems too, not a blank page.
    expect_problem(s.get("/package", None).await, 404, "not_found").await;
}

#[tokio::test]
async fn status_is_public_and_reports_the_clock_and_gate() {
    let s = TestServer::start().await;
    let res = s.get("/api/v1/status", None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["open"], true);
    assert_eq!(body["paused"], false);
    assert_eq!(body["release_at"], "2023-01-05T00:00:00Z");
    assert!(body.get("closes_at").is_none());
    let server_time = t(body["server_time"].as_str().unwrap());
    assert!((server_time.0 - maeum_server::clock::system_now().0).abs() < 5_000);
}
