//! Serving the built app with `--dist`: cache headers, compression, and deep
//! links answered by the nearest bundle's `index.html`.

mod common;

use common::*;
use std::io::Read;
use std::path::Path;

const WASM: &str = "maeum-0a1b2c3d4e5f6a7b_bg.wasm";
const JS: &str = "maeum-0a1b2c3d4e5f6a7b.js";
const CSS: &str = "style-9f8e7d6c5b4a3210.css";
const INDEX: &str =
    "<!doctype html><html lang=\"ko\"><head><title>마음 패키지</title></head><body></body></html>";
const BUSINESS_WASM: &str = "maeum-business-0a1b2c3d4e5f6a7b_bg.wasm";
const BUSINESS_INDEX: &str =
    "<!doctype html><html lang=\"ko\"><head><title>마음 사업자</title></head><body></body></html>";

fn js_source() -> String {
    (0..400)
        .map(|i| format!("export function f{i}() {{ return {i}; }}\n"))
        .collect()
}

fn build_dist(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("index.html"), INDEX).unwrap();
    std::fs::write(root.join(JS), js_source()).unwrap();
    std::fs::write(root.join(CSS), "body { margin: 0 }\n".repeat(200)).unwrap();
    std::fs::write(root.join(WASM), wasm_bytes()).unwrap();
    std::fs::write(root.join("favicon.ico"), [0u8; 64]).unwrap();
    // The business bundle, served under `/business/`.
    let business = root.join("business");
    std::fs::create_dir_all(&business).unwrap();
    std::fs::write(business.join("index.html"), BUSINESS_INDEX).unwrap();
    std::fs::write(business.join(BUSINESS_WASM), wasm_bytes()).unwrap();
}

fn wasm_bytes() -> Vec<u8> {
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(&b"maeum"[..], 2000).flatten());
    wasm
}

/// A server whose `--dist` is a fake trunk build beside its data directory.
async fn dist_server_with(extra: impl FnOnce(&Path)) -> TestServer {
    TestServer::start_with(|c| {
        let dist = c.data_dir.parent().unwrap().join("dist");
        build_dist(&dist);
        extra(&dist);
        c.dist = Some(dist);
    })
    .await
}

async fn dist_server() -> TestServer {
    dist_server_with(|_| {}).await
}

async fn get_with(s: &TestServer, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = s.http.get(s.url(path));
    if let Some(e) = encoding {
        req = req.header("Accept-Encoding", e);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_index_html_is_revalidated() {
    let s = dist_server().await;
    for path in [WASM, JS, CSS] {
        let res = get_with(&s, &format!("/{path}"), None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{path}"
        );
    }
    let wasm = get_with(&s, &format!("/{WASM}"), None).await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    for path in ["/", "/index.html", "/favicon.ico"] {
        let res = get_with(&s, path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
    }
    let body = get_with(&s, "/", None).await.text().await.unwrap();
    assert_eq!(body, INDEX);
}

#[tokio::test]
async fn assets_are_compressed_with_brotli_or_gzip_as_the_client_accepts() {
    let s = dist_server().await;
    let original = js_source();

    let res = get_with(&s, &format!("/{JS}"), Some("br")).await;
    assert_eq!(res.headers()["content-encoding"], "br");
    let compressed = res.bytes().await.unwrap();
    assert!(
        compressed.len() < original.len() / 4,
        "{} vs {}",
        compressed.len(),
        original.len()
    );
    let mut decoded = String::new();
    brotli::Decompressor::new(&compressed[..], 4096)
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(decoded, original);

    let res = get_with(&s, &format!("/{JS}"), Some("gzip")).await;
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert!(res.bytes().await.unwrap().len() < original.len() / 4);

    let res = get_with(&s, &format!("/{WASM}"), Some("gzip, deflate, br")).await;
    assert_eq!(
        res.headers()["content-encoding"],
        "br",
        "brotli is preferred"
    );
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    let plain = get_with(&s, &format!("/{JS}"), None).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), original);
}

#[tokio::test]
async fn precompressed_siblings_are_served_when_present() {
    let s = dist_server_with(|dist| {
        std::fs::write(dist.join(format!("{JS}.br")), b"precompressed-marker").unwrap()
    })
    .await;
    let res = get_with(&s, &format!("/{JS}"), Some("br")).await;
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(&res.bytes().await.unwrap()[..], b"precompressed-marker");
}

#[tokio::test]
async fn deep_links_fall_back_to_index_html_but_missing_files_and_api_paths_do_not() {
    let s = dist_server().await;
    for path in [
        "/",
        "/package",
        "/package?from=banner",
        "/nope/deeper",
        "/businesses/x",
    ] {
        let res = get_with(&s, path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(res.text().await.unwrap(), INDEX, "{path}");
    }
    // A missing asset is a real 404, never index.html with a year-long cache.
    let res = get_with(&s, "/maeum-ffffffffffffffff.js", None).await;
    assert_eq!(res.status(), 404);
    assert_ne!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("public, max-age=31536000, immutable")
    );
    // The API keeps its own answers.
    expect_problem(get_with(&s, "/api/v1/nope", None).await, 404, "not_found").await;
    assert_eq!(get_with(&s, "/api/v1/status", None).await.status(), 200);
}

async fn expect_html(res: reqwest::Response, body: &str, path: &str) {
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{path}"
    );
    assert_eq!(res.text().await.unwrap(), body, "{path}");
}

