//! Staying correct and up: two servers over one database, load shedding, the
//! per-user rate limit, security headers and CORS, and SIGKILL in the middle of
//! claims. Loopback only; every loop is bounded.

mod common;

use base64::Engine as _;
use common::*;
use maeum_server::{Config, TokenKey};
use serde_json::Value;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_over_one_data_dir_grant_a_cap_exactly_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backing = Backing::fresh(data.clone()).await;
    let config = || {
        let mut c = Config::new(&data);
        backing.apply(&mut c);
        c.campaign = campaign_with_cap(DRAWER, 100);
        c
    };
    // Two servers, each with its own connections and writer thread.
    let a = Arc::new(maeum_server::start(config()).await.unwrap());
    let b = Arc::new(maeum_server::start(config()).await.unwrap());
    assert_ne!(a.url(), b.url());
    let http = reqwest::Client::new();
    let claim = |server: Arc<maeum_server::Server>, user: String| {
        let http = http.clone();
        async move {
            let res = http
                .post(format!("{}/api/v1/claims", server.url()))
                .bearer_auth(server.token(&user))
                .header("Idempotency-Key", format!("k-{user}"))
                .json(&serde_json::json!({ "item_ids": [DRAWER] }))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let replayed = res.headers().contains_key("idempotent-replayed");
            (user, status, replayed, res.text().await.unwrap())
        }
    };
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let server = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(claim(server, format!("pair-{i:03}")))
        })
        .collect();
    let mut first = BTreeMap::new();
    for t in tasks {
        let (user, status, _, body) = t.await.unwrap();
        assert_eq!(status, 200, "{user}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        first.insert(
            user,
            (
                v["results"][0]["status"].as_str().unwrap().to_string(),
                body,
            ),
        );
    }
    let granted = first.values().filter(|(s, _)| s == "granted").count();
    assert_eq!(granted, 100);
    assert!(first
        .values()
        .all(|(s, _)| s == "granted" || s == "sold_out"));

    // The database agrees, and nobody holds the item twice.
    let (rows, users): (i64, i64) = backing
        .one(
            "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM claims WHERE item_id = ?1",
            &[DRAWER],
        )
        .await;
    assert_eq!((rows, users), (100, 100));
    let counted: i64 = backing.granted(DRAWER).await;
    assert_eq!(counted, 100);

    // A retry through the other server replays the first answer byte for byte.
    let tasks: Vec<_> = (0..300)
        .step_by(7)
        .map(|i| {
            let server = if i % 2 == 0 { b.clone() } else { a.clone() };
            tokio::spawn(claim(server, format!("pair-{i:03}")))
        })
        .collect();
    for t in tasks {
        let (user, status, replayed, body) = t.await.unwrap();
        assert_eq!(status, 200);
        assert!(replayed, "{user}");
        assert_eq!(body, first[&user].1, "{user}");
    }
}

async fn raw_partial_claim(s: &TestServer) -> tokio::net::TcpStream {
    let mut tcp = tokio::net::TcpStream::connect(s.server.addr())
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/claims HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Idempotency-Key: slow\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"item_ids\"",
        s.token("slowpoke")
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.flush().await.unwrap();
    tcp
}

#[tokio::test]
async fn over_the_in_flight_bound_requests_are_shed_but_status_answers() {
    let s = TestServer::start_with(|c| c.max_in_flight = 1).await;
    // A request whose body never finishes holds the only slot.
    let tcp = raw_partial_claim(&s).await;
    let mut shed = None;
    for _ in 0..100 {
        let res = s.get("/api/v1/package", Some("u")).await;
        if res.status() == 503 {
            shed = Some(res);
            break;
        }
        assert_eq!(res.status(), 200);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let res = shed.expect("the second request is shed");
    assert_eq!(res.headers()["retry-after"], "1");
    let p = expect_problem(res, 503, "busy").await;
    assert!(p["detail"].as_str().is_some());
    // Status stays responsive while the slot is taken.
    for _ in 0..5 {
        assert_eq!(s.get("/api/v1/status", None).await.status(), 200);
    }
    expect_problem(s.claim("u", "k", &[FOREVER]).await, 503, "busy").await;
    // The slot comes back when the slow request ends.
    drop(tcp);
    let mut freed = false;
    for _ in 0..100 {
        if s.get("/api/v1/package", Some("u")).await.status() == 200 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(freed);
}

#[tokio::test]
async fn a_persons_taps_pass_and_a_script_is_rate_limited() {
    let s = TestServer::start().await;
    for i in 0..10 {
        let res = s.claim("person", &format!("tap-{i}"), &[FOREVER]).await;
        assert_eq!(res.status(), 200, "tap {i}");
    }
    let mut limited = 0;
    for i in 0..50 {
        let res = s.claim("person", &format!("script-{i}"), &[FOREVER]).await;
        if res.status() == 429 {
            let retry: u32 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=5).contains(&retry), "{retry}");
            expect_problem(res, 429, "rate_limited").await;
            limited += 1;
        } else {
            assert_eq!(res.status(), 200);
        }
    }
    assert!(limited >= 40, "only {limited} of 50 were limited");
    // Per user: someone else is not affected, and reads are not limited.
    assert_eq!(s.claim("neighbour", "k", &[FOREVER]).await.status(), 200);
    assert_eq!(
        s.get("/api/v1/me/claims", Some("person")).await.status(),
        200
    );
    // The bucket refills.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(s.claim("person", "later", &[FOREVER]).await.status(), 200);
    // And it can be switched off.
    let off = TestServer::start_with(|c| c.rate_limit = None).await;
    for i in 0..30 {
        assert_eq!(
            off.claim("script", &format!("k{i}"), &[FOREVER])
                .await
                .status(),
            200
        );
    }
}

