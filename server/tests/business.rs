//! Small-business damage claims over real HTTP: evidence uploads, the claim,
//! its receipt and status, operators' decisions, and channel cash.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

async fn upload_count(s: &TestServer) -> i64 {
    s.backing.one("SELECT COUNT(*) FROM uploads", &[]).await
}

/// Files left in the temporary upload directory (must be none after any answer).
fn temp_files(s: &TestServer) -> Vec<std::path::PathBuf> {
    files_under(&s.data_dir().join("uploads").join("tmp"))
}

async fn upload_id(s: &TestServer, user: &str, bytes: &[u8]) -> String {
    let res = s.upload(user, "증빙.pdf", "application/pdf", bytes).await;
    assert_eq!(res.status(), 201);
    json(res).await["id"].as_str().unwrap().to_string()
}

fn field_errors(p: &Value) -> Vec<(String, String)> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_allowed_type_is_stored_by_its_content_whatever_its_name() {
    let s = TestServer::start().await;
    let cases: [(Vec<u8>, &str, &str, &str); 4] = [
        (jpeg_fixture(), "영수증.jpg", "image/jpeg", "image/jpeg"),
        // A PNG named .jpg and labelled image/jpeg is still a PNG.
        (
            png_fixture(),
            "../../etc/passwd.jpg",
            "image/jpeg",
            "image/png",
        ),
        (
            pdf_fixture(),
            "매출 감소 증빙.pdf",
            "application/octet-stream",
            "application/pdf",
        ),
        (heic_fixture(), "IMG_0001.HEIC", "image/heif", "image/heic"),
    ];
    let mut ids = Vec::new();
    for (bytes, name, declared, sniffed) in &cases {
        let res = s.upload("owner", name, declared, bytes).await;
        assert_eq!(res.status(), 201, "{name}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let up = json(res).await;
        assert_eq!(up["content_type"], *sniffed, "{name}");
        assert_eq!(up["size"], bytes.len() as u64);
        let sha = sha256_hex(bytes);
        assert_eq!(up["sha256"], sha);
        // Content addressed, byte for byte.
        let stored = s.backing.blobs().read(&sha).await.unwrap();
        assert_eq!(stored.as_deref(), Some(&bytes[..]));
        ids.push(up["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 4);
    assert!(ids.iter().all(|id| id.len() >= 16));
    // The name is sanitised metadata, never a path.
    let names: Vec<String> = s
        .backing
        .all(
            "SELECT filename FROM uploads ORDER BY created_at, filename",
            &[],
        )
        .await;
    assert!(names.contains(&"passwd.jpg".to_string()), "{names:?}");
    assert!(!s.data_dir().join("etc").exists());
    // The same bytes again are the same upload (a retry costs nothing).
    let again = json(
        s.upload("owner", "again.jpg", "image/jpeg", &jpeg_fixture())
            .await,
    )
    .await;
    assert_eq!(again["id"], ids[0].as_str());
    assert_eq!(upload_count(&s).await, 4);
    // With a category.
    let mut other = pdf_fixture();
    other.extend_from_slice(b"% bankbook\n");
    let res = s
        .upload_parts(
            "owner",
            &[
                text_part("category", "bankbook"),
                file_part("통장.pdf", "application/pdf", &other),
            ],
        )
        .await;
    assert_eq!(res.status(), 201);
    let category: String = s
        .backing
        .one(
            "SELECT category FROM uploads WHERE sha256 = ?1",
            &[&sha256_hex(&other)],
        )
        .await;
    assert_eq!(category, "bankbook");
    assert!(temp_files(&s).is_empty());
}

#[tokio::test]
async fn a_renamed_executable_is_refused_by_its_first_bytes() {
    let s = TestServer::start().await;
    let res = s
        .upload("owner", "영수증.jpg", "image/jpeg", &exe_fixture())
        .await;
    let p = expect_problem(res, 415, "unsupported_media_type").await;
    assert!(p["detail"].as_str().unwrap().contains("PDF"), "{p}");
    // A short text file that sniffs as nothing, too.
    let res = s.upload("owner", "a.png", "image/png", b"hello").await;
    expect_problem(res, 415, "unsupported_media_type").await;
    assert_eq!(upload_count(&s).await, 0);
    assert!(temp_files(&s).is_empty());
    let stored = s.backing.blobs().list().await.unwrap();
    assert!(stored.is_empty(), "{stored:?}");
}

#[tokio::test]
async fn an_oversize_file_is_refused_while_streaming_and_nothing_is_left_behind() {
    let s = TestServer::start().await;
    // Exactly the limit is fine.
    let mut at_limit = pdf_fixture();
    at_limit.resize(10 * 1024 * 1024, b' ');
    let res = s
        .upload("owner", "big.pdf", "application/pdf", &at_limit)
        .await;
    assert_eq!(res.status(), 201);
    // ~11 MiB is refused with a problem the client can read (the server drains
    // the rest rather than resetting the connection), and the partial temporary
    // file is gone: the server never held it whole.
    let mut over = pdf_fixture();
    over.resize(11 * 1024 * 1024, b'x');
    let res = s
        .upload("owner", "bigger.pdf", "application/pdf", &over)
        .await;
    let p = expect_problem(res, 413, "payload_too_large").await;
    assert!(p["detail"].as_str().unwrap().contains("10MB"), "{p}");
    assert!(temp_files(&s).is_empty(), "{:?}", temp_files(&s));
    assert_eq!(upload_count(&s).await, 1);
    assert!(!s.backing.blobs().exists(&sha256_hex(&over)).await.unwrap());
    // The connection story is fine too: the next request works.
    assert_eq!(
        s.upload("owner", "a.jpg", "image/jpeg", &jpeg_fixture())
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn empty_missing_or_malformed_uploads_are_bad_requests() {
    let s = TestServer::start().await;
    let res = s.upload("owner", "empty.jpg", "image/jpeg", b"").await;
    let p = expect_problem(res, 400, "bad_request").await;
    assert_eq!(p["title"], "빈 파일이에요");
    let res = s
        .upload_parts("owner", &[text_part("category", "bankbook")])
        .await;
    expect_problem(res, 400, "bad_request").await;
    let res = s
        .upload_parts(
            "owner",
            &[
                file_part("a.jpg", "image/jpeg", &jpeg_fixture()),
                file_part("b.png", "image/png", &png_fixture()),
            ],
        )
        .await;
    expect_problem(res, 400, "bad_request").await;
    let res = s
        .upload_parts(
            "owner",
            &[
                file_part("a.jpg", "image/jpeg", &jpeg_fixture()),
                text_part("category", "selfie"),
            ],
        )
        .await;
    let p = expect_problem(res, 422, "validation").await;
    assert_eq!(field_errors(&p), [("category".into(), "invalid".into())]);
    let res = s
        .http
        .post(s.url("/api/v1/uploads"))
        .bearer_auth(s.token("owner"))
        .header("Content-Type", "image/jpeg")
        .body(jpeg_fixture())
        .send()
        .await
        .unwrap();
    expect_problem(res, 415, "unsupported_media_type").await;
    let res = s
        .http
        .post(s.url("/api/v1/uploads"))
        .body(jpeg_fixture())
        .send()
        .await
        .unwrap();
    expect_problem(res, 401, "unauthorized").await;
    assert_eq!(upload_count(&s).await, 0);
    assert!(temp_files(&s).is_empty());
}

#[tokio::test]
async fn each_user_may_store_a_bounded_number_of_uploads() {
    let s = TestServer::start_with(|c| c.upload_quota = 3).await;
    for i in 0..3 {
        let mut b = pdf_fixture();
        b.push(b'0' + i);
        upload_id(&s, "hoarder", &b).await;
    }
    let mut fourth = pdf_fixture();
    fourth.push(b'9');
    let res = s
        .upload("hoarder", "4.pdf", "application/pdf", &fourth)
        .await;
    expect_problem(res, 422, "quota_exceeded").await;
    // A retry of a stored file still answers, and others are unaffected.
    let mut first = pdf_fixture();
    first.push(b'0');
    assert_eq!(
        s.upload("hoarder", "1.pdf", "application/pdf", &first)
            .await
            .status(),
        201
    );
    assert_eq!(
        s.upload("other", "4.pdf", "application/pdf", &fourth)
            .await
            .status(),
        201
    );
    assert!(temp_files(&s).is_empty());
}

#[tokio::test]
async fn a_claim_is_received_with_the_support_the_server_computes() {
    let s = TestServer::start().await;
    let sales = upload_id(&s, "owner", &pdf_fixture()).await;
    let mut body = damage_claim_body();
    body["evidence"] = json!([{"upload_id": sales, "category": "sales_loss"}]);
    let res = s.damage_claim("owner", "key-1", &body).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    let receipt = json(res).await;
    let no = receipt["receipt_no"].as_str().unwrap();
    assert_eq!(no.len(), "D-2301-7Q4K93".len(), "{no}");
    assert!(no.starts_with("D-") && no.as_bytes()[6] == b'-', "{no}");
    assert!(!no[7..].contains(['0', 'O', '1', 'I']), "{no}");
    assert_eq!(receipt["status"], "received");
    assert_eq!(receipt["support"], json!({"won": 50000}));
    assert!(receipt.get("reason").is_none());

    // Stored normalised, with the account number as given (digits), evidence linked.
    let (brn, request): (String, String) = s
        .backing
        .one(
            "SELECT brn, request FROM damage_claims WHERE receipt_no = ?1",
            &[no],
        )
        .await;
    assert_eq!(brn, "1248100998");
    let request: Value = serde_json::from_str(&request).unwrap();
    assert_eq!(request["payout"]["account_no"], "3333011234567");
    assert_eq!(request["phone"], "010-1234-5678");
    let linked: i64 = s
        .backing
        .one(
            "SELECT COUNT(*) FROM damage_claim_evidence WHERE receipt_no = ?1 AND upload_id = ?2",
            &[no, &sales],
        )
        .await;
    assert_eq!(linked, 1);

    // The tiers, from the server's rule, for other businesses.
    for (brn, loss, evidence, support) in [
        ("120-81-47521", 300_000, json!([]), json!({"won": 30000})),
        ("220-81-62517", 300_001, json!([]), json!({"won": 50000})),
        (
            "107-86-14075",
            500_001,
            json!([{"upload_id": sales, "category": "sales_loss"}]),
            json!({"requires_review": true}),
        ),
    ] {
        let mut b = damage_claim_body();
        b["brn"] = json!(brn);
        b["loss_won"] = json!(loss);
        b["evidence"] = evidence;
        let res = s.damage_claim("owner", &format!("key-{brn}"), &b).await;
        assert_eq!(res.status(), 201, "{brn}");
        assert_eq!(json(res).await["support"], support, "{brn}");
    }

    // A client's own idea of the support is not even accepted.
    let mut odd = damage_claim_body();
    odd["brn"] = json!("229-81-30046");
    odd["support"] = json!({"won": 1_000_000});
    let p = expect_problem(
        s.damage_claim("owner", "key-odd", &odd).await,
        400,
        "invalid_json",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("support"), "{p}");
}

#[tokio::test]
async fn a_replayed_submit_returns_the_same_receipt_and_files_once() {
    let s = TestServer::start().await;
    let body = damage_claim_body();
    let first = s.damage_claim("owner", "intent-1", &body).await;
    assert_eq!(first.status(), 201);
    let first = first.text().await.unwrap();
    let again = s.damage_claim("owner", "intent-1", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first);
    // Twenty taps at once: still one claim, one answer.
    let s = Arc::new(s);
    let mut b2 = damage_claim_body();
    b2["brn"] = json!("120-81-47521");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (s, b2) = (s.clone(), b2.clone());
            tokio::spawn(async move {
                let res = s.damage_claim("tapper", "tap", &b2).await;
                (res.status().as_u16(), res.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        answers.insert(body);
    }
    assert_eq!(answers.len(), 1);
    let rows: i64 = s
        .backing
        .one("SELECT COUNT(*) FROM damage_claims", &[])
        .await;
    assert_eq!(rows, 2);
    // The same key with another body; no key at all.
    let mut other = damage_claim_body();
    other["loss_won"] = json!(1);
    expect_problem(
        s.damage_claim("owner", "intent-1", &other).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    expect_problem(
        s.post_json("owner", "/api/v1/damage-claims", None, &body)
            .await,
        400,
        "missing_idempotency_key",
    )
    .await;
    // A gift claim's key cannot replay a damage claim's answer.
    let res = s.claim("owner", "intent-1", &[FOREVER]).await;
    expect_problem(res, 422, "idempotency_key_reused").await;
}

#[tokio::test]
async fn one_claim_per_business_a_second_gets_409_with_the_existing_receipt() {
    let s = TestServer::start().await;
    let receipt = json(s.damage_claim("first", "k1", &damage_claim_body()).await).await;
    // The same business written another way, by someone else.
    let mut body = damage_claim_body();
    body["brn"] = json!("１２４ ８１ ００９９８");
    body["business_name"] = json!("다른 이름");
    let p = expect_problem(s.damage_claim("second", "k2", &body).await, 409, "conflict").await;
    assert_eq!(p["receipt_no"], receipt["receipt_no"]);
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains(receipt["receipt_no"].as_str().unwrap()));
    // And by the same user with a fresh key.
    let p = expect_problem(s.damage_claim("first", "k3", &body).await, 409, "conflict").await;
    assert_eq!(p["receipt_no"], receipt["receipt_no"]);
}

#[tokio::test]
async fn evidence_must_be_the_callers_own_uploads() {
    let s = TestServer::start().await;
    let mine = upload_id(&s, "owner", &pdf_fixture()).await;
    let theirs = upload_id(&s, "stranger", &png_fixture()).await;
    for ids in [
        vec![theirs.clone()],
        vec![mine.clone(), "no-such-upload".into()],
    ] {
        let mut body = damage_claim_body();
        body["evidence"] = Value::Array(
            ids.iter()
                .map(|id| json!({"upload_id": id, "category": "service_use"}))
                .collect(),
        );
        let p = expect_problem(s.damage_claim("owner", "k", &body).await, 422, "validation").await;
        assert_eq!(
            field_errors(&p),
            [("evidence".to_string(), "unknown_upload".to_string())]
        );
    }
    // Reported together with the form's own errors.
    let mut body = damage_claim_body();
    body["phone"] = json!("12");
    body["evidence"] = json!([{"upload_id": theirs, "category": "sales_loss"}]);
    let p = expect_problem(s.damage_claim("owner", "k", &body).await, 422, "validation").await;
    assert_eq!(
        field_errors(&p),
        [
            ("phone".to_string(), "format".to_string()),
            ("evidence".to_string(), "unknown_upload".to_string())
        ]
    );
    let mut body = damage_claim_body();
    body["evidence"] = json!([{"upload_id": mine, "category": "sales_loss"}]);
    assert_eq!(s.damage_claim("owner", "k", &body).await.status(), 201);
}

#[tokio::test]
async fn each_field_error_names_the_body_field() {
    let s = TestServer::start().await;
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("brn", json!("124-81-00997"), "brn", "checksum"),
        ("brn", json!("0000000000"), "brn", "structure"),
        ("business_name", json!("  "), "business_name", "required"),
        (
            "representative",
            json!("가".repeat(51)),
            "representative",
            "too_long",
        ),
        ("phone", json!("099-123-4567"), "phone", "format"),
        ("email", json!("owner@"), "email", "format"),
        ("services", json!([]), "services", "required"),
        ("services", json!(["other"]), "services_other", "required"),
        (
            "period_from",
            json!("2022-10-14"),
            "period_from",
            "out_of_range",
        ),
        (
            "period_to",
            json!("2022-10-21"),
            "period_to",
            "out_of_range",
        ),
        (
            "period_from",
            json!("2022-10-19"),
            "period_to",
            "before_start",
        ),
        (
            "period_from",
            json!("not a date"),
            "period_from",
            "required",
        ),
        ("loss_won", json!(0), "loss_won", "not_positive"),
        ("loss_won", json!(1_000_000_001u64), "loss_won", "too_large"),
        (
            "loss_won",
            json!(500_001),
            "evidence",
            "sales_loss_required",
        ),
        (
            "description",
            json!("가".repeat(1001)),
            "description",
            "too_long",
        ),
        (
            "evidence",
            json!((0..11)
                .map(|i| json!({"upload_id": format!("u{i}"), "category": "service_use"}))
                .collect::<Vec<_>>()),
            "evidence",
            "too_many",
        ),
        (
            "payout",
            json!({"bank_code": "999", "account_no": "3333011234567", "holder": "김"}),
            "payout.bank_code",
            "required",
        ),
        (
            "payout",
            json!({"bank_code": "090", "account_no": "12-34", "holder": "김"}),
            "payout.account_no",
            "length",
        ),
        (
            "payout",
            json!({"bank_code": "090", "account_no": "3333011234567", "holder": " "}),
            "payout.holder",
            "required",
        ),
        (
            "consents",
            json!({"privacy_required": false}),
            "consents.privacy_required",
            "required",
        ),
    ];
    for (key, value, field, code) in cases {
        let mut body = damage_claim_body();
        body[key] = value;
        if field == "period_to" && code == "before_start" {
            body["period_to"] = json!("2022-10-16");
        }
        let res = s.damage_claim("owner", "k", &body).await;
        let p = expect_problem(res, 422, "validation").await;
        let errors = field_errors(&p);
        assert!(
            errors.contains(&(field.to_string(), code.to_string())),
            "{key}: {errors:?}"
        );
        // (a loss over the bound is also over the review tier, which wants evidence)
        if !["too_many", "too_large"].contains(&code) {
            assert_eq!(errors.len(), 1, "{key}: {errors:?}");
        }
    }
    // Several at once, in form order.
    let mut body = damage_claim_body();
    body["brn"] = json!("124-81-00997");
    body["phone"] = json!("12");
    body["loss_won"] = json!(0);
    body["consents"] = json!({"privacy_required": false});
    let p = expect_problem(s.damage_claim("owner", "k", &body).await, 422, "validation").await;
    let fields: Vec<String> = field_errors(&p).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        ["brn", "phone", "loss_won", "consents.privacy_required"]
    );
    // Broken JSON, unknown fields, wrong types: 400.
    for bad in [
        "{",
        r#"{"brn": "124-81-00998"}"#,
        &damage_claim_body()
            .to_string()
            .replace("420000", "\"420,000\""),
    ] {
        let res = s
            .http
            .post(s.url("/api/v1/damage-claims"))
            .bearer_auth(s.token("owner"))
            .header("Idempotency-Key", "k")
            .header("Content-Type", "application/json")
            .body(bad.to_string())
            .send()
            .await
            .unwrap();
        expect_problem(res, 400, "invalid_json").await;
    }
    let rows: i64 = s
        .backing
        .one("SELECT COUNT(*) FROM damage_claims", &[])
        .await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn the_status_is_for_its_owner_only_and_follows_the_operators() {
    let s = TestServer::start().await;
    let receipt = json(s.damage_claim("owner", "k", &damage_claim_body()).await).await;
    let no = receipt["receipt_no"].as_str().unwrap().to_string();
    let path = format!("/api/v1/damage-claims/{no}");
    let got = json(s.get(&path, Some("owner")).await).await;
    assert_eq!(got, receipt);
    // Typed in lower case, still found.
    let lower = s
        .get(
            &format!("/api/v1/damage-claims/{}", no.to_lowercase()),
            Some("owner"),
        )
        .await;
    assert_eq!(lower.status(), 200);
    // Someone else, an unknown receipt, no token.
    expect_problem(s.get(&path, Some("stranger")).await, 404, "not_found").await;
    expect_problem(
        s.get("/api/v1/damage-claims/D-2301-ZZZZZZ", Some("owner"))
            .await,
        404,
        "not_found",
    )
    .await;
    expect_problem(s.get(&path, None).await, 401, "unauthorized").await;

    // Operators move it along; the owner sees each step.
    let list = s.cli(&["admin", "claims", "list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let table = stdout(&list);
    assert!(
        table.contains(&no) && table.contains("124-81-00998"),
        "{table}"
    );
    assert!(
        table.contains("420,000원") && table.contains("50,000원"),
        "{table}"
    );
    assert!(
        table.contains("received") && table.contains("1 damage claims"),
        "{table}"
    );
    assert!(
        !table.contains("3333011234567"),
        "no account numbers in the table"
    );
    for (action, status) in [
        ("review", "reviewing"),
        ("approve", "approved"),
        ("pay", "paid"),
    ] {
        let out = s.cli(&["admin", "claims", action, &no]);
        assert!(out.status.success(), "{action}: {}", stderr(&out));
        assert!(stdout(&out).contains(status), "{}", stdout(&out));
        assert_eq!(
            json(s.get(&path, Some("owner")).await).await["status"],
            status
        );
    }
    // Paid is final.
    let out = s.cli(&["admin", "claims", "reject", &no, "--reason", "늦었어요"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("paid"), "{}", stderr(&out));

    // Another claim is rejected with a reason the owner reads.
    let mut body = damage_claim_body();
    body["brn"] = json!("120-81-47521");
    let other = json(s.damage_claim("owner", "k2", &body).await).await;
    let other_no = other["receipt_no"].as_str().unwrap();
    let out = s.cli(&[
        "admin",
        "claims",
        "reject",
        &other_no.to_lowercase(),
        "--reason",
        "사업자 확인이 되지 않았어요",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = json(
        s.get(&format!("/api/v1/damage-claims/{other_no}"), Some("owner"))
            .await,
    )
    .await;
    assert_eq!(got["status"], "rejected");
    assert_eq!(got["reason"], "사업자 확인이 되지 않았어요");

    // Unknown receipts and usage mistakes.
    let out = s.cli(&["admin", "claims", "approve", "D-0000-XXXXXX"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no damage claim"), "{}", stderr(&out));
    assert_eq!(
        s.cli(&["admin", "claims", "reject", other_no])
            .status
            .code(),
        Some(2),
        "--reason is required"
    );
    assert_eq!(
        s.cli(&["admin", "claims", "frobnicate", other_no])
            .status
            .code(),
        Some(2)
    );
}

#[tokio::test]
async fn a_claim_that_needed_review_gets_its_amount_on_approval() {
    let s = TestServer::start().await;
    let sales = upload_id(&s, "owner", &pdf_fixture()).await;
    let mut body = damage_claim_body();
    body["loss_won"] = json!(2_000_000);
    body["evidence"] = json!([{"upload_id": sales, "category": "sales_loss"}]);
    let receipt = json(s.damage_claim("owner", "k", &body).await).await;
    assert_eq!(receipt["support"], json!({"requires_review": true}));
    let no = receipt["receipt_no"].as_str().unwrap();
    let out = s.cli(&["admin", "claims", "approve", no, "--won", "150,000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = json(
        s.get(&format!("/api/v1/damage-claims/{no}"), Some("owner"))
            .await,
    )
    .await;
    assert_eq!(got["status"], "approved");
    assert_eq!(got["support"], json!({"won": 150000}));
}

#[tokio::test]
async fn channel_cash_is_granted_once_per_business() {
    let s = TestServer::start().await;
    let first = s.channel_cash("owner", "cash-1", "124-81-00998").await;
    assert_eq!(first.status(), 200);
    let first_text = first.text().await.unwrap();
    let grant: Value = serde_json::from_str(&first_text).unwrap();
    assert_eq!(grant["brn"], "1248100998");
    assert_eq!(grant["won"], 50000);
    assert_eq!(grant["newly_granted"], true);
    // The same key again: the same answer.
    let again = s.channel_cash("owner", "cash-1", "1248100998").await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first_text);
    // Anyone else, any key: the original grant, not a new one.
    for (user, key) in [("owner", "cash-2"), ("partner", "cash-1")] {
        let later = json(s.channel_cash(user, key, "１２４-８１-００９９８").await).await;
        assert_eq!(later["newly_granted"], false, "{user}");
        assert_eq!(later["granted_at"], grant["granted_at"]);
        assert_eq!(later["won"], 50000);
    }
    let rows: i64 = s
        .backing
        .one("SELECT COUNT(*) FROM channel_cash", &[])
        .await;
    assert_eq!(rows, 1);
    // Another business gets its own.
    assert_eq!(
        json(s.channel_cash("owner", "cash-3", "120-81-47521").await).await["newly_granted"],
        true
    );
    // A bad number is a field error on brn; no key is a 400.
    let p = expect_problem(
        s.channel_cash("owner", "cash-4", "124-81-00997").await,
        422,
        "validation",
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("brn".to_string(), "checksum".to_string())]
    );
    expect_problem(
        s.post_json(
            "owner",
            "/api/v1/channel-cash",
            None,
            &json!({"brn": "1248100998"}),
        )
        .await,
        400,
        "missing_idempotency_key",
    )
    .await;
    expect_problem(
        s.post_json(
            "owner",
            "/api/v1/channel-cash",
            Some("k"),
            &json!({"brn": "1248100998", "won": 1}),
        )
        .await,
        400,
        "invalid_json",
    )
    .await;
}

#[tokio::test]
async fn the_business_endpoints_are_gated_like_claims() {
    let s = TestServer::start_with(|c| {
        c.clock = Arc::new(maeum_server::Clock::starting_at(t(
            "2023-01-05T08:59:00+09:00",
        )))
    })
    .await;
    for res in [
        s.upload("early", "a.jpg", "image/jpeg", &jpeg_fixture())
            .await,
        s.damage_claim("early", "k", &damage_claim_body()).await,
        s.get("/api/v1/damage-claims/D-2301-ABCDEF", Some("early"))
            .await,
        s.channel_cash("early", "k", "124-81-00998").await,
    ] {
        let p = expect_problem(res, 403, "not_open").await;
        assert!(p["release_at"].is_string() && p["server_time"].is_string());
    }
    let endpoints: Vec<String> = s
        .backing
        .all("SELECT endpoint FROM early_attempts ORDER BY id", &[])
        .await;
    assert_eq!(
        endpoints,
        [
            "POST /v1/uploads",
            "POST /v1/damage-claims",
            "GET /v1/damage-claims/{receipt_no}",
            "POST /v1/channel-cash"
        ]
    );
    assert!(temp_files(&s).is_empty() && upload_count(&s).await == 0);

    s.server.clock().set_now(t("2023-01-05T09:00:00+09:00"));
    assert!(s.cli(&["admin", "pause"]).status.success());
    for res in [
        s.upload("u", "a.jpg", "image/jpeg", &jpeg_fixture()).await,
        s.damage_claim("u", "k", &damage_claim_body()).await,
        s.channel_cash("u", "k", "124-81-00998").await,
    ] {
        let res_retry = res.headers().get("retry-after").cloned();
        expect_problem(res, 503, "paused").await;
        assert!(res_retry.is_some());
    }
    assert!(s.cli(&["admin", "resume"]).status.success());
    assert_eq!(
        s.upload("u", "a.jpg", "image/jpeg", &jpeg_fixture())
            .await
            .status(),
        201
    );
}
