//! The kit judges itself: the reference server passes every check, and the same
//! server behind a proxy that breaks one rule fails exactly the checks about
//! that rule (so no check passes whatever the backend does).

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use maeum_conformance::people::{Admin, Tokens};
use maeum_conformance::report::{Outcome, Report};
use maeum_conformance::{checks, Config};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

const APP_ORIGIN: &str = "https://app.example";

/// One runtime for every server and proxy of this test binary.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// What the proxy breaks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// Drops `Cache-Control`.
    NoStore,
    /// Serves problems as `application/json`.
    PlainProblems,
    /// Says `granted` where the server said `already_claimed` (a double grant, as the app sees it).
    DoubleGrant,
    /// Replays carry the same JSON in other bytes.
    ReplayReformatted,
    /// Drops `Retry-After`.
    NoRetryAfter,
    /// Drops `Access-Control-Expose-Headers`.
    NoExposedHeaders,
}

struct Backend {
    /// The proxy's API base.
    base: String,
    data_dir: PathBuf,
    server: Arc<maeum_server::Server>,
    _dir: tempfile::TempDir,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    fault: Fault,
    http: reqwest::Client,
}

async fn forward(State(p): State<Proxy>, req: Request) -> Result<Response, StatusCode> {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 64 << 20)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = p
        .http
        .request(parts.method.clone(), format!("{}{path}", p.upstream))
        .body(body);
    for (k, v) in &parts.headers {
        if k != "host" && k != "content-length" {
            out = out.header(k, v);
        }
    }
    let res = out.send().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let status = res.status();
    let mut headers = res.headers().clone();
    let mut bytes = res
        .bytes()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?
        .to_vec();
    headers.remove("content-length");
    let drop = |h: &mut axum::http::HeaderMap, name: &str| {
        h.remove(HeaderName::from_bytes(name.as_bytes()).expect("a header name"));
    };
    match p.fault {
        Fault::None => {}
        Fault::NoStore => drop(&mut headers, "cache-control"),
        Fault::PlainProblems => {
            if headers
                .get("content-type")
                .is_some_and(|v| v == "application/problem+json")
            {
                headers.insert("content-type", HeaderValue::from_static("application/json"));
            }
        }
        Fault::DoubleGrant => {
            let text =
                String::from_utf8_lossy(&bytes).replace("\"already_claimed\"", "\"granted\"");
            bytes = text.into_bytes();
        }
        Fault::ReplayReformatted => {
            if headers.contains_key("idempotent-replayed") {
                let v: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|_| StatusCode::BAD_GATEWAY)?;
                bytes = serde_json::to_vec_pretty(&v).map_err(|_| StatusCode::BAD_GATEWAY)?;
            }
        }
        Fault::NoRetryAfter => drop(&mut headers, "retry-after"),
        Fault::NoExposedHeaders => drop(&mut headers, "access-control-expose-headers"),
    }
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    Ok(res)
}

/// The reference server on a fresh data directory, behind a proxy with `fault`.
fn backend(fault: Fault) -> Backend {
    backend_with(fault, |_| {})
}