const LOADER: &str = "\nimport init, * as bindings from '/maeum-0a1b2c3d4e5f6a7b.js';\nconst wasm = await init({ module_or_path: '/maeum-0a1b2c3d4e5f6a7b_bg.wasm' });\nwindow.wasmBindings = bindings;\n";

const STYLE: &str = "\n:root{--brand:#e8590c}body{margin:0}\n";
const BUSINESS_LOADER: &str = "\nimport init from '/business/maeum-business-0a1b2c3d4e5f6a7b.js';\nawait init({ module_or_path: '/business/maeum-business-0a1b2c3d4e5f6a7b_bg.wasm' });\n";
const BUSINESS_STYLE: &str = "\n.biz{display:grid}\n";

fn index_with(script: &str, style: &str) -> String {
    format!(
        "<!doctype html><html lang=\"ko\"><head><title>마음 패키지</title>\
         <style>{style}</style>\
         <script src=\"/maeum-0a1b2c3d4e5f6a7b.js\" type=\"module\"></script>\
         <script type=\"module\">{script}</script></head><body><div id=\"app\"></div></body></html>"
    )
}

/// Gives `file` a modification time later than any write this second.
fn touch_later(file: &std::path::Path) {
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(later)
        .unwrap();
}

fn csp_hash(script: &str) -> String {
    let digest = sha2::Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn everything_served_carries_security_headers_and_the_html_policy_hashes_every_bundles_inline_code(
) {
    let s = TestServer::start_with(|c| {
        let dist = c.data_dir.parent().unwrap().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), index_with(LOADER, STYLE)).unwrap();
        std::fs::create_dir_all(dist.join("business")).unwrap();
        std::fs::write(
            dist.join("business/index.html"),
            index_with(BUSINESS_LOADER, BUSINESS_STYLE),
        )
        .unwrap();
        std::fs::write(
            dist.join("maeum-0a1b2c3d4e5f6a7b.js"),
            "export default 1;\n",
        )
        .unwrap();
        std::fs::write(
            dist.join("config.json"),
            r#"{"api_bases": ["/api", "https://api-2.example.com/api"]}"#,
        )
        .unwrap();
        c.dist = Some(dist);
        c.connect_src = vec!["https://backup.example".into()];
    })
    .await;
    for path in [
        "/",
        "/index.html",
        "/business",
        "/business/index.html",
        "/business/claims/D-2301-7Q4K93",
    ] {
        let res = s.get(path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "referrer-policy"), "no-referrer");
        let csp = header(&res, "content-security-policy");
        // Both bundles' loaders and styles, whichever page is served.
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' {} {};",
                csp_hash(LOADER),
                csp_hash(BUSINESS_LOADER)
            )),
            "{csp}"
        );
        assert!(
            csp.contains(&format!(
                "style-src 'self' {} {};",
                csp_hash(STYLE),
                csp_hash(BUSINESS_STYLE)
            )),
            "{csp}"
        );
        for part in [
            "default-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "connect-src 'self' https://backup.example https://api-2.example.com;",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ] {
            assert!(csp.contains(part), "{part} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
    // Other files: nosniff and referrer policy, no document policy.
    let js = s.get("/maeum-0a1b2c3d4e5f6a7b.js", None).await;
    assert_eq!(header(&js, "x-content-type-options"), "nosniff");
    assert_eq!(header(&js, "referrer-policy"), "no-referrer");
    assert!(js.headers().get("content-security-policy").is_none());
    // The API, including its errors.
    for (path, status) in [
        ("/api/v1/status", 200),
        ("/api/v1/package", 401),
        ("/api/nope", 404),
    ] {
        let res = s.get(path, None).await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "referrer-policy"), "no-referrer");
        assert_eq!(
            header(&res, "content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert!(res.headers().get("access-control-allow-origin").is_none());
    }

    // A new build: the policy follows it without a restart.
    let dist = s.dir.path().join("dist");
    let next = "\nimport init from '/maeum-ffffffffffffffff.js';\nawait init();\n";
    std::fs::write(dist.join("index.html"), index_with(next, STYLE)).unwrap();
    touch_later(&dist.join("index.html"));
    let res = s.get("/", None).await;
    let csp = header(&res, "content-security-policy");
    assert!(
        csp.contains(&csp_hash(next)) && !csp.contains(&csp_hash(LOADER)),
        "{csp}"
    );
    // A new business build alone: its new style replaces the old one.
    let next_style = "\n.biz{display:flex}\n";
    let business = dist.join("business/index.html");
    std::fs::write(&business, index_with(BUSINESS_LOADER, next_style)).unwrap();
    touch_later(&business);
    let res = s.get("/business/claims/D-2301-7Q4K93", None).await;
    let csp = header(&res, "content-security-policy");
    assert!(
        csp.contains(&format!(
            "style-src 'self' {} {};",
            csp_hash(STYLE),
            csp_hash(next_style)
        )),
        "{csp}"
    );
    assert!(csp.contains(&csp_hash(next)), "{csp}");
}

#[tokio::test]
async fn cors_answers_only_the_allowed_app_origin_and_exposes_retry_after() {
    let s = TestServer::start_with(|c| {
        c.allow_origins = vec!["https://app.example".into()];
        c.max_in_flight = 1;
    })
    .await;
    let preflight = |origin: &'static str| {
        s.http
            .request(reqwest::Method::OPTIONS, s.url("/api/v1/claims"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
    };
    let ok = preflight("https://app.example").await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(
        header(&ok, "access-control-allow-origin"),
        "https://app.example"
    );
    assert!(header(&ok, "access-control-allow-methods").contains("POST"));
    let allowed = header(&ok, "access-control-allow-headers").to_ascii_lowercase();
    for h in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    // Real answers, errors included, so the app can read Retry-After.
    let get = |path: &'static str, origin: &'static str| {
        s.http
            .get(s.url(path))
            .header("Origin", origin)
            .bearer_auth(s.token("u"))
            .send()
    };
    let res = get("/api/v1/status", "https://app.example").await.unwrap();
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "https://app.example"
    );
    let exposed = header(&res, "access-control-expose-headers").to_ascii_lowercase();
    for h in ["retry-after", "idempotent-replayed"] {
        assert!(exposed.contains(h), "{exposed}");
    }
    let vary: Vec<String> = res
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(vary.iter().any(|v| v.contains("origin")), "{vary:?}");
    let res = get("/api/v1/status", "https://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let tcp = raw_partial_claim(&s).await;
    let mut busy = None;
    for _ in 0..100 {
        let res = get("/api/v1/package", "https://app.example").await.unwrap();
        if res.status() == 503 {
            busy = Some(res);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let busy = busy.expect("shed");
    assert_eq!(
        header(&busy, "access-control-allow-origin"),
        "https://app.example"
    );
    assert!(header(&busy, "access-control-expose-headers")
        .to_ascii_lowercase()
        .contains("retry-after"));
    drop(tcp);

    // Without --allow-origin there is no CORS at all.
    let plain = TestServer::start().await;
    let res = plain
        .http
        .get(plain.url("/api/v1/status"))
        .header("Origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

// ---- crash safety with the real binary ----

const BIN: &str = env!("CARGO_BIN_EXE_maeum-server");

/// The spawned server, SIGKILLed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_serve(backing: &Backing) -> (Proc, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(backing.cli_args())
        .args(
            backing
                .uploads
                .iter()
                .flat_map(|u| ["--uploads", u.as_str()]),
        )
        .args(["--no-rate-limit"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (Proc(child), url)
}

fn sigkill(proc: &Proc) {
    let status = Command::new("kill")
        .args(["-KILL", &proc.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn claim_at(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    key: &str,
) -> Result<(u16, bool, String), reqwest::Error> {
    let res = http
        .post(format!("{url}/api/v1/claims"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&serde_json::json!({ "item_ids": [DRAWER, FOREVER] }))
        .timeout(Duration::from_secs(20))
        .send()
        .await?;
    let status = res.status().as_u16();
    let replayed = res.headers().contains_key("idempotent-replayed");
    Ok((status, replayed, res.text().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkill_loses_no_acknowledged_claim_and_retries_replay() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backing = Backing::fresh(data.clone()).await;
    let (proc, url) = spawn_serve(&backing);
    let key = TokenKey::load_or_create(&data).unwrap();
    let now = maeum_server::clock::system_now().0 / 1000;
    let token = |user: &str| key.issue(user, now);
    let http = reqwest::Client::new();

    // Acknowledged one by one.
    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..20 {
        let user = format!("calm-{i:02}");
        let (status, _, body) = claim_at(&http, &url, &token(&user), &user).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            statuses(&serde_json::from_str(&body).unwrap()),
            ["granted", "granted"]
        );
        acknowledged.insert(user, body);
    }
    // Then a stream of claims, killed once some of them are answered.
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let (http, url, user) = (http.clone(), url.clone(), format!("burst-{i:02}"));
            let (token, answered) = (token(&user), answered.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(i as u64 * 3)).await;
                let r = claim_at(&http, &url, &token, &user).await;
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (user, r.ok())
            })
        })
        .collect();
    for _ in 0..1000 {
        if answered.load(std::sync::atomic::Ordering::SeqCst) >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sigkill(&proc);
    let mut unanswered = BTreeSet::new();
    for t in tasks {
        let (user, answer) = t.await.unwrap();
        match answer {
            Some((200, _, body)) => {
                acknowledged.insert(user, body);
            }
            _ => {
                unanswered.insert(user);
            }
        }
    }
    drop(proc);

    // Restart on the same data directory.
    let (proc2, url2) = spawn_serve(&backing);
    for (user, body) in &acknowledged {
        let v: Value = serde_json::from_str(body).unwrap();
        let granted: Vec<&str> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "granted")
            .map(|r| r["item_id"].as_str().unwrap())
            .collect();
        for item in granted {
            let rows: i64 = backing
                .one(
                    "SELECT COUNT(*) FROM claims WHERE user_id = ?1 AND item_id = ?2",
                    &[user.as_str(), item],
                )
                .await;
            assert_eq!(rows, 1, "{user} was told {item} was granted");
        }
        // A retry with the same key replays the acknowledged answer.
        let (status, replayed, again) = claim_at(&http, &url2, &token(user), user).await.unwrap();
        assert_eq!(status, 200);
        assert!(replayed, "{user}");
        assert_eq!(&again, body, "{user}");
    }
    // Whatever was in flight: a retry either finds it or grants it now, once.
    for user in &unanswered {
        let (status, _, body) = claim_at(&http, &url2, &token(user), user).await.unwrap();
        assert_eq!(status, 200, "{user}: {body}");
        assert_eq!(
            statuses(&serde_json::from_str(&body).unwrap()),
            ["granted", "granted"],
            "{user}"
        );
    }
    let per_user: i64 = backing.one("SELECT COUNT(*) FROM (SELECT user_id FROM claims GROUP BY user_id, item_id HAVING COUNT(*) > 1) AS twice", &[]).await;
    assert_eq!(per_user, 0);
    let total: i64 = backing
        .one("SELECT COUNT(DISTINCT user_id) FROM claims", &[])
        .await;
    assert_eq!(total, 80);
    eprintln!(
        "crash test: {} acknowledged before the kill, {} unanswered and retried",
        acknowledged.len(),
        unanswered.len()
    );
    drop(proc2);
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    use tokio::io::AsyncReadExt;
    let s = TestServer::start_with(|c| c.header_read_timeout = Duration::from_millis(300)).await;
    let mut slow = tokio::net::TcpStream::connect(s.server.addr())
        .await
        .unwrap();
    // Half a request head, then nothing (a slowloris client).
    slow.write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(_))),
        "the server closes the connection: {closed:?}"
    );
    // Nothing was answered for a request that never arrived, and the server
    // still serves everyone else, also on a connection it kept alive.
    let head = String::from_utf8_lossy(&rest);
    assert!(!head.contains("200 OK"), "{head}");
    assert_eq!(s.get("/api/v1/status", None).await.status(), 200);
    assert_eq!(s.get("/api/v1/status", None).await.status(), 200);
}
