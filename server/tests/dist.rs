//! Serving the built app with `--dist`: cache headers, compression, SPA fallback.

mod common;

use common::*;
use std::io::Read;
use std::path::Path;

const WASM: &str = "maeum-0a1b2c3d4e5f6a7b_bg.wasm";
const JS: &str = "maeum-0a1b2c3d4e5f6a7b.js";
const CSS: &str = "style-9f8e7d6c5b4a3210.css";
const INDEX: &str =
    "<!doctype html><html lang=\"ko\"><head><title>마음 패키지</title></head><body></body></html>";

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
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(&b"maeum"[..], 2000).flatten());
    std::fs::write(root.join(WASM), wasm).unwrap();
    std::fs::write(root.join("favicon.ico"), [0u8; 64]).unwrap();
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
        "/package",
        "/business",
        "/business/step/2",
        "/package?from=banner",
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