#[tokio::test]
async fn deep_links_under_a_bundle_get_that_bundles_index_html() {
    let s = dist_server().await;
    for path in [
        "/business",
        "/business/",
        "/business/info",
        "/business/claims/D-2301-7Q4K93",
        "/business/claims/D-2301-7Q4K93?tab=proof",
        "//business//claims",
    ] {
        expect_html(get_with(&s, path, None).await, BUSINESS_INDEX, path).await;
    }
    for path in ["/", "/package", "/nope/deeper", "/index.html"] {
        expect_html(get_with(&s, path, None).await, INDEX, path).await;
    }
    // `/business` is answered in place, not redirected to `/business/`.
    let res = get_with(&s, "/business", None).await;
    assert!(res.headers().get("location").is_none());
    // HEAD answers like GET, without a body.
    let head = s.http.head(s.url("/business/info")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["cache-control"], "no-cache");
    assert_eq!(
        head.headers()["content-length"],
        BUSINESS_INDEX.len().to_string().as_str()
    );

    // The bundle's assets: hashed and immutable; a missing one is a real 404.
    let wasm = get_with(&s, &format!("/business/{BUSINESS_WASM}"), None).await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    for path in ["/business/nope.js", "/business/claims/nope.js"] {
        let res = get_with(&s, path, None).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
    }
    // Only reads fall back.
    let post = s.http.post(s.url("/business/info")).send().await.unwrap();
    assert_ne!(post.status(), 200);
}

#[tokio::test]
async fn a_nearer_index_wins_and_precompressed_pages_are_served() {
    let s = dist_server_with(|dist| {
        let claims = dist.join("business/claims");
        std::fs::create_dir_all(&claims).unwrap();
        std::fs::write(claims.join("index.html"), "claims page").unwrap();
        std::fs::write(
            dist.join("business/index.html.br"),
            b"precompressed-business",
        )
        .unwrap();
    })
    .await;
    expect_html(
        get_with(&s, "/business/claims/D-2301-7Q4K93", None).await,
        "claims page",
        "/business/claims/D-2301-7Q4K93",
    )
    .await;
    let res = get_with(&s, "/business/info", Some("br")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(&res.bytes().await.unwrap()[..], b"precompressed-business");
    expect_html(
        get_with(&s, "/business/info", None).await,
        BUSINESS_INDEX,
        "/business/info",
    )
    .await;
}

/// Sends `target` as the request line as it is, which no URL library would.
async fn raw_get(s: &TestServer, target: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(s.server.addr())
        .await
        .unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: maeum\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn dot_segments_never_leave_the_dist_directory() {
    // `dist/../secret/index.html` and `dist/../index.html` sit just outside.
    let s = dist_server_with(|dist| {
        let outside = dist.parent().unwrap();
        std::fs::create_dir_all(outside.join("secret")).unwrap();
        std::fs::write(outside.join("secret/index.html"), "SECRET-PAGE").unwrap();
        std::fs::write(outside.join("index.html"), "SECRET-ROOT").unwrap();
    })
    .await;
    for target in [
        "/..",
        "/../secret",
        "/../secret/x",
        "/business/../../secret/x",
        "/business/../..",
        "/%2e%2e/secret/x",
        "/business/%2E%2E/%2e%2e/secret",
        "/..%2fsecret/x",
        "/business%2f..%2f..%2fsecret/x",
        "/..%5csecret/x",
        "/./business/x",
        "/business\\..\\..\\secret\\x",
        "/../index.html",
        "/business/../../index.html",
    ] {
        let answer = raw_get(&s, target).await;
        assert!(!answer.contains("SECRET"), "{target}: {answer}");
        // Not a deep link either: no page at all rather than a guess.
        assert!(answer.starts_with("HTTP/1.1 404 "), "{target}: {answer}");
    }
    // The same server still answers plain deep links.
    assert!(raw_get(&s, "/business/claims/x")
        .await
        .ends_with(BUSINESS_INDEX));
}