fn backend_with(fault: Fault, tweak: impl FnOnce(&mut maeum_server::Config)) -> Backend {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data_dir = dir.path().join("data");
    let mut config = maeum_server::Config::new(&data_dir);
    config.allow_origins = vec![APP_ORIGIN.to_string()];
    tweak(&mut config);
    let (server, base) = runtime().block_on(async move {
        let server = maeum_server::start(config)
            .await
            .expect("the server starts");
        let proxy = Proxy {
            upstream: server.url(),
            fault,
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (server, format!("http://{addr}/api"))
    });
    Backend {
        base,
        data_dir,
        server: Arc::new(server),
        _dir: dir,
    }
}

/// Runs the whole kit against `b`, with the operator hook if `admin`.
fn run_kit(b: &Backend, admin: bool) -> Report {
    let server = b.server.clone();
    let dir = b.data_dir.clone();
    let report = maeum_conformance::run(Config {
        base: b.base.clone(),
        tokens: Tokens::Function(Box::new(move |user| Ok(server.token(&user)))),
        admin: admin.then(|| {
            Admin::Function(Box::new(move |mut args: Vec<String>| {
                args.insert(0, "admin".into());
                args.extend(["--data-dir".into(), dir.to_string_lossy().into_owned()]);
                maeum_server::cli::run(&args).map_err(|e| format!("{e:?}"))
            }))
        }),
        app_origin: Some(APP_ORIGIN.to_string()),
        only: Vec::new(),
    })
    .expect("the kit runs");
    report
}

/// The report for an assertion message, each line marked so that xtask's tally
/// never takes a failed test's report summary for a layer's own.
fn shown(r: &Report) -> String {
    r.text().lines().map(|l| format!("| {l}\n")).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn failed(r: &Report) -> BTreeSet<String> {
    set(&r.failed())
}

#[test]
fn the_reference_server_passes_every_check_twice_with_the_users_it_announces() {
    let b = backend(Fault::None);
    let r = run_kit(&b, true);
    assert_eq!(failed(&r), set(&[]), "{}", shown(&r));
    assert_eq!(r.skipped(), Vec::<&str>::new(), "{}", shown(&r));
    let all: Vec<&checks::Check> = checks::ALL.iter().collect();
    assert_eq!(r.users, checks::users_needed(&all, true));
    assert!(r.text().ends_with(&format!(
        "{} passed, 0 failed, 0 skipped\n",
        r.results.len()
    )));
    // New users and businesses each run: a second run against the same backend passes too.
    let again = run_kit(&b, true);
    assert_eq!(failed(&again), set(&[]), "{}", shown(&again));
}

#[test]
fn without_an_operator_hook_its_checks_are_skipped_not_failed() {
    let b = backend(Fault::None);
    let r = run_kit(&b, false);
    assert_eq!(failed(&r), set(&[]), "{}", shown(&r));
    assert_eq!(
        r.skipped(),
        ["claims.cap-race", "gate.not-open", "gate.pause"],
        "{}",
        shown(&r)
    );
    let all: Vec<&checks::Check> = checks::ALL.iter().collect();
    // gate.not-open takes its user only when it can close the gate.
    assert!(r.users <= checks::users_needed(&all, false));
}

#[test]
fn a_backend_not_open_yet_is_checked_for_its_gate_and_nothing_else() {
    let tomorrow = maeum_contract::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64
            + 86_400_000,
    );
    let b = backend_with(Fault::None, |c| c.campaign.release_at = tomorrow);
    let r = run_kit(&b, false);
    assert_eq!(failed(&r), set(&[]), "{}", shown(&r));
    let ran = r.ids(|o| !matches!(o, Outcome::Skip(_)));
    assert_eq!(
        ran,
        [
            "status.shape",
            "status.unauthorized",
            "gate.not-open",
            "contract.schema",
            "contract.content-type",
            "contract.no-store"
        ],
        "{}",
        shown(&r)
    );
    assert!(
        r.text().contains("the backend is not open"),
        "{}",
        shown(&r)
    );
}

/// Each fault fails exactly the checks about it, and the report shows the exchange.
fn fails_exactly(fault: Fault, admin: bool, expected: &[&str], evidence: &str) {
    let r = run_kit(&backend(fault), admin);
    assert_eq!(failed(&r), set(expected), "{fault:?}:\n{}", shown(&r));
    let text = r.text();
    for id in expected {
        assert!(text.contains(&format!("FAIL  {id}")), "{}", shown(&r));
    }
    assert!(
        text.contains(evidence),
        "{fault:?}: the report shows {evidence:?}:\n{}",
        shown(&r)
    );
    assert!(!r.ok());
}

#[test]
fn a_backend_without_no_store_fails_the_no_store_check() {
    fails_exactly(
        Fault::NoStore,
        false,
        &["contract.no-store"],
        "no `Cache-Control: no-store`",
    );
}

#[test]
fn problems_as_plain_json_fail_the_content_type_check() {
    fails_exactly(
        Fault::PlainProblems,
        false,
        &["contract.content-type"],
        "< content-type: application/json",
    );
}

#[test]
fn a_double_grant_fails_the_claim_checks() {
    fails_exactly(
        Fault::DoubleGrant,
        false,
        &["claims.already-claimed", "claims.parallel-one-grant"],
        "decided answers say granted",
    );
}

#[test]
fn a_replay_in_other_bytes_fails_the_replay_checks() {
    fails_exactly(
        Fault::ReplayReformatted,
        false,
        &[
            "claims.replay",
            "claims.parallel-same-key",
            "business.replay",
            "business.channel-cash-once",
        ],
        "< idempotent-replayed: true",
    );
}

#[test]
fn a_missing_retry_after_fails_the_checks_that_wait() {
    fails_exactly(
        Fault::NoRetryAfter,
        true,
        &[
            "gate.pause",
            "headers.rate-limited",
            "contract.retry-after",
            "contract.schema",
        ],
        "503 paused without Retry-After",
    );
}

#[test]
fn unexposed_headers_fail_the_cors_check() {
    fails_exactly(
        Fault::NoExposedHeaders,
        false,
        &["headers.cors"],
        "> Origin: https://app.example",
    );
}

#[test]
fn an_unreachable_backend_fails_rather_than_skips() {
    let r = maeum_conformance::run(Config {
        base: "http://127.0.0.1:1/api".into(),
        tokens: Tokens::Function(Box::new(|_| Ok("t".into()))),
        admin: None,
        app_origin: None,
        only: vec!["status".into()],
    })
    .expect("the kit runs");
    assert!(!r.ok(), "{}", shown(&r));
    assert!(r.failed().contains(&"status.shape"), "{}", shown(&r));
    assert!(r.text().contains("no answer"), "{}", shown(&r));
}
